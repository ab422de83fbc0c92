// Offline bundles read from the log (DESIGN §5, §7; packages/core/src/bundle.ts):
// everything verifyBundle needs for one subject, every entry proved into ONE
// checkpoint. Reads only. Shared by the issuer (GET /v1/bundles/{subject})
// and the verifier (server-side verification), so it lives with the tables.
import { createHash } from 'node:crypto';
import {
  addSignatureLines,
  gtinOfSubject,
  inclusionProofNodes,
  toBase64,
  toHex,
  type Bundle,
  type BundleEntry,
  type Envelope,
  type LogReceipt,
  type NodeRef,
} from '@provenant/core';
import type { Queryable } from './driver.js';
import { LogStorageError } from './errors.js';
import { latestCheckpoint, listCosignatures, getNodes } from './log.js';
import { toReceipt, type LeafReceipt } from './records.js';

/** Most node references fetched per query while proving a bundle. */
const NODE_CHUNK = 20_000;

const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 node hash SHA-256(0x01 ‖ left ‖ right), node:crypto. */
function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest(),
  );
}

/** The log receipt (DESIGN §6) of a stored leaf, from its columns. */
export function receiptOf(origin: string, leaf: LeafReceipt): LogReceipt {
  return {
    origin,
    index: leaf.index,
    leafHash: toHex(leaf.leafHash),
    integratedAt: leaf.integratedAt,
    signature: toBase64(leaf.signature),
  };
}

/** One logged entry before its proof is attached. */
interface Logged {
  envelope: unknown;
  receipt: LeafReceipt;
}

/** A leaf's envelope column: JCS text (migration 000002) or, from older rows, parsed jsonb. */
function envelopeValue(v: unknown): unknown {
  return typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
}

const REGISTRY_BY_GLN = ['party', 'party-suspend', 'party-reinstate'];
const REGISTRY_BY_KID = ['key', 'key-suspend', 'key-reinstate', 'key-revoke'];

interface NoticeRow {
  actor: string;
  kid: string;
  logged: Logged;
}

/**
 * Notices logged before `size` that concern the given parties (registration,
 * suspension, reinstatement), keys (registration, suspension, revocation) or
 * GTINs (recalls). One query; uses the data->>'kid' and data->>'gtin' indexes.
 */
async function findRelevantNotices(
  q: Queryable,
  size: number,
  glns: readonly string[],
  kids: readonly string[],
  gtins: readonly string[],
): Promise<NoticeRow[]> {
  const { rows } = await q.query(
    `SELECT n.actor, n.kid, l.envelope, n.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
     FROM notices n JOIN log_leaves l ON l.idx = n.leaf_idx
     WHERE n.leaf_idx < $1::bigint AND (
       (n.type = ANY($2::text[]) AND (n.data ->> 'gln') = ANY($3::text[]))
       OR (n.type = ANY($4::text[]) AND (n.data ->> 'kid') = ANY($5::text[]))
       OR (n.type = 'recall' AND (n.data ->> 'gtin') = ANY($6::text[])))
     ORDER BY n.leaf_idx`,
    [size, REGISTRY_BY_GLN, [...glns], REGISTRY_BY_KID, [...kids], [...gtins]],
  );
  return rows.map((r) => ({
    actor: r.actor as string,
    kid: r.kid as string,
    logged: { envelope: envelopeValue(r.envelope), receipt: toReceipt(r) },
  }));
}

/** Right fold h(c1, h(c2, … ck)) of a proof element's complete subtrees (RFC 9162 §2.1.1). */
function fold(hashes: Uint8Array[]): Uint8Array {
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/**
 * RFC 9162 inclusion proofs of every index in the tree of `size` leaves. The
 * complete subtrees of all proofs are listed (core's inclusionProofNodes),
 * deduplicated, and fetched in a few unnest queries: a 10,000-unit pallet
 * costs a handful of round trips, not one per proof.
 * @throws LogStorageError when a stored subtree is missing.
 */
export async function inclusionProofs(
  q: Queryable,
  indices: readonly number[],
  size: number,
): Promise<Map<number, string[]>> {
  // Nodes keyed per level by index (numeric keys: a pallet's proofs list ~10^5 of them).
  const levels: Map<number, Uint8Array | null>[] = [];
  const plans = new Map<number, NodeRef[][]>();
  for (const i of indices) {
    if (plans.has(i)) continue;
    const plan = inclusionProofNodes(i, size);
    plans.set(i, plan);
    for (const element of plan)
      for (const r of element) (levels[r.level] ??= new Map()).set(r.index, null);
  }
  const refs: NodeRef[] = [];
  levels.forEach((m, level) => {
    for (const index of m.keys()) refs.push({ level, index });
  });
  for (let at = 0; at < refs.length; at += NODE_CHUNK) {
    const chunk = refs.slice(at, at + NODE_CHUNK);
    const got = await getNodes(
      q,
      chunk.map((r) => ({ level: r.level, idx: r.index })),
    );
    chunk.forEach((r, j) => {
      const h = got[j];
      if (!h || h.length !== 32)
        throw new LogStorageError(`subtree (${r.level}, ${r.index}) is missing`);
      levels[r.level]!.set(r.index, h);
    });
  }
  const node = (r: NodeRef) => levels[r.level]!.get(r.index)!;
  // Hex of single-node elements (nearly all of them), computed once per node.
  const hexes: Map<number, string>[] = [];
  // Multi-node elements (the tree's ragged right edge) repeat across proofs: fold each once.
  const folded = new Map<string, string>();
  const out = new Map<number, string[]>();
  for (const [i, plan] of plans) {
    out.set(
      i,
      plan.map((element) => {
        if (element.length > 1) {
          const key = element.map((r) => `${r.level}:${r.index}`).join(',');
          let hex = folded.get(key);
          if (hex === undefined) folded.set(key, (hex = toHex(fold(element.map(node)))));
          return hex;
        }
        const r = element[0]!;
        const m = (hexes[r.level] ??= new Map());
        let hex = m.get(r.index);
        if (hex === undefined) {
          hex = toHex(node(r));
          m.set(r.index, hex);
        }
        return hex;
      }),
    );
  }
  return out;
}

/** A record as a bundle needs it: its place, signer, parent (pack/unpack), children (a pack of them) and log entry. */
interface BundleRecord {
  subject: string;
  seq: number;
  actor: string;
  kid: string;
  parent: string | null;
  children: string[];
  logged: Logged;
}

/**
 * The records of `subjects` logged before leaf `size`, each chain in seq
 * order. Joined through unnest (one index probe per subject: `= ANY` over
 * 10,000 subjects is an order of magnitude slower) and without the payload
 * bytes and data, which a bundle does not need. The size bound is on the
 * leaf, not on records.leaf_idx: there, without fresh statistics, the planner
 * ANDed the subject index with a range scan of records_leaf_idx_key over the
 * whole log (23 ms at 10^5 leaves, growing with the log).
 */
async function bundleChains(
  q: Queryable,
  subjects: readonly string[],
  size: number,
): Promise<Map<string, BundleRecord[]>> {
  const out = new Map<string, BundleRecord[]>();
  if (subjects.length === 0) return out;
  const { rows } = await q.query(
    `SELECT r.subject, r.seq, r.actor, r.kid, r.type, r.data ->> 'parent' AS parent,
            CASE WHEN r.type = 'pack' THEN r.data -> 'children' END AS children, l.envelope,
            r.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
     FROM unnest($1::text[]) AS u(subject)
     JOIN records r ON r.subject = u.subject
     JOIN log_leaves l ON l.idx = r.leaf_idx
     WHERE l.idx < $2::bigint
     ORDER BY r.subject, r.seq`,
    [[...new Set(subjects)], size],
  );
  for (const r of rows) {
    const type = r.type as string;
    const rec: BundleRecord = {
      subject: r.subject as string,
      seq: Number(r.seq),
      actor: r.actor as string,
      kid: r.kid as string,
      parent:
        (type === 'pack' || type === 'unpack') && typeof r.parent === 'string' ? r.parent : null,
      children: childSubjects(r.children),
      logged: { envelope: envelopeValue(r.envelope), receipt: toReceipt(r) },
    };
    const list = out.get(rec.subject);
    if (list) list.push(rec);
    else out.set(rec.subject, [rec]);
  }
  return out;
}

/** Subjects of a pack's children column (jsonb, or its text from some drivers). */
function childSubjects(v: unknown): string[] {
  const list = typeof v === 'string' ? (JSON.parse(v) as unknown) : v;
  if (!Array.isArray(list)) return [];
  return list
    .map((c) => (c as { subject?: unknown } | null)?.subject)
    .filter((s): s is string => typeof s === 'string');
}

/**
 * Assembles the offline bundle of `subject` (core bundle.ts): its chain, the
 * chain of every container it was packed in (every level up), for a container
 * every child's chain at every level (DESIGN §5: containers nest) and their
 * containers' chains; the party and key notices of
 * every actor and key involved (and of the signers of those notices), their
 * suspensions, reinstatements and revocations, and the recalls of every GTIN
 * involved. The checkpoint is read first; everything logged after it is left
 * out, and every proof is for that checkpoint's size.
 * Returns null when the subject has no chain in that checkpoint.
 */
export async function buildBundle(
  q: Queryable,
  origin: string,
  subject: string,
): Promise<Bundle | null> {
  const cp = await latestCheckpoint(q);
  if (!cp || cp.size === 0) return null;
  const size = cp.size;

  const chains = await bundleChains(q, [subject], size);
  if (!chains.has(subject)) return null;
  // A container: every child listed by its pack of children, level by level.
  const childrenOf = (subjects: Iterable<string>) => {
    const out = new Set<string>();
    for (const s of subjects)
      for (const r of chains.get(s) ?? [])
        for (const c of r.children) if (!chains.has(c)) out.add(c);
    return [...out];
  };
  for (let level = childrenOf([subject]); level.length > 0;) {
    const found = await bundleChains(q, level, size);
    for (const [s, list] of found) chains.set(s, list);
    level = childrenOf(found.keys());
  }
  // Every container any chain here was ever packed in, every level up.
  // (A parent with no chain in this checkpoint, sealed after it, is asked for once.)
  const asked = new Set<string>();
  for (;;) {
    const containers = new Set<string>();
    for (const list of chains.values())
      for (const r of list)
        if (r.parent !== null && !chains.has(r.parent) && !asked.has(r.parent))
          containers.add(r.parent);
    if (containers.size === 0) break;
    for (const c of containers) asked.add(c);
    for (const [s, list] of await bundleChains(q, [...containers], size)) chains.set(s, list);
  }

  // Notices: iterate until the signers of the notices found are covered too.
  const glns = new Set<string>();
  const kids = new Set<string>();
  const gtins = new Set<string>();
  for (const [s, list] of chains) {
    const gtin = gtinOfSubject(s);
    if (gtin) gtins.add(gtin);
    for (const r of list) {
      glns.add(r.actor);
      kids.add(r.kid);
    }
  }
  const notices = new Map<number, Logged>();
  let newGlns = [...glns];
  let newKids = [...kids];
  let newGtins = [...gtins];
  for (let round = 0; round < 8 && newGlns.length + newKids.length + newGtins.length > 0; round++) {
    const found = await findRelevantNotices(q, size, newGlns, newKids, newGtins);
    newGlns = [];
    newKids = [];
    newGtins = [];
    for (const n of found) {
      notices.set(n.logged.receipt.index, n.logged);
      // A recall or a party's own key revocation is signed by a party key: prove that key too.
      if (n.actor !== 'authority') {
        if (!glns.has(n.actor)) {
          glns.add(n.actor);
          newGlns.push(n.actor);
        }
        if (!kids.has(n.kid)) {
          kids.add(n.kid);
          newKids.push(n.kid);
        }
      }
    }
  }

  const indices: number[] = [...notices.keys()];
  for (const list of chains.values()) for (const r of list) indices.push(r.logged.receipt.index);
  const proofs = await inclusionProofs(q, indices, size);
  const entry = (l: Logged): BundleEntry => ({
    envelope: l.envelope as Envelope,
    receipt: receiptOf(origin, l.receipt),
    proof: proofs.get(l.receipt.index)!,
  });

  const lines = (await listCosignatures(q, size)).map((c) => c.line);
  const checkpoint = lines.length > 0 ? addSignatureLines(cp.note, lines) : cp.note;
  const out: Record<string, BundleEntry[]> = {};
  for (const [s, list] of chains) out[s] = list.map((r) => entry(r.logged));
  return {
    v: 1,
    subject,
    checkpoint,
    chains: out,
    notices: [...notices.keys()].sort((a, b) => a - b).map((i) => entry(notices.get(i)!)),
  };
}
