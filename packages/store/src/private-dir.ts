// The embedded data directory is private to the service user (DESIGN §9):
// folders 0700, files 0600. It holds the database, the master key and the
// demo tokens.
import { chmod, lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Mode of every folder in the data directory. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file in the data directory. */
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Sets the process umask to 077, so files created from now on (PGlite's
 * relation and WAL files) are private. Worker threads cannot change the
 * umask; there the start-up chmod of `securePrivateDir` still applies.
 */
export function restrictUmask(): void {
  try {
    process.umask(0o077);
  } catch {
    // ERR_WORKER_UNSUPPORTED_OPERATION: the umask belongs to the main thread.
  }
}

/** chmods `path` and everything under it (symlinks are left alone, not followed). */
async function chmodTree(path: string): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o777) !== PRIVATE_DIR_MODE) await chmod(path, PRIVATE_DIR_MODE);
    for (const name of await readdir(path)) await chmodTree(join(path, name));
  } else if ((st.mode & 0o777) !== PRIVATE_FILE_MODE) {
    await chmod(path, PRIVATE_FILE_MODE);
  }
}

/**
 * Makes `dir` (created if missing) private: umask 077 for the process, then
 * 0700 on it and every folder below, 0600 on every file (files made by an
 * older version or another umask).
 */
export async function securePrivateDir(dir: string): Promise<void> {
  restrictUmask();
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await chmodTree(dir);
}
