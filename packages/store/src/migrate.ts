// Migrations runner (STYLE rule 6, like graphile-worker): numbered .sql files,
// applied in order, each once, each in its own transaction, recorded FIRST so
// two concurrent migrators collide on the primary key of `migrations`.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Database } from './driver.js';
import {
  DatabaseUnavailableError,
  MigrationError,
  QueryError,
  UniqueViolationError,
} from './errors.js';

/**
 * The SQL migrations, found from this module (works from src/ and dist/): the
 * repository's db/migrations in the workspace, or the copy `prepack` puts in
 * the published package (migrations/ beside dist/).
 */
export const DEFAULT_MIGRATIONS_DIR =
  [new URL('../../../db/migrations/', import.meta.url), new URL('../migrations/', import.meta.url)]
    .map((u) => fileURLToPath(u))
    .find((dir) => existsSync(dir)) ??
  fileURLToPath(new URL('../../../db/migrations/', import.meta.url));

const FILE_RE = /^(\d{6})_([a-z0-9_]+)\.sql$/;

export interface MigrationFile {
  id: number;
  name: string;
  file: string;
  sql: string;
}

/**
 * Reads and validates the migration files of `dir`, ordered by id.
 * @throws MigrationError on a misnamed .sql file or a duplicate id.
 */
export async function readMigrations(
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const out: MigrationFile[] = [];
  for (const file of names) {
    const m = FILE_RE.exec(file);
    if (m === null) throw new MigrationError(`migration file ${file} is not named NNNNNN_name.sql`);
    const id = Number(m[1]);
    if (out.some((x) => x.id === id)) throw new MigrationError(`duplicate migration id ${m[1]}`);
    out.push({ id, name: m[2]!, file, sql: await readFile(join(dir, file), 'utf8') });
  }
  return out;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS migrations (
  id integer PRIMARY KEY,
  name text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * Key of the transaction-level advisory lock that first-time migrators take
 * around creating `migrations` (advisory locks are per database).
 */
export const MIGRATIONS_LOCK_KEY = 7361627;

/**
 * Creates `migrations` under an advisory lock, so concurrent first-time
 * migrators take turns: without it, CREATE TABLE IF NOT EXISTS races on the
 * catalogue and fails 23505 (pg_type index), 42P07 (relation) or 42710
 * (`type "migrations" already exists`, seen once in 900 racing creates).
 */
async function ensureMigrationsTable(db: Database): Promise<void> {
  try {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
      await tx.exec(CREATE_TABLE);
    });
  } catch (err) {
    // A migrator that does not take the lock (an older release) may still race us: the table exists now.
    const racing =
      err instanceof UniqueViolationError ||
      (err instanceof QueryError && (err.sqlState === '42P07' || err.sqlState === '42710'));
    if (!racing) throw err;
  }
}

async function appliedNames(db: Database): Promise<Map<number, string>> {
  const { rows } = await db.query<{ id: number; name: string }>(
    'SELECT id, name FROM migrations ORDER BY id',
  );
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * Applies every migration of `dir` not yet recorded, in id order; safe to run
 * concurrently from several processes. Returns the ids it applied itself.
 * @throws MigrationError if an applied id now has another name, or a script fails.
 */
export async function migrate(
  db: Database,
  dir: string = DEFAULT_MIGRATIONS_DIR,
): Promise<number[]> {
  const files = await readMigrations(dir);
  await ensureMigrationsTable(db);
  const applied = await appliedNames(db);
  const done: number[] = [];
  for (const m of files) {
    const known = applied.get(m.id);
    if (known !== undefined) {
      if (known !== m.name)
        throw new MigrationError(`migration ${m.id} was applied as ${known}, now named ${m.name}`);
      continue;
    }
    try {
      await db.transaction(async (tx) => {
        // Recorded first: a concurrent migrator blocks here, then fails on the key and re-checks.
        await tx.query('INSERT INTO migrations (id, name) VALUES ($1::integer, $2::text)', [
          m.id,
          m.name,
        ]);
        await tx.exec(m.sql);
      });
      done.push(m.id);
    } catch (err) {
      if (err instanceof UniqueViolationError && err.table === 'migrations') {
        const now = await appliedNames(db);
        if (now.get(m.id) === m.name) continue;
      }
      if (err instanceof MigrationError || err instanceof DatabaseUnavailableError) throw err;
      const state = err instanceof QueryError ? ` (SQLSTATE ${err.sqlState ?? 'unknown'})` : '';
      const failure = new MigrationError(`migration ${m.file} failed${state}`);
      (failure as { cause?: unknown }).cause = err;
      throw failure;
    }
  }
  return done;
}
