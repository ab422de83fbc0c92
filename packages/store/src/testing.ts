// Test support (STYLE rule 9, like graphile-worker): a template database
// migrated once per run, then a fresh copy per test file, on either driver.
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Client } from 'pg';
import type { Database } from './driver.js';
import { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations } from './migrate.js';
import { openPg } from './pg-driver.js';
import { openPglite } from './pglite-driver.js';

export type StorageDriver = 'pg' | 'pglite';

/** A throwaway database; `drop()` closes and removes it. */
export type TestDatabase = Database & { drop(): Promise<void> };

/** The drivers a storage suite runs against: always PGlite, plus pg when PROVENANT_TEST_DATABASE_URL is set. */
export function storageDrivers(): StorageDriver[] {
  return process.env.PROVENANT_TEST_DATABASE_URL ? ['pglite', 'pg'] : ['pglite'];
}

/**
 * A fresh, migrated database. Default driver: pg when
 * PROVENANT_TEST_DATABASE_URL is set, PGlite otherwise.
 * @throws Error when 'pg' is asked for without PROVENANT_TEST_DATABASE_URL.
 */
export async function createTestDatabase(
  driver: StorageDriver = process.env.PROVENANT_TEST_DATABASE_URL ? 'pg' : 'pglite',
): Promise<TestDatabase> {
  return driver === 'pg' ? createPgTestDatabase() : createPgliteTestDatabase();
}

async function migrationsHash(): Promise<string> {
  const h = createHash('sha256');
  for (const m of await readMigrations(DEFAULT_MIGRATIONS_DIR)) h.update(`${m.file}\0${m.sql}\0`);
  return h.digest('hex').slice(0, 16);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminClient(url: string): Promise<Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

let pgTemplate: Promise<string> | undefined;

// One template per migration set, built under an advisory lock so parallel
// jest workers build it once; built under a temporary name and renamed, so a
// crash half-way never leaves a broken template behind.
async function ensurePgTemplate(url: string): Promise<string> {
  const tpl = `provenant_tpl_${await migrationsHash()}`;
  const client = await adminClient(url);
  try {
    await client.query('SELECT pg_advisory_lock(7361626)');
    const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1::text', [
      tpl,
    ]);
    if (rows.length === 0) {
      const building = `${tpl}_build`;
      await client.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`);
      await client.query(`CREATE DATABASE ${building}`);
      const db = await openPg(withDatabase(url, building), { max: 1 });
      try {
        await migrate(db);
      } finally {
        await db.close();
      }
      await client.query(`ALTER DATABASE ${building} RENAME TO ${tpl}`);
    }
    await client.query('SELECT pg_advisory_unlock(7361626)');
  } finally {
    await client.end();
  }
  return tpl;
}

async function createPgTestDatabase(): Promise<TestDatabase> {
  const url = process.env.PROVENANT_TEST_DATABASE_URL;
  if (!url) throw new Error('PROVENANT_TEST_DATABASE_URL is not set');
  pgTemplate ??= ensurePgTemplate(url);
  const tpl = await pgTemplate;
  const name = `provenant_t_${randomBytes(6).toString('hex')}`;
  const client = await adminClient(url);
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${tpl}`);
  } finally {
    await client.end();
  }
  const db = await openPg(withDatabase(url, name));
  let dropped = false;
  return {
    ...db,
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.close();
      const admin = await adminClient(url);
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

let pgliteTemplate: Promise<{ blob: Blob; cached: boolean }> | undefined;

// initdb in WASM takes seconds; loading a dumped data directory is much faster.
// The dump is cached in the OS temp dir (keyed by the migrations) so every jest
// worker and test file after the first skips initdb and migrations.
async function buildPgliteTemplate(useCache: boolean): Promise<{ blob: Blob; cached: boolean }> {
  const cache = join(tmpdir(), `provenant-pglite-tpl-${await migrationsHash()}.tar`);
  const cached = useCache ? await readFile(cache).catch(() => null) : null;
  if (cached !== null) return { blob: new Blob([new Uint8Array(cached)]), cached: true };
  const db = await openPglite();
  try {
    await migrate(db);
    const blob = await db.dumpDataDir();
    const tmp = `${cache}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, new Uint8Array(await blob.arrayBuffer()));
    await rename(tmp, cache);
    return { blob, cached: false };
  } finally {
    await db.close();
  }
}

async function createPgliteTestDatabase(): Promise<TestDatabase> {
  pgliteTemplate ??= buildPgliteTemplate(true);
  const tpl = await pgliteTemplate;
  let db;
  try {
    db = await openPglite(undefined, { loadDataDir: tpl.blob });
    await db.query('SELECT 1 FROM migrations LIMIT 1');
  } catch (err) {
    // A cached dump from another PGlite version or a torn file: rebuild it once.
    await db?.close().catch(() => {});
    if (!tpl.cached) throw err;
    pgliteTemplate = buildPgliteTemplate(false);
    return createPgliteTestDatabase();
  }
  const opened = db;
  return { ...opened, drop: () => opened.close() };
}
