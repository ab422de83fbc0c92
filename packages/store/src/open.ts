// Picks the driver from the environment (DESIGN §8a configuration).
import { join } from 'node:path';
import type { Database } from './driver.js';
import { openPg } from './pg-driver.js';
import { openPglite } from './pglite-driver.js';
import { securePrivateDir } from './private-dir.js';
import { lockDataDir } from './data-dir-lock.js';

export interface DatabaseEnv {
  DATABASE_URL?: string | undefined;
  PROVENANT_DATA_DIR?: string | undefined;
}

/** Where the embedded database keeps its files inside PROVENANT_DATA_DIR. */
export function pgliteDataDir(env: DatabaseEnv): string {
  return join(env.PROVENANT_DATA_DIR || './data', 'pgdata');
}

/**
 * `pg` when DATABASE_URL is set, otherwise PGlite file-backed under
 * `$PROVENANT_DATA_DIR/pgdata` (default `./data/pgdata`; the data dir itself
 * also holds the service's generated secrets). Does not migrate: call `migrate(db)`.
 * Embedded, the data dir is made private first (umask 077, folders 0700,
 * files 0600) and locked to this process (pglite.pid), and each commit is
 * synced to disk before it returns.
 */
export async function openDatabase(env: DatabaseEnv): Promise<Database> {
  if (env.DATABASE_URL) return openPg(env.DATABASE_URL);
  const root = env.PROVENANT_DATA_DIR || './data';
  await securePrivateDir(root);
  const unlock = await lockDataDir(root);
  let db: Database;
  try {
    db = await openPglite(pgliteDataDir(env));
  } catch (err) {
    await unlock();
    throw err;
  }
  // A first start unpacks initdb's files with the modes of PGlite's in-memory copy (0666).
  await securePrivateDir(root);
  const close = db.close.bind(db);
  return Object.assign(db, {
    async close() {
      await close();
      await unlock();
    },
  });
}
