// The custodial endpoints' dry run of the custody state machine (DESIGN §5):
// before a whole batch is handed to the sequencer, every record the service
// is about to sign is applied, in order, to the chain heads read just now, so
// a refused batch answers with EVERY broken rule (not just the first) and
// nothing is written. The sequencer re-runs the same checks under the log
// lock; only that run is authoritative (a head that moved meanwhile is a 409).
import {
  applyRecord,
  claimedTimeProblem,
  type ChainState,
  type CustodyContext,
  type CustodyRecord,
  type PartyInfo,
} from '@provenant/core';
import { getHeads, getParties, type Queryable } from '@provenant/store';
import type { UnsignedRecord } from '../../append/custodial.js';
import { HttpProblem, type ProblemReason } from '@provenant/server-kit';
import type { PendingRecord } from '../../log/sequencer.js';

/** At most this many reasons are listed in one refusal. */
export const MAX_REASONS = 100;

/** A record as the plan builds it, before the custodial key signs it. */
type Data<T extends CustodyRecord['type']> = Extract<CustodyRecord, { type: T }>['data'];

/** Reason codes a plan may refuse with. */
export type PlanCode = 'CHAIN_BROKEN' | 'GENESIS_INVALID' | 'CUSTODY_VIOLATION';

/**
 * Chain states of the subjects a request touches, plus what the request's own
 * records change. One per request; not shared.
 */
export class CustodyPlan {
  /** Refusals so far, each `{code, message, subject, index?}` (index: the request item). */
  readonly reasons: ProblemReason[] = [];
  readonly ctx: CustodyContext;
  private readonly staged = new Map<string, ChainState>();
  private firstConflict: { subject: string; state: ChainState | undefined } | null = null;
  private refusals = 0;

  private constructor(
    /** The caller's GLN: every record of the plan is signed by it. */
    readonly actor: string,
    private readonly heads: Map<string, ChainState>,
    private readonly parties: Map<string, PartyInfo>,
    private readonly nowMs: number,
  ) {
    this.ctx = {
      party: (gln) => this.parties.get(gln),
      state: (subject) => this.state(subject),
    };
  }

  /**
   * Reads the current heads of `subjects` and the caller's party.
   * @throws store errors (503 when the database is down).
   */
  static async load(
    q: Queryable,
    actor: string,
    subjects: Iterable<string>,
    now: () => number = Date.now,
  ): Promise<CustodyPlan> {
    const [heads, parties] = await Promise.all([
      readStates(q, [...new Set(subjects)]),
      getParties(q, [actor]),
    ]);
    const infos = new Map<string, PartyInfo>();
    for (const [gln, p] of parties)
      infos.set(gln, { gln, roles: p.roles, prefixes: p.prefixes, status: p.status });
    return new CustodyPlan(actor, heads, infos, now());
  }

  /** Reads more heads (e.g. the units inside a container named by the request). */
  async include(q: Queryable, subjects: Iterable<string>): Promise<void> {
    const missing = [...new Set(subjects)].filter((s) => !this.heads.has(s));
    if (missing.length === 0) return;
    for (const [s, st] of await readStates(q, missing)) this.heads.set(s, st);
  }

  /** The subject's state after the plan's records so far, or undefined when it has no chain. */
  state(subject: string): ChainState | undefined {
    return this.staged.get(subject) ?? this.heads.get(subject);
  }

  /** True when the plan holds no refusal. */
  get clean(): boolean {
    return this.refusals === 0;
  }

  /** Notes a refusal (the request item `index`, when one applies). */
  refuse(code: PlanCode, message: string, subject: string, index?: number): void {
    this.refusals++;
    if (code === 'CHAIN_BROKEN' && this.firstConflict === null)
      this.firstConflict = { subject, state: this.state(subject) };
    if (this.reasons.length < MAX_REASONS)
      this.reasons.push({ code, message, subject, ...(index === undefined ? {} : { index }) });
  }

  /**
   * The next record of `subject`'s chain, by the caller, unsigned; null (and
   * a CUSTODY_VIOLATION noted) when the subject has no chain. Its time is the
   * clock, never before the chain's last record (times never go backwards
   * along a chain), unless the caller states one (an EPCIS eventTime; the
   * state machine then judges it like any signer's claim).
   */
  next<T extends CustodyRecord['type']>(
    subject: string,
    type: T,
    data: Data<T>,
    index?: number,
    time?: string,
  ): UnsignedRecord | null {
    const st = this.state(subject);
    if (!st) {
      this.refuse(
        'CUSTODY_VIOLATION',
        `${subject} has no chain (never commissioned or packed)`,
        subject,
        index,
      );
      return null;
    }
    return this.build(subject, st.seq + 1, st.head, type, data, Date.parse(st.lastTime), time);
  }

  /**
   * The first record (seq 0) of a new chain, unsigned; `time` is the signer's
   * claim when the caller states one (an EPCIS eventTime), else the clock.
   */
  genesis<T extends CustodyRecord['type']>(
    subject: string,
    type: T,
    data: Data<T>,
    time?: string,
  ): UnsignedRecord {
    return this.build(subject, 0, null, type, data, 0, time);
  }

  private build(
    subject: string,
    seq: number,
    prev: string | null,
    type: CustodyRecord['type'],
    data: unknown,
    notBefore: number,
    claimed?: string,
  ): UnsignedRecord {
    const time = claimed ?? new Date(Math.max(this.nowMs, notBefore)).toISOString();
    return { v: 1, subject, seq, prev, type, actor: this.actor, time, data } as UnsignedRecord;
  }

  /**
   * Applies a signed record to the plan (as the sequencer will). Returns
   * false, noting the reason, when the state machine refuses it.
   */
  apply(p: PendingRecord, index?: number): boolean {
    const { record } = p;
    const r = applyRecord(this.state(record.subject), record, p.id, this.ctx);
    if (!r.ok) {
      this.refuse(r.code, r.message, record.subject, index);
      return false;
    }
    this.staged.set(record.subject, r.state);
    return true;
  }

  /**
   * Applies the signed records of one unit of work (an EPCIS event) together:
   * all of them, or none when one breaks a custody rule or a DESIGN §5 time
   * rule against `receiptTime`; the refusal is returned, not noted, so the
   * plan goes on with the next unit as if this one never came.
   */
  tryApplyAll(
    ps: readonly PendingRecord[],
    receiptTime: string,
    maxBackdateMs?: number,
  ): { ok: true } | { ok: false; code: string; message: string; entry: number } {
    const overlay = new Map<string, ChainState>();
    const ctx: CustodyContext = {
      party: this.ctx.party,
      state: (s) => overlay.get(s) ?? this.state(s),
    };
    for (let i = 0; i < ps.length; i++) {
      const { record, id } = ps[i]!;
      const current = ctx.state(record.subject);
      const r = applyRecord(current, record, id, ctx);
      if (!r.ok) return { ok: false, code: r.code, message: r.message, entry: i };
      const late = claimedTimeProblem(record.time, receiptTime, current?.lastTime, maxBackdateMs);
      if (late) return { ok: false, code: 'TIME_ANOMALY', message: late.message, entry: i };
      overlay.set(record.subject, r.state);
    }
    for (const [s, st] of overlay) this.staged.set(s, st);
    return { ok: true };
  }

  /**
   * Throws when anything was refused: 409 `chain-conflict` naming the current
   * head when a chain link is stale (DESIGN §8), else 422 with every reason
   * code (at most MAX_REASONS; `reasonsTruncated` when more).
   */
  assertClean(): void {
    if (this.clean) return;
    const truncated = this.refusals > this.reasons.length;
    const extra: Record<string, unknown> = truncated ? { reasonsTruncated: true } : {};
    const first = this.reasons[0]!;
    const summary =
      this.refusals === 1
        ? `${String(first.subject)}: ${String(first.message)}`
        : `${this.refusals} records break a custody rule; the first: ${String(first.subject)}: ${String(first.message)}`;
    if (this.firstConflict) {
      const { subject, state } = this.firstConflict;
      throw new HttpProblem(409, 'chain-conflict', summary, {
        reasons: this.reasons,
        extra: { ...extra, subject, head: state?.head ?? null, seq: state?.seq ?? null },
      });
    }
    const slug = String(first.code).toLowerCase().replace(/_/g, '-');
    throw new HttpProblem(422, slug, summary, { reasons: this.reasons, extra });
  }
}

/** chain_heads states of `subjects` (those that have a chain). */
async function readStates(q: Queryable, subjects: string[]): Promise<Map<string, ChainState>> {
  const out = new Map<string, ChainState>();
  if (subjects.length === 0) return out;
  for (const [s, h] of await getHeads(q, subjects)) out.set(s, h.state as ChainState);
  return out;
}
