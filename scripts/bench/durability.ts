// Embedded durability (issue 11): the cost of syncing each PGlite commit to
// stable storage. Runs tests/support/durable-writes.ts (one transaction per
// acknowledged write through the store's driver) on a fresh data directory,
// with and without the per-commit fsync, and prints writes/s for each.
// Figures are printed, never asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../tests/support/paths.js';
import { report } from './measure.js';

/** Acknowledged writes per measurement. */
const WRITES = Number(process.env.BENCH_DURABLE_WRITES ?? 500);

/** Writes per second of one run of durable-writes.ts (the open and initdb are not timed). */
function writesPerSecond(dataDir: string, sync: boolean): number {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'tests/support/durable-writes.ts',
      dataDir,
      String(WRITES),
      ...(sync ? [] : ['nosync']),
    ],
    { cwd: REPO_ROOT, encoding: 'utf8' },
  );
  const m = /^acknowledged (\d+) ([\d.]+)/.exec(out);
  if (!m) throw new Error(`unexpected output of durable-writes: ${out}`);
  return Number(m[1]) / (Number(m[2]) / 1000);
}

export function runDurabilityBench(): void {
  console.log('\n== embedded PGlite durability (one transaction per write) ==');
  const dir = mkdtempSync(join(tmpdir(), 'provenant-bench-durable-'));
  try {
    // initdb first, so neither measurement includes it.
    writesPerSecond(join(dir, 'sync'), true);
    writesPerSecond(join(dir, 'nosync'), false);
    const synced = writesPerSecond(join(dir, 'sync'), true);
    const relaxed = writesPerSecond(join(dir, 'nosync'), false);
    report('acknowledged writes, fsync per commit (the default)', synced, 'writes/s', {
      to: 'without fsync',
      value: synced / relaxed,
    });
    report('acknowledged writes without fsync (PGlite default -F)', relaxed, 'writes/s');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
