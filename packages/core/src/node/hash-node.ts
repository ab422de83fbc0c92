// SHA-256 on node:crypto for servers: the same bytes as core's portable
// sha256 (@noble/hashes), several times faster on short inputs. Injected where
// core takes a hash (payload parsing, verifyBundle); core itself stays pure.
import * as crypto from 'node:crypto';

// crypto.hash (Node 20.12+): one call, no Hash object (the log monitor hashes every leaf and node).
const oneShot = (crypto as { hash?: typeof crypto.hash }).hash;

/** SHA-256 of `bytes` via node:crypto. */
export function nodeSha256(bytes: Uint8Array): Uint8Array {
  const digest =
    oneShot !== undefined
      ? oneShot('sha256', bytes, 'buffer')
      : crypto.createHash('sha256').update(bytes).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}
