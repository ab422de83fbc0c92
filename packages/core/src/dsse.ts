// DSSE v1 envelopes (DESIGN §4): the signature covers
// PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body, never the JSON.
// Provenant envelopes carry exactly one signature.
import { z } from 'zod';
import { concatBytes, fromDsseBase64, toBase64, toHex, utf8 } from './bytes.js';
import {
  keyId,
  nobleBackend,
  publicKeyFromSeed,
  sign,
  verify,
  type Ed25519Backend,
} from './ed25519.js';

export interface DsseSignature {
  keyid: string;
  /** standard base64 of the 64-byte Ed25519 signature */
  sig: string;
}

export interface Envelope {
  payloadType: string;
  /** standard base64 of payload bytes */
  payload: string;
  signatures: DsseSignature[];
}

export const RECORD_PAYLOAD_TYPE = 'application/vnd.provenant.record+json';
export const NOTICE_PAYLOAD_TYPE = 'application/vnd.provenant.notice+json';

/** Returns the raw public key for a kid, or undefined/null when no such key is known. */
export type PublicKeyResolver = (keyid: string) => Uint8Array | undefined | null;

export type EnvelopeResult =
  | { ok: true; payload: Uint8Array; keyid: string; publicKey: Uint8Array }
  | { ok: false; code: 'SIGNATURE_INVALID' | 'KEY_UNKNOWN'; detail: string; keyid?: string };

/** Thrown for misuse of {@link pae} / {@link signEnvelope}. */
export class DsseError extends Error {
  override readonly name = 'DsseError';
  constructor(
    readonly code: 'INVALID_PAYLOAD_TYPE' | 'INVALID_PAYLOAD',
    message: string,
  ) {
    super(message);
  }
}

const KEYID_RE = /^[0-9a-f]{32}$/;
// Unicode-mode class: matches only surrogates that are not part of a pair.
const LONE_SURROGATE_RE = /[\uD800-\uDFFF]/u;
const SP = 0x20;

function asciiDecimal(n: number): Uint8Array {
  return utf8(String(n));
}

/**
 * DSSE v1 pre-authentication encoding of `payloadType` and `body`; lengths are
 * ASCII decimal byte counts (the type's UTF-8 length). A string body is taken as its UTF-8 bytes.
 * @throws {DsseError} INVALID_PAYLOAD_TYPE when the type is not a well-formed string
 *   (a lone surrogate would encode ambiguously), INVALID_PAYLOAD when body is neither
 *   bytes nor a well-formed string.
 */
export function pae(payloadType: string, body: Uint8Array | string): Uint8Array {
  // A string body stands for its UTF-8 bytes (DSSE: the body is bytes).
  if (typeof body === 'string') {
    if (LONE_SURROGATE_RE.test(body))
      throw new DsseError('INVALID_PAYLOAD', 'body must be a well-formed string');
    body = utf8(body);
  }
  if (!(body instanceof Uint8Array))
    throw new DsseError('INVALID_PAYLOAD', 'body must be a Uint8Array or a string');
  const head = paeHead(payloadType);
  const len = asciiDecimal(body.length);
  // One allocation: this runs once per signature check on hot paths.
  const out = new Uint8Array(head.length + len.length + 1 + body.length);
  out.set(head, 0);
  out.set(len, head.length);
  out[head.length + len.length] = SP;
  out.set(body, head.length + len.length + 1);
  return out;
}

// "DSSEv1 <len(type)> <type> " per payload type; Provenant uses two types, so
// the cache stays tiny (bounded anyway against hostile input).
const PAE_HEADS = new Map<string, Uint8Array>();

function paeHead(payloadType: string): Uint8Array {
  const cached = PAE_HEADS.get(payloadType);
  if (cached) return cached;
  if (typeof payloadType !== 'string' || LONE_SURROGATE_RE.test(payloadType)) {
    throw new DsseError('INVALID_PAYLOAD_TYPE', 'payloadType must be a well-formed string');
  }
  const type = utf8(payloadType);
  const head = concatBytes(
    utf8('DSSEv1 '),
    asciiDecimal(type.length),
    Uint8Array.of(SP),
    type,
    Uint8Array.of(SP),
  );
  if (PAE_HEADS.size < 16) PAE_HEADS.set(payloadType, head);
  return head;
}

/**
 * Signs `payloadBytes` (for Provenant, the JCS bytes of a record or notice)
 * into a one-signature DSSE envelope; keyid = keyId(publicKeyFromSeed(seed)).
 * @throws {DsseError} for a bad payload type or payload, {Ed25519Error} INVALID_SEED.
 */
export function signEnvelope(
  payloadType: string,
  payloadBytes: Uint8Array,
  seed: Uint8Array,
  backend: Ed25519Backend = nobleBackend,
): Envelope {
  const message = pae(payloadType, payloadBytes);
  const sig = sign(message, seed, backend);
  return {
    payloadType,
    payload: toBase64(payloadBytes),
    signatures: [{ keyid: keyId(publicKeyFromSeed(seed, backend)), sig: toBase64(sig) }],
  };
}

const strictBase64 = (what: string, bytes?: number) =>
  z.string().refine(
    (s) => {
      const b = fromDsseBase64(s);
      return b !== null && (bytes === undefined || b.length === bytes);
    },
    {
      message:
        bytes === undefined
          ? `${what} must be strict base64 (standard or URL-safe)`
          : `${what} must be base64 (standard or URL-safe) of ${bytes} bytes`,
    },
  );

/** zod schema of a Provenant DSSE envelope: exactly these fields, exactly one signature. */
export const envelopeSchema = z.strictObject({
  payloadType: z.string().refine((s) => !LONE_SURROGATE_RE.test(s), {
    message: 'payloadType must not contain lone surrogates',
  }),
  payload: strictBase64('payload'),
  signatures: z
    .array(
      z.strictObject({
        keyid: z.string().regex(KEYID_RE, 'keyid must be 32 lowercase hex characters'),
        sig: strictBase64('sig', 64),
      }),
    )
    .length(1, 'a Provenant envelope carries exactly one signature'),
});

type Parsed =
  | { ok: true; payloadType: string; payload: Uint8Array; keyid: string; sig: Uint8Array }
  | { ok: false; detail: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasExactly(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

// The same rules as envelopeSchema, hand-written because this runs once per
// record on every verification. The envelope is attacker-controlled.
function parseEnvelope(e: unknown): Parsed {
  if (!isRecord(e)) return { ok: false, detail: 'envelope is not an object' };
  if (!hasExactly(e, ['payloadType', 'payload', 'signatures'])) {
    return { ok: false, detail: 'envelope must have exactly payloadType, payload and signatures' };
  }
  const { payloadType, payload, signatures } = e;
  if (typeof payloadType !== 'string' || LONE_SURROGATE_RE.test(payloadType)) {
    return { ok: false, detail: 'payloadType is not a well-formed string' };
  }
  const payloadBytes = typeof payload === 'string' ? fromDsseBase64(payload) : null;
  if (payloadBytes === null) return { ok: false, detail: 'payload is not strict base64' };
  if (!Array.isArray(signatures) || signatures.length !== 1) {
    return { ok: false, detail: 'a Provenant envelope carries exactly one signature' };
  }
  const s: unknown = signatures[0];
  if (!isRecord(s) || !hasExactly(s, ['keyid', 'sig'])) {
    return { ok: false, detail: 'signature must have exactly keyid and sig' };
  }
  if (typeof s['keyid'] !== 'string' || !KEYID_RE.test(s['keyid'])) {
    return { ok: false, detail: 'keyid must be 32 lowercase hex characters' };
  }
  const sig = typeof s['sig'] === 'string' ? fromDsseBase64(s['sig']) : null;
  if (sig === null || sig.length !== 64) {
    return { ok: false, detail: 'sig must be base64 of 64 bytes' };
  }
  return { ok: true, payloadType, payload: payloadBytes, keyid: s['keyid'], sig };
}

// kid by key bytes (hex): a resolver hands back the same few keys again and
// again, and a SHA-256 per check is a measurable share of a replay.
const KID_CACHE = new Map<string, string>();
const KID_CACHE_MAX = 10_000;

function cachedKeyId(publicKey: Uint8Array): string {
  const hex = toHex(publicKey);
  let kid = KID_CACHE.get(hex);
  if (kid === undefined) {
    kid = keyId(publicKey);
    if (KID_CACHE.size >= KID_CACHE_MAX) KID_CACHE.delete(KID_CACHE.keys().next().value!);
    KID_CACHE.set(hex, kid);
  }
  return kid;
}

/**
 * Verifies a DSSE envelope under the strict Ed25519 policy (DESIGN §4).
 *
 * Never throws for bad evidence: a malformed envelope or a signature that does
 * not verify is SIGNATURE_INVALID; a keyid the resolver does not know (or that
 * resolves to a key whose kid differs) is KEY_UNKNOWN. Exceptions thrown by
 * `resolve` itself (infrastructure failure) propagate.
 */
export function verifyEnvelope(
  envelope: unknown,
  resolve: PublicKeyResolver,
  backend: Ed25519Backend = nobleBackend,
): EnvelopeResult {
  const parsed = parseEnvelope(envelope);
  if (!parsed.ok) return { ok: false, code: 'SIGNATURE_INVALID', detail: parsed.detail };
  const { keyid } = parsed;
  const publicKey = resolve(keyid);
  if (publicKey === undefined || publicKey === null) {
    return { ok: false, code: 'KEY_UNKNOWN', detail: `no key with keyid ${keyid}`, keyid };
  }
  // A resolver returning the wrong key must not let another key's signature through.
  if (
    !(publicKey instanceof Uint8Array) ||
    publicKey.length !== 32 ||
    cachedKeyId(publicKey) !== keyid
  ) {
    return {
      ok: false,
      code: 'KEY_UNKNOWN',
      detail: `resolved key does not have keyid ${keyid}`,
      keyid,
    };
  }
  if (!verify(parsed.sig, pae(parsed.payloadType, parsed.payload), publicKey, backend)) {
    return { ok: false, code: 'SIGNATURE_INVALID', detail: 'signature does not verify', keyid };
  }
  return { ok: true, payload: parsed.payload, keyid, publicKey };
}
