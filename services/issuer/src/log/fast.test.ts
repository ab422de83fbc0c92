// The node:crypto fast paths must give exactly core's bytes (DESIGN §4, §6).
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  canonicalBytes,
  canonicalize,
  generateKeyPair,
  keyId,
  leafHash,
  nodeHash,
  NOTICE_PAYLOAD_TYPE,
  RECORD_PAYLOAD_TYPE,
  receiptMessageBuilder,
  sha256Hex,
  signEnvelope,
  toHex,
  utf8,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  envelopeJcs,
  leafHashOfJcs,
  nodeHashFast,
  sha256HexFast,
  signEnvelopeFast,
  signerFor,
} from './fast.js';
import { receiptMessage } from './receipts.js';

const bytes = fc.uint8Array({ minLength: 0, maxLength: 600 });

describe('the node:crypto fast paths', () => {
  it('hash like core: record ids, leaf hashes and node hashes', () => {
    fc.assert(
      fc.property(bytes, fc.uint8Array({ minLength: 32, maxLength: 32 }), (data, right) => {
        expect(sha256HexFast(data)).toBe(sha256Hex(data));
        const text = toHex(data);
        expect(toHex(leafHashOfJcs(text))).toBe(toHex(leafHash(utf8(text))));
        const left = leafHash(data);
        expect(toHex(nodeHashFast(left, right))).toBe(toHex(nodeHash(left, right)));
      }),
    );
  });

  it('sign envelopes byte for byte like core signEnvelope, with the same keyid', () => {
    const { seed, publicKey } = generateKeyPair(nodeBackend);
    const signer = signerFor(seed);
    expect(signer.kid).toBe(keyId(publicKey));
    expect(toHex(signer.publicKey)).toBe(toHex(publicKey));
    fc.assert(
      fc.property(bytes, fc.constantFrom(RECORD_PAYLOAD_TYPE, NOTICE_PAYLOAD_TYPE), (p, type) => {
        expect(signEnvelopeFast(type, p, signer)).toEqual(signEnvelope(type, p, seed, nodeBackend));
      }),
      { numRuns: 50 },
    );
  });

  it('serialise envelopes as JCS, falling back to core for any other shape', () => {
    const { seed } = generateKeyPair(nodeBackend);
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, utf8('{"a":1}'), seed, nodeBackend);
    expect(envelopeJcs(env)).toBe(canonicalize(env));
    const odd = [
      { ...env, payloadType: 'type/with"quote\\and é' },
      { ...env, extra: 1 },
      { ...env, signatures: [...env.signatures, ...env.signatures] },
      {
        payload: env.payload,
        payloadType: env.payloadType,
        signatures: [{ sig: 'x', keyid: 'y', z: 1 }],
      },
      { ...env, payload: 'line\nbreak' },
    ];
    for (const e of odd) expect(envelopeJcs(e as unknown as Envelope)).toBe(canonicalize(e));
  });

  it('serialise receipt bodies as core receiptMessage does', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.nat(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        (origin, index, hash, date) => {
          const leafHash = toHex(hash);
          const integratedAt = date.toISOString();
          const fast = receiptMessageBuilder(origin);
          let expected: Uint8Array;
          try {
            expected = receiptMessage({ origin, index, leafHash, integratedAt });
          } catch {
            return; // lone surrogates: JCS refuses such an origin (and so does the builder)
          }
          expect(toHex(new Uint8Array(fast(index, leafHash, integratedAt)))).toBe(toHex(expected));
        },
      ),
    );
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => signerFor(new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'INVALID_SEED' }),
    );
  });

  it('canonicalBytes agrees with envelopeJcs for signed envelopes', () => {
    const { seed } = generateKeyPair(nodeBackend);
    const env = signEnvelopeFast(NOTICE_PAYLOAD_TYPE, utf8('{}'), signerFor(seed));
    expect(toHex(utf8(envelopeJcs(env)))).toBe(toHex(canonicalBytes(env)));
  });
});
