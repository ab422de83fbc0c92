// The issuer's hot-path hashing and signing on node:crypto (issue 3
// benchmark). Core stays pure and portable; these produce the SAME bytes as
// core's sha256 / leafHash / nodeHash / canonicalize / signEnvelope
// (fast.test.ts cross-checks them) at a fraction of the cost: OpenSSL SHA-256
// instead of pure JS, one cached private KeyObject per seed, and the JCS of
// the two fixed-shape objects the log signs per entry written directly.
import { createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { canonicalize, JCS_VERBATIM as VERBATIM, type Envelope } from '@provenant/core';

// RFC 9162 §2.1.1 domain separation prefixes.
const LEAF_PREFIX = Buffer.of(0x00);
const NODE_PREFIX = Buffer.of(0x01);

/** SHA-256 of `data`, lowercase hex (DESIGN §4 record id). */
export function sha256HexFast(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** RFC 9162 leaf hash SHA-256(0x00 ‖ utf8(jcs)), from the JCS text of the entry. */
export function leafHashOfJcs(jcs: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(jcs, 'utf8').digest());
}

/** RFC 9162 node hash SHA-256(0x01 ‖ left ‖ right). */
export function nodeHashFast(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest(),
  );
}

function ownKeys(o: object, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

/**
 * JCS text of a DSSE envelope (the leaf preimage, DESIGN §6). Writes the one
 * Provenant shape directly (keys in JCS order: payload < payloadType <
 * signatures; keyid < sig) when every string is verbatim ASCII, and defers to
 * core's canonicalize for anything else, so the result is always exact JCS.
 * @throws JcsError (from canonicalize) for values JCS cannot represent.
 */
export function envelopeJcs(envelope: Envelope): string {
  const e = envelope as unknown as Record<string, unknown>;
  const sigs = e.signatures;
  if (
    typeof e === 'object' &&
    e !== null &&
    ownKeys(e, ['payload', 'payloadType', 'signatures']) &&
    Array.isArray(sigs) &&
    sigs.length === 1
  ) {
    const s = sigs[0] as Record<string, unknown>;
    const { payload, payloadType } = e;
    if (
      typeof s === 'object' &&
      s !== null &&
      ownKeys(s, ['keyid', 'sig']) &&
      typeof payload === 'string' &&
      typeof payloadType === 'string' &&
      typeof s.keyid === 'string' &&
      typeof s.sig === 'string' &&
      VERBATIM.test(payload) &&
      VERBATIM.test(payloadType) &&
      VERBATIM.test(s.keyid) &&
      VERBATIM.test(s.sig)
    )
      return `{"payload":"${payload}","payloadType":"${payloadType}","signatures":[{"keyid":"${s.keyid}","sig":"${s.sig}"}]}`;
  }
  return canonicalize(envelope);
}

// RFC 8410 PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** Most cached signing keys (custodial keys of active parties, the log and authority keys). */
const MAX_SIGNERS = 1_024;

/** An Ed25519 signing key imported once: sign bytes, know its public key and kid. */
export interface FastSigner {
  readonly publicKey: Uint8Array;
  /** DESIGN §4: first 32 hex of SHA-256(public key). */
  readonly kid: string;
  /** Raw 64-byte Ed25519 signature (RFC 8032, deterministic: same bytes as core's sign). */
  sign(message: Uint8Array): Buffer;
}

const signers = new Map<string, FastSigner>();

/**
 * The cached signer of a 32-byte seed. Keyed by SHA-256 of the seed, so the
 * cache holds no seed bytes as keys; the PKCS#8 import (~0.4 ms) happens once.
 * @throws Error when the seed is not 32 bytes.
 */
export function signerFor(seed: Uint8Array): FastSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw Object.assign(new Error('an Ed25519 seed is 32 bytes'), { code: 'INVALID_SEED' });
  const id = createHash('sha256').update(seed).digest('base64');
  let s = signers.get(id);
  if (s === undefined) {
    const key: KeyObject = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const x = createPublicKey(key).export({ format: 'jwk' }).x!;
    const publicKey = new Uint8Array(Buffer.from(x, 'base64url'));
    s = {
      publicKey,
      kid: sha256HexFast(publicKey).slice(0, 32),
      sign: (message) => sign(null, message, key),
    };
    if (signers.size >= MAX_SIGNERS) signers.delete(signers.keys().next().value!);
    signers.set(id, s);
  }
  return s;
}

/**
 * DSSE v1 envelope of `payload` signed by `signer` (DESIGN §4): the signature
 * covers PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body. The same
 * envelope as core's signEnvelope; `payloadType` must be verbatim ASCII
 * (the two Provenant types are).
 */
export function signEnvelopeFast(
  payloadType: string,
  payload: Uint8Array,
  signer: FastSigner,
): Envelope {
  if (!VERBATIM.test(payloadType))
    throw Object.assign(new Error('payloadType must be printable ASCII'), {
      code: 'INVALID_PAYLOAD_TYPE',
    });
  const head = Buffer.from(
    `DSSEv1 ${payloadType.length} ${payloadType} ${payload.length} `,
    'latin1',
  );
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const sig = signer.sign(Buffer.concat([head, body], head.length + body.length));
  return {
    payloadType,
    payload: body.toString('base64'),
    signatures: [{ keyid: signer.kid, sig: sig.toString('base64') }],
  };
}
