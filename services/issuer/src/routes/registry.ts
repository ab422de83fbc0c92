// The party registry (DESIGN §5 notices, §8, §8a): parties, their keys
// (client-held or custodial), bearer tokens, suspension and key revocation.
// Every registry change is also a notice in the log signed by the registry
// authority key, written by the sequencer's `apply` hook under the log lock so
// the row and its notice commit in one transaction (or neither does).
//
// Decisions where DESIGN is silent (documented in the route summaries too):
// - A party token may add keys to and revoke keys of its own party only with
//   the `keys` scope (DESIGN §5; `sign` alone is 403); a suspended party may
//   still revoke (a safety action) but not add keys.
// - A client-held key proves possession (DESIGN §5): `proof` verifies over the
//   publicKey text as sent or its canonical base64url; a stale `time` or a
//   proof that does not verify is 422, a missing or malformed one 400.
// - A party token never carries `admin` (400): administration is the operator's.
// - Token issuance ignores Idempotency-Key: its answer holds a secret, which
//   is never stored.
// - Key revocations are always signed by the authority, also when the party
//   itself asks (DESIGN §5 allows the authority for any key; simpler than
//   picking another active key, and works when the party holds only one key).
// - compromisedAt is RFC 3339 (any offset), stored and logged as UTC with
//   milliseconds; before the key's registration receipt time or more than 5
//   minutes in the future is 422 (DESIGN §5, issue 10 #7).
// - Token lists show id, scopes, createdAt, lastUsedAt (and revokedAt), never
//   the secret or its hash; revoking a revoked token is 409.
// - Suspending a suspended party (or reinstating an active one) answers 200
//   and logs nothing.
import type { Request, Router } from 'express';
import { z } from 'zod';
import {
  apiRequests,
  checkPointEncodings,
  GlnParams,
  KidParams,
  strictApi,
  TokenParams,
  type ApiResponse,
  concatBytes,
  fromBase64,
  fromBase64Url,
  fromHex,
  generateKeyPair,
  keyId,
  KEY_REGISTRATION_SKEW_MS,
  toBase64Url,
  verifyKeyRegistration,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  getKey,
  findPrefixOverlaps,
  getParty,
  getTokenById,
  insertKey,
  insertParty,
  insertToken,
  listKeysByParty,
  listTokensByParty,
  revokeKey,
  revokeTokenById,
  setPartyStatus,
  UniqueViolationError,
  type Party,
  type PartyKey,
  type PartyStatus,
  type Queryable,
  type Token,
} from '@provenant/store';
import type { RouteDeps, RouteModule } from '@provenant/server-kit';
import { signAuthorityNotice, type AuthorityNoticeBody } from '../append/custodial.js';
import { assertCompromisedAtInRange } from '../append/key-rules.js';
import { newToken, principalOf, type Principal } from '@provenant/server-kit';
import { BEARER_AUTH, IdempotencyHeaders, problemResponse } from '@provenant/server-kit';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import { keyAad, seal } from '../seal.js';
import { idempotentWrite } from './records.js';

export { COMPROMISED_AT_SKEW_MS } from '../append/key-rules.js';

// ---------------------------------------------------------------------------
// Public keys (DESIGN §4 strict policy): canonical, not of small order, on the curve.

const P = 2n ** 255n - 19n;
const D = (-121665n * modInverse(121666n)) % P;

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function modPow(base: bigint, exp: bigint): bigint {
  let result = 1n;
  let b = mod(base);
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return result;
}

function modInverse(a: bigint): bigint {
  return modPow(a, P - 2n);
}

/** RFC 8032 §5.1.3 decoding step 2: x² = (y² − 1)/(d·y² + 1) must have a square root. */
function onCurve(raw: Uint8Array): boolean {
  let y = 0n;
  for (let i = 31; i >= 0; i--) y = (y << 8n) | BigInt(i === 31 ? raw[i]! & 0x7f : raw[i]!);
  const y2 = mod(y * y);
  const x2 = mod((y2 - 1n) * modInverse(mod(D * y2 + 1n)));
  return x2 === 0n || modPow(x2, (P - 1n) / 2n) === 1n;
}

// A well-formed signature (R = the base point, S = 0) so checkPointEncodings judges A alone.
const PROBE_SIGNATURE = concatBytes(
  fromHex('5866666666666666666666666666666666666666666666666666666666666666')!,
  new Uint8Array(32),
);

/** Why a client-supplied public key is unacceptable, or null when it is fine. */
/**
 * The raw bytes of a submitted public key: base64url as DESIGN §8a says,
 * unpadded or padded (as Python's and Go's URL-safe encoders write it), or
 * standard base64: each spelling decodes to one byte string, so accepting
 * them all cannot make two keys of one. Null for anything else.
 */
export function decodePublicKeyText(text: string): Uint8Array | null {
  const unpadded = text.replace(/={1,2}$/, '');
  if (unpadded.length !== text.length && text.length % 4 !== 0) return null;
  return fromBase64Url(unpadded) ?? fromBase64(text);
}

export function publicKeyProblem(raw: Uint8Array): { rule: string; message: string } | null {
  if (raw.length !== 32) return { rule: 'length', message: `expected 32 bytes, got ${raw.length}` };
  if (!checkPointEncodings(PROBE_SIGNATURE, raw))
    return {
      rule: 'point',
      message: 'the key is a non-canonical encoding or a point of small order (DESIGN §4)',
    };
  if (!onCurve(raw)) return { rule: 'point', message: 'the key is not a point on Ed25519' };
  return null;
}

// ---------------------------------------------------------------------------
// Schemas (attacker-controlled input, parsed once at the edge).

// Requests: one source, @provenant/core api/requests.ts (issue 9).
const {
  party: PartyBody,
  key: KeyBody,
  token: TokenBody,
  partyStatus: StatusBody,
  revokeKey: RevokeBody,
} = apiRequests;

// Response shapes: one source, @provenant/core api/registry.ts (issue 9).
type KeyView = ApiResponse<'keyView'>;
type PartyView = ApiResponse<'party'>;
type TokenView = ApiResponse<'tokenInfo'>;

// ---------------------------------------------------------------------------
// Views: what the API shows of a party and its keys (never a private key).

function keyView(k: PartyKey): KeyView {
  return {
    kid: k.kid,
    publicKey: toBase64Url(k.publicKey),
    status: k.status,
    custodial: k.custodial,
    createdAt: k.createdAt,
    ...(k.compromisedAt !== null ? { compromisedAt: k.compromisedAt } : {}),
    ...(k.revokedAt !== null ? { revokedAt: k.revokedAt } : {}),
  };
}

/** What a token list shows: never the secret nor its hash. */
function tokenView(t: Token): TokenView {
  return {
    id: t.id,
    scopes: t.scopes,
    createdAt: t.createdAt,
    lastUsedAt: t.lastUsedAt,
    ...(t.revokedAt !== null ? { revokedAt: t.revokedAt } : {}),
  };
}

function partyView(p: Party, keys: readonly PartyKey[]): PartyView {
  return {
    gln: p.gln,
    name: p.name,
    roles: p.roles,
    prefixes: p.prefixes,
    status: p.status,
    keys: keys.map(keyView),
  };
}

async function loadPartyView(q: Queryable, gln: string): Promise<PartyView> {
  const party = await getParty(q, gln);
  if (!party) throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
  return partyView(party, await listKeysByParty(q, gln));
}

// ---------------------------------------------------------------------------
// Authorisation helpers (DESIGN §8: a party token never acts as another party).

function requireAdmin(req: Request): Principal {
  const p = principalOf(req);
  if (!p.isAdmin)
    throw forbidden('This endpoint needs a token with the "admin" scope.', {
      slug: 'insufficient-scope',
    });
  return p;
}

/**
 * Admin, or party `gln` itself with the `keys` scope (DESIGN §5: a `sign`
 * token alone may not manage keys or tokens), not suspended unless `evenSuspended`.
 */
function requireAdminOrParty(req: Request, gln: string, evenSuspended: boolean): Principal {
  const p = principalOf(req);
  if (p.isAdmin) return p;
  if (p.gln !== gln) throw forbidden('This token may not act for another party.');
  if (!p.scopes.includes('keys'))
    throw forbidden('This endpoint needs a token with the "keys" scope.', {
      slug: 'insufficient-scope',
    });
  if (p.suspended && !evenSuspended)
    throw forbidden('The party is suspended.', { slug: 'party-suspended' });
  return p;
}

/**
 * DESIGN §5 (issue 10 #4): a company prefix that is a prefix of another
 * party's, or has one as its prefix, would let one party commission, recall
 * and pack under the other's GTINs and SSCCs: 409.
 */
async function assertNoPrefixOverlap(
  q: Queryable,
  prefixes: readonly string[],
  gln: string,
): Promise<void> {
  const overlaps = await findPrefixOverlaps(q, prefixes, gln);
  const first = overlaps[0];
  if (!first) return;
  throw conflict(
    `Company prefix ${first.conflictsWith} overlaps prefix ${first.prefix} of party ${first.gln}.`,
    {
      slug: 'prefix-overlap',
      errors: overlaps.slice(0, 100).map((o) => ({
        path: `body.prefixes[${prefixes.indexOf(o.conflictsWith)}]`,
        rule: 'prefix-overlap',
        message: `overlaps ${o.prefix} of ${o.gln}`,
      })),
    },
  );
}

function nowIso(): string {
  return new Date().toISOString();
}

/**
 * DESIGN §5 proof of possession (issue 10 #7): `proof` is the key's signature
 * over JCS({gln, publicKey, purpose, time}), `time` within 5 minutes of our
 * clock. The proof may sign the publicKey text as sent or its canonical
 * base64url: both name the same 32 bytes.
 * @throws HttpProblem 422 `proof-stale` / `proof-invalid`.
 */
function assertPossession(
  gln: string,
  publicKeyText: string,
  raw: Uint8Array,
  time: string,
  proof: string,
): void {
  const t = Date.parse(time.toUpperCase());
  if (Math.abs(t - Date.now()) > KEY_REGISTRATION_SKEW_MS)
    throw unprocessable('body.time: the proof must be made within 5 minutes of the server clock.', {
      slug: 'proof-stale',
      errors: [{ path: 'body.time', rule: 'fresh', message: 'more than 5 minutes from now' }],
    });
  const texts = new Set([publicKeyText, toBase64Url(raw)]);
  const ok = [...texts].some((text) =>
    verifyKeyRegistration(gln, text, raw, time, proof, nodeBackend),
  );
  if (!ok)
    throw unprocessable(
      'body.proof: not a signature by this key over the registration of this key for this party.',
      {
        slug: 'proof-invalid',
        errors: [
          {
            path: 'body.proof',
            rule: 'proof-of-possession',
            message: 'does not verify for this gln, publicKey and time',
          },
        ],
      },
    );
}

/** A unique violation inside `apply` is a lost race with a twin request: 409. */
function onDuplicate<T>(what: string, p: Promise<T>): Promise<T> {
  return p.catch((err: unknown) => {
    if (err instanceof UniqueViolationError) throw conflict(`${what} already exists.`);
    throw err;
  });
}

// ---------------------------------------------------------------------------
// OpenAPI.

function register(deps: RouteDeps<IssuerDeps>): void {
  const o = deps.openapi;
  const security = [{ [BEARER_AUTH]: [] }];
  const json = (description: string, schema: z.ZodType) => ({
    description,
    content: { 'application/json': { schema } },
  });
  // Every registry write but token issuance honours Idempotency-Key (idempotentWrite).
  const body = (schema: z.ZodType, idempotent = true) => ({
    ...(idempotent ? { headers: IdempotencyHeaders } : {}),
    body: { content: { 'application/json': { schema } } },
  });
  const party = o.register('RegistryParty', strictApi.party.clone());
  const common = {
    400: problemResponse('Invalid request (names the field and rule)'),
    401: problemResponse('No or unknown token'),
    403: problemResponse('Missing scope, or acting for another party'),
  };
  o.registerPath({
    method: 'post',
    path: '/v1/parties',
    summary: 'Register a party (admin); logs a party notice signed by the registry authority',
    security,
    request: body(o.register('NewParty', PartyBody.clone())),
    responses: {
      201: json('Registered', party),
      ...common,
      409: problemResponse('GLN taken, or a company prefix overlaps another party'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/parties/{gln}',
    summary: 'A party, its keys (public parts only) and status (any token)',
    security,
    request: { params: GlnParams },
    responses: { 200: json('The party', party), ...common, 404: problemResponse('Unknown party') },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/parties/{gln}/keys',
    summary:
      'Register a public key with its proof of possession {publicKey, time, proof}, or {custodial: true} to have the service generate and seal one (admin, or the party with keys scope)',
    security,
    request: { params: GlnParams, ...body(KeyBody) },
    responses: {
      201: json('Registered', strictApi.registeredKey),
      ...common,
      404: problemResponse('Unknown party'),
      409: problemResponse('kid already registered'),
      422: problemResponse('Proof of possession stale or not verifying'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/parties/{gln}/tokens',
    summary:
      'Issue a bearer token for the party (admin); shown only in this answer, with its id. Scopes sign, verify, keys.',
    security,
    request: { params: GlnParams, ...body(TokenBody, false) },
    responses: {
      201: json('Issued', strictApi.issuedToken),
      ...common,
      404: problemResponse('Unknown party'),
    },
  });
  const tokenView = o.register('TokenInfo', strictApi.tokenInfo.clone());
  o.registerPath({
    method: 'get',
    path: '/v1/parties/{gln}/tokens',
    summary:
      "The party's tokens: id, scopes, createdAt, lastUsedAt (never the secret) (admin, or the party with keys scope)",
    security,
    request: { params: GlnParams },
    responses: {
      200: json('The tokens', z.object({ tokens: z.array(tokenView) })),
      ...common,
      404: problemResponse('Unknown party'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/tokens/{id}/revoke',
    summary:
      'Revoke a token at once (admin, or its party with keys scope); it answers 401 from the next request',
    security,
    request: { params: TokenParams },
    responses: {
      200: json('Revoked', tokenView),
      ...common,
      404: problemResponse('Unknown token, or another party'),
      409: problemResponse('Already revoked'),
    },
  });
  for (const action of ['suspend', 'reinstate'] as const)
    o.registerPath({
      method: 'post',
      path: `/v1/parties/{gln}/${action}`,
      summary: `${action === 'suspend' ? 'Suspend (vendor-risk hold)' : 'Reinstate'} a party (admin); logs a party-${action} notice`,
      security,
      request: { params: GlnParams, ...body(StatusBody) },
      responses: {
        200: json('The party', party),
        ...common,
        404: problemResponse('Unknown party'),
      },
    });
  o.registerPath({
    method: 'post',
    path: '/v1/keys/{kid}/revoke',
    summary:
      'Revoke a key (admin, or its party with keys scope); records logged at or after compromisedAt (receipt time) are invalid; compromisedAt lies between the key registration receipt time and now + 5 min (422 otherwise). The key-revoke notice is signed by the registry authority.',
    security,
    request: { params: KidParams, ...body(RevokeBody) },
    responses: {
      200: json('Revoked', strictApi.revokedKey),
      ...common,
      404: problemResponse('Unknown key'),
      409: problemResponse('Already revoked'),
      422: problemResponse('compromisedAt out of range'),
    },
  });
}

// ---------------------------------------------------------------------------
// Routes.

/** Registers the registry endpoints (DESIGN §8a). */
export const registryRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  const { db, config } = deps;
  register(deps);
  const authorityNotice = (n: AuthorityNoticeBody) => signAuthorityNotice(config.masterKey, n);

  router.post('/v1/parties', async (req, res) => {
    requireAdmin(req);
    const b = parse(PartyBody, req.body, 'body');
    await idempotentWrite(req, res, deps, async () => {
      if (await getParty(db, b.gln))
        throw conflict(`A party with GLN ${b.gln} is already registered.`, {
          slug: 'party-exists',
        });
      await assertNoPrefixOverlap(db, b.prefixes, b.gln);
      let created: Party | null = null;
      return {
        entries: [
          authorityNotice({
            v: 1,
            type: 'party',
            time: nowIso(),
            data: { gln: b.gln, name: b.name, roles: b.roles, prefixes: b.prefixes },
          }),
        ],
        answer: () => ({ status: 201, body: partyView(created!, []) }),
        apply: async (tx) => {
          // Again under the log lock: two racing registrations cannot both take overlapping prefixes.
          await assertNoPrefixOverlap(tx, b.prefixes, b.gln);
          created = await onDuplicate(`A party with GLN ${b.gln}`, insertParty(tx, b));
        },
      };
    });
  });

  router.get('/v1/parties/:gln', async (req, res) => {
    principalOf(req);
    const { gln } = parse(GlnParams, req.params, 'params');
    res.json(await loadPartyView(db, gln));
  });

  router.post('/v1/parties/:gln/keys', async (req, res) => {
    const { gln } = parse(GlnParams, req.params, 'params');
    requireAdminOrParty(req, gln, false);
    const b = parse(KeyBody, req.body, 'body');
    if (!(await getParty(db, gln)))
      throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });

    let publicKey: Uint8Array | null = null;
    if ('publicKey' in b) {
      const raw = b.publicKey.length <= 64 ? decodePublicKeyText(b.publicKey) : null;
      if (!raw)
        throw badRequest('body.publicKey: expected base64url of 32 bytes.', {
          errors: [{ path: 'body.publicKey', rule: 'base64url', message: 'not base64url' }],
        });
      const problem = publicKeyProblem(raw);
      if (problem)
        throw badRequest(`body.publicKey: ${problem.message}.`, {
          errors: [{ path: 'body.publicKey', ...problem }],
        });
      assertPossession(gln, b.publicKey, raw, b.time, b.proof);
      publicKey = raw;
    }
    await idempotentWrite(req, res, deps, async () => {
      if (!(await getParty(db, gln)))
        throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
      let pk = publicKey;
      let sealed: Uint8Array | null = null;
      if (pk === null) {
        // DESIGN §8: the seed is sealed under the master key, bound to its kid; it never leaves.
        const pair = generateKeyPair(nodeBackend);
        pk = pair.publicKey;
        sealed = seal(pair.seed, config.masterKey, keyAad(keyId(pk)));
        pair.seed.fill(0);
      }
      const kid = keyId(pk);
      if (await getKey(db, kid))
        throw conflict(`A key with kid ${kid} is already registered.`, { slug: 'key-exists' });
      const row = { kid, gln, publicKey: pk, sealedPrivateKey: sealed };
      const view = { kid, publicKey: toBase64Url(pk) };
      return {
        entries: [authorityNotice({ v: 1, type: 'key', time: nowIso(), data: { gln, ...view } })],
        answer: () => ({ status: 201, body: view }),
        apply: async (tx) => {
          await onDuplicate(`A key with kid ${kid}`, insertKey(tx, row));
        },
      };
    });
  });

  router.post('/v1/parties/:gln/tokens', async (req, res) => {
    requireAdmin(req);
    const { gln } = parse(GlnParams, req.params, 'params');
    const b = parse(TokenBody, req.body, 'body');
    if (b.scopes.includes('admin'))
      throw badRequest('body.scopes: a party token cannot carry the "admin" scope.', {
        errors: [
          {
            path: 'body.scopes',
            rule: 'party-scope',
            message: 'admin is reserved to the operator token',
          },
        ],
      });
    if (!(await getParty(db, gln)))
      throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
    // DESIGN §8: only the SHA-256 is stored; the token is in this answer and nowhere else.
    const { token, hash } = newToken();
    const row = await insertToken(db, { tokenHash: hash, gln, scopes: b.scopes });
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ id: row.id, token, scopes: b.scopes });
  });

  // DESIGN §5, §8a: a party sees and revokes its own tokens (scope `keys`), never their secrets.
  router.get('/v1/parties/:gln/tokens', async (req, res) => {
    const { gln } = parse(GlnParams, req.params, 'params');
    requireAdminOrParty(req, gln, true);
    if (!(await getParty(db, gln)))
      throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
    res.setHeader('Cache-Control', 'no-store');
    res.json({ tokens: (await listTokensByParty(db, gln)).map(tokenView) });
  });

  router.post('/v1/tokens/:id/revoke', async (req, res) => {
    principalOf(req);
    const { id } = parse(TokenParams, req.params, 'params');
    const token = await getTokenById(db, id);
    // Someone else's token (or the operator's) answers as if unknown.
    const p = principalOf(req);
    if (!token || (!p.isAdmin && (token.gln === null || token.gln !== p.gln)))
      throw notFound(`No token with id ${id}.`, { slug: 'token-not-found' });
    if (token.gln !== null) requireAdminOrParty(req, token.gln, true);
    if (!(await revokeTokenById(db, id)))
      throw conflict(`Token ${id} is already revoked.`, { slug: 'token-already-revoked' });
    const revoked = await getTokenById(db, id);
    res.json(tokenView(revoked!));
  });

  const statusRoute = (action: 'suspend' | 'reinstate', status: PartyStatus) => {
    router.post(`/v1/parties/:gln/${action}`, async (req, res) => {
      requireAdmin(req);
      const { gln } = parse(GlnParams, req.params, 'params');
      const b = parse(StatusBody, req.body ?? {}, 'body');
      await idempotentWrite(req, res, deps, async () => {
        const party = await getParty(db, gln);
        if (!party) throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
        if (party.status === status) return { status: 200, body: await loadPartyView(db, gln) };
        let view: PartyView | null = null;
        return {
          entries: [
            authorityNotice({
              v: 1,
              type: action === 'suspend' ? 'party-suspend' : 'party-reinstate',
              time: nowIso(),
              data: { gln, ...(b.reason !== undefined ? { reason: b.reason } : {}) },
            }),
          ],
          answer: () => ({ status: 200, body: view }),
          apply: async (tx) => {
            const updated = await setPartyStatus(tx, gln, status);
            if (!updated) throw notFound(`No party with GLN ${gln}.`, { slug: 'party-not-found' });
            view = partyView(updated, await listKeysByParty(tx, gln));
          },
        };
      });
      // A suspended party's custodial signing stops now, not at the cache's expiry.
      deps.signer.forget(gln);
    });
  };
  statusRoute('suspend', 'suspended');
  statusRoute('reinstate', 'active');

  router.post('/v1/keys/:kid/revoke', async (req, res) => {
    principalOf(req);
    const { kid } = parse(KidParams, req.params, 'params');
    const b = parse(RevokeBody, req.body, 'body');
    const key = await getKey(db, kid);
    // The authority's own key (gln null) is not a party key: it is not revoked through the API.
    if (!key || key.gln === null)
      throw notFound(`No party key with kid ${kid}.`, { slug: 'key-not-found' });
    requireAdminOrParty(req, key.gln, true);
    const at = Date.parse(b.compromisedAt.toUpperCase());
    await assertCompromisedAtInRange(db, kid, at, 'body.compromisedAt');
    const compromisedAt = new Date(at).toISOString();
    const gln = key.gln;
    try {
      await idempotentWrite(req, res, deps, async () => {
        const current = await getKey(db, kid);
        if (current?.status === 'revoked')
          throw conflict(
            `Key ${kid} is already revoked (compromisedAt ${current.compromisedAt ?? 'unset'}).`,
            { slug: 'key-already-revoked', extra: { kid, compromisedAt: current.compromisedAt } },
          );
        return {
          entries: [
            authorityNotice({
              v: 1,
              type: 'key-revoke',
              time: nowIso(),
              data: { kid, compromisedAt, reason: b.reason },
            }),
          ],
          answer: () => ({ status: 200, body: { kid, status: 'revoked', compromisedAt } }),
          apply: async (tx) => {
            const revoked = await revokeKey(tx, kid, { compromisedAt, reason: b.reason });
            if (!revoked)
              throw conflict(`Key ${kid} is already revoked.`, { slug: 'key-already-revoked' });
          },
        };
      });
    } finally {
      // Drop any unsealed seed of this party at once (DESIGN §8 custodial keys).
      deps.signer.forget(gln);
    }
  });
};
