// Driver behaviour that is not per-table: 503 mapping, error hygiene, the
// embedded driver's file backing and queueing, and driver selection.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  DatabaseUnavailableError,
  QueryError,
  createTestDatabase,
  openDatabase,
  openPg,
  openPglite,
  pgliteDataDir,
  prepared,
  storageDrivers,
} from './index.js';
import { mapDatabaseError } from './errors.js';

describe('when PostgreSQL is unreachable', () => {
  it('the first query raises DatabaseUnavailableError quickly instead of hanging', async () => {
    const db = await openPg('postgres://postgres@127.0.0.1:1/none', {
      connectionTimeoutMillis: 1000,
    });
    const started = Date.now();
    try {
      await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
      await expect(db.transaction(async () => 1)).rejects.toMatchObject({
        code: 'DATABASE_UNAVAILABLE',
      });
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await db.close();
    }
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    ],
    ['a terminated connection', new Error('Connection terminated unexpectedly')],
    [
      'an admin shutdown',
      Object.assign(new Error('terminating connection due to administrator command'), {
        code: '57P01',
      }),
    ],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
  ])('%s maps to DatabaseUnavailableError', (_name, err) => {
    expect(mapDatabaseError(err)).toBeInstanceOf(DatabaseUnavailableError);
  });
});

describe.each(storageDrivers())('errors on %s', (driver) => {
  it('a failing query reports its SQLSTATE but neither the SQL nor the parameters', async () => {
    const db = await createTestDatabase(driver);
    try {
      const err = await db
        .query('SELECT $1::bigint AS secret_column', ['hunter2-secret'])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(QueryError);
      expect(err).toMatchObject({ code: 'QUERY_FAILED', sqlState: '22P02' });
      const shown = JSON.stringify({
        ...(err as object),
        message: (err as Error).message,
        stack: (err as Error).stack,
      });
      expect(shown).not.toMatch(/hunter2|secret_column|SELECT/);
    } finally {
      await db.drop();
    }
  }, 60_000);
});

(process.env.PROVENANT_TEST_DATABASE_URL ? describe : describe.skip)(
  'hot statements on PostgreSQL',
  () => {
    const MODE = `SELECT current_setting('plan_cache_mode') AS mode, $1::int AS n`;
    const HOT = prepared(`${MODE}, 'hot' AS kind`);

    it('plans a hot statement once, on connections that keep a generic plan', async () => {
      const db = await createTestDatabase('pg');
      try {
        // Batches as parameters made PostgreSQL plan the verification facts on every run.
        expect((await db.query(HOT, [1])).rows[0]).toMatchObject({ mode: 'force_generic_plan' });
        // Any other statement is still planned for its parameters.
        expect((await db.query(MODE, [1])).rows[0]).toMatchObject({ mode: 'auto' });
        // In a transaction, a hot statement runs on the transaction's connection.
        const inTx = await db.transaction((tx) => tx.query(HOT, [1]));
        expect(inTx.rows[0]).toMatchObject({ mode: 'auto' });
      } finally {
        await db.drop();
      }
    }, 60_000);
  },
);

describe('the embedded driver', () => {
  it('keeps data in its directory across a reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'provenant-pglite-'));
    try {
      const a = await openPglite(join(dir, 'pgdata'));
      await a.exec('CREATE TABLE kept (v text)');
      await a.transaction((tx) => tx.query(`INSERT INTO kept VALUES ($1::text)`, ['survives']));
      await a.close();
      const b = await openDatabase({ PROVENANT_DATA_DIR: dir });
      expect(b.kind).toBe('pglite');
      expect((await b.query('SELECT v FROM kept')).rows).toEqual([{ v: 'survives' }]);
      await b.close();
      await expect(b.query('SELECT 1')).rejects.toBeInstanceOf(DatabaseUnavailableError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('queues concurrent transactions on its single connection', async () => {
    const db = await createTestDatabase('pglite');
    try {
      await db.exec('CREATE TABLE q (n int)');
      const order: number[] = [];
      await Promise.all(
        [1, 2, 3].map((n) =>
          db.transaction(async (tx) => {
            order.push(n);
            await tx.query('INSERT INTO q VALUES ($1::int)', [n]);
            await new Promise((r) => setTimeout(r, 20));
            order.push(-n);
          }),
        ),
      );
      expect(order).toEqual([1, -1, 2, -2, 3, -3]);
    } finally {
      await db.drop();
    }
  }, 60_000);

  it('puts its files under PROVENANT_DATA_DIR/pgdata, default ./data/pgdata', () => {
    expect(pgliteDataDir({ PROVENANT_DATA_DIR: '/srv/p' })).toBe('/srv/p/pgdata');
    expect(pgliteDataDir({})).toBe('data/pgdata');
  });
});

describe('choosing the driver', () => {
  it('uses pg when DATABASE_URL is set', async () => {
    const db = await openDatabase({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
    expect(db.kind).toBe('pg');
    await db.close();
  });
});
