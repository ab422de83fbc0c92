// Binds the framework's small interfaces (token lookup, idempotency store)
// to @provenant/store's repositories, so routes pass a Queryable (the
// database or the write's transaction) and nothing else.
import {
  getIdempotencyEntry,
  Coalescer,
  getTokenGrants,
  pruneExpiredIdempotencyEntries,
  pruneExpiredVerificationIdempotencyKeys,
  saveIdempotencyEntry,
  touchToken,
} from '@provenant/store';
import type { Queryable } from '@provenant/store';
import type { TokenLookup } from './auth.js';
import type { IdempotencyStore } from './idempotency.js';
import { unprocessable } from './problem.js';

/**
 * Token lookup over the tokens table: unrevoked tokens only, with the
 * party's suspension status (a suspended party may read but not sign).
 */
export function tokenLookupFor(q: Queryable): TokenLookup {
  // When each token's lastUsedAt was last written by this process (at most once a minute).
  const touched = new Map<string, number>();
  // Read fresh for every request (token joined with its party): a revoked token
  // or a suspension takes effect on the next request. Concurrent requests'
  // lookups share one statement.
  const grants = new Coalescer((hashes: Uint8Array[]) => getTokenGrants(q, hashes));
  return async (hash) => {
    const grant = await grants.call(hash);
    if (!grant) return null;
    await noteUse(q, touched, hash);
    return { gln: grant.gln, scopes: grant.scopes, suspended: grant.partyStatus === 'suspended' };
  };
}

const TOUCH_EVERY_MS = 60_000;
const TOUCHED_MAX = 10_000;

/** Writes a token's lastUsedAt (DESIGN §5 token list) at most once a minute per token; never fails the request. */
async function noteUse(
  q: Queryable,
  touched: Map<string, number>,
  hash: Uint8Array,
): Promise<void> {
  const key = Buffer.from(hash).toString('hex');
  const now = Date.now();
  if ((touched.get(key) ?? 0) > now - TOUCH_EVERY_MS) return;
  if (touched.size >= TOUCHED_MAX) touched.clear();
  touched.set(key, now);
  try {
    await touchToken(q, hash, TOUCH_EVERY_MS / 1000);
  } catch {
    // Bookkeeping only: a read-only replica or a busy database must not refuse the request.
  }
}

/** Expired keys are pruned on every this many idempotent writes (per process), and on the first. */
export const IDEMPOTENCY_PRUNE_EVERY = 256;
let writes = 0;

/**
 * DESIGN §8: keys are kept 24 hours, then pruned (prune-on-write, every
 * IDEMPOTENCY_PRUNE_EVERY writes): the write path's and the verifications'
 * (a standalone verifier runs no webhook worker to prune them).
 */
export async function pruneIdempotencySometimes(q: Queryable): Promise<void> {
  if (writes++ % IDEMPOTENCY_PRUNE_EVERY !== 0) return;
  await pruneExpiredIdempotencyEntries(q);
  await pruneExpiredVerificationIdempotencyKeys(q);
}

/**
 * Idempotency store over idempotency_keys. Pass the write's transaction so
 * the key commits with the write (DESIGN §8). When a concurrent request with
 * the same key but another body stored first, `put` throws 422, rolling the
 * write back.
 */
export function idempotencyStoreFor(q: Queryable): IdempotencyStore {
  return {
    async get(gln, key) {
      const e = await getIdempotencyEntry(q, gln, key);
      return e ? { requestHash: e.requestHash, status: e.status, response: e.response } : null;
    },
    async put(gln, key, requestHash, status, response) {
      await pruneIdempotencySometimes(q);
      const saved = await saveIdempotencyEntry(q, { gln, key, requestHash, status, response });
      if (saved.requestHash !== requestHash) {
        throw unprocessable('This Idempotency-Key was already used with a different request.', {
          slug: 'idempotency-key-reused',
        });
      }
    },
  };
}
