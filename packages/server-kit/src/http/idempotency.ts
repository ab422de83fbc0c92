// Idempotency-Key on writes (DESIGN §8; draft-ietf-httpapi-idempotency-key-header):
// the first successful answer to (party, key) is stored with a fingerprint of
// the request; the same key and the same request replays it, the same key
// with a different request is 422. Keys are scoped per party so one party
// cannot read another's stored answers.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { canonicalize } from '@provenant/core';
import { badRequest, unprocessable } from './problem.js';

/** Header carrying the key. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Response header set on a replayed answer. */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** Scope used for callers without a party (operator tokens). */
export const OPERATOR_SCOPE = '';

/** A stored answer. */
export interface StoredResponse {
  /** Lowercase hex SHA-256 fingerprint of the request (method, path, canonical body). */
  requestHash: string;
  status: number;
  response: unknown;
}

/**
 * Persistence of idempotency keys (table idempotency_keys(gln, key,
 * request_hash, status, response jsonb), primary key (gln, key)). `put`
 * should run in the transaction of the write it records; a concurrent
 * duplicate makes it fail with a unique violation, which rolls that write back.
 */
export interface IdempotencyStore {
  get(gln: string, key: string): Promise<StoredResponse | null>;
  put(
    gln: string,
    key: string,
    requestHash: string,
    status: number,
    response: unknown,
  ): Promise<void>;
}

/** What a route needs to check and record one idempotent write. */
export interface IdempotencyContext {
  /** The caller's party GLN, or OPERATOR_SCOPE. */
  scope: string;
  key: string;
  requestHash: string;
}

const BODY_DIGEST = Symbol('provenant.bodyDigest');
type WithDigest = IncomingMessage & { [BODY_DIGEST]?: string };

/**
 * `verify` hook for the JSON parser: hashes the raw body bytes when the
 * request carries an Idempotency-Key; the fingerprint falls back to them
 * when the parsed body has no canonical JSON form.
 */
export function digestBodyForIdempotency(req: IncomingMessage, _res: unknown, buf: Buffer): void {
  if (req.headers[IDEMPOTENCY_HEADER] === undefined) return;
  (req as WithDigest)[BODY_DIGEST] = createHash('sha256').update(buf).digest('hex');
}

const EMPTY_DIGEST = createHash('sha256').digest('hex');

// Visible ASCII, 1..255 chars: the key is attacker-controlled and becomes a DB key.
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Reads and checks the Idempotency-Key header (a bare token or a quoted
 * sf-string). Returns null when absent.
 * @throws HttpProblem 400 `invalid-idempotency-key` when malformed.
 */
export function idempotencyKeyOf(req: Request): string | null {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return null;
  let key = Array.isArray(raw) ? '' : raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (!KEY.test(key)) {
    throw badRequest('Idempotency-Key must be 1 to 255 visible ASCII characters.', {
      slug: 'invalid-idempotency-key',
      errors: [
        {
          path: 'headers.idempotency-key',
          rule: 'format',
          message: 'Expected 1 to 255 visible ASCII characters.',
        },
      ],
    });
  }
  return key;
}

/**
 * Digest of the parsed JSON body in RFC 8785 form, so "the same body" means
 * the same JSON value (key order and whitespace do not matter); null when
 * there is none or JCS cannot represent it (the raw-bytes digest is used then).
 */
function canonicalBodyDigest(req: Request): string | null {
  if (req.body === undefined) return null;
  try {
    return createHash('sha256').update(canonicalize(req.body)).digest('hex');
  } catch {
    return null;
  }
}

/**
 * Fingerprint of a request: SHA-256 over method, path and the body digest
 * (of its canonical JSON; of the raw bytes when it has none). Call before a
 * handler replaces `req.body`.
 */
export function requestHashOf(req: Request): string {
  const path = req.originalUrl.split('?', 1)[0];
  const body =
    canonicalBodyDigest(req) ?? (req as unknown as WithDigest)[BODY_DIGEST] ?? EMPTY_DIGEST;
  return createHash('sha256').update(`${req.method} ${path}\n${body}`).digest('hex');
}

/**
 * The idempotency context of a write, or null when the request has no
 * Idempotency-Key. Call after `authenticate` so the key is scoped to the party.
 */
export function idempotencyContext(req: Request): IdempotencyContext | null {
  const key = idempotencyKeyOf(req);
  if (key === null) return null;
  return { scope: req.principal?.gln ?? OPERATOR_SCOPE, key, requestHash: requestHashOf(req) };
}

/**
 * Looks the key up. Returns the stored answer to replay, or null when the
 * key is new.
 * @throws HttpProblem 422 `idempotency-key-reused` when the key was used for a different request.
 */
export async function checkIdempotency(
  store: IdempotencyStore,
  ctx: IdempotencyContext,
): Promise<StoredResponse | null> {
  const stored = await store.get(ctx.scope, ctx.key);
  if (!stored) return null;
  if (stored.requestHash !== ctx.requestHash) {
    throw unprocessable('This Idempotency-Key was already used with a different request.', {
      slug: 'idempotency-key-reused',
    });
  }
  return stored;
}

/** Records the answer to a write; call inside the write's transaction, with the tx-bound store. */
export async function recordIdempotency(
  store: IdempotencyStore,
  ctx: IdempotencyContext,
  status: number,
  response: unknown,
): Promise<void> {
  await store.put(ctx.scope, ctx.key, ctx.requestHash, status, response);
}

/** Sends a stored answer, marked with `Idempotent-Replayed: true`. */
export function replay(res: Response, stored: StoredResponse): void {
  res.setHeader(REPLAYED_HEADER, 'true');
  res.status(stored.status).json(stored.response);
}

/**
 * Middleware variant for writes whose handler does not record the key
 * itself: replays or refuses as `checkIdempotency` says; otherwise stores the
 * first 2xx JSON answer (outside the write's transaction, before the answer
 * is sent) so a retry after a lost response replays it.
 */
export function idempotency(store: IdempotencyStore): RequestHandler {
  return async (req, res, next) => {
    const ctx = idempotencyContext(req);
    if (!ctx) return next();
    const stored = await checkIdempotency(store, ctx);
    if (stored) return replay(res, stored);
    const send = res.json.bind(res);
    res.json = (body: unknown) => {
      if (res.statusCode < 200 || res.statusCode >= 300) return send(body);
      recordIdempotency(store, ctx, res.statusCode, body).then(
        () => send(body),
        (err: unknown) => {
          // A concurrent twin won the put: answer with what it stored.
          checkIdempotency(store, ctx).then((winner) => {
            if (!winner) return next(err);
            res.setHeader(REPLAYED_HEADER, 'true');
            res.status(winner.status);
            send(winner.response);
          }, next);
        },
      );
      return res;
    };
    next();
  };
}
