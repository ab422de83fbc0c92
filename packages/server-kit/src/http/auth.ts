// Bearer tokens (DESIGN §8): a token belongs to a party (or to the operator,
// gln null) and carries scopes; only its SHA-256 is stored, so the database
// never holds a usable credential. A party token never acts as another party.
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { bytesEqual, SCOPES, sha256, toBase64Url, utf8 } from '@provenant/core';
import { forbidden, unauthorized } from './problem.js';

/** Token scopes (DESIGN §8); `keys` manages the party's keys and tokens (DESIGN §5); `monitor` reads the log's entries (§6a). */
export { SCOPES }; // one source: core api/requests.ts (the token request body names them too)
export type Scope = (typeof SCOPES)[number];

/** Prefix of generated tokens, so a leaked one is recognisable in a scanner. */
export const TOKEN_PREFIX = 'pvn_';

/** Who is calling: the token's party (null for an operator token), its scopes, and whether it may administer. */
export interface Principal {
  gln: string | null;
  scopes: string[];
  isAdmin: boolean;
  /** The party is on a vendor-risk hold (DESIGN §8a suspend): it may read but not sign. */
  suspended: boolean;
}

/** What a token lookup returns for a known, unrevoked token. */
export interface TokenGrant {
  gln: string | null;
  scopes: string[];
  suspended?: boolean;
}

/** Finds a token by the SHA-256 of its text; null when unknown or revoked. */
export type TokenLookup = (tokenHash: Uint8Array) => Promise<TokenGrant | null>;

// Through the global Express namespace, so no direct dependency on
// express-serve-static-core is needed to type `req.principal`.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types the request through this global namespace
  namespace Express {
    interface Request {
      /** Set by `authenticate` when the request carried a valid token. */
      principal?: Principal;
    }
  }
}

/** SHA-256 of a token's UTF-8 text: the only form a token is stored in. */
export function hashToken(token: string): Uint8Array {
  return sha256(utf8(token));
}

/** A fresh token (`pvn_` + base64url of 32 random bytes) and its hash; show the token once, store the hash. */
export function newToken(): { token: string; hash: Uint8Array } {
  const token = TOKEN_PREFIX + toBase64Url(new Uint8Array(randomBytes(32)));
  return { token, hash: hashToken(token) };
}

// RFC 6750 §2.1 b64token, with a length cap so a hostile header costs nothing.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]{16,512}=*) *$/i;

/**
 * Extracts the token from an `Authorization` header value.
 * Returns undefined when there is no header, null when it is not a well-formed Bearer token.
 */
export function parseBearer(header: string | undefined): string | null | undefined {
  if (header === undefined) return undefined;
  const m = BEARER.exec(header);
  return m ? m[1]! : null;
}

function challenge(error?: 'invalid_token' | 'insufficient_scope'): Record<string, string> {
  return { 'WWW-Authenticate': error ? `Bearer error="${error}"` : 'Bearer' };
}

/**
 * Adds the operator token from `PROVENANT_ADMIN_TOKEN` (by hash, compared in
 * constant time) in front of the stored-token lookup.
 */
export function withAdminToken(
  adminHash: Uint8Array | null,
  lookup: TokenLookup | null,
): TokenLookup {
  return async (hash) => {
    if (adminHash && bytesEqual(hash, adminHash)) return { gln: null, scopes: ['admin'] };
    return lookup ? lookup(hash) : null;
  };
}

/** Options of `authenticate`. */
export interface AuthenticateOptions {
  /** When true a request without Authorization passes anonymously; a bad token is still 401. */
  optional?: boolean;
}

/**
 * Middleware: resolves `Authorization: Bearer <token>` to `req.principal`.
 * 401 `unauthorized` with `WWW-Authenticate: Bearer` when the token is
 * missing (unless optional), malformed, unknown or revoked. Lookup failures
 * (database down) propagate as errors (503). The token itself is never logged.
 */
export function authenticate(
  lookup: TokenLookup,
  options: AuthenticateOptions = {},
): RequestHandler {
  return async (req, _res, next) => {
    const token = parseBearer(req.headers.authorization);
    if (token === undefined) {
      if (options.optional) return next();
      throw unauthorized('A bearer token is required.', { headers: challenge() });
    }
    if (token === null) {
      throw unauthorized('The Authorization header is not a well-formed bearer token.', {
        headers: challenge('invalid_token'),
      });
    }
    const grant = await lookup(hashToken(token));
    if (!grant)
      throw unauthorized('The bearer token is unknown or revoked.', {
        headers: challenge('invalid_token'),
      });
    req.principal = {
      gln: grant.gln,
      scopes: [...grant.scopes],
      isAdmin: grant.scopes.includes('admin'),
      suspended: grant.suspended === true,
    };
    next();
  };
}

/** The caller, or 401 when the request is anonymous. */
export function principalOf(req: Request): Principal {
  if (!req.principal) throw unauthorized('A bearer token is required.', { headers: challenge() });
  return req.principal;
}

/**
 * Middleware: the caller's token must carry `scope` (403 `insufficient-scope`
 * otherwise). A suspended party may not `sign` (403 `party-suspended`).
 */
export function requireScope(scope: Scope): RequestHandler {
  return (req, _res, next) => {
    const p = principalOf(req);
    if (!p.scopes.includes(scope)) {
      throw forbidden(`This endpoint needs a token with the "${scope}" scope.`, {
        slug: 'insufficient-scope',
        headers: challenge('insufficient_scope'),
      });
    }
    if (scope === 'sign' && p.suspended) {
      throw forbidden('The party is suspended and may not sign.', { slug: 'party-suspended' });
    }
    next();
  };
}

/**
 * Throws 403 `forbidden` unless the caller is party `gln` (or an admin, when
 * `allowAdmin`: the DESIGN §8a "admin or that party" endpoints).
 */
export function assertActsAs(req: Request, gln: string, allowAdmin = true): Principal {
  const p = principalOf(req);
  if (p.gln === gln) return p;
  if (allowAdmin && p.isAdmin) return p;
  throw forbidden('This token may not act for another party.');
}

/** Middleware form of `assertActsAs` for a path parameter (default `gln`). */
export function requireParty(glnParam = 'gln', allowAdmin = true): RequestHandler {
  return (req, _res, next) => {
    const gln = req.params[glnParam];
    if (typeof gln !== 'string') throw forbidden('This token may not act for another party.');
    assertActsAs(req, gln, allowAdmin);
    next();
  };
}
