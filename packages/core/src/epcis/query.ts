// The EPCIS 2.0 SimpleEventQuery as GET /epcis/events takes it (EPCIS 2.0
// §8.2.7.1 and the REST binding's query string; DESIGN §11), parsed into a
// normalised filter the store can run. The query string is
// attacker-controlled: every value is checked, a bad one is an error naming
// the parameter, and a parameter this server does not implement is refused
// by name (EPCIS QueryParameterException) rather than silently ignored,
// which would widen the answer.
import { Gs1Error, epcToDigitalLink, parseDigitalLink, parseScan } from '@provenant/gs1';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../bytes.js';
import { sha256Hex } from '../hash.js';
import { canonicalTime } from './canonical-values.js';
import { cbvTerm, epcisLocationKey } from './index-fields.js';
import { epcisDateTimeSchema, vocabularySchema } from './schema.js';

/** The query parameters GET /epcis/events implements. */
export const EPCIS_QUERY_PARAMETERS = [
  'eventType',
  'GE_eventTime',
  'LT_eventTime',
  'GE_recordTime',
  'LT_recordTime',
  'EQ_action',
  'EQ_bizStep',
  'EQ_disposition',
  'EQ_bizLocation',
  'MATCH_epc',
  'MATCH_parentID',
  'MATCH_anyEPC',
  'perPage',
  'nextPageToken',
] as const;

/** The five EPCIS 2.0 event types (EPCIS 2.0 §7.4). */
export const EPCIS_EVENT_TYPE_NAMES = [
  'ObjectEvent',
  'AggregationEvent',
  'TransactionEvent',
  'TransformationEvent',
  'AssociationEvent',
] as const;

/** perPage when the client gives none (the EPCIS 2.0 REST binding's default). */
export const DEFAULT_PER_PAGE = 30;
/** The largest page this server answers. */
export const MAX_PER_PAGE = 1000;
/** Most values one list parameter may carry. */
const MAX_VALUES = 100;
/** Longest nextPageToken accepted. */
const MAX_TOKEN_LENGTH = 512;

/** An EPC a MATCH_ parameter names: one subject, or every serial of a GTIN (`urn:epc:idpat:sgtin:…*`). */
export type EpcMatcher = { readonly subject: string } | { readonly gtin: string };

/** A half-open time range in UTC, millisecond ISO strings. */
export interface TimeRange {
  readonly ge?: string;
  readonly lt?: string;
}

/** The normalised SimpleEventQuery; absent lists mean "any". */
export interface EpcisEventQuery {
  readonly eventTypes?: readonly string[];
  readonly eventTime: TimeRange;
  readonly recordTime: TimeRange;
  readonly actions?: readonly ('ADD' | 'OBSERVE' | 'DELETE')[];
  /** Bare CBV terms (`shipping`) for standard values, other URIs as given. */
  readonly bizSteps?: readonly string[];
  readonly dispositions?: readonly string[];
  /** GS1 paths (`414/<gln>`, `414/<gln>/254/<ext>`) for GLN locations, else the URI as given. */
  readonly bizLocations?: readonly string[];
  readonly epc?: readonly EpcMatcher[];
  readonly parentID?: readonly EpcMatcher[];
  readonly anyEPC?: readonly EpcMatcher[];
  readonly perPage: number;
  /** The position after which this page starts (from nextPageToken), opaque to core. */
  readonly after?: string;
}

/** One refused parameter: its name, the rule, a message. */
export interface QueryParameterIssue {
  readonly parameter: string;
  readonly rule: string;
  readonly message: string;
}

export type EpcisQueryParseResult =
  | { readonly ok: true; readonly query: EpcisEventQuery }
  | { readonly ok: false; readonly errors: QueryParameterIssue[] };

class ParameterFailure extends Error {
  constructor(readonly issue: QueryParameterIssue) {
    super(issue.message);
  }
}

function fail(parameter: string, rule: string, message: string): never {
  throw new ParameterFailure({ parameter, rule, message });
}

type RawParams = Readonly<Record<string, unknown>>;

// EPCIS 2.0 REST binding: a list is `a|b`, or the parameter repeated.
function values(params: RawParams, name: string): string[] | undefined {
  const raw = params[name];
  if (raw === undefined) return undefined;
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => {
    if (typeof v !== 'string') fail(name, 'string', `${name} must be a string`);
    return v.split('|');
  });
  if (parts.length > MAX_VALUES)
    fail(name, 'max-values', `${name} takes at most ${MAX_VALUES} values`);
  if (parts.some((p) => p === '')) fail(name, 'empty', `${name} has an empty value`);
  return parts;
}

function single(params: RawParams, name: string): string | undefined {
  const list = values(params, name);
  if (list === undefined) return undefined;
  if (list.length !== 1) fail(name, 'single', `${name} takes one value`);
  return list[0];
}

function time(params: RawParams, name: string): string | undefined {
  const text = single(params, name);
  if (text === undefined) return undefined;
  if (!epcisDateTimeSchema.safeParse(text).success) {
    fail(
      name,
      'date-time',
      `${name} must be a dateTime with a time zone, e.g. 2026-12-01T00:00:00Z`,
    );
  }
  return canonicalTime(text);
}

function vocabulary(params: RawParams, name: string): string[] | undefined {
  const list = values(params, name);
  return list?.map((v) => {
    if (!vocabularySchema.safeParse(v).success) {
      fail(name, 'vocabulary', `${name} values are CBV terms (e.g. shipping) or URIs`);
    }
    return cbvTerm(v) ?? v;
  });
}

function locations(params: RawParams, name: string): string[] | undefined {
  return values(params, name)?.map((v) => {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(v)) fail(name, 'uri', `${name} values are URIs`);
    return epcisLocationKey(v);
  });
}

const SGTIN_PATTERN = /^urn:epc:idpat:sgtin:\d{6,12}\.\d{1,7}\.\*$/;

/** The subject, or GTIN class, an EPC value of a MATCH_ parameter names; undefined if none. */
export function epcMatcherOf(value: string): EpcMatcher | undefined {
  try {
    if (SGTIN_PATTERN.test(value)) {
      return { gtin: epcToDigitalLink(value).split('/01/')[1]! };
    }
    if (/^https?:\/\//.test(value)) {
      const elements = parseDigitalLink(value);
      if (elements.length === 1 && elements[0]!.ai === '01') return { gtin: elements[0]!.value };
    }
    return { subject: parseScan(value).subject };
  } catch (e) {
    if (e instanceof Gs1Error) return undefined;
    throw e;
  }
}

function matchers(params: RawParams, name: string): EpcMatcher[] | undefined {
  return values(params, name)?.map((v) => {
    const m = epcMatcherOf(v);
    if (m === undefined) {
      fail(
        name,
        'epc',
        `${name} values are SGTIN or SSCC EPCs (EPC URN or GS1 Digital Link) or urn:epc:idpat:sgtin patterns`,
      );
    }
    return m;
  });
}

function oneOf<T extends string>(
  params: RawParams,
  name: string,
  allowed: readonly T[],
): T[] | undefined {
  return values(params, name)?.map((v) => {
    if (!(allowed as readonly string[]).includes(v))
      fail(name, 'enum', `${name} values are ${allowed.join(', ')}`);
    return v as T;
  });
}

function perPageOf(params: RawParams): number {
  const text = single(params, 'perPage');
  if (text === undefined) return DEFAULT_PER_PAGE;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > MAX_PER_PAGE) {
    fail('perPage', 'range', `perPage is an integer from 1 to ${MAX_PER_PAGE}`);
  }
  return Number(text);
}

// --- nextPageToken -----------------------------------------------------------
// base64url(JSON {a: position, q: fingerprint of the filter}). The position is
// opaque to core; the fingerprint ties a token to the query that made it, so a
// token replayed with other filters is refused instead of skipping events.
// Forging one gains nothing: access rules apply to every page.

/** A short digest of the filter parameters (not the page size or position). */
export function queryFingerprint(query: EpcisEventQuery): string {
  const { perPage: _perPage, after: _after, ...filter } = query;
  return sha256Hex(JSON.stringify(filter)).slice(0, 16);
}

/** The nextPageToken for the page after `position` of `query`. */
export function encodePageToken(query: EpcisEventQuery, position: string): string {
  return toBase64Url(utf8(JSON.stringify({ a: position, q: queryFingerprint(query) })));
}

function decodePageToken(token: string, query: EpcisEventQuery): string {
  const bad = (): never =>
    fail('nextPageToken', 'token', 'nextPageToken is not a token this server gave for this query');
  if (token.length > MAX_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) bad();
  const bytes = fromBase64Url(token);
  const text = bytes && fromUtf8(bytes);
  if (!text) return bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return bad();
  }
  const p = parsed as { a?: unknown; q?: unknown };
  if (typeof p !== 'object' || p === null || typeof p.a !== 'string' || typeof p.q !== 'string') {
    return bad();
  }
  if (p.q !== queryFingerprint(query)) {
    fail(
      'nextPageToken',
      'query-changed',
      'nextPageToken belongs to a query with other parameters',
    );
  }
  return p.a;
}

/**
 * Parses the query string of GET /epcis/events (Express's `req.query`: a value
 * may be a string or an array of strings). Never throws for bad input: the
 * errors name each refused parameter; unknown parameters are refused by name.
 */
export function parseEpcisQuery(params: RawParams): EpcisQueryParseResult {
  const unknown = Object.keys(params).filter(
    (k) => !(EPCIS_QUERY_PARAMETERS as readonly string[]).includes(k),
  );
  if (unknown.length > 0) {
    return {
      ok: false,
      errors: unknown.slice(0, 20).map((parameter) => ({
        parameter,
        rule: 'unsupported',
        message: `${parameter} is not a query parameter this server implements (QueryParameterException)`,
      })),
    };
  }
  const errors: QueryParameterIssue[] = [];
  // Each parameter on its own, so that every bad one is named at once.
  const each = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ParameterFailure)) throw e;
      errors.push(e.issue);
      return undefined;
    }
  };
  const q = {
    eventTypes: each(() => oneOf(params, 'eventType', EPCIS_EVENT_TYPE_NAMES)),
    eventTime: {
      ge: each(() => time(params, 'GE_eventTime')),
      lt: each(() => time(params, 'LT_eventTime')),
    },
    recordTime: {
      ge: each(() => time(params, 'GE_recordTime')),
      lt: each(() => time(params, 'LT_recordTime')),
    },
    actions: each(() => oneOf(params, 'EQ_action', ['ADD', 'OBSERVE', 'DELETE'] as const)),
    bizSteps: each(() => vocabulary(params, 'EQ_bizStep')),
    dispositions: each(() => vocabulary(params, 'EQ_disposition')),
    bizLocations: each(() => locations(params, 'EQ_bizLocation')),
    epc: each(() => matchers(params, 'MATCH_epc')),
    parentID: each(() => matchers(params, 'MATCH_parentID')),
    anyEPC: each(() => matchers(params, 'MATCH_anyEPC')),
    perPage: each(() => perPageOf(params)) ?? DEFAULT_PER_PAGE,
  };
  if (errors.length > 0) return { ok: false, errors };
  const query = stripUndefined(q) as unknown as EpcisEventQuery;
  const token = each(() => single(params, 'nextPageToken'));
  if (token === undefined) return errors.length > 0 ? { ok: false, errors } : { ok: true, query };
  const after = each(() => decodePageToken(token, query));
  if (after === undefined) return { ok: false, errors };
  return { ok: true, query: { ...query, after } };
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] =
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? stripUndefined(v as Record<string, unknown>)
        : v;
  }
  return out;
}
