// idempotency_keys: Idempotency-Key per party (DESIGN §8).
import type { Queryable } from './driver.js';
import { iso, json, num } from './sql.js';

/** How long a key is kept (DESIGN §8): after this it is expired, then pruned. */
export const IDEMPOTENCY_TTL_HOURS = 24;
const FRESH = `created_at > now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'`;

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

/** The stored outcome for (gln, key), or null (also when it is older than 24 hours). */
export async function getIdempotencyEntry(
  q: Queryable,
  gln: string,
  key: string,
): Promise<IdempotencyEntry | null> {
  const { rows } = await q.query(
    `SELECT gln, key, request_hash, status, response, created_at FROM idempotency_keys
     WHERE gln = $1::text AND key = $2::text AND ${FRESH}`,
    [gln, key],
  );
  return rows[0] ? toEntry(rows[0]) : null;
}

/**
 * Stores an outcome unless (gln, key) already has one younger than 24 hours
 * (an expired one is replaced). Returns the entry that
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
     ON CONFLICT (gln, key) DO UPDATE SET request_hash = excluded.request_hash,
       status = excluded.status, response = excluded.response, created_at = now()
       WHERE NOT (idempotency_keys.${FRESH})
     RETURNING gln, key, request_hash, status, response, created_at`,
    [e.gln, e.key, e.requestHash, e.status, json(e.response)],
  );
  if (rows[0]) return toEntry(rows[0]);
  return (await getIdempotencyEntry(q, e.gln, e.key))!;
}

/** Deletes expired entries (older than 24 hours, by the database clock); returns how many. */
export async function pruneExpiredIdempotencyEntries(q: Queryable): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM idempotency_keys WHERE NOT (${FRESH})`);
  return rowCount;
}

/**
 * Deletes expired verification Idempotency-Keys (verification_idempotency,
 * the verifier's; older than 24 hours by the database clock); returns how
 * many. Their verifications stay (append-only audit).
 */
export async function pruneExpiredVerificationIdempotencyKeys(q: Queryable): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM verification_idempotency WHERE NOT (${FRESH})`);
  return rowCount;
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
