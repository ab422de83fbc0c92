// notices: signed log entries that are not per-subject (DESIGN §5).
import type { Queryable } from './driver.js';
import { toReceipt, type LeafReceipt } from './records.js';
import { bytes, hexes, iso, json, num, tsParam } from './sql.js';

export interface NewNotice {
  /** SHA-256 hex of `payload`. */
  id: string;
  /** party, key, party-suspend, recall, key-revoke, ... */
  type: string;
  actor: string;
  kid: string;
  time: string | Date;
  data: unknown;
  payload: Uint8Array;
  envelope: unknown;
  leafIdx: number;
}

export interface StoredNotice extends Omit<NewNotice, 'time'> {
  time: string;
  receipt: LeafReceipt;
}

const SELECT = `SELECT n.id, n.type, n.actor, n.kid, n.time, n.data, n.payload, n.envelope, n.leaf_idx,
  l.leaf_hash, l.integrated_at, l.receipt_signature
  FROM notices n JOIN log_leaves l ON l.idx = n.leaf_idx`;

function toNotice(r: Record<string, unknown>): StoredNotice {
  return {
    id: r.id as string,
    type: r.type as string,
    actor: r.actor as string,
    kid: r.kid as string,
    time: iso(r.time),
    data: r.data,
    payload: bytes(r.payload),
    envelope: r.envelope,
    leafIdx: num(r.leaf_idx),
    receipt: toReceipt(r),
  };
}

/**
 * Inserts notices in one statement; their leaves go in the same transaction.
 * @throws UniqueViolationError `notices_pkey` for a notice already stored.
 */
export async function insertNotices(q: Queryable, notices: readonly NewNotice[]): Promise<number> {
  if (notices.length === 0) return 0;
  const { rowCount } = await q.query(
    `INSERT INTO notices (id, type, actor, kid, time, data, payload, envelope, leaf_idx)
     SELECT u.id, u.type, u.actor, u.kid, u.time, u.data::jsonb, decode(u.payload, 'hex'), u.envelope::jsonb, u.leaf_idx
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[],
                 $8::text[], $9::bigint[])
       AS u(id, type, actor, kid, time, data, payload, envelope, leaf_idx)`,
    [
      notices.map((n) => n.id),
      notices.map((n) => n.type),
      notices.map((n) => n.actor),
      notices.map((n) => n.kid),
      notices.map((n) => tsParam(n.time)),
      notices.map((n) => json(n.data)),
      hexes(notices.map((n) => n.payload)),
      notices.map((n) => json(n.envelope)),
      notices.map((n) => n.leafIdx),
    ],
  );
  return rowCount;
}

/** The notice with this id, or null. */
export async function getNotice(q: Queryable, id: string): Promise<StoredNotice | null> {
  const { rows } = await q.query(`${SELECT} WHERE n.id = $1::text`, [id]);
  return rows[0] ? toNotice(rows[0]) : null;
}

export interface NoticeQuery {
  /** Only these types (default: all). */
  types?: readonly string[];
  /** Only notices whose leaf index is greater (paging). */
  afterLeafIdx?: number;
  /** Default 1000. */
  limit?: number;
}

/** Notices in log order. */
export async function listNotices(q: Queryable, query: NoticeQuery = {}): Promise<StoredNotice[]> {
  const { rows } = await q.query(
    `${SELECT} WHERE ($1::text[] IS NULL OR n.type = ANY($1::text[])) AND n.leaf_idx > $2::bigint
     ORDER BY n.leaf_idx LIMIT $3::integer`,
    [query.types ? [...query.types] : null, query.afterLeafIdx ?? -1, query.limit ?? 1000],
  );
  return rows.map(toNotice);
}

/** Recall notices for a GTIN (any lot), in log order (DESIGN §7 RECALLED). */
export async function findRecalls(q: Queryable, gtin: string): Promise<StoredNotice[]> {
  const { rows } = await q.query(
    `${SELECT} WHERE (n.data ->> 'gtin') = $1::text AND n.type = 'recall' ORDER BY n.leaf_idx`,
    [gtin],
  );
  return rows.map(toNotice);
}

/** Notices of `type` whose data.kid is one of `kids` (e.g. 'key-revoke', 'key'), in log order. */
export async function findNoticesByKid(
  q: Queryable,
  type: string,
  kids: readonly string[],
): Promise<StoredNotice[]> {
  const { rows } = await q.query(
    `${SELECT} WHERE (n.data ->> 'kid') = ANY($1::text[]) AND n.type = $2::text ORDER BY n.leaf_idx`,
    [[...kids], type],
  );
  return rows.map(toNotice);
}
