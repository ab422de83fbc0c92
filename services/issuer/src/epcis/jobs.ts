// Capture jobs outside the request (DESIGN §11): who runs a job, its
// heartbeat and progress while it runs, and the sweep that finishes jobs a
// dead process left `running`.
//
// Every process has a runner id; a job row names the runner that runs it,
// and the runner's heartbeat (`updated_at`) moves at least every
// HEARTBEAT_MS while the job runs. A job whose heartbeat is older than
// STALE_AFTER_MS, run by another runner, belongs to a process that is gone
// (a restart, a crash): the sweep marks it finished, success false, with a
// CaptureInterrupted error. Several replicas may share the database: a live
// replica's jobs keep a fresh heartbeat and are never swept.
//
// What an interrupted job wrote: a capture writes its events in ONE
// sequencer submission (rollback and proceed alike; epcis/capture.ts), so
// either none of its events is stored or all of the submission's are, and
// the sweep tells which from epcis_events.capture_id.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  sweepInterruptedCaptureJobs,
  touchCaptureJob,
  type CaptureJobError,
  type Database,
  type InterruptedCaptureJob,
} from '@provenant/store';
import { PROBLEM_TYPE_PREFIX } from '@provenant/server-kit';

/** This process's runner id (one per process: its jobs are its own). */
export const PROCESS_RUNNER = randomUUID();

/** How often a running job's heartbeat moves at least. */
export const HEARTBEAT_MS = 10_000;
/** A running job whose heartbeat is older than this has lost its process. */
export const STALE_AFTER_MS = 6 * HEARTBEAT_MS;
/** How often progress is written while it changes. */
const PROGRESS_MS = 250;

/** The error an interrupted job is finished with. */
export function interruptedError(job: InterruptedCaptureJob): CaptureJobError {
  const written =
    job.writtenCount === 0
      ? 'no event of this capture was stored'
      : `${job.writtenCount} event(s) of this capture were stored before it stopped ` +
        '(GET /epcis/events lists them); the others were not';
  return {
    eventIndex: 0,
    type: `${PROBLEM_TYPE_PREFIX}capture-interrupted`,
    detail:
      `CaptureInterrupted: the service restarted (or the process running the capture died) ` +
      `before the capture finished; ${written}. Capture the document again ` +
      '(events already stored are refused as DUPLICATE_EVENT_ID).',
    reasons: [{ code: 'CAPTURE_INTERRUPTED', field: '', message: written }],
  };
}

/**
 * Finishes the jobs of gone processes (see the header); returns them.
 * `runner`: the sweeping process's id, whose own jobs are never touched.
 */
export async function sweepInterruptedJobs(
  db: Database,
  opts: { runner?: string; staleAfterMs?: number; logger?: Logger } = {},
): Promise<InterruptedCaptureJob[]> {
  const swept = await sweepInterruptedCaptureJobs(db, {
    runner: opts.runner ?? PROCESS_RUNNER,
    staleAfterMs: opts.staleAfterMs ?? STALE_AFTER_MS,
    errorOf: (job) => [interruptedError(job)],
  });
  for (const job of swept)
    opts.logger?.warn(
      { captureId: job.captureId, writtenCount: job.writtenCount },
      'capture job interrupted by a restart; marked finished',
    );
  return swept;
}

/**
 * Sweeps at once and then every HEARTBEAT_MS (a job of a process that died
 * moments before this start becomes stale later); `stop` ends it.
 */
export function startJobSweeper(
  db: Database,
  logger?: Logger,
): { ready: Promise<void>; stop(): void } {
  const sweep = async () => {
    try {
      await sweepInterruptedJobs(db, logger ? { logger } : {});
    } catch (err) {
      logger?.error({ err }, 'capture job sweep failed');
    }
  };
  const ready = sweep();
  const timer = setInterval(() => void sweep(), HEARTBEAT_MS);
  timer.unref();
  return { ready, stop: () => clearInterval(timer) };
}

/**
 * A running job's heartbeat and progress: `progress(n)` records the count
 * (written at most every PROGRESS_MS), the heartbeat moves every
 * HEARTBEAT_MS regardless; `stop` ends both (the job's finish writes the rest).
 */
export function jobHeartbeat(
  db: Database,
  captureId: string,
  logger?: Logger,
): { progress(n: number): void; stop(): Promise<void> } {
  let latest = 0;
  let written = 0;
  let lastWrite = Date.now();
  let busy: Promise<void> = Promise.resolve();
  const tick = () => {
    const now = Date.now();
    if (latest === written && now - lastWrite < HEARTBEAT_MS) return;
    const n = latest;
    lastWrite = now;
    busy = busy
      .then(() => touchCaptureJob(db, captureId, n))
      .then(
        () => {
          written = Math.max(written, n);
        },
        (err: unknown) => logger?.warn({ err, captureId }, 'capture job heartbeat failed'),
      );
  };
  const timer = setInterval(tick, PROGRESS_MS);
  timer.unref();
  return {
    progress: (n) => {
      latest = Math.max(latest, n);
    },
    stop: async () => {
      clearInterval(timer);
      await busy;
    },
  };
}
