// Timing helpers for the benchmarks: run a body for a fixed wall time and
// report the rate. Benchmarks print figures and ratios; they never assert.
import { performance } from 'node:perf_hooks';

export interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

/** Calls `body` (which performs `batch` operations) until `minSeconds` have passed. */
export function measure(body: () => void, batch = 1, minSeconds = 1): Rate {
  for (let i = 0; i < 3; i++) body(); // warm up the JIT and key caches
  let ops = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    body();
    ops += batch;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < minSeconds);
  return { ops, seconds: elapsed, perSecond: ops / elapsed };
}

/** Async variant of {@link measure}. */
export async function measureAsync(
  body: () => Promise<void>,
  batch = 1,
  minSeconds = 1,
): Promise<Rate> {
  for (let i = 0; i < 2; i++) await body();
  let ops = 0;
  const start = performance.now();
  let elapsed: number;
  do {
    await body();
    ops += batch;
    elapsed = (performance.now() - start) / 1000;
  } while (elapsed < minSeconds);
  return { ops, seconds: elapsed, perSecond: ops / elapsed };
}

export function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

/** One result line: a figure, and its ratio to the raw limit it is measured against. */
export function report(
  label: string,
  value: number,
  unit: string,
  ratio?: { to: string; value: number; goal?: number },
): void {
  let line = `${label.padEnd(58)} ${fmt(value).padStart(12)} ${unit}`;
  if (ratio) {
    line += `   ${(ratio.value * 100).toFixed(1)}% of ${ratio.to}`;
    if (ratio.goal !== undefined)
      line +=
        ratio.value >= ratio.goal
          ? `  (goal ≥ ${ratio.goal * 100}%: met)`
          : `  (goal ≥ ${ratio.goal * 100}%: NOT met)`;
  }
  console.log(line);
}

/**
 * Measures two bodies in alternating short rounds and keeps each one's best
 * rate, so a ratio between them is not skewed by load that changed between
 * two long runs (this machine is shared).
 */
export function paired(
  a: { body: () => void; batch: number },
  b: { body: () => void; batch: number },
  rounds = 6,
  secondsPerRound = 0.3,
): { a: number; b: number } {
  let bestA = 0;
  let bestB = 0;
  for (let r = 0; r < rounds; r++) {
    bestA = Math.max(bestA, measure(a.body, a.batch, secondsPerRound).perSecond);
    bestB = Math.max(bestB, measure(b.body, b.batch, secondsPerRound).perSecond);
  }
  return { a: bestA, b: bestB };
}
