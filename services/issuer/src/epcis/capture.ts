// EPCIS 2.0 capture (DESIGN §11): events → custody records through the same
// custodial append path as /v1 (the capturing party's custodial key signs,
// the custody plan dry-runs, the sequencer judges under the log lock), with
// each event stored exactly as captured in the transaction of its records.
//
// Two passes: every event is mapped (§11 table), its eventID fixed and its
// actor and EPC rights checked; then the events are planned in document order
// on one custody plan, each event all-or-nothing, so a later event builds on
// an earlier one (commission, pack, ship in one document). The good events
// go to the sequencer as ONE submission: under rollback only when no event
// failed (all or nothing), under proceed whatever passed.
import {
  epcisActorProblem,
  epcisEventHash,
  epcisEventIndex,
  epcisOwnershipProblem,
  recordsFromEpcisEvent,
  type CapturingParty,
  type EpcisHashContext,
  type RecordDraft,
} from '@provenant/core';
import {
  existingEpcisEventIds,
  getParties,
  getParty,
  insertEpcisEvents,
  UniqueViolationError,
  type CaptureErrorBehaviour,
  type NewEpcisEvent,
  type Queryable,
} from '@provenant/store';
import type { UnsignedRecord } from '../append/custodial.js';
import { HttpProblem, PROBLEM_TYPE_PREFIX } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import { AppendRefusedError } from '../log/errors.js';
import type { Accepted, PendingRecord, SubmitOptions } from '../log/sequencer.js';
import { CustodyPlan } from '../routes/custodial/plan.js';

type Json = Record<string, unknown>;

/** One event to capture: its parsed value and its JSON text exactly as it arrived. */
export interface CaptureEvent {
  value: Json;
  text: string;
}

export interface CaptureRequest {
  /** The capturing party's GLN (it signs every record). */
  party: string;
  events: readonly CaptureEvent[];
  /** The document's hash context (@context, ignoreFields, vocabulary); none for a lone event. */
  hashContext?: EpcisHashContext;
  behaviour: CaptureErrorBehaviour;
  captureId: string | null;
  /**
   * Progress: how many events planning has gone through (planned or failed),
   * called as it proceeds; a re-planned capture counts again from the start.
   */
  onProgress?: (processed: number) => void;
}

/** Why one event was not captured: the field at fault and a reason code (DESIGN §11). */
export interface EventFailure {
  eventIndex: number;
  eventID?: string;
  status: 400 | 403 | 409 | 422;
  code: string;
  field: string;
  detail: string;
}

export interface CapturedEvent {
  eventIndex: number;
  eventID: string;
  accepted: Accepted[];
}

export interface CaptureOutcome {
  captured: CapturedEvent[];
  errors: EventFailure[];
}

/** An event ready to write: its row (record time still open) and its signed records. */
interface Planned {
  eventIndex: number;
  eventID: string;
  /** The event field of each subject (error fields). */
  fieldOf: Map<string, string>;
  entries: PendingRecord[];
  row: Omit<NewEpcisEvent, 'recordTime' | 'recordIds'>;
}

/** The write of a plan: the entries in order and what the sequencer's hooks must do. */
export interface CaptureWrite {
  planned: Planned[];
  errors: EventFailure[];
  entries: PendingRecord[];
  /** Stores the events' rows (SubmitOptions.apply): duplicate eventIDs fail the submission. */
  apply: NonNullable<SubmitOptions['apply']>;
  /** The planned events with their accepted records. */
  capturedOf(accepted: Accepted[]): CapturedEvent[];
}

const MAPPING_CODES = new Set([
  'UNMAPPED_EVENT',
  'UNMAPPED_VALUE',
  'MISSING_FIELD',
  'BAD_IDENTIFIER',
  'INVALID_RECORD_DATA',
  'UNKNOWN_HEAD',
  'DUPLICATE_EPC',
]);

/** The HTTP status a reason code stands for when a lone event fails (POST /epcis/events). */
function statusOf(code: string): EventFailure['status'] {
  if (MAPPING_CODES.has(code)) return 400;
  if (code === 'ACTOR_MISMATCH') return 403;
  if (code === 'CHAIN_BROKEN' || code === 'DUPLICATE_EVENT_ID') return 409;
  return 422;
}

function failure(
  eventIndex: number,
  eventID: string | undefined,
  code: string,
  field: string,
  detail: string,
): EventFailure {
  return {
    eventIndex,
    ...(eventID !== undefined ? { eventID } : {}),
    status: statusOf(code),
    code,
    field,
    detail,
  };
}

/** The job's error entry {eventIndex, eventID?, type, detail, reasons} (DESIGN §11). */
export function jobError(f: EventFailure) {
  return {
    eventIndex: f.eventIndex,
    ...(f.eventID !== undefined ? { eventID: f.eventID } : {}),
    type: PROBLEM_TYPE_PREFIX + f.code.toLowerCase().replace(/_/g, '-'),
    detail: `${f.field}: ${f.detail}`,
    reasons: [{ code: f.code, field: f.field, message: f.detail }],
  };
}

/** The problem a lone event's failure answers with (POST /epcis/events). */
export function problemOf(f: EventFailure): HttpProblem {
  const slug =
    f.code === 'UNKNOWN_PARTY' ? 'unknown-party' : f.code.toLowerCase().replace(/_/g, '-');
  return new HttpProblem(f.status, slug, `${f.field}: ${f.detail}`, {
    errors: [{ path: `body.${f.field}`, rule: f.code, message: f.detail }],
    reasons: [{ code: f.code, field: f.field, message: f.detail }],
    extra: { eventIndex: f.eventIndex, ...(f.eventID ? { eventID: f.eventID } : {}) },
  });
}

/** The event field each draft comes from (for error fields). */
function draftFields(event: Json, drafts: readonly RecordDraft[]): string[] {
  if (event['type'] === 'AggregationEvent')
    return drafts.map((_, i) => (i === 0 ? 'parentID' : `childEPCs.${i - 1}`));
  return drafts.map((_, i) => `epcList.${i}`);
}

// A large document is planned in slices: other requests (a poll of this very
// job among them) are served in between, and idle keep-alive sockets are not
// timed out under a blocked event loop.
const YIELD_EVERY = 8;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

// A pack draft needs no head from the mapping: the plan fills it in once the children are signed.
const NO_HEAD = { headOf: () => '0'.repeat(64) };

interface Mapped {
  eventIndex: number;
  eventID: string;
  drafts: RecordDraft[];
  fields: string[];
}

/** Pass 1: map, name and check one event. */
function mapEvent(
  ev: CaptureEvent,
  eventIndex: number,
  req: CaptureRequest,
  party: CapturingParty,
): Mapped | EventFailure {
  const own = ev.value['eventID'];
  let eventID: string;
  try {
    eventID = typeof own === 'string' ? own : epcisEventHash(ev.value, req.hashContext);
  } catch {
    return failure(eventIndex, undefined, 'UNMAPPED_EVENT', 'type', 'not an EPCIS event');
  }
  const mapped = recordsFromEpcisEvent(ev.value, NO_HEAD);
  if (!mapped.ok) {
    const { code, field, detail } = mapped.error;
    return failure(eventIndex, eventID, code, field, detail);
  }
  const fields = draftFields(ev.value, mapped.drafts);
  const seen = new Map<string, number>();
  for (let i = 0; i < mapped.drafts.length; i++) {
    const s = mapped.drafts[i]!.subject;
    const first = seen.get(s);
    if (first !== undefined)
      return failure(
        eventIndex,
        eventID,
        'DUPLICATE_EPC',
        fields[i]!,
        `${s} is already named at ${fields[first]!}`,
      );
    seen.set(s, i);
  }
  const actor = epcisActorProblem(ev.value, party);
  if (actor) return failure(eventIndex, eventID, actor.code, actor.field, actor.detail);
  return { eventIndex, eventID, drafts: mapped.drafts, fields };
}

/**
 * Pass 2 for one event: builds, signs and applies its records on the plan;
 * the signed records, or the failure (the plan is then as before the event).
 * Pack: each child's pack {parent}, then the container's pack listing each
 * child with the id of that record; unpack: the container's unpack, then each
 * child's with parentHead = its id (DESIGN §5, core custody.ts).
 */
async function planEvent(
  deps: IssuerDeps,
  plan: CustodyPlan,
  m: Mapped,
  now: string,
): Promise<PendingRecord[] | EventFailure> {
  const fail = (code: string, subject: string | undefined, detail: string): EventFailure => {
    const i = m.drafts.findIndex((d) => d.subject === subject);
    return failure(m.eventIndex, m.eventID, code, m.fields[Math.max(i, 0)]!, detail);
  };
  const build = (d: RecordDraft, data: unknown = d.data): UnsignedRecord => {
    // A container packed for the first time starts its chain; anything else follows its head.
    if (d.type === 'commission' || (d.type === 'pack' && !plan.state(d.subject)))
      return plan.genesis(d.subject, d.type, data as never, d.time);
    return plan.next(d.subject, d.type, data as never, undefined, d.time)!;
  };
  for (const d of m.drafts) {
    const st = plan.state(d.subject);
    if (d.type === 'commission' && st)
      return fail('CHAIN_BROKEN', d.subject, `${d.subject} is already commissioned`);
    const creates = d.type === 'commission' || (d.type === 'pack' && 'children' in d.data);
    if (!creates && !st)
      return fail('CUSTODY_VIOLATION', d.subject, `${d.subject} has no chain (never commissioned)`);
  }
  const sign = (records: UnsignedRecord[]) => deps.signer.signRecords(deps.db, plan.actor, records);
  const [first, ...rest] = m.drafts as [RecordDraft, ...RecordDraft[]];
  let entries: PendingRecord[];
  if (first.type === 'pack' && 'children' in first.data) {
    const units = await sign(rest.map((d) => build(d)));
    const children = units.map((u) => ({ subject: u.record.subject, head: u.id }));
    entries = [...units, ...(await sign([build(first, { children })]))];
  } else if (first.type === 'unpack' && 'children' in first.data) {
    const [opened] = await sign([build(first)]);
    const units = await sign(rest.map((d) => build(d, { ...d.data, parentHead: opened!.id })));
    entries = [opened!, ...units];
  } else {
    entries = await sign(m.drafts.map((d) => build(d)));
  }
  const applied = plan.tryApplyAll(entries, now, deps.config.maxBackdateMs);
  if (!applied.ok) {
    const subject = entries[applied.entry]!.record.subject;
    return fail(applied.code, subject, applied.message);
  }
  return entries;
}

/** Registered, not suspended: `ship.to` of every shipping event (as the sequencer will check). */
async function unknownReceivers(q: Queryable, mapped: readonly Mapped[]): Promise<Set<string>> {
  const tos = new Set<string>();
  for (const m of mapped)
    for (const d of m.drafts) if (d.type === 'ship') tos.add(d.data['to'] as string);
  if (tos.size === 0) return new Set();
  const parties = await getParties(q, [...tos]);
  return new Set([...tos].filter((t) => parties.get(t)?.status !== 'active'));
}

/**
 * Plans a capture: every event mapped, checked and planned (see the header);
 * nothing is written. `skip`: event indexes already known to fail.
 * @throws HttpProblem 422 KEY_UNKNOWN when the party holds no custodial key; store errors.
 */
export async function planCapture(
  deps: IssuerDeps,
  req: CaptureRequest,
  skip: ReadonlyMap<number, EventFailure> = new Map(),
): Promise<CaptureWrite> {
  const info = await getParty(deps.db, req.party);
  const party: CapturingParty = { gln: req.party, prefixes: info?.prefixes ?? [] };
  const errors: EventFailure[] = [...skip.values()];
  const mapped: Mapped[] = [];
  for (let i = 0; i < req.events.length; i++) {
    if (skip.has(i)) continue;
    if (i % YIELD_EVERY === 0) await yieldToLoop();
    const m = mapEvent(req.events[i]!, i, req, party);
    if ('code' in m) errors.push(m);
    else mapped.push(m);
  }
  // eventID: unique per party, in the store and in the document.
  const stored = await existingEpcisEventIds(
    deps.db,
    req.party,
    mapped.map((m) => m.eventID),
  );
  const named = new Set<string>();
  const fresh = mapped.filter((m) => {
    const dup = stored.has(m.eventID) || named.has(m.eventID);
    named.add(m.eventID);
    if (dup)
      errors.push(
        failure(
          m.eventIndex,
          m.eventID,
          'DUPLICATE_EVENT_ID',
          m.eventID === req.events[m.eventIndex]!.value['eventID'] ? 'eventID' : 'type',
          `the party already captured an event with eventID ${m.eventID}`,
        ),
      );
    return !dup;
  });
  const unknown = await unknownReceivers(deps.db, fresh);
  const subjects = fresh.flatMap((m) => m.drafts.map((d) => d.subject));
  const plan = await CustodyPlan.load(deps.db, req.party, subjects, deps.now);
  const now = new Date(deps.now()).toISOString();
  const planned: Planned[] = [];
  for (const [n, m] of fresh.entries()) {
    if (n % YIELD_EVERY === 0) {
      req.onProgress?.(errors.length + planned.length);
      await yieldToLoop();
    }
    const to = m.drafts[0]!.type === 'ship' ? (m.drafts[0]!.data['to'] as string) : undefined;
    const owned = epcisOwnershipProblem(m.drafts, m.fields, party, (s) => !!plan.state(s));
    let result: PendingRecord[] | EventFailure;
    if (owned) result = failure(m.eventIndex, m.eventID, owned.code, owned.field, owned.detail);
    else if (to !== undefined && unknown.has(to))
      result = failure(
        m.eventIndex,
        m.eventID,
        'UNKNOWN_PARTY',
        'destinationList',
        `${to} is no registered, active party`,
      );
    else result = await planEvent(deps, plan, m, now);
    if ('code' in result) {
      errors.push(result);
      continue;
    }
    const ev = req.events[m.eventIndex]!;
    const own = ev.value['eventID'];
    planned.push({
      eventIndex: m.eventIndex,
      eventID: m.eventID,
      fieldOf: new Map(m.drafts.map((d, i) => [d.subject, m.fields[i]!])),
      entries: result,
      row: {
        eventId: m.eventID,
        party: req.party,
        source: 'capture',
        captureId: req.captureId,
        ...epcisEventIndex(ev.value),
        event: ev.text,
        // Only an in-document event hashed without an eventID of its own needs its document.
        hashContext: typeof own === 'string' || !req.hashContext ? null : req.hashContext,
      },
    });
  }
  req.onProgress?.(errors.length + planned.length);
  errors.sort((a, b) => a.eventIndex - b.eventIndex);
  const entries = planned.flatMap((p) => p.entries);
  return {
    planned,
    errors,
    entries,
    apply: async (tx, integratedAt) => {
      const rows = planned.map((p) => ({
        ...p.row,
        recordTime: integratedAt,
        recordIds: p.entries.map((e) => e.id),
        hashContext: p.row.hashContext === null ? null : serialisableContext(p.row.hashContext),
      }));
      // Large documents: a few thousand rows per statement.
      for (let i = 0; i < rows.length; i += 2_000)
        await insertEpcisEvents(tx, rows.slice(i, i + 2_000));
    },
    capturedOf: (accepted) => {
      const out: CapturedEvent[] = [];
      let at = 0;
      for (const p of planned) {
        out.push({
          eventIndex: p.eventIndex,
          eventID: p.eventID,
          accepted: accepted.slice(at, at + p.entries.length),
        });
        at += p.entries.length;
      }
      return out;
    },
  };
}

// The vocabulary is a Set; stored as a sorted list.
function serialisableContext(c: unknown): unknown {
  const ctx = c as EpcisHashContext;
  return {
    '@context': ctx['@context'] ?? null,
    ignoreFields: ctx.ignoreFields ?? [],
    vocabulary: [...(ctx.vocabulary ?? [])].sort(),
  };
}

/** The event a sequencer refusal of entry `entry` belongs to. */
function eventOfEntry(planned: readonly Planned[], entry: number): Planned | undefined {
  let at = 0;
  for (const p of planned) {
    if (entry < at + p.entries.length) return p;
    at += p.entries.length;
  }
  return undefined;
}

const MAX_ROUNDS = 4;

/**
 * Captures events (a document's, or one) under rollback or proceed; see the
 * header. Never throws for a bad event: each failure is listed.
 * @throws HttpProblem 422 KEY_UNKNOWN (no custodial key), store errors (503).
 */
export async function captureEvents(
  deps: IssuerDeps,
  req: CaptureRequest,
): Promise<CaptureOutcome> {
  const skip = new Map<number, EventFailure>();
  for (let round = 0; ; round++) {
    const write = await planCapture(deps, req, skip);
    if (write.errors.length > 0 && req.behaviour === 'rollback')
      return { captured: [], errors: write.errors };
    if (write.entries.length === 0) return { captured: [], errors: write.errors };
    try {
      const accepted = await deps.sequencer.submit(write.entries, {
        apply: write.apply,
        ownEvents: true,
        maxEntries: write.entries.length,
      });
      return { captured: write.capturedOf(accepted), errors: write.errors };
    } catch (err) {
      // Something moved since planning (a head, a duplicate eventID): name
      // the event when the refusal does, and plan again without it.
      const last = round + 1 >= MAX_ROUNDS;
      if (err instanceof AppendRefusedError) {
        const reason = err.reasons?.[0];
        const entry = typeof reason?.['entry'] === 'number' ? reason['entry'] : -1;
        const p = eventOfEntry(write.planned, entry) ?? write.planned[0]!;
        const subject = typeof reason?.['subject'] === 'string' ? reason['subject'] : '';
        const field = p.fieldOf.get(subject) ?? 'epcList';
        const f = failure(p.eventIndex, p.eventID, err.reason, field, err.detail);
        if (req.behaviour === 'rollback' || last)
          return { captured: [], errors: [...write.errors, f] };
        skip.set(p.eventIndex, f);
        continue;
      }
      if (err instanceof UniqueViolationError && !last) continue;
      throw err;
    }
  }
}
