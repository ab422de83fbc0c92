import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  bytesEqual,
  fromBase64,
  fromBase64Url,
  fromHex,
  toBase64,
  toBase64Url,
  toHex,
} from './bytes.js';
import { sha256Hex } from './hash.js';

describe('byte encodings', () => {
  it('round-trip hex, base64 and base64url for any bytes, matching Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const buf = Buffer.from(bytes);
        expect(toHex(bytes)).toBe(buf.toString('hex'));
        expect(toBase64(bytes)).toBe(buf.toString('base64'));
        expect(toBase64Url(bytes)).toBe(buf.toString('base64url'));
        expect(fromHex(toHex(bytes))).toEqual(bytes);
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
        expect(fromBase64Url(toBase64Url(bytes))).toEqual(bytes);
      }),
    );
  });

  it('rejects malformed and non-canonical encodings', () => {
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
    expect(fromBase64('AAA')).toBeNull(); // missing padding
    expect(fromBase64('AB==')).toBeNull(); // non-zero trailing bits
    expect(fromBase64('A A=')).toBeNull();
    expect(fromBase64Url('AAA=')).toBeNull(); // padding not allowed
    expect(fromBase64Url('A')).toBeNull();
    expect(fromBase64('-_8=')).toBeNull(); // base64url alphabet in standard base64
    expect(fromBase64Url('+/8')).toBeNull(); // standard alphabet in base64url
    expect(fromBase64('AAé=')).toBeNull();
    expect(fromBase64('A=AA')).toBeNull(); // padding inside
  });

  it('compares bytes by value', () => {
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(bytesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(bytesEqual(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
  });
});

describe('sha256', () => {
  it('agrees with node:crypto', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(sha256Hex(bytes)).toBe(createHash('sha256').update(bytes).digest('hex'));
      }),
    );
    expect(sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});
