// The `pg` driver: a node-postgres Pool against a PostgreSQL server (DESIGN §9).
import pg from 'pg';
import type { Pool, PoolClient, QueryConfig } from 'pg';
import { mapDatabaseError } from './errors.js';
import { preparedName } from './prepared.js';
import {
  beginSql,
  retrySerializable,
  scopedQueryable,
  type Database,
  type QueryResult,
  type Queryable,
  type TransactionOptions,
} from './driver.js';

export interface PgOptions {
  /** Pool size; default 10. */
  max?: number;
  /** How long a connect may take before DatabaseUnavailableError; default 5000 ms. */
  connectionTimeoutMillis?: number;
  /** Server-side statement timeout in ms; default none. */
  statementTimeoutMillis?: number;
  /** Called with errors of idle pooled connections (e.g. the server restarted). */
  onIdleError?: (err: Error) => void;
}

/** Connections for hot statements: each kind runs at most two at once (coalesce.ts). */
const HOT_POOL_SIZE = 6;

const INT8 = 20;
const INT8_ARRAY = 1016;
const BYTEA = 17;
const BYTEA_ARRAY = 1001;

/** int8 as a JS number while exact (log indexes, counts); bigint beyond 2^53, like PGlite. */
function parseInt8(value: string): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
}

/** bytea as a plain, unshared Uint8Array (pg's Buffer may view a shared pool). */
function toUint8(b: unknown): Uint8Array | null {
  return b === null ? null : new Uint8Array(b as Uint8Array);
}

const baseTypes = pg.types;
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    const base = baseTypes.getTypeParser(oid, format);
    if (format === 'binary') return base;
    switch (oid) {
      case INT8:
        return parseInt8;
      case INT8_ARRAY:
        return (v) => (base(v) as (string | null)[]).map((x) => (x === null ? null : parseInt8(x)));
      case BYTEA:
        return (v) => toUint8(base(v));
      case BYTEA_ARRAY:
        return (v) => (base(v) as unknown[]).map(toUint8);
      default:
        return base;
    }
  },
};

function normalize<R>(res: { rows: R[]; rowCount: number | null }): QueryResult<R> {
  return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
}

/** A parameterised query, by name when it is a hot statement (prepared.ts). */
function queryConfig(sql: string, params: unknown[] | undefined): QueryConfig {
  const name = params !== undefined ? preparedName(sql) : undefined;
  return name !== undefined ? { name, text: sql, values: params } : { text: sql, values: params };
}

function clientQueryable(client: PoolClient): Queryable {
  return {
    async query<R>(sql: string, params?: unknown[]) {
      try {
        return normalize(await client.query<R>(queryConfig(sql, params)));
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
    async exec(sql: string) {
      try {
        await client.query(sql);
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
  };
}

/**
 * Opens a pool on a PostgreSQL URL. Connects lazily: an unreachable server
 * surfaces as DatabaseUnavailableError on the first query, and the pool
 * reconnects by itself when the server returns.
 */
export async function openPg(url: string, opts: PgOptions = {}): Promise<Database> {
  const poolOf = (max: number, settings: string): Pool => {
    const p = new pg.Pool({
      connectionString: url,
      max,
      connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'provenant',
      options: settings,
      ...(opts.statementTimeoutMillis !== undefined
        ? { statement_timeout: opts.statementTimeoutMillis }
        : {}),
      types: TYPES,
    });
    // An idle client losing its connection must not crash the process (503, then recover).
    p.on('error', (err) => opts.onIdleError?.(err));
    return p;
  };
  // No JIT: this is short OLTP work, and a statement whose estimate crosses
  // jit_above_cost (a batch of verification facts) spent 160 ms compiling
  // to run in 1 ms.
  const pool = poolOf(opts.max ?? 10, '-c jit=off');
  // Hot statements (prepared.ts) outside transactions run on connections that
  // plan them once: their parameters are arrays of a batch, so PostgreSQL's
  // custom plans looked cheaper than the generic one for ever and it planned
  // the verification facts afresh on every run (1.75 ms of its 2.8 ms).
  const hot = poolOf(HOT_POOL_SIZE, '-c jit=off -c plan_cache_mode=force_generic_plan');
  async function connect(): Promise<PoolClient> {
    try {
      return await pool.connect();
    } catch (err) {
      throw mapDatabaseError(err);
    }
  }

  async function attempt<T>(
    fn: (tx: Queryable) => Promise<T>,
    topts: TransactionOptions | undefined,
  ): Promise<T> {
    const client = await connect();
    const raw = clientQueryable(client);
    const begin = beginSql(topts);
    // BEGIN is deferred to the transaction's first statement and, when that
    // statement has no parameters (the sequencer's `SELECT ... FOR UPDATE`),
    // sent with it in one simple-protocol message: one round trip fewer. The
    // snapshot is taken by the first statement either way, so this is the
    // same transaction as BEGIN sent alone.
    let begun = false;
    const first = (): boolean => {
      const was = begun;
      begun = true;
      return !was;
    };
    const deferred: Queryable = {
      async query<R>(sql: string, params?: unknown[]) {
        if (first()) {
          if (params === undefined || params.length === 0) {
            try {
              type Raw = { rows: R[]; rowCount: number | null };
              // A multi-statement simple query answers one result per statement.
              const res = (await client.query(`${begin};\n${sql}`)) as unknown as Raw[] | Raw;
              return normalize(Array.isArray(res) ? res[res.length - 1]! : res);
            } catch (err) {
              throw mapDatabaseError(err);
            }
          }
          await raw.exec(begin);
        }
        return raw.query<R>(sql, params);
      },
      async exec(sql: string) {
        await raw.exec(first() ? `${begin};\n${sql}` : sql);
      },
    };
    const scope = scopedQueryable(deferred);
    let broken: Error | undefined;
    try {
      const result = await fn(scope.tx);
      scope.end();
      if (begun) await raw.exec('COMMIT');
      return result;
    } catch (err) {
      scope.end();
      if (begun)
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // The connection is unusable (e.g. server gone): destroy it rather than pool it.
          broken = rollbackErr as Error;
        }
      throw err;
    } finally {
      client.release(broken ?? false);
    }
  }

  return {
    kind: 'pg',
    async query<R>(sql: string, params?: unknown[]) {
      const config = queryConfig(sql, params);
      try {
        return normalize(await (config.name !== undefined ? hot : pool).query<R>(config));
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
    async exec(sql: string) {
      try {
        await pool.query(sql);
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
    transaction(fn, topts) {
      return retrySerializable(() => attempt(fn, topts), topts);
    },
    async close() {
      await Promise.all([pool.end(), hot.end()]);
    },
  };
}
