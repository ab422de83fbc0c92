// The full re-audit (DESIGN §7b): re-verifies every entry from index 0 with a
// fresh state (nothing read from the verifier's tables but at the end, to
// compare), so tampering by a database insider is found even in entries the
// monitor verified long ago; then compares what it rebuilt with the stored
// verified state: each subject's state, a logistic unit's units and the
// registry (keys and parties). Findings become alarms (raised once), like the
// monitor's: on the subject, or on the log for a registry row, which the
// audit also puts back as the verified notices give it (an acknowledged alarm
// must not leave a verification reading the changed row).
import { bytesEqual, toHex } from '@provenant/core';
import {
  getCheckpointsBetween,
  getMonitoredLeaves,
  getTreeNodes,
  getVerifiedChildrenPage,
  getVerifiedNotices,
  getVerifiedRegistry,
  getVerifiedSubjectsPage,
  getVerifierCursor,
  markSubjectsAlarmed,
  putVerifiedNotices,
  putVerifiedRegistry,
  type Database,
  type VerifiedKey,
  type VerifiedNotice,
  type VerifiedParty,
} from '@provenant/store';
import { jsonEqual, logFinding, MonitorState, toStored, type Finding } from './check.js';
import { Frontier, node, type Sha256 } from './frontier.js';
import { cursorFinding, raiseAlarms, type LogMonitorOptions, monitorTrust } from './monitor.js';
import { Registry } from './registry.js';
import type { VerifierDeps } from '../deps.js';

/** What an audit found. */
export interface AuditReport {
  /** entries [0, size) re-verified: the monitor's verified size when the audit began */
  size: number;
  elapsedMs: number;
  /** entries re-verified per second */
  entriesPerSecond: number;
  /** entries (or checkpoints) that fail verification */
  findings: Finding[];
  /**
   * subjects whose stored verified state (or stored units) is not what the
   * entries give; `key <kid>` and `party <gln>` for rows of the verified registry
   */
  differences: { subject: string; problem: string }[];
  /** alarms newly raised by this audit */
  alarmsRaised: number;
}

const AUDIT_BATCH = 5000;
const MAX_LISTED = 1000;

/** auditLog with a verifier's own database, trust, workers and policy (POST /v1/verifier/audit). */
export function auditVerifier(deps: VerifierDeps): Promise<AuditReport> {
  return auditLog({
    db: deps.db,
    origin: deps.origin,
    trust: deps.trust,
    signatureCheck: deps.pool.check,
    backend: deps.backend,
    sha256: deps.sha256,
    ...(deps.policy.maxBackdateMs !== undefined
      ? { maxBackdateMs: deps.policy.maxBackdateMs }
      : {}),
    ...(deps.logger ? { logger: deps.logger } : {}),
  });
}

/** Re-verifies the log from index 0 up to the monitor's cursor and compares. */
export async function auditLog(
  opts: Omit<LogMonitorOptions, 'pollMs' | 'batchSize'>,
  clock: () => number = Date.now,
): Promise<AuditReport> {
  const { db } = opts;
  const t0 = clock();
  const cursor = await getVerifierCursor(db);
  const state = new MonitorState(
    monitorTrust(opts.origin, opts.trust),
    new Registry(),
    new Frontier(opts.sha256),
    opts.sha256,
    opts.backend,
    opts.maxBackdateMs,
  );
  const findings: Finding[] = [];
  for (let start = 0; start < cursor.nextIndex; start += AUDIT_BATCH) {
    const end = Math.min(cursor.nextIndex, start + AUDIT_BATCH);
    const leaves = await getMonitoredLeaves(db, start, end);
    if (leaves.length !== end - start)
      findings.push(
        logFinding(
          start,
          `log entries ${start}..${end - 1}: ${end - start - leaves.length} are missing`,
        ),
      );
    const cps = await getCheckpointsBetween(db, start, end);
    findings.push(...(await state.pass(contiguous(leaves, start), cps, opts.signatureCheck)));
    state.takeChanged();
  }
  let stored: Frontier | null = null;
  try {
    stored = new Frontier(opts.sha256, cursor.nextIndex, cursor.frontier);
  } catch {
    findings.push(cursorFinding(cursor));
  }
  if (stored && toHex(state.frontier.root()) !== toHex(stored.root()))
    findings.push(
      logFinding(
        null,
        `the tree of entries 0..${cursor.nextIndex - 1} is not the one the monitor verified`,
      ),
    );
  findings.push(...(await checkStoredTree(db, cursor.nextIndex, opts.sha256)));
  const heads = new Map<string, number>();
  const differences = await compareStates(db, state, heads, cursor.nextIndex);
  differences.push(...(await compareChildren(db, state, heads, cursor.nextIndex)));
  const registry = await compareRegistry(db, state, cursor.nextIndex);
  const diffFindings: Finding[] = [
    ...differences.map((d) => ({
      index: null,
      subjects: [d.subject],
      code: 'LOG_PROOF_INVALID' as const,
      message: `verified state of ${d.subject}: ${d.problem}`,
    })),
    // A registry row touches every subject its key or party signed: an alarm on the log.
    ...registry.differences.map((d) =>
      logFinding(null, `verified registry, ${d.subject}: ${d.problem}`),
    ),
  ];
  differences.push(...registry.differences);
  const alarmsRaised = await db.transaction(async (tx) => {
    const marks = await raiseAlarms(tx, [...findings, ...diffFindings], 'audit');
    await markSubjectsAlarmed(tx, marks);
    const r = registry.repair;
    await putVerifiedRegistry(tx, r.keys, r.parties, r.remove);
    await putVerifiedNotices(tx, r.notices, r.remove.notices);
    return marks.length;
  });
  const elapsedMs = Math.max(1, clock() - t0);
  return {
    size: cursor.nextIndex,
    elapsedMs,
    entriesPerSecond: Math.round((cursor.nextIndex * 1000) / elapsedMs),
    findings: findings.slice(0, MAX_LISTED),
    differences: differences.slice(0, MAX_LISTED),
    alarmsRaised,
  };
}

/** Nodes of one level read at a time by checkStoredTree. */
const TREE_PAGE = 4096;
/** Stored-tree findings listed at most (one is enough to raise the alarm). */
const MAX_TREE_FINDINGS = 10;

/**
 * The interior nodes of the stored tree below `size` (what inclusion and
 * consistency proofs are made of) against their stored children, level by
 * level up from the leaves the pass verified (level 0): a node an insider
 * changed or deleted would make the log's proofs of honest entries fail.
 */
async function checkStoredTree(db: Database, size: number, sha256: Sha256): Promise<Finding[]> {
  const out: Finding[] = [];
  const problem = (level: number, index: number, what: string) =>
    out.push(logFinding(index * 2 ** level, `stored tree node (level ${level}, ${index}) ${what}`));
  for (let level = 1; 2 ** level <= size && out.length < MAX_TREE_FINDINGS; level++) {
    const count = Math.floor(size / 2 ** level);
    for (let from = 0; from < count && out.length < MAX_TREE_FINDINGS; from += TREE_PAGE) {
      const to = Math.min(count, from + TREE_PAGE);
      const parents = new Map(
        (await getTreeNodes(db, level, from, to)).map((n) => [n.index, n.hash]),
      );
      const children = new Map(
        (await getTreeNodes(db, level - 1, 2 * from, 2 * to)).map((n) => [n.index, n.hash]),
      );
      for (let i = from; i < to; i++) {
        const stored = parents.get(i);
        const left = children.get(2 * i);
        const right = children.get(2 * i + 1);
        if (!stored) problem(level, i, 'is missing');
        else if (left && right && !bytesEqual(stored, node(sha256, left, right)))
          problem(level, i, 'is not the hash of its two children');
      }
    }
  }
  return out.slice(0, MAX_TREE_FINDINGS);
}

/** Leaves as a pass needs them: stops at the first gap (the gap is a finding of its own). */
function contiguous<L extends { index: number }>(leaves: readonly L[], start: number): L[] {
  const out: L[] = [];
  for (const l of leaves) {
    if (l.index !== start + out.length) break;
    out.push(l);
  }
  return out;
}

/**
 * Stored verified states against the rebuilt ones, both ways; `heads` gets
 * each stored head index. A state whose head is at or past `size` was
 * verified by the monitor since the audit began (it follows the log
 * meanwhile): not judged here, as an answer does not read it until its
 * checkpoint covers that head.
 */
async function compareStates(
  db: Database,
  state: MonitorState,
  heads: Map<string, number>,
  size: number,
): Promise<{ subject: string; problem: string }[]> {
  const out: { subject: string; problem: string }[] = [];
  const seen = new Set<string>();
  for (let after = ''; ;) {
    const page = await getVerifiedSubjectsPage(db, after, 5000);
    if (page.length === 0) break;
    for (const row of page) {
      seen.add(row.subject);
      heads.set(row.subject, row.headIndex);
      if (state.alarmed.has(row.subject)) continue; // an alarm: a finding already
      if (row.headIndex >= size) continue;
      if (row.state === null) {
        // no verified record (an alarm only), or bytes that do not decode
        if (row.stored !== null)
          out.push({ subject: row.subject, problem: 'stored state does not decode' });
        continue;
      }
      const st = state.states.get(row.subject);
      if (!st)
        out.push({ subject: row.subject, problem: 'stored, but no verified record gives it' });
      else if (st.seq !== row.seq || state.headIndex.get(row.subject) !== row.headIndex)
        out.push({
          subject: row.subject,
          problem: `stored at seq ${row.seq}, the log gives seq ${st.seq}`,
        });
      else if (row.stored === null || !bytesEqual(toStored(st, row.headIndex), row.stored))
        out.push({ subject: row.subject, problem: 'stored state differs from the replayed one' });
    }
    after = page[page.length - 1]!.subject;
  }
  for (const s of state.states.keys())
    if (!seen.has(s) && !state.alarmed.has(s))
      out.push({ subject: s, problem: 'missing from the verified state' });
  return out;
}

type Difference = { subject: string; problem: string };

/**
 * Stored units of each logistic unit (verifier_children: a pallet's answer
 * reads them) against the replayed pack records, both ways. A container whose
 * stored head is at or past `size` was packed since the audit began (the
 * monitor moved on): not judged here (and not answered from state either: its
 * head is past the checkpoint).
 */
async function compareChildren(
  db: Database,
  state: MonitorState,
  heads: ReadonlyMap<string, number>,
  size: number,
): Promise<Difference[]> {
  const bad = new Set<string>();
  const judged = (c: string) => !state.alarmed.has(c) && (heads.get(c) ?? -1) < size && !bad.has(c);
  const replayed = new Map<string, Map<string, string>>();
  for (const [subject, st] of state.states)
    if (st.children.length > 0)
      replayed.set(subject, new Map(st.children.map((c) => [c.subject, c.head])));
  const stored = new Map<string, number>();
  for (let after: { container: string; child: string } | null = null; ;) {
    const page = await getVerifiedChildrenPage(db, after, 10_000);
    if (page.length === 0) break;
    for (const r of page) {
      stored.set(r.container, (stored.get(r.container) ?? 0) + 1);
      if (judged(r.container) && replayed.get(r.container)?.get(r.child) !== r.head)
        bad.add(r.container);
    }
    after = page[page.length - 1]!;
  }
  for (const [c, kids] of replayed) if (judged(c) && stored.get(c) !== kids.size) bad.add(c);
  return [...bad]
    .sort()
    .map((subject) => ({ subject, problem: 'its stored units differ from the replayed ones' }));
}

/** What the audit found in the verified registry, and the rows that put it back. */
interface RegistryCheck {
  differences: Difference[];
  repair: {
    keys: VerifiedKey[];
    parties: VerifiedParty[];
    notices: VerifiedNotice[];
    remove: { kids: string[]; glns: string[]; notices: number[] };
  };
}

/**
 * The stored registry (verifier_keys, verifier_parties) against the one the
 * replay of entries [0, size) built. Key events at or past `size` were verified
 * by the monitor since the audit began: kept, never judged. Parties carry no
 * index, so they are judged only when the monitor did not move meanwhile.
 */
async function compareRegistry(
  db: Database,
  state: MonitorState,
  size: number,
): Promise<RegistryCheck> {
  const out: RegistryCheck = {
    differences: [],
    repair: { keys: [], parties: [], notices: [], remove: { kids: [], glns: [], notices: [] } },
  };
  const stored = await getVerifiedRegistry(db);
  compareNotices(state.registry.takeDirty().notices, await getVerifiedNotices(db), size, out);
  const moved = (await getVerifierCursor(db)).nextIndex !== size;
  const keys = new Map(stored.keys.map((k) => [k.kid, k]));
  const differ = (subject: string, problem: string) => out.differences.push({ subject, problem });
  for (const k of state.registry.keys.values()) {
    const s = keys.get(k.kid);
    keys.delete(k.kid);
    const problem = !s
      ? 'missing from the verified registry'
      : s.gln !== k.gln ||
          s.registeredIndex !== k.registeredIndex ||
          !bytesEqual(s.publicKey, k.publicKey)
        ? 'its party, public key or registration index differs from the replayed one'
        : !jsonEqual(
              s.revocations.filter((r) => r.index < size),
              k.revocations,
            ) || !jsonEqual(suspensionsBelow(s.suspensions, size), k.suspensions)
          ? 'its revocations or suspensions differ from the replayed ones'
          : null;
    if (problem === null) continue;
    differ(`key ${k.kid}`, problem);
    out.repair.keys.push(keyWithLater(k, s, size));
  }
  for (const s of keys.values())
    if (s.registeredIndex < size) {
      differ(`key ${s.kid}`, 'stored, but no verified notice registers it');
      out.repair.remove.kids.push(s.kid);
    }
  if (moved) return out;
  const parties = new Map(stored.parties.map((p) => [p.gln, p]));
  for (const p of state.registry.parties.values()) {
    const s = parties.get(p.gln);
    parties.delete(p.gln);
    if (s && jsonEqual(s, p)) continue;
    differ(
      `party ${p.gln}`,
      s
        ? 'its roles, prefixes or status differ from the replayed ones'
        : 'missing from the verified registry',
    );
    out.repair.parties.push(p);
  }
  for (const s of parties.values()) {
    differ(`party ${s.gln}`, 'stored, but no verified notice registers it');
    out.repair.remove.glns.push(s.gln);
  }
  return out;
}

/** Stored verified notices below `size` against the replayed ones, both ways (into `out`). */
function compareNotices(
  replayed: readonly VerifiedNotice[],
  stored: readonly VerifiedNotice[],
  size: number,
  out: RegistryCheck,
): void {
  const rows = new Map(stored.filter((n) => n.index < size).map((n) => [n.index, n]));
  for (const n of replayed) {
    const s = rows.get(n.index);
    rows.delete(n.index);
    if (s && jsonEqual(s, n)) continue;
    out.differences.push({
      subject: `notice ${n.index}`,
      problem: s ? 'it differs from the replayed one' : 'missing from the verified notices',
    });
    out.repair.notices.push(n);
  }
  for (const s of rows.values()) {
    out.differences.push({
      subject: `notice ${s.index}`,
      problem: 'stored, but no verified notice gives it',
    });
    out.repair.remove.notices.push(s.index);
  }
}

/** Suspensions as of entries [0, size): begun before it, still open then if they ended at or past it. */
function suspensionsBelow(
  list: VerifiedKey['suspensions'],
  size: number,
): VerifiedKey['suspensions'] {
  return list
    .filter((x) => x.from < size)
    .map((x) => ({ from: x.from, to: x.to !== null && x.to < size ? x.to : null }));
}

/** The replayed key with the events the monitor verified at or past `size` (from its stored row). */
function keyWithLater(k: VerifiedKey, s: VerifiedKey | undefined, size: number): VerifiedKey {
  if (!s) return k;
  const ended = new Map(
    s.suspensions.filter((x) => x.to !== null && x.to >= size).map((x) => [x.from, x.to]),
  );
  return {
    ...k,
    revocations: [...k.revocations, ...s.revocations.filter((r) => r.index >= size)],
    suspensions: [
      ...k.suspensions.map((x) =>
        x.to === null && ended.has(x.from) ? { ...x, to: ended.get(x.from)! } : x,
      ),
      ...s.suspensions.filter((x) => x.from >= size),
    ],
  };
}
