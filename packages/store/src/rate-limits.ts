// rate_limits: request counters per client key and window (DESIGN §8 abuse),
// shared by every replica on the database. Times come from the database clock
// so replicas with skewed clocks still agree on a window.
import type { Queryable } from './driver.js';
import { prepared } from './prepared.js';
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
  return (await incrementRateLimits(q, windowMs, [{ key, by }]))[0]!;
}

const INCREMENT = prepared(
  `INSERT INTO rate_limits AS r (key, hits, reset_at)
     SELECT u.k, u.n, now() + $3::integer * interval '1 millisecond'
     FROM unnest($1::text[], $2::integer[]) AS u(k, n) ORDER BY u.k
     ON CONFLICT (key) DO UPDATE SET
       hits = CASE WHEN r.reset_at <= now() THEN excluded.hits ELSE r.hits + excluded.hits END,
       reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
     RETURNING key, hits, reset_at`,
);

/**
 * incrementRateLimit for several calls in one statement (concurrent
 * requests), in order: each gets the count as if the calls had run one after
 * another. Keys are written in sorted order, so two such statements never
 * deadlock.
 */
export async function incrementRateLimits(
  q: Queryable,
  windowMs: number,
  calls: readonly { key: string; by: number }[],
): Promise<RateLimitCount[]> {
  if (calls.length === 0) return [];
  const sums = new Map<string, number>();
  for (const c of calls) sums.set(c.key, (sums.get(c.key) ?? 0) + c.by);
  const keys = [...sums.keys()].sort();
  const { rows } = await q.query(INCREMENT, [keys, keys.map((k) => sums.get(k)!), windowMs]);
  const final = new Map(rows.map((r) => [r.key as string, r] as const));
  // Each call's count leaves out the hits of the calls after it.
  const later = new Map<string, number>();
  const out: RateLimitCount[] = new Array<RateLimitCount>(calls.length);
  for (let i = calls.length - 1; i >= 0; i--) {
    const { key, by } = calls[i]!;
    const r = final.get(key)!;
    const after = later.get(key) ?? 0;
    out[i] = { hits: num(r.hits) - after, resetAt: iso(r.reset_at) };
    later.set(key, after + by);
  }
  return out;
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
