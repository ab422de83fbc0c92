// idempotency_keys: Idempotency-Key per party (DESIGN §8).
import type { Queryable } from './driver.js';
import { iso, json, num } from './sql.js';

export interface IdempotencyEntry {
  /** The caller's party GLN ('' for an admin token). */
  gln: string;
  key: string;
  /** Hash of the request body: the same key with another body is 422. */
  requestHash: string;
  status: number;
  response: unknown;
  createdAt: string;
}

export interface NewIdempotencyEntry {
  gln: string;
  key: string;
  requestHash: string;
  status: number;
  response: unknown;
}

function toEntry(r: Record<string, unknown>): IdempotencyEntry {
  return {
    gln: r.gln as string,
    key: r.key as string,
    requestHash: r.request_hash as string,
    status: num(r.status),
    response: r.response,
    createdAt: iso(r.created_at),
  };
}

/** The stored outcome for (gln, key), or null. */
export async function getIdempotencyEntry(
  q: Queryable,
  gln: string,
  key: string,
): Promise<IdempotencyEntry | null> {
  const { rows } = await q.query(
    `SELECT gln, key, request_hash, status, response, created_at FROM idempotency_keys
     WHERE gln = $1::text AND key = $2::text`,
    [gln, key],
  );
  return rows[0] ? toEntry(rows[0]) : null;
}

/**
 * Stores an outcome unless (gln, key) already has one. Returns the entry that
 * is stored afterwards (the existing one if a concurrent request won), so the
 * caller compares its requestHash.
 */
export async function saveIdempotencyEntry(
  q: Queryable,
  e: NewIdempotencyEntry,
): Promise<IdempotencyEntry> {
  const { rows } = await q.query(
    `INSERT INTO idempotency_keys (gln, key, request_hash, status, response)
     VALUES ($1::text, $2::text, $3::text, $4::integer, $5::jsonb)
     ON CONFLICT (gln, key) DO NOTHING
     RETURNING gln, key, request_hash, status, response, created_at`,
    [e.gln, e.key, e.requestHash, e.status, json(e.response)],
  );
  if (rows[0]) return toEntry(rows[0]);
  return (await getIdempotencyEntry(q, e.gln, e.key))!;
}

/** Deletes entries created before `before`; returns how many. */
export async function pruneIdempotencyEntries(
  q: Queryable,
  before: string | Date,
): Promise<number> {
  const { rowCount } = await q.query(
    `DELETE FROM idempotency_keys WHERE created_at < $1::timestamptz`,
    [before instanceof Date ? before.toISOString() : before],
  );
  return rowCount;
}
