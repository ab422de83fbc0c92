// Proof of possession for a client-held key (DESIGN §5 "Keys and tokens"):
// the key signs JCS({gln, publicKey, purpose, time}), so nobody can register a
// public key they do not hold (someone else's, or one nobody holds).
import { fromBase64Url, toBase64Url } from './bytes.js';
import { sign, verify, type Ed25519Backend, nobleBackend } from './ed25519.js';
import { canonicalBytes } from './jcs.js';

/** The `purpose` member of the signed message. */
export const KEY_REGISTRATION_PURPOSE = 'provenant-key-registration';

/** How far the proof's `time` may lie from the server's clock (DESIGN §5). */
export const KEY_REGISTRATION_SKEW_MS = 5 * 60 * 1000;

/**
 * The bytes a key registration proof signs: the UTF-8 JCS of
 * `{gln, publicKey, purpose: "provenant-key-registration", time}`, with
 * `publicKey` as sent (base64url of the raw 32 bytes).
 */
export function keyRegistrationMessage(gln: string, publicKey: string, time: string): Uint8Array {
  return canonicalBytes({ gln, publicKey, purpose: KEY_REGISTRATION_PURPOSE, time });
}

/**
 * The body that registers the key of `seed` for party `gln` at `time` (RFC 3339):
 * `{publicKey, time, proof}`, publicKey and proof base64url without padding.
 */
export function keyRegistrationBody(
  gln: string,
  seed: Uint8Array,
  publicKey: Uint8Array,
  time: string,
  backend: Ed25519Backend = nobleBackend,
): { publicKey: string; time: string; proof: string } {
  const pk = toBase64Url(publicKey);
  const proof = sign(keyRegistrationMessage(gln, pk, time), seed, backend);
  return { publicKey: pk, time, proof: toBase64Url(proof) };
}

/**
 * Whether `proof` (base64url) is a valid signature by `publicKey` (raw) over
 * the registration message of `gln`, `publicKeyText` and `time`. A bad proof
 * is `false`, never an exception.
 */
export function verifyKeyRegistration(
  gln: string,
  publicKeyText: string,
  publicKey: Uint8Array,
  time: string,
  proof: string,
  backend: Ed25519Backend = nobleBackend,
): boolean {
  const sig = fromBase64Url(proof.replace(/={1,2}$/, ''));
  if (!sig || sig.length !== 64) return false;
  return verify(sig, keyRegistrationMessage(gln, publicKeyText, time), publicKey, backend);
}
