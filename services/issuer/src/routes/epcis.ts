// The start of the EPCIS 2.0 REST binding (DESIGN §11): GET /epcis/eventTypes
// and POST /epcis/events for one commissioning, shipping or decommissioning
// event, captured through the same custodial append path as the /v1
// custodial routes (the caller's custodial key signs, the custody plan and
// the sequencer judge; each record's time is the event time). The event is
// mapped by the §11 table in core; its eventID is the one it carries, else
// its EPCIS 2.0 event hash ID. Receiving, packing and unpacking events,
// capture jobs, storing the event as captured and the queries are not built yet.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import {
  epcisEventHash,
  parseEpcisEvent,
  recordsFromEpcisEvent,
  type RecordDraft,
} from '@provenant/core';
import type { RouteDeps, RouteModule } from '@provenant/server-kit';
import { recordResult } from '../append/index.js';
import { getParty } from '@provenant/store';
import { principalOf, requireScope } from '@provenant/server-kit';
import { BEARER_AUTH, problemResponse } from '@provenant/server-kit';
import { badRequest, forbidden, unprocessable, type FieldError } from '@provenant/server-kit';
import { MAX_FIELD_ERRORS } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import { CustodyPlan } from './custodial/plan.js';
import { AppendResult } from './custodial/schemas.js';
import { signedWrite } from './custodial/submit.js';

type Deps = RouteDeps<IssuerDeps>;
type UnsignedRecord = Parameters<IssuerDeps['signer']['signRecords']>[2][number];

// The record types POST /epcis/events writes so far.
const CAPTURED: ReadonlySet<string> = new Set(['commission', 'ship', 'decommission']);

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

// The event, validated and mapped; attacker-controlled until both pass.
function eventDrafts(body: unknown): RecordDraft[] {
  const parsed = parseEpcisEvent(body);
  if (!parsed.ok) {
    invalid(
      parsed.errors.map((e) => ({ path: `body.${e.path}`, rule: 'schema', message: e.message })),
    );
  }
  const mapped = recordsFromEpcisEvent(parsed.value);
  if (!mapped.ok) {
    const { code, field, detail } = mapped.error;
    invalid([{ path: `body.${field}`, rule: code, message: detail }]);
  }
  if (mapped.drafts.some((d) => !CAPTURED.has(d.type))) {
    invalid([
      {
        path: 'body.bizStep',
        rule: 'NOT_YET_CAPTURED',
        message:
          'this endpoint captures commissioning events so far; use the /v1 routes for the others',
      },
    ]);
  }
  const seen = new Map<string, number>();
  const duplicates: FieldError[] = [];
  mapped.drafts.forEach((d, i) => {
    const first = seen.get(d.subject);
    if (first === undefined) seen.set(d.subject, i);
    else
      duplicates.push({
        path: `body.epcList.${i}`,
        rule: 'duplicate',
        message: `${d.subject} is already listed at body.epcList.${first}`,
      });
  });
  if (duplicates.length > 0) invalid(duplicates);
  return mapped.drafts;
}

// A shipment to a GLN nobody registered could never be received (as /v1/shipments).
async function assertRegistered(deps: Deps, drafts: readonly RecordDraft[]): Promise<void> {
  const to = drafts[0]?.type === 'ship' ? (drafts[0].data['to'] as string) : undefined;
  if (to === undefined || (await getParty(deps.db, to))) return;
  throw unprocessable(`No party with GLN ${to} is registered.`, {
    slug: 'unknown-party',
    errors: [
      { path: 'body.destinationList', rule: 'registered-party', message: 'not a registered party' },
    ],
  });
}

// POST /epcis/events: one event → its records, in one submission (all-or-nothing).
async function captureEvent(deps: Deps, req: Request, res: Response): Promise<void> {
  const drafts = eventDrafts(req.body);
  const gln = principalOf(req).gln;
  if (gln === null) {
    throw forbidden('EPCIS capture signs as the caller’s party; this token belongs to no party.');
  }
  const body = req.body as Record<string, unknown>;
  const eventID = typeof body['eventID'] === 'string' ? body['eventID'] : epcisEventHash(body);
  res.location(`/epcis/events/${encodeURIComponent(eventID)}`);
  await signedWrite(deps, req, res, async () => {
    await assertRegistered(deps, drafts);
    const plan = await CustodyPlan.load(
      deps.db,
      gln,
      drafts.map((d) => d.subject),
    );
    const records = drafts.map((d, i) => {
      if (d.type !== 'commission') return plan.next(d.subject, d.type, d.data as never, i, d.time);
      const st = plan.state(d.subject);
      if (st) {
        plan.refuse(
          'CHAIN_BROKEN',
          `${d.subject} is already commissioned (head at seq ${st.seq})`,
          d.subject,
          i,
        );
      }
      return plan.genesis(d.subject, 'commission', d.data as never, d.time);
    }) as UnsignedRecord[];
    plan.assertClean();
    const entries = await deps.signer.signRecords(deps.db, gln, records);
    entries.forEach((p, i) => plan.apply(p, i));
    plan.assertClean();
    return { entries, respond: (accepted) => ({ eventID, records: accepted.map(recordResult) }) };
  });
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
            schema: o.register('EpcisEventTypes', z.object({ '@set': z.array(z.string()) })),
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
      'EPCIS 2.0: capture one commissioning, shipping or decommissioning ObjectEvent (custodial)',
    security,
    request: {
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
            schema: o.register(
              'EpcisCaptureResult',
              z.object({ eventID: z.string(), records: z.array(AppendResult) }),
            ),
          },
        },
      },
      400: problemResponse('Invalid or unmapped event: the event field and the rule are named'),
      401: problemResponse('No or bad token'),
      403: problemResponse('Token lacks the sign scope, or belongs to no party'),
      409: problemResponse('A unit is already commissioned, or a chain conflict (names the head)'),
      422: problemResponse(
        'A custody rule is broken (reason codes), or the destination is no registered party',
      ),
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
};
