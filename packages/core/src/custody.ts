// The custody state machine (DESIGN §5 table), shared by the issuer (before it
// appends a record) and the verifier (when it replays a chain). Pure and
// synchronous: a record, the subject's state after its previous record, and a
// read-only view of other subjects and parties in; a new state or one reason
// code out. It runs once per record of a 10,000-unit pallet, so it never
// copies children arrays: they are shared, immutable, between states.
//
// Packing and unpacking order (DESIGN §5 "each child's pack record follows
// head"; "packing N units costs N+1 signed records"):
//   pack:   each unit first gets `pack {parent}` (its chain: containedIn =
//           parent, provisionally), then the container's genesis
//           `pack {children: [{subject, head}]}` lists every unit with head =
//           the id of that unit's pack record.
//   unpack: the container first gets `unpack {children}` (it is then opened
//           and takes no more records), then each unit gets
//           `unpack {parent, parentHead}` with parentHead = the id of the
//           container's unpack record.
// While a unit is contained, its own chain takes nothing but that unpack:
// shipping or receiving the container moves custody of everything in it, and a
// contained unit's effective custody is read from the container's state.
//
// Containers nest (DESIGN §5): a parent is an SSCC (genesis = its pack of
// children) or a commissioned serialized GTIN case (its pack of children comes
// after its commission). A sealed container that is not contained is packed
// into another with the same `pack {parent}` a unit uses, and leaves it with
// `unpack {parent, parentHead}`. Effective custody, holds and the timeline are
// those of the outermost container. A parent must not itself be contained (a
// case inside a pallet takes no new children), and a container seals only
// while not contained; together these make every containment a tree: a cycle
// A -> B -> A would need one of them to seal while inside the other.
//
// Every rule returns exactly one of CHAIN_BROKEN (seq/prev/head links),
// GENESIS_INVALID (the first record of a chain) or CUSTODY_VIOLATION.
import type { ReasonCode } from './reasons.js';
import type { CustodyRecord, DecommissionReason, RecordOf, RecordType } from './records.js';
import { encodeSerial, recordId } from './records.js';

/** The reason codes the state machine can return. */
export type CustodyCode = Extract<
  ReasonCode,
  'CHAIN_BROKEN' | 'GENESIS_INVALID' | 'CUSTODY_VIOLATION'
>;

/** A shipment under way: from the shipper to `to`, opened by the ship record `id`. */
export interface InTransit {
  readonly from: string;
  readonly to: string;
  readonly shipment: string;
  readonly id: string;
}

/** A child (a unit, or a container) inside a container, at its pack record. */
export interface ChainChild {
  readonly subject: string;
  readonly head: string;
}

/** What a unit was commissioned as (DESIGN §5 commission data). */
export interface CommissionedProduct {
  readonly gtin: string;
  readonly serial: string;
  readonly lot: string;
  readonly expiry: string;
  readonly details?: Readonly<Record<string, string>>;
}

/** The state of one subject's chain after its last record. Treat as immutable. */
export interface ChainState {
  readonly subject: string;
  readonly kind: 'unit' | 'container';
  readonly seq: number;
  /** Id of the last record. */
  readonly head: string;
  readonly lastType: RecordType;
  readonly lastTime: string;
  readonly lastActor: string;
  /** The party that commissioned the unit or packed the container (seq 0 actor). */
  readonly originator: string;
  /** False after a decommission (until a reactivate). Containers are always active. */
  readonly active: boolean;
  /**
   * The subject's own custodian (GLN). For a contained unit this is the packer;
   * its effective custody is the container's, see {@link effectiveCustody}.
   * While in transit it is still the shipper, until the receive.
   */
  readonly custodian: string;
  readonly inTransit: InTransit | null;
  /** Parent subject (SSCC or serialized GTIN case) while packed (set by the subject's own pack record). */
  readonly containedIn: string | null;
  /**
   * Container (an SSCC, or a GTIN case after its pack of children): the children it
   * was packed with (kept after unpack). Otherwise empty. Shared, never copied.
   */
  readonly children: readonly ChainChild[];
  /** Container: its unpack record once opened; an opened container takes no further records. */
  readonly unpacked: { readonly id: string } | null;
  readonly quarantined: { readonly case: string; readonly id: string } | null;
  readonly decommission: {
    readonly id: string;
    readonly reason: DecommissionReason;
    readonly actor: string;
    readonly time: string;
    /** Receipt time of the decommission (DESIGN §5: the reactivation window runs on receipt times); absent in states stored before it was kept. */
    readonly integratedAt?: string;
  } | null;
  /** Unit: from its commission record. */
  readonly product: CommissionedProduct | null;
}

/** A registered party as the state machine needs it (from `party` notices). */
export interface PartyInfo {
  readonly gln: string;
  readonly roles: readonly string[];
  readonly prefixes: readonly string[];
  readonly status: 'active' | 'suspended';
}

/** Read-only view of the registry and of other subjects' current states. */
export interface CustodyContext {
  party(gln: string): PartyInfo | undefined;
  state(subject: string): ChainState | undefined;
}

export type ApplyResult =
  | { readonly ok: true; readonly state: ChainState }
  | { readonly ok: false; readonly code: CustodyCode; readonly message: string };

/** Misuse of the state machine (not bad evidence). */
export class CustodyError extends Error {
  override readonly name = 'CustodyError';
  readonly code: 'STATE_SUBJECT_MISMATCH';
  constructor(code: 'STATE_SUBJECT_MISMATCH', message: string) {
    super(message);
    this.code = code;
  }
}

/** A decommission may be undone by the same party within this window (DESIGN §5). */
export const REACTIVATE_WINDOW_MS = 10 * 24 * 60 * 60 * 1000;

/** Decommission reasons that can never be undone (DESIGN §5). */
export const FINAL_DECOMMISSION_REASONS: ReadonlySet<string> = new Set(['destroyed', 'stolen']);

/** Roles allowed to commission units (DESIGN §5: the GTIN's manufacturer; a repackager relabels under its own prefix). */
export const COMMISSIONING_ROLES: ReadonlySet<string> = new Set(['manufacturer', 'repackager']);

const NO_CHILDREN: readonly ChainChild[] = Object.freeze([]);

function fail(code: CustodyCode, message: string): ApplyResult {
  return { ok: false, code, message };
}

function violation(message: string): ApplyResult {
  return { ok: false, code: 'CUSTODY_VIOLATION', message };
}

// Subjects of a container's children, built once per children array and shared
// by every state that holds it, so each unit unpack is O(1).
const childIndex = new WeakMap<readonly ChainChild[], ReadonlySet<string>>();

function childSubjects(children: readonly ChainChild[]): ReadonlySet<string> {
  let set = childIndex.get(children);
  if (!set) {
    set = new Set(children.map((c) => c.subject));
    childIndex.set(children, set);
  }
  return set;
}

/**
 * Applies one record to its subject's chain state.
 *
 * Preconditions: `record` passed `recordSchema`, `id` is its record id (the
 * SHA-256 of its payload bytes; passed in so replay hashes each payload once),
 * and `state` is the state of `record.subject` after its previous record, or
 * undefined when the subject has none. Signatures and key ownership are not
 * checked here. Party status (suspension) is not a custody rule: the
 * verifier reports it as PARTY_SUSPENDED.
 *
 * `receiptTime` is the record's log receipt time (`integratedAt`, RFC 3339):
 * the time that counts for windows (DESIGN §5). The issuer passes the time it
 * is about to give the record, the verifier the receipt's; without it the
 * signed `time` stands in (a pre-check only, never the authoritative one).
 *
 * Never mutates `state`; returns the new state or a reason code. A container
 * state shares its `children` array with the pack record: records and states
 * are treated as immutable once applied.
 * @throws {CustodyError} STATE_SUBJECT_MISMATCH when `state` belongs to another subject.
 */
export function applyRecord(
  state: ChainState | undefined,
  record: CustodyRecord,
  id: string,
  ctx: CustodyContext,
  receiptTime?: string,
): ApplyResult {
  if (state === undefined) {
    // DESIGN §5: seq starts at 0 with prev null.
    if (record.seq !== 0 || record.prev !== null) {
      return fail('CHAIN_BROKEN', `seq ${record.seq} has no record before it`);
    }
    return applyGenesis(record, id, ctx);
  }
  if (state.subject !== record.subject) {
    throw new CustodyError(
      'STATE_SUBJECT_MISMATCH',
      `state of ${state.subject} applied to a record of ${record.subject}`,
    );
  }
  // A second record for a seq already taken is a fork: at this level, a broken link.
  if (record.seq !== state.seq + 1) {
    return fail('CHAIN_BROKEN', `seq ${record.seq} does not follow seq ${state.seq}`);
  }
  if (record.prev !== state.head) {
    return fail('CHAIN_BROKEN', `prev of seq ${record.seq} is not the id of seq ${state.seq}`);
  }
  return applyNext(state, record, id, ctx, receiptTime ?? record.time);
}

function applyGenesis(record: CustodyRecord, id: string, ctx: CustodyContext): ApplyResult {
  const container = record.subject.startsWith('00/');
  if (!container) {
    if (record.type !== 'commission') {
      return fail('GENESIS_INVALID', `a unit chain starts with commission, not ${record.type}`);
    }
    return applyCommission(record, id, ctx);
  }
  if (record.type !== 'pack' || !('children' in record.data)) {
    return fail(
      'GENESIS_INVALID',
      `a logistic unit chain starts with a pack of its children, not ${record.type}`,
    );
  }
  return applyContainerPack(record as RecordOf<'pack'>, record.data.children, id, ctx);
}

function applyCommission(
  record: RecordOf<'commission'>,
  id: string,
  ctx: CustodyContext,
): ApplyResult {
  const { actor, data } = record;
  if (`01/${data.gtin}/21/${encodeSerial(data.serial)}` !== record.subject) {
    return fail('GENESIS_INVALID', 'commissioned gtin and serial do not match the subject');
  }
  const party = ctx.party(actor);
  if (!party) return fail('GENESIS_INVALID', `commissioning party ${actor} is not registered`);
  if (!party.roles.some((r) => COMMISSIONING_ROLES.has(r))) {
    return fail('GENESIS_INVALID', `party ${actor} is not a manufacturer or repackager`);
  }
  // GS1: the company prefix follows the indicator digit of a GTIN-14.
  const body = data.gtin.slice(1);
  if (!party.prefixes.some((p) => p.length > 0 && body.startsWith(p))) {
    return fail('GENESIS_INVALID', `GTIN ${data.gtin} is not under a company prefix of ${actor}`);
  }
  const product: CommissionedProduct = {
    gtin: data.gtin,
    serial: data.serial,
    lot: data.lot,
    expiry: data.expiry,
    ...(data.product ? { details: data.product } : {}),
  };
  return {
    ok: true,
    state: {
      subject: record.subject,
      kind: 'unit',
      seq: 0,
      head: id,
      lastType: 'commission',
      lastTime: record.time,
      lastActor: actor,
      originator: actor,
      active: true,
      custodian: actor,
      inTransit: null,
      containedIn: null,
      children: NO_CHILDREN,
      unpacked: null,
      quarantined: null,
      decommission: null,
      product,
    },
  };
}

function applyContainerPack(
  record: RecordOf<'pack'>,
  children: readonly ChainChild[],
  id: string,
  ctx: CustodyContext,
): ApplyResult {
  const { actor, subject } = record;
  // DESIGN §5: an SSCC belongs to the company whose prefix follows its extension digit;
  // only that company builds it (a serialized-GTIN case has its commission as genesis).
  if (subject.startsWith('00/')) {
    const body = subject.slice(4);
    const party = ctx.party(actor);
    if (!party?.prefixes.some((p) => p.length > 0 && body.startsWith(p)))
      return fail(
        'GENESIS_INVALID',
        `SSCC ${subject.slice(3)} is not under a company prefix of ${actor}`,
      );
  }
  const bad = checkChildren(subject, actor, children, ctx);
  if (bad) return bad;
  return {
    ok: true,
    state: {
      subject,
      kind: 'container',
      seq: 0,
      head: id,
      lastType: 'pack',
      lastTime: record.time,
      lastActor: actor,
      originator: actor,
      active: true,
      custodian: actor,
      inTransit: null,
      containedIn: null,
      // Shared with the record: never copied per state (hot path).
      children,
      unpacked: null,
      quarantined: null,
      decommission: null,
      product: null,
    },
  };
}

/** A container's pack of its children: each listed at its own pack into `subject`, held by `actor`. */
function checkChildren(
  subject: string,
  actor: string,
  children: readonly ChainChild[],
  ctx: CustodyContext,
): ApplyResult | null {
  for (const child of children) {
    const cs = ctx.state(child.subject);
    if (!cs) return violation(`child ${child.subject} has no chain`);
    if (cs.head !== child.head) {
      return fail('CHAIN_BROKEN', `child ${child.subject} head is not the one listed`);
    }
    // The listed head must be the child's own pack record into this container.
    if (cs.lastType !== 'pack' || cs.containedIn !== subject) {
      return violation(`child ${child.subject} was not packed into ${subject}`);
    }
    if (cs.custodian !== actor)
      return violation(`${actor} is not the custodian of child ${child.subject}`);
    if (!cs.active || cs.inTransit) return violation(`child ${child.subject} cannot be packed`);
  }
  return null;
}

/** True when the state is a container: an SSCC, or a serialized GTIN case after its pack of children. */
export function isContainerState(state: ChainState): boolean {
  return state.kind === 'container' || state.children.length > 0;
}

/**
 * Why `parent` cannot take `state` as a child now (DESIGN §5 "containers nest"), or
 * null. An SSCC parent has no chain until it seals; a serialized GTIN case parent
 * is commissioned, active, held by the packer, not contained and not yet sealed.
 */
function parentProblem(
  state: ChainState,
  parent: string,
  actor: string,
  ctx: CustodyContext,
): string | null {
  const ps = ctx.state(parent);
  if (parent.startsWith('00/')) return ps ? `${parent} is already packed` : null;
  if (!ps) return `case ${parent} has no chain (a serialized case is commissioned first)`;
  if (isContainerState(ps) || ps.unpacked) return `${parent} is already packed`;
  // A parent inside another container takes no children: this is what keeps containment a tree.
  if (ps.containedIn !== null) return `${parent} is packed in ${ps.containedIn}`;
  if (!ps.active || ps.inTransit) return `case ${parent} cannot take children`;
  if (ps.custodian !== actor) return `${actor} is not the custodian of ${parent}`;
  if (ps.subject === state.subject) return `${state.subject} cannot contain itself`;
  return null;
}

function applyNext(
  state: ChainState,
  record: CustodyRecord,
  id: string,
  ctx: CustodyContext,
  receiptTime: string,
): ApplyResult {
  const { actor } = record;
  // Guards that hold whatever the type (DESIGN §5 "allowed when"), most specific first.
  if (state.unpacked) return violation(`${state.subject} was unpacked and takes no more records`);
  if (state.containedIn !== null && !(record.type === 'unpack' && 'parent' in record.data)) {
    return violation(
      `${state.subject} is packed in ${state.containedIn}: only its unpack may follow`,
    );
  }
  if (!state.active && record.type !== 'reactivate') {
    return violation(`${state.subject} is decommissioned`);
  }
  if (state.inTransit && record.type !== 'receive') {
    return violation(`${state.subject} is in transit to ${state.inTransit.to}`);
  }
  if (
    state.quarantined &&
    record.type !== 'release' &&
    !(record.type === 'decommission' && FINAL_DECOMMISSION_REASONS.has(record.data.reason))
  ) {
    return violation(`${state.subject} is quarantined (case ${state.quarantined.case})`);
  }
  const next = {
    lastType: record.type,
    lastTime: record.time,
    lastActor: actor,
    seq: record.seq,
    head: id,
  };

  switch (record.type) {
    case 'commission':
      return violation('commission is only the first record of a unit');

    case 'pack': {
      if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
      if (!('parent' in record.data)) {
        // DESIGN §5: a serialized GTIN case seals once, after its commission.
        if (state.kind === 'container') return violation('a logistic unit is packed only at seq 0');
        if (isContainerState(state)) return violation(`${state.subject} is already packed`);
        const children = record.data.children;
        const bad = checkChildren(state.subject, actor, children, ctx);
        if (bad) return bad;
        return ok({ ...state, ...next, children });
      }
      // The container's pack comes after its children's packs; a sealed container takes no more.
      const problem = parentProblem(state, record.data.parent, actor, ctx);
      if (problem) return violation(problem);
      return ok({ ...state, ...next, containedIn: record.data.parent });
    }

    case 'ship': {
      if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
      if (record.data.to === actor) return violation('a shipment must go to another party');
      return ok({
        ...state,
        ...next,
        inTransit: { from: actor, to: record.data.to, shipment: record.data.shipment, id },
      });
    }

    case 'receive': {
      const t = state.inTransit;
      if (!t) return violation(`${state.subject} is not in transit`);
      if (t.to !== actor) return violation(`the shipment was addressed to ${t.to}, not ${actor}`);
      if (record.data.from !== t.from || record.data.shipment !== t.shipment) {
        return violation('receive does not match the shipment (from, shipment id)');
      }
      return ok({ ...state, ...next, custodian: actor, inTransit: null });
    }

    case 'unpack': {
      if ('children' in record.data) {
        if (!isContainerState(state)) return violation('a unit is unpacked from its parent');
        if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
        const listed = record.data.children;
        const packed = childSubjects(state.children);
        if (listed.length !== packed.size || !listed.every((s) => packed.has(s))) {
          return violation('unpack must list exactly the children packed');
        }
        return ok({ ...state, ...next, unpacked: { id } });
      }
      const { parent, parentHead } = record.data;
      if (state.containedIn !== parent) {
        return violation(`${state.subject} is not packed in ${parent}`);
      }
      const ps = ctx.state(parent);
      if (!ps || !ps.unpacked) return violation(`${parent} has not been unpacked`);
      if (ps.unpacked.id !== parentHead) {
        return fail('CHAIN_BROKEN', `parentHead is not the id of the unpack of ${parent}`);
      }
      if (!childSubjects(ps.children).has(state.subject)) {
        return violation(`${parent} did not contain ${state.subject}`);
      }
      if (actor !== ps.custodian) return violation(`${actor} is not the custodian of ${parent}`);
      return ok({ ...state, ...next, containedIn: null, custodian: actor });
    }

    case 'decommission': {
      if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
      // A decommissioned case takes no unpack: its units would be sealed in it for good.
      if (isContainerState(state))
        return violation(`${state.subject} holds children: it is unpacked first`);
      return ok({
        ...state,
        ...next,
        active: false,
        decommission: {
          id,
          reason: record.data.reason,
          actor,
          time: record.time,
          integratedAt: receiptTime,
        },
      });
    }

    case 'reactivate': {
      const d = state.decommission;
      if (state.active || !d) return violation(`${state.subject} is not decommissioned`);
      if (record.data.undo !== d.id) return violation('undo does not name the decommission record');
      if (actor !== d.actor) return violation('only the party that decommissioned may reactivate');
      if (FINAL_DECOMMISSION_REASONS.has(d.reason)) {
        return violation(`a unit decommissioned as ${d.reason} cannot be reactivated`);
      }
      // DESIGN §5: between the receipt times, never the signer's claimed times (issue 10 #1).
      const since = d.integratedAt ?? d.time;
      if (Date.parse(receiptTime) - Date.parse(since) > REACTIVATE_WINDOW_MS) {
        return violation('reactivate comes more than 10 days after the decommission was logged');
      }
      return ok({ ...state, ...next, active: true, decommission: null });
    }

    case 'quarantine': {
      if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
      if (state.quarantined) return violation(`${state.subject} is already quarantined`);
      return ok({ ...state, ...next, quarantined: { case: record.data.case, id } });
    }

    case 'release': {
      if (actor !== state.custodian) return violation(`${actor} is not the custodian`);
      if (!state.quarantined) return violation(`${state.subject} is not quarantined`);
      if (state.quarantined.case !== record.data.case) {
        return violation(
          `release names case ${record.data.case}, hold is ${state.quarantined.case}`,
        );
      }
      return ok({ ...state, ...next, quarantined: null });
    }
  }
}

function ok(state: ChainState): ApplyResult {
  return { ok: true, state };
}

/**
 * The other subjects whose states {@link applyRecord} reads for `record` (the
 * issuer loads these into its context before an append): a pack or unpack into
 * or out of a parent reads the parent, a container pack reads every child.
 * Effective custody of a contained subject also reads its containers, every
 * level up (`state.containedIn`, see {@link effectiveCustody}).
 */
export function referencedSubjects(record: CustodyRecord): string[] {
  switch (record.type) {
    case 'pack':
      return 'parent' in record.data
        ? [record.data.parent]
        : record.data.children.map((c) => c.subject);
    case 'unpack':
      return 'parent' in record.data ? [record.data.parent] : [];
    default:
      return [];
  }
}

/** Who holds a subject now, after following it into its containers, every level up. */
export interface EffectiveCustody {
  custodian: string;
  inTransit: InTransit | null;
  /** The subject's own hold, else the nearest enclosing container's. */
  quarantined: { case: string; id: string } | null;
  /** The outermost container, whose custody applies to this subject, or null. */
  via: string | null;
  /** The sealed containers the subject is inside, innermost first (empty when none). */
  containers: string[];
}

/**
 * Effective custody of a subject (DESIGN §5: "a unit's custody while contained
 * is its container's"), followed through every level: a unit in a case in a
 * pallet is held by the pallet's custodian. A subject packed into a container
 * that has not (yet) sealed it with its own pack record keeps its own custody.
 */
export function effectiveCustody(state: ChainState, ctx: CustodyContext): EffectiveCustody {
  let top = state;
  let quarantined = state.quarantined;
  const containers: string[] = [];
  // Containment is a tree (see the header); the visited check only bounds hostile input.
  while (top.containedIn !== null && !containers.includes(top.containedIn)) {
    const ps = ctx.state(top.containedIn);
    if (!ps || !childSubjects(ps.children).has(top.subject)) break;
    containers.push(ps.subject);
    quarantined ??= ps.quarantined;
    top = ps;
  }
  return {
    custodian: top.custodian,
    inTransit: top.inTransit,
    quarantined,
    via: containers.length > 0 ? top.subject : null,
    containers,
  };
}

/** Default allowance for clocks running ahead when checking future times. */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * TIME_ANOMALY check for the verifier (DESIGN §7): 'backwards' when a record's
 * time is earlier than the previous record's, 'future' when it lies more than
 * `skewMs` after `now` (epoch ms, passed in: core reads no clock), else null.
 * Times are canonical `YYYY-MM-DDTHH:mm:ss.sssZ`.
 */
export function timeAnomaly(
  prevTime: string | null | undefined,
  time: string,
  now?: number,
  skewMs: number = DEFAULT_CLOCK_SKEW_MS,
): 'backwards' | 'future' | null {
  const t = Date.parse(time);
  if (prevTime != null && t < Date.parse(prevTime)) return 'backwards';
  if (now !== undefined && t > now + skewMs) return 'future';
  return null;
}

/** Default PROVENANT_MAX_BACKDATE: how far a record's time may lie before its receipt time (DESIGN §5). */
export const DEFAULT_MAX_BACKDATE_MS = 72 * 60 * 60 * 1000;

/** How a record's claimed time breaks the DESIGN §5 time rules, with a message; or null. */
export interface ClaimedTimeProblem {
  rule: 'after-receipt' | 'backdated' | 'before-previous';
  message: string;
}

/**
 * The time rules of DESIGN §5 (issue 10 #1), one function for append and the
 * engine: a record's claimed `time` may be at most `skewMs` (5 minutes) after
 * its receipt time, at most `maxBackdateMs` before it, and never before the
 * previous record's time of its chain. All times RFC 3339.
 */
export function claimedTimeProblem(
  time: string,
  receiptTime: string,
  prevTime: string | null | undefined,
  maxBackdateMs: number = DEFAULT_MAX_BACKDATE_MS,
  skewMs: number = DEFAULT_CLOCK_SKEW_MS,
): ClaimedTimeProblem | null {
  const t = Date.parse(time);
  const at = Date.parse(receiptTime);
  if (t > at + skewMs)
    return {
      rule: 'after-receipt',
      message: `time ${time} is more than ${skewMs / 1000} s after it was logged (${receiptTime})`,
    };
  if (t < at - maxBackdateMs)
    return {
      rule: 'backdated',
      message: `time ${time} is more than ${Math.round(maxBackdateMs / 1000)} s before it was logged (${receiptTime})`,
    };
  if (prevTime != null && t < Date.parse(prevTime))
    return {
      rule: 'before-previous',
      message: `time ${time} is before the previous record's (${prevTime})`,
    };
  return null;
}

/**
 * In-memory custody context: parties and subject states in maps. Used by tests,
 * the verifier's replay of a bundle (apply records in log order) and the
 * issuer's batch checks before they are stored.
 */
export class MemoryCustody implements CustodyContext {
  readonly states = new Map<string, ChainState>();
  readonly parties = new Map<string, PartyInfo>();

  constructor(parties: Iterable<PartyInfo> = []) {
    for (const p of parties) this.parties.set(p.gln, p);
  }

  /** Registers or replaces a party. */
  setParty(party: PartyInfo): void {
    this.parties.set(party.gln, party);
  }

  party(gln: string): PartyInfo | undefined {
    return this.parties.get(gln);
  }

  state(subject: string): ChainState | undefined {
    return this.states.get(subject);
  }

  /** Applies `record` (id computed when not given) and keeps the new state on success. */
  apply(record: CustodyRecord, id: string = recordId(record), receiptTime?: string): ApplyResult {
    const result = applyRecord(this.states.get(record.subject), record, id, this, receiptTime);
    if (result.ok) this.states.set(record.subject, result.state);
    return result;
  }

  /** Effective custody of `subject`, or undefined when it has no chain. */
  effective(subject: string): EffectiveCustody | undefined {
    const s = this.states.get(subject);
    return s ? effectiveCustody(s, this) : undefined;
  }
}
