// Merkle log math for the Provenant log (DESIGN §6): RFC 6962 / RFC 9162 §2.1
// hashing, proof generation over stored complete subtrees, and
// compute-then-compare verification in the style of transparency-dev/merkle.
//
// Sizes and indexes are JavaScript numbers up to Number.MAX_SAFE_INTEGER
// (2^53 - 1). All index arithmetic below uses +, -, *, / and %, never the
// 32-bit bitwise operators, so it stays exact over that whole range.
import { bytesEqual, concatBytes } from './bytes.js';
import { sha256 } from './hash.js';

/** RFC 9162 §2.1.1: leaf hashes are domain-separated by a 0x00 prefix. */
export const LEAF_PREFIX = 0x00;
/** RFC 9162 §2.1.1: interior node hashes are domain-separated by a 0x01 prefix. */
export const NODE_PREFIX = 0x01;
/** SHA-256 output length; every hash the log handles has exactly this size. */
export const HASH_SIZE = 32;

/** Why a proof or a root did not verify, or why a request was malformed. */
export type MerkleErrorCode =
  'INVALID_SIZE' | 'INDEX_OUT_OF_RANGE' | 'WRONG_PROOF_SIZE' | 'ROOT_MISMATCH' | 'INVALID_HASH';

/** Result of a proof verification: bad evidence is a value, never an exception. */
export type MerkleResult =
  | { ok: true }
  | {
      ok: false;
      code: MerkleErrorCode;
      /** Human-readable context for logs; never parse it. */
      detail: string;
      /** The root the caller expected (given), when the failure is a mismatch. */
      expected?: Uint8Array;
      /** The root computed from the proof, when the failure is a mismatch. */
      calculated?: Uint8Array;
    };

/** Thrown for API misuse (e.g. asking for a proof of an index beyond the tree) and storage faults. */
export class MerkleError extends Error {
  override readonly name = 'MerkleError';
  constructor(
    readonly code: MerkleErrorCode | 'NODE_MISSING',
    message: string,
  ) {
    super(message);
  }
}

/** Leaf hash: SHA-256(0x00 || data) (RFC 9162 §2.1.1). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(Uint8Array.of(LEAF_PREFIX), data));
}

/** Interior node hash: SHA-256(0x01 || left || right) (RFC 9162 §2.1.1). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(Uint8Array.of(NODE_PREFIX), left, right));
}

/** Root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1). */
export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/**
 * Storage hook. `getNode(level, index)` returns the hash of the complete
 * subtree of 2^level leaves covering leaves [index * 2^level, (index + 1) * 2^level);
 * level 0 is the leaf hashes themselves. Storage keeps these (e.g. C2SP
 * tlog-tiles) so a root or a proof costs O(log n) reads. Generation only ever
 * asks for subtrees that are complete in the tree size it was given.
 */
export interface NodeReader {
  getNode(level: number, index: number): Promise<Uint8Array> | Uint8Array;
}

/** A complete subtree, addressed as in {@link NodeReader}. */
export interface NodeRef {
  level: number;
  index: number;
}

/**
 * The complete subtrees to read for each element of a proof, in proof order.
 * Each element's hash is the right fold of its subtrees' hashes:
 * h(c1, h(c2, ... ck)) — the RFC 9162 hash of a (possibly incomplete) range.
 * Storage may use this to fetch all nodes of a proof in one query.
 */
export type NodePlan = NodeRef[][];

function isSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/** Largest power of two strictly less than n (n >= 2): RFC 9162 §2.1.1's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Decomposes the leaf range [start, start + count) into complete subtrees,
 * largest first. Precondition (holds for every range RFC 9162's recursion
 * visits): start is a multiple of a power of two >= count, so each piece is
 * aligned to its own size.
 */
function rangeRefs(start: number, count: number): NodeRef[] {
  const refs: NodeRef[] = [];
  let offset = start;
  let rest = count;
  while (rest > 0) {
    let size = 1;
    let level = 0;
    while (size * 2 <= rest) {
      size *= 2;
      level++;
    }
    refs.push({ level, index: offset / size });
    offset += size;
    rest -= size;
  }
  return refs;
}

/** One level of a proof: the sibling range and whether it lies to the right of the path. */
interface Step {
  siblingOnRight: boolean;
  start: number;
  count: number;
}

/** RFC 9162 §2.1.3.1 PATH(m, D[n]) as a list of sibling ranges, top-down. */
function inclusionSteps(index: number, size: number): Step[] {
  const steps: Step[] = [];
  let offset = 0;
  let m = index;
  let n = size;
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      // PATH(m, D[0:k]) : MTH(D[k:n])
      steps.push({ siblingOnRight: true, start: offset + k, count: n - k });
      n = k;
    } else {
      // PATH(m - k, D[k:n]) : MTH(D[0:k])
      steps.push({ siblingOnRight: false, start: offset, count: k });
      offset += k;
      m -= k;
      n -= k;
    }
  }
  return steps;
}

/**
 * RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], true) for 0 < m < n, top-down. `seed`
 * is the subtree where the old tree ends on a node boundary; it is part of
 * the proof unless it is the whole old tree (m a power of two, b still true).
 */
function consistencySteps(
  size1: number,
  size2: number,
): { steps: Step[]; seed: { start: number; count: number } | null } {
  const steps: Step[] = [];
  let offset = 0;
  let m = size1;
  let n = size2;
  let complete = true; // RFC 9162's b: still inside the old tree's own root
  while (m !== n) {
    const k = splitPoint(n);
    if (m <= k) {
      // SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
      steps.push({ siblingOnRight: true, start: offset + k, count: n - k });
      n = k;
    } else {
      // SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])
      steps.push({ siblingOnRight: false, start: offset, count: k });
      offset += k;
      m -= k;
      n -= k;
      complete = false;
    }
  }
  return { steps, seed: complete ? null : { start: offset, count: n } };
}

/** Node plan for the inclusion proof of leaf `index` in a tree of `size` leaves. Throws MerkleError on misuse. */
export function inclusionProofNodes(index: number, size: number): NodePlan {
  if (!isSize(size)) throw new MerkleError('INVALID_SIZE', `invalid tree size ${String(size)}`);
  if (!isSize(index) || index >= size)
    throw new MerkleError(
      'INDEX_OUT_OF_RANGE',
      `index ${String(index)} out of range for size ${size}`,
    );
  // Proof order is leaf to root, the reverse of the recursion.
  return inclusionSteps(index, size)
    .reverse()
    .map((s) => rangeRefs(s.start, s.count));
}

/** Node plan for the consistency proof from `size1` to `size2`. Throws MerkleError on misuse (including size1 = 0). */
export function consistencyProofNodes(size1: number, size2: number): NodePlan {
  if (!isSize(size1) || !isSize(size2) || size1 > size2)
    throw new MerkleError('INVALID_SIZE', `invalid sizes ${String(size1)} -> ${String(size2)}`);
  // DESIGN §6: a consistency proof from the empty tree is an error, not an empty proof.
  if (size1 === 0) throw new MerkleError('INVALID_SIZE', 'no consistency proof from size 0');
  if (size1 === size2) return [];
  const { steps, seed } = consistencySteps(size1, size2);
  const plan = steps.reverse().map((s) => rangeRefs(s.start, s.count));
  if (seed) plan.unshift(rangeRefs(seed.start, seed.count));
  return plan;
}

/** Node plan for the root of a tree of `size` leaves: one element, one subtree per set bit of size. */
export function rootNodes(size: number): NodePlan {
  if (!isSize(size)) throw new MerkleError('INVALID_SIZE', `invalid tree size ${String(size)}`);
  return [rangeRefs(0, size)];
}

function checkNode(h: unknown, ref: NodeRef): Uint8Array {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE)
    throw new MerkleError(
      'INVALID_HASH',
      `node (${ref.level}, ${ref.index}) is not a ${HASH_SIZE}-byte hash`,
    );
  return h;
}

/** Right fold h(c1, h(c2, ... ck)): the hash of a range from its complete subtrees. */
function foldRange(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return emptyRoot();
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/** Reads every node of `plan` (concurrently) and folds each element. */
async function readPlan(plan: NodePlan, reader: NodeReader): Promise<Uint8Array[]> {
  const flat = plan.flat();
  const hashes = await Promise.all(flat.map((r) => reader.getNode(r.level, r.index)));
  let i = 0;
  return plan.map((refs) => foldRange(refs.map((r) => checkNode(hashes[i++], r))));
}

function readPlanSync(
  plan: NodePlan,
  reader: { getNode(level: number, index: number): Uint8Array },
): Uint8Array[] {
  return plan.map((refs) =>
    foldRange(refs.map((r) => checkNode(reader.getNode(r.level, r.index), r))),
  );
}

// Storage passes a NodeReader; small callers may pass the leaf hashes themselves.
function asReader(reader: NodeReader | readonly Uint8Array[]): NodeReader {
  return Array.isArray(reader)
    ? new MerkleTree(reader as readonly Uint8Array[])
    : (reader as NodeReader);
}

/**
 * RFC 9162 §2.1.3.1 inclusion proof for leaf `index` in the tree of `size`
 * leaves, ordered leaf to root. Reads O(log n) complete subtrees from
 * `reader` (or builds them from an array of leaf hashes, O(n)).
 * @throws MerkleError INVALID_SIZE / INDEX_OUT_OF_RANGE on misuse, INVALID_HASH if storage returns a malformed node.
 */
export async function inclusionProof(
  index: number,
  size: number,
  reader: NodeReader | readonly Uint8Array[],
): Promise<Uint8Array[]> {
  return readPlan(inclusionProofNodes(index, size), asReader(reader));
}

/**
 * RFC 9162 §2.1.4.1 consistency proof from `size1` to `size2`. Reads O(log n)
 * complete subtrees from `reader` (or builds them from an array of leaf
 * hashes, O(n)). size1 must be in 1..size2 (DESIGN §6: never from 0).
 * @throws MerkleError INVALID_SIZE on misuse, INVALID_HASH if storage returns a malformed node.
 */
export async function consistencyProof(
  size1: number,
  size2: number,
  reader: NodeReader | readonly Uint8Array[],
): Promise<Uint8Array[]> {
  return readPlan(consistencyProofNodes(size1, size2), asReader(reader));
}

/** Root of the tree of `size` leaves from its complete subtrees (one per set bit of size); SHA-256("") for 0. */
export async function treeRoot(size: number, reader: NodeReader): Promise<Uint8Array> {
  return (await readPlan(rootNodes(size), reader))[0]!;
}

/** Root of the tree whose leaves have the given hashes (O(n); for small trees and tests). */
export function rootFromLeafHashes(leafHashes: readonly Uint8Array[]): Uint8Array {
  return new MerkleTree(leafHashes).root();
}

/**
 * In-memory tree over leaf hashes that keeps every complete subtree hash,
 * so it serves as a synchronous {@link NodeReader} for tests, the verifier
 * and storage-less callers. Appending is amortised O(1) hashes.
 */
export class MerkleTree implements NodeReader {
  /** levels[l][i] = hash of complete subtree (l, i). */
  private readonly levels: Uint8Array[][] = [[]];

  constructor(leafHashes: Iterable<Uint8Array> = []) {
    for (const h of leafHashes) this.append(h);
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash (32 bytes), completing any subtrees it closes. */
  append(leafHashValue: Uint8Array): void {
    checkNode(leafHashValue, { level: 0, index: this.size });
    this.levels[0]!.push(leafHashValue);
    let level = 0;
    let index = this.size - 1;
    // A right child (odd index) completes its parent.
    while (index % 2 === 1) {
      const row = this.levels[level]!;
      const parent = nodeHash(row[index - 1]!, row[index]!);
      if (this.levels.length === level + 1) this.levels.push([]);
      this.levels[level + 1]!.push(parent);
      level++;
      index = (index - 1) / 2;
    }
  }

  /** Hash of the complete subtree (level, index). @throws MerkleError NODE_MISSING if not complete yet. */
  getNode(level: number, index: number): Uint8Array {
    const h = this.levels[level]?.[index];
    if (!h) throw new MerkleError('NODE_MISSING', `no complete subtree at (${level}, ${index})`);
    return h;
  }

  /** Root at `size` (default: the whole tree). */
  root(size: number = this.size): Uint8Array {
    this.checkSize(size);
    return readPlanSync(rootNodes(size), this)[0]!;
  }

  /** Inclusion proof of leaf `index` in the tree at `size` (default: whole tree). */
  inclusionProof(index: number, size: number = this.size): Uint8Array[] {
    this.checkSize(size);
    return readPlanSync(inclusionProofNodes(index, size), this);
  }

  /** Consistency proof from `size1` to `size2` (default: whole tree). */
  consistencyProof(size1: number, size2: number = this.size): Uint8Array[] {
    this.checkSize(size2);
    return readPlanSync(consistencyProofNodes(size1, size2), this);
  }

  private checkSize(size: number): void {
    if (!isSize(size) || size > this.size)
      throw new MerkleError('INVALID_SIZE', `size ${String(size)} beyond tree of ${this.size}`);
  }
}

function fail(
  code: MerkleErrorCode,
  detail: string,
  extra: { expected?: Uint8Array; calculated?: Uint8Array } = {},
): {
  ok: false;
  code: MerkleErrorCode;
  detail: string;
  expected?: Uint8Array;
  calculated?: Uint8Array;
} {
  return { ok: false, code, detail, ...extra };
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** First proof element that is not a 32-byte hash, or -1. Proofs are attacker-controlled. */
function badProofElement(proof: unknown): number {
  if (!Array.isArray(proof)) return 0;
  return proof.findIndex((p) => !isHash(p));
}

/**
 * Computes the root implied by an inclusion proof (RFC 9162 §2.1.3.2),
 * without comparing it to anything. Inputs are treated as untrusted.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
): { ok: true; root: Uint8Array } | { ok: false; code: MerkleErrorCode; detail: string } {
  if (!isSize(size)) return fail('INVALID_SIZE', `invalid tree size ${String(size)}`);
  if (!isSize(index) || index >= size)
    return fail('INDEX_OUT_OF_RANGE', `index ${String(index)} out of range for size ${size}`);
  if (!isHash(leafHashValue)) return fail('INVALID_HASH', 'leaf hash is not 32 bytes');
  if (!Array.isArray(proof)) return fail('WRONG_PROOF_SIZE', 'proof is not an array');
  const steps = inclusionSteps(index, size);
  if (proof.length !== steps.length)
    return fail('WRONG_PROOF_SIZE', `proof has ${proof.length} hashes, want ${steps.length}`);
  const bad = badProofElement(proof);
  if (bad >= 0) return fail('INVALID_HASH', `proof[${bad}] is not 32 bytes`);
  let h = leafHashValue;
  // Proof is leaf to root; steps are root to leaf.
  for (let i = 0; i < proof.length; i++) {
    const step = steps[steps.length - 1 - i]!;
    h = step.siblingOnRight ? nodeHash(h, proof[i]!) : nodeHash(proof[i]!, h);
  }
  return { ok: true, root: h };
}

/**
 * Verifies that `leafHash` is leaf `index` of the tree of `size` leaves with
 * root `root` (RFC 9162 §2.1.3.2): compute the root from the proof, then
 * compare. Never throws; a failure reports expected vs calculated.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): MerkleResult {
  const r = rootFromInclusionProof(index, size, leafHashValue, proof);
  if (!r.ok) return r;
  if (!isHash(root)) return fail('INVALID_HASH', 'root is not 32 bytes');
  if (!bytesEqual(r.root, root))
    return fail('ROOT_MISMATCH', 'calculated root differs from the expected root', {
      expected: root,
      calculated: r.root,
    });
  return { ok: true };
}

/**
 * Computes the two roots implied by a consistency proof from `size1` to
 * `size2` (RFC 9162 §2.1.4.2), without comparing them to anything; requires
 * 0 < size1 < size2. When the old tree is a complete subtree of the new one
 * its root is not in the proof, so `root1` is the starting node and comes
 * back unchanged as the calculated root1. Inputs are treated as untrusted.
 */
export function rootsFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
):
  | { ok: true; root1: Uint8Array; root2: Uint8Array }
  | { ok: false; code: MerkleErrorCode; detail: string } {
  if (!isSize(size1) || !isSize(size2) || size1 === 0 || size1 >= size2)
    return fail('INVALID_SIZE', `need 0 < size1 < size2, got ${String(size1)} -> ${String(size2)}`);
  if (!Array.isArray(proof)) return fail('WRONG_PROOF_SIZE', 'proof is not an array');
  const { steps, seed } = consistencySteps(size1, size2);
  const want = steps.length + (seed ? 1 : 0);
  if (proof.length !== want)
    return fail('WRONG_PROOF_SIZE', `proof has ${proof.length} hashes, want ${want}`);
  const bad = badProofElement(proof);
  if (bad >= 0) return fail('INVALID_HASH', `proof[${bad}] is not 32 bytes`);
  if (!seed && !isHash(root1)) return fail('INVALID_HASH', 'root1 is not 32 bytes');

  // RFC 9162 §2.1.4.2 step 2: a power-of-two old tree starts from its own root.
  let h1 = seed ? proof[0]! : root1;
  let h2 = h1;
  const rest = seed ? proof.slice(1) : proof;
  for (let i = 0; i < rest.length; i++) {
    const step = steps[steps.length - 1 - i]!;
    if (step.siblingOnRight) {
      // The sibling holds only new leaves: the old root is unaffected.
      h2 = nodeHash(h2, rest[i]!);
    } else {
      h1 = nodeHash(rest[i]!, h1);
      h2 = nodeHash(rest[i]!, h2);
    }
  }
  return { ok: true, root1: h1, root2: h2 };
}

/**
 * Verifies that the tree of `size1` leaves with root `root1` is a prefix of
 * the tree of `size2` leaves with root `root2` (RFC 9162 §2.1.4.2; argument
 * order as transparency-dev/merkle VerifyConsistency). Never throws.
 *
 * - size1 = 0 is always an error, even 0 -> 0 (DESIGN §6: a proof from the
 *   empty tree proves nothing; CCTV's size-0 "valid" cases are rejected).
 * - size1 = size2 requires an empty proof and root1 = root2 byte for byte
 *   (as transparency-dev: no hashing happens, so the roots are only compared).
 * - size1 > size2 is an error.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): MerkleResult {
  if (!isSize(size1) || !isSize(size2))
    return fail('INVALID_SIZE', 'sizes must be non-negative safe integers');
  if (size1 > size2) return fail('INVALID_SIZE', `size1 ${size1} > size2 ${size2}`);
  if (size1 === 0) return fail('INVALID_SIZE', 'consistency from the empty tree is not defined');
  if (!Array.isArray(proof)) return fail('WRONG_PROOF_SIZE', 'proof is not an array');
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array))
    return fail('INVALID_HASH', 'roots must be byte arrays');
  if (size1 === size2) {
    if (proof.length !== 0)
      return fail('WRONG_PROOF_SIZE', `proof has ${proof.length} hashes, want 0`);
    if (!bytesEqual(root1, root2))
      return fail('ROOT_MISMATCH', 'equal sizes but different roots', {
        expected: root2,
        calculated: root1,
      });
    return { ok: true };
  }
  if (!isHash(root1)) return fail('INVALID_HASH', 'root1 is not 32 bytes');
  if (!isHash(root2)) return fail('INVALID_HASH', 'root2 is not 32 bytes');
  const r = rootsFromConsistencyProof(size1, size2, proof, root1);
  if (!r.ok) return r;
  const { root1: h1, root2: h2 } = r;
  if (!bytesEqual(h1, root1))
    return fail('ROOT_MISMATCH', 'calculated root1 differs from the expected root1', {
      expected: root1,
      calculated: h1,
    });
  if (!bytesEqual(h2, root2))
    return fail('ROOT_MISMATCH', 'calculated root2 differs from the expected root2', {
      expected: root2,
      calculated: h2,
    });
  return { ok: true };
}
