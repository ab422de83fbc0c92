// Flood isolation (DESIGN §8, issue 11): one party's verifications run one at
// a time on an instance, in arrival order, so a party flooding on many
// connections has at most one verification (one pallet's work) in flight and
// cannot crowd another party's out. A party's queue is bounded; past it the
// request is 429 with Retry-After before any work is done.
import { tooManyRequests } from '@provenant/server-kit';

/** Verifications a party may have waiting behind its running one (per instance). */
export const DEFAULT_MAX_QUEUED = 16;

/** Per-party FIFO with one slot per party. */
export class PartyGate {
  private readonly queues = new Map<string, { tail: Promise<void>; waiting: number }>();
  constructor(private readonly maxQueued = DEFAULT_MAX_QUEUED) {}

  /** Verifications of `party` running or waiting. */
  inFlight(party: string): number {
    return this.queues.get(party)?.waiting ?? 0;
  }

  /**
   * Runs `fn` once the party's earlier verifications have finished.
   * @throws HttpProblem 429 `verification-queue-full` when the party already has maxQueued waiting.
   */
  async run<T>(party: string, fn: () => Promise<T>): Promise<T> {
    const q = this.queues.get(party) ?? { tail: Promise.resolve(), waiting: 0 };
    if (q.waiting > this.maxQueued)
      throw tooManyRequests(
        `Party ${party} has ${q.waiting} verifications running or waiting on this instance; retry later.`,
        { slug: 'verification-queue-full', headers: { 'Retry-After': '1' } },
      );
    const before = q.tail;
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    q.tail = before.then(() => mine);
    q.waiting++;
    this.queues.set(party, q);
    try {
      await before;
      return await fn();
    } finally {
      release();
      if (--q.waiting === 0) this.queues.delete(party);
    }
  }
}
