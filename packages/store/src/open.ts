// Picks the driver from the environment (DESIGN §8a configuration).
import { join } from 'node:path';
import type { Database } from './driver.js';
import { openPg } from './pg-driver.js';
import { openPglite } from './pglite-driver.js';

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
 */
export async function openDatabase(env: DatabaseEnv): Promise<Database> {
  if (env.DATABASE_URL) return openPg(env.DATABASE_URL);
  return openPglite(pgliteDataDir(env));
}
