// The Merkle tree over the log's stored complete subtrees (DESIGN §6):
// the sequencer's in-memory right edge (frontier) and a NodeReader over the
// merkle_nodes table that fetches every node of a proof in one query.
import { emptyRoot, rootNodes, type NodeReader } from '@provenant/core';
import { getNodes, LogStorageError, type MerkleNode, type Queryable } from '@provenant/store';
// node:crypto SHA-256: the same bytes as core's nodeHash, without pure-JS hashing per node.
import { nodeHashFast as nodeHash } from './fast.js';

// A stored tree node is missing or malformed: the log's storage is inconsistent
// (the class lives in the store, which the bundle reader shares with the verifier).
export { LogStorageError };

/**
 * The right edge of the tree: the complete subtrees covering [0, size),
 * largest first (one per set bit of size). Appending a leaf needs nothing
 * else, so the sequencer never reads old nodes to extend the tree.
 */
export class Frontier {
  private constructor(
    private nodes: MerkleNode[],
    private count: number,
  ) {}

  /** The frontier of the empty tree. */
  static empty(): Frontier {
    return new Frontier([], 0);
  }

  /**
   * Loads the frontier of the tree of `size` leaves from merkle_nodes (one query, O(log n) rows).
   * @throws LogStorageError when a node is missing.
   */
  static async load(q: Queryable, size: number): Promise<Frontier> {
    const refs = rootNodes(size)[0]!;
    const hashes = await getNodes(
      q,
      refs.map((r) => ({ level: r.level, idx: r.index })),
    );
    const nodes = refs.map((r, i) => {
      const hash = hashes[i];
      if (!hash || hash.length !== 32)
        throw new LogStorageError(`subtree (${r.level}, ${r.index}) of size ${size} is missing`);
      return { level: r.level, idx: r.index, hash };
    });
    return new Frontier(nodes, size);
  }

  get size(): number {
    return this.count;
  }

  /** An independent copy (the sequencer extends a copy and keeps it only after COMMIT). */
  clone(): Frontier {
    return new Frontier([...this.nodes], this.count);
  }

  /**
   * Appends a leaf hash; pushes onto `created` the leaf node and every subtree it completes
   * (RFC 9162 §2.1.1: node = SHA-256(0x01 || left || right)).
   */
  append(leafHash: Uint8Array, created: MerkleNode[]): void {
    const leaf = { level: 0, idx: this.count, hash: leafHash };
    this.nodes.push(leaf);
    created.push(leaf);
    this.count++;
    // Two subtrees of one level side by side complete their parent.
    for (let n = this.nodes.length; n >= 2; n = this.nodes.length) {
      const left = this.nodes[n - 2]!;
      const right = this.nodes[n - 1]!;
      if (left.level !== right.level) break;
      const parent = {
        level: left.level + 1,
        idx: left.idx / 2,
        hash: nodeHash(left.hash, right.hash),
      };
      this.nodes.splice(n - 2, 2, parent);
      created.push(parent);
    }
  }

  /** The root: right fold of the frontier, h(c1, h(c2, ... ck)); SHA-256("") when empty. */
  root(): Uint8Array {
    if (this.nodes.length === 0) return emptyRoot();
    let h = this.nodes[this.nodes.length - 1]!.hash;
    for (let i = this.nodes.length - 2; i >= 0; i--) h = nodeHash(this.nodes[i]!.hash, h);
    return h;
  }
}

/**
 * A NodeReader over merkle_nodes. core's proof functions ask for all nodes
 * of a proof in the same tick, so requests are collected and fetched in one
 * query on the next microtask.
 */
export function storedNodeReader(q: Queryable): NodeReader {
  let pending: {
    level: number;
    index: number;
    resolve: (h: Uint8Array) => void;
    reject: (e: unknown) => void;
  }[] = [];
  const flush = async (): Promise<void> => {
    const batch = pending;
    pending = [];
    try {
      const hashes = await getNodes(
        q,
        batch.map((b) => ({ level: b.level, idx: b.index })),
      );
      batch.forEach((b, i) => {
        const h = hashes[i];
        if (h) b.resolve(h);
        else b.reject(new LogStorageError(`subtree (${b.level}, ${b.index}) is missing`));
      });
    } catch (err) {
      for (const b of batch) b.reject(err);
    }
  };
  return {
    getNode(level, index) {
      return new Promise<Uint8Array>((resolve, reject) => {
        if (pending.length === 0) queueMicrotask(() => void flush());
        pending.push({ level, index, resolve, reject });
      });
    },
  };
}
