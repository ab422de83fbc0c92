// Configuration is read from the environment once, at the edge (DESIGN §8a).
// A bad value stops the start with an error naming the variable, never its
// value; a missing master key is never papered over on a shared database
// (no failing open, STYLE "What to avoid").
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_BACKDATE_MS, fromBase64, toBase64 } from '@provenant/core';
import { hashToken, newToken } from './http/auth.js';
import type { LogLevel } from './http/logging.js';
import { DEFAULT_BODY_LIMIT } from './http/validate.js';
import { parseAllowHosts } from './webhooks/ssrf.js';
import type { WebhookSettings } from './webhooks/worker.js';

/** The issuer's settings, validated. */
export interface Config {
  port: number;
  /** PostgreSQL URL, or null for embedded PGlite under `dataDir`. */
  databaseUrl: string | null;
  /** Absolute path of PROVENANT_DATA_DIR (default ./data). */
  dataDir: string;
  /** AES-256-GCM key sealing custodial private keys (DESIGN §8). */
  masterKey: Uint8Array;
  masterKeySource: 'env' | 'file' | 'generated';
  /** SHA-256 of PROVENANT_ADMIN_TOKEN, or null when unset (see bootstrapAdminToken). */
  adminTokenHash: Uint8Array | null;
  /** Checkpoint origin line (C2SP tlog-checkpoint). */
  logOrigin: string;
  logLevel: LogLevel;
  /** JSON body limit in bytes. */
  bodyLimit: number;
  /**
   * PROVENANT_MAX_BACKDATE: how far a record's time may lie before its receipt
   * time (DESIGN §5); absent: 72 hours (DEFAULT_MAX_BACKDATE_MS).
   */
  maxBackdateMs?: number;
  /** Rate limits (DESIGN §8 abuse); absent: the defaults of http/rate-limit.ts. */
  rateLimit?: RateLimitConfig;
  /** Webhook delivery settings (DESIGN §12); absent fields take DEFAULT_WEBHOOK_SETTINGS. */
  webhooks?: Partial<WebhookSettings>;
  /** A separate port serving only GET /metrics (METRICS_PORT), or null. */
  metricsPort?: number | null;
}

/** Requests allowed per window, per token and per address (anonymous); 0 turns a limit off. */
export interface RateLimitConfig {
  perToken: number;
  perAddress: number;
  windowMs: number;
}

/** Generous defaults: the test suite and the benches never reach them. */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = {
  perToken: 6000,
  perAddress: 600,
  windowMs: 60_000,
};

/** A configuration error; `variable` names the environment variable at fault. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** Default checkpoint origin. */
export const DEFAULT_LOG_ORIGIN = 'provenant.local/log';
/** Name of the generated master key file inside the data dir. */
export const MASTER_KEY_FILE = 'master.key';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// Each variable has its own schema and message, so an error names the
// variable and never repeats its (possibly secret) value.
function count() {
  return z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number);
}

const schemas = {
  PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().max(65535)),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/),
  PROVENANT_DATA_DIR: z.string().min(1),
  // C2SP signed-note origin and key name: no spaces, no '+', printable ASCII.
  PROVENANT_LOG_ORIGIN: z.string().regex(/^[\x21-\x2a\x2c-\x7e]{1,255}$/),
  LOG_LEVEL: z.enum(LEVELS),
  METRICS_PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(65535)),
  PROVENANT_WEBHOOK_ALLOW_HOSTS: z.string().regex(/^[A-Za-z0-9.:\-[\], ]{1,2000}$/),
  // Delivery timings (ms): shortened by tests, rarely by operators.
  PROVENANT_WEBHOOK_INTERVAL_MS: z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
  PROVENANT_WEBHOOK_BACKOFF_MS: z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
  PROVENANT_WEBHOOK_TIMEOUT_MS: z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number),
  PROVENANT_WEBHOOK_RETENTION_DAYS: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(3650)),
  PROVENANT_BODY_LIMIT: z
    .string()
    .regex(/^\d{1,10}$/)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1024)
        .max(1024 * 1024 * 1024),
    ),
  // A duration: seconds, or a number with s, m, h or d (`72h`, `3d`); 1 minute to 3650 days.
  PROVENANT_MAX_BACKDATE: z
    .string()
    .regex(/^\d{1,10}[smhd]?$/)
    .transform(parseDurationMs)
    .pipe(
      z
        .number()
        .min(60_000)
        .max(3650 * 24 * 3600_000),
    ),
  PROVENANT_RATE_LIMIT_TOKEN: count(),
  PROVENANT_RATE_LIMIT_ADDRESS: count(),
  PROVENANT_RATE_LIMIT_WINDOW_SECONDS: z
    .string()
    .regex(/^\d{1,6}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(86_400)),
};

const MESSAGES: Record<keyof typeof schemas, string> = {
  PORT: 'must be an integer port number from 0 to 65535',
  DATABASE_URL: 'must be a postgres:// or postgresql:// URL',
  PROVENANT_DATA_DIR: 'must be a directory path',
  PROVENANT_LOG_ORIGIN: 'must be 1 to 255 printable ASCII characters without spaces or "+"',
  LOG_LEVEL: `must be one of ${LEVELS.join(', ')}`,
  PROVENANT_BODY_LIMIT: 'must be a byte count from 1024 to 1073741824',
  PROVENANT_MAX_BACKDATE:
    'must be a duration from 1 minute to 3650 days: seconds, or a number with s, m, h or d (e.g. 72h, 3d)',
  PROVENANT_RATE_LIMIT_TOKEN: 'must be a request count per window (0: no limit)',
  PROVENANT_RATE_LIMIT_ADDRESS: 'must be a request count per window (0: no limit)',
  PROVENANT_RATE_LIMIT_WINDOW_SECONDS: 'must be a number of seconds from 1 to 86400',
  METRICS_PORT: 'must be an integer port number from 1 to 65535',
  PROVENANT_WEBHOOK_ALLOW_HOSTS: 'must be a comma-separated list of host names or addresses',
  PROVENANT_WEBHOOK_INTERVAL_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_BACKOFF_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_TIMEOUT_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_RETENTION_DAYS: 'must be a number of days from 1 to 3650',
};

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `72h`, `3d`, `90m`, `3600s` or `3600` (seconds) in milliseconds; the caller checked the shape. */
export function parseDurationMs(text: string): number {
  const unit = /[smhd]$/.test(text) ? text.slice(-1) : 's';
  const n = Number(unit === 's' && !text.endsWith('s') ? text : text.slice(0, -1));
  return n * UNIT_MS[unit]!;
}

type Env = Record<string, string | undefined>;

function read<K extends keyof typeof schemas>(
  env: Env,
  name: K,
): z.output<(typeof schemas)[K]> | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const r = schemas[name].safeParse(raw);
  if (!r.success) throw new ConfigError(name, MESSAGES[name]);
  return r.data as z.output<(typeof schemas)[K]>;
}

/** Parses a base64 32-byte key; the message never includes the value. */
function parseMasterKey(text: string, variable: string): Uint8Array {
  const key = fromBase64(text.trim());
  if (!key || key.length !== 32)
    throw new ConfigError(variable, 'must be standard base64 of exactly 32 bytes');
  return key;
}

/** Options of loadConfig. */
export interface LoadConfigOptions {
  /** Receives start-up warnings (a generated master key); default console.warn. */
  warn?: (message: string) => void;
}

/**
 * Reads and validates the environment.
 * Without PROVENANT_MASTER_KEY: in embedded mode the key is read from, or
 * generated once into, `<dataDir>/master.key` (mode 0600) with a warning;
 * with DATABASE_URL it is a ConfigError (a shared database needs a managed key).
 * @throws ConfigError naming the variable at fault.
 */
export function loadConfig(env: Env = process.env, options: LoadConfigOptions = {}): Config {
  const warn = options.warn ?? ((m: string) => console.warn(m));
  const databaseUrl = read(env, 'DATABASE_URL') ?? null;
  const dataDir = resolve(read(env, 'PROVENANT_DATA_DIR') ?? './data');
  const inTest = env.JEST_WORKER_ID !== undefined || env.NODE_ENV === 'test';

  let masterKey: Uint8Array;
  let masterKeySource: Config['masterKeySource'];
  const envKey = env.PROVENANT_MASTER_KEY;
  if (envKey !== undefined) {
    // Set but empty is a mistake, not a request for a generated key.
    masterKey = parseMasterKey(envKey, 'PROVENANT_MASTER_KEY');
    masterKeySource = 'env';
  } else if (databaseUrl !== null) {
    throw new ConfigError(
      'PROVENANT_MASTER_KEY',
      'is required with DATABASE_URL (base64 of 32 random bytes, e.g. `openssl rand -base64 32`); refusing to start',
    );
  } else {
    ({ key: masterKey, source: masterKeySource } = embeddedMasterKey(dataDir, warn));
  }

  const adminToken = env.PROVENANT_ADMIN_TOKEN;
  if (adminToken !== undefined && !/^[A-Za-z0-9\-._~+/]{16,512}=*$/.test(adminToken)) {
    throw new ConfigError(
      'PROVENANT_ADMIN_TOKEN',
      'must be 16 to 512 characters of [A-Za-z0-9-._~+/] (RFC 6750 token)',
    );
  }

  return {
    port: read(env, 'PORT') ?? 8080,
    databaseUrl,
    dataDir,
    masterKey,
    masterKeySource,
    adminTokenHash: adminToken === undefined ? null : hashToken(adminToken),
    logOrigin: read(env, 'PROVENANT_LOG_ORIGIN') ?? DEFAULT_LOG_ORIGIN,
    logLevel: read(env, 'LOG_LEVEL') ?? (inTest ? 'silent' : 'info'),
    bodyLimit: read(env, 'PROVENANT_BODY_LIMIT') ?? DEFAULT_BODY_LIMIT,
    maxBackdateMs: read(env, 'PROVENANT_MAX_BACKDATE') ?? DEFAULT_MAX_BACKDATE_MS,
    rateLimit: {
      perToken: read(env, 'PROVENANT_RATE_LIMIT_TOKEN') ?? DEFAULT_RATE_LIMIT.perToken,
      perAddress: read(env, 'PROVENANT_RATE_LIMIT_ADDRESS') ?? DEFAULT_RATE_LIMIT.perAddress,
      windowMs:
        (read(env, 'PROVENANT_RATE_LIMIT_WINDOW_SECONDS') ?? DEFAULT_RATE_LIMIT.windowMs / 1000) *
        1000,
    },
    webhooks: webhookEnv(env),
    metricsPort: read(env, 'METRICS_PORT') ?? null,
  };
}

/** The PROVENANT_WEBHOOK_* variables that are set. */
function webhookEnv(env: Env): Partial<WebhookSettings> {
  const out: Partial<WebhookSettings> = {
    allowHosts: parseAllowHosts(read(env, 'PROVENANT_WEBHOOK_ALLOW_HOSTS')),
  };
  const interval = read(env, 'PROVENANT_WEBHOOK_INTERVAL_MS');
  if (interval !== undefined) out.intervalMs = Math.max(10, interval);
  const backoff = read(env, 'PROVENANT_WEBHOOK_BACKOFF_MS');
  if (backoff !== undefined) out.backoffMs = Math.max(1, backoff);
  const timeout = read(env, 'PROVENANT_WEBHOOK_TIMEOUT_MS');
  if (timeout !== undefined) out.timeoutMs = Math.max(100, timeout);
  const retention = read(env, 'PROVENANT_WEBHOOK_RETENTION_DAYS');
  if (retention !== undefined) out.retentionMs = retention * 86_400_000;
  return out;
}

/** Reads `<dataDir>/master.key`, or creates it (0600) when absent. */
function embeddedMasterKey(
  dataDir: string,
  warn: (message: string) => void,
): { key: Uint8Array; source: 'file' | 'generated' } {
  const file = join(dataDir, MASTER_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    // 'wx' fails if the file exists, so two first starts cannot overwrite each other's key.
    writeFileSync(file, toBase64(new Uint8Array(randomBytes(32))) + '\n', {
      mode: 0o600,
      flag: 'wx',
    });
    chmodSync(file, 0o600);
    warn(
      `PROVENANT_MASTER_KEY is not set: generated a master key in ${file} (mode 0600). ` +
        'Back it up: custodial keys cannot be unsealed without it.',
    );
    return { key: parseMasterKey(readFileSync(file, 'utf8'), file), source: 'generated' };
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0)
    warn(`${file} is readable by other users; chmod 600 it.`);
  return { key: parseMasterKey(readFileSync(file, 'utf8'), file), source: 'file' };
}

/** Storage hooks for bootstrapAdminToken (the tokens table, owned by the store). */
export interface AdminTokenHooks {
  /** True when an operator token already exists. */
  hasAdminToken(): Promise<boolean>;
  /** Stores the hash of a new operator token (gln null, scopes ['admin']). */
  saveAdminTokenHash(hash: Uint8Array): Promise<void>;
  /** Shows the token to the operator, once. */
  print(line: string): void;
}

/**
 * Without PROVENANT_ADMIN_TOKEN, generates an operator token on the first
 * start, stores only its hash and prints it once (DESIGN §8a). Returns the
 * token when one was generated, else null.
 */
export async function bootstrapAdminToken(
  config: Config,
  hooks: AdminTokenHooks,
): Promise<string | null> {
  if (config.adminTokenHash !== null) return null;
  if (await hooks.hasAdminToken()) return null;
  const { token, hash } = newToken();
  await hooks.saveAdminTokenHash(hash);
  hooks.print(`Admin token (shown once, only its hash is stored): ${token}`);
  return token;
}
