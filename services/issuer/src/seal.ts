// Custodial private keys are sealed at rest with AES-256-GCM under the master
// key (DESIGN §8). Layout: version(1) ‖ iv(12) ‖ ciphertext ‖ tag(16). The
// version byte and the caller's AAD (the key's kid) are authenticated, so a
// sealed key copied into another row, or a downgraded blob, fails to unseal.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { concatBytes, utf8 } from '@provenant/core';

/** Current seal format. */
export const SEAL_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

/** A sealing failure: `SEAL_KEY_INVALID` (misuse) or `SEAL_INVALID` (tampered, wrong key or AAD). */
export class SealError extends Error {
  readonly code: 'SEAL_KEY_INVALID' | 'SEAL_INVALID';
  constructor(code: SealError['code'], message: string) {
    super(message);
    this.name = 'SealError';
    this.code = code;
  }
}

/** AAD binding a sealed private key to its key id, so sealed blobs cannot be swapped between rows. */
export function keyAad(kid: string): Uint8Array {
  return utf8(`provenant/custodial-key/v1/${kid}`);
}

function aadOf(aad: Uint8Array | string): Uint8Array {
  const bytes = typeof aad === 'string' ? utf8(aad) : aad;
  return concatBytes(Uint8Array.of(SEAL_VERSION), bytes);
}

function checkKey(masterKey: Uint8Array): void {
  if (masterKey.length !== KEY_BYTES)
    throw new SealError('SEAL_KEY_INVALID', 'the master key must be 32 bytes');
}

/**
 * Encrypts `plaintext` under `masterKey` (32 bytes) with a fresh random IV.
 * @throws SealError SEAL_KEY_INVALID when the key is not 32 bytes.
 */
export function seal(
  plaintext: Uint8Array,
  masterKey: Uint8Array,
  aad: Uint8Array | string,
): Uint8Array {
  checkKey(masterKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return concatBytes(Uint8Array.of(SEAL_VERSION), iv, body, cipher.getAuthTag());
}

/**
 * Decrypts a sealed blob.
 * @throws SealError SEAL_INVALID when the blob is malformed, tampered, or
 *   sealed under another key or AAD; SEAL_KEY_INVALID for a bad key length.
 */
export function unseal(
  sealed: Uint8Array,
  masterKey: Uint8Array,
  aad: Uint8Array | string,
): Uint8Array {
  checkKey(masterKey);
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== SEAL_VERSION) {
    throw new SealError('SEAL_INVALID', 'not a sealed key of a known version');
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES, sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(aad));
  decipher.setAuthTag(tag);
  try {
    const plain = Buffer.concat([decipher.update(body), decipher.final()]);
    const out = new Uint8Array(plain);
    plain.fill(0); // the intermediate copy of a private key should not linger
    return out;
  } catch {
    throw new SealError('SEAL_INVALID', 'the sealed key failed authentication');
  }
}
