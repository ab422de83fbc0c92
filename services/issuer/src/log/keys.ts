// Service signing keys derived from the master key (DESIGN §6, §8): the log
// key (receipts, checkpoints), the verifier key (verification receipts) and
// the registry authority key (party and key notices). HKDF-SHA256 (RFC 5869)
// with a distinct `info` per key, so they survive restarts without a table and
// one compromised key reveals nothing about the others or the master key.
import { hkdfSync } from 'node:crypto';
import {
  encodeVerifierKey,
  keyId,
  noteVerifierKey,
  publicKeyFromSeed,
  type NoteSigner,
  type NoteVerifierKey,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';

/** HKDF `info` of each derived key; changing one changes that key forever. */
export const KEY_INFO = {
  log: 'provenant log key v1',
  verifier: 'provenant verifier key v1',
  authority: 'provenant authority key v1',
} as const;

export type DerivedKeyName = keyof typeof KEY_INFO;

/** A derived Ed25519 key pair. The seed is secret: never log or return it. */
export interface ServiceKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** DESIGN §4 kid: first 32 hex of SHA-256(public key). */
  kid: string;
}

/** Misuse of key derivation (a master key of the wrong length). */
export class KeyDerivationError extends Error {
  override readonly name = 'KeyDerivationError';
  readonly code = 'MASTER_KEY_INVALID' as const;
}

/**
 * Derives the 32-byte Ed25519 seed of `name` from the master key:
 * HKDF-SHA256(ikm = masterKey, salt = empty, info = KEY_INFO[name], L = 32).
 * @throws KeyDerivationError when the master key is not 32 bytes.
 */
export function deriveSeed(masterKey: Uint8Array, name: DerivedKeyName): Uint8Array {
  if (!(masterKey instanceof Uint8Array) || masterKey.length !== 32)
    throw new KeyDerivationError('the master key must be 32 bytes');
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), KEY_INFO[name], 32));
}

/** The derived key pair `name` (see {@link deriveSeed}). */
export function deriveServiceKey(masterKey: Uint8Array, name: DerivedKeyName): ServiceKey {
  const seed = deriveSeed(masterKey, name);
  const publicKey = publicKeyFromSeed(seed, nodeBackend);
  return { seed, publicKey, kid: keyId(publicKey) };
}

/** The log's identity: origin, note key name, keys and their encodings (DESIGN §6, §8a GET /v1/log). */
export interface LogKeys extends ServiceKey {
  /** Checkpoint origin line (PROVENANT_LOG_ORIGIN). */
  origin: string;
  /** Signed-note key name; equals the origin (tlog-checkpoint §Signatures). */
  keyName: string;
  /** C2SP verifier key string `<name>+<hex id>+<base64(0x01 || key)>`. */
  vkey: string;
  /** The key as a trusted note verifier key (for verifyCheckpoint). */
  verifierKey: NoteVerifierKey;
  /** The key as a note signer (for signCheckpoint). */
  signer: NoteSigner;
}

/**
 * The log key for `origin`, derived from the master key.
 * @throws KeyDerivationError for a bad master key; NoteError INVALID_NAME for an origin unusable as a key name.
 */
export function deriveLogKeys(masterKey: Uint8Array, origin: string): LogKeys {
  const key = deriveServiceKey(masterKey, 'log');
  const keyName = origin;
  return {
    ...key,
    origin,
    keyName,
    vkey: encodeVerifierKey(keyName, key.publicKey),
    verifierKey: noteVerifierKey(keyName, key.publicKey),
    signer: { name: keyName, seed: key.seed },
  };
}
