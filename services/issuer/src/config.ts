// Configuration is read from the environment once, at the edge (DESIGN §8a).
// A bad value stops the start with an error naming the variable, never its
// value; a missing master key is never papered over on a shared database
// (no failing open, STYLE "What to avoid").
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { toBase64 } from '@provenant/core';
import {
  ConfigError,
  envReader,
  newToken,
  parseKey32,
  readServerSettings,
  SERVER_MESSAGES,
  SERVER_SCHEMAS,
  type Env,
  type LogLevel,
  type RateLimitConfig,
} from '@provenant/server-kit';
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
  /**
   * PROVENANT_VERIFIER_KEY: the 32-byte seed of the embedded verifier's receipt
   * key; absent: derived from the master key (handoff.ts).
   */
  verifierKey?: Uint8Array;
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

// Shared with the verifier (packages/server-kit config.ts); re-exported for callers of this module.
export { ConfigError, parseDurationMs } from '@provenant/server-kit';

/** Default checkpoint origin. */
export const DEFAULT_LOG_ORIGIN = 'provenant.local/log';
/** Name of the generated master key file inside the data dir. */
export const MASTER_KEY_FILE = 'master.key';

// Each variable has its own schema and message, so an error names the
// variable and never repeats its (possibly secret) value. The shared ones
// (port, database, log level, body limit, backdating, rate limits) are the kit's.
const schemas = {
  ...SERVER_SCHEMAS,
  PROVENANT_DATA_DIR: z.string().min(1),
  // C2SP signed-note origin and key name: no spaces, no '+', printable ASCII.
  PROVENANT_LOG_ORIGIN: z.string().regex(/^[\x21-\x2a\x2c-\x7e]{1,255}$/),
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
};

const MESSAGES: Record<keyof typeof schemas, string> = {
  ...SERVER_MESSAGES,
  PROVENANT_DATA_DIR: 'must be a directory path',
  PROVENANT_LOG_ORIGIN: 'must be 1 to 255 printable ASCII characters without spaces or "+"',
  PROVENANT_WEBHOOK_ALLOW_HOSTS: 'must be a comma-separated list of host names or addresses',
  PROVENANT_WEBHOOK_INTERVAL_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_BACKOFF_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_TIMEOUT_MS: 'must be a number of milliseconds',
  PROVENANT_WEBHOOK_RETENTION_DAYS: 'must be a number of days from 1 to 3650',
};

const read = envReader(schemas, MESSAGES);

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
  const server = readServerSettings(env);
  const databaseUrl = server.databaseUrl;
  const dataDir = resolve(read(env, 'PROVENANT_DATA_DIR') ?? './data');

  let masterKey: Uint8Array;
  let masterKeySource: Config['masterKeySource'];
  const envKey = env.PROVENANT_MASTER_KEY;
  if (envKey !== undefined) {
    // Set but empty is a mistake, not a request for a generated key.
    masterKey = parseKey32(envKey, 'PROVENANT_MASTER_KEY');
    masterKeySource = 'env';
  } else if (databaseUrl !== null) {
    throw new ConfigError(
      'PROVENANT_MASTER_KEY',
      'is required with DATABASE_URL (base64 of 32 random bytes, e.g. `openssl rand -base64 32`); refusing to start',
    );
  } else {
    ({ key: masterKey, source: masterKeySource } = embeddedMasterKey(dataDir, warn));
  }

  const verifierKey =
    env.PROVENANT_VERIFIER_KEY === undefined
      ? undefined
      : parseKey32(env.PROVENANT_VERIFIER_KEY, 'PROVENANT_VERIFIER_KEY');

  return {
    port: server.port,
    databaseUrl,
    dataDir,
    masterKey,
    masterKeySource,
    ...(verifierKey ? { verifierKey } : {}),
    adminTokenHash: server.adminTokenHash,
    logOrigin: read(env, 'PROVENANT_LOG_ORIGIN') ?? DEFAULT_LOG_ORIGIN,
    logLevel: server.logLevel,
    bodyLimit: server.bodyLimit,
    maxBackdateMs: server.maxBackdateMs,
    rateLimit: server.rateLimit,
    webhooks: webhookEnv(env),
    metricsPort: server.metricsPort,
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
    return { key: parseKey32(readFileSync(file, 'utf8'), file), source: 'generated' };
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  if ((statSync(file).mode & 0o077) !== 0)
    warn(`${file} is readable by other users; chmod 600 it.`);
  return { key: parseKey32(readFileSync(file, 'utf8'), file), source: 'file' };
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
