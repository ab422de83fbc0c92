// The embedded driver: PGlite (PostgreSQL in WASM), file-backed under a data
// directory or in memory (DESIGN §9). One connection, so every statement and
// transaction is serialised through a FIFO mutex.
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { DURABLE_START_PARAMS, DurableNodeFS } from './durable-fs.js';
import { DatabaseUnavailableError, StoreMisuseError, mapDatabaseError } from './errors.js';
import { Mutex } from './mutex.js';
import {
  beginSql,
  retrySerializable,
  scopedQueryable,
  type Database,
  type QueryResult,
  type Queryable,
} from './driver.js';

export interface PgliteOptions {
  /** Start from a data directory tarball (from `dumpDataDir`) instead of initdb. */
  loadDataDir?: Blob;
  /**
   * File-backed only: sync each commit to stable storage before it is
   * acknowledged (default true). `false` exists for the benchmark's comparison.
   */
  sync?: boolean;
}

/** A PGlite Database that can also dump its data directory (test templates). */
export interface PgliteDatabase extends Database {
  readonly kind: 'pglite';
  /** Tarball of the data directory (gzipped when asked), loadable with `openPglite(dir, { loadDataDir })`. */
  dumpDataDir(compression?: 'none' | 'gzip'): Promise<Blob>;
}

// Which PGlite database the current async context holds a transaction on.
const holding = new AsyncLocalStorage<object>();

/**
 * Opens PGlite: file-backed in `dataDir` (created if missing) when given,
 * with each commit synced to stable storage before it is acknowledged; in
 * memory otherwise. Takes a few seconds on first initdb.
 * @throws DatabaseUnavailableError if the data directory cannot be opened.
 */
export async function openPglite(
  dataDir?: string,
  opts: PgliteOptions = {},
): Promise<PgliteDatabase> {
  let pglite: PGlite;
  try {
    if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
    // Options only: PGlite ignores the options object when the dataDir argument is given as undefined.
    // File-backed: every commit is fsynced before it returns (durable-fs.ts).
    pglite = new PGlite({
      ...(dataDir !== undefined && opts.sync === false ? { dataDir } : {}),
      ...(dataDir !== undefined && opts.sync !== false
        ? { fs: new DurableNodeFS(dataDir), startParams: [...DURABLE_START_PARAMS] }
        : {}),
      ...(opts.loadDataDir !== undefined ? { loadDataDir: opts.loadDataDir } : {}),
    });
    await pglite.waitReady;
  } catch {
    throw new DatabaseUnavailableError('embedded database could not be opened');
  }
  const mutex = new Mutex();
  const identity = {};
  let closed = false;

  const raw: Queryable = {
    async query<R>(sql: string, params?: unknown[]): Promise<QueryResult<R>> {
      try {
        const res = await pglite.query<R>(sql, params ?? []);
        return { rows: res.rows, rowCount: res.rowCount ?? res.affectedRows ?? res.rows.length };
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
    async exec(sql: string) {
      try {
        await pglite.exec(sql);
      } catch (err) {
        throw mapDatabaseError(err);
      }
    },
  };

  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    // Calling the database from inside its own transaction would wait on itself forever.
    if (holding.getStore() === identity) {
      return Promise.reject(
        new StoreMisuseError('use the transaction handle inside transaction(), not the database'),
      );
    }
    if (closed) return Promise.reject(new DatabaseUnavailableError('embedded database is closed'));
    return mutex.run(fn);
  }

  return {
    kind: 'pglite',
    query<R>(sql: string, params?: unknown[]) {
      return exclusive(() => raw.query<R>(sql, params));
    },
    exec(sql: string) {
      return exclusive(() => raw.exec(sql));
    },
    transaction(fn, topts) {
      return retrySerializable(
        () =>
          exclusive(async () => {
            const scope = scopedQueryable(raw);
            await raw.exec(beginSql(topts));
            try {
              const result = await holding.run(identity, () => fn(scope.tx));
              scope.end();
              await raw.exec('COMMIT');
              return result;
            } catch (err) {
              scope.end();
              try {
                await pglite.exec('ROLLBACK');
              } catch {
                // Nothing to roll back (COMMIT already ended it) or the database is gone.
              }
              throw err;
            }
          }),
        topts,
      );
    },
    dumpDataDir(compression = 'none') {
      return exclusive(async () => {
        // Committed WAL may not be in the data files yet: a dump without a checkpoint loses it.
        await raw.exec('CHECKPOINT');
        return pglite.dumpDataDir(compression);
      });
    },
    async close() {
      if (closed) return;
      await exclusive(async () => {
        closed = true;
        await pglite.close();
      });
    },
  };
}
