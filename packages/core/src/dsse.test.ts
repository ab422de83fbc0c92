import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { fromBase64, fromUtf8, toBase64, utf8 } from './bytes.js';
import {
  DsseError,
  envelopeSchema,
  NOTICE_PAYLOAD_TYPE,
  pae,
  RECORD_PAYLOAD_TYPE,
  signEnvelope,
  verifyEnvelope,
  type Envelope,
  type PublicKeyResolver,
} from './dsse.js';
import { generateKeyPair, keyId, nobleBackend, type Ed25519Backend } from './ed25519.js';
import { canonicalBytes } from './jcs.js';
import { nodeBackend } from './node/ed25519-node.js';

const BACKENDS: Ed25519Backend[] = [nobleBackend, nodeBackend];
const { seed, publicKey } = generateKeyPair();
const kid = keyId(publicKey);
const resolver: PublicKeyResolver = (k) => (k === kid ? publicKey : undefined);
const payload = canonicalBytes({
  v: 1,
  subject: '01/09506000134352/21/ABC123',
  seq: 0,
  prev: null,
});

function clone(e: Envelope): Envelope {
  return JSON.parse(JSON.stringify(e)) as Envelope;
}

function flipBase64(b64: string, at: number): string {
  const bytes = fromBase64(b64)!;
  bytes[at % bytes.length]! ^= 1;
  return toBase64(bytes);
}

describe('pae', () => {
  it('matches the DSSE specification example', () => {
    expect(fromUtf8(pae('http://example.com/HelloWorld', utf8('hello world')))).toBe(
      'DSSEv1 29 http://example.com/HelloWorld 11 hello world',
    );
  });

  it('counts bytes, not characters, for the type and the body', () => {
    expect(fromUtf8(pae('é', utf8('€')))).toBe('DSSEv1 2 é 3 €');
    expect(fromUtf8(pae('', new Uint8Array(0)))).toBe('DSSEv1 0  0 ');
  });

  it('takes a string body as its UTF-8 bytes', () => {
    expect(pae('http://example.com/HelloWorld', 'hello world')).toEqual(
      pae('http://example.com/HelloWorld', utf8('hello world')),
    );
    expect(fromUtf8(pae('t', '€'))).toBe('DSSEv1 1 t 3 €');
    expect(() => pae('t', '\uD800')).toThrow(DsseError);
  });

  it('refuses a payload type with a lone surrogate', () => {
    expect(() => pae('a\uD800', new Uint8Array(0))).toThrow(DsseError);
  });
});

describe('signEnvelope and verifyEnvelope', () => {
  it.each(BACKENDS.flatMap((s) => BACKENDS.map((v) => [s.name, v.name, s, v] as const)))(
    'round-trip: signed with %s, verified with %s',
    (_s, _v, signer, verifier) => {
      const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed, signer);
      expect(Object.keys(env)).toEqual(['payloadType', 'payload', 'signatures']);
      expect(env.signatures).toEqual([{ keyid: kid, sig: expect.any(String) }]);
      expect(env.payload).toBe(toBase64(payload));
      expect(envelopeSchema.safeParse(env).success).toBe(true);
      expect(verifyEnvelope(env, resolver, verifier)).toEqual({
        ok: true,
        payload,
        keyid: kid,
        publicKey,
      });
    },
  );

  it('gives the same signature on both backends (Ed25519 is deterministic)', () => {
    expect(signEnvelope(NOTICE_PAYLOAD_TYPE, payload, seed, nodeBackend)).toEqual(
      signEnvelope(NOTICE_PAYLOAD_TYPE, payload, seed, nobleBackend),
    );
  });

  it.each(BACKENDS)(
    'reports SIGNATURE_INVALID for a tampered payload, type or signature ($name)',
    (b) => {
      const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed);
      const tampered: Envelope[] = [];
      let e = clone(env);
      e.payload = flipBase64(e.payload, 5);
      tampered.push(e);
      e = clone(env);
      e.payloadType = NOTICE_PAYLOAD_TYPE;
      tampered.push(e);
      for (const at of [0, 31, 32, 63]) {
        e = clone(env);
        e.signatures[0]!.sig = flipBase64(e.signatures[0]!.sig, at);
        tampered.push(e);
      }
      e = clone(env);
      e.payload = toBase64(new Uint8Array([...payload, 0x20]));
      tampered.push(e);
      for (const t of tampered) {
        expect(verifyEnvelope(t, resolver, b)).toEqual({
          ok: false,
          code: 'SIGNATURE_INVALID',
          detail: 'signature does not verify',
          keyid: kid,
        });
      }
    },
  );

  it('accepts URL-safe base64, padded or not, as DSSE says consumers must', () => {
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed);
    const urlSafe = (b64: string, pad: boolean) => {
      const u = b64.replace(/\+/g, '-').replace(/\//g, '_');
      return pad ? u : u.replace(/=+$/, '');
    };
    for (const pad of [true, false]) {
      const e: Envelope = {
        ...env,
        payload: urlSafe(env.payload, pad),
        signatures: [{ ...env.signatures[0]!, sig: urlSafe(env.signatures[0]!.sig, pad) }],
      };
      expect(envelopeSchema.safeParse(e).success).toBe(true);
      expect(verifyEnvelope(e, resolver)).toEqual({ ok: true, payload, keyid: kid, publicKey });
    }
  });

  it('reports KEY_UNKNOWN for a keyid the resolver does not know', () => {
    const other = generateKeyPair();
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, other.seed);
    const r = verifyEnvelope(env, resolver);
    expect(r).toMatchObject({ ok: false, code: 'KEY_UNKNOWN', keyid: keyId(other.publicKey) });
    expect(verifyEnvelope(env, () => null)).toMatchObject({ ok: false, code: 'KEY_UNKNOWN' });
  });

  it('reports KEY_UNKNOWN when the resolver returns a key with another keyid', () => {
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed);
    const other = generateKeyPair().publicKey;
    expect(verifyEnvelope(env, () => other)).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
      keyid: kid,
    });
    expect(verifyEnvelope(env, () => new Uint8Array(31))).toMatchObject({
      ok: false,
      code: 'KEY_UNKNOWN',
    });
  });

  it('reports SIGNATURE_INVALID, never throws, for malformed envelopes of every kind', () => {
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed);
    const sig0 = env.signatures[0]!;
    const malformed: [string, unknown][] = [
      ['undefined', undefined],
      ['null', null],
      ['a string', JSON.stringify(env)],
      ['a number', 42],
      ['an array', [env]],
      ['missing payloadType', { payload: env.payload, signatures: env.signatures }],
      ['missing payload', { payloadType: env.payloadType, signatures: env.signatures }],
      ['missing signatures', { payloadType: env.payloadType, payload: env.payload }],
      ['an extra field', { ...env, extra: 1 }],
      ['a numeric payloadType', { ...env, payloadType: 1 }],
      ['a lone surrogate in payloadType', { ...env, payloadType: '\uD800' }],
      ['a numeric payload', { ...env, payload: 1 }],
      ['mixed alphabets in payload', { ...env, payload: '-/8=' }],
      ['unpadded standard base64 payload', { ...env, payload: 'A+A' }],
      ['a padding character inside the payload', { ...env, payload: 'AA=A' }],
      ['whitespace in payload', { ...env, payload: ' ' + env.payload }],
      ['non-zero trailing bits in payload', { ...env, payload: 'AB==' }],
      ['no signatures', { ...env, signatures: [] }],
      ['two signatures', { ...env, signatures: [sig0, sig0] }],
      ['signatures not an array', { ...env, signatures: sig0 }],
      ['a null signature', { ...env, signatures: [null] }],
      ['a signature with an extra field', { ...env, signatures: [{ ...sig0, publicKey: 'x' }] }],
      ['a signature without keyid', { ...env, signatures: [{ sig: sig0.sig }] }],
      ['a signature without sig', { ...env, signatures: [{ keyid: sig0.keyid }] }],
      [
        'an uppercase keyid',
        { ...env, signatures: [{ ...sig0, keyid: sig0.keyid.toUpperCase() }] },
      ],
      ['a short keyid', { ...env, signatures: [{ ...sig0, keyid: sig0.keyid.slice(1) }] }],
      ['a numeric keyid', { ...env, signatures: [{ ...sig0, keyid: 7 }] }],
      ['sig not base64', { ...env, signatures: [{ ...sig0, sig: '!!!!' }] }],
      ['sig of 63 bytes', { ...env, signatures: [{ ...sig0, sig: toBase64(new Uint8Array(63)) }] }],
      ['sig of 65 bytes', { ...env, signatures: [{ ...sig0, sig: toBase64(new Uint8Array(65)) }] }],
      ['sig as a number', { ...env, signatures: [{ ...sig0, sig: 1 }] }],
    ];
    for (const [what, m] of malformed) {
      const r = verifyEnvelope(m, resolver);
      expect([what, r.ok, !r.ok && r.code]).toEqual([what, false, 'SIGNATURE_INVALID']);
      // The zod schema at the API edge rejects the same shapes.
      expect([what, envelopeSchema.safeParse(m).success]).toEqual([what, false]);
    }
  });

  it('never throws on arbitrary values, and agrees with the schema on shape', () => {
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, payload, seed);
    const field = fc.oneof(fc.string(), fc.base64String(), fc.constant(kid), fc.jsonValue());
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.record({
            payloadType: field,
            payload: field,
            signatures: fc.array(fc.record({ keyid: field, sig: field })),
          }),
          fc.record({
            payloadType: fc.string(),
            payload: fc.base64String(),
            signatures: fc.constant(env.signatures),
          }),
        ),
        (v) => {
          const r = verifyEnvelope(v, resolver);
          if (!envelopeSchema.safeParse(v).success) expect(r.ok).toBe(false);
          if (!r.ok && r.code === 'KEY_UNKNOWN')
            expect(envelopeSchema.safeParse(v).success).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
