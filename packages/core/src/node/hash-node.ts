// SHA-256 on node:crypto for servers: the same bytes as core's portable
// sha256 (@noble/hashes), several times faster on short inputs. Injected where
// core takes a hash (payload parsing, verifyBundle); core itself stays pure.
import { createHash } from 'node:crypto';

/** SHA-256 of `bytes` via node:crypto. */
export function nodeSha256(bytes: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(bytes).digest();
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}
