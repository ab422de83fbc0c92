// The tiny driver interface (DESIGN §2, §9): one SQL implementation runs over
// either driver; repository functions take a Queryable so a caller passes the
// database or a transaction, and no module holds a global pool (STYLE rule 7).
import { SerializationFailureError, StoreMisuseError } from './errors.js';

/** Result of one statement; `rowCount` is rows returned or affected. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /**
   * Runs one parameterised statement. Errors are StoreErrors (never the
   * driver's error: those carry SQL and parameters).
   * Types: int8 -> number (bigint only beyond 2^53), bytea -> Uint8Array,
   * timestamptz -> Date, json/jsonb -> parsed value, arrays -> JS arrays.
   */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export type IsolationLevel = 'read committed' | 'repeatable read' | 'serializable';

export interface TransactionOptions {
  /** Default: read committed. */
  isolation?: IsolationLevel;
  /** Attempts after the first on 40001/40P01; default 5. */
  retries?: number;
}

/** A database handle; `kind` tells which driver is underneath. */
export interface Database extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /**
   * Runs `fn` in a transaction (BEGIN/COMMIT, ROLLBACK when it throws) and
   * retries it on serialization failure or deadlock (SQLSTATE 40001/40P01),
   * so `fn` must be safe to re-run: no side effects outside `tx`.
   * Inside `fn` use only `tx`, never the database (on PGlite that would deadlock
   * and throws StoreMisuseError instead). Errors thrown by `fn` propagate unchanged.
   * @throws SerializationFailureError when every attempt lost the race.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TransactionOptions): Promise<T>;
  /** Closes the pool or the embedded database; later calls fail. */
  close(): Promise<void>;
}

const ISOLATION_SQL: Record<IsolationLevel, string> = {
  'read committed': 'BEGIN ISOLATION LEVEL READ COMMITTED',
  'repeatable read': 'BEGIN ISOLATION LEVEL REPEATABLE READ',
  serializable: 'BEGIN ISOLATION LEVEL SERIALIZABLE',
};

/** The BEGIN statement for the requested isolation level. */
export function beginSql(opts: TransactionOptions | undefined): string {
  const level = opts?.isolation ?? 'read committed';
  const sql = ISOLATION_SQL[level];
  if (sql === undefined) throw new StoreMisuseError('unknown isolation level');
  return sql;
}

/** Runs `attempt` again (with a short jittered backoff) while it loses a serialization race. */
export async function retrySerializable<T>(
  attempt: () => Promise<T>,
  opts: TransactionOptions | undefined,
): Promise<T> {
  const retries = opts?.retries ?? 5;
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof SerializationFailureError) || i >= retries) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** i));
    }
  }
}

/** Wraps a transaction's query functions so use after COMMIT/ROLLBACK is a misuse error. */
export function scopedQueryable(inner: Queryable): { tx: Queryable; end(): void } {
  let open = true;
  const check = (): void => {
    if (!open) throw new StoreMisuseError('transaction already finished');
  };
  return {
    tx: {
      query: async (sql, params) => {
        check();
        return inner.query(sql, params);
      },
      exec: async (sql) => {
        check();
        return inner.exec(sql);
      },
    },
    end: () => {
      open = false;
    },
  };
}
