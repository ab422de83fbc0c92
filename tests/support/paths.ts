// Where the repository and its test data are, resolved from this file rather
// than the working directory, so a test reads only inside the checkout it
// belongs to (a fresh clone has nothing beside it to read).
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository's root folder (absolute, no trailing slash). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

/** An absolute path inside the repository. */
export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}

/** An absolute path inside testdata/vectors, the repository's copy of the public vectors. */
export function vectorPath(...segments: string[]): string {
  return join(REPO_ROOT, 'testdata', 'vectors', ...segments);
}
