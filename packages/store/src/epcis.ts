// epcis_events and epcis_capture_jobs (DESIGN §11, migration 000011). An
// event row is inserted in the transaction that appends its records (capture
// and /v1 alike); `event` is the JSON text exactly as captured, never re-serialised.
import type { Queryable } from './driver.js';
import { iso, isoOrNull, json, num, tsParam, tsParamOrNull } from './sql.js';

/** Where an event row came from: captured at /epcis, or built from a /v1 record. */
export type EpcisEventSource = 'capture' | 'v1';

/** An event to store (the query-index columns are described in 000011_epcis.sql). */
export interface NewEpcisEvent {
  eventId: string;
  /** The capturing party (for 'v1': the record's actor). */
  party: string;
  source: EpcisEventSource;
  captureId?: string | null;
  eventType: string;
  action: string | null;
  bizStep: string | null;
  disposition: string | null;
  bizLocation: string | null;
  /** RFC 3339. */
  eventTime: string;
  /** RFC 3339: the log receipt time of the records it produced. */
  recordTime: string;
  /** §3 subjects of epcList and childEPCs. */
  epcs: readonly string[];
  /** §3 subject of parentID. */
  parentId: string | null;
  /** epcs and parentId together. */
  subjects: readonly string[];
  recordIds: readonly string[];
  /** The event's JSON text, exactly as captured. */
  event: string;
  /** The document context the eventID hash was computed with (core EpcisHashContext), if any. */
  hashContext?: unknown;
}

export interface StoredEpcisEvent extends NewEpcisEvent {
  n: number;
  captureId: string | null;
  hashContext: unknown;
}

const EVENT_COLUMNS = `n, event_id, party, source, capture_id, event_type, action, biz_step,
  disposition, biz_location, event_time, record_time, epcs, parent_id, subjects, record_ids, event, hash_context`;

function toEvent(r: Record<string, unknown>): StoredEpcisEvent {
  return {
    n: num(r.n),
    eventId: r.event_id as string,
    party: r.party as string,
    source: r.source as EpcisEventSource,
    captureId: (r.capture_id as string | null) ?? null,
    eventType: r.event_type as string,
    action: (r.action as string | null) ?? null,
    bizStep: (r.biz_step as string | null) ?? null,
    disposition: (r.disposition as string | null) ?? null,
    bizLocation: (r.biz_location as string | null) ?? null,
    eventTime: iso(r.event_time),
    recordTime: iso(r.record_time),
    epcs: r.epcs as string[],
    parentId: (r.parent_id as string | null) ?? null,
    subjects: r.subjects as string[],
    recordIds: r.record_ids as string[],
    event: r.event as string,
    hashContext: r.hash_context ?? null,
  };
}

/**
 * Stores events in one statement (call it in the transaction that appends
 * their records). Array columns travel as JSON text (unnest of text[][] would
 * flatten them). `merge`: an event a party already has (the same eventID)
 * gains the new record ids instead (two /v1 records may build the same
 * event); `events` must then name each (party, eventId) once.
 * @throws UniqueViolationError without `merge` when a party already has one of the eventIDs.
 */
export async function insertEpcisEvents(
  q: Queryable,
  events: readonly NewEpcisEvent[],
  opts: { merge?: boolean } = {},
): Promise<void> {
  if (events.length === 0) return;
  const col = <T>(f: (e: NewEpcisEvent) => T): T[] => events.map(f);
  const arr = (f: (e: NewEpcisEvent) => readonly string[]): string[] =>
    events.map((e) => JSON.stringify(f(e)));
  await q.query(
    `INSERT INTO epcis_events (event_id, party, source, capture_id, event_type, action, biz_step,
       disposition, biz_location, event_time, record_time, epcs, parent_id, subjects, record_ids, event,
       hash_context)
     SELECT u.event_id, u.party, u.source, u.capture_id, u.event_type, u.action, u.biz_step,
       u.disposition, u.biz_location, u.event_time, u.record_time,
       ARRAY(SELECT jsonb_array_elements_text(u.epcs::jsonb)), u.parent_id,
       ARRAY(SELECT jsonb_array_elements_text(u.subjects::jsonb)),
       ARRAY(SELECT jsonb_array_elements_text(u.record_ids::jsonb)), u.event, u.hash_context::jsonb
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
       $7::text[], $8::text[], $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[],
       $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])
       AS u(event_id, party, source, capture_id, event_type, action, biz_step, disposition,
         biz_location, event_time, record_time, epcs, parent_id, subjects, record_ids, event,
         hash_context)
     ${
       opts.merge
         ? `ON CONFLICT (party, event_id)
            DO UPDATE SET record_ids = epcis_events.record_ids || EXCLUDED.record_ids`
         : ''
     }`,
    [
      col((e) => e.eventId),
      col((e) => e.party),
      col((e) => e.source),
      col((e) => e.captureId ?? null),
      col((e) => e.eventType),
      col((e) => e.action),
      col((e) => e.bizStep),
      col((e) => e.disposition),
      col((e) => e.bizLocation),
      col((e) => tsParam(e.eventTime)),
      col((e) => tsParam(e.recordTime)),
      arr((e) => e.epcs),
      col((e) => e.parentId),
      arr((e) => e.subjects),
      arr((e) => e.recordIds),
      col((e) => e.event),
      col((e) =>
        e.hashContext === undefined || e.hashContext === null ? null : json(e.hashContext),
      ),
    ],
  );
}

/** The event a party stored under `eventId`, or null. */
export async function getEpcisEvent(
  q: Queryable,
  party: string,
  eventId: string,
): Promise<StoredEpcisEvent | null> {
  const { rows } = await q.query(
    `SELECT ${EVENT_COLUMNS} FROM epcis_events WHERE party = $1 AND event_id = $2`,
    [party, eventId],
  );
  return rows[0] ? toEvent(rows[0]) : null;
}

/** Every stored event with this eventID (one per party at most), in capture order. */
export async function getEpcisEventsById(
  q: Queryable,
  eventId: string,
): Promise<StoredEpcisEvent[]> {
  const { rows } = await q.query(
    `SELECT ${EVENT_COLUMNS} FROM epcis_events WHERE event_id = $1 ORDER BY n`,
    [eventId],
  );
  return rows.map(toEvent);
}

/** Which of `eventIds` the party already stored (duplicate check before a capture). */
export async function existingEpcisEventIds(
  q: Queryable,
  party: string,
  eventIds: readonly string[],
): Promise<Set<string>> {
  if (eventIds.length === 0) return new Set();
  const { rows } = await q.query<{ event_id: string }>(
    `SELECT event_id FROM epcis_events WHERE party = $1 AND event_id = ANY($2::text[])`,
    [party, [...eventIds]],
  );
  return new Set(rows.map((r) => r.event_id));
}

/** Filters of {@link queryEpcisEvents}; every one given must hold (AND). */
export interface EpcisEventQuery {
  eventTypes?: readonly string[];
  geEventTime?: string;
  ltEventTime?: string;
  geRecordTime?: string;
  ltRecordTime?: string;
  actions?: readonly string[];
  bizSteps?: readonly string[];
  dispositions?: readonly string[];
  bizLocations?: readonly string[];
  /** §3 subjects: epcList or childEPCs holds one of them. */
  epcs?: readonly string[];
  parentIds?: readonly string[];
  /** §3 subjects: epcs or parentID holds one of them. */
  anyEpcs?: readonly string[];
  /** Only rows touching one of these subjects (§6a: the caller's visible subjects). */
  visibleSubjects?: readonly string[];
  /** Rows with n greater than this (the page cursor). */
  afterN?: number;
  limit: number;
}

/**
 * Events matching the filters, in capture order (n), at most `limit`. A
 * simple form the query side may extend (§6a visibility is the caller's).
 */
export async function queryEpcisEvents(
  q: Queryable,
  f: EpcisEventQuery,
): Promise<StoredEpcisEvent[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (p: string) => string, value: unknown): void => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  const list = (v: readonly string[] | undefined): string[] | undefined =>
    v === undefined ? undefined : [...v];
  if (f.eventTypes) add((p) => `event_type = ANY(${p}::text[])`, list(f.eventTypes));
  if (f.geEventTime) add((p) => `event_time >= ${p}::timestamptz`, tsParam(f.geEventTime));
  if (f.ltEventTime) add((p) => `event_time < ${p}::timestamptz`, tsParam(f.ltEventTime));
  if (f.geRecordTime) add((p) => `record_time >= ${p}::timestamptz`, tsParam(f.geRecordTime));
  if (f.ltRecordTime) add((p) => `record_time < ${p}::timestamptz`, tsParam(f.ltRecordTime));
  if (f.actions) add((p) => `action = ANY(${p}::text[])`, list(f.actions));
  if (f.bizSteps) add((p) => `biz_step = ANY(${p}::text[])`, list(f.bizSteps));
  if (f.dispositions) add((p) => `disposition = ANY(${p}::text[])`, list(f.dispositions));
  if (f.bizLocations) add((p) => `biz_location = ANY(${p}::text[])`, list(f.bizLocations));
  if (f.epcs) add((p) => `epcs && ${p}::text[]`, list(f.epcs));
  if (f.parentIds) add((p) => `parent_id = ANY(${p}::text[])`, list(f.parentIds));
  if (f.anyEpcs) add((p) => `subjects && ${p}::text[]`, list(f.anyEpcs));
  if (f.visibleSubjects) add((p) => `subjects && ${p}::text[]`, list(f.visibleSubjects));
  if (f.afterN !== undefined) add((p) => `n > ${p}::bigint`, f.afterN);
  params.push(f.limit);
  const { rows } = await q.query(
    `SELECT ${EVENT_COLUMNS} FROM epcis_events
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY n LIMIT $${params.length}::int`,
    params,
  );
  return rows.map(toEvent);
}

// --- capture jobs ------------------------------------------------------------

export type CaptureErrorBehaviour = 'rollback' | 'proceed';

/** One event's failure in a capture job (DESIGN §11). */
export interface CaptureJobError {
  eventIndex: number;
  eventID?: string;
  /** A problem type URI (urn:provenant:problem:<slug>). */
  type: string;
  detail: string;
  reasons?: { code: string; field?: string; message?: string }[];
}

export interface CaptureJob {
  captureId: string;
  party: string;
  captureErrorBehaviour: CaptureErrorBehaviour;
  eventCount: number;
  /** Events capture has gone through so far (planned, written or failed); eventCount once finished. */
  processedCount: number;
  /** The process running the job (null for jobs from before migration 000014). */
  runner: string | null;
  /** The runner's last heartbeat. */
  updatedAt: string;
  createdAt: string;
  finishedAt: string | null;
  running: boolean;
  /** null while running. */
  success: boolean | null;
  errors: CaptureJobError[];
}

function toJob(r: Record<string, unknown>): CaptureJob {
  return {
    captureId: r.capture_id as string,
    party: r.party as string,
    captureErrorBehaviour: r.capture_error_behaviour as CaptureErrorBehaviour,
    eventCount: num(r.event_count),
    processedCount: num(r.processed_count),
    runner: (r.runner as string | null) ?? null,
    updatedAt: iso(r.updated_at),
    createdAt: iso(r.created_at),
    finishedAt: isoOrNull(r.finished_at),
    running: r.running as boolean,
    success: (r.success as boolean | null) ?? null,
    errors: (r.errors as CaptureJobError[]) ?? [],
  };
}

const JOB_COLUMNS = `capture_id, party, capture_error_behaviour, event_count, processed_count,
  runner, updated_at, created_at, finished_at, running, success, errors`;

/** Creates a running job. */
export async function insertCaptureJob(
  q: Queryable,
  job: {
    captureId: string;
    party: string;
    captureErrorBehaviour: CaptureErrorBehaviour;
    eventCount: number;
    /** The process that runs it (its heartbeats keep the job from being swept). */
    runner?: string | null;
    createdAt?: string;
  },
): Promise<CaptureJob> {
  const { rows } = await q.query(
    `INSERT INTO epcis_capture_jobs (capture_id, party, capture_error_behaviour, event_count,
       runner, created_at, updated_at)
     VALUES ($1, $2, $3, $4::int, $5::text, COALESCE($6::timestamptz, now()),
       COALESCE($6::timestamptz, now()))
     RETURNING ${JOB_COLUMNS}`,
    [
      job.captureId,
      job.party,
      job.captureErrorBehaviour,
      job.eventCount,
      job.runner ?? null,
      tsParamOrNull(job.createdAt),
    ],
  );
  return toJob(rows[0]!);
}

/** Finishes a running job once (a finished job is left as it is); returns it, or null if unknown. */
export async function finishCaptureJob(
  q: Queryable,
  captureId: string,
  outcome: { success: boolean; errors: readonly CaptureJobError[]; finishedAt?: string },
): Promise<CaptureJob | null> {
  await q.query(
    `UPDATE epcis_capture_jobs
     SET running = false, success = $2::boolean, errors = $3::jsonb,
       finished_at = COALESCE($4::timestamptz, now()), updated_at = now(),
       processed_count = event_count
     WHERE capture_id = $1 AND running`,
    [captureId, outcome.success, json(outcome.errors), tsParamOrNull(outcome.finishedAt)],
  );
  return getCaptureJob(q, captureId);
}

/** The job, or null. */
export async function getCaptureJob(q: Queryable, captureId: string): Promise<CaptureJob | null> {
  const { rows } = await q.query(
    `SELECT ${JOB_COLUMNS} FROM epcis_capture_jobs WHERE capture_id = $1`,
    [captureId],
  );
  return rows[0] ? toJob(rows[0]) : null;
}

/**
 * A running job's heartbeat: `updated_at` now and, when given, the processed
 * count (never lowered: a re-planned capture counts again from the start).
 */
export async function touchCaptureJob(
  q: Queryable,
  captureId: string,
  processed?: number,
): Promise<void> {
  await q.query(
    `UPDATE epcis_capture_jobs
     SET updated_at = now(),
       processed_count = LEAST(event_count, GREATEST(processed_count, COALESCE($2::int, 0)))
     WHERE capture_id = $1 AND running`,
    [captureId, processed ?? null],
  );
}

/** A job the sweep finished as interrupted, with the events its capture had stored. */
export interface InterruptedCaptureJob {
  captureId: string;
  party: string;
  captureErrorBehaviour: CaptureErrorBehaviour;
  runner: string | null;
  /** Events of this job in epcis_events (written before the process died). */
  writtenCount: number;
}

/**
 * Finds running jobs whose runner is not `runner` and whose heartbeat is
 * older than `staleAfterMs` (by the database clock): their process is gone.
 * `errorOf` builds each one's error list; the job is finished with success
 * false. A job whose heartbeat moved meanwhile is left running.
 */
export async function sweepInterruptedCaptureJobs(
  q: Queryable,
  opts: {
    runner: string;
    staleAfterMs: number;
    errorOf: (job: InterruptedCaptureJob) => CaptureJobError[];
  },
): Promise<InterruptedCaptureJob[]> {
  const { rows } = await q.query(
    `SELECT j.capture_id, j.party, j.capture_error_behaviour, j.runner,
       (SELECT count(*) FROM epcis_events e WHERE e.capture_id = j.capture_id) AS written
     FROM epcis_capture_jobs j
     WHERE j.running AND j.runner IS DISTINCT FROM $1::text
       AND j.updated_at < now() - make_interval(secs => $2::double precision / 1000)
     ORDER BY j.n`,
    [opts.runner, opts.staleAfterMs],
  );
  const swept: InterruptedCaptureJob[] = [];
  for (const r of rows) {
    const job: InterruptedCaptureJob = {
      captureId: r.capture_id as string,
      party: r.party as string,
      captureErrorBehaviour: r.capture_error_behaviour as CaptureErrorBehaviour,
      runner: (r.runner as string | null) ?? null,
      writtenCount: num(r.written),
    };
    const { rowCount } = await q.query(
      `UPDATE epcis_capture_jobs
       SET running = false, success = false, errors = $2::jsonb, finished_at = now(),
         updated_at = now()
       WHERE capture_id = $1 AND running
         AND updated_at < now() - make_interval(secs => $3::double precision / 1000)`,
      [job.captureId, json(opts.errorOf(job)), opts.staleAfterMs],
    );
    if (rowCount > 0) swept.push(job);
  }
  return swept;
}
