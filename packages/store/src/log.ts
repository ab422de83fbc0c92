// The Merkle log's tables (DESIGN §6): leaves with receipts, complete-subtree
// hashes, the sequencer's size counter, checkpoints and witness cosignatures.
import { canonicalize } from '@provenant/core';
import type { Queryable } from './driver.js';
import { StoreMisuseError } from './errors.js';
import type { NewNotice } from './notices.js';
import {
  envelopeOf,
  toHead,
  type ChainHead,
  type NewChainHead,
  type NewRecord,
} from './records.js';
import { assertSafeIndex, bytes, hexes, iso, isoOrNull, num, tsParam } from './sql.js';

export type EntryKind = 'record' | 'notice';

export interface NewLeaf {
  idx: number;
  /** SHA-256(0x00 ‖ JCS(envelope)). */
  leafHash: Uint8Array;
  entryKind: EntryKind;
  /** Id of the record or notice. */
  entryId: string;
  /** The DSSE envelope; stored as its JCS text, the bytes the leaf hash covers. */
  envelope: unknown;
  integratedAt: string | Date;
  /** Ed25519 by the log key over the JCS receipt body. */
  receiptSignature: Uint8Array;
}

export interface StoredLeaf extends Omit<NewLeaf, 'integratedAt'> {
  integratedAt: string;
}

const LEAF_COLUMNS =
  'idx, leaf_hash, entry_kind, entry_id, envelope, integrated_at, receipt_signature';

function toLeaf(r: Record<string, unknown>): StoredLeaf {
  return {
    idx: num(r.idx),
    leafHash: bytes(r.leaf_hash),
    entryKind: r.entry_kind as EntryKind,
    entryId: r.entry_id as string,
    envelope: envelopeOf(r.envelope),
    integratedAt: iso(r.integrated_at),
    receiptSignature: bytes(r.receipt_signature),
  };
}

/**
 * Appends leaves in one statement. The caller holds the log_state lock
 * (`lockLogSize`) and moves the size with `setLogSize` in the same transaction.
 * @throws UniqueViolationError `log_leaves_pkey` (index taken) or
 *   `log_leaves_entry_id_key` (entry already in the log).
 */
export async function appendLeaves(q: Queryable, leaves: readonly NewLeaf[]): Promise<number> {
  if (leaves.length === 0) return 0;
  for (const l of leaves) assertSafeIndex(l.idx, 'leaf index');
  const { rowCount } = await q.query(
    `INSERT INTO log_leaves (idx, leaf_hash, entry_kind, entry_id, envelope, integrated_at, receipt_signature)
     SELECT u.idx, decode(u.leaf_hash, 'hex'), u.entry_kind, u.entry_id, u.envelope, u.integrated_at,
            decode(u.receipt_signature, 'hex')
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::text[])
       AS u(idx, leaf_hash, entry_kind, entry_id, envelope, integrated_at, receipt_signature)`,
    [
      leaves.map((l) => l.idx),
      hexes(leaves.map((l) => l.leafHash)),
      leaves.map((l) => l.entryKind),
      leaves.map((l) => l.entryId),
      leaves.map((l) => canonicalize(l.envelope)),
      leaves.map((l) => tsParam(l.integratedAt)),
      hexes(leaves.map((l) => l.receiptSignature)),
    ],
  );
  return rowCount;
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function base64Of(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function checkNodes(nodes: readonly MerkleNode[]): void {
  for (const n of nodes) {
    if (!Number.isInteger(n.level) || n.level < 0 || n.level > 63)
      throw new StoreMisuseError('bad node level');
    assertSafeIndex(n.idx, 'node index');
  }
}

/** What one sequencer batch writes besides its leaves (see {@link insertEntryBatch}). */
export interface EntryBatch {
  records: readonly NewRecord[];
  notices: readonly NewNotice[];
  /** Distinct subjects; a head never moves backwards (as upsertChainHeads). */
  heads: readonly NewChainHead[];
  /** New complete subtrees (as putNodes). */
  nodes: readonly MerkleNode[];
}

// Batches travel as unnest arrays (one SQL path for both drivers: PGlite has
// no COPY). Columns holding JSON text (envelopes, data, states) travel as one
// newline-joined string split by string_to_array: serialised JSON never holds
// a raw newline, and this spares the driver escaping every quote of every
// element into an array literal. (json_to_recordset costs ~0.2 ms per row.)
const INSERT_ENTRY_BATCH = `WITH
  r AS (
    INSERT INTO records (id, subject, seq, prev, type, actor, kid, time, data, payload, leaf_idx)
    SELECT u.i, u.s, u.q, u.p, u.t, u.a, u.k, u.w, u.d::jsonb, decode(u.b, 'base64'), u.l
    FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[],
                $8::timestamptz[], string_to_array($9::text, E'\n'), $10::text[], $11::bigint[])
      AS u(i, s, q, p, t, a, k, w, d, b, l)),
  n AS (
    INSERT INTO notices (id, type, actor, kid, time, data, payload, envelope, leaf_idx)
    SELECT u.i, u.t, u.a, u.k, u.w, u.d::jsonb, decode(u.b, 'base64'), u.v::jsonb, u.l
    FROM unnest($12::text[], $13::text[], $14::text[], $15::text[], $16::timestamptz[],
                string_to_array($17::text, E'\n'), $18::text[], string_to_array($19::text, E'\n'),
                $20::bigint[])
      AS u(i, t, a, k, w, d, b, v, l)),
  m AS (
    INSERT INTO merkle_nodes (level, idx, hash)
    SELECT u.v, u.i, decode(u.h, 'hex')
    FROM unnest($21::smallint[], $22::bigint[], $23::text[]) AS u(v, i, h)),
  h AS (
    INSERT INTO chain_heads (subject, seq, head, state, updated_at)
    SELECT u.s, u.q, u.h, u.st::jsonb, now()
    FROM unnest($24::text[], $25::integer[], $26::text[], string_to_array($27::text, E'\n'))
      AS u(s, q, h, st)
    ON CONFLICT (subject) DO UPDATE
      SET seq = excluded.seq, head = excluded.head, state = excluded.state, updated_at = excluded.updated_at
      WHERE chain_heads.seq <= excluded.seq)
SELECT 1 AS done`;

/** JSON texts joined by newlines (JSON.stringify never writes a raw newline). */
function jsonLines(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v ?? null)).join('\n');
}

/**
 * Inserts a batch's records, notices, complete-subtree hashes and chain heads
 * in ONE statement (one round trip). Their leaves go in the same transaction
 * (appendLeafBatch; the record and notice leaf FKs are checked at COMMIT).
 * Records are stored as {@link insertRecords} stores them.
 * @throws UniqueViolationError as insertRecords, insertNotices and putNodes.
 */
function entryBatchParams(b: EntryBatch): unknown[] {
  const { records: rs, notices: ns, heads: hs, nodes } = b;
  checkNodes(nodes);
  for (const r of rs) assertSafeIndex(r.leafIdx, 'leaf index');
  for (const n of ns) assertSafeIndex(n.leafIdx, 'leaf index');
  return [
    rs.map((r) => r.id),
    rs.map((r) => r.subject),
    rs.map((r) => r.seq),
    rs.map((r) => r.prev),
    rs.map((r) => r.type),
    rs.map((r) => r.actor),
    rs.map((r) => r.kid),
    rs.map((r) => tsParam(r.time)),
    jsonLines(rs.map((r) => r.data)),
    rs.map((r) => base64Of(r.payload)),
    rs.map((r) => r.leafIdx),
    ns.map((n) => n.id),
    ns.map((n) => n.type),
    ns.map((n) => n.actor),
    ns.map((n) => n.kid),
    ns.map((n) => tsParam(n.time)),
    jsonLines(ns.map((n) => n.data)),
    ns.map((n) => base64Of(n.payload)),
    jsonLines(ns.map((n) => n.envelope)),
    ns.map((n) => n.leafIdx),
    nodes.map((n) => n.level),
    nodes.map((n) => n.idx),
    nodes.map((n) => hexOf(n.hash)),
    hs.map((h) => h.subject),
    hs.map((h) => h.seq),
    hs.map((h) => h.head),
    jsonLines(hs.map((h) => h.state)),
  ];
}

/**
 * Inserts a batch's records, notices, complete-subtree hashes and chain heads
 * in ONE statement (one round trip). Their leaves go in the same transaction
 * (appendLeafBatch; the record and notice leaf FKs are checked at COMMIT).
 * Records are stored as {@link insertRecords} stores them.
 * @throws UniqueViolationError as insertRecords, insertNotices and putNodes.
 */
export async function insertEntryBatch(q: Queryable, b: EntryBatch): Promise<void> {
  if (b.records.length + b.notices.length + b.heads.length + b.nodes.length === 0) return;
  await q.query(INSERT_ENTRY_BATCH, entryBatchParams(b));
}

/** A leaf whose envelope is already serialised: `envelopeJcs` is JCS(envelope), the leaf hash preimage. */
export interface NewLeafText extends Omit<NewLeaf, 'envelope'> {
  envelopeJcs: string;
}

/** The sequencer's closing write: leaves, the new log size and its checkpoint. */
export interface LeafBatch {
  leaves: readonly NewLeafText[];
  /** The log size before the batch (compare-and-set, as setLogSize). */
  expected: number;
  /** The log size after it. */
  size: number;
  checkpoint: NewCheckpoint;
}

// The leaf CTEs with their parameters numbered from $1 + `at` (shared by APPEND_LEAF_BATCH and APPEND_BATCH).
const leafCtes = (at: number): string => {
  const p = (n: number) => `$${n + at}`;
  return `l AS (
    INSERT INTO log_leaves (idx, leaf_hash, entry_kind, entry_id, envelope, integrated_at, receipt_signature)
    SELECT u.i, decode(u.h, 'hex'), u.k, u.e, u.v, u.w, decode(u.s, 'base64')
    FROM unnest(${p(1)}::bigint[], ${p(2)}::text[], ${p(3)}::text[], ${p(4)}::text[], string_to_array(${p(5)}::text, E'\\n'),
                ${p(6)}::timestamptz[], ${p(7)}::text[])
      AS u(i, h, k, e, v, w, s)),
  st AS (UPDATE log_state SET size = ${p(8)}::bigint WHERE id AND size = ${p(9)}::bigint RETURNING size),
  c AS (INSERT INTO checkpoints (size, root_hash, note) VALUES (${p(8)}::bigint, ${p(10)}::bytea, ${p(11)}::text))`;
};

const APPEND_LEAF_BATCH = `WITH
  ${leafCtes(0)}
SELECT count(*)::integer AS moved FROM st`;

// Entries and leaves in one statement: INSERT_ENTRY_BATCH's CTEs ($1..$27), then the leaf CTEs ($28..$38).
const APPEND_BATCH = `${INSERT_ENTRY_BATCH.slice(0, INSERT_ENTRY_BATCH.lastIndexOf('SELECT 1 AS done'))},
  ${leafCtes(27)}
SELECT count(*)::integer AS moved FROM st`;

function leafBatchParams(b: LeafBatch): unknown[] {
  for (const l of b.leaves) assertSafeIndex(l.idx, 'leaf index');
  assertSafeIndex(b.size, 'size');
  assertSafeIndex(b.expected, 'size');
  const ls = b.leaves;
  for (const l of ls)
    // JCS text is JSON: a raw newline in it would split the column (see INSERT_ENTRY_BATCH).
    if (l.envelopeJcs.includes('\n')) throw new StoreMisuseError('envelopeJcs is not JCS text');
  return [
    ls.map((l) => l.idx),
    ls.map((l) => hexOf(l.leafHash)),
    ls.map((l) => l.entryKind),
    ls.map((l) => l.entryId),
    ls.map((l) => l.envelopeJcs).join('\n'),
    ls.map((l) => tsParam(l.integratedAt)),
    ls.map((l) => base64Of(l.receiptSignature)),
    b.size,
    b.expected,
    b.checkpoint.rootHash,
    b.checkpoint.note,
  ];
}

/**
 * Appends leaves, moves the log size from `expected` to `size` and stores the
 * checkpoint of the new size, in ONE statement. The caller holds the
 * log_state lock (`lockLogSize`).
 * @returns false when the stored size was not `expected` (the caller must roll back).
 * @throws UniqueViolationError `log_leaves_pkey`, `log_leaves_entry_id_key` or `checkpoints_pkey`.
 */
export async function appendLeafBatch(q: Queryable, b: LeafBatch): Promise<boolean> {
  const { rows } = await q.query(APPEND_LEAF_BATCH, leafBatchParams(b));
  return num(rows[0]!.moved) === 1;
}

const APPEND_LEAF_TEXTS = `INSERT INTO log_leaves (idx, leaf_hash, entry_kind, entry_id, envelope, integrated_at, receipt_signature)
  SELECT u.i, decode(u.h, 'hex'), u.k, u.e, u.v, u.w, decode(u.s, 'base64')
  FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], string_to_array($5::text, E'\\n'),
              $6::timestamptz[], $7::text[])
    AS u(i, h, k, e, v, w, s)`;

/**
 * Appends leaves whose envelopes are already JCS text, in one statement, and
 * nothing else: a large batch's leading chunks, ahead of its closing
 * {@link appendLeafBatch}. The caller holds the log_state lock.
 * @throws UniqueViolationError `log_leaves_pkey` or `log_leaves_entry_id_key`.
 */
export async function appendLeafTexts(
  q: Queryable,
  leaves: readonly NewLeafText[],
): Promise<number> {
  if (leaves.length === 0) return 0;
  const params = leafBatchParams({
    leaves,
    expected: 0,
    size: 0,
    checkpoint: { size: 0, rootHash: new Uint8Array(32), note: '' },
  }).slice(0, 7);
  const { rowCount } = await q.query(APPEND_LEAF_TEXTS, params);
  return rowCount;
}

/**
 * {@link insertEntryBatch} and {@link appendLeafBatch} as ONE statement (one
 * round trip for a whole sequencer batch's writes; the leaf FKs are checked at COMMIT).
 * @returns false when the stored size was not `b.expected` (the caller must roll back).
 * @throws UniqueViolationError as the two.
 */
export async function appendBatch(
  q: Queryable,
  entries: EntryBatch,
  leaves: LeafBatch,
): Promise<boolean> {
  const { rows } = await q.query(APPEND_BATCH, [
    ...entryBatchParams(entries),
    ...leafBatchParams(leaves),
  ]);
  return num(rows[0]!.moved) === 1;
}

/** A party as the sequencer's custody and key checks need it. */
export interface SequencingParty {
  gln: string;
  roles: string[];
  prefixes: string[];
  status: 'active' | 'suspended';
}

/** A key as the sequencer's checks need it (gln null: the registry authority). */
export interface SequencingKey {
  kid: string;
  gln: string | null;
  status: 'active' | 'revoked';
  revokedAt: string | null;
  compromisedAt: string | null;
}

/** Everything one sequencer batch reads under the log lock (see {@link readSequencingContext}). */
export interface SequencingContext {
  /** Leaves of the entries already in the log, by entry id. */
  leaves: Map<string, StoredLeaf>;
  heads: Map<string, ChainHead>;
  parties: Map<string, SequencingParty>;
  keys: Map<string, SequencingKey>;
}

const READ_SEQUENCING_CONTEXT = `SELECT
  (SELECT coalesce(json_agg(json_build_object('idx', idx, 'leaf_hash', encode(leaf_hash, 'hex'),
      'entry_kind', entry_kind, 'entry_id', entry_id, 'envelope', envelope,
      'integrated_at', integrated_at, 'receipt_signature', encode(receipt_signature, 'hex'))), '[]')
     FROM log_leaves WHERE entry_id = ANY($1::text[]))::text AS leaves,
  (SELECT coalesce(json_agg(json_build_object('subject', subject, 'seq', seq, 'head', head,
      'state', state, 'updated_at', updated_at)), '[]')
     FROM chain_heads WHERE subject = ANY($2::text[]))::text AS heads,
  (SELECT coalesce(json_agg(json_build_object('gln', gln, 'roles', roles, 'prefixes', prefixes,
      'status', status)), '[]')
     FROM parties WHERE gln = ANY($3::text[]))::text AS parties,
  (SELECT coalesce(json_agg(json_build_object('kid', kid, 'gln', gln, 'status', status,
      'revoked_at', revoked_at, 'compromised_at', compromised_at)), '[]')
     FROM party_keys WHERE kid = ANY($4::text[]))::text AS keys`;

type Row = Record<string, unknown>;

/**
 * The sequencer's reads in ONE round trip: the stored leaves of `entryIds`,
 * the chain heads of `subjects`, the parties `glns` and the keys `kids`.
 * Call it after `lockLogSize`, in its own statement, so its snapshot sees
 * every batch committed before the lock was granted.
 */
export async function readSequencingContext(
  q: Queryable,
  want: {
    entryIds: readonly string[];
    subjects: readonly string[];
    glns: readonly string[];
    kids: readonly string[];
  },
): Promise<SequencingContext> {
  const { rows } = await q.query(READ_SEQUENCING_CONTEXT, [
    [...want.entryIds],
    [...want.subjects],
    [...want.glns],
    [...want.kids],
  ]);
  const r = rows[0]!;
  const list = (v: unknown): Row[] => JSON.parse(v as string) as Row[];
  return {
    leaves: new Map(
      list(r.leaves).map((l) => [
        l.entry_id as string,
        toLeaf({
          ...l,
          leaf_hash: new Uint8Array(Buffer.from(l.leaf_hash as string, 'hex')),
          receipt_signature: new Uint8Array(Buffer.from(l.receipt_signature as string, 'hex')),
        }),
      ]),
    ),
    heads: new Map(list(r.heads).map((h) => [h.subject as string, toHead(h)])),
    parties: new Map(
      list(r.parties).map((p) => [
        p.gln as string,
        {
          gln: p.gln as string,
          roles: p.roles as string[],
          prefixes: p.prefixes as string[],
          status: p.status as SequencingParty['status'],
        },
      ]),
    ),
    keys: new Map(
      list(r.keys).map((k) => [
        k.kid as string,
        {
          kid: k.kid as string,
          gln: (k.gln as string | null) ?? null,
          status: k.status as SequencingKey['status'],
          revokedAt: isoOrNull(k.revoked_at),
          compromisedAt: isoOrNull(k.compromised_at),
        },
      ]),
    ),
  };
}

/** Leaves with start <= idx < end, in order (at most end - start). */
export async function getLeaves(q: Queryable, start: number, end: number): Promise<StoredLeaf[]> {
  assertSafeIndex(start, 'start');
  assertSafeIndex(end, 'end');
  const { rows } = await q.query(
    `SELECT ${LEAF_COLUMNS} FROM log_leaves WHERE idx >= $1::bigint AND idx < $2::bigint ORDER BY idx`,
    [start, end],
  );
  return rows.map(toLeaf);
}

/** Leaf hashes with start <= idx < end, in order (no envelopes: what anyone may read, DESIGN §6a). */
export async function getLeafHashes(
  q: Queryable,
  start: number,
  end: number,
): Promise<Uint8Array[]> {
  assertSafeIndex(start, 'start');
  assertSafeIndex(end, 'end');
  const { rows } = await q.query(
    `SELECT leaf_hash FROM log_leaves WHERE idx >= $1::bigint AND idx < $2::bigint ORDER BY idx`,
    [start, end],
  );
  return rows.map((r) => bytes(r.leaf_hash));
}

/** The lowest index of a leaf with this hash, or null when none has it. */
export async function findLeafIndex(q: Queryable, leafHash: Uint8Array): Promise<number | null> {
  const { rows } = await q.query(
    `SELECT min(idx) AS idx FROM log_leaves WHERE leaf_hash = $1::bytea`,
    [leafHash],
  );
  return rows[0]?.idx === null || rows[0]?.idx === undefined ? null : num(rows[0].idx);
}

/** The leaf of a record or notice, or null if it is not in the log. */
export async function getLeafByEntryId(q: Queryable, entryId: string): Promise<StoredLeaf | null> {
  const { rows } = await q.query(
    `SELECT ${LEAF_COLUMNS} FROM log_leaves WHERE entry_id = $1::text`,
    [entryId],
  );
  return rows[0] ? toLeaf(rows[0]) : null;
}

/** The leaves of several entries, keyed by entry id. */
export async function getLeavesByEntryIds(
  q: Queryable,
  entryIds: readonly string[],
): Promise<Map<string, StoredLeaf>> {
  const { rows } = await q.query(
    `SELECT ${LEAF_COLUMNS} FROM log_leaves WHERE entry_id = ANY($1::text[])`,
    [[...entryIds]],
  );
  return new Map(rows.map((r) => [r.entry_id as string, toLeaf(r)]));
}

/** A complete subtree: level 0 = leaf hashes; node (l, i) covers leaves [i·2^l, (i+1)·2^l). */
export interface MerkleNode {
  level: number;
  idx: number;
  hash: Uint8Array;
}

export interface NodeRef {
  level: number;
  idx: number;
}

/** Hashes of the requested nodes, aligned with `refs` (null where not stored). One query. */
export async function getNodes(
  q: Queryable,
  refs: readonly NodeRef[],
): Promise<(Uint8Array | null)[]> {
  if (refs.length === 0) return [];
  const { rows } = await q.query(
    `SELECT u.ord, m.hash
     FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS u(level, idx, ord)
     LEFT JOIN merkle_nodes m ON m.level = u.level AND m.idx = u.idx`,
    [refs.map((r) => r.level), refs.map((r) => r.idx)],
  );
  const out: (Uint8Array | null)[] = refs.map(() => null);
  for (const r of rows) {
    if (r.hash !== null) out[num(r.ord) - 1] = bytes(r.hash);
  }
  return out;
}

/**
 * Stores complete-subtree hashes in one statement.
 * @throws UniqueViolationError `merkle_nodes_pkey` if a node is already stored (append-only).
 */
export async function putNodes(q: Queryable, nodes: readonly MerkleNode[]): Promise<number> {
  if (nodes.length === 0) return 0;
  checkNodes(nodes);
  const { rowCount } = await q.query(
    `INSERT INTO merkle_nodes (level, idx, hash)
     SELECT u.level, u.idx, decode(u.hash, 'hex')
     FROM unnest($1::smallint[], $2::bigint[], $3::text[]) AS u(level, idx, hash)`,
    [nodes.map((n) => n.level), nodes.map((n) => n.idx), hexes(nodes.map((n) => n.hash))],
  );
  return rowCount;
}

/** The tables every append grows (the planner's row counts of these go stale after bulk appends). */
export const APPEND_TABLES = ['records', 'log_leaves', 'chain_heads', 'merkle_nodes'] as const;

/**
 * Refreshes the planner statistics of APPEND_TABLES (ANALYZE). Call after bulk
 * appends: autovacuum may be off or minutes late, and without statistics
 * PostgreSQL guesses row counts and may plan a scan of the whole log.
 */
export async function analyzeAppendTables(q: Queryable): Promise<void> {
  await q.exec(`ANALYZE ${APPEND_TABLES.join(', ')}`);
}

/** The committed log size (number of leaves sequenced). */
export async function getLogSize(q: Queryable): Promise<number> {
  const { rows } = await q.query(`SELECT size FROM log_state WHERE id`);
  return num(rows[0]!.size);
}

/** The log's size and its newest checkpoint, in one snapshot (what a monitor watches between entries). */
export interface LogHead {
  size: number;
  /** the checkpoint with the largest size, or null before the first */
  checkpoint: { size: number; rootHash: Uint8Array; note: string } | null;
}

/** The committed log size and the newest checkpoint, in one statement. */
export async function getLogHead(q: Queryable): Promise<LogHead> {
  const { rows } = await q.query(
    `SELECT s.size, c.size AS cp_size, c.root_hash, c.note FROM log_state s
     LEFT JOIN LATERAL (SELECT size, root_hash, note FROM checkpoints ORDER BY size DESC LIMIT 1) c
       ON true
     WHERE s.id`,
  );
  const r = rows[0]!;
  return {
    size: num(r.size),
    checkpoint:
      r.cp_size === null
        ? null
        : { size: num(r.cp_size), rootHash: bytes(r.root_hash), note: r.note as string },
  };
}

/**
 * The log size, locking the single log_state row until the transaction ends:
 * the sequencer's one serial point (call inside `db.transaction`).
 */
export async function lockLogSize(q: Queryable): Promise<number> {
  const { rows } = await q.query(`SELECT size FROM log_state WHERE id FOR UPDATE`);
  return num(rows[0]!.size);
}

/**
 * Moves the log size from `expected` to `size` (compare-and-set); false if
 * the stored size was not `expected`, so two sequencers can never both win.
 */
export async function setLogSize(q: Queryable, size: number, expected: number): Promise<boolean> {
  assertSafeIndex(size, 'size');
  const { rowCount } = await q.query(
    `UPDATE log_state SET size = $1::bigint WHERE id AND size = $2::bigint`,
    [size, expected],
  );
  return rowCount === 1;
}

export interface Checkpoint {
  size: number;
  rootHash: Uint8Array;
  /** The signed note text (C2SP tlog-checkpoint). */
  note: string;
  createdAt: string;
}

export interface NewCheckpoint {
  size: number;
  rootHash: Uint8Array;
  note: string;
}

function toCheckpoint(r: Record<string, unknown>): Checkpoint {
  return {
    size: num(r.size),
    rootHash: bytes(r.root_hash),
    note: r.note as string,
    createdAt: iso(r.created_at),
  };
}

/**
 * Stores a signed checkpoint.
 * @throws UniqueViolationError `checkpoints_pkey` if one exists for that size.
 */
export async function insertCheckpoint(q: Queryable, c: NewCheckpoint): Promise<Checkpoint> {
  const { rows } = await q.query(
    `INSERT INTO checkpoints (size, root_hash, note) VALUES ($1::bigint, $2::bytea, $3::text)
     RETURNING size, root_hash, note, created_at`,
    [c.size, c.rootHash, c.note],
  );
  return toCheckpoint(rows[0]!);
}

/** The checkpoint with the largest size, or null before the first. */
export async function latestCheckpoint(q: Queryable): Promise<Checkpoint | null> {
  const { rows } = await q.query(
    `SELECT size, root_hash, note, created_at FROM checkpoints ORDER BY size DESC LIMIT 1`,
  );
  return rows[0] ? toCheckpoint(rows[0]) : null;
}

/** The checkpoint for exactly this tree size, or null. */
export async function getCheckpoint(q: Queryable, size: number): Promise<Checkpoint | null> {
  const { rows } = await q.query(
    `SELECT size, root_hash, note, created_at FROM checkpoints WHERE size = $1::bigint`,
    [size],
  );
  return rows[0] ? toCheckpoint(rows[0]) : null;
}

export interface Cosignature {
  checkpointSize: number;
  witnessName: string;
  keyId: Uint8Array;
  /** The tlog-cosignature line as received. */
  line: string;
  createdAt: string;
}

export interface NewCosignature {
  checkpointSize: number;
  witnessName: string;
  keyId: Uint8Array;
  line: string;
}

function toCosignature(r: Record<string, unknown>): Cosignature {
  return {
    checkpointSize: num(r.checkpoint_size),
    witnessName: r.witness_name as string,
    keyId: bytes(r.key_id),
    line: r.line as string,
    createdAt: iso(r.created_at),
  };
}

/**
 * Stores a verified cosignature; returns false if this witness key already
 * cosigned that checkpoint (the first line is kept).
 */
export async function insertCosignature(q: Queryable, c: NewCosignature): Promise<boolean> {
  const { rowCount } = await q.query(
    `INSERT INTO cosignatures (checkpoint_size, witness_name, key_id, line)
     VALUES ($1::bigint, $2::text, $3::bytea, $4::text)
     ON CONFLICT (checkpoint_size, witness_name, key_id) DO NOTHING`,
    [c.checkpointSize, c.witnessName, c.keyId, c.line],
  );
  return rowCount === 1;
}

/** Cosignatures of one checkpoint, by witness name. */
export async function listCosignatures(
  q: Queryable,
  checkpointSize: number,
): Promise<Cosignature[]> {
  const { rows } = await q.query(
    `SELECT checkpoint_size, witness_name, key_id, line, created_at FROM cosignatures
     WHERE checkpoint_size = $1::bigint ORDER BY witness_name, key_id`,
    [checkpointSize],
  );
  return rows.map(toCosignature);
}
