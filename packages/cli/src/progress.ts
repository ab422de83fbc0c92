// A progress bar on stderr (cli-progress) for bulk commands: only for people
// on a terminal, never under --json, never mixed into stdout.
import cliProgress from 'cli-progress';

export interface Progress {
  increment(n: number): void;
  stop(): void;
}

const NONE: Progress = { increment() {}, stop() {} };

/** A bar of `total` steps labelled `label`, or a no-op when `enabled` is false. */
export function progress(enabled: boolean, label: string, total: number): Progress {
  if (!enabled) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {eta_formatted} left`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (n) => bar.increment(n),
    stop: () => bar.stop(),
  };
}
