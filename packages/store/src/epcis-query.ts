// The EPCIS 2.0 query side of epcis_events (DESIGN §11, migration 000011):
// SimpleEventQuery filters, paging by capture order (n), and the §6a rule
// that a party sees only events of subjects in whose chain (or whose
// container's chain) it appears, as actor or as `to`. Visibility is decided
// per row in SQL through the records' (subject, seq) index, so a page costs
// the same whatever the size of the caller's history.
import type { Database, Queryable } from './driver.js';
import { iso, num, tsParam } from './sql.js';

/** EPCs a MATCH_ parameter names: exact subjects, and GTINs whose every serial matches. */
export interface EpcSet {
  readonly subjects: readonly string[];
  readonly gtins: readonly string[];
}

/** Filters of {@link queryVisibleEpcisEvents}; every one given must hold (AND). */
export interface EpcisEventFilter {
  readonly eventTypes?: readonly string[];
  readonly geEventTime?: string;
  readonly ltEventTime?: string;
  readonly geRecordTime?: string;
  readonly ltRecordTime?: string;
  readonly actions?: readonly string[];
  /** As stored: the bare CBV term, else the URI. */
  readonly bizSteps?: readonly string[];
  readonly dispositions?: readonly string[];
  /** As stored: `414/<gln>` (`/254/<ext>`), else the URI. */
  readonly bizLocations?: readonly string[];
  /** epcList or childEPCs (MATCH_epc). */
  readonly epc?: EpcSet;
  /** parentID (MATCH_parentID). */
  readonly parentID?: EpcSet;
  /** Any of them (MATCH_anyEPC). */
  readonly anyEPC?: EpcSet;
  /** Rows after this capture position (the page cursor). */
  readonly afterN?: number;
  readonly limit: number;
}

/** Who reads: a party (DESIGN §6a), or the admin, who sees every event. */
export type EpcisViewer = { readonly gln: string } | { readonly admin: true };

/** What an answer needs of a stored event. */
export interface EpcisEventRow {
  readonly n: number;
  readonly eventId: string;
  readonly party: string;
  readonly recordTime: string;
  readonly recordIds: string[];
  /** The event's JSON text as stored. */
  readonly event: string;
  /** The `@context` of the document it was captured in, when stored. */
  readonly context: unknown;
}

const COLUMNS = `e.n, e.event_id, e.party, e.record_time, e.record_ids, e.event,
  e.hash_context -> '@context' AS context`;

function toRow(r: Record<string, unknown>): EpcisEventRow {
  return {
    n: num(r.n),
    eventId: r.event_id as string,
    party: r.party as string,
    recordTime: iso(r.record_time),
    recordIds: r.record_ids as string[],
    event: r.event as string,
    context: r.context ?? null,
  };
}

// A party appears in a subject's chain, or in the chain of any container it
// was ever packed into, every level up (as isChainParty in records.ts; DESIGN
// §5: containers nest), as actor or `to`.
const VISIBLE = (g: string) => `(e.party = ${g} OR EXISTS (
  WITH RECURSIVE scope(subject) AS (
    SELECT unnest(e.subjects)
    UNION
    SELECT r.data ->> 'parent' FROM records r JOIN scope s ON r.subject = s.subject
     WHERE r.type IN ('pack', 'unpack') AND r.data ? 'parent'
  )
  SELECT 1 FROM records r JOIN scope s ON r.subject = s.subject
   WHERE r.actor = ${g} OR r.data ->> 'to' = ${g}))`;

class Where {
  readonly parts: string[] = [];
  readonly params: unknown[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(sql: (p: string) => string, value: unknown): void {
    this.parts.push(sql(this.param(value)));
  }

  // Column `col` (text[] when `array`) holds one of the subjects, or a serial of one of the GTINs.
  epcs(col: string, set: EpcSet, array: boolean): void {
    const alternatives: string[] = [];
    if (set.subjects.length > 0) {
      const p = this.param([...set.subjects]);
      alternatives.push(array ? `${col} && ${p}::text[]` : `${col} = ANY(${p}::text[])`);
    }
    if (set.gtins.length > 0) {
      // GTINs are 14 digits: no LIKE metacharacters.
      const p = this.param(set.gtins.map((g) => `01/${g}/21/%`));
      alternatives.push(
        array
          ? `EXISTS (SELECT 1 FROM unnest(${col}) AS x(epc) WHERE x.epc LIKE ANY(${p}::text[]))`
          : `${col} LIKE ANY(${p}::text[])`,
      );
    }
    this.parts.push(alternatives.length > 0 ? `(${alternatives.join(' OR ')})` : 'false');
  }
}

function whereOf(f: EpcisEventFilter, viewer: EpcisViewer): Where {
  const w = new Where();
  const list = (v: readonly string[]) => [...v];
  if (f.eventTypes) w.add((p) => `e.event_type = ANY(${p}::text[])`, list(f.eventTypes));
  if (f.geEventTime) w.add((p) => `e.event_time >= ${p}::timestamptz`, tsParam(f.geEventTime));
  if (f.ltEventTime) w.add((p) => `e.event_time < ${p}::timestamptz`, tsParam(f.ltEventTime));
  if (f.geRecordTime) w.add((p) => `e.record_time >= ${p}::timestamptz`, tsParam(f.geRecordTime));
  if (f.ltRecordTime) w.add((p) => `e.record_time < ${p}::timestamptz`, tsParam(f.ltRecordTime));
  if (f.actions) w.add((p) => `e.action = ANY(${p}::text[])`, list(f.actions));
  if (f.bizSteps) w.add((p) => `e.biz_step = ANY(${p}::text[])`, list(f.bizSteps));
  if (f.dispositions) w.add((p) => `e.disposition = ANY(${p}::text[])`, list(f.dispositions));
  if (f.bizLocations) w.add((p) => `e.biz_location = ANY(${p}::text[])`, list(f.bizLocations));
  if (f.epc) w.epcs('e.epcs', f.epc, true);
  if (f.parentID) w.epcs('e.parent_id', f.parentID, false);
  if (f.anyEPC) w.epcs('e.subjects', f.anyEPC, true);
  if (f.afterN !== undefined) w.add((p) => `e.n > ${p}::bigint`, f.afterN);
  if ('gln' in viewer) w.parts.push(VISIBLE(`${w.param(viewer.gln)}::text`));
  return w;
}

// The visibility subplans make PostgreSQL's cost estimate large enough to
// JIT-compile the query, which costs far more (over a second) than running
// it (tens of ms for 1,000 rows): JIT is turned off for these reads only.
function withoutJit<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET LOCAL jit = off');
    return fn(tx);
  });
}

/**
 * The events matching `f` that `viewer` may see (DESIGN §6a), in capture
 * order, at most `limit`. Ask for limit + 1 to know whether a next page exists.
 */
export async function queryVisibleEpcisEvents(
  db: Database,
  f: EpcisEventFilter,
  viewer: EpcisViewer,
): Promise<EpcisEventRow[]> {
  const w = whereOf(f, viewer);
  const limit = w.param(f.limit);
  const { rows } = await withoutJit(db, (tx) =>
    tx.query(
      `SELECT ${COLUMNS} FROM epcis_events e
       ${w.parts.length > 0 ? `WHERE ${w.parts.join(' AND ')}` : ''}
       ORDER BY e.n LIMIT ${limit}::int`,
      w.params,
    ),
  );
  return rows.map(toRow);
}

/** The stored events with this eventID that `viewer` may see (one per capturing party at most). */
export async function getVisibleEpcisEvents(
  db: Database,
  eventId: string,
  viewer: EpcisViewer,
): Promise<EpcisEventRow[]> {
  const w = whereOf({ limit: 0 }, viewer);
  w.add((p) => `e.event_id = ${p}::text`, eventId);
  const { rows } = await withoutJit(db, (tx) =>
    tx.query(
      `SELECT ${COLUMNS} FROM epcis_events e WHERE ${w.parts.join(' AND ')} ORDER BY e.n`,
      w.params,
    ),
  );
  return rows.map(toRow);
}
