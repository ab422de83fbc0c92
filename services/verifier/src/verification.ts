// One verification, end to end (DESIGN §7): the evidence (the log's own bundle
// of the subject, or a bundle presented by a shipper, cross-checked against the
// log), the service's findings the bundle cannot show (DUPLICATE_SCAN,
// BUNDLE_DIVERGES), the pure engine of core, the signed verification receipt,
// the audit row and, for a suspect delivery at the dock, a quarantine case.
import { randomUUID } from 'node:crypto';
import {
  checkBundleFrame,
  isContainerSubject,
  isUnitSubject,
  REASON_CODES,
  REASONS,
  subjectParts,
  verdictOf,
  verifyBundleAsync,
  type Bundle,
  type BundleEntry,
  type BundleFrame,
  type ProductInfo,
  type Purpose,
  type Reason,
  type SubjectStatus,
  type TimelineEntry,
  type UnitsSummary,
  type Verdict,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  getCheckpoint,
  getKeys,
  getLogSize,
  getSubjectAlarms,
  getVerifiedChildren,
  insertWebhookEvents,
  isChainParty,
  type NewWebhookEvent,
} from '@provenant/store';
import { inSpan, webhookEvent } from '@provenant/server-kit';
import type { VerifierDeps } from './deps.js';
import { bundleDivergence } from './divergence.js';
import {
  answerContainerFromState,
  answerUnitFromState,
  unitFactsCaughtUp,
  type StateAnswer,
} from './monitor/answer.js';
import { entryPayload, noteSize } from './log-entries.js';
import { logBundleGaps } from './monitor/coverage.js';
import { signVerificationReceipt, type VerificationReceipt } from './receipt.js';
import { unavailable, unprocessable } from '@provenant/server-kit';
import {
  insertCase,
  insertVerification,
  nextCaseNumber,
  otherVerifiers,
  verificationByIdempotencyKey,
  type NewVerification,
  type VerificationIdempotency,
} from './store.js';

/** What to verify, for whom. */
export interface VerificationRequest {
  /** GLN of the verifying party (the caller's token) */
  party: string;
  purpose: Purpose;
  /** canonical subject */
  subject: string;
  /** lot and expiry (YYYY-MM-DD) read from the scanned code */
  scan?: { lot?: string; expiry?: string };
  source: NewVerification['source'];
  /** POST /v1/bundles/verify: the bundle a shipper handed over (attacker-controlled) */
  presented?: unknown;
  /** the caller's nonce, signed back in the receipt (DESIGN §7) */
  nonce?: string;
  /** POST /v1/bundles/verify with `scan`: the subject scanned on the goods (SUBJECT_MISMATCH) */
  scannedSubject?: string;
  /** The request's Idempotency-Key: one verification is stored per (party, key), across replicas. */
  idempotency?: VerificationIdempotency;
}

/** Most failing units a verification keeps (answered and stored); the counts cover all (DESIGN §8). */
export const MAX_FAILING_UNITS = 100;

/** A logistic unit's summary as answered and stored: every count, at most MAX_FAILING_UNITS failing units. */
export interface StoredUnitsSummary extends UnitsSummary {
  /** failing units left out of `failing` (present only when some were) */
  failingOmitted?: number;
}

/** `units` with at most `max` failing units, and how many were left out. */
export function capUnits(units: UnitsSummary, max = MAX_FAILING_UNITS): StoredUnitsSummary {
  if (units.failing.length <= max) return units;
  return {
    ...units,
    failing: units.failing.slice(0, max),
    failingOmitted: units.failing.length - max,
  };
}

/**
 * What a verification costs in units, for rate limiting (DESIGN §8): a
 * logistic unit counts every unit inside it (a pallet of 10,000 counts
 * 10,000), anything else 1.
 */
export function verificationCostUnits(view: { units?: { total: number } }): number {
  return Math.max(1, view.units?.total ?? 1);
}

/** The answer of POST /v1/verifications (and what GET /v1/verifications/{id} serves). */
export interface VerificationView {
  id: string;
  party: string;
  purpose: Purpose;
  verdict: Verdict;
  reasons: Reason[];
  subject: string;
  product: ProductInfo | null;
  status: SubjectStatus;
  custodian: string | null;
  custody: TimelineEntry[];
  units?: StoredUnitsSummary;
  checkpoint: { origin: string; size: number; rootHash: string } | null;
  verifiedAt: string;
  receipt: VerificationReceipt;
  /** the quarantine case this verdict opened (receiving only) */
  case?: { id: string; status: 'open' };
  /** its short number for labels (Q-YY-NNNNNN), with `case` */
  caseNumber?: string;
  /**
   * true when the caller is outside the subject's chain (DESIGN §6a): the
   * answer keeps the verdict, reason codes and product identity only.
   */
  limited?: true;
}

/**
 * DESIGN §6a: what a party outside the chain is told. Dropped: the custody
 * timeline (`custody: []`), the custodian (`null`), the failing units' list
 * (counts stay) and every reason's message, which may name a counterparty
 * (replaced by the code's fixed description). The receipt signs only codes,
 * so it verifies unchanged.
 */
export function outsiderView<V extends Omit<VerificationView, 'id' | 'receipt' | 'case'>>(
  view: V,
): V & { limited: true } {
  const reason = (r: Reason): Reason => ({
    code: r.code,
    message: REASONS[r.code].description,
    ...(r.subject !== undefined ? { subject: r.subject } : {}),
  });
  return {
    ...view,
    reasons: view.reasons.map(reason),
    custodian: null,
    custody: [],
    ...(view.units ? { units: { ...view.units, failing: [] } } : {}),
    limited: true,
  };
}

const CODE_ORDER = new Map(REASON_CODES.map((c, i) => [c, i] as const));

/** DESIGN §7 table order, as the engine sorts its own reasons. */
function sortedReasons(reasons: Reason[]): Reason[] {
  return reasons.sort((a, b) => CODE_ORDER.get(a.code)! - CODE_ORDER.get(b.code)!);
}

// ---------------------------------------------------------------------------
// DUPLICATE_SCAN: the last handoff of a subject.

interface Decoded {
  index: number;
  at: string;
  type: string;
  parent?: string;
  actor?: string;
  to?: string;
}

function decode(e: BundleEntry): Decoded | null {
  const r = entryPayload(e.envelope) as {
    type?: unknown;
    actor?: unknown;
    data?: { parent?: unknown; to?: unknown };
  } | null;
  if (typeof r?.type !== 'string') return null;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const parent = str(r.data?.parent);
  const actor = str(r.actor);
  const to = str(r.data?.to);
  return {
    index: e.receipt.index,
    at: e.receipt.integratedAt,
    type: r.type,
    ...(parent ? { parent } : {}),
    ...(actor ? { actor } : {}),
    ...(to ? { to } : {}),
  };
}

/**
 * Receipt time of the subject's last handoff (ship or receive), counting the
 * handoffs of every container while the subject travelled inside it, every
 * level up (a contained unit moves with its case, the case with its pallet,
 * DESIGN §5). Null: never handed off. Reads the log's own bundle (trusted),
 * between log indexes `from` and `to`; `outer` holds the containers already
 * followed, so no chain is walked twice on one path.
 */
export function lastHandoff(
  bundle: Bundle,
  subject: string,
  from = -1,
  to = Infinity,
  outer: ReadonlySet<string> = new Set(),
): string | null {
  const chain = bundle.chains[subject] ?? [];
  let last: string | null = null;
  const later = (t: string | null) => {
    if (t !== null && (last === null || t > last)) last = t;
  };
  const records = chain.map(decode).filter((d): d is Decoded => d !== null);
  const path = new Set(outer).add(subject);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.index <= from || r.index >= to) continue;
    if (r.type === 'ship' || r.type === 'receive') later(r.at);
    if (r.type === 'pack' && r.parent && !path.has(r.parent)) {
      // It leaves the parent with its own unpack {parent} (a case's unpack of its children is not that).
      const exit = records.slice(i + 1).find((x) => x.type === 'unpack' && x.parent);
      later(lastHandoff(bundle, r.parent, r.index, Math.min(exit?.index ?? Infinity, to), path));
    }
  }
  return last;
}

/**
 * The containers `subject` is inside now, innermost first (packed and not
 * unpacked since, and the containers that container is in, every level up:
 * DESIGN §5, containers nest): a pallet verification covers every case and
 * unit inside it (DESIGN §7), so it counts as a verification of each of their
 * serials. Reads the log's own bundle (trusted); a repeated container ends the walk.
 */
export function enclosingContainers(bundle: Bundle, subject: string): string[] {
  const out: string[] = [];
  for (let s: string | null = subject; s !== null;) {
    let parent: string | null = null;
    for (const r of (bundle.chains[s] ?? []).map(decode)) {
      if (r?.type === 'pack' && r.parent) parent = r.parent;
      else if (r?.type === 'unpack' && r.parent) parent = null;
    }
    if (parent === null || parent === subject || out.includes(parent)) break;
    out.push(parent);
    s = parent;
  }
  return out;
}

/**
 * The parties whose verification of `subject` can reveal a clone (DESIGN §7
 * DUPLICATE_SCAN): every actor and `to` of its chain and of the chain of every
 * container it was ever packed in, at every level (who held, or was sent, a container it
 * travelled in). Anyone else's verification is audited, never counted: an
 * outsider scanning a competitor's goods in transit must not quarantine them.
 * Reads the log's own bundle (trusted).
 */
export function chainParties(bundle: Bundle, subject: string): Set<string> {
  const parties = new Set<string>();
  const seen = new Set<string>();
  // Every level up (DESIGN §5: containers nest); iterative, each chain once.
  const todo = [subject];
  for (let s = todo.pop(); s !== undefined; s = todo.pop()) {
    if (seen.has(s)) continue;
    seen.add(s);
    for (const r of (bundle.chains[s] ?? []).map(decode)) {
      if (r?.actor) parties.add(r.actor);
      if (r?.to) parties.add(r.to);
      if (r?.type === 'pack' && r.parent) todo.push(r.parent);
    }
  }
  return parties;
}

// ---------------------------------------------------------------------------

/** The checkpoint's signing time when it is one this log signed (for CHECKPOINT_STALE). */
async function checkpointTimeOf(deps: VerifierDeps, checkpoint: unknown): Promise<string | null> {
  if (typeof checkpoint !== 'string') return null;
  const size = noteSize(checkpoint);
  if (size === null) return null;
  const stored = await getCheckpoint(deps.db, size);
  if (!stored) return null;
  const body = (note: string) => note.split('\n', 3).join('\n');
  return body(stored.note) === body(checkpoint) ? stored.createdAt : null;
}

/** Most distinct kids of a presented bundle looked up in the registry. */
const MAX_LOOKUP_KIDS = 1000;
const KID_RE = /^[0-9a-f]{32}$/;

/**
 * Owners, in the registry, of the kids that sign a presented bundle's records, so
 * that a record signed with another party's key is KEY_NOT_AUTHORIZED even when the
 * shipper left that key's registration out of the bundle. Envelopes are attacker-controlled.
 */
async function keyOwnersOf(
  deps: VerifierDeps,
  frame: BundleFrame,
): Promise<Record<string, string>> {
  const kids = new Set<string>();
  for (const [, list] of frame.chains)
    for (const e of list) {
      const sigs = (e.envelope as { signatures?: unknown } | null)?.signatures;
      const kid = Array.isArray(sigs) ? (sigs[0] as { keyid?: unknown } | null)?.keyid : undefined;
      if (typeof kid === 'string' && KID_RE.test(kid) && kids.size < MAX_LOOKUP_KIDS) kids.add(kid);
    }
  const keys = await getKeys(deps.db, [...kids]);
  const out: Record<string, string> = {};
  for (const [kid, k] of keys) out[kid] = k.gln ?? 'authority';
  return out;
}

/** The subject a presented bundle is about, if it names a canonical one. */
function presentedSubject(presented: unknown): string | null {
  if (typeof presented !== 'object' || presented === null) return null;
  const s = (presented as { subject?: unknown }).subject;
  return typeof s === 'string' && subjectParts(s) !== null ? s : null;
}

/**
 * Alarms of the log monitor on `subject`, the containers it is in and, for a
 * logistic unit, the units packed in it; and unacknowledged alarms on the log
 * itself (a checkpoint that does not verify): each as a finding with its code.
 */
async function alarmFindings(
  deps: VerifierDeps,
  subject: string,
  logBundle: Bundle | null,
): Promise<Reason[]> {
  const containers = logBundle ? enclosingContainers(logBundle, subject) : [];
  const units = (await getVerifiedChildren(deps.db, [subject])).get(subject) ?? [];
  const alarms = await getSubjectAlarms(deps.db, [
    subject,
    ...containers,
    ...units.map((u) => u.subject),
  ]);
  const out: Reason[] = [];
  for (const a of alarms) {
    if (a.subject === null && a.ackedAt !== null) continue;
    if (!(REASON_CODES as readonly string[]).includes(a.code)) continue;
    out.push({
      code: a.code as Reason['code'],
      message: `log monitor alarm ${a.id}: ${a.message}`,
      subject: a.subject ?? subject,
    });
  }
  return out;
}

/**
 * Verifies `req.subject` (or a presented bundle) as `req.party`, stores the
 * verification and opens a case when a receiving verdict is not accept.
 */
export async function runVerification(
  deps: VerifierDeps,
  req: VerificationRequest,
): Promise<VerificationView> {
  const nowMs = deps.now();
  const verifiedAt = new Date(nowMs).toISOString();
  const findings: Reason[] = [];

  // A presented bundle is evidence: one that names no canonical subject is still
  // judged (a reject, LOG_PROOF_INVALID at `subject`), never refused (STYLE rule 3).
  const subject =
    req.presented !== undefined ? (presentedSubject(req.presented) ?? '') : req.subject;
  const fast =
    req.presented === undefined && deps.policy.answerFrom === 'state'
      ? await answerFromVerifiedState(deps, req, nowMs)
      : null;
  let view: Omit<VerificationView, 'id' | 'receipt' | 'case'>;
  if (fast) view = await stateView(deps, req, fast, verifiedAt);
  else view = await engineView(deps, req, subject, verifiedAt, findings);
  return finishVerification(deps, req, view, verifiedAt, fast ?? undefined);
}

/**
 * The answer from the monitor's verified state (DESIGN §7b), once the monitor
 * has verified the log as large as it was when the request arrived (a bounded
 * wait); null when the full engine must answer.
 */
async function answerFromVerifiedState(
  deps: VerifierDeps,
  req: VerificationRequest,
  nowMs: number,
): Promise<StateAnswer | null> {
  const trusts = (note: string) => deps.monitor.trustsNote(note);
  const waitFor = (size: number) => deps.monitor.waitFor(size, deps.monitorWaitMs);
  if (isUnitSubject(req.subject)) {
    const facts = await unitFactsCaughtUp(deps.unitFacts, req, waitFor);
    return facts && answerUnitFromState(deps.db, deps.origin, req, nowMs, trusts, facts);
  }
  if (!isContainerSubject(req.subject) || !(await waitFor(await getLogSize(deps.db)))) return null;
  return answerContainerFromState(deps.db, deps.origin, req, nowMs, trusts);
}

/** The answer from the monitor's verified state, with the service's DUPLICATE_SCAN finding. */
async function stateView(
  deps: VerifierDeps,
  req: VerificationRequest,
  a: StateAnswer,
  verifiedAt: string,
): Promise<Omit<VerificationView, 'id' | 'receipt' | 'case'>> {
  const reasons = [...a.reasons];
  const others =
    a.chainParties.length === 0 || a.duplicateCandidates === false
      ? []
      : await otherVerifiers(
          deps.db,
          [a.subject, ...a.enclosing],
          req.party,
          a.lastHandoff,
          a.chainParties,
        );
  if (others.length > 0) reasons.push(duplicateScan(a.subject, others, a.lastHandoff));
  const sorted = sortedReasons(reasons);
  return {
    party: req.party,
    purpose: req.purpose,
    verdict: verdictOf(sorted.map((r) => r.code)),
    reasons: sorted,
    subject: a.subject,
    product: a.product,
    status: a.status,
    custodian: a.custodian,
    custody: a.custody,
    ...(a.units ? { units: capUnits(a.units) } : {}),
    checkpoint: a.checkpoint,
    verifiedAt,
  };
}

/** DESIGN §7 DUPLICATE_SCAN, as a reason. */
function duplicateScan(
  subject: string,
  others: { party: string; at: string }[],
  since: string | null,
): Reason {
  const o = others[0]!;
  return {
    code: 'DUPLICATE_SCAN',
    message: `${subject} was verified by ${o.party} at ${o.at}${
      others.length > 1 ? ` (and ${others.length - 1} other parties)` : ''
    }, since its last handoff${since ? ` at ${since}` : ''}`,
    subject,
  };
}

/** The answer of the full engine over the log's bundle (or a presented one). */
async function engineView(
  deps: VerifierDeps,
  req: VerificationRequest,
  subject: string,
  verifiedAt: string,
  findings: Reason[],
): Promise<Omit<VerificationView, 'id' | 'receipt' | 'case'>> {
  const { db } = deps;
  const logBundle = subject === '' ? null : await deps.bundleSource(db, deps.origin, subject);

  let keyOwners: Record<string, string> | undefined;
  if (req.presented !== undefined) {
    const framed = checkBundleFrame(req.presented);
    if (framed.ok) {
      const diverges = await bundleDivergence(db, framed.frame, logBundle, deps.sha256);
      if (diverges) findings.push({ code: 'BUNDLE_DIVERGES', message: diverges });
      keyOwners = await keyOwnersOf(deps, framed.frame);
    }
  }

  // DESIGN §7 DUPLICATE_SCAN: another party of the chain verified this serial since
  // its last handoff, directly or by verifying a pallet or case it is in. Only
  // verifications that could reveal a clone count: by a party in the chain (or of a
  // container it travels in), of a scan or subject (never a presented bundle, whose
  // subject is whatever its sender wrote). No chain, no such party: nothing counts.
  const since = logBundle ? lastHandoff(logBundle, subject) : null;
  const scanned = logBundle ? [subject, ...enclosingContainers(logBundle, subject)] : [subject];
  const eligible = logBundle ? [...chainParties(logBundle, subject)] : [];
  const others =
    subject === '' || eligible.length === 0
      ? []
      : await otherVerifiers(db, scanned, req.party, since, eligible);
  if (others.length > 0) findings.push(duplicateScan(subject, others, since));

  // DESIGN §7b: what the monitor found wrong with the subject's entries (or its
  // containers', or its units') makes it reject with the reason found.
  if (req.presented === undefined && subject !== '')
    findings.push(...(await alarmFindings(deps, subject, logBundle)));
  // And what it verified that the log's own bundle leaves out (a record or notice row deleted).
  if (req.presented === undefined && logBundle)
    findings.push(...(await logBundleGaps(db, subject, logBundle)));

  const evidence = req.presented ?? logBundle;
  let view: Omit<VerificationView, 'id' | 'receipt' | 'case'>;
  if (evidence === null) {
    const reasons = sortedReasons([
      { code: 'UNKNOWN_PRODUCT', message: `no chain for ${subject} in the log`, subject },
      ...findings,
    ]);
    view = {
      party: req.party,
      purpose: req.purpose,
      verdict: verdictOf(reasons.map((r) => r.code)),
      reasons,
      subject,
      product: null,
      status: 'unknown',
      custodian: null,
      custody: [],
      checkpoint: null,
      verifiedAt,
    };
  } else {
    const checkpointTime =
      req.presented !== undefined
        ? await checkpointTimeOf(deps, (req.presented as { checkpoint?: unknown }).checkpoint)
        : verifiedAt; // the log's own bundle was just read: as fresh as it gets
    const result = await verifyBundleAsync(
      evidence,
      {
        ...deps.trust,
        ...(req.presented !== undefined
          ? { maxCheckpointAgeSeconds: deps.policy.maxBundleAgeSeconds }
          : {}),
      },
      {
        party: req.party,
        purpose: req.purpose,
        now: verifiedAt,
        ...(req.scan ? { scan: req.scan } : {}),
        ...(req.scannedSubject !== undefined ? { scannedSubject: req.scannedSubject } : {}),
        ...(checkpointTime ? { checkpointTime } : {}),
        findings,
        ...(keyOwners ? { keyOwners } : {}),
      },
      {
        backend: deps.backend,
        sha256: deps.sha256,
        signatureCheck: deps.pool.check,
        receiptSignatures: deps.policy.receiptSignatures,
        ...(deps.policy.maxBackdateMs !== undefined
          ? { maxBackdateMs: deps.policy.maxBackdateMs }
          : {}),
      },
    );
    view = {
      party: req.party,
      purpose: req.purpose,
      verdict: result.verdict,
      reasons: result.reasons,
      subject: result.subject || subject,
      product: result.product ?? null,
      status: result.status,
      custodian: result.custodian,
      custody: result.custody,
      ...(result.units ? { units: capUnits(result.units) } : {}),
      checkpoint: result.checkpoint ?? null,
      verifiedAt,
    };
  }
  return view;
}

/** Signs, stores and returns a verification (and opens its case). */
async function finishVerification(
  deps: VerifierDeps,
  req: VerificationRequest,
  answer: Omit<VerificationView, 'id' | 'receipt' | 'case'>,
  verifiedAt: string,
  /** what the verified state already told (whether the caller is a party of the chain) */
  known?: { chainParty?: boolean },
): Promise<VerificationView> {
  const { db } = deps;
  let view = answer;

  // DESIGN §6a: outside the chain (as actor or `to`, or in a container's chain),
  // the verdict and the product only.
  const insider =
    view.subject !== '' && (known?.chainParty ?? (await isChainParty(db, view.subject, req.party)));
  if (!insider) view = outsiderView(view);

  const id = randomUUID();
  // DESIGN §12: the signing span of a verification.
  const receipt = await inSpan('sign verification receipt', { 'provenant.key': 'verifier' }, () =>
    signVerificationReceipt(
      {
        id,
        subject: view.subject,
        party: req.party,
        purpose: req.purpose,
        verdict: view.verdict,
        reasons: view.reasons.map((r) => r.code),
        checkpoint: view.checkpoint,
        verifiedAt,
        nonce: req.nonce ?? null,
      },
      deps.verifierKey,
      nodeBackend,
    ),
  );
  const full: VerificationView = { id, ...view, receipt };
  deps.metrics?.observeVerdict(
    view.verdict,
    view.reasons.map((r) => r.code),
  );
  const opensCase = req.purpose === 'receiving' && view.verdict !== 'accept';
  const caseId = opensCase ? randomUUID() : null;
  if (caseId) full.case = { id: caseId, status: 'open' };

  const audit: NewVerification = {
    id,
    party: req.party,
    purpose: req.purpose,
    source: req.source,
    subject: view.subject,
    verdict: view.verdict,
    reasons: view.reasons,
    result: full,
    receipt,
    createdAt: verifiedAt,
  };
  // The audit row, its case and their webhook events commit together (DESIGN §12
  // outbox); an accept writes no event, so it stays one autocommitted statement
  // (two round trips fewer on the common path).
  const stored =
    view.verdict === 'accept'
      ? req.idempotency
        ? await insertVerification(db, audit, req.idempotency)
        : await deps.storeVerification(audit).then(() => true)
      : await db.transaction(async (tx) => {
          if (caseId) {
            // The number is part of the answer and of its audit row, so it is drawn first.
            const caseNumber = await nextCaseNumber(tx, verifiedAt);
            full.caseNumber = caseNumber;
          }
          if (!(await insertVerification(tx, audit, req.idempotency))) return false;
          if (caseId)
            await insertCase(tx, {
              id: caseId,
              verificationId: id,
              party: req.party,
              subject: view.subject,
              verdict: view.verdict as 'quarantine' | 'reject',
              reasons: view.reasons,
              createdAt: verifiedAt,
              caseNumber: full.caseNumber!,
            });
          await insertWebhookEvents(tx, verdictEvents(audit, caseId));
          return true;
        });
  return stored ? full : twinsAnswer(deps, req);
}

/**
 * A request with the same Idempotency-Key stored its verification first (on
 * this or another replica): its answer is this request's answer.
 * @throws HttpProblem 422 `idempotency-key-reused` when the twin was a different request.
 * @throws HttpProblem 503 `idempotency-key-expired` (retry) when the key that held the
 *   twin expired between the claim and this read (nothing of this request was stored).
 */
async function twinsAnswer(
  deps: VerifierDeps,
  req: VerificationRequest,
): Promise<VerificationView> {
  const idem = req.idempotency!;
  const twin = await verificationByIdempotencyKey(deps.db, req.party, idem.key);
  if (!twin)
    throw unavailable('The Idempotency-Key expired while this request was stored; retry it.', {
      slug: 'idempotency-key-expired',
      headers: { 'Retry-After': '1' },
    });
  if (twin.requestHash !== idem.requestHash)
    throw unprocessable('This Idempotency-Key was already used with a different request.', {
      slug: 'idempotency-key-reused',
    });
  return twin.result as VerificationView;
}

/** verification.quarantined / .rejected, and case.opened when a case opens (DESIGN §12). */
function verdictEvents(v: NewVerification, caseId: string | null): NewWebhookEvent[] {
  const reasons = (v.reasons as Reason[]).map((r) => r.code);
  const at = new Date(v.createdAt);
  const base = {
    verificationId: v.id,
    party: v.party,
    subject: v.subject,
    purpose: v.purpose,
    reasons,
    caseId,
    verifiedAt: v.createdAt,
  };
  const out = [
    v.verdict === 'reject'
      ? webhookEvent('verification.rejected', [v.party], { ...base, verdict: 'reject' }, at)
      : webhookEvent('verification.quarantined', [v.party], { ...base, verdict: 'quarantine' }, at),
  ];
  if (caseId)
    out.push(
      webhookEvent(
        'case.opened',
        [v.party],
        {
          caseId,
          verificationId: v.id,
          party: v.party,
          subject: v.subject,
          verdict: v.verdict as 'quarantine' | 'reject',
          reasons,
          openedAt: v.createdAt,
        },
        at,
      ),
    );
  return out;
}
