// Derived service keys (DESIGN §6, §8): stable per master key, distinct per purpose.
import { describe, expect, it } from '@jest/globals';
import { keyId, parseVerifierKey, toBase64 } from '@provenant/core';
import { deriveLogKeys, deriveSeed, deriveServiceKey, KeyDerivationError } from './keys.js';

const master = new Uint8Array(32).fill(1);

describe('derived keys', () => {
  it('are the same on every derivation from one master key', () => {
    expect(toBase64(deriveSeed(master, 'log'))).toBe(toBase64(deriveSeed(master, 'log')));
  });

  it('differ between the log, verifier and authority keys', () => {
    const seeds = (['log', 'verifier', 'authority'] as const).map((n) =>
      toBase64(deriveSeed(master, n)),
    );
    expect(new Set(seeds).size).toBe(3);
  });

  it('differ between master keys', () => {
    const other = new Uint8Array(32).fill(2);
    expect(toBase64(deriveSeed(other, 'log'))).not.toBe(toBase64(deriveSeed(master, 'log')));
  });

  it('refuse a master key that is not 32 bytes', () => {
    expect(() => deriveSeed(new Uint8Array(31), 'log')).toThrow(KeyDerivationError);
  });

  it('name the log key after the origin and encode a parseable vkey', () => {
    const k = deriveLogKeys(master, 'example.com/log');
    expect(k.keyName).toBe('example.com/log');
    const v = parseVerifierKey(k.vkey);
    expect(v.name).toBe('example.com/log');
    expect(v.type).toBe('ed25519');
    expect(v.publicKey).toEqual(k.publicKey);
    expect(k.kid).toBe(keyId(k.publicKey));
    expect(deriveServiceKey(master, 'log').publicKey).toEqual(k.publicKey);
  });
});
