// Ed25519 (RFC 8032) behind an injected backend, with Provenant's one strict
// verification policy (DESIGN §4): S < L; A and R canonical and not of small
// order; the cofactorless equation [S]B = R + [k]A. The policy lives here, in
// a cheap byte-level pre-check, so every backend gives the same answers.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { bytesEqual, concatBytes, toHex } from './bytes.js';
import { sha256 } from './hash.js';

// noble's sync API needs a SHA-512 provider; set once for the whole process.
ed.hashes.sha512 = sha512;

/** A raw Ed25519 implementation. The policy is applied by {@link verify}, not here. */
export interface Ed25519Backend {
  readonly name: string;
  /** RFC 8032 §5.1.5: 32-byte public key of a 32-byte seed. */
  publicKeyFromSeed(seed: Uint8Array): Uint8Array;
  /** RFC 8032 §5.1.6: deterministic 64-byte signature. */
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
  /** raw cryptographic check, no policy */
  verifyRaw(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
  /** 32 bytes from a cryptographically secure generator. */
  randomSeed(): Uint8Array;
}

/** Thrown for API misuse (wrong argument types or lengths); bad signatures are `false`, never this. */
export class Ed25519Error extends Error {
  override readonly name = 'Ed25519Error';
  constructor(
    readonly code: 'INVALID_SEED' | 'INVALID_MESSAGE' | 'INVALID_PUBLIC_KEY',
    message: string,
  ) {
    super(message);
  }
}

export const SEED_LENGTH = 32;
export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

// RFC 8032 §5.1: group order L = 2^252 + 27742317777372353535851937790883648493.
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
// L little-endian, for the byte-wise S < L check without BigInt.
const L_BYTES = /* @__PURE__ */ hexBytes(
  'edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010',
);

// Canonical encodings of the 8 points of small order (the torsion subgroup E[8]).
// Non-canonical encodings of these points are caught by the y < p check instead.
const SMALL_ORDER = /* @__PURE__ */ [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity, order 1
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // (0, -1), order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // y = 0, order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // y = 0, x odd, order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
].map(hexBytes);

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Little-endian 32-byte scalar at `off` is < L (RFC 8032 §5.1.7 step 1). */
function scalarBelowL(b: Uint8Array, off: number): boolean {
  for (let i = 31; i >= 0; i--) {
    const x = b[off + i]!;
    const l = L_BYTES[i]!;
    if (x !== l) return x < l;
  }
  return false; // S == L
}

/**
 * The 32-byte point encoding at `off` is the canonical one (RFC 8032 §5.1.3):
 * y < p = 2^255 - 19, and the sign bit is clear when x = 0 (y = 1 or y = p - 1).
 */
function canonicalPoint(b: Uint8Array, off: number): boolean {
  const top = b[off + 31]!;
  if ((top & 0x7f) === 0x7f) {
    let allFF = true;
    for (let i = 1; i < 31; i++) {
      if (b[off + i] !== 0xff) {
        allFF = false;
        break;
      }
    }
    // y >= p exactly when bytes 1..30 are 0xff, byte 31 is 0x7f (sign masked) and byte 0 >= 0xed.
    if (allFF) {
      const low = b[off]!;
      if (low >= 0xed) return false;
      // y = p - 1 (x = 0) with the sign bit set.
      if (low === 0xec && top === 0xff) return false;
    }
    return true;
  }
  // y = 1 (x = 0) with the sign bit set.
  if (top === 0x80 && b[off] === 0x01) {
    for (let i = 1; i < 31; i++) if (b[off + i] !== 0) return true;
    return false;
  }
  return true;
}

function smallOrderEncoding(b: Uint8Array, off: number): boolean {
  outer: for (const s of SMALL_ORDER) {
    for (let i = 0; i < 32; i++) if (b[off + i] !== s[i]) continue outer;
    return true;
  }
  return false;
}

/**
 * The cheap strict pre-check of DESIGN §4: lengths, S < L, A and R canonical
 * and not of small order. Byte comparisons only; `true` means the pair may go
 * on to the backend's raw check.
 */
export function checkPointEncodings(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  return (
    scalarBelowL(signature, 32) &&
    canonicalPoint(publicKey, 0) &&
    !smallOrderEncoding(publicKey, 0) &&
    canonicalPoint(signature, 0) &&
    !smallOrderEncoding(signature, 0)
  );
}

function numberLE(b: Uint8Array): bigint {
  let hex = '';
  for (let i = b.length - 1; i >= 0; i--) hex += (b[i]! < 16 ? '0' : '') + b[i]!.toString(16);
  return BigInt('0x' + (hex || '0'));
}

/**
 * Portable backend on @noble/ed25519 (browser and server). noble's own
 * `verify` is cofactored ([8][S]B = [8]R + [8][k]A, even with `zip215: false`),
 * so verifyRaw computes the cofactorless equation of DESIGN §4 with noble's
 * point arithmetic, comparing the encoding of [S]B - [k]A with R as RFC 8032
 * §5.1.7 permits (which also rejects non-canonical R).
 */
export const nobleBackend: Ed25519Backend = {
  name: 'noble',
  publicKeyFromSeed(seed) {
    return ed.getPublicKey(seed);
  },
  sign(message, seed) {
    return ed.sign(message, seed);
  },
  verifyRaw(signature, message, publicKey) {
    if (signature.length !== SIGNATURE_LENGTH || publicKey.length !== PUBLIC_KEY_LENGTH)
      return false;
    const s = numberLE(signature.subarray(32));
    if (s >= L) return false;
    let A: ed.Point;
    try {
      // Strict decoding (y < p, no x = 0 with sign bit), RFC 8032 §5.1.3.
      A = ed.Point.fromBytes(publicKey, false);
    } catch {
      return false;
    }
    const r = signature.subarray(0, 32);
    // k = SHA-512(R || A || M) mod L over the bytes as given (RFC 8032 §5.1.7 step 2).
    const k = numberLE(sha512(concatBytes(r, publicKey, message))) % L;
    const rCheck = ed.Point.BASE.multiply(s, false).subtract(A.multiply(k, false));
    return bytesEqual(rCheck.toBytes(), r);
  },
  randomSeed() {
    return ed.utils.randomSecretKey();
  },
};

function assertSeed(seed: unknown): asserts seed is Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new Ed25519Error('INVALID_SEED', `seed must be ${SEED_LENGTH} bytes`);
  }
}

/** A fresh random key pair: the 32-byte seed (the secret) and its public key. */
export function generateKeyPair(backend: Ed25519Backend = nobleBackend): {
  seed: Uint8Array;
  publicKey: Uint8Array;
} {
  const seed = backend.randomSeed();
  return { seed, publicKey: backend.publicKeyFromSeed(seed) };
}

/**
 * The 32-byte public key of a 32-byte seed.
 * @throws {Ed25519Error} INVALID_SEED when `seed` is not 32 bytes.
 */
export function publicKeyFromSeed(
  seed: Uint8Array,
  backend: Ed25519Backend = nobleBackend,
): Uint8Array {
  assertSeed(seed);
  return backend.publicKeyFromSeed(seed);
}

/**
 * Deterministic Ed25519 signature (RFC 8032 §5.1.6) of `message`.
 * @throws {Ed25519Error} INVALID_SEED / INVALID_MESSAGE for arguments of the wrong type or length.
 */
export function sign(
  message: Uint8Array,
  seed: Uint8Array,
  backend: Ed25519Backend = nobleBackend,
): Uint8Array {
  if (!(message instanceof Uint8Array))
    throw new Ed25519Error('INVALID_MESSAGE', 'message must be a Uint8Array');
  assertSeed(seed);
  return backend.sign(message, seed);
}

/**
 * Verifies under Provenant's strict policy (DESIGN §4): the byte pre-check
 * ({@link checkPointEncodings}) and then the backend's cofactorless raw check.
 * Never throws: anything malformed, including wrong types or lengths, is `false`.
 */
export function verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  backend: Ed25519Backend = nobleBackend,
): boolean {
  if (!(message instanceof Uint8Array) || !checkPointEncodings(signature, publicKey)) return false;
  try {
    return backend.verifyRaw(signature, message, publicKey) === true;
  } catch {
    return false;
  }
}

/**
 * Key id `kid` (DESIGN §4): the first 32 lowercase hex characters of
 * SHA-256 over the raw 32-byte public key.
 * @throws {Ed25519Error} INVALID_PUBLIC_KEY when `publicKey` is not 32 bytes.
 */
export function keyId(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new Ed25519Error('INVALID_PUBLIC_KEY', `public key must be ${PUBLIC_KEY_LENGTH} bytes`);
  }
  return toHex(sha256(publicKey).subarray(0, 16));
}
