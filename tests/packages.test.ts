// Every workspace package is publishable (issue 9 "for people who install it"):
// not private, a version, a description, the licence, the files it ships and
// exports that point into dist/. The root stays private. No package names a
// repository URL that is not this checkout's own remote (none is set today:
// the public home is not decided, README "Using the packages").
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { repoPath } from './support/paths.js';

type Pkg = Record<string, unknown> & {
  exports?: Record<string, Record<string, string>>;
  files?: string[];
  bin?: Record<string, string>;
};

const read = (dir: string): Pkg =>
  JSON.parse(readFileSync(repoPath(dir, 'package.json'), 'utf8')) as Pkg;

const DIRS = ['packages', 'services'].flatMap((top) =>
  readdirSync(repoPath(top), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(repoPath(top, d.name, 'package.json')))
    .map((d) => `${top}/${d.name}`),
);

// The checkout's own remote, if any: the only repository URL a package may name.
const REMOTE = (() => {
  const r = spawnSync('git', ['remote', 'get-url', 'origin'], {
    cwd: repoPath(),
    encoding: 'utf8',
  });
  return r.status === 0 && r.stdout.trim() ? `git+${r.stdout.trim()}` : '(no remote: name none)';
})();

describe('the workspace packages', () => {
  it('are all found (packages/* and services/*)', () => {
    expect(DIRS).toEqual(expect.arrayContaining(['packages/core', 'packages/gs1', 'packages/cli']));
    expect(DIRS.length).toBeGreaterThanOrEqual(7);
  });

  it.each(DIRS)('%s is publishable: version, description, licence, files', (dir) => {
    const pkg = read(dir);
    expect(pkg.private).toBeUndefined();
    expect(pkg.name).toMatch(/^@provenant\//);
    expect(pkg.version).toBe('0.2.0');
    expect(typeof pkg.description).toBe('string');
    expect(pkg.license).toBe('Apache-2.0');
    if (pkg.repository !== undefined)
      expect(pkg.repository).toMatchObject({ type: 'git', url: REMOTE, directory: dir });
    expect(pkg.files).toContain('dist');
    expect(pkg.scripts).toMatchObject({ prepack: expect.stringContaining('LICENSE') });
  });

  it.each(DIRS)('%s exports only built files under dist/', (dir) => {
    const pkg = read(dir);
    const targets = Object.values(pkg.exports ?? {}).flatMap((e) => Object.values(e));
    expect(targets.length).toBeGreaterThan(0);
    for (const t of [...targets, pkg.main, pkg.types, ...Object.values(pkg.bin ?? {})])
      expect(t).toMatch(/^\.\/dist\/.+\.(js|d\.ts)$/);
  });

  it('the repository root stays private, under the same licence, with the LICENSE file', () => {
    const root = read('.');
    expect(root.private).toBe(true);
    expect(root.license).toBe('Apache-2.0');
    expect(readFileSync(repoPath('LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
  });
});

describe('key files and CLI outputs', () => {
  // The names the README's examples write, at the root and in a package folder.
  const PATHS = [
    'data/master.key',
    'data/demo-tokens.json',
    'key.json',
    'm-key.json',
    'witness.json',
    'trust.json',
    'bundle.json',
    'pallet.json',
    'in-transit.bundle.json',
    'packages/cli/key.json',
    'services/issuer/server.key',
  ];

  it.each(PATHS)('%s never lands in the repository by accident (.gitignore)', (path) => {
    const r = spawnSync('git', ['check-ignore', '--quiet', path], { cwd: repoPath() });
    expect(r.status).toBe(0);
  });

  it('does not ignore the sources, vectors or migrations', () => {
    for (const path of ['packages/core/src/jcs.ts', 'db/migrations/000001_init.sql', 'README.md']) {
      const r = spawnSync('git', ['check-ignore', '--quiet', path], { cwd: repoPath() });
      expect(r.status).toBe(1);
    }
  });
});
