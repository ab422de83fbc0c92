// Checks that run before any work on a request (DESIGN §8): a path id with a
// NUL or control character is 400, and authentication decides before the body
// is read: a body sent to a route that needs a token, without a valid one, is
// 401 (a 12 MiB anonymous upload is refused from its headers alone), and a
// body on a route the token may not use is 403, before the JSON is parsed.
import type { Request, RequestHandler } from 'express';
import { badRequest, forbidden, unauthorized } from './problem.js';
import type { Principal, Scope } from './auth.js';

// C0 controls and DEL, after percent-decoding.
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The decoded segments of a request path; null when the percent-encoding is broken. */
function decodedSegments(path: string): string[] | null {
  try {
    return path.split('/').map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/**
 * Middleware: 400 `invalid-path` when a path segment is not valid
 * percent-encoding or decodes to a control character (NUL, LF, DEL…), before
 * any route sees it.
 */
export function pathGuard(): RequestHandler {
  return (req, _res, next) => {
    const raw = req.originalUrl.split('?', 1)[0]!;
    const segments = decodedSegments(raw);
    if (segments === null)
      throw badRequest('The request path is not valid percent-encoding.', {
        slug: 'invalid-path',
        errors: [{ path: 'params', rule: 'percent-encoding', message: 'malformed %-escape' }],
      });
    if (segments.some((s) => CONTROL.test(s)))
      throw badRequest('A path segment contains a NUL or control character.', {
        slug: 'invalid-path',
        errors: [{ path: 'params', rule: 'no-control-characters', message: 'control character' }],
      });
    next();
  };
}

/** Who may send a body to a route (DESIGN §8a). */
export type BodyAccess =
  | { kind: 'anyone' }
  | { kind: 'token' }
  | { kind: 'admin' }
  | { kind: 'scope'; scope: Scope; orAdmin?: boolean };

/** One row of the table: method, path pattern, who may send it a body. */
export interface BodyRoute {
  method: string;
  path: RegExp;
  access: BodyAccess;
}

const SEG = '[^/]+';
const route = (method: string, path: string, access: BodyAccess): BodyRoute => ({
  method,
  path: new RegExp(`^${path.replace(/:seg/g, SEG)}/?$`),
  access,
});
const sign: BodyAccess = { kind: 'scope', scope: 'sign' };
const verify: BodyAccess = { kind: 'scope', scope: 'verify' };
const admin: BodyAccess = { kind: 'admin' };
// DESIGN §5: key registration and revocation, token revocation: `keys` (or admin).
const keysOrAdmin: BodyAccess = { kind: 'scope', scope: 'keys', orAdmin: true };

/**
 * The routes that take a body, and who may send one. A body on a path not
 * listed needs a valid token (anonymous: 401); a listed route refuses a token
 * without the access it names (403). Handlers still check the party itself.
 */
export const BODY_ROUTES: readonly BodyRoute[] = [
  route('POST', '/v1/log/cosignatures', { kind: 'anyone' }),
  route('POST', '/v1/parties', admin),
  route('POST', '/v1/parties/:seg/tokens', admin),
  route('POST', '/v1/parties/:seg/suspend', admin),
  route('POST', '/v1/parties/:seg/reinstate', admin),
  route('POST', '/v1/parties/:seg/keys', keysOrAdmin),
  route('POST', '/v1/keys/:seg/revoke', keysOrAdmin),
  // Another party's token answers 404 (no existence oracle), decided by the handler.
  route('POST', '/v1/tokens/:seg/revoke', { kind: 'token' }),
  route('POST', '/v1/witnesses', admin),
  route('POST', '/v1/verifier/audit', admin),
  route('POST', '/v1/verifier/alarms/:seg/ack', admin),
  ...[
    'records',
    'commissions',
    'packs',
    'unpacks',
    'shipments',
    'receipts',
    'decommissions',
    'reactivations',
    'recalls',
  ].map((p) => route('POST', `/v1/${p}`, sign)),
  route('POST', '/epcis/events', sign),
  route('POST', '/epcis/capture', sign),
  route('POST', '/v1/verifications', verify),
  route('POST', '/v1/bundles/verify', verify),
  route('POST', '/v1/cases/:seg/resolve', { kind: 'token' }),
];

function hasBody(req: Request): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const len = req.headers['content-length'];
  return len !== undefined && len !== '0';
}

/** Null when `p` may send a body under `access`; else the refusal. */
function refusal(access: BodyAccess, p: Principal | undefined): Error | null {
  if (access.kind === 'anyone') return null;
  if (!p)
    return unauthorized('A bearer token is required.', {
      headers: { 'WWW-Authenticate': 'Bearer' },
    });
  if (access.kind === 'token') return null;
  if (p.isAdmin && (access.kind === 'admin' || access.orAdmin)) return null;
  if (access.kind === 'admin')
    return forbidden('This endpoint needs a token with the "admin" scope.', {
      slug: 'insufficient-scope',
    });
  if (!p.scopes.includes(access.scope))
    return forbidden(`This endpoint needs a token with the "${access.scope}" scope.`, {
      slug: 'insufficient-scope',
      headers: { 'WWW-Authenticate': 'Bearer error="insufficient_scope"' },
    });
  return null;
}

/**
 * Middleware, after `authenticate` and before the body parser: refuses a
 * body the caller may not send, without reading it, and closes the
 * connection so the unread body is not drained either.
 */
export function authBeforeBody(routes: readonly BodyRoute[] = BODY_ROUTES): RequestHandler {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !hasBody(req)) return next();
    const path = req.path;
    const row = routes.find((r) => r.method === req.method && r.path.test(path));
    const err = refusal(row?.access ?? { kind: 'token' }, req.principal);
    if (!err) return next();
    res.setHeader('Connection', 'close');
    throw err;
  };
}
