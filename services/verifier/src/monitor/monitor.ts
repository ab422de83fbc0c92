// The log monitor (DESIGN §7b): follows the log in order from its own cursor
// (verifier_cursor), verifies each entry once (check.ts) and commits the
// verified state, the registry, its alarms and the cursor move in one
// transaction, so it never skips an entry, resumes after a restart and catches
// up after downtime. Two verifiers on one database race on the cursor: the
// loser's batch is discarded and it reloads. It polls (the log's size is one
// indexed read) and can be nudged; requests wait on it with a bound.
import type { Logger } from 'pino';
import {
  fromBase64Url,
  verifyCheckpoint,
  keyId,
  parseVerifierKey,
  type ChainChild,
  type Ed25519Backend,
  type SignatureItem,
  type Trust,
} from '@provenant/core';
import {
  getCheckpointsBetween,
  getLogSize,
  getMonitoredLeaves,
  getVerifiedChildren,
  getVerifiedRegistry,
  getVerifiedSubjects,
  getVerifierCursor,
  insertVerifierAlarms,
  markSubjectsAlarmed,
  writeMonitorBatch,
  type Database,
  type NewVerifierAlarm,
  type Queryable,
} from '@provenant/store';
import { enqueueLogAlarm } from '@provenant/server-kit';
import { fromStored, MonitorState, type Finding, type MonitorTrust } from './check.js';
import { Frontier, type Sha256 } from './frontier.js';
import { Registry } from './registry.js';

/** Entries verified per transaction. */
export const DEFAULT_MONITOR_BATCH = 2000;
/** Poll interval when the monitor is caught up, ms. */
export const DEFAULT_MONITOR_POLL_MS = 100;
/** Subject states kept in memory between batches before the cache is dropped. */
const MAX_CACHED_STATES = 100_000;

export interface LogMonitorOptions {
  db: Database;
  origin: string;
  /** public trust only: the log key and the authority key */
  trust: Trust;
  signatureCheck: (items: readonly SignatureItem[]) => Promise<boolean[]>;
  backend: Ed25519Backend;
  sha256: Sha256;
  logger?: Logger;
  batchSize?: number;
  pollMs?: number;
  /** PROVENANT_MAX_BACKDATE in ms (DESIGN §5 time rules); default 72 h */
  maxBackdateMs?: number;
}

/** The monitor's trust from the verifier's Trust (public keys only). */
export function monitorTrust(origin: string, trust: Trust): MonitorTrust {
  const authority = fromBase64Url(trust.authorityKey);
  if (!authority || authority.length !== 32)
    throw new Error('trust: authorityKey is not a 32-byte key');
  return {
    origin,
    logKey: parseVerifierKey(trust.logKey),
    authority: { kid: keyId(authority), publicKey: authority },
  };
}

/** Raises `findings` as alarms (once each) with their log.alarm events; returns subject -> alarm id. */
export async function raiseAlarms(
  tx: Queryable,
  findings: readonly Finding[],
  foundBy: 'monitor' | 'audit',
): Promise<{ subject: string; alarm: number }[]> {
  const rows: NewVerifierAlarm[] = [];
  for (const f of findings)
    for (const subject of f.subjects.length > 0 ? f.subjects : [null])
      rows.push({ logIndex: f.index, subject, code: f.code, message: f.message, foundBy });
  const ids = await insertVerifierAlarms(tx, rows);
  const marks = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    if (ids[i]! < 0) continue; // raised before (by the monitor, an audit or a replica)
    if (r.subject !== null && !marks.has(r.subject)) marks.set(r.subject, ids[i]!);
    // DESIGN §12: log.alarm goes to operator subscriptions, in the alarm's transaction.
    await enqueueLogAlarm(tx, {
      kind: r.code,
      message: r.message,
      details: { alarmId: ids[i]!, logIndex: r.logIndex, subject: r.subject, foundBy },
    });
  }
  return [...marks].map(([subject, alarm]) => ({ subject, alarm }));
}

export class LogMonitor {
  private state: MonitorState | null = null;
  private readonly trust: MonitorTrust;
  /** the stored state was verified under another log key: this monitor does not run */
  foreign = false;
  /** signed notes already checked under our log key */
  private readonly notes = new Map<string, boolean>();
  private readonly batchSize: number;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** container children arrays known to be stored */
  private readonly storedChildren = new WeakSet<readonly ChainChild[]>();
  private waiters: { size: number; resolve: () => void }[] = [];
  /** entries [0, verifiedSize) verified (as of the last batch this instance saw) */
  verifiedSize = 0;
  /** time of the last batch that reached the log's size then */
  caughtUpAt = 0;
  lastError: unknown = null;

  constructor(private readonly opts: LogMonitorOptions) {
    this.trust = monitorTrust(opts.origin, opts.trust);
    this.batchSize = opts.batchSize ?? DEFAULT_MONITOR_BATCH;
    this.pollMs = opts.pollMs ?? DEFAULT_MONITOR_POLL_MS;
  }

  /** Starts following the log in the background (idempotent). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops following; resolves when the running batch ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  /** Asks for a batch now (e.g. a request saw a larger log). */
  nudge(): void {
    if (!this.stopped && this.timer && !this.running) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    let delay = this.pollMs;
    try {
      const n = await this.step();
      if (n > 0) delay = 0;
      this.lastError = null;
    } catch (err) {
      this.lastError = err;
      this.state = null; // reload: memory may be ahead of the database
      this.opts.logger?.error({ err }, 'log monitor batch failed');
      delay = Math.max(this.pollMs, 1000);
      // Nobody waits on a monitor that failed: they answer with the full engine.
      for (const w of this.waiters) w.resolve();
      this.waiters = [];
    }
    if (!this.stopped) this.schedule(delay);
  }

  /**
   * Verifies the next batch of entries and commits it. Returns how many
   * entries it verified (0: caught up with the log).
   */
  async step(): Promise<number> {
    const { db } = this.opts;
    let state = this.state ?? (await this.load());
    // Another verifier on this database may have moved the cursor: start from its state.
    const cursor = await getVerifierCursor(db);
    if (cursor.checkpoint && !this.trustsNote(cursor.checkpoint.note)) {
      // State verified under another log key (its checkpoint does not verify under ours):
      // never read, never moved.
      this.foreign = true;
      this.verifiedSize = 0;
      this.release();
      return 0;
    }
    if (cursor.nextIndex !== state.next) state = await this.load();
    const logSize = await getLogSize(db);
    const start = state.next;
    this.verifiedSize = start;
    if (start >= logSize) {
      this.caughtUpAt = Date.now();
      this.release();
      return 0;
    }
    const end = Math.min(logSize, start + this.batchSize);
    const leaves = await getMonitoredLeaves(db, start, end);
    if (leaves.length !== end - start || leaves.some((l, i) => l.index !== start + i))
      throw new Error(`log entries ${start}..${end - 1} are not all readable (yet)`);
    const checkpoints = await getCheckpointsBetween(db, start, end);
    await this.loadStates(state, MonitorState.subjectsOf(leaves));
    const findings = await state.pass(leaves, checkpoints, this.opts.signatureCheck);
    const changed = state.takeChanged();
    const dirty = state.registry.takeDirty();
    const children = changed.flatMap((c) =>
      c.children.length > 0 && !this.storedChildren.has(c.children)
        ? c.children.map((ch) => ({ container: c.subject, child: ch.subject, head: ch.head }))
        : [],
    );
    const wrote = await db.transaction(async (tx) => {
      // The cursor moves first: a monitor that lost the race writes nothing, alarms included.
      const moved = await writeMonitorBatch(tx, {
        expectedNext: start,
        next: end,
        frontier: state.frontier.hashes,
        checkpoint: state.checkpoint,
        subjects: changed,
        children,
        keys: dirty.keys,
        parties: dirty.parties,
        alarmed: [],
      });
      if (moved) await markSubjectsAlarmed(tx, await raiseAlarms(tx, findings, 'monitor'));
      return moved;
    });
    if (!wrote) {
      this.state = null; // another verifier moved the cursor: start again from its state
      return 1;
    }
    for (const c of changed) if (c.children.length > 0) this.storedChildren.add(c.children);
    for (const f of findings)
      this.opts.logger?.error({ alarm: f }, 'log monitor alarm: an entry failed verification');
    if (state.states.size > MAX_CACHED_STATES) state.states.clear();
    this.verifiedSize = end;
    if (end >= logSize) this.caughtUpAt = Date.now();
    this.release();
    return end - start;
  }

  /**
   * True when `note` (the checkpoint verified state is bound to) verifies under
   * this verifier's log key: the state was verified under the same trust.
   */
  trustsNote(note: string): boolean {
    let ok = this.notes.get(note);
    if (ok === undefined) {
      ok = verifyCheckpoint(note, this.trust.logKey, {
        origin: this.trust.origin,
        backend: this.opts.backend,
      }).ok;
      if (this.notes.size > 1000) this.notes.clear();
      this.notes.set(note, ok);
    }
    return ok;
  }

  /** Runs batches until the monitor has reached the log's size (tests, the audit, startup). */
  async catchUp(): Promise<number> {
    let total = 0;
    for (let n = await this.step(); n > 0; n = await this.step()) total += n;
    return total;
  }

  /**
   * Waits until entries [0, size) are verified, at most `timeoutMs`. True when
   * they are; false on timeout (the caller then names what it used).
   */
  async waitFor(size: number, timeoutMs: number): Promise<boolean> {
    if (this.foreign) return false;
    if (this.verifiedSize >= size) return true;
    if (this.stopped) {
      // Not running in the background (tests, a one-shot): verify in the caller's time.
      const deadline = Date.now() + timeoutMs;
      try {
        while (this.verifiedSize < size && Date.now() < deadline)
          if ((await this.stepSerial()) === 0) break;
      } catch (err) {
        // The caller falls back to the full engine; the monitor reloads next time.
        this.state = null;
        this.lastError = err;
        this.opts.logger?.error({ err }, 'log monitor batch failed');
      }
      return !this.foreign && this.verifiedSize >= size;
    }
    // A monitor that cannot write its state (a read-only replica, say) does not make requests wait.
    if (this.lastError !== null) return false;
    this.nudge();
    return new Promise<boolean>((resolve) => {
      const w = { size, resolve: () => resolve(this.verifiedSize >= size) };
      this.waiters.push(w);
      setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        resolve(this.verifiedSize >= size);
      }, timeoutMs).unref?.();
    });
  }

  private serial: Promise<number> = Promise.resolve(0);

  /** One step at a time when driven by callers rather than the loop. */
  private stepSerial(): Promise<number> {
    const next = this.serial.then(
      () => this.step(),
      () => this.step(),
    );
    this.serial = next.catch(() => 0);
    return next;
  }

  private release(): void {
    const done = this.waiters.filter((w) => w.size <= this.verifiedSize);
    this.waiters = this.waiters.filter((w) => w.size > this.verifiedSize);
    for (const w of done) w.resolve();
  }

  /** Loads the cursor and the registry (subject states load on demand). */
  private async load(): Promise<MonitorState> {
    const { db } = this.opts;
    const cursor = await getVerifierCursor(db);
    const reg = await getVerifiedRegistry(db);
    const state = new MonitorState(
      this.trust,
      new Registry(reg.keys, reg.parties),
      new Frontier(this.opts.sha256, cursor.nextIndex, cursor.frontier),
      this.opts.sha256,
      this.opts.backend,
      this.opts.maxBackdateMs,
    );
    state.checkpoint = cursor.checkpoint;
    this.state = state;
    this.verifiedSize = cursor.nextIndex;
    return state;
  }

  /** Loads the states of `subjects` not in memory, and of the containers they are in. */
  private async loadStates(state: MonitorState, subjects: readonly string[]): Promise<void> {
    const missing = subjects.filter((s) => !state.states.has(s) && !state.alarmed.has(s));
    const rows = await getVerifiedSubjects(this.opts.db, missing);
    const parents = rows
      .map((r) => r.state?.containedIn)
      .filter((p): p is string => typeof p === 'string' && !state.states.has(p));
    const more = await getVerifiedSubjects(
      this.opts.db,
      [...new Set(parents)].filter((p) => !missing.includes(p)),
    );
    const all = [...rows, ...more];
    const containers = all.filter((r) => r.state?.kind === 'container');
    const children = await getVerifiedChildren(
      this.opts.db,
      containers.map((c) => c.subject),
    );
    for (const r of all) {
      if (r.alarm !== null) state.alarmed.add(r.subject);
      if (r.headIndex < 0) continue; // an alarm on a subject with no verified record
      const kids = children.get(r.subject) ?? [];
      const st = fromStored(r.subject, r.state, kids);
      if (kids.length > 0) this.storedChildren.add(st.children);
      state.states.set(r.subject, st);
      state.headIndex.set(r.subject, r.headIndex);
    }
  }
}
