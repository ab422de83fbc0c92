// One process at a time on an embedded data directory: PGlite is a single
// process's database, and a second opener (a second service, or a backup
// while the service runs) would corrupt it. The lock is a pid file; one left
// by a process that no longer exists (kill -9) is taken over.
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseUnavailableError } from './errors.js';

/** The lock file inside PROVENANT_DATA_DIR. */
export const LOCK_FILE = 'pglite.pid';

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the data directory's lock; resolves to its release.
 * @throws DatabaseUnavailableError naming the process that holds it.
 */
export async function lockDataDir(root: string): Promise<() => Promise<void>> {
  const file = join(root, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      return async () => {
        await unlink(file).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    if (alive(holder))
      throw new DatabaseUnavailableError(
        `the embedded database in ${root} is in use by process ${holder}; stop it first`,
      );
    await unlink(file).catch(() => undefined); // stale: its process is gone
  }
  throw new DatabaseUnavailableError(`could not lock ${root}`);
}
