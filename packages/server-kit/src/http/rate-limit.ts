// Rate limits (DESIGN §8 abuse): per token, and per address for requests
// without a token, with express-rate-limit and a Store over our own database
// (table rate_limits, migration 000006), so every replica on the database
// shares the counts. Over the limit: 429 problem+json with `Retry-After` and
// the draft-8 `RateLimit` / `RateLimit-Policy` headers. A verification costs
// its units (a pallet of 10,000 counts 10,000) against the per-token budget.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ipKeyGenerator, rateLimit, type Options, type Store } from 'express-rate-limit';
import { toHex } from '@provenant/core';
import {
  Coalescer,
  decrementRateLimit,
  getRateLimit,
  incrementRateLimits,
  pruneRateLimits,
  resetRateLimit,
  type Queryable,
  type RateLimitCount,
} from '@provenant/store';
import { hashToken, parseBearer } from './auth.js';
import { tooManyRequests } from './problem.js';

/**
 * Requests allowed per window, per token and per address (anonymous); 0 turns
 * a limit off. Per token the budget is in cost units: a request is 1, a
 * verification its units (a pallet of 10,000 is 10,000, DESIGN §8).
 */
export interface RateLimitConfig {
  perToken: number;
  perAddress: number;
  windowMs: number;
}

/**
 * Generous defaults: the test suite and the benches never reach them, except a
 * flood (6 full pallets a minute per token, 1,000 single requests a second).
 */
export const DEFAULT_RATE_LIMIT: RateLimitConfig = {
  perToken: 60_000,
  perAddress: 600,
  windowMs: 60_000,
};

/** What the store needs of a database: one query (createApp's `db`). */
export interface RateLimitDb {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Deletes ended windows once every this many increments (per process). */
const PRUNE_EVERY = 1000;

const info = (c: RateLimitCount) => ({ totalHits: c.hits, resetTime: new Date(c.resetAt) });

/**
 * express-rate-limit's Store over the rate_limits table (@provenant/store).
 * Windows are timed by the database clock, so replicas agree on them.
 */
export class DatabaseRateLimitStore implements Store {
  private windowMs = DEFAULT_RATE_LIMIT.windowMs;
  private calls = 0;
  private readonly q: Queryable;
  readonly localKeys = false;
  /** Concurrent requests' increments, one statement for those waiting (exact counts each). */
  private readonly increments = new Coalescer((calls: { key: string; by: number }[]) =>
    incrementRateLimits(this.q, this.windowMs, calls),
  );

  constructor(
    db: RateLimitDb,
    readonly prefix: string,
  ) {
    this.q = db as Queryable;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string) {
    const c = await getRateLimit(this.q, this.prefix + key);
    return c ? info(c) : undefined;
  }

  async increment(key: string) {
    if (++this.calls % PRUNE_EVERY === 0) await pruneRateLimits(this.q);
    return info(await this.increments.call({ key: this.prefix + key, by: 1 }));
  }

  /** Adds `units` hits to `key`'s window (a verification's cost beyond its one request). */
  async charge(key: string, units: number) {
    return info(await this.increments.call({ key: this.prefix + key, by: units }));
  }

  async decrement(key: string): Promise<void> {
    await decrementRateLimit(this.q, this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await resetRateLimit(this.q, this.prefix + key);
  }
}

/** The token of a request with a well-formed bearer header, else null. */
function bearerOf(req: { headers: { authorization?: string | undefined } }): string | null {
  const t = parseBearer(req.headers.authorization);
  return typeof t === 'string' ? t : null;
}

function limiter(
  db: RateLimitDb,
  prefix: string,
  limit: number,
  windowMs: number,
  key: (req: Parameters<RequestHandler>[0]) => string,
  skip: (req: Parameters<RequestHandler>[0]) => boolean,
): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    identifier: prefix === 't:' ? 'per-token' : 'per-address',
    store: new DatabaseRateLimitStore(db, prefix),
    keyGenerator: key,
    skip,
    // A store failure (database down) is the request's own 503, not a free pass.
    passOnStoreError: false,
    handler: (_req, res, next, options) => {
      const retry = res.getHeader('Retry-After');
      next(
        tooManyRequests(
          `Too many requests: at most ${options.limit as number} per ${Math.round(windowMs / 1000)} s ${
            prefix === 't:' ? 'for this token' : 'from this address without a token'
          }.`,
          { slug: 'rate-limited', ...(retry ? { headers: { 'Retry-After': String(retry) } } : {}) },
        ),
      );
    },
  });
}

/**
 * Verification cost (DESIGN §8): a response that set `res.locals.costUnits`
 * (the verifier does: a pallet of 10,000 counts 10,000) charges the units
 * beyond the one its request was counted for to the token's window before it
 * is sent, so the token's next requests meet the limit (429) and this
 * response's `RateLimit` header already shows the budget left.
 */
function costCharger(
  store: DatabaseRateLimitStore,
  limit: number,
  key: (req: Parameters<RequestHandler>[0]) => string,
): RequestHandler {
  return (req, res, next) => {
    if (bearerOf(req) === null) return next();
    const end = res.end.bind(res) as (...args: unknown[]) => Response;
    res.end = ((...args: unknown[]) => {
      const units = res.locals.costUnits as unknown;
      if (typeof units !== 'number' || !(units > 1)) return end(...args);
      store.charge(key(req), Math.min(Math.floor(units) - 1, 1e9)).then(
        (c) => {
          const reset = Math.max(0, Math.ceil((c.resetTime.getTime() - Date.now()) / 1000));
          const left = Math.max(0, limit - c.totalHits);
          if (!res.headersSent) res.setHeader('RateLimit', `"per-token"; r=${left}; t=${reset}`);
          end(...args);
        },
        // The verdict is stored and answered whatever happens to the bookkeeping.
        () => end(...args),
      );
      return res;
    }) as Response['end'];
    next();
  };
}

/**
 * Error middleware right after `authenticate`: a request whose token was
 * refused (401) counts against its address too, so a flood of made-up tokens
 * (each its own per-token bucket) is still limited per address.
 */
export function refusedTokenLimit(
  db: RateLimitDb,
  config: RateLimitConfig | undefined,
): ErrorRequestHandler {
  const c = config ?? DEFAULT_RATE_LIMIT;
  const store = new DatabaseRateLimitStore(db, 'a:');
  store.init({ windowMs: c.windowMs } as Options);
  return (err: unknown, req, res, next) => {
    const status = (err as { status?: unknown } | null)?.status;
    if (c.perAddress <= 0 || status !== 401) return next(err);
    const key = ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? '');
    store.increment(key).then((hits) => {
      if (hits.totalHits <= c.perAddress) return next(err);
      const retry = Math.max(1, Math.ceil(((hits.resetTime?.getTime() ?? 0) - Date.now()) / 1000));
      res.setHeader('Retry-After', String(retry));
      next(
        tooManyRequests('Too many refused tokens from this address.', {
          slug: 'rate-limited',
          headers: { 'Retry-After': String(retry) },
        }),
      );
    }, next);
  };
}

/**
 * The two limiters, in front of authentication: requests with a well-formed
 * bearer token count per token (by its SHA-256, never the token itself),
 * the others per client address. A limit of 0 is off.
 */
export function rateLimits(db: RateLimitDb, config: RateLimitConfig | undefined): RequestHandler[] {
  const c = config ?? DEFAULT_RATE_LIMIT;
  const out: RequestHandler[] = [];
  const tokenKey = (req: Parameters<RequestHandler>[0]) => toHex(hashToken(bearerOf(req)!));
  if (c.perToken > 0) {
    out.push(limiter(db, 't:', c.perToken, c.windowMs, tokenKey, (req) => bearerOf(req) === null));
    const costs = new DatabaseRateLimitStore(db, 't:');
    costs.init({ windowMs: c.windowMs } as Options);
    out.push(costCharger(costs, c.perToken, tokenKey));
  }
  if (c.perAddress > 0)
    out.push(
      limiter(
        db,
        'a:',
        c.perAddress,
        c.windowMs,
        (req) => ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? ''),
        (req) => bearerOf(req) !== null,
      ),
    );
  return out;
}
