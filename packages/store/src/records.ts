// records and chain_heads: one hash chain per subject (DESIGN §5, §9).
import type { Queryable } from './driver.js';
import { bytes, hexes, iso, json, num, tsParam } from './sql.js';

/** A record as stored: the decoded payload fields, its JCS bytes and its DSSE envelope. */
export interface NewRecord {
  /** SHA-256 hex of `payload`. */
  id: string;
  subject: string;
  seq: number;
  prev: string | null;
  type: string;
  actor: string;
  kid: string;
  time: string | Date;
  data: unknown;
  /** The JCS bytes the envelope signs. */
  payload: Uint8Array;
  /**
   * The DSSE envelope as JSON. Stored once, in the record's log leaf
   * (appendLeaves); insertRecords does not write it. Read back from the leaf.
   */
  envelope: unknown;
  /** Index of its log leaf, appended in the same transaction. */
  leafIdx: number;
}

/** The log receipt of a stored entry (DESIGN §6); `origin` comes from configuration. */
export interface LeafReceipt {
  index: number;
  leafHash: Uint8Array;
  integratedAt: string;
  signature: Uint8Array;
}

export interface StoredRecord extends Omit<NewRecord, 'time'> {
  time: string;
  receipt: LeafReceipt;
}

// The envelope lives in the leaf only (migration 000002).
const SELECT = `SELECT r.id, r.subject, r.seq, r.prev, r.type, r.actor, r.kid, r.time, r.data, r.payload,
  l.envelope, r.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
  FROM records r JOIN log_leaves l ON l.idx = r.leaf_idx`;

/** log_leaves.envelope is JSON text (the JCS of the envelope for every leaf the sequencer wrote). */
export function envelopeOf(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** Maps a row carrying leaf_idx, leaf_hash, integrated_at, receipt_signature. */
export function toReceipt(r: Record<string, unknown>): LeafReceipt {
  return {
    index: num(r.leaf_idx),
    leafHash: bytes(r.leaf_hash),
    integratedAt: iso(r.integrated_at),
    signature: bytes(r.receipt_signature),
  };
}

function toRecord(r: Record<string, unknown>): StoredRecord {
  return {
    id: r.id as string,
    subject: r.subject as string,
    seq: num(r.seq),
    prev: (r.prev as string | null) ?? null,
    type: r.type as string,
    actor: r.actor as string,
    kid: r.kid as string,
    time: iso(r.time),
    data: r.data,
    payload: bytes(r.payload),
    envelope: envelopeOf(r.envelope),
    leafIdx: num(r.leaf_idx),
    receipt: toReceipt(r),
  };
}

/**
 * Inserts records in one statement (unnest). Their leaves, which carry the
 * envelopes, must be appended in the same transaction (the FK is checked at COMMIT).
 * @throws UniqueViolationError `records_subject_seq_key` when a seq is taken
 *   (a racing append: answer 409), `records_pkey` for a record already stored.
 */
export async function insertRecords(q: Queryable, records: readonly NewRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  const { rowCount } = await q.query(
    `INSERT INTO records (id, subject, seq, prev, type, actor, kid, time, data, payload, leaf_idx)
     SELECT u.id, u.subject, u.seq, u.prev, u.type, u.actor, u.kid, u.time, u.data::jsonb,
            decode(u.payload, 'hex'), u.leaf_idx
     FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[], $7::text[],
                 $8::timestamptz[], $9::text[], $10::text[], $11::bigint[])
       AS u(id, subject, seq, prev, type, actor, kid, time, data, payload, leaf_idx)`,
    [
      records.map((r) => r.id),
      records.map((r) => r.subject),
      records.map((r) => r.seq),
      records.map((r) => r.prev),
      records.map((r) => r.type),
      records.map((r) => r.actor),
      records.map((r) => r.kid),
      records.map((r) => tsParam(r.time)),
      records.map((r) => json(r.data)),
      hexes(records.map((r) => r.payload)),
      records.map((r) => r.leafIdx),
    ],
  );
  return rowCount;
}

/** The record with this id (with its receipt), or null. */
export async function getRecord(q: Queryable, id: string): Promise<StoredRecord | null> {
  const { rows } = await q.query(`${SELECT} WHERE r.id = $1::text`, [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** The records among `ids` that exist, keyed by id. */
export async function getRecords(
  q: Queryable,
  ids: readonly string[],
): Promise<Map<string, StoredRecord>> {
  const { rows } = await q.query(`${SELECT} WHERE r.id = ANY($1::text[])`, [[...ids]]);
  return new Map(rows.map((r) => [r.id as string, toRecord(r)]));
}

/** A subject's whole chain in seq order ([] if unknown). */
export async function getChain(q: Queryable, subject: string): Promise<StoredRecord[]> {
  const { rows } = await q.query(`${SELECT} WHERE r.subject = $1::text ORDER BY r.seq`, [subject]);
  return rows.map(toRecord);
}

/** Several chains at once (e.g. a container and its units), each in seq order. */
export async function getChains(
  q: Queryable,
  subjects: readonly string[],
): Promise<Map<string, StoredRecord[]>> {
  const { rows } = await q.query(
    `${SELECT} WHERE r.subject = ANY($1::text[]) ORDER BY r.subject, r.seq`,
    [[...subjects]],
  );
  const out = new Map<string, StoredRecord[]>();
  for (const row of rows) {
    const rec = toRecord(row);
    const list = out.get(rec.subject);
    if (list) list.push(rec);
    else out.set(rec.subject, [rec]);
  }
  return out;
}

export interface ShipmentQuery {
  type?: string;
  actor?: string;
}

/** Records whose data.shipment equals `shipment` (receiving reconciliation, DESIGN §7). */
export async function findRecordsByShipment(
  q: Queryable,
  shipment: string,
  filter: ShipmentQuery = {},
): Promise<StoredRecord[]> {
  const { rows } = await q.query(
    `${SELECT} WHERE (r.data ->> 'shipment') = $1::text
       AND ($2::text IS NULL OR r.type = $2::text) AND ($3::text IS NULL OR r.actor = $3::text)
     ORDER BY r.leaf_idx`,
    [shipment, filter.type ?? null, filter.actor ?? null],
  );
  return rows.map(toRecord);
}

/** Cached head and custody state of a subject (chain_heads). */
export interface ChainHead {
  subject: string;
  seq: number;
  /** Id of the record at `seq`. */
  head: string;
  state: unknown;
  updatedAt: string;
}

export interface NewChainHead {
  subject: string;
  seq: number;
  head: string;
  state: unknown;
}

/** Maps a chain_heads row. */
export function toHead(r: Record<string, unknown>): ChainHead {
  return {
    subject: r.subject as string,
    seq: num(r.seq),
    head: r.head as string,
    state: r.state,
    updatedAt: iso(r.updated_at),
  };
}

export interface HeadLockOptions {
  /** Lock the rows (SELECT ... FOR UPDATE, in subject order so batches never deadlock). */
  forUpdate?: boolean;
}

/** The cached head of a subject, or null if it has no chain yet. */
export async function getHead(
  q: Queryable,
  subject: string,
  opts: HeadLockOptions = {},
): Promise<ChainHead | null> {
  const { rows } = await q.query(
    `SELECT subject, seq, head, state, updated_at FROM chain_heads WHERE subject = $1::text${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [subject],
  );
  return rows[0] ? toHead(rows[0]) : null;
}

/** The cached heads of those subjects that have one, keyed by subject. */
export async function getHeads(
  q: Queryable,
  subjects: readonly string[],
  opts: HeadLockOptions = {},
): Promise<Map<string, ChainHead>> {
  const { rows } = await q.query(
    `SELECT subject, seq, head, state, updated_at FROM chain_heads WHERE subject = ANY($1::text[])
     ORDER BY subject${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [[...subjects]],
  );
  return new Map(rows.map((r) => [r.subject as string, toHead(r)]));
}

/**
 * The children of those `subjects` that hold some (an SSCC, or a serialized case
 * once packed: DESIGN §5, containers nest), read from their cached heads; a
 * subject that holds nothing is left out. Only the children's subjects leave
 * the database, not whole states: a 10,000-unit pallet's units cost one small scan.
 */
export async function getHeadChildren(
  q: Queryable,
  subjects: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (subjects.length === 0) return out;
  const { rows } = await q.query(
    `SELECT h.subject, jsonb_path_query_array(h.state, '$.children[*].subject') AS children
     FROM unnest($1::text[]) AS u(subject) JOIN chain_heads h ON h.subject = u.subject
     WHERE h.state -> 'children' <> '[]'::jsonb`,
    [[...subjects]],
  );
  for (const r of rows) {
    const list = typeof r.children === 'string' ? (JSON.parse(r.children) as unknown) : r.children;
    if (Array.isArray(list))
      out.set(
        r.subject as string,
        list.filter((c): c is string => typeof c === 'string'),
      );
  }
  return out;
}

/**
 * Inserts or updates cached heads in one statement. A head never moves
 * backwards: a row whose stored seq is higher is left alone. Subjects must be
 * distinct within one call.
 */
export async function upsertChainHeads(
  q: Queryable,
  heads: readonly NewChainHead[],
): Promise<number> {
  if (heads.length === 0) return 0;
  const { rowCount } = await q.query(
    `INSERT INTO chain_heads (subject, seq, head, state, updated_at)
     SELECT u.subject, u.seq, u.head, u.state::jsonb, now()
     FROM unnest($1::text[], $2::integer[], $3::text[], $4::text[]) AS u(subject, seq, head, state)
     ON CONFLICT (subject) DO UPDATE
       SET seq = excluded.seq, head = excluded.head, state = excluded.state, updated_at = excluded.updated_at
       WHERE chain_heads.seq <= excluded.seq`,
    [
      heads.map((h) => h.subject),
      heads.map((h) => h.seq),
      heads.map((h) => h.head),
      heads.map((h) => json(h.state)),
    ],
  );
  return rowCount;
}

/**
 * True when `gln` appears in `subject`'s chain, or in the chain of a container
 * the subject was ever packed in (at any level), as a record's actor or its `to`
 * (DESIGN §6a: who may read a chain). One indexed query.
 */
export async function isChainParty(q: Queryable, subject: string, gln: string): Promise<boolean> {
  const { rows } = await q.query(
    `WITH RECURSIVE scope(subject) AS (
       SELECT $1::text
       UNION
       -- Every container it was ever in, every level up (DESIGN §5: containers nest).
       SELECT r.data ->> 'parent' FROM records r JOIN scope s ON r.subject = s.subject
        WHERE r.type IN ('pack', 'unpack') AND r.data ? 'parent'
     )
     SELECT EXISTS (
       SELECT 1 FROM records r JOIN scope s ON r.subject = s.subject
        WHERE r.actor = $2::text OR r.data ->> 'to' = $2::text
     ) AS ok`,
    [subject, gln],
  );
  return rows[0]?.ok === true;
}
