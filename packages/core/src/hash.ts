// SHA-256, the only hash in Provenant (DESIGN §4). @noble/hashes keeps core
// portable; the server may still pass digests computed elsewhere.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from './bytes.js';

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  return nobleSha256(bytes);
}

/** Lowercase hex SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256Hex(input: Uint8Array | string): string {
  return toHex(sha256(typeof input === 'string' ? utf8(input) : input));
}
