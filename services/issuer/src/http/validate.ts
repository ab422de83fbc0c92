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

const JSON_TYPE = 'application/json';

/** Options of the JSON body parser. */
export interface JsonBodyOptions {
  /** Maximum body size in bytes (default DEFAULT_BODY_LIMIT); larger is 413. */
  limit?: number;
}

/**
 * Parses a request body's text with core's strict parser: a duplicate key
 * anywhere (the last one would silently win with JSON.parse), a lone
 * surrogate or nesting beyond JCS's limit is 400 naming the rule (and the key);
 * anything but an object or an array is 400 `malformed-json`.
 */
export function parseBodyText(text: string): unknown {
  let value: unknown;
  try {
    value = parseJsonStrict(text);
  } catch (err) {
    if (!(err instanceof JcsError)) throw err;
    if (err.code === 'DUPLICATE_KEY') {
      const key = err.key ?? '';
      throw badRequest(`body: the key ${JSON.stringify(key)} appears twice in one object.`, {
        slug: 'duplicate-key',
        errors: [
          { path: 'body', rule: 'duplicate-key', message: `duplicate key ${JSON.stringify(key)}` },
        ],
      });
    }
    const rule = err.code.toLowerCase().replace(/_/g, '-');
    throw badRequest('The request body is not valid JSON (an object or an array is expected).', {
      slug: 'malformed-json',
      errors: [{ path: 'body', rule, message: rule }],
    });
  }
  if (typeof value !== 'object' || value === null)
    throw badRequest('The request body is not valid JSON (an object or an array is expected).', {
      slug: 'malformed-json',
      errors: [
        { path: 'body', rule: 'object-or-array', message: 'expected an object or an array' },
      ],
    });
  return value;
}

/**
 * JSON body parsing for the API: a request with a body must say
 * `Content-Type: application/json` in UTF-8 (else 415 `unsupported-media-type`),
 * the body must be a JSON object or array without duplicate keys (else 400
 * `malformed-json` / `duplicate-key`) within the limit (else 413
 * `payload-too-large`). Requests without a body pass with `req.body`
 * undefined, which a route schema then rejects if it needs one.
 */
export function jsonBody(options: JsonBodyOptions = {}): RequestHandler[] {
  const limit = options.limit ?? DEFAULT_BODY_LIMIT;
  const guard: RequestHandler = (req, _res, next) => {
    if (!hasBody(req) || req.method === 'GET' || req.method === 'HEAD') {
      next();
      return;
    }
    if (req.is(JSON_TYPE) !== JSON_TYPE) {
      next(unsupportedMediaType('Request bodies must be sent as Content-Type: application/json.'));
      return;
    }
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1];
    if (charset !== undefined && !/^utf-?8$/i.test(charset)) {
      next(unsupportedMediaType('The request body must be UTF-8 encoded JSON.'));
      return;
    }
    next();
  };
  const strict: RequestHandler = (req, _res, next) => {
    if (typeof req.body === 'string')
      req.body = req.body === '' ? undefined : parseBodyText(req.body);
    next();
  };
  return [
    guard,
    express.text({
      limit,
      type: JSON_TYPE,
      defaultCharset: 'utf-8',
      verify: digestBodyForIdempotency,
    }),
    strict,
  ];
}
