// Flood isolation (DESIGN §8, issue 11): a party's verifications on an
// instance share a few slots, in arrival order. A unit's verification (a few
// indexed reads) takes one slot; a logistic unit's or a presented bundle's
// (up to a pallet's work) takes them all and runs alone. So a party flooding
// with pallets on many connections has at most one pallet in flight and
// cannot crowd another party out, while a dock's unit scans run side by
// side. A party's queue is bounded; past it the request is 429 with
// Retry-After before any work is done.
import { tooManyRequests } from '@provenant/server-kit';

/** Verifications a party may have waiting behind its running ones (per instance). */
export const DEFAULT_MAX_QUEUED = 16;
/** Unit verifications a party may have running at once (per instance). */
export const DEFAULT_PARTY_SLOTS = 8;

interface PartyQueue {
  free: number;
  /** running and waiting */
  count: number;
  waiting: { need: number; start: () => void }[];
}

/** Per-party FIFO over a few slots: one per light verification, all of them for a heavy one. */
export class PartyGate {
  private readonly parties = new Map<string, PartyQueue>();
  constructor(
    private readonly maxQueued = DEFAULT_MAX_QUEUED,
    private readonly slots = DEFAULT_PARTY_SLOTS,
  ) {}

  /** Verifications of `party` running or waiting. */
  inFlight(party: string): number {
    return this.parties.get(party)?.count ?? 0;
  }

  /**
   * Runs `fn` once the party's earlier verifications leave it room: one slot,
   * or every slot when `exclusive` (a logistic unit, a presented bundle).
   * @throws HttpProblem 429 `verification-queue-full` when the party already has maxQueued waiting.
   */
  async run<T>(party: string, fn: () => Promise<T>, exclusive = false): Promise<T> {
    const need = exclusive ? this.slots : 1;
    const q = this.parties.get(party) ?? { free: this.slots, count: 0, waiting: [] };
    const mustWait = q.waiting.length > 0 || q.free < need; // FIFO: nobody overtakes a waiter
    if (mustWait && q.waiting.length >= this.maxQueued)
      throw tooManyRequests(
        `Party ${party} has ${q.count} verifications running or waiting on this instance; retry later.`,
        { slug: 'verification-queue-full', headers: { 'Retry-After': '1' } },
      );
    q.count++;
    this.parties.set(party, q);
    if (mustWait) await new Promise<void>((start) => q.waiting.push({ need, start }));
    else q.free -= need;
    try {
      return await fn();
    } finally {
      q.free += need;
      for (let w = q.waiting[0]; w !== undefined && q.free >= w.need; w = q.waiting[0]) {
        q.waiting.shift();
        q.free -= w.need;
        w.start();
      }
      if (--q.count === 0) this.parties.delete(party);
    }
  }
}
