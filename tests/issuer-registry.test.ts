// The registry endpoints (DESIGN §8a: parties, keys, tokens, suspension, key
// revocation) against a real database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set), through HTTP. No mocks.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import type { Response } from 'supertest';
import {
  fromBase64,
  fromHex,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  parseNoticePayload,
  sha256,
  toBase64,
  toBase64Url,
  toHex,
  utf8,
  type Notice,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { getLogSize } from '@provenant/store';
import { authorityKey, keyAad, unseal } from '@provenant/issuer';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100010');
const DIST = withCheckDigit('061414100011');
const SPARE = withCheckDigit('061414100012');
const wrongCheckDigit = (gln: string) => gln.slice(0, 12) + String((Number(gln[12]) + 1) % 10);

describe('the registry endpoints', () => {
  let issuer: TestIssuer;
  let admin: string;
  let mfrToken: string;
  let mfrVerifyOnly: string;
  let distToken: string;
  /** Every response body seen, to prove no secret ever left the service. */
  const seen: string[] = [];

  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const track = (res: Response): Response => {
    seen.push(res.text ?? '');
    return res;
  };
  const post = async (path: string, token: string | null, body?: unknown, headers = {}) =>
    track(
      await request(issuer.app)
        .post(path)
        .set(token ? { ...auth(token), ...headers } : headers)
        .send(body as object),
    );
  const get = async (path: string, token: string | null) =>
    track(
      await request(issuer.app)
        .get(path)
        .set(token ? auth(token) : {}),
    );

  /** Notices of `type` in the log, decoded from their stored payloads. */
  async function notices(type: string): Promise<Notice[]> {
    const { rows } = await issuer.db.query<{ payload: Uint8Array }>(
      'SELECT payload FROM notices WHERE type = $1 ORDER BY leaf_idx',
      [type],
    );
    return rows.map((r) => {
      const p = parseNoticePayload(new Uint8Array(r.payload));
      if (!p.ok) throw new Error('stored notice does not parse');
      return p.notice;
    });
  }

  beforeAll(async () => {
    issuer = await startTestIssuer();
    admin = issuer.adminToken;
    for (const [gln, roles, prefixes] of [
      [MFR, ['manufacturer'], ['0614141']],
      [DIST, ['distributor'], []],
    ] as const) {
      await post('/v1/parties', admin, { gln, name: `Party ${gln}`, roles, prefixes }).then((r) =>
        expect(r.status).toBe(201),
      );
    }
    mfrToken = (
      await post(`/v1/parties/${MFR}/tokens`, admin, { scopes: ['sign', 'verify', 'keys'] })
    ).body.token;
    mfrVerifyOnly = (await post(`/v1/parties/${MFR}/tokens`, admin, { scopes: ['verify'] })).body
      .token;
    distToken = (
      await post(`/v1/parties/${DIST}/tokens`, admin, { scopes: ['sign', 'verify', 'keys'] })
    ).body.token;
  });
  afterAll(async () => {
    await issuer?.stop();
  });

  describe('POST /v1/parties', () => {
    it('registers a party and logs a party notice signed by the registry authority', async () => {
      const size = await getLogSize(issuer.db);
      const res = await post('/v1/parties', admin, {
        gln: SPARE,
        name: 'Spare Logistics',
        roles: ['3pl', 'distributor'],
        prefixes: [],
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        gln: SPARE,
        name: 'Spare Logistics',
        roles: ['3pl', 'distributor'],
        prefixes: [],
        status: 'active',
        keys: [],
      });
      expect(await getLogSize(issuer.db)).toBe(size + 1);
      const logged = (await notices('party')).find(
        (n) => n.type === 'party' && n.data.gln === SPARE,
      )!;
      expect(logged).toMatchObject({
        actor: 'authority',
        kid: authorityKey(issuer.config.masterKey).kid,
      });
      expect(logged.data).toEqual({
        gln: SPARE,
        name: 'Spare Logistics',
        roles: ['3pl', 'distributor'],
        prefixes: [],
      });
    });

    it('answers 409 for a GLN already registered, and logs nothing', async () => {
      const size = await getLogSize(issuer.db);
      const res = await post('/v1/parties', admin, {
        gln: MFR,
        name: 'Again',
        roles: ['manufacturer'],
        prefixes: [],
      });
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await getLogSize(issuer.db)).toBe(size);
    });

    it.each([
      ['a bad GLN check digit', { gln: wrongCheckDigit(SPARE) }, 'body.gln', 'check-digit'],
      ['an unknown field', { extra: 1 }, 'body.extra', 'unrecognized_keys'],
      ['an unknown role', { roles: ['wholesaler'] }, 'body.roles[0]', 'invalid_value'],
      ['a 5-digit company prefix', { prefixes: ['12345'] }, 'body.prefixes[0]', 'invalid_format'],
      ['no roles', { roles: [] }, 'body.roles', 'too_small'],
    ])('answers 400 naming the field for %s', async (_what, patch, path, rule) => {
      const body = {
        gln: withCheckDigit('061414100099'),
        name: 'X',
        roles: ['dispenser'],
        prefixes: [],
        ...patch,
      };
      const res = await post('/v1/parties', admin, body);
      expect(res.status).toBe(400);
      expect(res.body.errors).toContainEqual(expect.objectContaining({ path, rule }));
    });

    it('answers 401 without a token and 403 for a party token', async () => {
      const body = {
        gln: withCheckDigit('061414100098'),
        name: 'X',
        roles: ['dispenser'],
        prefixes: [],
      };
      expect((await post('/v1/parties', null, body)).status).toBe(401);
      const res = await post('/v1/parties', mfrToken, body);
      expect(res.status).toBe(403);
      expect(res.body.type).toBe('urn:provenant:problem:insufficient-scope');
    });

    it('replays an Idempotency-Key answer and refuses the key with another body (422)', async () => {
      const gln = withCheckDigit('061414100097');
      const body = { gln, name: 'Idem', roles: ['dispenser'], prefixes: [] };
      const first = await post('/v1/parties', admin, body, { 'Idempotency-Key': 'party-97' });
      expect(first.status).toBe(201);
      const size = await getLogSize(issuer.db);
      const again = await post('/v1/parties', admin, body, { 'Idempotency-Key': 'party-97' });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await getLogSize(issuer.db)).toBe(size);
      const other = await post(
        '/v1/parties',
        admin,
        { ...body, name: 'Other' },
        { 'Idempotency-Key': 'party-97' },
      );
      expect(other.status).toBe(422);
      expect(other.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
    });
  });

  describe('GET /v1/parties/{gln}', () => {
    it('shows the party, its keys and status to any token', async () => {
      const res = await get(`/v1/parties/${MFR}`, distToken);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        gln: MFR,
        roles: ['manufacturer'],
        prefixes: ['0614141'],
        status: 'active',
      });
      expect(Array.isArray(res.body.keys)).toBe(true);
    });

    it('answers 401 without a token, 404 for an unknown party and 400 for a bad GLN', async () => {
      expect((await get(`/v1/parties/${MFR}`, null)).status).toBe(401);
      expect((await get(`/v1/parties/${withCheckDigit('061414100090')}`, distToken)).status).toBe(
        404,
      );
      const bad = await get(`/v1/parties/${wrongCheckDigit(MFR)}`, distToken);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]).toMatchObject({ path: 'params.gln', rule: 'check-digit' });
    });
  });

  describe('POST /v1/parties/{gln}/tokens', () => {
    it('issues a token once, stores only its SHA-256, and the token authenticates', async () => {
      const res = await post(`/v1/parties/${DIST}/tokens`, admin, { scopes: ['verify'] });
      expect(res.status).toBe(201);
      expect(res.body.scopes).toEqual(['verify']);
      const token: string = res.body.token;
      const { rows } = await issuer.db.query<{ token_hash: Uint8Array }>(
        'SELECT token_hash FROM tokens WHERE gln = $1',
        [DIST],
      );
      const hashes = rows.map((r) => toHex(new Uint8Array(r.token_hash)));
      expect(hashes).toContain(toHex(sha256(utf8(token))));
      const dump = JSON.stringify(
        (await issuer.db.query('SELECT * FROM tokens')).rows.map((r) =>
          Object.values(r).map(String),
        ),
      );
      expect(dump).not.toContain(token);
      expect((await get(`/v1/parties/${MFR}`, token)).status).toBe(200);
    });

    it('refuses the admin scope for a party token (400) and non-admins (403)', async () => {
      const res = await post(`/v1/parties/${DIST}/tokens`, admin, { scopes: ['sign', 'admin'] });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.scopes', rule: 'party-scope' });
      expect(
        (await post(`/v1/parties/${DIST}/tokens`, distToken, { scopes: ['sign'] })).status,
      ).toBe(403);
      const unknown = await post(`/v1/parties/${DIST}/tokens`, admin, { scopes: ['read'] });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors[0].path).toBe('body.scopes[0]');
    });
  });

  /** A key registration body with its proof of possession (DESIGN §5). */
  const proven = (gln: string, pair: { seed: Uint8Array; publicKey: Uint8Array }) =>
    keyRegistrationBody(gln, pair.seed, pair.publicKey, new Date().toISOString(), nodeBackend);

  describe('POST /v1/parties/{gln}/keys', () => {
    it('registers a client-held public key for the party itself and logs a key notice', async () => {
      const pair = generateKeyPair(nodeBackend);
      const publicKey = toBase64Url(pair.publicKey);
      const res = await post(`/v1/parties/${MFR}/keys`, mfrToken, proven(MFR, pair));
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ kid: keyId(pair.publicKey), publicKey });
      const logged = (await notices('key')).find(
        (n) => n.type === 'key' && n.data.kid === res.body.kid,
      )!;
      expect(logged.actor).toBe('authority');
      expect(logged.data).toEqual({ gln: MFR, kid: res.body.kid, publicKey });
      const party = await get(`/v1/parties/${MFR}`, distToken);
      expect(party.body.keys).toContainEqual(
        expect.objectContaining({
          kid: res.body.kid,
          publicKey,
          status: 'active',
          custodial: false,
        }),
      );
      // The same key again: 409, nothing logged.
      const size = await getLogSize(issuer.db);
      expect((await post(`/v1/parties/${MFR}/keys`, admin, proven(MFR, pair))).status).toBe(409);
      expect(await getLogSize(issuer.db)).toBe(size);
    });

    const small = new Uint8Array(32);
    small[0] = 1; // the identity point: small order
    const nonCanonical = fromHex(
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    )!; // y = p
    const offCurve = new Uint8Array(32);
    offCurve[0] = 2; // y = 2 has no x on Ed25519
    it.each([
      ['bad base64url', 'abc$def', 'base64url'],
      [
        'base64url with a stray padding character',
        toBase64Url(new Uint8Array(33)) + '=',
        'base64url',
      ],
      ['mixed alphabets', '-' + toBase64(fromHex('fb'.repeat(32))!).slice(1), 'base64url'],
      ['a 31-byte key', toBase64Url(new Uint8Array(31).fill(3)), 'length'],
      ['a small-order key', toBase64Url(small), 'point'],
      ['a non-canonical key', toBase64Url(nonCanonical), 'point'],
      ['a point off the curve', toBase64Url(offCurve), 'point'],
    ])('answers 400 naming body.publicKey for %s', async (_what, publicKey, rule) => {
      const size = await getLogSize(issuer.db);
      // A well-formed proof field, so the key itself is what is judged.
      const res = await post(`/v1/parties/${MFR}/keys`, mfrToken, {
        publicKey,
        time: new Date().toISOString(),
        proof: 'A'.repeat(86),
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.publicKey', rule });
      expect(await getLogSize(issuer.db)).toBe(size);
    });

    it.each([
      ['padded base64url', (k: Uint8Array) => toBase64Url(k) + '='],
      ['standard base64', (k: Uint8Array) => toBase64(k)],
    ])('registers a key given as %s, and lists it as base64url', async (_what, spell) => {
      // 0xfb bytes spell '+' and '/' in standard base64 and '-' and '_' in base64url.
      let pair = generateKeyPair();
      while (!/[+/]/.test(toBase64(pair.publicKey))) pair = generateKeyPair();
      const key = pair.publicKey;
      const res = await post(`/v1/parties/${MFR}/keys`, admin, {
        ...proven(MFR, pair),
        publicKey: spell(key),
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ kid: keyId(key), publicKey: toBase64Url(key) });
    });

    it('answers 400 for both forms at once and for custodial: false', async () => {
      const publicKey = toBase64Url(generateKeyPair().publicKey);
      expect(
        (await post(`/v1/parties/${MFR}/keys`, admin, { publicKey, custodial: true })).status,
      ).toBe(400);
      expect((await post(`/v1/parties/${MFR}/keys`, admin, { custodial: false })).status).toBe(400);
    });

    it('refuses another party (403), a token without keys (403) and an unknown party (404)', async () => {
      const pair = generateKeyPair();
      const other = await post(`/v1/parties/${MFR}/keys`, distToken, proven(MFR, pair));
      expect(other.status).toBe(403);
      expect(other.body.type).toBe('urn:provenant:problem:forbidden');
      expect((await post(`/v1/parties/${MFR}/keys`, mfrVerifyOnly, proven(MFR, pair))).status).toBe(
        403,
      );
      const nobody = withCheckDigit('061414100091');
      expect((await post(`/v1/parties/${nobody}/keys`, admin, proven(nobody, pair))).status).toBe(
        404,
      );
    });

    it('generates and seals a custodial key that no endpoint ever returns', async () => {
      const res = await post(`/v1/parties/${DIST}/keys`, distToken, { custodial: true });
      expect(res.status).toBe(201);
      const { kid, publicKey } = res.body as { kid: string; publicKey: string };
      expect(kid).toBe(
        keyId(new Uint8Array(fromBase64(publicKey.replace(/-/g, '+').replace(/_/g, '/') + '=')!)),
      );
      const { rows } = await issuer.db.query<{ sealed_private_key: Uint8Array }>(
        'SELECT sealed_private_key FROM party_keys WHERE kid = $1',
        [kid],
      );
      const sealed = new Uint8Array(rows[0]!.sealed_private_key);
      const seed = unseal(sealed, issuer.config.masterKey, keyAad(kid));
      expect(toBase64Url(nodeBackend.publicKeyFromSeed(seed))).toBe(publicKey);
      const party = await get(`/v1/parties/${DIST}`, mfrToken);
      expect(party.body.keys).toContainEqual(expect.objectContaining({ kid, custodial: true }));
      await get('/openapi.json', null);
      const secrets = [sealed, seed].flatMap((b) => [toHex(b), toBase64(b), toBase64Url(b)]);
      for (const text of seen) for (const s of secrets) expect(text).not.toContain(s);
      expect(seen.join('\n')).not.toMatch(/sealed|privateKey|seed/i);
    });
  });

  describe('suspension', () => {
    it('suspends a party (logged), refuses its signing, and reinstates it (logged)', async () => {
      const size = await getLogSize(issuer.db);
      const res = await post(`/v1/parties/${DIST}/suspend`, admin, {
        reason: 'vendor-risk review',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ gln: DIST, status: 'suspended' });
      expect(await getLogSize(issuer.db)).toBe(size + 1);
      expect((await notices('party-suspend')).at(-1)!.data).toEqual({
        gln: DIST,
        reason: 'vendor-risk review',
      });
      // A suspended party's sign-scoped writes are refused; it may still read.
      const write = await post('/v1/records', distToken, {});
      expect(write.status).toBe(403);
      expect(write.body.type).toBe('urn:provenant:problem:party-suspended');
      expect((await post(`/v1/parties/${DIST}/keys`, distToken, { custodial: true })).status).toBe(
        403,
      );
      expect((await get(`/v1/parties/${DIST}`, distToken)).body.status).toBe('suspended');
      // Suspending again changes nothing and logs nothing.
      expect((await post(`/v1/parties/${DIST}/suspend`, admin)).status).toBe(200);
      expect(await getLogSize(issuer.db)).toBe(size + 1);

      const back = await post(`/v1/parties/${DIST}/reinstate`, admin, {});
      expect(back.status).toBe(200);
      expect(back.body.status).toBe('active');
      expect((await notices('party-reinstate')).at(-1)!.data).toEqual({ gln: DIST });
      expect(await getLogSize(issuer.db)).toBe(size + 2);
    });

    it('is for admins only, with a strict body', async () => {
      expect((await post(`/v1/parties/${DIST}/suspend`, distToken, {})).status).toBe(403);
      const bad = await post(`/v1/parties/${DIST}/suspend`, admin, { why: 'x' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('body.why');
      expect(
        (await post(`/v1/parties/${withCheckDigit('061414100092')}/suspend`, admin, {})).status,
      ).toBe(404);
    });
  });

  describe('POST /v1/keys/{kid}/revoke', () => {
    it('lets a party revoke its own key, logs an authority-signed key-revoke, and refuses a second revocation', async () => {
      const pair = generateKeyPair(nodeBackend);
      const kid = (await post(`/v1/parties/${MFR}/keys`, mfrToken, proven(MFR, pair))).body
        .kid as string;
      // A whole second just after the registration, written with a +01:00 offset.
      const at = new Date(Math.ceil((Date.now() + 1) / 1000) * 1000);
      const utc = at.toISOString();
      const local = new Date(at.getTime() + 3_600_000).toISOString().slice(0, 19) + '+01:00';
      const res = await post(`/v1/keys/${kid}/revoke`, mfrToken, {
        compromisedAt: local,
        reason: 'laptop stolen',
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ kid, status: 'revoked', compromisedAt: utc });
      const logged = (await notices('key-revoke')).at(-1)!;
      expect(logged).toMatchObject({
        actor: 'authority',
        data: { kid, compromisedAt: utc, reason: 'laptop stolen' },
      });
      const party = await get(`/v1/parties/${MFR}`, mfrToken);
      const key = (party.body.keys as { kid: string }[]).find((k) => k.kid === kid);
      expect(key).toMatchObject({ status: 'revoked', compromisedAt: utc });
      expect(key).toHaveProperty('revokedAt');
      const again = await post(`/v1/keys/${kid}/revoke`, admin, {
        compromisedAt: new Date().toISOString(),
        reason: 'x',
      });
      expect(again.status).toBe(409);
    });

    it('refuses another party (403), unknown kids (404), bad times (400) and future ones (422)', async () => {
      const pair = generateKeyPair(nodeBackend);
      const kid = (await post(`/v1/parties/${MFR}/keys`, admin, proven(MFR, pair))).body
        .kid as string;
      const body = { compromisedAt: new Date().toISOString(), reason: 'x' };
      expect((await post(`/v1/keys/${kid}/revoke`, distToken, body)).status).toBe(403);
      expect((await post(`/v1/keys/${'0'.repeat(32)}/revoke`, admin, body)).status).toBe(404);
      expect((await post(`/v1/keys/not-a-kid/revoke`, admin, body)).status).toBe(400);
      const authority = authorityKey(issuer.config.masterKey).kid;
      expect((await post(`/v1/keys/${authority}/revoke`, admin, body)).status).toBe(404);
      const bad = await post(`/v1/keys/${kid}/revoke`, admin, {
        ...body,
        compromisedAt: 'yesterday',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toBe('body.compromisedAt');
      const future = await post(`/v1/keys/${kid}/revoke`, admin, {
        ...body,
        compromisedAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      expect(future.status).toBe(422);
      expect(future.body.errors[0]).toMatchObject({
        path: 'body.compromisedAt',
        rule: 'not-future',
      });
      const missing = await post(`/v1/keys/${kid}/revoke`, admin, {
        compromisedAt: body.compromisedAt,
      });
      expect(missing.status).toBe(400);
      expect(missing.body.errors[0].path).toBe('body.reason');
      // An admin may revoke any party key.
      expect((await post(`/v1/keys/${kid}/revoke`, admin, body)).status).toBe(200);
    });
  });

  it('documents every registry path in /openapi.json', async () => {
    const doc = (await get('/openapi.json', null)).body as { paths: Record<string, unknown> };
    for (const p of [
      '/v1/parties',
      '/v1/parties/{gln}',
      '/v1/parties/{gln}/keys',
      '/v1/parties/{gln}/tokens',
      '/v1/parties/{gln}/suspend',
      '/v1/parties/{gln}/reinstate',
      '/v1/keys/{kid}/revoke',
      '/v1/tokens/{id}/revoke',
      '/v1/witnesses',
    ])
      expect(Object.keys(doc.paths)).toContain(p);
  });
});
