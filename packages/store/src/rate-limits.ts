// rate_limits: request counters per client key and window (DESIGN §8 abuse),
// shared by every replica on the database. Times come from the database clock
// so replicas with skewed clocks still agree on a window.
import type { Queryable } from './driver.js';
import { iso, num } from './sql.js';

export interface RateLimitCount {
  hits: number;
  resetAt: string;
}

/**
 * Counts `by` hits (default 1) for `key` in its current window (a fresh window
 * of `windowMs` when the last one has ended) and returns the count so far.
 */
export async function incrementRateLimit(
  q: Queryable,
  key: string,
  windowMs: number,
  by = 1,
): Promise<RateLimitCount> {
  const { rows } = await q.query(
    `INSERT INTO rate_limits AS r (key, hits, reset_at)
     VALUES ($1::text, $3::integer, now() + $2::integer * interval '1 millisecond')
     ON CONFLICT (key) DO UPDATE SET
       hits = CASE WHEN r.reset_at <= now() THEN excluded.hits ELSE r.hits + excluded.hits END,
       reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
     RETURNING hits, reset_at`,
    [key, windowMs, by],
  );
  return { hits: num(rows[0]!.hits), resetAt: iso(rows[0]!.reset_at) };
}

/** The current count of `key`, or null when it has none or its window ended. */
export async function getRateLimit(q: Queryable, key: string): Promise<RateLimitCount | null> {
  const { rows } = await q.query(
    `SELECT hits, reset_at FROM rate_limits WHERE key = $1::text AND reset_at > now()`,
    [key],
  );
  return rows[0] ? { hits: num(rows[0].hits), resetAt: iso(rows[0].reset_at) } : null;
}

/** Takes one hit back (express-rate-limit's skipSuccessfulRequests and the like). */
export async function decrementRateLimit(q: Queryable, key: string): Promise<void> {
  await q.query(
    `UPDATE rate_limits SET hits = greatest(hits - 1, 0) WHERE key = $1::text AND reset_at > now()`,
    [key],
  );
}

/** Forgets `key`'s count. */
export async function resetRateLimit(q: Queryable, key: string): Promise<void> {
  await q.query(`DELETE FROM rate_limits WHERE key = $1::text`, [key]);
}

/** Deletes counters whose window ended; returns how many. */
export async function pruneRateLimits(q: Queryable): Promise<number> {
  const { rowCount } = await q.query(`DELETE FROM rate_limits WHERE reset_at <= now()`);
  return rowCount;
}
