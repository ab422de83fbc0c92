// The standalone verifier's configuration (DESIGN §7b, `pnpm start:verifier`):
// DATABASE_URL (the primary or a streaming replica), PORT, the public trust
// (PROVENANT_TRUST_FILE, the file `provenant trust export` writes) and its
// own receipt key (PROVENANT_VERIFIER_KEY, base64 of a 32-byte seed). It
// never reads PROVENANT_MASTER_KEY: it holds no key that signs as the log.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseVerifierKey, trustProblem, withTrustDefaults, type TrustFile } from '@provenant/core';
import { ConfigError, parseKey32, readServerSettings, type Env } from '@provenant/server-kit';
import type { VerifierConfig } from './deps.js';

/** The variables a standalone verifier cannot start without. */
export const REQUIRED_VERIFIER_ENV = [
  'DATABASE_URL',
  'PORT',
  'PROVENANT_TRUST_FILE',
  'PROVENANT_VERIFIER_KEY',
] as const;

/** A standalone verifier's settings, validated. */
export interface StandaloneVerifierConfig {
  port: number;
  databaseUrl: string;
  /**
   * PROVENANT_VERIFIER_STATE_URL: a writable database (the primary) for the
   * verifier's own rows when DATABASE_URL is a streaming replica; null: DATABASE_URL, or on
   * a replica the primary it streams from (main.ts).
   */
  stateUrl: string | null;
  /** Framework settings and the backdating bound (PROVENANT_MAX_BACKDATE, as the issuer's). */
  config: VerifierConfig & { logLevel: NonNullable<VerifierConfig['logLevel']> };
  /** Absolute path of PROVENANT_TRUST_FILE. */
  trustFile: string;
  /** The trust file's content, checked, with defaults for absent fields. */
  trust: TrustFile;
  /** The log's origin: the trust file's `origin`, else the log key's name. */
  origin: string;
  verifierSeed: Uint8Array;
  /** METRICS_PORT, or null. */
  metricsPort: number | null;
}

/** Reads and checks the trust file. @throws ConfigError naming PROVENANT_TRUST_FILE and the fault. */
export function readTrustFile(path: string): TrustFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'unreadable';
    throw new ConfigError('PROVENANT_TRUST_FILE', `cannot read ${path} (${code})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ConfigError('PROVENANT_TRUST_FILE', `${path} is not JSON`);
  }
  const problem = trustProblem(value);
  if (problem) throw new ConfigError('PROVENANT_TRUST_FILE', `${path}: ${problem}`);
  return withTrustDefaults(value as TrustFile);
}

/** PROVENANT_VERIFIER_STATE_URL, checked like DATABASE_URL; null when unset. */
function stateUrlOf(env: Env): string | null {
  const url = env.PROVENANT_VERIFIER_STATE_URL;
  if (url === undefined || url === '') return null;
  if (!/^postgres(ql)?:\/\/\S+$/.test(url))
    throw new ConfigError(
      'PROVENANT_VERIFIER_STATE_URL',
      'must be a postgres:// or postgresql:// URL',
    );
  return url;
}

/**
 * Reads and validates the standalone verifier's environment.
 * @throws ConfigError naming the first missing or invalid variable.
 */
export function loadVerifierConfig(env: Env = process.env): StandaloneVerifierConfig {
  for (const name of REQUIRED_VERIFIER_ENV)
    if (env[name] === undefined || env[name] === '')
      throw new ConfigError(
        name,
        `is required: a standalone verifier needs ${REQUIRED_VERIFIER_ENV.join(', ')}`,
      );
  const server = readServerSettings(env);
  const trustFile = resolve(env.PROVENANT_TRUST_FILE!);
  const trust = readTrustFile(trustFile);
  const origin = trust.origin ?? parseVerifierKey(trust.logKey).name;
  if (origin !== parseVerifierKey(trust.logKey).name)
    throw new ConfigError(
      'PROVENANT_TRUST_FILE',
      `${trustFile}: origin must equal the log key's name (DESIGN §6)`,
    );
  return {
    port: server.port,
    databaseUrl: server.databaseUrl!,
    stateUrl: stateUrlOf(env),
    config: {
      bodyLimit: server.bodyLimit,
      adminTokenHash: server.adminTokenHash,
      logLevel: server.logLevel,
      rateLimit: server.rateLimit,
      maxBackdateMs: server.maxBackdateMs,
    },
    trustFile,
    trust,
    origin,
    verifierSeed: parseKey32(env.PROVENANT_VERIFIER_KEY!, 'PROVENANT_VERIFIER_KEY'),
    metricsPort: server.metricsPort,
  };
}
