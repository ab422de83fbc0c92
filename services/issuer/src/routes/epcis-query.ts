// The EPCIS 2.0 query interface (DESIGN §11, REST binding): GET /epcis/events
// (SimpleEventQuery parameters, perPage / nextPageToken paging with a
// `Link: <…>; rel="next"` header) and GET /epcis/events/{eventID}, both
// answering an EPCISQueryDocument with `provenant:records`. Needs `verify` or
// `sign`. A party sees only the events of subjects in whose chain it appears
// (§6a); any other event is left out of lists and is a 404 when read
// directly, exactly as an unknown one. GS1-EPC-Format No_Preference (the
// default) and Never_Translates answer the stored bytes of each event, so its
// hash recomputes to its eventID; the Always_ formats rewrite identifiers.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import {
  answeredEventText,
  encodePageToken,
  epcisQueryDocumentText,
  keepsCapturedBytes,
  parseEpcFormat,
  parseEpcisQuery,
  translateEventEpcs,
  answeredEvent,
  strictApi,
  type EpcFormat,
  type EpcMatcher,
  type EpcisEventQuery,
} from '@provenant/core';
import { companyPrefixLengthIn, type CompanyPrefixLengthOf } from '@provenant/gs1';
import {
  getVisibleEpcisEvents,
  listParties,
  queryVisibleEpcisEvents,
  type EpcSet,
  type EpcisEventFilter,
  type EpcisEventRow,
  type EpcisViewer,
  type Queryable,
} from '@provenant/store';
import {
  BEARER_AUTH,
  badRequest,
  forbidden,
  notFound,
  principalOf,
  problemResponse,
  type RouteDeps,
  type RouteModule,
} from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';

type Deps = RouteDeps<IssuerDeps>;

/** Longest eventID read from a path. */
const MAX_EVENT_ID = 2048;

// Who reads (§6a): the admin sees everything, a party what its chains allow.
function viewerOf(req: Request): EpcisViewer {
  const p = principalOf(req);
  if (p.isAdmin) return { admin: true };
  if (!p.scopes.includes('verify') && !p.scopes.includes('sign')) {
    throw forbidden('EPCIS queries need a token with the "verify" or "sign" scope.', {
      slug: 'insufficient-scope',
    });
  }
  if (p.gln === null) throw forbidden('This token belongs to no party.');
  return { gln: p.gln };
}

function epcFormatOf(req: Request): EpcFormat {
  const format = parseEpcFormat(req.get('GS1-EPC-Format'));
  if (format === undefined) {
    throw badRequest('GS1-EPC-Format is not an EPC format.', {
      errors: [
        {
          path: 'headers.GS1-EPC-Format',
          rule: 'enum',
          message: 'No_Preference, Always_GS1_Digital_Link, Always_EPC_URN or Never_Translates',
        },
      ],
    });
  }
  return format;
}

function queryOf(req: Request): EpcisEventQuery {
  const parsed = parseEpcisQuery(req.query as Record<string, unknown>);
  if (parsed.ok) return parsed.query;
  const first = parsed.errors[0]!;
  throw badRequest(
    parsed.errors.length === 1
      ? `${first.parameter}: ${first.message}.`
      : `${parsed.errors.length} query parameters are refused.`,
    {
      slug: 'query-parameter',
      title: 'EPCIS QueryParameterException',
      errors: parsed.errors.map((e) => ({
        path: `query.${e.parameter}`,
        rule: e.rule,
        message: e.message,
      })),
    },
  );
}

function epcSet(matchers: readonly EpcMatcher[] | undefined): EpcSet | undefined {
  if (matchers === undefined) return undefined;
  return {
    subjects: matchers.flatMap((m) => ('subject' in m ? [m.subject] : [])),
    gtins: matchers.flatMap((m) => ('gtin' in m ? [m.gtin] : [])),
  };
}

function filterOf(q: EpcisEventQuery): EpcisEventFilter {
  const after = q.after;
  if (after !== undefined && !/^\d{1,15}$/.test(after)) {
    throw badRequest('nextPageToken: not a token this server gave.', {
      slug: 'query-parameter',
      errors: [{ path: 'query.nextPageToken', rule: 'token', message: 'unknown position' }],
    });
  }
  const f: Record<string, unknown> = {
    eventTypes: q.eventTypes,
    geEventTime: q.eventTime.ge,
    ltEventTime: q.eventTime.lt,
    geRecordTime: q.recordTime.ge,
    ltRecordTime: q.recordTime.lt,
    actions: q.actions,
    bizSteps: q.bizSteps,
    dispositions: q.dispositions,
    bizLocations: q.bizLocations,
    epc: epcSet(q.epc),
    parentID: epcSet(q.parentID),
    anyEPC: epcSet(q.anyEPC),
    afterN: after === undefined ? undefined : Number(after),
    limit: q.perPage + 1,
  };
  for (const k of Object.keys(f)) if (f[k] === undefined) delete f[k];
  return f as unknown as EpcisEventFilter;
}

// Company prefix lengths from the registered parties (Always_EPC_URN only).
async function prefixLengths(db: Queryable): Promise<CompanyPrefixLengthOf> {
  const prefixes = (await listParties(db)).flatMap((p) => p.prefixes);
  return (ai, key) => companyPrefixLengthIn(prefixes, ai, key);
}

/** The EPCISQueryDocument text of `rows`, each event in the format asked for. */
async function documentText(
  deps: Deps,
  rows: readonly EpcisEventRow[],
  format: EpcFormat,
): Promise<string> {
  const records: Record<string, string[]> = {};
  for (const r of rows) (records[r.eventId] ??= []).push(...r.recordIds);
  let eventTexts: string[];
  if (keepsCapturedBytes(format)) {
    eventTexts = rows.map((r) => answeredEventText(r.event, r.eventId, r.recordTime, r.context));
  } else {
    const lengthOf = await prefixLengths(deps.db);
    eventTexts = rows.map((r) => {
      const event = answeredEvent(
        JSON.parse(r.event) as Record<string, unknown>,
        r.eventId,
        r.recordTime,
        r.context,
      );
      return JSON.stringify(translateEventEpcs(event, format, lengthOf));
    });
  }
  return epcisQueryDocumentText({
    eventTexts,
    records,
    creationDate: new Date(deps.now()).toISOString(),
  });
}

function send(req: Request, res: Response, format: EpcFormat, text: string): void {
  res.set('GS1-EPCIS-Version', '2.0');
  res.set('GS1-CBV-Version', '2.0');
  res.set('GS1-EPC-Format', keepsCapturedBytes(format) ? 'Never_Translates' : format);
  const ld = req.accepts(['application/json', 'application/ld+json']) === 'application/ld+json';
  res.type(ld ? 'application/ld+json' : 'application/json').send(text);
}

// The same query string with the next page's token (RFC 8288 Link, relative to this URL).
function nextLink(req: Request, token: string): string {
  const i = req.originalUrl.indexOf('?');
  const params = new URLSearchParams(i < 0 ? '' : req.originalUrl.slice(i + 1));
  params.delete('nextPageToken');
  params.append('nextPageToken', token);
  return `</epcis/events?${params.toString()}>; rel="next"`;
}

async function listEvents(deps: Deps, req: Request, res: Response): Promise<void> {
  const viewer = viewerOf(req);
  const format = epcFormatOf(req);
  const query = queryOf(req);
  const rows = await queryVisibleEpcisEvents(deps.db, filterOf(query), viewer);
  const page = rows.slice(0, query.perPage);
  if (rows.length > query.perPage) {
    res.set('Link', nextLink(req, encodePageToken(query, String(page[page.length - 1]!.n))));
  }
  send(req, res, format, await documentText(deps, page, format));
}

async function readEvent(deps: Deps, req: Request, res: Response): Promise<void> {
  const viewer = viewerOf(req);
  const format = epcFormatOf(req);
  const eventID = req.params['eventID'];
  if (typeof eventID !== 'string' || eventID.length === 0 || eventID.length > MAX_EVENT_ID) {
    throw badRequest('params.eventID: expected an eventID URI.', {
      errors: [
        { path: 'params.eventID', rule: 'length', message: `1 to ${MAX_EVENT_ID} characters` },
      ],
    });
  }
  const rows = await getVisibleEpcisEvents(deps.db, eventID, viewer);
  // Another party's event answers exactly as an unknown one (§6a).
  if (rows.length === 0) throw notFound(`No event ${eventID}.`, { slug: 'event-not-found' });
  send(req, res, format, await documentText(deps, rows, format));
}

function document(deps: Deps): void {
  const o = deps.openapi;
  const security = [{ [BEARER_AUTH]: [] }];
  const list = (description: string) =>
    z
      .string()
      .optional()
      .meta({ description: `${description}; several values: a|b` });
  const time = (description: string) => z.string().optional().meta({ description });
  const headers = z.object({
    'GS1-EPC-Format': z
      .enum(['No_Preference', 'Always_GS1_Digital_Link', 'Always_EPC_URN', 'Never_Translates'])
      .optional()
      .meta({
        description:
          'No_Preference (default) and Never_Translates answer events as captured (their hash recomputes to the eventID); the Always_ formats rewrite identifiers',
      }),
  });
  const queryDoc = o.register(
    'EpcisQueryDocument',
    strictApi.epcisQueryDocument.meta({
      description: 'EPCIS 2.0 query document; provenant:records maps eventID → record ids',
    }),
  );
  const content = {
    'application/json': { schema: queryDoc },
    'application/ld+json': { schema: queryDoc },
  };
  const common = {
    400: problemResponse('A refused query parameter or header (named), QueryParameterException'),
    401: problemResponse('No or bad token'),
    403: problemResponse('Token lacks the verify and sign scopes, or belongs to no party'),
    503: problemResponse('Database unavailable'),
  };
  o.registerPath({
    method: 'get',
    path: '/epcis/events',
    summary: 'EPCIS 2.0: events the caller may see (SimpleEventQuery), paged',
    security,
    request: {
      headers,
      query: z.object({
        eventType: list('ObjectEvent, AggregationEvent, ...'),
        GE_eventTime: time('eventTime at or after (dateTime with zone)'),
        LT_eventTime: time('eventTime before'),
        GE_recordTime: time('recordTime at or after'),
        LT_recordTime: time('recordTime before'),
        EQ_action: list('ADD, OBSERVE or DELETE'),
        EQ_bizStep: list('CBV business step, any form'),
        EQ_disposition: list('CBV disposition, any form'),
        EQ_bizLocation: list('business location, SGLN URN or Digital Link'),
        MATCH_epc: list('EPC in epcList or childEPCs; urn:epc:idpat:sgtin:… for a GTIN'),
        MATCH_parentID: list('parentID'),
        MATCH_anyEPC: list('EPC in any EPC field'),
        perPage: z.string().optional().meta({ description: 'events per page, 1 to 1000 (30)' }),
        nextPageToken: z.string().optional().meta({ description: 'from the Link header' }),
      }),
    },
    responses: {
      200: {
        description: 'The page; `Link: <…>; rel="next"` when more events match',
        headers: z.object({
          Link: z.string().optional(),
          'GS1-EPC-Format': z.string(),
        }),
        content,
      },
      ...common,
    },
  });
  o.registerPath({
    method: 'get',
    path: '/epcis/events/{eventID}',
    summary: 'EPCIS 2.0: one event by its eventID (URL-encoded), as a query document',
    security,
    request: {
      headers,
      params: z.object({ eventID: z.string().meta({ description: 'URL-encoded eventID' }) }),
    },
    responses: {
      200: { description: 'The event', content },
      ...common,
      404: problemResponse('No event with this eventID that the caller may see'),
    },
  });
}

/** Registers GET /epcis/events and GET /epcis/events/{eventID}. */
export const epcisQueryRoutes: RouteModule<IssuerDeps> = (router: Router, deps: Deps) => {
  document(deps);
  router.get('/epcis/events', (req: Request, res: Response) => listEvents(deps, req, res));
  router.get('/epcis/events/:eventID', (req: Request, res: Response) => readEvent(deps, req, res));
};
