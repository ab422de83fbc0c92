// What the issuer hands a verifier running in the same process (DESIGN §7b,
// `pnpm start`): the public trust a trust file would carry (log origin and
// key, registry authority key), the verifier's own receipt key and the
// framework settings. Never the master key: the verifier signs only its
// receipts and trusts the log only through public keys.
import { toBase64Url, type Trust } from '@provenant/core';
import type { AppConfig } from '@provenant/server-kit';
import type { Config } from './config.js';
import { deriveSeed, type LogKeys } from './log/keys.js';

/** The embedded verifier's configuration, public keys and receipt key seed. */
export interface VerifierHandoff {
  config: AppConfig & { maxBackdateMs?: number };
  /** Public keys only: what `provenant trust export` would write. */
  trust: Trust;
  /** The log's origin line. */
  origin: string;
  /** The verifier's receipt key: PROVENANT_VERIFIER_KEY, else derived from the master key as before. */
  verifierSeed: Uint8Array;
}

/**
 * The handoff of an issuer with these keys. Without PROVENANT_VERIFIER_KEY the
 * verifier key is the one derived from the master key (HKDF, log/keys.ts), so
 * receipts keep the key they had before the split and nothing is stored.
 */
export function verifierHandoff(
  config: Config,
  keys: { logKeys: LogKeys; authorityPublicKey: Uint8Array },
): VerifierHandoff {
  return {
    config: {
      bodyLimit: config.bodyLimit,
      adminTokenHash: config.adminTokenHash,
      logLevel: config.logLevel,
      ...(config.rateLimit ? { rateLimit: config.rateLimit } : {}),
      ...(config.maxBackdateMs !== undefined ? { maxBackdateMs: config.maxBackdateMs } : {}),
    },
    trust: {
      logKey: keys.logKeys.vkey,
      authorityKey: toBase64Url(keys.authorityPublicKey),
    },
    origin: keys.logKeys.origin,
    verifierSeed: config.verifierKey ?? deriveSeed(config.masterKey, 'verifier'),
  };
}
