// The settings both services read from the environment (DESIGN §8a), once,
// at the edge: port, database, log level, body limit, admin token, rate
// limits and the backdating bound. A bad value is a ConfigError naming the
// variable, never repeating its (possibly secret) value.
import { z } from 'zod';
import { DEFAULT_MAX_BACKDATE_MS, fromBase64 } from '@provenant/core';
import { hashToken } from './http/auth.js';
import type { LogLevel } from './http/logging.js';
import { DEFAULT_RATE_LIMIT, type RateLimitConfig } from './http/rate-limit.js';
import { DEFAULT_BODY_LIMIT } from './http/validate.js';

/** The process environment, or a test's. */
export type Env = Record<string, string | undefined>;

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

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3600_000, d: 86_400_000 };

/** `72h`, `3d`, `90m`, `3600s` or `3600` (seconds) in milliseconds; the caller checked the shape. */
export function parseDurationMs(text: string): number {
  const unit = /[smhd]$/.test(text) ? text.slice(-1) : 's';
  const n = Number(unit === 's' && !text.endsWith('s') ? text : text.slice(0, -1));
  return n * UNIT_MS[unit]!;
}

function count() {
  return z
    .string()
    .regex(/^\d{1,9}$/)
    .transform(Number);
}

/** Schemas of the shared variables (each service adds its own). */
export const SERVER_SCHEMAS = {
  PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().max(65535)),
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/),
  LOG_LEVEL: z.enum(LEVELS),
  METRICS_PORT: z
    .string()
    .regex(/^\d{1,5}$/)
    .transform(Number)
    .pipe(z.number().min(1).max(65535)),
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

/** What an error says of each shared variable. */
export const SERVER_MESSAGES: Record<keyof typeof SERVER_SCHEMAS, string> = {
  PORT: 'must be an integer port number from 0 to 65535',
  DATABASE_URL: 'must be a postgres:// or postgresql:// URL',
  LOG_LEVEL: `must be one of ${LEVELS.join(', ')}`,
  METRICS_PORT: 'must be an integer port number from 1 to 65535',
  PROVENANT_BODY_LIMIT: 'must be a byte count from 1024 to 1073741824',
  PROVENANT_MAX_BACKDATE:
    'must be a duration from 1 minute to 3650 days: seconds, or a number with s, m, h or d (e.g. 72h, 3d)',
  PROVENANT_RATE_LIMIT_TOKEN:
    'must be a count of cost units (requests; a verification counts its units) per window (0: no limit)',
  PROVENANT_RATE_LIMIT_ADDRESS: 'must be a request count per window (0: no limit)',
  PROVENANT_RATE_LIMIT_WINDOW_SECONDS: 'must be a number of seconds from 1 to 86400',
};

/**
 * A reader of `schemas`: the parsed value of a set variable, undefined when
 * unset or empty. @throws ConfigError with `messages[name]` for a bad value.
 */
export function envReader<S extends Record<string, z.ZodType<unknown, string>>>(
  schemas: S,
  messages: Record<keyof S, string>,
): <K extends keyof S & string>(env: Env, name: K) => z.output<S[K]> | undefined {
  return (env, name) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const r = schemas[name]!.safeParse(raw);
    if (!r.success) throw new ConfigError(name, messages[name]);
    return r.data as z.output<S[typeof name]>;
  };
}

const read = envReader(SERVER_SCHEMAS, SERVER_MESSAGES);

/**
 * Standard base64 of exactly 32 bytes (a master key, a key seed).
 * @throws ConfigError naming `variable`; the message never includes the value.
 */
export function parseKey32(text: string, variable: string): Uint8Array {
  const key = fromBase64(text.trim());
  if (!key || key.length !== 32)
    throw new ConfigError(variable, 'must be standard base64 of exactly 32 bytes');
  return key;
}

/** The settings both services share. */
export interface ServerSettings {
  port: number;
  /** PostgreSQL URL, or null when unset. */
  databaseUrl: string | null;
  logLevel: LogLevel;
  /** JSON body limit in bytes. */
  bodyLimit: number;
  /** SHA-256 of PROVENANT_ADMIN_TOKEN, or null when unset. */
  adminTokenHash: Uint8Array | null;
  /** PROVENANT_MAX_BACKDATE (DESIGN §5); default 72 hours. */
  maxBackdateMs: number;
  rateLimit: RateLimitConfig;
  /** A separate port serving only GET /metrics (METRICS_PORT), or null. */
  metricsPort: number | null;
}

/**
 * Reads the shared variables, with their defaults (port 8080, log level info,
 * silent under Jest).
 * @throws ConfigError naming the variable at fault.
 */
export function readServerSettings(env: Env): ServerSettings {
  const inTest = env.JEST_WORKER_ID !== undefined || env.NODE_ENV === 'test';
  const adminToken = env.PROVENANT_ADMIN_TOKEN;
  if (adminToken !== undefined && !/^[A-Za-z0-9\-._~+/]{16,512}=*$/.test(adminToken)) {
    throw new ConfigError(
      'PROVENANT_ADMIN_TOKEN',
      'must be 16 to 512 characters of [A-Za-z0-9-._~+/] (RFC 6750 token)',
    );
  }
  return {
    port: read(env, 'PORT') ?? 8080,
    databaseUrl: read(env, 'DATABASE_URL') ?? null,
    logLevel: read(env, 'LOG_LEVEL') ?? (inTest ? 'silent' : 'info'),
    bodyLimit: read(env, 'PROVENANT_BODY_LIMIT') ?? DEFAULT_BODY_LIMIT,
    adminTokenHash: adminToken === undefined ? null : hashToken(adminToken),
    maxBackdateMs: read(env, 'PROVENANT_MAX_BACKDATE') ?? DEFAULT_MAX_BACKDATE_MS,
    rateLimit: {
      perToken: read(env, 'PROVENANT_RATE_LIMIT_TOKEN') ?? DEFAULT_RATE_LIMIT.perToken,
      perAddress: read(env, 'PROVENANT_RATE_LIMIT_ADDRESS') ?? DEFAULT_RATE_LIMIT.perAddress,
      windowMs:
        (read(env, 'PROVENANT_RATE_LIMIT_WINDOW_SECONDS') ?? DEFAULT_RATE_LIMIT.windowMs / 1000) *
        1000,
    },
    metricsPort: read(env, 'METRICS_PORT') ?? null,
  };
}
