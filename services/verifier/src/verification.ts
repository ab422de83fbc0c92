// One verification, end to end (DESIGN §7): the evidence (the log's own bundle
// of the subject, or a bundle presented by a shipper, cross-checked against the
// log), the service's findings the bundle cannot show (DUPLICATE_SCAN,
// BUNDLE_DIVERGES), the pure engine of core, the signed verification receipt,
// the audit row and, for a suspect delivery at the dock, a quarantine case.
import { randomUUID } from 'node:crypto';
import {
  checkBundleFrame,
  fromDsseBase64,
  fromUtf8,
  REASON_CODES,
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
  insertWebhookEvents,
  type NewWebhookEvent,
} from '@provenant/store';
import { inSpan, webhookEvent } from '@provenant/issuer';
import type { VerifierDeps } from './deps.js';
import { bundleDivergence } from './divergence.js';
import { signVerificationReceipt, type VerificationReceipt } from './receipt.js';
import { insertCase, insertVerification, otherVerifiers, type NewVerification } from './store.js';

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
  units?: UnitsSummary;
  checkpoint: { origin: string; size: number; rootHash: string } | null;
  verifiedAt: string;
  receipt: VerificationReceipt;
  /** the quarantine case this verdict opened (receiving only) */
  case?: { id: string; status: 'open' };
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
}

function decode(e: BundleEntry): Decoded | null {
  const bytes = fromDsseBase64(e.envelope.payload);
  const text = bytes ? fromUtf8(bytes) : null;
  if (text === null) return null;
  try {
    const r = JSON.parse(text) as { type?: unknown; data?: { parent?: unknown } };
    if (typeof r.type !== 'string') return null;
    const parent = typeof r.data?.parent === 'string' ? r.data.parent : undefined;
    return {
      index: e.receipt.index,
      at: e.receipt.integratedAt,
      type: r.type,
      ...(parent ? { parent } : {}),
    };
  } catch {
    return null;
  }
}

/**
 * Receipt time of the subject's last handoff (ship or receive), counting the
 * handoffs of every logistic unit while the subject travelled inside it
 * (a contained unit moves with its container, DESIGN §5). Null: never handed off.
 * Reads the log's own bundle (trusted), between log indexes `from` and `to`.
 */
export function lastHandoff(
  bundle: Bundle,
  subject: string,
  from = -1,
  to = Infinity,
  depth = 0,
): string | null {
  const chain = bundle.chains[subject] ?? [];
  let last: string | null = null;
  const later = (t: string | null) => {
    if (t !== null && (last === null || t > last)) last = t;
  };
  const records = chain.map(decode).filter((d): d is Decoded => d !== null);
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.index <= from || r.index >= to) continue;
    if (r.type === 'ship' || r.type === 'receive') later(r.at);
    if (r.type === 'pack' && r.parent && depth < 4) {
      const exit = records.slice(i + 1).find((x) => x.type === 'unpack');
      later(
        lastHandoff(bundle, r.parent, r.index, Math.min(exit?.index ?? Infinity, to), depth + 1),
      );
    }
  }
  return last;
}

/**
 * The logistic units `subject` is inside now, innermost first (a unit packed
 * and not unpacked since, and the containers that container is in): a pallet
 * verification covers every unit inside it (DESIGN §7), so it counts as a
 * verification of each of their serials. Reads the log's own bundle (trusted).
 */
export function enclosingContainers(bundle: Bundle, subject: string, depth = 0): string[] {
  let parent: string | null = null;
  for (const r of (bundle.chains[subject] ?? []).map(decode)) {
    if (r?.type === 'pack') parent = r.parent ?? parent;
    else if (r?.type === 'unpack') parent = null;
  }
  if (parent === null || depth >= 4) return [];
  return [parent, ...enclosingContainers(bundle, parent, depth + 1)];
}

// ---------------------------------------------------------------------------

/** The checkpoint's signing time when it is one this log signed (for CHECKPOINT_STALE). */
async function checkpointTimeOf(deps: VerifierDeps, checkpoint: unknown): Promise<string | null> {
  if (typeof checkpoint !== 'string') return null;
  const lines = checkpoint.split('\n', 3);
  if (lines.length < 3 || !/^\d{1,15}$/.test(lines[1]!)) return null;
  const stored = await getCheckpoint(deps.db, Number(lines[1]));
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
 * Verifies `req.subject` (or a presented bundle) as `req.party`, stores the
 * verification and opens a case when a receiving verdict is not accept.
 */
export async function runVerification(
  deps: VerifierDeps,
  req: VerificationRequest,
): Promise<VerificationView> {
  const { db } = deps;
  const nowMs = deps.now();
  const verifiedAt = new Date(nowMs).toISOString();
  const findings: Reason[] = [];

  // A presented bundle is evidence: one that names no canonical subject is still
  // judged (a reject, LOG_PROOF_INVALID at `subject`), never refused (STYLE rule 3).
  const subject =
    req.presented !== undefined ? (presentedSubject(req.presented) ?? '') : req.subject;
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

  // DESIGN §7 DUPLICATE_SCAN: another party verified this serial since its last
  // handoff, directly or by verifying a pallet or case it is in.
  const since = logBundle ? lastHandoff(logBundle, subject) : null;
  const scanned = logBundle ? [subject, ...enclosingContainers(logBundle, subject)] : [subject];
  const others = subject === '' ? [] : await otherVerifiers(db, scanned, req.party, since);
  if (others.length > 0) {
    const o = others[0]!;
    findings.push({
      code: 'DUPLICATE_SCAN',
      message: `${subject} was verified by ${o.party} at ${o.at}${
        others.length > 1 ? ` (and ${others.length - 1} other parties)` : ''
      }, since its last handoff${since ? ` at ${since}` : ''}`,
      subject,
    });
  }

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
        ...(checkpointTime ? { checkpointTime } : {}),
        findings,
        ...(keyOwners ? { keyOwners } : {}),
      },
      {
        backend: deps.backend,
        sha256: deps.sha256,
        signatureCheck: deps.pool.check,
        receiptSignatures: deps.policy.receiptSignatures,
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
      ...(result.units ? { units: result.units } : {}),
      checkpoint: result.checkpoint ?? null,
      verifiedAt,
    };
  }

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
  if (view.verdict === 'accept') await insertVerification(db, audit);
  else
    await db.transaction(async (tx) => {
      await insertVerification(tx, audit);
      const events = verdictEvents(audit, caseId);
      if (caseId)
        await insertCase(tx, {
          id: caseId,
          verificationId: id,
          party: req.party,
          subject: view.subject,
          verdict: view.verdict as 'quarantine' | 'reject',
          reasons: view.reasons,
          createdAt: verifiedAt,
        });
      await insertWebhookEvents(tx, events);
    });
  return full;
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
