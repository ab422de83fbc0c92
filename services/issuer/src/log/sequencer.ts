// The log sequencer (DESIGN §6, §9; issue 3): the one serial point of the
// issuer. Appends are group-committed: submissions that arrive while a batch
// is being written queue up and are sequenced together in ONE transaction:
//   lock log_state (the serial point across replicas) -> read chain heads,
//   keys and parties -> re-run the custody check of every record in order
//   (only this check, under the lock, is authoritative) -> assign consecutive
//   leaf indexes -> write records/notices, leaves with signed receipts, new
//   complete subtrees and chain heads -> sign and store a checkpoint -> COMMIT.
// Each submission (a record, a notice or a whole batch) is all-or-nothing; a
// refused submission fails alone, the others in the batch proceed.
import {
  applyRecord,
  claimedTimeProblem,
  DEFAULT_MAX_BACKDATE_MS,
  receiptMessageBuilder,
  signCheckpoint,
  type ChainState,
  type CustodyContext,
  type CustodyRecord,
  type Envelope,
  type Notice,
  type PartyInfo,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  analyzeAppendTables,
  appendBatch,
  appendLeafBatch,
  appendLeafTexts,
  getLeaves,
  insertWebhookEvents,
  insertCheckpoint,
  insertEntryBatch,
  insertEpcisEvents,
  latestCheckpoint,
  lockLogSize,
  readSequencingContext,
  type Database,
  type MerkleNode,
  type EntryBatch,
  type NewChainHead,
  type NewLeafText,
  type NewNotice,
  type NewRecord,
  type NewWebhookEvent,
  type Queryable,
  type SequencingKey,
  type StoredLeaf,
} from '@provenant/store';
import { tooLarge } from '@provenant/server-kit';
import { v1EventRows, v1EventsOf, type PendingEpcisEvent } from '../append/epcis-events.js';
import { chainConflict, refused, type AppendRefusedError } from './errors.js';
import type { LogKeys } from './keys.js';
import { envelopeJcs, leafHashOfJcs, signerFor, type FastSigner } from './fast.js';
import { receiptOf, type Receipt } from './receipts.js';
import { Frontier, LogStorageError } from './tree.js';
import { inSpan } from '@provenant/server-kit';
import { MAX_BATCH_SUBJECTS } from '@provenant/core';

/** Most subjects one batch call names (DESIGN §8: up to 10,000, all-or-nothing; core api/requests.ts). */
export { MAX_BATCH_SUBJECTS };
/**
 * Most entries one submission may carry: a pack of MAX_BATCH_SUBJECTS
 * children writes one record per child plus the container's.
 */
export const MAX_SUBMISSION_ENTRIES = MAX_BATCH_SUBJECTS + 1;
/** Batches up to this many new entries write everything in one statement (see sequence). */
const SINGLE_STATEMENT_ENTRIES = 256;
/** Leaves per insert statement of a large batch, signed between yields to the event loop. */
const LEAF_CHUNK = 1_024;

/** Appended entries after which the append tables' statistics are refreshed (and at least ANALYZE_FRACTION of the log). */
export const ANALYZE_MIN_ENTRIES = 5_000;
export const ANALYZE_FRACTION = 0.1;

/** Default cap of entries sequenced in one transaction. */
export const DEFAULT_MAX_BATCH_ENTRIES = 20_000;

/** A verified record ready to be sequenced (see append/prepare.ts). */
export interface PendingRecord {
  kind: 'record';
  /** SHA-256 hex of `payload`. */
  id: string;
  record: CustodyRecord;
  /** The JCS payload bytes the envelope signs. */
  payload: Uint8Array;
  envelope: Envelope;
}

/** A verified notice ready to be sequenced. */
export interface PendingNotice {
  kind: 'notice';
  id: string;
  notice: Notice;
  payload: Uint8Array;
  envelope: Envelope;
}

export type PendingEntry = PendingRecord | PendingNotice;

/** One entry's place in the log: its receipt, and for records the chain position. */
export interface Accepted {
  kind: 'record' | 'notice';
  id: string;
  index: number;
  /** Lowercase hex leaf hash. */
  leafHash: string;
  integratedAt: string;
  receipt: Receipt;
  /** Records only. */
  subject?: string;
  seq?: number;
  /** True when the entry was already in the log (the same envelope sent again): the stored result. */
  duplicate: boolean;
}

export interface SubmitOptions {
  /**
   * Runs inside the sequencing transaction after this submission's checks
   * passed and before its entries are written (e.g. insert the party a
   * `party` notice registers). Throwing refuses this submission alone (it
   * runs in a savepoint) and the error is what `submit` rejects with. It
   * must use only `tx` and be safe to run again (the transaction may retry).
   * `integratedAt` is the receipt time this batch gives its entries.
   */
  apply?: (tx: Queryable, integratedAt: string) => Promise<void>;
  /**
   * Runs inside the sequencing transaction after this submission's entries
   * were written, with their results (e.g. store the response under the
   * Idempotency-Key row that `apply` reserved). A throw fails the WHOLE batch,
   * so it must not fail for reasons of its own: reserve in `apply`, fill in here.
   */
  after?: (tx: Queryable, accepted: Accepted[]) => Promise<void>;
  /**
   * The submission stores the EPCIS events of its records itself (EPCIS
   * capture, in `apply`). Otherwise each new record that the DESIGN §11 table
   * maps gets the event built from it (source 'v1'), in the batch transaction.
   */
  ownEvents?: boolean;
  /** A higher cap of entries for this submission (an EPCIS document captured all-or-nothing). */
  maxEntries?: number;
}

export interface SequencerOptions {
  db: Database;
  keys: LogKeys;
  /** Cap of entries per transaction (default 20,000); a submission is never split. */
  maxBatchEntries?: number;
  /** Extra wait before a batch starts, so concurrent appends commit together (default 0: next tick). */
  lingerMs?: number;
  /** Clock for receipt times (epoch ms); injectable for tests. */
  now?: () => number;
  /** How far a record's time may lie before its receipt time (DESIGN §5); default 72 h. */
  maxBackdateMs?: number;
  /**
   * The outbox events of a batch's new entries (DESIGN §12), written in the
   * batch's transaction so an event commits with its fact. Must be pure and cheap:
   * it runs under the log lock.
   */
  events?: (records: NewRecord[], notices: NewNotice[], integratedAt: string) => NewWebhookEvent[];
  /** Called after each committed batch with its entry count and transaction time (metrics). */
  onBatch?: (entries: number, ms: number) => void;
}

/** Counters for tests, benchmarks and metrics. */
export interface SequencerStats {
  /** Transactions attempted (each batch is one). */
  batches: number;
  /** Submissions resolved or rejected. */
  submissions: number;
  /** Leaves written. */
  entries: number;
}

interface Prepared {
  entry: PendingEntry;
  /** JCS(envelope): the leaf hash preimage, stored as the leaf's envelope. */
  jcs: string;
  leafHash: Uint8Array;
}

interface Submission {
  entries: Prepared[];
  /** The /v1 events of its records, by record id (none with `ownEvents`). */
  epcis: Map<string, PendingEpcisEvent> | null;
  apply: SubmitOptions['apply'];
  after: SubmitOptions['after'];
  resolve: (accepted: Accepted[]) => void;
  reject: (err: unknown) => void;
}

/** What became of one entry of an accepted submission. */
type Plan =
  | { kind: 'new'; p: Prepared }
  | { kind: 'stored'; p: Prepared; leaf: StoredLeaf }
  | { kind: 'again'; p: Prepared }; // sent twice in this batch: the first occurrence's result

type Outcome = { ok: true; plan: Plan[]; results?: Accepted[] } | { ok: false; error: unknown };

/** Misuse of the sequencer (closed, empty submission). */
export class SequencerError extends Error {
  override readonly name = 'SequencerError';
  constructor(
    readonly code: 'SEQUENCER_CLOSED' | 'EMPTY_SUBMISSION',
    message: string,
  ) {
    super(message);
  }
}

/** Subjects whose state a record's custody check may read (DESIGN §5 pack/unpack rules). */
function subjectsOf(record: CustodyRecord): string[] {
  const out = [record.subject];
  const data = record.data as { parent?: unknown; children?: unknown };
  if (typeof data.parent === 'string') out.push(data.parent);
  if (Array.isArray(data.children))
    for (const c of data.children as unknown[])
      out.push(typeof c === 'string' ? c : (c as { subject: string }).subject);
  return out;
}

function actorOf(e: PendingEntry): string {
  return e.kind === 'record' ? e.record.actor : e.notice.actor;
}

function kidOf(e: PendingEntry): string {
  return e.kind === 'record' ? e.record.kid : e.notice.kid;
}

/**
 * Key and party checks under the lock: a key revoked with compromisedAt = T
 * signs nothing integrated at or after T (DESIGN §6: the receipt time counts);
 * a record's key must belong to its actor; a suspended party signs nothing.
 */
function authorityRefusal(
  e: PendingEntry,
  key: SequencingKey | undefined,
  parties: Map<string, PartyInfo>,
  integratedAt: string,
  entry: number,
): AppendRefusedError | null {
  const kid = kidOf(e);
  const actor = actorOf(e);
  const where = { entry, ...(e.kind === 'record' ? { subject: e.record.subject } : {}) };
  if (!key) return refused('KEY_UNKNOWN', `no key with kid ${kid}`, where);
  if (key.status === 'revoked') {
    const t = key.compromisedAt ?? key.revokedAt;
    if (t === null || Date.parse(integratedAt) >= Date.parse(t))
      return refused('KEY_REVOKED', `key ${kid} is revoked`, where);
  }
  const owner = actor === 'authority' ? null : actor;
  if (key.gln !== owner)
    return refused('KEY_NOT_AUTHORIZED', `key ${kid} does not belong to ${actor}`, where);
  if (owner !== null) {
    const party = parties.get(owner);
    if (!party) return refused('KEY_NOT_AUTHORIZED', `${owner} is not a registered party`, where);
    if (party.status === 'suspended')
      return refused('PARTY_SUSPENDED', `party ${owner} is suspended`, where);
  }
  return null;
}

/**
 * DESIGN §5: `ship.to` must be a registered party that is not suspended (issue
 * 10 #4), for client-signed and custodial records alike. Checked here, under the
 * lock, rather than in core's state machine: an offline bundle carries only the
 * notices of its chains' actors, so the engine cannot know every receiver.
 */
function shipTargetRefusal(
  record: CustodyRecord,
  parties: Map<string, PartyInfo>,
  where: { entry: number; subject: string },
): AppendRefusedError | null {
  if (record.type !== 'ship') return null;
  const to = parties.get(record.data.to);
  if (!to)
    return refused(
      'CUSTODY_VIOLATION',
      `ship.to ${record.data.to} is not a registered party`,
      where,
    );
  if (to.status === 'suspended')
    return refused('CUSTODY_VIOLATION', `ship.to ${record.data.to} is suspended`, where);
  return null;
}

/**
 * Group-committing log sequencer. One per process; several processes (replicas)
 * may run one each on the same database: log_state's row lock orders them.
 */
export class Sequencer {
  readonly stats: SequencerStats = { batches: 0, submissions: 0, entries: 0 };

  private readonly db: Database;
  private readonly keys: LogKeys;
  private readonly maxBatchEntries: number;
  private readonly lingerMs: number;
  private readonly now: () => number;
  private readonly maxBackdateMs: number;
  private readonly events: SequencerOptions['events'];
  private readonly onBatch: SequencerOptions['onBatch'];
  private queue: Submission[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** The committed right edge of the tree, or null to reload it at the next batch. */
  private frontier: Frontier | null = null;
  private lastTime = 0;
  /** Entries appended since the last statistics refresh, the log size then, and the running refresh. */
  private sinceAnalyze = 0;
  private analyzedSize = 0;
  private analyzing: Promise<void> | null = null;
  /** The log key imported once (node:crypto), and the receipt body serialiser for our origin. */
  private readonly logSigner: FastSigner;
  private readonly receiptMessage: ReturnType<typeof receiptMessageBuilder>;

  constructor(opts: SequencerOptions) {
    this.db = opts.db;
    this.keys = opts.keys;
    this.logSigner = signerFor(opts.keys.seed);
    this.receiptMessage = receiptMessageBuilder(opts.keys.origin);
    this.maxBatchEntries = Math.max(
      MAX_SUBMISSION_ENTRIES,
      opts.maxBatchEntries ?? DEFAULT_MAX_BATCH_ENTRIES,
    );
    this.lingerMs = opts.lingerMs ?? 0;
    this.now = opts.now ?? Date.now;
    this.maxBackdateMs = opts.maxBackdateMs ?? DEFAULT_MAX_BACKDATE_MS;
    this.events = opts.events;
    this.onBatch = opts.onBatch;
  }

  /**
   * Signs and stores the checkpoint of the current tree when none exists yet
   * (a fresh log gets its size-0 checkpoint), so GET /v1/log/checkpoint always answers.
   */
  async init(): Promise<void> {
    await this.db.transaction(async (tx) => {
      const size = await lockLogSize(tx);
      const latest = await latestCheckpoint(tx);
      if (latest && latest.size === size) return;
      const frontier = await Frontier.load(tx, size);
      await this.storeCheckpoint(tx, frontier);
    });
  }

  /**
   * Sequences one submission (1..10,000 entries), all-or-nothing. Resolves
   * with one Accepted per entry, in order, once the transaction committed.
   * Rejects with an AppendRefusedError (409 chain conflict / 422 reason code)
   * when an entry is refused, with the `apply` hook's error, or with the
   * store's error (DatabaseUnavailableError: 503) when the batch failed.
   */
  submit(entries: readonly PendingEntry[], opts: SubmitOptions = {}): Promise<Accepted[]> {
    if (this.closed)
      return Promise.reject(new SequencerError('SEQUENCER_CLOSED', 'the sequencer is closed'));
    if (entries.length === 0)
      return Promise.reject(new SequencerError('EMPTY_SUBMISSION', 'nothing to append'));
    const cap = Math.max(MAX_SUBMISSION_ENTRIES, opts.maxEntries ?? 0);
    if (entries.length > cap)
      return Promise.reject(tooLarge(`A submission carries at most ${cap} entries.`));
    let prepared: Prepared[];
    let epcis: Map<string, PendingEpcisEvent> | null = null;
    try {
      // DESIGN §11: the /v1 records' events and their hash IDs, built before the lock.
      if (!opts.ownEvents)
        epcis = v1EventsOf(entries.filter((e): e is PendingRecord => e.kind === 'record'));
      // DESIGN §6: leaf hash = SHA-256(0x00 || JCS(envelope)); computed before the lock.
      prepared = entries.map((entry) => {
        const jcs = envelopeJcs(entry.envelope);
        return { entry, jcs, leafHash: leafHashOfJcs(jcs) };
      });
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Accepted[]>((resolve, reject) => {
      this.queue.push({
        entries: prepared,
        epcis,
        apply: opts.apply,
        after: opts.after,
        resolve,
        reject,
      });
      this.schedule();
    });
  }

  /** Resolves once every queued submission has been settled. */
  async idle(): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new submissions and waits for the queued ones. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
    await this.analyzing;
  }

  /**
   * Refreshes the planner statistics of the append tables in the background
   * once the entries appended since the last refresh reach
   * max(ANALYZE_MIN_ENTRIES, ANALYZE_FRACTION × the log size then), as
   * autovacuum would (autovacuum may be off or late: a bulk load then leaves
   * the planner guessing, and a chain query scanned the whole log). A failed
   * refresh is harmless: the next threshold tries again.
   */
  private freshenStatistics(entries: number, size: number): void {
    this.sinceAnalyze += entries;
    if (
      this.analyzing ||
      this.sinceAnalyze < Math.max(ANALYZE_MIN_ENTRIES, ANALYZE_FRACTION * this.analyzedSize)
    )
      return;
    this.sinceAnalyze = 0;
    this.analyzedSize = size;
    this.analyzing = analyzeAppendTables(this.db)
      .catch(() => {})
      .finally(() => {
        this.analyzing = null;
      });
  }

  private schedule(): void {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      void this.drain();
    };
    if (this.lingerMs > 0) setTimeout(go, this.lingerMs);
    else setImmediate(go);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        let n = 0;
        let take = 0;
        while (take < this.queue.length) {
          const size = this.queue[take]!.entries.length;
          if (take > 0 && n + size > this.maxBatchEntries) break;
          n += size;
          take++;
        }
        const batch = this.queue.splice(0, take);
        await this.runBatch(batch);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
      else {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  private async runBatch(batch: Submission[]): Promise<void> {
    this.stats.batches++;
    let result: Awaited<ReturnType<Sequencer['sequence']>>;
    const started = performance.now();
    try {
      result = await inSpan('log batch', { 'provenant.submissions': batch.length }, () =>
        this.db.transaction((tx) => this.sequence(tx, batch)),
      );
    } catch (err) {
      // Nothing was committed: forget the edge (it may be ahead) and fail every submission.
      this.frontier = null;
      this.stats.submissions += batch.length;
      for (const s of batch) s.reject(err);
      return;
    }
    this.stats.entries += result.accepted.size;
    this.onBatch?.(result.accepted.size, performance.now() - started);
    this.frontier = result.frontier;
    this.freshenStatistics(result.accepted.size, result.frontier.size);
    this.stats.submissions += batch.length;
    batch.forEach((s, i) => {
      const o = result.outcomes[i]!;
      if (!o.ok) {
        s.reject(o.error);
        return;
      }
      s.resolve(o.results!);
    });
  }

  /** One submission's answer: stored results for entries already in the log, else this batch's. */
  private resultsOf(plan: Plan[], accepted: Map<string, Accepted>): Accepted[] {
    return plan.map((item) => {
      if (item.kind === 'stored') return this.storedResult(item.p, item.leaf);
      const a = accepted.get(item.p.entry.id)!;
      return item.kind === 'again' ? { ...a, duplicate: true } : a;
    });
  }

  private storedResult(p: Prepared, leaf: StoredLeaf): Accepted {
    const receipt = receiptOf(this.keys.origin, {
      index: leaf.idx,
      leafHash: leaf.leafHash,
      integratedAt: leaf.integratedAt,
      signature: leaf.receiptSignature,
    });
    return {
      kind: p.entry.kind,
      id: p.entry.id,
      index: leaf.idx,
      leafHash: receipt.leafHash,
      integratedAt: leaf.integratedAt,
      receipt,
      ...(p.entry.kind === 'record'
        ? { subject: p.entry.record.subject, seq: p.entry.record.seq }
        : {}),
      duplicate: true,
    };
  }

  /** Receipt time: the clock, never before the previous batch's nor `floor` (the last stored leaf's). */
  private integrationTime(floor: number): string {
    this.lastTime = Math.max(this.now(), this.lastTime, floor);
    return new Date(this.lastTime).toISOString();
  }

  /** The body of the batch transaction; safe to re-run (touches only `tx` and local state). */
  private async sequence(
    tx: Queryable,
    batch: Submission[],
  ): Promise<{ outcomes: Outcome[]; accepted: Map<string, Accepted>; frontier: Frontier }> {
    const size = await lockLogSize(tx);
    // Another replica may have appended since our last batch: reload the edge then.
    let base = this.frontier;
    let floor = 0;
    if (!base || base.size !== size) {
      base = await Frontier.load(tx, size);
      // Receipt times never go backwards in log order, whatever the replicas' clocks say.
      const last = size > 0 ? (await getLeaves(tx, size - 1, size))[0] : undefined;
      if (last) floor = Date.parse(last.integratedAt);
    }
    const integratedAt = this.integrationTime(floor);

    const ids = new Set<string>();
    const subjects = new Set<string>();
    const glns = new Set<string>();
    const kids = new Set<string>();
    for (const s of batch)
      for (const { entry } of s.entries) {
        ids.add(entry.id);
        kids.add(kidOf(entry));
        const actor = actorOf(entry);
        if (actor !== 'authority') glns.add(actor);
        if (entry.kind === 'record') {
          for (const subj of subjectsOf(entry.record)) subjects.add(subj);
          if (entry.record.type === 'ship') glns.add(entry.record.data.to);
        }
      }
    // One round trip for every read of the batch (after the lock: its snapshot sees all committed batches).
    const context = await readSequencingContext(tx, {
      entryIds: [...ids],
      subjects: [...subjects],
      glns: [...glns],
      kids: [...kids],
    });
    const existing = context.leaves;
    const states = new Map<string, ChainState>();
    for (const [subject, h] of context.heads) states.set(subject, h.state as ChainState);
    const parties: Map<string, PartyInfo> = context.parties;
    const keys = context.keys;

    const outcomes: Outcome[] = [];
    const inBatch = new Set<string>();
    const changed = new Set<string>();
    for (const s of batch) {
      const staged = new Map<string, ChainState>();
      const ctx: CustodyContext = {
        party: (gln) => parties.get(gln),
        state: (subject) => staged.get(subject) ?? states.get(subject),
      };
      const plan: Plan[] = [];
      const mine = new Set<string>();
      let error: unknown = null;
      for (let i = 0; i < s.entries.length && error === null; i++) {
        const p = s.entries[i]!;
        const e = p.entry;
        const stored = existing.get(e.id);
        if (stored) {
          plan.push({ kind: 'stored', p, leaf: stored });
          continue;
        }
        if (inBatch.has(e.id) || mine.has(e.id)) {
          plan.push({ kind: 'again', p });
          continue;
        }
        error = authorityRefusal(e, keys.get(kidOf(e)), parties, integratedAt, i);
        if (error === null && e.kind === 'record') {
          const { record } = e;
          const current = ctx.state(record.subject);
          const where = { entry: i, subject: record.subject };
          const r = applyRecord(current, record, e.id, ctx, integratedAt);
          // DESIGN §5 time rules against the receipt time this batch gives (issue 10 #1);
          // a stale head is still a 409 first (the client re-reads and re-signs).
          const late =
            !r.ok && r.code === 'CHAIN_BROKEN'
              ? null
              : claimedTimeProblem(
                  record.time,
                  integratedAt,
                  current?.lastTime,
                  this.maxBackdateMs,
                );
          if (late) error = refused('TIME_ANOMALY', `seq ${record.seq} ${late.message}`, where);
          else if (!r.ok) {
            error =
              r.code === 'CHAIN_BROKEN'
                ? chainConflict(
                    r.message,
                    {
                      subject: record.subject,
                      seq: current?.seq ?? null,
                      head: current?.head ?? null,
                    },
                    where,
                  )
                : refused(r.code, r.message, where);
          } else {
            error = shipTargetRefusal(record, parties, where);
            if (error === null) staged.set(record.subject, r.state);
          }
        }
        if (error === null) {
          mine.add(e.id);
          plan.push({ kind: 'new', p });
        }
      }
      if (error === null && s.apply) error = await this.runHook(tx, s.apply, integratedAt);
      if (error !== null) {
        outcomes.push({ ok: false, error });
        continue;
      }
      for (const [subject, st] of staged) {
        states.set(subject, st);
        changed.add(subject);
      }
      for (const id of mine) inBatch.add(id);
      outcomes.push({ ok: true, plan });
    }

    // Indexes and subtrees, in submission order.
    const frontier = base.clone();
    const created: MerkleNode[] = [];
    const fresh: Prepared[] = [];
    const records: NewRecord[] = [];
    const notices: NewNotice[] = [];
    const events: PendingEpcisEvent[] = [];
    for (let b = 0; b < outcomes.length; b++) {
      const o = outcomes[b]!;
      if (!o.ok) continue;
      const epcis = batch[b]!.epcis;
      for (const item of o.plan) {
        if (item.kind !== 'new') continue;
        const { entry } = item.p;
        const ev = epcis?.get(entry.id);
        if (ev) events.push(ev);
        const index = frontier.size;
        frontier.append(item.p.leafHash, created);
        fresh.push(item.p);
        if (entry.kind === 'record') {
          const r = entry.record;
          records.push({
            id: entry.id,
            subject: r.subject,
            seq: r.seq,
            prev: r.prev,
            type: r.type,
            actor: r.actor,
            kid: r.kid,
            time: r.time,
            data: r.data,
            payload: entry.payload,
            envelope: entry.envelope,
            leafIdx: index,
          });
        } else {
          const n = entry.notice;
          notices.push({
            id: entry.id,
            type: n.type,
            actor: n.actor,
            kid: n.kid,
            time: n.time,
            data: n.data,
            payload: entry.payload,
            envelope: entry.envelope,
            leafIdx: index,
          });
        }
      }
    }

    const accepted = new Map<string, Accepted>();
    if (fresh.length > 0) {
      const newHeads: NewChainHead[] = [...changed].map((subject) => {
        const st = states.get(subject)!;
        return { subject, seq: st.seq, head: st.head, state: st };
      });
      const entryBatch: EntryBatch = { records, notices, heads: newHeads, nodes: created };
      // A small batch (the concurrent-append case) signs its receipts first and
      // writes everything in ONE statement. A large one sends its entries
      // first and signs while the database inserts them, yielding every chunk
      // so the socket drains and the leaves of signed chunks follow.
      const small = fresh.length <= SINGLE_STATEMENT_ENTRIES;
      const pending: Promise<unknown>[] = [];
      // The transaction's connection runs one statement at a time: each starts
      // when the one before it has answered (pg 8 queued them itself, with a
      // warning that pg 9 will not).
      let tail: Promise<unknown> = Promise.resolve();
      const send = <T>(statement: () => Promise<T>): Promise<T> => {
        const p = tail.then(statement);
        tail = p.catch(() => {}); // observed below; never an unhandled rejection
        pending.push(p);
        return p;
      };
      if (!small) void send(() => insertEntryBatch(tx, entryBatch));
      const { origin } = this.keys;
      let leaves: NewLeafText[] = [];
      for (let i = 0; i < fresh.length; i++) {
        const { entry, jcs, leafHash } = fresh[i]!;
        const index = base.size + i;
        const leafHex = Buffer.from(leafHash.buffer, leafHash.byteOffset, 32).toString('hex');
        // DESIGN §6: Ed25519 by the log key over JCS({origin, index, leafHash, integratedAt}).
        const sig = this.logSigner.sign(this.receiptMessage(index, leafHex, integratedAt));
        const signature = new Uint8Array(sig.buffer, sig.byteOffset, sig.byteLength);
        leaves.push({
          idx: index,
          leafHash,
          entryKind: entry.kind,
          entryId: entry.id,
          envelopeJcs: jcs,
          integratedAt,
          receiptSignature: signature,
        });
        accepted.set(entry.id, {
          kind: entry.kind,
          id: entry.id,
          index,
          leafHash: leafHex,
          integratedAt,
          receipt: {
            origin,
            index,
            leafHash: leafHex,
            integratedAt,
            signature: sig.toString('base64'),
          },
          ...(entry.kind === 'record'
            ? { subject: entry.record.subject, seq: entry.record.seq }
            : {}),
          duplicate: false,
        });
        if (!small && leaves.length === LEAF_CHUNK && i < fresh.length - 1) {
          const chunk = leaves;
          void send(() => appendLeafTexts(tx, chunk));
          leaves = [];
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      const rootHash = frontier.root();
      const note = this.checkpointNote(frontier.size, rootHash);
      const last = {
        leaves,
        expected: size,
        size: frontier.size,
        checkpoint: { size: frontier.size, rootHash, note },
      };
      const moved = send(() =>
        small ? appendBatch(tx, entryBatch, last) : appendLeafBatch(tx, last),
      );
      // The outbox rows of this batch's facts commit with them (DESIGN §12).
      const outbox = this.events?.(records, notices, integratedAt) ?? [];
      if (outbox.length > 0) void send(() => insertWebhookEvents(tx, outbox));
      // The /v1 records' EPCIS events commit with them (DESIGN §11).
      if (events.length > 0)
        void send(() => insertEpcisEvents(tx, v1EventRows(events, integratedAt), { merge: true }));
      // The first failure is the meaningful one (later statements only see an aborted transaction).
      for (const p of pending) await p;
      if (!(await moved)) throw new LogStorageError('the log size moved while the log was locked');
    }
    for (let i = 0; i < batch.length; i++) {
      const o = outcomes[i]!;
      if (!o.ok) continue;
      o.results = this.resultsOf(o.plan, accepted);
      const after = batch[i]!.after;
      if (after) await after(tx, o.results);
    }
    return { outcomes, accepted, frontier };
  }

  /** Runs a submission's hook in a savepoint; returns its error (the submission is then refused alone). */
  private async runHook(
    tx: Queryable,
    apply: NonNullable<SubmitOptions['apply']>,
    integratedAt: string,
  ): Promise<unknown> {
    await tx.query('SAVEPOINT provenant_submission');
    try {
      await apply(tx, integratedAt);
    } catch (err) {
      // If the database itself is gone this throws too, failing the whole batch.
      await tx.query('ROLLBACK TO SAVEPOINT provenant_submission');
      return err ?? new Error('submission hook failed');
    }
    await tx.query('RELEASE SAVEPOINT provenant_submission');
    return null;
  }

  /** The C2SP checkpoint note of a tree, signed by the log key (DESIGN §6). */
  private checkpointNote(size: number, rootHash: Uint8Array): string {
    return signCheckpoint(
      { origin: this.keys.origin, size, rootHash, extensions: [] },
      this.keys.signer,
      nodeBackend,
    );
  }

  /** Signs the C2SP checkpoint of `frontier`'s tree with the log key and stores it. */
  private async storeCheckpoint(tx: Queryable, frontier: Frontier): Promise<void> {
    const rootHash = frontier.root();
    await insertCheckpoint(tx, {
      size: frontier.size,
      rootHash,
      note: this.checkpointNote(frontier.size, rootHash),
    });
  }
}
