// A unit's verification answered from the monitor's verified state (DESIGN
// §7b): a few indexed reads (the cursor, the subject's and its containers'
// verified state, their records with receipt times, the keys and parties of
// those records, alarms, recalls) and the engine's status checks of DESIGN §7
// step 6, with the same codes and messages, no signature and no proof: the
// monitor verified every entry below its cursor once.
//
// Where the engine alone decides, this answers null and the caller runs the
// full engine over the log's bundle (the fallback): units nested two
// containers deep, an alarm on the subject or its
// containers or an unacknowledged one on the log, a key of the timeline with a
// revocation or suspension (KEY_REVOKED that postdates), an actor suspended now or before
// (PARTY_SUSPENDED), a recall notice for the GTIN (RECALLED), times in the
// future (TIME_ANOMALY), a subject without verified state (UNKNOWN_PRODUCT).
//
// A logistic unit (or a case packed with units) answers from the verified rows
// of all its descendants, read in one recursive query, with the same fallbacks
// for any subject inside, and also when a unit is no longer inside (the
// engine then judges its custody), when the container is itself packed in
// another, or when the scanned code differs. Failing units are listed in pack
// order, read from the packs' children only when some unit fails.
import {
  DEFAULT_CLOCK_SKEW_MS,
  effectiveCustody,
  isContainerSubject,
  subjectParts,
  REASON_CODES,
  toHex,
  verdictOf,
  type ChainState,
  type CustodyContext,
  type EffectiveCustody,
  type ProductInfo,
  type Purpose,
  type Reason,
  type RecordType,
  type SubjectStatus,
  type TimelineEntry,
  type UnitsSummary,
  type Verdict,
  type VerifiedStatus,
  verifiedStatusOf,
} from '@provenant/core';
import {
  getPackedStatuses,
  getPackOrder,
  getPalletFacts,
  getTimelineRows,
  getUnitFacts,
  getVerifiedDescendants,
  getVerifiedKeys,
  getVerifiedParties,
  getVerifiedSubjects,
  getVerifierCursor,
  hasNoticeBefore,
  type PackedStatus,
  type PalletFacts,
  type Queryable,
  type TimelineRow,
  type UnitFacts,
  type UnitKey,
  type VerifiedDescendant,
} from '@provenant/store';
import { CLONE_REVEALING_PURPOSES } from '../store.js';
import { fromStored } from './check.js';

export interface StateAnswer {
  verdict: Verdict;
  reasons: Reason[];
  subject: string;
  product: ProductInfo | null;
  status: SubjectStatus;
  custodian: string | null;
  custody: TimelineEntry[];
  checkpoint: { origin: string; size: number; rootHash: string };
  /** for DUPLICATE_SCAN: receipt time of the last handoff, the containers it is in now, the chain's parties */
  lastHandoff: string | null;
  enclosing: string[];
  chainParties: string[];
  /** logistic units (and cases with units): every unit inside, as the engine summarizes them */
  units?: UnitsSummary;
  /**
   * false when no other party of the chain verified it since its own last
   * handoff (no DUPLICATE_SCAN to look for); absent: not known, look
   */
  duplicateCandidates?: boolean;
  /** whether the caller is a party of its chain (DESIGN §6a), when already known */
  chainParty?: boolean;
}

/** What a verification asks of the verified state. */
export interface StateRequest {
  party: string;
  purpose: Purpose;
  subject: string;
  scan?: { lot?: string; expiry?: string };
  /** the code scanned, when it differs from the subject the engine judges SUBJECT_MISMATCH */
  scannedSubject?: string;
}

type VerifiedCheckpoint = { size: number; rootHash: Uint8Array; note: string };

const CODE_ORDER = new Map(REASON_CODES.map((c, i) => [c, i] as const));

function toTimeline(r: TimelineRow): TimelineEntry {
  const t: TimelineEntry = {
    subject: r.subject,
    seq: r.seq,
    type: r.type as RecordType,
    actor: r.actor,
    time: r.time,
    receiptTime: r.receiptTime,
    index: r.index,
    id: r.id,
  };
  if (r.type === 'ship') {
    t.to = r.to!;
    t.shipment = r.shipment!;
  } else if (r.type === 'receive') {
    t.from = r.from!;
    t.shipment = r.shipment!;
  }
  return t;
}

/** The engine's timeline: the unit's records and its containers' while it was inside. */
function timelineOf(own: TimelineRow[], containers: Map<string, TimelineRow[]>): TimelineRow[] {
  const out = [...own];
  for (let i = 0; i < own.length; i++) {
    const r = own[i]!;
    if (r.type !== 'pack' || r.parent === null) continue;
    const exit = own.slice(i + 1).find((x) => x.type === 'unpack');
    const to = exit ? exit.index : Infinity;
    for (const c of containers.get(r.parent) ?? [])
      if (c.index > r.index && c.index < to) out.push(c);
  }
  return out.sort((a, b) => a.index - b.index);
}

/** The GTIN of a canonical unit subject, else null. */
function unitGtin(subject: string): string | null {
  const parts = subjectParts(subject);
  return parts?.kind === 'unit' ? parts.gtin : null;
}

/**
 * A verification from verified state as it stands, without waiting for the
 * monitor, or null when the full engine must answer: a unit from its facts,
 * a logistic unit from its descendants' rows.
 */
export async function answerFromState(
  db: Queryable,
  origin: string,
  req: StateRequest,
  now: number,
  trusts: (checkpointNote: string) => boolean,
): Promise<StateAnswer | null> {
  if (isContainerSubject(req.subject))
    return answerContainerFromState(db, origin, req, now, trusts);
  const read = (key: UnitKey) => getUnitFacts(db, { ...key, purposes: CLONE_REVEALING_PURPOSES });
  const facts = await unitFactsCaughtUp(read, req, async () => false);
  return facts && answerUnitFromState(db, origin, req, now, trusts, facts);
}

/** A logistic unit's (or a case's) verification from verified state, or null (the engine). */
export async function answerContainerFromState(
  db: Queryable,
  origin: string,
  req: StateRequest,
  now: number,
  trusts: (checkpointNote: string) => boolean,
): Promise<StateAnswer | null> {
  const cp = (await getVerifierCursor(db)).checkpoint;
  // Only state bound to a checkpoint signed by this verifier's own log key.
  if (!cp || !trusts(cp.note)) return null;
  // The units and the facts of all their records side by side (two connections when the pool has them).
  const [packed, facts] = await Promise.all([
    getPackedStatuses(db, req.subject),
    getPalletFacts(db, req.subject, cp.size),
  ]);
  if (packed) return packedAnswer(db, origin, req, now, cp, packed, facts);
  // A name getPackedStatuses cannot list (never a canonical subject): row by row.
  return containerAnswer(db, origin, req, now, cp, await getVerifiedDescendants(db, req.subject));
}

/**
 * What a unit's answer reads (getUnitFacts), once the monitor has verified
 * the log as large as it was when the request arrived (waiting at most
 * `waitMs` for it, DESIGN §7b); null when it has not.
 */
export async function unitFactsCaughtUp(
  read: (key: UnitKey) => Promise<UnitFacts>,
  req: StateRequest,
  waitFor: (size: number) => Promise<boolean>,
): Promise<UnitFacts | null> {
  const gtin = unitGtin(req.subject);
  if (gtin === null) return null;
  const key = { subject: req.subject, gtin, party: req.party };
  const facts = await read(key);
  if (facts.verifiedNext >= facts.logSize) return facts;
  return (await waitFor(facts.logSize)) ? read(key) : null;
}

/**
 * Answers a unit's verification from its verified facts, or null when the
 * full engine must (see the header). `now` is the request's clock; `trusts`
 * tells whether a checkpoint note verifies under the verifier's log key
 * (LogMonitor.trustsNote). A case packed with units answers as a logistic unit.
 */
export async function answerUnitFromState(
  db: Queryable,
  origin: string,
  req: StateRequest,
  now: number,
  trusts: (checkpointNote: string) => boolean,
  f: UnitFacts,
): Promise<StateAnswer | null> {
  const { subject } = req;
  const cp = f.checkpoint;
  // Only state bound to a checkpoint signed by this verifier's own log key.
  if (!cp || !trusts(cp.note)) return null;
  const row = f.verified;
  if (!row || row.alarm !== null || row.headIndex < 0) return null;
  const { own } = f;
  if (own.length === 0 || own[own.length - 1]!.index !== row.headIndex) return null; // state newer than the checkpoint
  // A serialized case packed with units (its pack of children has no parent): as a logistic unit.
  if (own.some((r) => r.type === 'pack' && r.parent === null))
    return containerAnswer(db, origin, req, now, cp, await getVerifiedDescendants(db, subject));
  if (f.containers.some((r) => r.type === 'pack' && r.parent !== null)) return null; // nested: the engine
  if (f.alarmed || f.keyEvents || f.partyInactive || f.recalled) return null;
  const all = [...own, ...f.containers];
  if (
    all.some(
      (r) =>
        Date.parse(r.time) > now + DEFAULT_CLOCK_SKEW_MS ||
        Date.parse(r.receiptTime) > now + DEFAULT_CLOCK_SKEW_MS,
    )
  )
    return null;
  const state = fromStored(subject, row.state, []);
  const p = state.product;
  if (p && p.gtin !== unitGtin(subject)) return null; // the recall was looked up by the subject's GTIN

  // Effective custody (core effectiveCustody) with the container's verified state.
  let container: ChainState | undefined;
  if (state.containedIn !== null) {
    const c = f.container;
    if (c?.subject !== state.containedIn) return null;
    const v = c.verified;
    if (!v || v.alarm !== null || v.headIndex < 0) return null;
    container = fromStored(v.subject, v.state, c.listsUnit ? [{ subject, head: '' }] : []);
  }
  const ctx: CustodyContext = {
    party: () => undefined,
    state: (s) => (s === container?.subject ? container : undefined),
  };
  const eff = effectiveCustody(state, ctx);

  const reasons = statusReasons(subject, state, eff, req, new Date(now).toISOString().slice(0, 10));
  if (p) {
    if (req.scan?.lot !== undefined && req.scan.lot !== p.lot)
      reasons.push({
        code: 'LOT_MISMATCH',
        message: `scanned lot ${req.scan.lot}, commissioned lot ${p.lot}`,
        subject,
      });
    // AI 17 carries YYMMDD only: the label matches when the last six digits do (core sameLabelExpiry).
    if (req.scan?.expiry !== undefined && req.scan.expiry.slice(2) !== p.expiry.slice(2))
      reasons.push({
        code: 'EXPIRY_MISMATCH',
        message: `scanned expiry ${req.scan.expiry}, commissioned expiry ${p.expiry}`,
        subject,
      });
  }
  reasons.sort(byCode);
  const byContainer = new Map<string, TimelineRow[]>();
  for (const r of f.containers)
    byContainer.set(r.subject, [...(byContainer.get(r.subject) ?? []), r]);
  return {
    ...answerOf({
      subject,
      reasons,
      state,
      eff,
      inactive: !state.active,
      timeline: timelineOf(own, byContainer),
      partyRows: all,
      cp,
      origin,
      enclosing: state.containedIn !== null ? [state.containedIn] : [],
    }),
    duplicateCandidates: f.duplicateCandidates,
    chainParty: f.chainParty,
  };
}

/**
 * The engine's step-6 status checks of one subject (DESIGN §7) on its verified
 * state and effective custody, the scan's lot and expiry aside.
 */
function statusReasons(
  subject: string,
  state: ChainState,
  eff: EffectiveCustody,
  req: StateRequest,
  today: string,
): Reason[] {
  const reasons: Reason[] = [];
  const add = (code: Reason['code'], message: string) => reasons.push({ code, message, subject });
  const p = state.product;
  if (p) {
    if (!state.active)
      add(
        'DECOMMISSIONED',
        `${subject} was decommissioned (${state.decommission?.reason ?? 'unknown'})`,
      );
    if (p.expiry < today) add('EXPIRED', `${subject} expired on ${p.expiry}`);
  }
  if (eff.quarantined) add('IN_QUARANTINE', `${subject} is on hold (case ${eff.quarantined.case})`);
  if (req.purpose !== 'saleable_return') {
    const ok = eff.inTransit ? eff.inTransit.to === req.party : eff.custodian === req.party;
    if (!ok) {
      const why = eff.inTransit
        ? `the last shipment${eff.via ? ` (of ${eff.via})` : ''} is addressed to ${eff.inTransit.to}`
        : `it is held by ${eff.custodian} and was not shipped to ${req.party}`;
      add('NOT_SHIPPED_TO_YOU', `${subject}: ${why}`);
    }
  }
  return reasons;
}

/** The answer of a subject from its sorted reasons, state, custody timeline and the chain's rows. */
function answerOf(o: {
  subject: string;
  reasons: Reason[];
  state: ChainState;
  eff: EffectiveCustody;
  inactive: boolean;
  timeline: readonly TimelineRow[];
  /** the records whose actors and recipients are the chain's parties */
  partyRows: readonly TimelineRow[];
  cp: VerifiedCheckpoint;
  origin: string;
  enclosing: string[];
}): StateAnswer {
  const { eff, timeline } = o;
  const p = o.state.product;
  const handoffs = timeline.filter((r) => r.type === 'ship' || r.type === 'receive');
  const chainParties = new Set<string>();
  for (const r of o.partyRows) {
    chainParties.add(r.actor);
    if (r.to) chainParties.add(r.to);
  }
  return {
    verdict: verdictOf(o.reasons.map((r) => r.code)),
    reasons: o.reasons,
    subject: o.subject,
    product: p
      ? {
          gtin: p.gtin,
          serial: p.serial,
          lot: p.lot,
          expiry: p.expiry,
          ...(p.details ? { details: p.details } : {}),
        }
      : null,
    status: o.inactive
      ? 'inactive'
      : eff.quarantined
        ? 'quarantined'
        : eff.inTransit
          ? 'in_transit'
          : 'active',
    custodian: eff.custodian,
    custody: timeline.map(toTimeline),
    checkpoint: { origin: o.origin, size: o.cp.size, rootHash: toHex(o.cp.rootHash) },
    lastHandoff:
      handoffs.length > 0
        ? handoffs.reduce((m, r) => (r.receiptTime > m ? r.receiptTime : m), '')
        : null,
    enclosing: o.enclosing,
    chainParties: [...chainParties],
  };
}

/** A logistic unit's units as judgeUnits leaves them: their statuses, the failing ones' reasons. */
interface JudgedUnits {
  statuses: Map<string, VerifiedStatus>;
  reasons: Map<string, Reason[]>;
}

/**
 * The units of a logistic unit (at every level: a pallet's cases and their
 * units) from the descendants' verified statuses, each judged as the engine
 * judges a unit still inside (DESIGN §7: its custody is the container's,
 * judged once at the top): decommissioned, expired, on hold of its own. Null
 * when one is no longer inside its container (the engine then judges its own
 * custody) or has no clean verified state.
 */
function judgeUnits(
  root: ChainState,
  tree: readonly PackedStatus[],
  size: number,
  today: string,
): JudgedUnits | null {
  const statuses = new Map<string, VerifiedStatus>();
  for (const d of tree) {
    const v = d.status;
    if (!v || d.alarmed || v.headIndex >= size || d.child === root.subject) return null;
    statuses.set(d.child, v);
  }
  if (statuses.size !== tree.length) return null; // a subject twice: not a tree
  const reasons = new Map<string, Reason[]>();
  for (const d of tree) {
    const s = d.child;
    const st = d.status!;
    const parentUnpacked =
      d.container === root.subject ? root.unpacked !== null : statuses.get(d.container)?.unpacked;
    if (parentUnpacked !== false || st.containedIn !== d.container) return null;
    const rs: Reason[] = [];
    const p = st.product;
    if (p) {
      if (!st.active)
        rs.push({
          code: 'DECOMMISSIONED',
          message: `${s} was decommissioned (${st.decommissionReason ?? 'unknown'})`,
          subject: s,
        });
      if (p.expiry < today)
        rs.push({ code: 'EXPIRED', message: `${s} expired on ${p.expiry}`, subject: s });
    }
    if (st.quarantineCase !== null)
      rs.push({
        code: 'IN_QUARANTINE',
        message: `${s} is on hold (case ${st.quarantineCase})`,
        subject: s,
      });
    if (rs.length > 0) reasons.set(s, rs);
  }
  return { statuses, reasons };
}

/** Every subject packed in `root`, depth first in pack order (core verify.ts descendants). */
function inPackOrder(root: string, order: Map<string, string[]>): string[] {
  const out: string[] = [];
  const seen = new Set([root]);
  const stack = [...(order.get(root) ?? [])].reverse();
  for (let s = stack.pop(); s !== undefined; s = stack.pop()) {
    if (seen.has(s)) continue;
    seen.add(s);
    out.push(s);
    const cs = order.get(s) ?? [];
    for (let i = cs.length - 1; i >= 0; i--) stack.push(cs[i]!);
  }
  return out;
}

/**
 * The engine's units summary and its aggregated top reasons ("n of N units:
 * ..."), in pack order: the failing units are read in that order, which
 * verifier_children does not keep, so the packs' children lists are read
 * when some unit fails. Null when that order does not cover the same units.
 */
async function summarize(
  db: Queryable,
  root: string,
  tree: readonly PackedStatus[],
  judged: JudgedUnits,
  size: number,
): Promise<{ units: UnitsSummary; top: Reason[] } | null> {
  const total = judged.statuses.size;
  if (judged.reasons.size === 0)
    return {
      units: { total, counts: { accept: total, quarantine: 0, reject: 0 }, failing: [] },
      top: [],
    };
  const containers = [...new Set(tree.map((d) => d.container))];
  const members = inPackOrder(root, await getPackOrder(db, containers, size));
  if (members.length !== total || members.some((m) => !judged.statuses.has(m))) return null;
  const counts: Record<Verdict, number> = { accept: 0, quarantine: 0, reject: 0 };
  const failing: UnitsSummary['failing'] = [];
  const perCode = new Map<Reason['code'], { n: number; first: Reason }>();
  for (const m of members) {
    const rs = judged.reasons.get(m) ?? [];
    const verdict = verdictOf(rs.map((r) => r.code));
    counts[verdict]++;
    if (rs.length === 0) continue;
    failing.push({ subject: m, verdict, reasons: [...rs].sort(byCode) });
    for (const r of rs) {
      const agg = perCode.get(r.code);
      if (agg) agg.n++;
      else perCode.set(r.code, { n: 1, first: r });
    }
  }
  const top = [...perCode].map(([code, { n, first }]) => ({
    code,
    message: `${n} of ${total} units: ${first.message}`,
  }));
  return { units: { total, counts, failing }, top };
}

/** DESIGN §7 table order, then subject (none first), as the engine sorts. */
function byCode(a: Reason, b: Reason): number {
  return (
    CODE_ORDER.get(a.code)! - CODE_ORDER.get(b.code)! ||
    (a.subject ?? '').localeCompare(b.subject ?? '')
  );
}

/**
 * A logistic unit's verification from verified state (see answerFromState),
 * with its descendants' verified states as getVerifiedDescendants reads them
 * (a case packed with units, found on the unit path): as packedAnswer.
 */
async function containerAnswer(
  db: Queryable,
  origin: string,
  req: StateRequest,
  now: number,
  cp: VerifiedCheckpoint,
  tree: readonly VerifiedDescendant[],
): Promise<StateAnswer | null> {
  const packed = tree.map((d): PackedStatus => ({
    container: d.container,
    child: d.child,
    status: d.verified?.state ? verifiedStatusOf(d.verified.headIndex, d.verified.state) : null,
    alarmed: d.verified !== null && d.verified.alarm !== null,
  }));
  return packedAnswer(
    db,
    origin,
    req,
    now,
    cp,
    packed,
    await getPalletFacts(db, req.subject, cp.size),
  );
}

/**
 * A logistic unit's verification from verified state (see answerFromState):
 * the descendants' statuses (one recursive query) and `facts`, what
 * getPalletFacts read of their records (keys, actors, latest times), alarms
 * and actors' earlier suspensions; their GTINs' recalls in one read, and the
 * container's own status checks. Null (the engine) in the cases the unit path falls back in,
 * for any subject inside, and when a unit is no longer inside.
 */
async function packedAnswer(
  db: Queryable,
  origin: string,
  req: StateRequest,
  now: number,
  cp: VerifiedCheckpoint,
  tree: readonly PackedStatus[],
  facts: PalletFacts,
): Promise<StateAnswer | null> {
  const { subject } = req;
  if (req.scannedSubject !== undefined && req.scannedSubject !== subject) return null;
  const [row] = await getVerifiedSubjects(db, [subject]);
  if (!row || row.alarm !== null || row.headIndex < 0) return null;
  const own = await getTimelineRows(db, [subject], cp.size);
  if (own.length === 0 || own[own.length - 1]!.index !== row.headIndex) return null;
  if (own.some((r) => r.type === 'pack' && r.parent !== null)) return null; // packed in another: the engine
  const state = fromStored(subject, row.state, []);
  if (state.containedIn !== null) return null;
  const today = new Date(now).toISOString().slice(0, 10);
  const judged = judgeUnits(state, tree, cp.size, today);
  if (!judged) return null;

  // The facts' own walk found these units and the root, no more (none packed in meanwhile).
  if (facts.subjects !== judged.statuses.size + 1) return null;
  if (facts.alarmed) return null;
  const keys = await getVerifiedKeys(db, facts.kids);
  if (keys.some((k) => k.revocations.length > 0 || k.suspensions.length > 0)) return null;
  const parties = await getVerifiedParties(db, facts.actors);
  if (parties.some((p) => p.status !== 'active')) return null;
  // Suspended before, reinstated since: records may have been logged meanwhile (the engine judges).
  if (facts.actorSuspendedBefore) return null;
  const late = (t: string | null) => t !== null && Date.parse(t) > now + DEFAULT_CLOCK_SKEW_MS;
  if (late(facts.maxTime) || late(facts.maxReceiptTime)) return null;
  const gtins = new Set<string>();
  if (state.product) gtins.add(state.product.gtin);
  for (const st of judged.statuses.values()) if (st.product) gtins.add(st.product.gtin);
  if (await hasNoticeBefore(db, 'recall', 'gtin', [...gtins], cp.size)) return null;

  // The container's own status (DESIGN §7 step 6 with custody, without the scan's lot and expiry).
  const eff = effectiveCustody(state, { party: () => undefined, state: () => undefined });
  const reasons = statusReasons(subject, state, eff, req, today);
  const summary = await summarize(db, subject, tree, judged, cp.size);
  if (!summary) return null;
  reasons.push(...summary.top);
  reasons.sort(byCode);
  const answer = answerOf({
    subject,
    reasons,
    state,
    eff,
    inactive: !state.active || state.unpacked !== null,
    timeline: own,
    partyRows: own,
    cp,
    origin,
    enclosing: [],
  });
  return { ...answer, units: summary.units };
}
