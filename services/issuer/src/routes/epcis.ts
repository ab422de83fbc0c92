// The EPCIS 2.0 REST binding, capture side (DESIGN §11): GET /epcis/eventTypes,
// POST /epcis/events (one event, 201) and POST /epcis/capture (an
// EPCISDocument as a capture job: 202 + Location, GET /epcis/capture/{id}).
// Every event goes through epcis/capture.ts: the §11 table, the actor and EPC
// checks, the custodial key, the custody plan and the sequencer, and is
// stored exactly as captured with its records.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import {
  epcisDocumentEvents,
  jsonArrayElementTexts,
  parseEpcisDocument,
  parseEpcisEvent,
  strictApi,
} from '@provenant/core';
import {
  finishCaptureJob,
  getCaptureJob,
  insertCaptureJob,
  saveIdempotencyEntry,
  type CaptureErrorBehaviour,
  type CaptureJob,
} from '@provenant/store';
import {
  BEARER_AUTH,
  checkIdempotency,
  idempotencyContext,
  idempotencyStoreFor,
  IdempotencyHeaders,
  MAX_FIELD_ERRORS,
  badRequest,
  forbidden,
  notFound,
  principalOf,
  problemResponse,
  pruneIdempotencySometimes,
  rawBodyText,
  replay,
  requireScope,
  toProblem,
  unprocessable,
  type FieldError,
  type IdempotencyContext,
  type StoredResponse,
  type RouteDeps,
  type RouteModule,
} from '@provenant/server-kit';
import { recordResult } from '../append/index.js';
import { captureEvents, jobError, planCapture, problemOf } from '../epcis/capture.js';
import type { IssuerDeps } from '../deps.js';
import { jobHeartbeat, PROCESS_RUNNER } from '../epcis/jobs.js';
import { signedWrite } from './custodial/submit.js';

type Deps = RouteDeps<IssuerDeps>;
type Json = Record<string, unknown>;

/** The event types whose events Provenant maps to records (DESIGN §11 table). */
export const EPCIS_EVENT_TYPES = ['ObjectEvent', 'AggregationEvent'] as const;

function invalid(errors: FieldError[]): never {
  const first = errors[0]!;
  throw badRequest(
    errors.length === 1
      ? `${first.path}: ${first.message}`
      : `The event has ${errors.length} invalid fields.`,
    { errors: errors.slice(0, MAX_FIELD_ERRORS) },
  );
}

/** The capturing party: records are signed as it, so an operator token (no party) is refused. */
function captorOf(req: Request): string {
  const gln = principalOf(req).gln;
  if (gln === null)
    throw forbidden('EPCIS capture signs as the caller’s party; this token belongs to no party.');
  return gln;
}

const eventLocation = (eventID: string) => `/epcis/events/${encodeURIComponent(eventID)}`;

/** The Location of a stored POST /epcis/events answer (an Idempotency-Key replay). */
function eventLocationOf(body: unknown): string | undefined {
  const id = (body as { eventID?: unknown } | null)?.eventID;
  return typeof id === 'string' ? eventLocation(id) : undefined;
}

// POST /epcis/events: one event → its records, in one submission (all-or-nothing),
// the event stored as captured in the same transaction.
async function captureEvent(deps: Deps, req: Request, res: Response): Promise<void> {
  // Attacker-controlled until the schema and then the §11 mapping accept it.
  const parsed = parseEpcisEvent(req.body);
  if (!parsed.ok)
    invalid(
      parsed.errors.map((e) => ({ path: `body.${e.path}`, rule: 'schema', message: e.message })),
    );
  const party = captorOf(req);
  const value = req.body as Json;
  const text = (rawBodyText(req) ?? JSON.stringify(value)).trim();
  await signedWrite(
    deps,
    req,
    res,
    async () => {
      const write = await planCapture(deps, {
        party,
        events: [{ value, text }],
        behaviour: 'rollback',
        captureId: null,
      });
      if (write.errors.length > 0) throw problemOf(write.errors[0]!);
      const eventID = write.planned[0]!.eventID;
      res.location(eventLocation(eventID));
      return {
        entries: write.entries,
        apply: write.apply,
        ownEvents: true,
        respond: (accepted) => ({ eventID, records: accepted.map(recordResult) }),
      };
    },
    { locationOf: eventLocationOf },
  );
}

const BEHAVIOURS: ReadonlySet<string> = new Set(['rollback', 'proceed']);

/** GS1-Capture-Error-Behaviour: rollback (default) or proceed; anything else is 400. */
function behaviourOf(req: Request): CaptureErrorBehaviour {
  const h = req.get('GS1-Capture-Error-Behaviour');
  if (h === undefined || h === '') return 'rollback';
  const v = h.trim().toLowerCase();
  if (!BEHAVIOURS.has(v))
    throw badRequest('GS1-Capture-Error-Behaviour is rollback or proceed.', {
      errors: [
        {
          path: 'headers.GS1-Capture-Error-Behaviour',
          rule: 'enum',
          message: 'rollback or proceed',
        },
      ],
    });
  return v as CaptureErrorBehaviour;
}

// A schema error inside the event list names its event (epcisBody.eventList.3.eventTime).
function documentErrors(errors: readonly { path: string; message: string }[]) {
  const first = /^epcisBody\.eventList\.(\d+)/.exec(errors[0]?.path ?? '');
  const fieldErrors: FieldError[] = errors.map((e) => ({
    path: `body.${e.path}`,
    rule: 'schema',
    message: e.message,
  }));
  return badRequest(`${fieldErrors[0]!.path}: ${fieldErrors[0]!.message}`, {
    slug: 'invalid-epcis-document',
    errors: fieldErrors.slice(0, MAX_FIELD_ERRORS),
    ...(first ? { extra: { eventIndex: Number(first[1]) } } : {}),
  });
}

function jobBody(job: CaptureJob) {
  return {
    captureID: job.captureId,
    createdAt: job.createdAt,
    finishedAt: job.finishedAt,
    running: job.running,
    success: job.success,
    captureErrorBehaviour: job.captureErrorBehaviour,
    eventCount: job.eventCount,
    processedCount: job.processedCount,
    errors: job.errors,
  };
}

/** Runs a job to its end; never rejects (a failure of the whole job is its error). */
async function runJob(
  deps: Deps,
  captureId: string,
  request: Parameters<typeof captureEvents>[1],
): Promise<void> {
  let outcome: { success: boolean; errors: ReturnType<typeof jobError>[] };
  // The heartbeat keeps a restarting replica's sweep off this job (epcis/jobs.ts).
  const beat = jobHeartbeat(deps.db, captureId, deps.logger);
  try {
    const r = await captureEvents(deps, { ...request, onProgress: beat.progress });
    outcome = { success: r.errors.length === 0, errors: r.errors.map(jobError) };
  } catch (err) {
    // A refusal of the whole document (no custodial key, database down): no event was written.
    const p = toProblem(err);
    outcome = {
      success: false,
      errors: [
        {
          eventIndex: 0,
          type: `urn:provenant:problem:${p.slug}`,
          detail: p.detail,
          reasons: (p.reasons ?? []).map((r) => ({
            code: r.code,
            field: '',
            message: String(r.message ?? ''),
          })),
        },
      ],
    };
  }
  await beat.stop();
  try {
    await finishCaptureJob(deps.db, captureId, outcome);
  } catch (err) {
    deps.logger.error({ err, captureId }, 'capture job could not be finished');
  }
}

const jobLocation = (captureId: string) => `/epcis/capture/${captureId}`;

/** Answers a stored POST /epcis/capture (Idempotency-Key): the first 202 and its Location. */
function replayJob(res: Response, stored: StoredResponse): void {
  const id = (stored.response as { captureID?: unknown } | null)?.captureID;
  if (typeof id === 'string') res.location(jobLocation(id));
  replay(res, stored);
}

/** A twin request with the same Idempotency-Key created its job first: roll ours back, answer its. */
class TwinJob extends Error {
  override readonly name = 'TwinJob';
  constructor(readonly stored: StoredResponse) {
    super('idempotent twin');
  }
}

/**
 * Creates the job row and, with an Idempotency-Key, stores the 202 answer in
 * the same transaction (DESIGN §8): the same key and body later replays this
 * job, another body is 422.
 */
async function createJob(
  deps: Deps,
  ctx: IdempotencyContext | null,
  job: Parameters<typeof insertCaptureJob>[1],
): Promise<StoredResponse | null> {
  try {
    await deps.db.transaction(async (tx) => {
      await insertCaptureJob(tx, job);
      if (!ctx) return;
      const answer = { captureID: job.captureId };
      const saved = await saveIdempotencyEntry(tx, {
        gln: ctx.scope,
        key: ctx.key,
        requestHash: ctx.requestHash,
        status: 202,
        response: answer,
      });
      if (saved.requestHash !== ctx.requestHash)
        throw unprocessable('This Idempotency-Key was already used with a different request.', {
          slug: 'idempotency-key-reused',
        });
      const stored = saved.response as { captureID?: unknown } | null;
      if (stored?.captureID !== job.captureId)
        throw new TwinJob({
          requestHash: saved.requestHash,
          status: saved.status,
          response: saved.response,
        });
    });
  } catch (err) {
    if (err instanceof TwinJob) return err.stored;
    throw err;
  }
  return null;
}

// POST /epcis/capture: the document is checked whole (400, nothing written),
// the job row is created, 202 answers, and the capture runs on. With an
// Idempotency-Key, a retry of the same document answers the first job's 202.
async function captureDocument(
  deps: Deps,
  jobs: Set<Promise<void>>,
  req: Request,
  res: Response,
): Promise<void> {
  const ctx = idempotencyContext(req);
  if (ctx) {
    await pruneIdempotencySometimes(deps.db);
    const stored = await checkIdempotency(idempotencyStoreFor(deps.db), ctx);
    if (stored) return replayJob(res, stored);
  }
  const behaviour = behaviourOf(req);
  const parsed = parseEpcisDocument(req.body);
  if (!parsed.ok) throw documentErrors(parsed.errors);
  const party = captorOf(req);
  const doc = req.body as Json;
  const { events, context } = epcisDocumentEvents(doc);
  const raw = rawBodyText(req);
  const texts = (raw && jsonArrayElementTexts(raw, ['epcisBody', 'eventList'])) ?? undefined;
  const captureId = randomUUID();
  const twin = await createJob(deps, ctx, {
    captureId,
    party,
    captureErrorBehaviour: behaviour,
    eventCount: events.length,
    runner: PROCESS_RUNNER,
  });
  if (twin) return replayJob(res, twin);
  const job = runJob(deps, captureId, {
    party,
    events: events.map((value, i) => ({
      value: value as Json,
      text: texts?.[i] ?? JSON.stringify(value),
    })),
    hashContext: context,
    behaviour,
    captureId,
  });
  jobs.add(job);
  void job.finally(() => jobs.delete(job));
  res.location(jobLocation(captureId));
  res.status(202).json({ captureID: captureId });
}

// GET /epcis/capture/{captureID}: the capturing party or the admin; anyone else 404 (§6a).
async function getJob(deps: Deps, req: Request, res: Response): Promise<void> {
  const p = principalOf(req);
  const id = String(req.params['captureID']);
  const job = await getCaptureJob(deps.db, id);
  if (!job || (!p.isAdmin && job.party !== p.gln)) throw notFound(`No capture job ${id} is known.`);
  res.json(jobBody(job));
}

// The request body is documented loosely (an EPCIS 2.0 event, JSON-LD):
// the zod schemas in core validate it field by field.
function document(deps: Deps): void {
  const o = deps.openapi;
  const security = [{ [BEARER_AUTH]: [] }];
  o.registerPath({
    method: 'get',
    path: '/epcis/eventTypes',
    summary: 'EPCIS 2.0: the event types Provenant maps to records',
    security,
    responses: {
      200: {
        description: 'The event types',
        content: {
          'application/json': {
            schema: o.register('EpcisEventTypes', strictApi.epcisEventTypes.clone()),
          },
        },
      },
      401: problemResponse('No or bad token'),
      403: problemResponse('Token lacks the verify and sign scopes'),
    },
  });
  const event = z.looseObject({ type: z.string() });
  o.registerPath({
    method: 'post',
    path: '/epcis/events',
    summary:
      'EPCIS 2.0: capture one event mapped by the DESIGN §11 table (custodial), stored as captured',
    security,
    request: {
      headers: IdempotencyHeaders,
      body: {
        content: {
          'application/ld+json': { schema: event },
          'application/json': { schema: event },
        },
      },
    },
    responses: {
      201: {
        description: 'Signed and in the log; Location names the event',
        content: {
          'application/json': {
            schema: o.register('EpcisCaptureResult', strictApi.capturedEvent.clone()),
          },
        },
      },
      400: problemResponse('Invalid or unmapped event: the event field and the rule are named'),
      401: problemResponse('No or bad token'),
      403: problemResponse(
        'Token lacks the sign scope, belongs to no party, or the event names another actor (ACTOR_MISMATCH)',
      ),
      409: problemResponse(
        'A unit is already commissioned, a chain conflict (names the head), or the eventID is taken',
      ),
      422: problemResponse(
        'A custody rule is broken, an EPC outside the caller’s prefixes, or the destination is no registered party',
      ),
      503: problemResponse('Database unavailable'),
    },
  });
  // Shapes: one source, @provenant/core api/ (issue 9).
  const job = o.register('EpcisCaptureJob', strictApi.captureJob.clone());
  const documentBody = z.looseObject({ type: z.literal('EPCISDocument') });
  o.registerPath({
    method: 'post',
    path: '/epcis/capture',
    summary: 'EPCIS 2.0: capture an EPCISDocument as a capture job (custodial)',
    security,
    request: {
      headers: IdempotencyHeaders.extend({
        'GS1-Capture-Error-Behaviour': z.enum(['rollback', 'proceed']).optional().meta({
          description:
            'rollback (default): all events or none; proceed: the good events, errors listed',
        }),
      }),
      body: {
        content: {
          'application/ld+json': { schema: documentBody },
          'application/json': { schema: documentBody },
        },
      },
    },
    responses: {
      202: {
        description: 'Accepted; Location names the capture job',
        content: {
          'application/json': {
            schema: o.register('EpcisCaptureAccepted', strictApi.captureAccepted.clone()),
          },
        },
      },
      400: problemResponse(
        'Not an EPCISDocument, or a structural error: the event index and field are named',
      ),
      401: problemResponse('No or bad token'),
      403: problemResponse('Token lacks the sign scope, or belongs to no party'),
      413: problemResponse('The document exceeds the size limit'),
      422: problemResponse('The Idempotency-Key was already used with a different request'),
      503: problemResponse('Database unavailable'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/epcis/capture/{captureID}',
    summary: 'EPCIS 2.0: a capture job (the capturing party or the admin)',
    security,
    request: { params: z.object({ captureID: z.string() }) },
    responses: {
      200: { description: 'The job', content: { 'application/json': { schema: job } } },
      401: problemResponse('No or bad token'),
      404: problemResponse('No such job for this caller'),
      503: problemResponse('Database unavailable'),
    },
  });
}

export const epcisRoutes: RouteModule<IssuerDeps> = (router: Router, deps: Deps) => {
  document(deps);
  router.get('/epcis/eventTypes', (req: Request, res: Response) => {
    const { scopes } = principalOf(req);
    if (!scopes.includes('verify') && !scopes.includes('sign')) {
      throw forbidden('EPCIS queries need a token with the "verify" or "sign" scope.', {
        slug: 'insufficient-scope',
      });
    }
    res.json({ '@set': [...EPCIS_EVENT_TYPES] });
  });
  router.post('/epcis/events', requireScope('sign'), (req: Request, res: Response) =>
    captureEvent(deps, req, res),
  );
  // Jobs still running in this process (a capture outlives its 202).
  const jobs = new Set<Promise<void>>();
  router.post('/epcis/capture', requireScope('sign'), (req: Request, res: Response) =>
    captureDocument(deps, jobs, req, res),
  );
  router.get('/epcis/capture/:captureID', (req: Request, res: Response) => getJob(deps, req, res));
};
