// RFC 9457 problem details, the only error shape the issuer answers with
// (DESIGN §8): `type` urn:provenant:problem:<slug>, `title`, `status`,
// `detail`, and `errors` (field paths) or `reasons` (codes). No stack trace,
// SQL or secret ever reaches a response body.
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';

/** Media type of every error body (RFC 9457 §3). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Prefix of every problem `type` (DESIGN §8). */
export const PROBLEM_TYPE_PREFIX = 'urn:provenant:problem:';

/** Seconds a client should wait before retrying while the database is down. */
export const RETRY_AFTER_SECONDS = 2;

/** One field-level violation: where (`body.items[3].gtin`), which rule, and a message. */
export interface FieldError {
  path: string;
  rule: string;
  message: string;
}

/** One coded reason, e.g. a DESIGN §7 reason code for a refused append (422). */
export interface ProblemReason {
  code: string;
  message?: string;
  [key: string]: unknown;
}

/** Optional parts of a problem beyond status, slug and detail. */
export interface ProblemOptions {
  /** Overrides the helper's default slug (`urn:provenant:problem:<slug>`). */
  slug?: string;
  title?: string;
  errors?: FieldError[];
  reasons?: ProblemReason[];
  /** Extension members, e.g. `{head}` on a 409 chain conflict. Cannot override the standard members. */
  extra?: Record<string, unknown>;
  /** Response headers, e.g. `Retry-After` or `WWW-Authenticate`. */
  headers?: Record<string, string>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * An error that renders as `application/problem+json`. Throw it (or pass it
 * to `next`) from any handler; Express 5 forwards rejected promises too.
 * `code` equals `slug` so callers can switch on it like any coded error.
 */
export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors?: FieldError[];
  readonly reasons?: ProblemReason[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(
    status: number,
    slug: string,
    detail: string,
    options: Omit<ProblemOptions, 'slug'> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.slug = slug;
    this.code = slug;
    this.title = options.title ?? TITLES[status] ?? 'Error';
    this.detail = detail;
    if (options.errors) this.errors = options.errors;
    if (options.reasons) this.reasons = options.reasons;
    if (options.extra) this.extra = options.extra;
    if (options.headers) this.headers = options.headers;
  }

  /** The RFC 9457 body; extension members first so they can never shadow the standard ones. */
  toJSON(instance?: string): Record<string, unknown> {
    const body: Record<string, unknown> = { ...this.extra };
    body.type = PROBLEM_TYPE_PREFIX + this.slug;
    body.title = this.title;
    body.status = this.status;
    body.detail = this.detail;
    if (instance !== undefined) body.instance = instance;
    if (this.errors) body.errors = this.errors;
    if (this.reasons) body.reasons = this.reasons;
    return body;
  }
}

function make(status: number, defaultSlug: string) {
  return (detail: string, options: ProblemOptions = {}): HttpProblem => {
    const { slug, ...rest } = options;
    return new HttpProblem(status, slug ?? defaultSlug, detail, rest);
  };
}

/** 400, slug `invalid-request` by default. */
export const badRequest = make(400, 'invalid-request');
/** 401, slug `unauthorized`; add `WWW-Authenticate` through `headers` (auth.ts does). */
export const unauthorized = make(401, 'unauthorized');
/** 403, slug `forbidden` (acting as another party, DESIGN §8). */
export const forbidden = make(403, 'forbidden');
/** 404, slug `not-found`. */
export const notFound = make(404, 'not-found');
/** 409, slug `conflict`; a chain conflict passes `{slug: 'chain-conflict', extra: {head}}`. */
export const conflict = make(409, 'conflict');
/** 413, slug `payload-too-large`. */
export const tooLarge = make(413, 'payload-too-large');
/** 415, slug `unsupported-media-type`. */
export const unsupportedMediaType = make(415, 'unsupported-media-type');
/** 422, slug `unprocessable`; a custody refusal passes `{slug, reasons: [{code}]}`. */
export const unprocessable = make(422, 'unprocessable');
/** 429, slug `too-many-requests`. */
export const tooManyRequests = make(429, 'too-many-requests');
/** 503, slug `unavailable`. */
export const unavailable = make(503, 'unavailable');

/** True for an HttpProblem, including one from another copy of this module. */
export function isHttpProblem(err: unknown): err is HttpProblem {
  return (
    err instanceof HttpProblem ||
    (err instanceof Error &&
      err.name === 'HttpProblem' &&
      typeof (err as HttpProblem).status === 'number')
  );
}

/** Writes `problem` as the response (status, headers, problem+json body). */
export function sendProblem(res: Response, problem: HttpProblem, instance?: string): void {
  if (problem.headers) for (const [k, v] of Object.entries(problem.headers)) res.setHeader(k, v);
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem.toJSON(instance)));
}

// body-parser errors carry `type` and `status`; their messages may quote the
// body, so only our own words reach the client.
interface BodyParserError {
  type?: unknown;
  status?: unknown;
  statusCode?: unknown;
}

/**
 * Maps any thrown value to the problem the client sees. Unknown errors become
 * a generic 500 `internal`; their message stays server-side.
 */
export function toProblem(err: unknown): HttpProblem {
  if (isHttpProblem(err)) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as BodyParserError & Error;
  switch (e.type) {
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON (an object or an array is expected).', {
        slug: 'malformed-json',
      });
    case 'entity.too.large':
      return tooLarge('The request body exceeds the size limit.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return unsupportedMediaType('The request body must be UTF-8 encoded JSON.');
    case 'request.aborted':
    case 'request.size.invalid':
      return badRequest('The request body could not be read.', { slug: 'bad-request' });
  }
  // @provenant/store's infrastructure errors, matched by name so this module
  // does not depend on the store's load order (DESIGN §8: 503 database unavailable).
  if (e.name === 'DatabaseUnavailableError') {
    return unavailable('The database is unavailable; retry later.', {
      slug: 'database-unavailable',
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
    });
  }
  // A transaction that kept losing serialization races: the service is busy, not broken.
  if (e.name === 'SerializationFailureError') {
    return unavailable('The service is busy; retry shortly.', {
      slug: 'busy',
      headers: { 'Retry-After': '1' },
    });
  }
  // A unique violation that a route did not translate is still a lost race (DESIGN §9: 409).
  if (e.name === 'UniqueViolationError') {
    return conflict(
      'The write conflicts with a concurrent write; fetch the current state and retry.',
    );
  }
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : 0;
  if (status >= 400 && status < 500)
    return new HttpProblem(status, 'bad-request', 'The request was rejected.');
  return new HttpProblem(500, 'internal', 'An internal error occurred; it has been logged.');
}

/** Path part of the request URL, used as the problem `instance`. */
function instanceOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The last middleware: renders every error as problem+json. 5xx causes are
 * attached to `res.err` so the pino-http line records them (sanitised by the
 * serializer in logging.ts); nothing about them reaches the client.
 */
export function problemHandler(): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const problem = toProblem(err);
    if (problem.status >= 500) (res as Response & { err?: unknown }).err ??= err;
    // A refused request whose body was never read (auth before body, DESIGN §8):
    // close the connection rather than drain an upload nobody will look at.
    if (!req.complete && !req.readableEnded) res.setHeader('Connection', 'close');
    sendProblem(res, problem, instanceOf(req.originalUrl));
  };
}

/** 404 problem for any request no route matched; mount after every router. */
export function notFoundHandler(): RequestHandler {
  return (req, _res, next) => {
    next(notFound(`No route for ${req.method} ${instanceOf(req.originalUrl)}.`));
  };
}
