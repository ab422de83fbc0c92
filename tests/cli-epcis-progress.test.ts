// `provenant epcis capture`'s progress bar follows the job's processedCount
// as it is polled (DESIGN §11), instead of jumping to the end when it finishes.
import { describe, expect, it } from '@jest/globals';
import { captureProgress, type Progress } from '@provenant/cli';
import type { CaptureJob } from '@provenant/sdk';

function recording(): Progress & { steps: number[] } {
  const steps: number[] = [];
  return { steps, increment: (n) => void steps.push(n), stop() {} };
}

const job = (running: boolean, processedCount?: number): CaptureJob => ({
  captureID: 'c1',
  createdAt: '2026-12-06T00:00:00.000Z',
  running,
  errors: [],
  ...(processedCount !== undefined ? { processedCount, eventCount: 10 } : {}),
});

describe('captureProgress', () => {
  it('moves to the processed count on each poll, never back, and to the end when finished', () => {
    const bar = recording();
    const onPoll = captureProgress(bar, 10);
    for (const j of [job(true, 0), job(true, 4), job(true, 3), job(true, 7), job(false, 10)])
      onPoll(j);
    expect(bar.steps).toEqual([4, 3, 3]);
  });

  it('never passes the total, even if the server counts more', () => {
    const bar = recording();
    const onPoll = captureProgress(bar, 10);
    onPoll(job(true, 25));
    onPoll(job(false, 25));
    expect(bar.steps).toEqual([10]);
  });

  it('a server without counts: the bar stays until the job finishes', () => {
    const bar = recording();
    const onPoll = captureProgress(bar, 10);
    onPoll(job(true));
    onPoll(job(true));
    expect(bar.steps).toEqual([]);
    onPoll(job(false));
    expect(bar.steps).toEqual([10]);
  });
});
