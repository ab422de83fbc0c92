// zod at the edge (DESIGN §8): everything in a request is attacker-controlled,
// so it is parsed once, here, into typed values, and every violation is
// reported with its field path and rule. Route schemas should be strict
// objects (`z.strictObject`) so an unknown field is an error naming it.
import express from 'express';
import type { Request, RequestHandler } from 'express';
import type { z } from 'zod';
import { JcsError, parseJsonStrict } from '@provenant/core';
import { digestBodyForIdempotency } from './idempotency.js';
import { badRequest, unsupportedMediaType } from './problem.js';
import type { FieldError } from './problem.js';

/** Where a value came from; the first segment of every reported path. */
export type RequestPart = 'body' | 'query' | 'params' | 'headers';

/** At most this many field errors are listed; a 10,000-item batch stays a small answer. */
export const MAX_FIELD_ERRORS = 100;

/** Default JSON body limit: a 10,000-envelope batch (DESIGN §8) fits with room. */
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Renders a zod path as `body.items[3].gtin` (non-identifier keys quoted). */
export function formatPath(where: string, path: ReadonlyArray<PropertyKey>): string {
  let out = where;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && IDENTIFIER.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

/** Flattens zod issues to field errors; one per unknown key so each is named. */
export function fieldErrors(error: z.ZodError, where: string): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({
          path: formatPath(where, [...issue.path, key]),
          rule: 'unrecognized_keys',
          message: `Unknown field "${key}".`,
        });
      }
      continue;
    }
    // A refinement may name its rule (e.g. GS1 'check-digit') through params.rule.
    const params =
      issue.code === 'custom' ? (issue.params as Record<string, unknown> | undefined) : undefined;
    const rule = typeof params?.rule === 'string' ? params.rule : issue.code;
    out.push({ path: formatPath(where, issue.path), rule, message: issue.message });
  }
  return out;
}

/**
 * Parses `value` with `schema`; returns the typed output.
 * @throws HttpProblem 400 `invalid-request` whose `errors` list every issue
 *   (capped at MAX_FIELD_ERRORS, with `errorsTruncated: true` when capped).
 */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: RequestPart | string,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error, where);
  const truncated = errors.length > MAX_FIELD_ERRORS;
  const first = errors[0];
  const detail =
    errors.length === 1 && first
      ? `${first.path}: ${first.message}`
      : `The request has ${errors.length} invalid field${errors.length === 1 ? '' : 's'}.`;
  throw badRequest(detail, {
    errors: errors.slice(0, MAX_FIELD_ERRORS),
    ...(truncated ? { extra: { errorsTruncated: true } } : {}),
  });
}

/** Validated request parts, stored by the middlewares below (Express 5's req.query is read-only). */
export interface Validated {
  body?: unknown;
  query?: unknown;
  params?: unknown;
}

/** The values stored by validateBody/validateQuery/validateParams, typed by the caller. */
export function validated<T = unknown>(
  res: { locals: Record<string, unknown> },
  part: keyof Validated,
): T {
  return (res.locals.validated as Validated | undefined)?.[part] as T;
}

function store(
  res: { locals: Record<string, unknown> },
  part: keyof Validated,
  value: unknown,
): void {
  const v = (res.locals.validated ??= {}) as Validated;
  v[part] = value;
}

/** Middleware: parses `req.body`, replaces it with the output and stores it in `res.locals.validated.body`. */
export function validateBody(schema: z.ZodType): RequestHandler {
  return (req, res, next) => {
    const out = parse(schema, req.body, 'body');
    req.body = out;
    store(res, 'body', out);
    next();
  };
}

/** Middleware: parses `req.query` into `res.locals.validated.query`. */
export function validateQuery(schema: z.ZodType): RequestHandler {
  return (req, res, next) => {
    store(res, 'query', parse(schema, req.query, 'query'));
    next();
  };
}

/** Middleware: parses `req.params` into `res.locals.validated.params`. */
export function validateParams(schema: z.ZodType): RequestHandler {
  return (req, res, next) => {
    store(res, 'params', parse(schema, req.params, 'params'));
    next();
  };
}

/** True when the request carries a body (chunked, or a non-zero Content-Length). */
export function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

// EPCIS 2.0 (DESIGN §11) sends JSON-LD as application/ld+json; both are JSON.
const JSON_TYPES = ['application/json', 'application/ld+json'];

/** Options of the JSON body parser. */
export interface JsonBodyOptions {
  /** Maximum body size in bytes (default DEFAULT_BODY_LIMIT); larger is 413. */
  limit?: number;
}

// RFC 8259 §8.1: JSON exchanged between systems is UTF-8; invalid bytes are an error, not U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;

function malformed(): Error {
  return badRequest('The request body is not valid JSON (an object or an array is expected).', {
    slug: 'malformed-json',
  });
}

/**
 * The problem for a body the strict parser refused, naming the field:
 * `body.items[2].n` for an integer beyond ±(2^53−1) or a duplicate key.
 */
export function jsonBodyProblem(err: JcsError): Error {
  const path = err.path === undefined ? 'body' : 'body' + err.path.slice(1);
  switch (err.code) {
    case 'UNSAFE_INTEGER': {
      const message = 'integer beyond ±(2^53−1): refused, never rounded (I-JSON, RFC 7493 §2.2)';
      return badRequest(`${path}: ${message}.`, {
        errors: [{ path, rule: 'unsafe-integer', message }],
      });
    }
    case 'DUPLICATE_KEY': {
      const message = `duplicate key ${JSON.stringify(err.key ?? '')}`;
      return badRequest(`${path}: ${message}.`, {
        slug: 'duplicate-key',
        errors: [{ path, rule: 'duplicate-key', message }],
      });
    }
    case 'LONE_SURROGATE':
    case 'NESTING_TOO_DEEP':
      return badRequest(`The request body is refused: ${err.message}.`, {
        errors: [{ path, rule: err.code.toLowerCase().replace(/_/g, '-'), message: err.message }],
      });
    default:
      return malformed();
  }
}

// The body text as it arrived (after UTF-8 decoding), for routes that keep it
// byte for byte (EPCIS capture stores events exactly as captured, DESIGN §11).
const bodyTexts = new WeakMap<Request, string>();

/** The JSON body text of a request, as it arrived; undefined when it had none. */
export function rawBodyText(req: Request): string | undefined {
  return bodyTexts.get(req);
}

/**
 * Parses the raw body with core's strict parser (DESIGN §3, §8): a duplicate
 * key or an integer beyond ±(2^53−1) is a 400 naming the field, never the last
 * key or a rounded number as JSON.parse would give. The body is attacker-controlled.
 */
const strictJson: RequestHandler = (req, _res, next) => {
  const raw: unknown = req.body;
  if (!(raw instanceof Uint8Array)) {
    next();
    return;
  }
  const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    next(unsupportedMediaType('The request body must be UTF-8 encoded JSON.'));
    return;
  }
  let text: string;
  try {
    text = UTF8.decode(raw); // strips a leading BOM
  } catch {
    next(malformed());
    return;
  }
  // As express.json's strict mode: the document is an object or an array.
  if (!/^[ \t\n\r]*[[{]/.test(text)) {
    next(malformed());
    return;
  }
  try {
    req.body = parseJsonStrict(text);
    bodyTexts.set(req, text);
  } catch (err) {
    next(err instanceof JcsError ? jsonBodyProblem(err) : err);
    return;
  }
  next();
};

/**
 * JSON body parsing for the API: a request with a body must say
 * `Content-Type: application/json` (else 415 `unsupported-media-type`), the
 * body must be a UTF-8 JSON object or array (else 400 `malformed-json`) within
 * the limit (else 413 `payload-too-large`), without duplicate keys or integers
 * beyond ±(2^53−1) (else 400 naming the field). Requests without a body pass
 * with `req.body` undefined, which a route schema then rejects if it needs one.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler[] {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT;
  const guard: RequestHandler = (req, _res, next) => {
    if (!hasBody(req) || req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    if (!req.is(JSON_TYPES)) {
      next(
        unsupportedMediaType(
          'Request bodies must be sent as Content-Type: application/json (or application/ld+json).',
        ),
      );
      return;
    }
    next();
  };
  return [
    guard,
    express.raw({ limit, type: JSON_TYPES, verify: digestBodyForIdempotency }),
    strictJson,
  ];
}
