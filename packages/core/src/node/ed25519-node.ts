// node:crypto (OpenSSL) Ed25519 backend: the server's fast path (DESIGN §4).
// Policy stays in ../ed25519.ts; this file is raw crypto plus key caches,
// because importing a key can cost as much as a verify.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import type { Ed25519Backend } from '../ed25519.js';

/** Most public KeyObjects kept; the oldest is evicted first. */
const MAX_PUBLIC_KEYS = 10_000;
/** Most private KeyObjects kept (custodial and bulk signing reuse a few keys). */
const MAX_PRIVATE_KEYS = 1_024;

// RFC 8410 PKCS#8 prefix for an Ed25519 private key; the 32-byte seed follows.
// Node 20 has no raw private-key import, and a private JWK needs `x`, which is
// what we are deriving.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const publicKeys = new Map<string, KeyObject>();
const privateKeys = new Map<string, { key: KeyObject; publicKey: Uint8Array }>();

function remember<V>(map: Map<string, V>, max: number, k: string, v: V): void {
  if (map.size >= max) map.delete(map.keys().next().value!);
  map.set(k, v);
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Public KeyObject via JWK (~7 µs, against ~84 µs for SPKI DER), cached by key bytes. */
function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const x = toBuffer(publicKey).toString('base64url');
  let key = publicKeys.get(x);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    remember(publicKeys, MAX_PUBLIC_KEYS, x, key);
  }
  return key;
}

/**
 * Private KeyObject and public key for a seed. Cached under SHA-256 of the
 * seed, so the map holds no seed bytes as keys; the PKCS#8 import costs ~0.4 ms.
 */
function privateEntry(seed: Uint8Array): { key: KeyObject; publicKey: Uint8Array } {
  const id = createHash('sha256').update(seed).digest('base64');
  let entry = privateKeys.get(id);
  if (entry === undefined) {
    const key = createPrivateKey({
      key: Buffer.concat([PKCS8_PREFIX, seed]),
      format: 'der',
      type: 'pkcs8',
    });
    const { x } = createPublicKey(key).export({ format: 'jwk' });
    entry = { key, publicKey: new Uint8Array(Buffer.from(x!, 'base64url')) };
    remember(privateKeys, MAX_PRIVATE_KEYS, id, entry);
  }
  return entry;
}

/** Ed25519 on node:crypto. Raw OpenSSL semantics; use it through `verify` in @provenant/core for the policy. */
export const nodeBackend: Ed25519Backend = {
  name: 'node',
  publicKeyFromSeed(seed) {
    return privateEntry(seed).publicKey.slice();
  },
  sign(message, seed) {
    return new Uint8Array(nodeSign(null, message, privateEntry(seed).key));
  },
  verifyRaw(signature, message, publicKey) {
    if (signature.length !== 64 || publicKey.length !== 32) return false;
    try {
      return nodeVerify(null, message, publicKeyObject(publicKey), signature);
    } catch {
      return false;
    }
  },
  randomSeed() {
    return webcrypto.getRandomValues(new Uint8Array(32));
  },
};
