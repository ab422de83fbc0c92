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
  toHex,
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
  getLogHead,
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
  type LogHead,
  type MonitorBatchWrite,
  type MonitoredLeaf,
  type NewVerifierAlarm,
  type Queryable,
} from '@provenant/store';
import { enqueueLogAlarm } from '@provenant/server-kit';
import {
  fromStored,
  logFinding,
  MonitorState,
  SIGNATURE_CHUNK,
  turn,
  type BegunPass,
  type Finding,
  type MonitorTrust,
} from './check.js';
import { Frontier, type Sha256 } from './frontier.js';
import { Registry } from './registry.js';

/** Entries verified per transaction at most (catching up). */
export const DEFAULT_MONITOR_BATCH = 2000;
/**
 * The first batch of a run (after the monitor was caught up); each next batch
 * doubles, up to the batch size. Small first batches commit the oldest
 * unverified entries soon (the lag); large ones later amortise the transaction.
 */
export const FIRST_MONITOR_BATCH = 256;
/** Poll interval when the monitor is caught up, ms (one indexed read of the log size). */
export const DEFAULT_MONITOR_POLL_MS = 100;
/**
 * Batches begun (parsed, signatures sent to the workers) and not finished at
 * most, counting the one being begun: the workers keep the signatures of one
 * batch queued while this thread finishes the one before and parses the next.
 */
const DEPTH = 3;
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

/** The alarm on a cursor whose compact range does not fit its size: changed outside the monitor. */
export function cursorFinding(cursor: {
  nextIndex: number;
  frontier: readonly unknown[];
}): Finding {
  return logFinding(
    cursor.nextIndex,
    `the verifier's cursor at ${cursor.nextIndex} holds ${cursor.frontier.length} subtree hashes, not the compact range of a tree of that size: it was changed outside the monitor`,
  );
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

/** One range of the log as read for a batch. */
interface ReadBatch {
  start: number;
  end: number;
  leaves: MonitoredLeaf[];
  checkpoints: { size: number; rootHash: Uint8Array; note: string }[];
}

/** A batch whose pass has begun, with what its write stores as of its end. */
interface Begun {
  pass: BegunPass;
  /** its signature checks have all answered */
  checked: boolean;
  /** resolves when they have (never rejects) */
  checks: Promise<void>;
  /** copies: the next batch's pass moves the frontier on before this one commits */
  frontier: Uint8Array[];
  checkpoint: MonitorState['checkpoint'];
  /** keys and parties its notices changed, and the notices */
  registry: ReturnType<Registry['takeDirty']>;
}

/** Resolves when `read` has, either way (its result or error is taken where it is awaited). */
function readSettled(read: Promise<unknown>): Promise<void> {
  return read.then(
    () => undefined,
    () => undefined,
  );
}

/** What a verified batch writes, with what the monitor does once it is committed. */
interface BatchWrite {
  start: number;
  end: number;
  findings: Finding[];
  write: MonitorBatchWrite;
  /** container children arrays this write stores */
  children: (readonly ChainChild[])[];
}

/** What one run of the pipeline did. */
interface Drive {
  /** entries this monitor verified and committed */
  committed: number;
  /** another verifier moved the cursor first: state was reloaded, nothing of ours was written */
  lost: boolean;
}

export class LogMonitor {
  private state: MonitorState | null = null;
  private readonly trust: MonitorTrust;
  /** the stored state was verified under another log key: this monitor does not run */
  foreign = false;
  /** signed notes already checked under our log key */
  private readonly notes = new Map<string, boolean>();
  private readonly batchSize: number;
  private readonly firstBatch: number;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** a nudge arrived while a run was going: run again at once */
  private nudged = false;
  /** container children arrays known to be stored (or in a write under way) */
  private storedChildren = new WeakSet<readonly ChainChild[]>();
  private waiters: { size: number; resolve: () => void }[] = [];
  /** one run of the pipeline at a time (the loop, catchUp, step, waitFor) */
  private exclusive: Promise<unknown> = Promise.resolve();
  /** entries [0, verifiedSize) verified (as of the last batch this instance saw) */
  verifiedSize = 0;
  /** time of the last batch that reached the log's size then */
  caughtUpAt = 0;
  /**
   * The log as this instance last read it: its size and newest checkpoint only
   * grow (DESIGN §6). Not the cursor: a verifier on a replica may be behind
   * the cursor another verifier wrote.
   */
  private seen: LogHead = { size: 0, checkpoint: null };
  lastError: unknown = null;

  constructor(private readonly opts: LogMonitorOptions) {
    this.trust = monitorTrust(opts.origin, opts.trust);
    this.batchSize = Math.max(1, opts.batchSize ?? DEFAULT_MONITOR_BATCH);
    this.firstBatch = Math.min(this.batchSize, FIRST_MONITOR_BATCH);
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

  /** Asks for a run now (e.g. a request saw a larger log); one under way runs again after. */
  nudge(): void {
    if (this.stopped) return;
    if (this.running) {
      this.nudged = true;
    } else if (this.timer) {
      clearTimeout(this.timer);
      this.schedule(0);
    }
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.loop().finally(() => {
        this.running = null;
      });
    }, ms);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    let delay = this.pollMs;
    this.nudged = false;
    try {
      const d = await this.run(Infinity);
      if (d.lost || this.nudged) delay = 0;
      this.lastError = null;
    } catch (err) {
      this.lastError = err;
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
    const d = await this.run(1);
    return d.lost ? Math.max(1, d.committed) : d.committed;
  }

  /** Runs batches until the monitor has reached the log's size (tests, the audit, startup). */
  async catchUp(): Promise<number> {
    let total = 0;
    for (;;) {
      const d = await this.run(Infinity);
      total += d.committed;
      if (!d.lost) return total;
    }
  }

  /** `drive` alone on this instance; on failure the state reloads (memory may be ahead of the database). */
  private run(maxBatches: number): Promise<Drive> {
    const next = this.exclusive.then(async () => {
      try {
        return await this.drive(maxBatches);
      } catch (err) {
        this.state = null;
        throw err;
      }
    });
    this.exclusive = next.catch(() => undefined);
    return next;
  }

  /**
   * The pipeline (DESIGN §7b, in log order, never skipping): batch N+1 is
   * read while batch N is parsed (this thread) and its signatures sent to
   * the workers; while the workers check them (and those of the batch begun
   * before, up to DEPTH batches), this thread finishes the oldest batch
   * begun (custody rules, in log order, once its signatures are known),
   * starts its commit once the previous one has committed, and parses the
   * next. Batches grow from `firstBatch` to `batchSize`, so the first
   * entries after a quiet spell commit soon. Writes commit in order, each
   * moving the cursor from where the previous one left it; when one loses
   * the race to another verifier, nothing after it is written and the state
   * reloads. Up to `maxBatches` batches, or until the log size (read again
   * whenever the pipeline reaches it) is verified.
   */
  private async drive(maxBatches: number): Promise<Drive> {
    const { db } = this.opts;
    const head = await getLogHead(db);
    const logSizeAtStart = head.size;
    let state = this.state;
    if (state !== null && !this.foreign && state.next >= logSizeAtStart) {
      // Nothing new (one indexed read when idle); nobody can be ahead of the log.
      await this.watchHead(head, state);
      this.caughtUpAt = Date.now();
      this.verifiedSize = state.next;
      this.release();
      return { committed: 0, lost: false };
    }
    state ??= await this.load();
    // Another verifier on this database may have moved the cursor: start from its state.
    const cursor = await getVerifierCursor(db);
    if (cursor.checkpoint && !this.trustsNote(cursor.checkpoint.note)) {
      // State verified under another log key (its checkpoint does not verify under ours):
      // never read, never moved.
      this.foreign = true;
      this.verifiedSize = 0;
      this.release();
      return { committed: 0, lost: false };
    }
    if (cursor.nextIndex !== state.next) state = await this.load();
    await this.watchHead(head, state);
    const st: MonitorState = state;
    let logSize = Math.max(logSizeAtStart, await getLogSize(db));
    this.verifiedSize = st.next;
    if (st.next >= logSize) {
      this.caughtUpAt = Date.now();
      this.release();
      return { committed: 0, lost: false };
    }
    let size = this.firstBatch;
    let readDone = false;
    const readFrom = (from: number): Promise<ReadBatch> => {
      readDone = false;
      const r = this.read(from, Math.min(logSize, from + size));
      r.then(
        () => (readDone = true),
        () => {}, // awaited below; a failure before then must not go unhandled
      );
      size = Math.min(this.batchSize, size * 2);
      return r;
    };
    let reading: Promise<ReadBatch> | null = readFrom(st.next);
    let writing: Promise<boolean> | null = null;
    /** batches begun and not finished yet, oldest first */
    const begun: Begun[] = [];
    let committed = 0;
    let pendingEntries = 0;
    /** The commit under way, awaited: false when it lost the race. */
    const written = async (): Promise<boolean> => {
      if (writing === null) return true;
      const ok: boolean = await writing;
      writing = null;
      if (ok) committed += pendingEntries;
      return ok;
    };
    /** Finishes the oldest batch begun and starts its commit after the one under way. */
    const settle = async (): Promise<boolean> => {
      const b = begun.shift()!;
      const w = this.batchWrite(st, b, await st.end(b.pass));
      if (!(await written())) return false;
      writing = this.commit(w, logSize);
      writing.catch(() => {}); // awaited next round; a failure meanwhile must not go unhandled
      pendingEntries = w.end - w.start;
      return true;
    };
    try {
      for (let n = 0; reading !== null && n < maxBatches; n++) {
        // The oldest batch finishes once its signatures are known, or when the pipeline is
        // full; while the next read is not there (the log's end, or a slow read), whichever
        // comes first: the read (parse it, the workers keep busy) or the signatures (commit).
        while (begun.length > 0) {
          if (begun[0]!.checked || begun.length >= DEPTH) {
            if (!(await settle())) return { committed, lost: true };
          } else if (readDone) break;
          else await Promise.race([readSettled(reading), begun[0]!.checks]);
        }
        const batch: ReadBatch = await reading;
        reading = null;
        if (n + 1 < maxBatches) {
          if (batch.end >= logSize) logSize = Math.max(logSize, await getLogSize(db));
          if (batch.end < logSize) reading = readFrom(batch.end);
        }
        if (st.states.size > MAX_CACHED_STATES) {
          // Forget states only once what changed them is stored (loadStates reads the database).
          while (begun.length > 0) if (!(await settle())) return { committed, lost: true };
          if (!(await written())) return { committed, lost: true };
          st.states.clear();
          st.headIndex.clear();
        }
        // States the batches begun will change are in memory: what this loads is not behind them.
        await this.loadStates(st, await this.subjectsOf(batch.leaves));
        const pass = await st.begin(batch.leaves, batch.checkpoints, this.opts.signatureCheck);
        // What the batch's write stores as of its end, taken before the next batch moves them.
        const b: Begun = {
          pass,
          checked: false,
          // its end rethrows a failure
          checks: Promise.all(pass.checks).then(
            () => void (b.checked = true),
            () => void (b.checked = true),
          ),
          frontier: [...st.frontier.hashes],
          checkpoint: st.checkpoint,
          registry: st.registry.takeDirty(),
        };
        begun.push(b);
      }
      while (begun.length > 0) if (!(await settle())) return { committed, lost: true };
      if (!(await written())) return { committed, lost: true };
      return { committed, lost: false };
    } finally {
      // A failure mid-way: let the write under way end before the caller reloads.
      if (writing !== null) await (writing as Promise<boolean>).catch(() => false);
    }
  }

  /** MonitorState.subjectsOf a chunk at a time, letting the event loop run between chunks. */
  private async subjectsOf(leaves: readonly MonitoredLeaf[]): Promise<string[]> {
    const out = new Set<string>();
    for (let i = 0; i < leaves.length; i += SIGNATURE_CHUNK) {
      if (i > 0) await turn();
      const chunk = leaves.slice(i, i + SIGNATURE_CHUNK);
      for (const s of MonitorState.subjectsOf(chunk, this.opts.sha256)) out.add(s);
    }
    return [...out];
  }

  /** Entries [start, end) and the checkpoints they reach. */
  private async read(start: number, end: number): Promise<ReadBatch> {
    const { db } = this.opts;
    const [leaves, checkpoints] = await Promise.all([
      getMonitoredLeaves(db, start, end),
      getCheckpointsBetween(db, start, end),
    ]);
    if (leaves.length !== end - start || leaves.some((l, i) => l.index !== start + i)) {
      // The size and the leaves commit in one transaction (DESIGN §9): a size that counts
      // entries nobody can read is a changed log, not a lag. The monitor never skips: it stops.
      let gap = start;
      for (const l of leaves) if (l.index === gap) gap++;
      await db.transaction((tx) =>
        raiseAlarms(
          tx,
          [
            logFinding(
              gap,
              `log entry ${gap} is counted in the log's size but not stored: the monitor cannot go past it`,
            ),
          ],
          'monitor',
        ),
      );
      throw new Error(`log entries ${start}..${end - 1} are not all readable`);
    }
    return { start, end, leaves, checkpoints };
  }

  /** What a verified batch stores: the state that changed, the registry, the cursor move. */
  private batchWrite(state: MonitorState, b: Begun, findings: Finding[]): BatchWrite {
    const changed = state.takeChanged();
    const stored: (readonly ChainChild[])[] = [];
    const children: MonitorBatchWrite['children'] = [];
    for (const c of changed) {
      if (c.children.length === 0 || this.storedChildren.has(c.children)) continue;
      // Marked now so the next batch does not write them again; a failed write reloads everything.
      this.storedChildren.add(c.children);
      stored.push(c.children);
      for (const ch of c.children)
        children.push({ container: c.subject, child: ch.subject, head: ch.head });
    }
    return {
      start: b.pass.start,
      end: b.pass.end,
      findings,
      children: stored,
      write: {
        expectedNext: b.pass.start,
        next: b.pass.end,
        frontier: b.frontier,
        checkpoint: b.checkpoint,
        subjects: changed,
        children,
        keys: b.registry.keys,
        parties: b.registry.parties,
        notices: b.registry.notices,
        alarmed: [],
      },
    };
  }

  /** Commits one batch; false when another verifier moved the cursor first (state reloads). */
  private async commit(w: BatchWrite, logSize: number): Promise<boolean> {
    const wrote = await this.opts.db.transaction(async (tx) => {
      // The cursor moves first: a monitor that lost the race writes nothing, alarms included.
      const moved = await writeMonitorBatch(tx, w.write);
      if (moved) await markSubjectsAlarmed(tx, await raiseAlarms(tx, w.findings, 'monitor'));
      return moved;
    });
    if (!wrote) {
      this.state = null; // another verifier moved the cursor: start again from its state
      return false;
    }
    for (const f of w.findings)
      this.opts.logger?.error({ alarm: f }, 'log monitor alarm: an entry failed verification');
    this.verifiedSize = w.end;
    if (w.end >= logSize) this.caughtUpAt = Date.now();
    this.release();
    return true;
  }

  /**
   * DESIGN §6, §7b: the log only grows, and never signs two checkpoints of one
   * size. A log smaller than this instance read before (entries deleted, the
   * size put back), a newest checkpoint older than one it read (checkpoints
   * deleted), another note at the size of one it read (a checkpoint replaced),
   * and a newest checkpoint that the monitor has passed (stored after its
   * entries were read) and that does not verify, are alarms on the log.
   */
  private async watchHead(head: LogHead, state: MonitorState): Promise<void> {
    const was = this.seen;
    const cp = head.checkpoint;
    const findings: Finding[] = [];
    const alarm = (index: number | null, message: string) =>
      findings.push(logFinding(index, message));
    if (head.size < was.size)
      alarm(head.size, `the log shrank: it had ${was.size} entries, it now has ${head.size}`);
    const old = was.checkpoint;
    if (old && (!cp || cp.size < old.size))
      alarm(
        null,
        `checkpoint ${old.size} is gone: the newest checkpoint is ${cp ? `of size ${cp.size}` : 'none'}`,
      );
    else if (old && cp && cp.size === old.size && cp.note !== old.note)
      alarm(
        null,
        `checkpoint ${cp.size}: another note replaced the one read before (SHA-256 ${toHex(this.opts.sha256(new TextEncoder().encode(cp.note))).slice(0, 16)})`,
      );
    else if (
      cp &&
      cp.size <= state.next &&
      cp.note !== state.checkpoint?.note &&
      cp.note !== old?.note
    ) {
      // Once per note: not reached by a pass (stored after its entries were read).
      const problem = state.checkpointProblem(cp);
      if (problem) alarm(null, `checkpoint ${cp.size}: ${problem}`);
    }
    this.seen = {
      size: Math.max(was.size, head.size),
      checkpoint: cp && (!old || cp.size >= old.size) ? cp : old,
    };
    if (findings.length === 0) return;
    await this.opts.db.transaction((tx) => raiseAlarms(tx, findings, 'monitor'));
    for (const f of findings)
      this.opts.logger?.error({ alarm: f }, 'log monitor alarm: the log was cut back or rewritten');
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
          if ((await this.step()) === 0) break;
      } catch (err) {
        // The caller falls back to the full engine; the monitor reloads next time.
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
    let frontier: Frontier;
    try {
      frontier = new Frontier(this.opts.sha256, cursor.nextIndex, cursor.frontier);
    } catch (err) {
      // Not a cursor the monitor wrote: it cannot go on from it (and never skips), so it says so.
      await db.transaction((tx) => raiseAlarms(tx, [cursorFinding(cursor)], 'monitor'));
      throw err;
    }
    const state = new MonitorState(
      this.trust,
      new Registry(reg.keys, reg.parties),
      frontier,
      this.opts.sha256,
      this.opts.backend,
      this.opts.maxBackdateMs,
    );
    state.checkpoint = cursor.checkpoint;
    this.state = state;
    this.storedChildren = new WeakSet();
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
