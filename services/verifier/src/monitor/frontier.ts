// The compact range of a log's leaves (RFC 9162 §2.1.1 MTH as a right border):
// one hash per set bit of the size, highest level first. The monitor folds
// each verified leaf hash in and computes the root of any size it reaches, so
// a checkpoint's root is recomputed from verified leaves, never read.
import { NODE_PREFIX } from '@provenant/core';

export type Sha256 = (bytes: Uint8Array) => Uint8Array;

/** An interior node of the tree from its two children. */
export function node(sha256: Sha256, left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = NODE_PREFIX; // RFC 6962 §2.1: interior node = H(0x01 || left || right)
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** The right border of a tree of `size` leaves; append leaf hashes in order. */
export class Frontier {
  constructor(
    private readonly sha256: Sha256,
    public size = 0,
    /** subtree roots, largest (leftmost) first */
    public readonly hashes: Uint8Array[] = [],
  ) {
    let bits = 0;
    for (let s = size; s > 0; s = Math.floor(s / 2)) bits += s % 2;
    if (bits !== hashes.length) throw new Error('frontier does not match its size');
  }

  /** Folds in the next leaf hash: merges equal-size subtrees as a binary counter carries. */
  push(leafHash: Uint8Array): void {
    let h = leafHash;
    for (let s = this.size; s % 2 === 1; s = Math.floor(s / 2))
      h = node(this.sha256, this.hashes.pop()!, h);
    this.hashes.push(h);
    this.size += 1;
  }

  /** MTH of the leaves pushed so far (RFC 9162: the empty tree is H("")). */
  root(): Uint8Array {
    if (this.hashes.length === 0) return this.sha256(new Uint8Array(0));
    let h = this.hashes[this.hashes.length - 1]!;
    for (let i = this.hashes.length - 2; i >= 0; i--) h = node(this.sha256, this.hashes[i]!, h);
    return h;
  }
}
