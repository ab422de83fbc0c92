// The sequencer's right edge must reproduce RFC 9162 roots and store exactly
// the complete subtrees (DESIGN §6), checked against core's in-memory tree.
import { describe, expect, it } from '@jest/globals';
import { MerkleTree, rootFromLeafHashes, sha256, utf8 } from '@provenant/core';
import type { MerkleNode } from '@provenant/store';
import { Frontier } from './tree.js';

const leaf = (i: number) => sha256(utf8(`leaf ${i}`));

describe('Frontier', () => {
  it('gives the empty-tree root before any leaf', () => {
    expect(Frontier.empty().root()).toEqual(rootFromLeafHashes([]));
  });

  it('gives the RFC 9162 root at every size up to 130 leaves', () => {
    const f = Frontier.empty();
    const hashes: Uint8Array[] = [];
    for (let i = 0; i < 130; i++) {
      hashes.push(leaf(i));
      f.append(leaf(i), []);
      expect({ size: f.size, root: f.root() }).toEqual({
        size: i + 1,
        root: rootFromLeafHashes(hashes),
      });
    }
  });

  it('creates every complete subtree exactly once, with the hash the full tree has', () => {
    const f = Frontier.empty();
    const created: MerkleNode[] = [];
    const tree = new MerkleTree();
    for (let i = 0; i < 100; i++) {
      f.append(leaf(i), created);
      tree.append(leaf(i));
    }
    const keys = created.map((n) => `${n.level}/${n.idx}`);
    expect(new Set(keys).size).toBe(keys.length);
    // A tree of n leaves has n leaves plus n - popcount(n) complete interior subtrees... summed over levels.
    let expected = 0;
    for (let level = 0; 2 ** level <= 100; level++) expected += Math.floor(100 / 2 ** level);
    expect(created.length).toBe(expected);
    for (const n of created) expect(n.hash).toEqual(tree.getNode(n.level, n.idx));
  });

  it('leaves the original untouched when a clone is extended', () => {
    const f = Frontier.empty();
    f.append(leaf(0), []);
    const before = f.root();
    const c = f.clone();
    c.append(leaf(1), []);
    expect(f.size).toBe(1);
    expect(f.root()).toEqual(before);
    expect(c.size).toBe(2);
  });
});
