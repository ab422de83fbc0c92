import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fromBase64, fromHex, toBase64, toHex, utf8 } from './bytes.js';
import { sha256 } from './hash.js';
import {
  MerkleError,
  MerkleTree,
  consistencyProof,
  consistencyProofNodes,
  emptyRoot,
  inclusionProof,
  inclusionProofNodes,
  leafHash,
  nodeHash,
  rootFromInclusionProof,
  rootFromLeafHashes,
  rootsFromConsistencyProof,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  type NodeReader,
} from './merkle.js';
import { vectorPath } from '../../../tests/support/paths.js';

const VECTORS = vectorPath('merkle');
const TD = join(VECTORS, 'transparency-dev');

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
    });
}

function b64(text: string): Uint8Array {
  const bytes = fromBase64(text);
  if (!bytes) throw new Error(`vector holds invalid base64: ${text}`);
  return bytes;
}

const readJson = (p: string): unknown => JSON.parse(readFileSync(p, 'utf8'));

interface TdInclusion {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
interface TdConsistency {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

const tdInclusion = files(join(TD, 'inclusion')).map(
  (p) => [relative(VECTORS, p), readJson(p) as TdInclusion] as const,
);
const tdConsistency = files(join(TD, 'consistency')).map(
  (p) => [relative(VECTORS, p), readJson(p) as TdConsistency] as const,
);

// The classic RFC 6962 test tree used by transparency-dev and Trillian.
const CLASSIC_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => leafHash(fromHex(h)!));
const classic = new MerkleTree(CLASSIC_LEAVES);

/** Synthetic storage of `size` leaves: a complete subtree's "hash" is derived from its coordinates; counts reads. */
class CountingReader implements NodeReader {
  reads = 0;
  constructor(private readonly size: number) {}
  getNode(level: number, index: number): Uint8Array {
    this.reads++;
    // Generation must only ask for subtrees that are complete in the tree it serves.
    if ((index + 1) * 2 ** level > this.size)
      throw new Error(`incomplete subtree (${level}, ${index}) requested`);
    return sha256(utf8(`${level}/${index}`));
  }
}

const completeIn =
  (size: number) =>
  (r: { level: number; index: number }): boolean =>
    (r.index + 1) * 2 ** r.level <= size;

/** Async reader over a MerkleTree, as storage would be. */
const asyncReader = (tree: MerkleTree): NodeReader => ({
  getNode: async (level, index) => tree.getNode(level, index),
});

function flipBit(proof: Uint8Array[], element: number, bit: number): Uint8Array[] {
  return proof.map((p, i) => {
    if (i !== element) return p;
    const copy = p.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });
}

const randomHashes = (n: number, salt: string) =>
  Array.from({ length: n }, (_, i) => sha256(utf8(`${salt}/${i}`)));

/** Whether two tree sizes make the same root out of any proof for `index` (the proof cannot tell them apart). */
function sameInclusionShape(index: number, sizeA: number, sizeB: number, length: number): boolean {
  const proof = randomHashes(length, 'shape');
  const a = rootFromInclusionProof(index, sizeA, CLASSIC_LEAVES[0]!, proof);
  const b = rootFromInclusionProof(index, sizeB, CLASSIC_LEAVES[0]!, proof);
  return a.ok && b.ok && toHex(a.root) === toHex(b.root);
}

/** Whether two size pairs compute the same roots out of any consistency proof. */
function sameConsistencyShape(
  a: readonly [number, number],
  b: readonly [number, number],
  length: number,
): boolean {
  const proof = randomHashes(length, 'shape');
  const seed = sha256(utf8('seed'));
  const ra = rootsFromConsistencyProof(a[0], a[1], proof, seed);
  const rb = rootsFromConsistencyProof(b[0], b[1], proof, seed);
  return (
    ra.ok && rb.ok && toHex(ra.root1) === toHex(rb.root1) && toHex(ra.root2) === toHex(rb.root2)
  );
}

describe('leaf and node hashing (RFC 9162 §2.1.1)', () => {
  it('hashes the empty tree to SHA-256 of the empty string', () => {
    expect(toHex(emptyRoot())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
    expect(rootFromLeafHashes([])).toEqual(emptyRoot());
  });

  it('gives the classic 8-leaf tree its published root', () => {
    expect(toHex(classic.root())).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
    expect(toHex(rootFromLeafHashes(CLASSIC_LEAVES))).toBe(toHex(classic.root()));
  });

  const cctvTree = readJson(join(VECTORS, 'cctv/merkle_tree.json')) as {
    leaf_data: string;
    leaf_hash: string;
    root_hash: string;
  }[];
  it.each(cctvTree.map((v, i) => [i, v] as const))(
    'matches CCTV merkle_tree.json entry %i: leaf hash and root of the first i+1 leaves',
    (i, v) => {
      expect(toBase64(leafHash(utf8(v.leaf_data)))).toBe(v.leaf_hash);
      const leaves = cctvTree.slice(0, i + 1).map((x) => b64(x.leaf_hash));
      expect(toBase64(rootFromLeafHashes(leaves))).toBe(v.root_hash);
      expect(toBase64(new MerkleTree(leaves).root())).toBe(v.root_hash);
    },
  );
});

describe('transparency-dev inclusion vectors', () => {
  it.each(tdInclusion)('%s', (path, v) => {
    const r = verifyInclusion(
      v.leafIdx,
      v.treeSize,
      b64(v.leafHash),
      (v.proof ?? []).map(b64),
      b64(v.root),
    );
    expect({ path, desc: v.desc, failed: !r.ok }).toEqual({
      path,
      desc: v.desc,
      failed: v.wantErr,
    });
  });
});

describe('transparency-dev consistency vectors', () => {
  it.each(tdConsistency)('%s', (path, v) => {
    const r = verifyConsistency(
      v.size1,
      v.size2,
      (v.proof ?? []).map(b64),
      b64(v.root1),
      b64(v.root2),
    );
    expect({ path, desc: v.desc, failed: !r.ok }).toEqual({
      path,
      desc: v.desc,
      failed: v.wantErr,
    });
  });
});

describe('CCTV inclusion and consistency vectors', () => {
  interface CctvInclusion {
    leaf_hash: string;
    leaf_index: number;
    tree_size: number;
    root_hash: string;
    inclusion_path: string[];
    comment?: string;
  }
  interface CctvConsistency {
    old_size: number;
    new_size: number;
    old_root: string;
    new_root: string;
    consistency_path: string[];
    comment?: string;
  }
  const inc = (name: string) =>
    (readJson(join(VECTORS, `cctv/${name}.json`)) as CctvInclusion[]).map(
      (v, i) => [`${name}#${i}`, v] as const,
    );
  const con = (name: string) =>
    (readJson(join(VECTORS, `cctv/${name}.json`)) as CctvConsistency[]).map(
      (v, i) => [`${name}#${i} ${v.old_size}->${v.new_size}`, v] as const,
    );
  const verifyInc = (v: CctvInclusion) =>
    verifyInclusion(
      v.leaf_index,
      v.tree_size,
      b64(v.leaf_hash),
      v.inclusion_path.map(b64),
      b64(v.root_hash),
    );
  const verifyCon = (v: CctvConsistency) =>
    verifyConsistency(
      v.old_size,
      v.new_size,
      v.consistency_path.map(b64),
      b64(v.old_root),
      b64(v.new_root),
    );

  it.each(inc('inclusion-valid'))('%s verifies', (_id, v) =>
    expect(verifyInc(v)).toEqual({ ok: true }),
  );
  it.each(inc('inclusion-invalid'))('%s fails (%j)', (_id, v) =>
    expect(verifyInc(v).ok).toBe(false),
  );

  const valid = con('consistency-valid');
  it.each(valid.filter(([, v]) => v.old_size > 0))('%s verifies', (_id, v) =>
    expect(verifyCon(v)).toEqual({ ok: true }),
  );
  it.each(valid.filter(([, v]) => v.old_size === 0))(
    '%s is rejected although CCTV lists it as valid: no consistency from size 0 (DESIGN §6)',
    (_id, v) => {
      const r = verifyCon(v);
      expect(r.ok).toBe(false);
      expect(!r.ok && r.code).toBe('INVALID_SIZE');
    },
  );
  it.each(con('consistency-invalid'))('%s fails', (_id, v) => expect(verifyCon(v).ok).toBe(false));

  it('generates exactly the CCTV valid proofs over the CCTV tree', () => {
    const tree = new MerkleTree(
      (readJson(join(VECTORS, 'cctv/merkle_tree.json')) as { leaf_hash: string }[]).map((x) =>
        b64(x.leaf_hash),
      ),
    );
    for (const [id, v] of inc('inclusion-valid')) {
      expect([id, tree.inclusionProof(v.leaf_index, v.tree_size).map(toBase64)]).toEqual([
        id,
        v.inclusion_path,
      ]);
    }
    for (const [id, v] of valid.filter(([, v]) => v.old_size > 0)) {
      expect([id, tree.consistencyProof(v.old_size, v.new_size).map(toBase64)]).toEqual([
        id,
        v.consistency_path,
      ]);
    }
  });
});

describe('proof generation over the classic 8-leaf tree', () => {
  const happyInclusion = tdInclusion.filter(
    ([, v]) =>
      v.desc === 'happy path' && v.treeSize <= 8 && toBase64(classic.root(v.treeSize)) === v.root,
  );
  const happyConsistency = tdConsistency.filter(
    ([, v]) =>
      v.desc === 'happy path' &&
      v.size2 <= 8 &&
      v.size1 > 0 &&
      toBase64(classic.root(v.size2)) === v.root2,
  );

  it('covers the happy-path vectors', () => {
    expect(happyInclusion.length).toBeGreaterThanOrEqual(4);
    expect(happyConsistency.length).toBeGreaterThanOrEqual(4);
  });

  it.each(happyInclusion)('generates the inclusion proof of %s', async (_path, v) => {
    const want = (v.proof ?? []).map((p) => p);
    expect(classic.inclusionProof(v.leafIdx, v.treeSize).map(toBase64)).toEqual(want);
    expect(
      (await inclusionProof(v.leafIdx, v.treeSize, asyncReader(classic))).map(toBase64),
    ).toEqual(want);
    expect(toBase64(CLASSIC_LEAVES[v.leafIdx]!)).toBe(v.leafHash);
  });

  it.each(happyConsistency)('generates the consistency proof of %s', async (_path, v) => {
    const want = (v.proof ?? []).map((p) => p);
    expect(classic.consistencyProof(v.size1, v.size2).map(toBase64)).toEqual(want);
    expect((await consistencyProof(v.size1, v.size2, asyncReader(classic))).map(toBase64)).toEqual(
      want,
    );
    expect(toBase64(classic.root(v.size1))).toBe(v.root1);
  });

  it('accepts the leaf hashes themselves in place of a node reader', async () => {
    const leaves = CLASSIC_LEAVES.slice(0, 8);
    expect(await inclusionProof(5, 8, leaves)).toEqual(classic.inclusionProof(5, 8));
    expect(await consistencyProof(6, 8, leaves)).toEqual(classic.consistencyProof(6, 8));
    await expect(inclusionProof(2, 9, leaves)).rejects.toMatchObject({ code: 'NODE_MISSING' });
  });

  it('computes every prefix root from complete subtrees only', async () => {
    for (let n = 0; n <= 8; n++) {
      expect(toHex(await treeRoot(n, asyncReader(classic)))).toBe(
        toHex(rootFromLeafHashes(CLASSIC_LEAVES.slice(0, n))),
      );
    }
  });
});

describe('misuse of proof generation', () => {
  it('throws a coded MerkleError for an index beyond the tree, a size-0 consistency proof and size1 > size2', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(MerkleError);
        return (e as MerkleError).code;
      }
      return 'no error';
    };
    expect(code(() => inclusionProofNodes(8, 8))).toBe('INDEX_OUT_OF_RANGE');
    expect(code(() => inclusionProofNodes(-1, 8))).toBe('INDEX_OUT_OF_RANGE');
    expect(code(() => inclusionProofNodes(0, 1.5))).toBe('INVALID_SIZE');
    expect(code(() => consistencyProofNodes(0, 0))).toBe('INVALID_SIZE');
    expect(code(() => consistencyProofNodes(0, 5))).toBe('INVALID_SIZE');
    expect(code(() => consistencyProofNodes(6, 5))).toBe('INVALID_SIZE');
    expect(code(() => classic.inclusionProof(0, 9))).toBe('INVALID_SIZE');
    expect(code(() => classic.getNode(3, 1))).toBe('NODE_MISSING');
  });

  it('rejects a node from storage that is not 32 bytes', async () => {
    const reader: NodeReader = { getNode: () => new Uint8Array(31) };
    await expect(inclusionProof(0, 2, reader)).rejects.toMatchObject({ code: 'INVALID_HASH' });
  });
});

describe('verification edge cases', () => {
  const root = classic.root();
  const proof = classic.inclusionProof(3);

  it('rejects hashes that are not 32 bytes with INVALID_HASH', () => {
    const short = proof.map((p, i) => (i === 1 ? p.slice(0, 31) : p));
    expect(verifyInclusion(3, 8, CLASSIC_LEAVES[3]!, short, root)).toMatchObject({
      ok: false,
      code: 'INVALID_HASH',
    });
    expect(verifyInclusion(3, 8, CLASSIC_LEAVES[3]!.slice(1), proof, root)).toMatchObject({
      code: 'INVALID_HASH',
    });
    expect(verifyInclusion(3, 8, CLASSIC_LEAVES[3]!, proof, root.slice(1))).toMatchObject({
      code: 'INVALID_HASH',
    });
  });

  it('reports expected and calculated roots on a mismatch', () => {
    const other = nodeHash(root, root);
    const r = verifyInclusion(3, 8, CLASSIC_LEAVES[3]!, proof, other);
    expect(r).toMatchObject({
      ok: false,
      code: 'ROOT_MISMATCH',
      expected: other,
      calculated: root,
    });
    expect(rootFromInclusionProof(3, 8, CLASSIC_LEAVES[3]!, proof)).toEqual({ ok: true, root });
  });

  it('never throws on hostile input shapes', () => {
    const junk: unknown[] = [null, undefined, 'x', {}, [null], [1, 2], NaN, -1, 2 ** 60];
    for (const a of junk)
      for (const b of junk) {
        expect(() =>
          verifyInclusion(a as number, 8, CLASSIC_LEAVES[0]!, b as Uint8Array[], root),
        ).not.toThrow();
        expect(() => verifyInclusion(0, 8, a as Uint8Array, proof, b as Uint8Array)).not.toThrow();
        expect(() =>
          verifyConsistency(a as number, 8, b as Uint8Array[], root, root),
        ).not.toThrow();
        expect(() =>
          verifyConsistency(3, 8, a as Uint8Array[], b as Uint8Array, root),
        ).not.toThrow();
      }
  });
});

describe('generated proofs for any tree size (fast-check)', () => {
  // One tree of 2000 leaves; every size 1..2000 is a prefix of it.
  const big = new MerkleTree(Array.from({ length: 2000 }, (_, i) => leafHash(utf8(`leaf ${i}`))));
  const sizeAndIndex = fc
    .integer({ min: 1, max: 2000 })
    .chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size - 1 })));
  const sizes = fc
    .integer({ min: 1, max: 2000 })
    .chain((size2) => fc.tuple(fc.integer({ min: 1, max: size2 }), fc.constant(size2)));

  it('every generated inclusion proof verifies and every mutation of it fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.nat(255), ([size, index], pick, bit) => {
        const root = big.root(size);
        const leaf = big.getNode(0, index);
        const proof = big.inclusionProof(index, size);
        expect(inclusionProofNodes(index, size).flat().every(completeIn(size))).toBe(true);
        expect(verifyInclusion(index, size, leaf, proof, root)).toEqual({ ok: true });
        if (proof.length > 0) {
          expect(
            verifyInclusion(index, size, leaf, flipBit(proof, pick % proof.length, bit), root).ok,
          ).toBe(false);
          expect(verifyInclusion(index, size, leaf, proof.slice(0, -1), root).ok).toBe(false);
          expect(verifyInclusion(index, size, leaf, proof.slice(1), root).ok).toBe(false);
        }
        expect(verifyInclusion(index, size, leaf, [...proof, root], root).ok).toBe(false);
        expect(verifyInclusion(index, size, leaf, [root, ...proof], root).ok).toBe(false);
        // Any other index within the tree (the same leaf hash cannot be elsewhere).
        if (size > 1) {
          const other = (index + 1 + (pick % (size - 1))) % size;
          expect(verifyInclusion(other, size, leaf, proof, root).ok).toBe(false);
        }
        expect(verifyInclusion(size, size, leaf, proof, root).ok).toBe(false);
        expect(verifyInclusion(index, size * 2, leaf, proof, root).ok).toBe(false);
        // A root does not commit to its size: a neighbouring size passes only if it gives the path the same shape.
        for (const wrong of [size + 1, size - 1, size + 1 + (pick % size)]) {
          if (wrong <= index) continue;
          const ok = verifyInclusion(index, wrong, leaf, proof, root).ok;
          expect([wrong, ok]).toEqual([
            wrong,
            ok && sameInclusionShape(index, size, wrong, proof.length),
          ]);
        }
        expect(verifyInclusion(index, size, flipBit([leaf], 0, bit)[0]!, proof, root).ok).toBe(
          false,
        );
        expect(verifyInclusion(index, size, leaf, proof, flipBit([root], 0, bit)[0]!).ok).toBe(
          false,
        );
      }),
      { numRuns: 100 },
    );
  });

  it('every generated consistency proof verifies and every mutation of it fails', () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(255), ([size1, size2], pick, bit) => {
        const root1 = big.root(size1);
        const root2 = big.root(size2);
        const proof = big.consistencyProof(size1, size2);
        if (size1 < size2)
          expect(consistencyProofNodes(size1, size2).flat().every(completeIn(size2))).toBe(true);
        expect(verifyConsistency(size1, size2, proof, root1, root2)).toEqual({ ok: true });
        if (size1 === size2) {
          expect(proof).toEqual([]);
          expect(verifyConsistency(size1, size2, [root1], root1, root2).ok).toBe(false);
          return;
        }
        expect(
          verifyConsistency(size1, size2, flipBit(proof, pick % proof.length, bit), root1, root2)
            .ok,
        ).toBe(false);
        expect(verifyConsistency(size1, size2, proof.slice(0, -1), root1, root2).ok).toBe(false);
        expect(verifyConsistency(size1, size2, proof.slice(1), root1, root2).ok).toBe(false);
        expect(verifyConsistency(size1, size2, [...proof, root2], root1, root2).ok).toBe(false);
        expect(verifyConsistency(size1, size2, [root1, ...proof], root1, root2).ok).toBe(false);
        expect(verifyConsistency(size1, size2, proof, flipBit([root1], 0, bit)[0]!, root2).ok).toBe(
          false,
        );
        expect(verifyConsistency(size1, size2, proof, root1, flipBit([root2], 0, bit)[0]!).ok).toBe(
          false,
        );
        expect(verifyConsistency(size2, size1, proof, root2, root1).ok).toBe(false);
        expect(verifyConsistency(size1, size2 * 2, proof, root1, root2).ok).toBe(false);
        expect(verifyConsistency(0, size2, proof, root1, root2).ok).toBe(false);
        for (const [w1, w2] of [
          [size1 - 1, size2],
          [size1 + 1, size2],
          [size1, size2 + 1],
          [size1, size2 - 1],
        ] as const) {
          if (w1 < 1 || w1 >= w2) continue;
          const ok = verifyConsistency(w1, w2, proof, root1, root2).ok;
          expect([w1, w2, ok]).toEqual([
            w1,
            w2,
            ok && sameConsistencyShape([size1, size2], [w1, w2], proof.length),
          ]);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('proof generation cost', () => {
  const n = 1_000_003;
  const bound = 2 * Math.ceil(Math.log2(n)) + 2;

  it(`reads at most 2·log2(n)+2 complete subtrees for a root or proof over ~1e6 leaves`, async () => {
    for (const index of [0, 1, 500_000, 524_287, 524_288, 999_999, n - 1]) {
      const reader = new CountingReader(n);
      const proof = await inclusionProof(index, n, reader);
      expect([index, reader.reads <= bound]).toEqual([index, true]);
      expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
    }
    for (const size1 of [1, 2, 3, 1000, 524_288, 524_289, 999_999, n - 1]) {
      const reader = new CountingReader(n);
      await consistencyProof(size1, n, reader);
      expect([size1, reader.reads <= bound]).toEqual([size1, true]);
    }
    const reader = new CountingReader(n);
    await treeRoot(n, reader);
    expect(reader.reads).toBe(n.toString(2).replace(/0/g, '').length);
  });

  it('keeps index arithmetic exact near 2^53', () => {
    const size = Number.MAX_SAFE_INTEGER; // 2^53 - 1
    const refs = inclusionProofNodes(size - 1, size).flat();
    for (const r of refs) {
      expect(Number.isSafeInteger(r.index)).toBe(true);
      expect((r.index + 1) * 2 ** r.level).toBeLessThanOrEqual(size);
    }
    expect(inclusionProofNodes(size - 1, size)).toHaveLength(52);
    expect(consistencyProofNodes(2 ** 52 + 1, size).flat().length).toBeLessThanOrEqual(2 * 53 + 2);
  });
});
