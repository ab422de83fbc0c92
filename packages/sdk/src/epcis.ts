// The EPCIS 2.0 interface of the client (DESIGN §11): capture a document as a
// job and poll it, capture one event, and read events back page by page (the
// server's Link header carries the next page's token) or as one async stream.
import { z } from 'zod';
import { tolerantApi, type ApiView } from '@provenant/core';
import type { CallSpec } from './client.js';
import { ProvenantError, clientProblem } from './errors.js';

/** GS1-Capture-Error-Behaviour: all or nothing (default), or keep the good events. */
export type CaptureErrorBehaviour = 'rollback' | 'proceed';
/** GS1-EPC-Format of the answers (No_Preference and Never_Translates keep the captured bytes). */
export type EpcFormat =
  'No_Preference' | 'Always_GS1_Digital_Link' | 'Always_EPC_URN' | 'Never_Translates';

/** One event's failure in a capture job. */
export interface CaptureJobError {
  eventIndex: number;
  eventID?: string;
  type: string;
  detail: string;
  reasons?: { code: string; field?: string; message?: string }[];
}

const captureJobSchema = tolerantApi.captureJob;
/** GET /epcis/capture/{captureID}. */
export type CaptureJob = z.infer<typeof captureJobSchema>;

/** One EPCIS event as answered (JSON-LD). */
export type EpcisEventJson = ApiView<'epcisEvent'>;

const queryDocumentSchema = tolerantApi.epcisQueryDocument;
/** An EPCISQueryDocument (EPCIS 2.0 JSON-LD). */
export type EpcisQueryDocument = z.infer<typeof queryDocumentSchema>;

const capturedEventSchema = tolerantApi.capturedEvent;

/** SimpleEventQuery parameters (EPCIS 2.0); a list is sent as `a|b`. */
export interface EpcisEventsParams {
  eventType?: string | string[];
  GE_eventTime?: string;
  LT_eventTime?: string;
  GE_recordTime?: string;
  LT_recordTime?: string;
  EQ_action?: string | string[];
  EQ_bizStep?: string | string[];
  EQ_disposition?: string | string[];
  EQ_bizLocation?: string | string[];
  MATCH_epc?: string | string[];
  MATCH_parentID?: string | string[];
  MATCH_anyEPC?: string | string[];
  /** 1 to 1000 (server default 30). */
  perPage?: number;
  nextPageToken?: string;
}

/** One page of GET /epcis/events. */
export interface EpcisPage {
  document: EpcisQueryDocument;
  events: EpcisEventJson[];
  /** eventID → ids of the custody records the event produced. */
  records: Record<string, string[]>;
  /** The token of the next page; absent on the last page. */
  nextPageToken?: string;
}

/** Options of a read. */
export interface EpcisReadOptions {
  epcFormat?: EpcFormat;
}

type Call = <T>(spec: CallSpec<T>) => Promise<T>;

function misuse(detail: string): ProvenantError {
  return new ProvenantError(clientProblem('invalid-argument', 0, 'Invalid argument', detail));
}

// RFC 8288: `<url>; rel="next"`; the token is the url's nextPageToken.
function nextTokenOf(link: string | null): string | undefined {
  if (link === null) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(part);
    if (!m) continue;
    const q = m[1]!.indexOf('?');
    const token = new URLSearchParams(q < 0 ? '' : m[1]!.slice(q + 1)).get('nextPageToken');
    if (token) return token;
  }
  return undefined;
}

function queryOf(params: EpcisEventsParams): Record<string, string | number | undefined> {
  const out: Record<string, string | number | undefined> = {};
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join('|') : (v as string | number);
  }
  return out;
}

function pageOf(document: EpcisQueryDocument, nextPageToken: string | undefined): EpcisPage {
  return {
    document,
    events: document.epcisBody.queryResults.resultsBody.eventList,
    records: document['provenant:records'] ?? {},
    ...(nextPageToken !== undefined ? { nextPageToken } : {}),
  };
}

/** The EPCIS 2.0 calls of {@link ProvenantClient} (`client.epcis`). */
export class EpcisApi {
  constructor(private readonly call: Call) {}

  /**
   * POST /epcis/capture: starts a capture job for an EPCISDocument (`sign`).
   * Resolves to the job's id and URL once the server accepted it (202); poll
   * it with {@link job} or {@link waitForJob}.
   */
  async capture(
    document: unknown,
    opts: { errorBehaviour?: CaptureErrorBehaviour; idempotencyKey?: string } = {},
  ): Promise<{ captureID: string; location: string }> {
    let location: string | null = null;
    const body = await this.call<unknown>({
      method: 'POST',
      path: '/epcis/capture',
      body: document,
      contentType: 'application/ld+json',
      headers: { 'GS1-Capture-Error-Behaviour': opts.errorBehaviour ?? 'rollback' },
      schema: z.unknown(),
      emptyOk: true,
      onHeaders: (h) => (location = h.get('location')),
      write: opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : undefined,
    });
    const fromBody =
      body !== null && typeof body === 'object' && 'captureID' in body
        ? String((body as { captureID: unknown }).captureID)
        : undefined;
    const loc = location as string | null;
    const fromLocation = loc
      ? decodeURIComponent(loc.replace(/^.*\/epcis\/capture\//, ''))
      : undefined;
    const captureID = fromBody ?? fromLocation;
    if (!captureID) {
      throw new ProvenantError(
        clientProblem(
          'invalid-response',
          202,
          'Invalid response',
          'POST /epcis/capture: no capture job named',
        ),
      );
    }
    return { captureID, location: loc ?? `/epcis/capture/${encodeURIComponent(captureID)}` };
  }

  /** GET /epcis/capture/{captureID}: the job's state and per-event errors. */
  async job(captureID: string): Promise<CaptureJob> {
    if (typeof captureID !== 'string' || captureID === '') throw misuse('captureID is required');
    return this.call({
      method: 'GET',
      path: `/epcis/capture/${encodeURIComponent(captureID)}`,
      schema: captureJobSchema,
    });
  }

  /** Polls {@link job} until it is no longer running; `onPoll` sees each state. */
  async waitForJob(
    captureID: string,
    opts: {
      intervalMs?: number;
      timeoutMs?: number;
      onPoll?: (job: CaptureJob) => void;
      sleep?: (ms: number) => Promise<void>;
    } = {},
  ): Promise<CaptureJob> {
    const interval = opts.intervalMs ?? 250;
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (;;) {
      const job = await this.job(captureID);
      opts.onPoll?.(job);
      if (!job.running) return job;
      if (Date.now() > deadline) {
        throw new ProvenantError(
          clientProblem('timeout', 0, 'Timeout', `capture job ${captureID} still running`),
        );
      }
      await sleep(interval);
    }
  }

  /** POST /epcis/events: captures one event at once (201 with its eventID and records). */
  async captureEvent(
    event: unknown,
    opts: { idempotencyKey?: string } = {},
  ): Promise<z.infer<typeof capturedEventSchema>> {
    return this.call({
      method: 'POST',
      path: '/epcis/events',
      body: event,
      contentType: 'application/ld+json',
      schema: capturedEventSchema,
      write: opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : undefined,
    });
  }

  /** GET /epcis/events: one page (pass the previous page's nextPageToken for the next). */
  async page(params: EpcisEventsParams = {}, opts: EpcisReadOptions = {}): Promise<EpcisPage> {
    let link: string | null = null;
    const document = await this.call({
      method: 'GET',
      path: '/epcis/events',
      query: queryOf(params),
      headers: opts.epcFormat ? { 'GS1-EPC-Format': opts.epcFormat } : undefined,
      schema: queryDocumentSchema,
      raw: true,
      onHeaders: (h) => (link = h.get('link')),
    });
    return pageOf(document, nextTokenOf(link));
  }

  /** Every page of a query, following the Link header. */
  async *pages(
    params: EpcisEventsParams = {},
    opts: EpcisReadOptions = {},
  ): AsyncGenerator<EpcisPage> {
    let token = params.nextPageToken;
    do {
      const page = await this.page({ ...params, ...(token ? { nextPageToken: token } : {}) }, opts);
      yield page;
      token = page.nextPageToken;
    } while (token !== undefined);
  }

  /** Every event of a query, across pages, with the ids of the records it produced. */
  async *events(
    params: EpcisEventsParams = {},
    opts: EpcisReadOptions = {},
  ): AsyncGenerator<{ event: EpcisEventJson; records: string[] }> {
    for await (const page of this.pages(params, opts)) {
      for (const event of page.events) {
        yield { event, records: event.eventID ? (page.records[event.eventID] ?? []) : [] };
      }
    }
  }

  /** GET /epcis/events/{eventID}: the event(s) with this ID the caller may see (404 otherwise). */
  async event(eventID: string, opts: EpcisReadOptions = {}): Promise<EpcisPage> {
    if (typeof eventID !== 'string' || eventID === '') throw misuse('eventID is required');
    const document = await this.call({
      method: 'GET',
      path: `/epcis/events/${encodeURIComponent(eventID)}`,
      headers: opts.epcFormat ? { 'GS1-EPC-Format': opts.epcFormat } : undefined,
      schema: queryDocumentSchema,
      raw: true,
    });
    return pageOf(document, undefined);
  }
}
