// Embedded mode is durable and private (DESIGN §9): each acknowledged
// commit was fsynced, and the data directory is 0700 with files 0600.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_TIMEOUT_MS, startServiceProcess } from './support/service-process.js';
import { REPO_ROOT } from './support/paths.js';

/** Runs tests/support/durable-writes.ts (under strace when `traceTo` is given); resolves its stdout. */
function durableWrites(dataDir: string, n: number, traceTo?: string): Promise<string> {
  const node = [process.execPath, '--import', 'tsx', 'tests/support/durable-writes.ts'];
  const argv = [
    ...(traceTo
      ? ['strace', '-f', '-c', '-o', traceTo, '-e', 'trace=fsync,fdatasync,sync_file_range,msync']
      : []),
    ...node,
    dataDir,
    String(n),
  ];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`durable-writes exited ${code}: ${err}`)),
    );
  });
}

/** fsync plus fdatasync calls in an `strace -c` summary. */
function syncCalls(summary: string): number {
  let calls = 0;
  for (const m of summary.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)\s*$/gm))
    if (m[2] === 'fsync' || m[2] === 'fdatasync') calls += Number(m[1]);
  return calls;
}

describe('embedded PGlite commits reach stable storage before they are acknowledged', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-fsync-'));
    // initdb and the first reopen (which checkpoints initdb's WAL) outside
    // the trace: only opening, writing and closing are counted.
    await durableWrites(dir, 0);
    await durableWrites(dir, 0);
  }, START_TIMEOUT_MS);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'makes at least one fsync or fdatasync per acknowledged write',
    async () => {
      const writes = 40;
      const idle = await durableWrites(dir, 0, join(dir, 'idle.strace'));
      expect(idle).toMatch(/^acknowledged 0 /);
      const busy = await durableWrites(dir, writes, join(dir, 'busy.strace'));
      expect(busy).toMatch(new RegExp(`^acknowledged ${writes} `));
      const base = syncCalls(readFileSync(join(dir, 'idle.strace'), 'utf8'));
      const total = syncCalls(readFileSync(join(dir, 'busy.strace'), 'utf8'));
      // Opening and closing (the shutdown checkpoint) sync too: the writes are the difference.
      expect(total - base).toBeGreaterThanOrEqual(writes);
    },
    START_TIMEOUT_MS,
  );
});

/** Every path under `root` (itself included) with its permission bits. */
function modes(root: string): { path: string; dir: boolean; mode: number }[] {
  const out: { path: string; dir: boolean; mode: number }[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    out.push({ path: p, dir: st.isDirectory(), mode: st.mode & 0o777 });
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(root);
  return out;
}

/** The entries whose mode is not 0700 (folders) or 0600 (files). */
function notPrivate(root: string): string[] {
  return modes(root)
    .filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
    .map((e) => `${e.path.slice(root.length)} ${e.mode.toString(8)}`);
}

describe('the embedded data directory is private to the service user', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-private-'));
    // Left by an older version or another umask: world-readable.
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'old'), { mode: 0o755 });
    writeFileSync(join(dir, 'old', 'notes.txt'), 'x');
    chmodSync(join(dir, 'old'), 0o755);
    chmodSync(join(dir, 'old', 'notes.txt'), 0o644);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'has folders 0700 and files 0600 after a first start and after a restart',
    async () => {
      const first = await startServiceProcess({ PROVENANT_DATA_DIR: dir });
      try {
        const entries = modes(dir);
        // The database, the master key, the demo tokens.
        expect(entries.filter((e) => !e.dir).length).toBeGreaterThan(500);
        expect(notPrivate(dir)).toEqual([]);
      } finally {
        expect(await first.stop()).toBe(0);
      }
      expect(notPrivate(dir)).toEqual([]);

      // A file made world-readable while stopped is private again after the next start.
      chmodSync(join(dir, 'master.key'), 0o644);
      chmodSync(join(dir, 'pgdata'), 0o755);
      const second = await startServiceProcess({ PROVENANT_DATA_DIR: dir });
      try {
        expect(notPrivate(dir)).toEqual([]);
      } finally {
        expect(await second.stop()).toBe(0);
      }
    },
    3 * START_TIMEOUT_MS,
  );
});
