// Backups (DESIGN §9): `provenant admin backup` and `restore`. On PostgreSQL a
// pg_dump custom-format archive (consistent while the service runs); on
// PGlite the data directory tarball of PGlite's own dumpDataDir, taken with
// the service stopped (PGlite is one process: a second opener would corrupt
// it, so the data dir's lock refuses while the service holds it).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openPg } from './pg-driver.js';
import { openPglite } from './pglite-driver.js';
import { pgliteDataDir, type DatabaseEnv } from './open.js';
import { lockDataDir } from './data-dir-lock.js';
import { securePrivateDir } from './private-dir.js';

/** A backup or restore that cannot be done; the message says why and what to do. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Where Debian and the PGDG packages install the client tools, newest first. */
function pgToolCandidates(tool: string): string[] {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  return [tool, ...versions.map((v) => join(root, v, 'bin', tool))];
}

/** Runs a PostgreSQL client tool (PATH first, then /usr/lib/postgresql/<v>/bin). */
async function runPgTool(tool: string, args: string[]): Promise<void> {
  for (const bin of pgToolCandidates(tool)) {
    const result = await new Promise<{ code: number | null; err: string } | 'ENOENT'>((resolve) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.once('error', (e: NodeJS.ErrnoException) =>
        resolve(e.code === 'ENOENT' ? 'ENOENT' : { code: -1, err: e.message }),
      );
      child.once('close', (code) => resolve({ code, err }));
    });
    if (result === 'ENOENT') continue;
    if (result.code === 0) return;
    throw new BackupError(`${tool} failed: ${result.err.trim().split('\n').slice(-3).join(' ')}`);
  }
  // Every candidate was missing (any other outcome returned or threw above).
  throw new BackupError(
    `${tool} not found on PATH or in /usr/lib/postgresql/*/bin (install postgresql-client)`,
  );
}

/** Writes `bytes` to `file` (mode 0600) through a temporary file and a rename. */
async function writePrivate(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes, { mode: 0o600 });
  await rename(tmp, file);
}

/** The connection string pg_dump and pg_restore take (libpq reads it as --dbname). */
function dbnameArg(url: string): string[] {
  return ['--dbname', url];
}

/**
 * Backs the database of `env` up into `file`: pg_dump custom format with
 * DATABASE_URL, else the PGlite data directory tarball (the service must be
 * stopped). Returns which kind was written.
 * @throws BackupError when the tool is missing, fails, or the data dir is in use.
 */
export async function backupDatabase(
  env: DatabaseEnv,
  file: string,
): Promise<'pg_dump' | 'pglite'> {
  if (env.DATABASE_URL) {
    const tmp = `${file}.${process.pid}.tmp`;
    await runPgTool('pg_dump', [
      '--format=custom',
      '--no-owner',
      '--file',
      tmp,
      ...dbnameArg(env.DATABASE_URL),
    ]);
    await rename(tmp, file);
    return 'pg_dump';
  }
  const root = env.PROVENANT_DATA_DIR || './data';
  const pgdata = pgliteDataDir(env);
  if (!existsSync(join(pgdata, 'PG_VERSION')))
    throw new BackupError(`no embedded database in ${pgdata}`);
  const unlock = await lockDataDir(root);
  try {
    const db = await openPglite(pgdata);
    try {
      const blob = await db.dumpDataDir('gzip');
      await writePrivate(file, new Uint8Array(await blob.arrayBuffer()));
    } finally {
      await db.close();
    }
  } finally {
    await unlock();
  }
  return 'pglite';
}

/**
 * Restores `file` (written by backupDatabase) into the database of `env`,
 * which must be empty: a fresh PostgreSQL database, or a data directory with
 * no embedded database yet. The master key is not in the backup: start the
 * restored service with the same PROVENANT_MASTER_KEY (or master.key file).
 * @throws BackupError when the target is not empty, or the archive does not load.
 */
export async function restoreDatabase(
  env: DatabaseEnv,
  file: string,
): Promise<'pg_dump' | 'pglite'> {
  if (!existsSync(file)) throw new BackupError(`no backup file ${file}`);
  if (env.DATABASE_URL) {
    const db = await openPg(env.DATABASE_URL, { max: 1 });
    try {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = 'public'`,
      );
      if (Number(rows[0]!.n) > 0)
        throw new BackupError('the target database is not empty: restore into a new database');
    } finally {
      await db.close();
    }
    await runPgTool('pg_restore', [
      '--no-owner',
      '--no-privileges',
      '--exit-on-error',
      '--single-transaction',
      ...dbnameArg(env.DATABASE_URL),
      file,
    ]);
    return 'pg_dump';
  }
  const root = env.PROVENANT_DATA_DIR || './data';
  const pgdata = pgliteDataDir(env);
  if (existsSync(pgdata) && readdirSync(pgdata).length > 0)
    throw new BackupError(`${pgdata} is not empty: restore into a new data directory`);
  await securePrivateDir(root);
  const unlock = await lockDataDir(root);
  try {
    const blob = new Blob([await readFile(file)]);
    let db;
    try {
      db = await openPglite(pgdata, { loadDataDir: blob });
    } catch {
      throw new BackupError(`${file} is not a PGlite data directory backup`);
    }
    await db.close();
  } finally {
    await unlock();
  }
  await securePrivateDir(root);
  return 'pglite';
}
