import { describe, it, expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { keyAad, seal, unseal, SEAL_VERSION, SealError } from './seal.js';

const master = new Uint8Array(randomBytes(32));
const secret = new Uint8Array(randomBytes(32));
const aad = keyAad('0123456789abcdef0123456789abcdef');

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SealError);
    return (err as SealError).code;
  }
  return undefined;
}

describe('sealing custodial keys (DESIGN §8)', () => {
  it('round-trips a private key under the master key and its kid', () => {
    const sealed = seal(secret, master, aad);
    expect(sealed.length).toBe(1 + 12 + secret.length + 16);
    expect(sealed[0]).toBe(SEAL_VERSION);
    expect(unseal(sealed, master, aad)).toEqual(secret);
  });

  it('uses a fresh IV for every seal', () => {
    expect(seal(secret, master, aad)).not.toEqual(seal(secret, master, aad));
  });

  it.each([
    ['the version byte', 0],
    ['the IV', 5],
    ['the ciphertext', 20],
    ['the tag', 1 + 12 + 32 + 3],
  ])('refuses a blob with a flipped bit in %s', (_part, index) => {
    const sealed = seal(secret, master, aad);
    sealed[index]! ^= 1;
    expect(codeOf(() => unseal(sealed, master, aad))).toBe('SEAL_INVALID');
  });

  it('refuses a blob sealed for another kid (swapped between rows)', () => {
    const sealed = seal(secret, master, aad);
    expect(codeOf(() => unseal(sealed, master, keyAad('ffffffffffffffffffffffffffffffff')))).toBe(
      'SEAL_INVALID',
    );
  });

  it('refuses a blob under another master key', () => {
    const sealed = seal(secret, master, aad);
    expect(codeOf(() => unseal(sealed, new Uint8Array(randomBytes(32)), aad))).toBe('SEAL_INVALID');
  });

  it('refuses a truncated blob', () => {
    const sealed = seal(secret, master, aad);
    expect(codeOf(() => unseal(sealed.subarray(0, 20), master, aad))).toBe('SEAL_INVALID');
  });

  it('throws SEAL_KEY_INVALID for a master key that is not 32 bytes', () => {
    expect(codeOf(() => seal(secret, new Uint8Array(16), aad))).toBe('SEAL_KEY_INVALID');
  });
});
