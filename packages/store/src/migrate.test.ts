// The migrations runner on both drivers: order, once-only, concurrency, bad files.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import {
  MigrationError,
  openPg,
  openPglite,
  migrate,
  readMigrations,
  storageDrivers,
  type Database,
} from './index.js';
import { MIGRATIONS_LOCK_KEY } from './migrate.js';

const TEST_URL = process.env.PROVENANT_TEST_DATABASE_URL;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'provenant-migrations-'));
  await writeFile(
    join(dir, '000001_first.sql'),
    'CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);',
  );
  await writeFile(
    join(dir, '000002_second.sql'),
    'CREATE TABLE b (id int REFERENCES a (id));\nINSERT INTO b VALUES (1);',
  );
  await writeFile(join(dir, 'README.md'), 'not a migration');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let emptyPglite: Promise<Blob> | undefined;

/** An empty database of the given driver, plus a factory for more handles on it. */
async function emptyDatabase(driver: 'pg' | 'pglite'): Promise<{
  url?: string;
  open(): Promise<Database>;
  dispose(): Promise<void>;
}> {
  if (driver === 'pglite') {
    // initdb once per file, then load copies of the empty data directory (much faster).
    emptyPglite ??= openPglite().then(async (fresh) => {
      const blob = await fresh.dumpDataDir();
      await fresh.close();
      return blob;
    });
    const db = await openPglite(undefined, { loadDataDir: await emptyPglite });
    return { open: async () => db, dispose: () => db.close() };
  }
  const name = `provenant_m_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: TEST_URL! });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(TEST_URL!);
  url.pathname = `/${name}`;
  const handles: Database[] = [];
  return {
    url: url.toString(),
    async open() {
      const db = await openPg(url.toString(), { max: 2 });
      handles.push(db);
      return db;
    },
    async dispose() {
      await Promise.all(handles.map((h) => h.close()));
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

describe('reading migration files', () => {
  it('orders NNNNNN_name.sql files by id and ignores other files', async () => {
    const files = await readMigrations(dir);
    expect(files.map((f) => [f.id, f.name])).toEqual([
      [1, 'first'],
      [2, 'second'],
    ]);
  });

  it('the repository migrations start with 000001_init', async () => {
    const files = await readMigrations();
    expect(files[0]).toMatchObject({ id: 1, name: 'init', file: '000001_init.sql' });
  });

  it('a misnamed .sql file is a MigrationError', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'provenant-bad-'));
    try {
      await writeFile(join(bad, '1_init.sql'), 'SELECT 1');
      await expect(readMigrations(bad)).rejects.toBeInstanceOf(MigrationError);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});

describe.each(storageDrivers())('migrate on %s', (driver) => {
  it('applies each migration once, in order, and records it', async () => {
    const env = await emptyDatabase(driver);
    try {
      const db = await env.open();
      expect(await migrate(db, dir)).toEqual([1, 2]);
      expect(await migrate(db, dir)).toEqual([]);
      const { rows } = await db.query('SELECT id, name FROM migrations ORDER BY id');
      expect(rows).toEqual([
        { id: 1, name: 'first' },
        { id: 2, name: 'second' },
      ]);
      expect((await db.query('SELECT count(*)::int AS n FROM b')).rows[0]).toEqual({ n: 1 });
    } finally {
      await env.dispose();
    }
  }, 60_000);

  it('multiple concurrent migrators of the schema are fine', async () => {
    const env = await emptyDatabase(driver);
    try {
      const handles = await Promise.all(Array.from({ length: 4 }, () => env.open()));
      const applied = await Promise.all(handles.map((h) => migrate(h, dir)));
      expect(applied.flat().sort()).toEqual([1, 2]);
      expect((await handles[0]!.query('SELECT count(*)::int AS n FROM a')).rows[0]).toEqual({
        n: 1,
      });
    } finally {
      await env.dispose();
    }
  }, 60_000);

  it('a failing migration rolls back whole and is not recorded', async () => {
    const env = await emptyDatabase(driver);
    const broken = await mkdtemp(join(tmpdir(), 'provenant-broken-'));
    try {
      await writeFile(join(broken, '000001_ok.sql'), 'CREATE TABLE ok (id int);');
      await writeFile(
        join(broken, '000002_bad.sql'),
        'CREATE TABLE half (id int);\nSELECT * FROM missing_table;',
      );
      const db = await env.open();
      const err = await migrate(db, broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MigrationError);
      expect((err as Error).message).not.toMatch(/missing_table/);
      const { rows } = await db.query(
        `SELECT to_regclass('half') IS NULL AS gone, (SELECT count(*)::int FROM migrations) AS n`,
      );
      expect(rows[0]).toEqual({ gone: true, n: 1 });
    } finally {
      await rm(broken, { recursive: true, force: true });
      await env.dispose();
    }
  }, 60_000);

  it('a migration renamed after it was applied is a MigrationError', async () => {
    const env = await emptyDatabase(driver);
    const renamed = await mkdtemp(join(tmpdir(), 'provenant-renamed-'));
    try {
      const db = await env.open();
      await migrate(db, dir);
      await writeFile(join(renamed, '000001_other.sql'), 'SELECT 1;');
      await expect(migrate(db, renamed)).rejects.toBeInstanceOf(MigrationError);
    } finally {
      await rm(renamed, { recursive: true, force: true });
      await env.dispose();
    }
  }, 60_000);
});

(TEST_URL ? describe : describe.skip)('first-time migrators on pg', () => {
  it('take turns on an advisory lock to create the migrations table (no catalogue race, 42710)', async () => {
    const env = await emptyDatabase('pg');
    const holder = new pg.Client({ connectionString: env.url! });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
      const db = await env.open();
      const running = migrate(db, dir);
      // The migrator waits for the lock instead of racing the holder on CREATE TABLE.
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const { rows } = await holder.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
        );
        waiting = rows[0]!.n;
      }
      expect(waiting).toBe(1);
      const { rows } = await holder.query(`SELECT to_regclass('migrations') IS NULL AS absent`);
      expect(rows[0]).toEqual({ absent: true });
      await holder.query('COMMIT');
      expect(await running).toEqual([1, 2]);
    } finally {
      await holder.end();
      await env.dispose();
    }
  }, 60_000);
});
