// The full re-audit (DESIGN §7b): re-verifies every entry from index 0 with a
// fresh state (nothing read from the verifier's tables but at the end, to
// compare), so tampering by a database insider is found even in entries the
// monitor verified long ago; then compares what it rebuilt with the stored
// verified state. Findings become alarms (raised once), like the monitor's.
import { bytesEqual, toHex } from '@provenant/core';
import {
  getCheckpointsBetween,
  getMonitoredLeaves,
  getVerifiedSubjectsPage,
  getVerifierCursor,
  markSubjectsAlarmed,
  type Database,
} from '@provenant/store';
import { MonitorState, toStored, type Finding } from './check.js';
import { Frontier } from './frontier.js';
import { raiseAlarms, type LogMonitorOptions, monitorTrust } from './monitor.js';
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
  /** subjects whose stored verified state is not what the entries give */
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
      findings.push({
        index: start,
        subjects: [],
        code: 'LOG_PROOF_INVALID',
        message: `log entries ${start}..${end - 1}: ${end - start - leaves.length} are missing`,
      });
    const cps = await getCheckpointsBetween(db, start, end);
    findings.push(...(await state.pass(contiguous(leaves, start), cps, opts.signatureCheck)));
    state.takeChanged();
  }
  if (
    toHex(state.frontier.root()) !==
    toHex(new Frontier(opts.sha256, cursor.nextIndex, cursor.frontier).root())
  )
    findings.push({
      index: null,
      subjects: [],
      code: 'LOG_PROOF_INVALID',
      message: `the tree of entries 0..${cursor.nextIndex - 1} is not the one the monitor verified`,
    });
  const differences = await compareStates(db, state);
  const diffFindings: Finding[] = differences.map((d) => ({
    index: null,
    subjects: [d.subject],
    code: 'LOG_PROOF_INVALID',
    message: `verified state of ${d.subject}: ${d.problem}`,
  }));
  const alarmsRaised = await db.transaction(async (tx) => {
    const marks = await raiseAlarms(tx, [...findings, ...diffFindings], 'audit');
    await markSubjectsAlarmed(tx, marks);
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

/** Leaves as a pass needs them: stops at the first gap (the gap is a finding of its own). */
function contiguous<L extends { index: number }>(leaves: readonly L[], start: number): L[] {
  const out: L[] = [];
  for (const l of leaves) {
    if (l.index !== start + out.length) break;
    out.push(l);
  }
  return out;
}

/** Stored verified states against the rebuilt ones, both ways. */
async function compareStates(
  db: Database,
  state: MonitorState,
): Promise<{ subject: string; problem: string }[]> {
  const out: { subject: string; problem: string }[] = [];
  const seen = new Set<string>();
  for (let after = ''; ;) {
    const page = await getVerifiedSubjectsPage(db, after, 5000);
    if (page.length === 0) break;
    for (const row of page) {
      seen.add(row.subject);
      if (state.alarmed.has(row.subject)) continue; // an alarm: a finding already
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
