// The issuer's HTTP framework (DESIGN §8) driven through createApp with a
// fake `db` (only `query`, for readiness) and a test route module. Route
// integration tests run against the real store instead. The test routes are
// in the app's API description like real ones, and every answer is checked
// against it (tests/support/contract.ts, issue 9).
import { describe, it, expect, beforeEach } from '@jest/globals';
import request from 'supertest';
import { z } from 'zod';
import { toHex } from '@provenant/core';
import { allowingUndeclaredPath, watchContract } from '../../../tests/support/contract.js';
import {
  assertActsAs,
  BEARER_AUTH,
  checkIdempotency,
  createApp,
  createLogger,
  idempotency,
  idempotencyContext,
  IdempotencyHeaders,
  newToken,
  parse,
  problemResponse,
  recordIdempotency,
  replay,
  requireParty,
  requireScope,
  unprocessable,
} from './index.js';
import type { IdempotencyStore, RouteModule, StoredResponse, TokenGrant } from './index.js';

const GLN_A = '0614141000005';
const GLN_B = '0614141000012';

function memoryIdempotencyStore(): IdempotencyStore & { rows: Map<string, StoredResponse> } {
  const rows = new Map<string, StoredResponse>();
  return {
    rows,
    async get(gln, key) {
      return rows.get(`${gln}\u0000${key}`) ?? null;
    },
    async put(gln, key, requestHash, status, response) {
      const k = `${gln}\u0000${key}`;
      if (rows.has(k))
        throw Object.assign(new Error('duplicate key'), { name: 'UniqueViolationError' });
      rows.set(k, { requestHash, status, response: JSON.parse(JSON.stringify(response)) });
    },
  };
}

class DatabaseUnavailableError extends Error {
  override name = 'DatabaseUnavailableError';
}

function setup(options: { dbDown?: boolean } = {}) {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (s: string) => void lines.push(s) });
  const tokens = new Map<string, TokenGrant>();
  const sign = newToken();
  const verifyOnly = newToken();
  const admin = newToken();
  tokens.set(toHex(sign.hash), { gln: GLN_A, scopes: ['sign', 'verify'] });
  tokens.set(toHex(verifyOnly.hash), { gln: GLN_A, scopes: ['verify'] });
  const store = memoryIdempotencyStore();
  let writes = 0;

  const Thing = z.strictObject({
    name: z.string().min(1),
    items: z.array(z.strictObject({ gtin: z.string().regex(/^\d{14}$/) })).max(10_000),
  });

  const json = (schema: z.ZodType) => ({ content: { 'application/json': { schema } } });
  const security = [{ [BEARER_AUTH]: [] }];
  const routes: RouteModule = (router, deps) => {
    const o = deps.openapi;
    o.registerPath({
      method: 'post',
      path: '/v1/things',
      summary: 'Create things',
      request: { body: json(o.register('ThingRequest', Thing)) },
      responses: {
        201: { description: 'Created', ...json(z.object({ name: z.string(), count: z.number() })) },
        400: problemResponse('Invalid request'),
      },
    });
    o.registerPath({
      method: 'get',
      path: '/v1/parties/{gln}/private',
      summary: 'A party-only read',
      security,
      request: { params: z.object({ gln: z.string() }) },
      responses: { 200: { description: 'Its GLN', ...json(z.object({ gln: z.string() })) } },
    });
    o.registerPath({
      method: 'post',
      path: '/v1/parties/{gln}/tokens',
      summary: 'An admin write',
      security,
      request: { params: z.object({ gln: z.string() }), body: json(z.object({})) },
      responses: { 201: { description: 'Done', ...json(z.object({ ok: z.literal(true) })) } },
    });
    o.registerPath({
      method: 'get',
      path: '/v1/boom',
      summary: 'Fails unexpectedly',
      responses: { 500: problemResponse('Unexpected failure') },
    });
    o.registerPath({
      method: 'get',
      path: '/v1/db-down',
      summary: 'Finds the database down',
      responses: {},
    });
    for (const path of ['/v1/writes', '/v1/writes-mw'])
      o.registerPath({
        method: 'post',
        path,
        summary: 'An idempotent write',
        security,
        request: { headers: IdempotencyHeaders, body: json(z.object({}).loose()) },
        responses: {
          201: { description: 'Written', ...json(z.object({ id: z.number().int() })) },
          422: problemResponse('Refused (reason codes)'),
        },
      });
    router.post('/v1/things', (req, res) => {
      const body = parse(Thing, req.body, 'body');
      res.status(201).json({ name: body.name, count: body.items.length });
    });
    router.get(
      '/v1/parties/:gln/private',
      requireScope('sign'),
      requireParty('gln'),
      (req, res) => {
        res.json({ gln: req.params.gln });
      },
    );
    router.post('/v1/parties/:gln/tokens', requireScope('admin'), (req, res) => {
      assertActsAs(req, String(req.params.gln), true);
      res.status(201).json({ ok: true });
    });
    router.get('/v1/boom', () => {
      throw new Error('relation "secret" does not exist: SELECT password FROM keys');
    });
    router.get('/v1/db-down', async () => {
      throw new DatabaseUnavailableError('connect ECONNREFUSED 127.0.0.1:5432');
    });
    // The helper form: check before the write, record with it.
    router.post('/v1/writes', requireScope('sign'), async (req, res) => {
      const ctx = idempotencyContext(req);
      if (ctx) {
        const stored = await checkIdempotency(store, ctx);
        if (stored) return replay(res, stored);
      }
      if (req.body?.refuse)
        throw unprocessable('refused', {
          slug: 'custody-violation',
          reasons: [{ code: 'CUSTODY_VIOLATION' }],
        });
      const answer = { id: ++writes };
      if (ctx) await recordIdempotency(store, ctx, 201, answer);
      res.status(201).json(answer);
    });
    router.post('/v1/writes-mw', requireScope('sign'), idempotency(store), (_req, res) => {
      res.status(201).json({ id: ++writes });
    });
  };

  const db = {
    async query(sql: string) {
      if (options.dbDown) throw new DatabaseUnavailableError('connect ECONNREFUSED');
      return { rows: [{ '?column?': 1, sql }] };
    },
  };
  const app = watchContract(
    createApp({
      db,
      logger,
      config: { bodyLimit: 64 * 1024, adminTokenHash: admin.hash },
      tokens: async (hash) => tokens.get(toHex(hash)) ?? null,
      routes: [routes],
    }),
  );
  return {
    app,
    lines,
    sign: sign.token,
    verifyOnly: verifyOnly.token,
    admin: admin.token,
    store,
    writes: () => writes,
  };
}

async function logLines(lines: string[], n = 1): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 50 && lines.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

function expectProblem(
  res: request.Response,
  status: number,
  slug: string,
): Record<string, unknown> {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text) as Record<string, unknown>;
  expect(body.type).toBe(`urn:provenant:problem:${slug}`);
  expect(body.status).toBe(status);
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack frames
  return body;
}

describe('the issuer HTTP framework', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(() => {
    t = setup();
  });

  describe('health and readiness', () => {
    it('answers healthz with ok and sets the security headers', async () => {
      const res = await request(t.app).get('/healthz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('answers readyz with ok when the database answers select 1', async () => {
      const res = await request(t.app).get('/readyz');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('answers readyz with 503 database-unavailable and Retry-After when the database is down', async () => {
      const down = setup({ dbDown: true });
      const res = await request(down.app).get('/readyz');
      const body = expectProblem(res, 503, 'database-unavailable');
      expect(res.headers['retry-after']).toBeDefined();
      expect(JSON.stringify(body)).not.toContain('ECONNREFUSED');
    });
  });

  describe('bad input', () => {
    it('answers malformed JSON with 400 malformed-json and no stack or body echo', async () => {
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'application/json')
        .send('{"name": "x", secret-token-abc');
      const body = expectProblem(res, 400, 'malformed-json');
      expect(res.text).not.toContain('secret-token-abc');
      expect(body.stack).toBeUndefined();
    });

    describe('when a number is an integer beyond ±(2^53−1) (I-JSON)', () => {
      it.each([
        ['{"n": 9007199254740993}', 'body.n'],
        ['{"name": "x", "items": [{"gtin": "1", "n": -1e20}]}', 'body.items[0].n'],
      ])('refuses %s with 400 naming %s, never rounding it', async (text, path) => {
        const res = await request(t.app)
          .post('/v1/things')
          .set('Authorization', `Bearer ${t.sign}`)
          .set('Content-Type', 'application/json')
          .send(text);
        const body = expectProblem(res, 400, 'invalid-request');
        expect(body.errors).toEqual([
          { path, rule: 'unsafe-integer', message: expect.stringContaining('2^53') },
        ]);
        expect(body.detail).toContain(path);
      });

      it('takes 9007199254740991 (the largest safe integer) to the route', async () => {
        const res = await request(t.app)
          .post('/v1/things')
          .set('Authorization', `Bearer ${t.sign}`)
          .set('Content-Type', 'application/json')
          .send('{"name": "x", "n": 9007199254740991}');
        // The route's strict schema then names the unknown field: the number got through.
        const body = expectProblem(res, 400, 'invalid-request');
        expect((body.errors as { path: string }[]).map((e) => e.path)).toContain('body.n');
        expect(JSON.stringify(body)).not.toContain('unsafe-integer');
      });
    });

    it('refuses a duplicate key with 400 naming it, before the route reads the body', async () => {
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'application/json')
        .send('{"name": "x", "name": "y"}');
      const body = expectProblem(res, 400, 'duplicate-key');
      expect(body.errors).toEqual([
        { path: 'body.name', rule: 'duplicate-key', message: 'duplicate key "name"' },
      ]);
    });

    it('refuses a body that is not UTF-8 JSON', async () => {
      const latin1 = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'application/json; charset=iso-8859-1')
        .send('{"name": "x"}');
      expectProblem(latin1, 415, 'unsupported-media-type');
      const bad = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'application/json')
        .serialize((b: unknown) => b as string)
        .send(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) as unknown as string);
      expectProblem(bad, 400, 'malformed-json');
      const scalar = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'application/json')
        .send('"just a string"');
      expectProblem(scalar, 400, 'malformed-json');
    });

    it('answers an unknown field with 400 invalid-request naming the field path', async () => {
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .send({
          name: 'x',
          items: [{ gtin: '09506000134352' }, { gtin: '09506000134352', colour: 'red' }],
        });
      const body = expectProblem(res, 400, 'invalid-request');
      expect(body.errors).toEqual([
        {
          path: 'body.items[1].colour',
          rule: 'unrecognized_keys',
          message: 'Unknown field "colour".',
        },
      ]);
    });

    it('answers a wrong type with the path and the zod rule', async () => {
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .send({ name: 7, items: [{ gtin: 'abc' }] });
      const body = expectProblem(res, 400, 'invalid-request');
      const errors = body.errors as { path: string; rule: string }[];
      expect(errors.map((e) => [e.path, e.rule])).toEqual([
        ['body.name', 'invalid_type'],
        ['body.items[0].gtin', 'invalid_format'],
      ]);
    });

    it('answers an oversize body with 413 payload-too-large', async () => {
      const items = Array.from({ length: 5000 }, () => ({ gtin: '09506000134352' }));
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .send({ name: 'big', items });
      expectProblem(res, 413, 'payload-too-large');
    });

    it('answers a non-JSON body on a write with 415 unsupported-media-type', async () => {
      const res = await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .set('Content-Type', 'text/plain')
        .send('name=x');
      expectProblem(res, 415, 'unsupported-media-type');
    });

    it('answers an unknown route with a 404 problem', async () => {
      const res = await allowingUndeclaredPath(/^\/v1\/nothing-here$/, () =>
        request(t.app).get('/v1/nothing-here'),
      );
      const body = expectProblem(res, 404, 'not-found');
      expect(body.instance).toBe('/v1/nothing-here');
    });

    it('answers an unexpected failure with a generic 500 that leaks no message, SQL or stack', async () => {
      const res = await request(t.app).get('/v1/boom');
      const body = expectProblem(res, 500, 'internal');
      expect(res.text).not.toMatch(/SELECT|password|relation/);
      expect(Object.keys(body).sort()).toEqual(['detail', 'instance', 'status', 'title', 'type']);
      const [line] = await logLines(t.lines);
      expect(line?.level).toBe(50);
      expect((line?.err as Record<string, unknown>).stack).toBeUndefined();
    });

    it('answers DatabaseUnavailableError from a route with 503 and Retry-After', async () => {
      const res = await request(t.app).get('/v1/db-down');
      expectProblem(res, 503, 'database-unavailable');
      expect(res.headers['retry-after']).toBe('2');
      expect(res.text).not.toContain('ECONNREFUSED');
    });
  });

  describe('authentication and authorisation', () => {
    it('answers 401 with WWW-Authenticate when no token is sent', async () => {
      const res = await request(t.app).get(`/v1/parties/${GLN_A}/private`);
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 invalid_token for an unknown token', async () => {
      const res = await request(t.app)
        .get(`/v1/parties/${GLN_A}/private`)
        .auth(newToken().token, { type: 'bearer' });
      expectProblem(res, 401, 'unauthorized');
      expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    });

    it('lets a party act for itself', async () => {
      const res = await request(t.app)
        .get(`/v1/parties/${GLN_A}/private`)
        .auth(t.sign, { type: 'bearer' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ gln: GLN_A });
    });

    it('answers 403 forbidden when a party token acts as another party', async () => {
      const res = await request(t.app)
        .get(`/v1/parties/${GLN_B}/private`)
        .auth(t.sign, { type: 'bearer' });
      expectProblem(res, 403, 'forbidden');
    });

    it('answers 403 insufficient-scope when the token lacks the scope', async () => {
      const res = await request(t.app)
        .get(`/v1/parties/${GLN_A}/private`)
        .auth(t.verifyOnly, { type: 'bearer' });
      expectProblem(res, 403, 'insufficient-scope');
    });

    it('lets the admin token act for any party where admin is allowed', async () => {
      const res = await request(t.app)
        .post(`/v1/parties/${GLN_B}/tokens`)
        .auth(t.admin, { type: 'bearer' })
        .send({});
      expect(res.status).toBe(201);
    });
  });

  describe('request logging', () => {
    it('writes one line with request id, party, route, status and duration, and never the token', async () => {
      const res = await request(t.app)
        .get(`/v1/parties/${GLN_A}/private?x=1`)
        .set('X-Request-Id', 'req-123')
        .auth(t.sign, { type: 'bearer' });
      expect(res.headers['x-request-id']).toBe('req-123');
      const lines = await logLines(t.lines);
      expect(lines).toHaveLength(1);
      const line = lines[0]!;
      expect(line.reqId).toBe('req-123');
      expect(line.gln).toBe(GLN_A);
      expect(line.route).toBe('/v1/parties/:gln/private');
      expect((line.res as { statusCode: number }).statusCode).toBe(200);
      expect(typeof line.responseTime).toBe('number');
      expect(t.lines.join('\n')).not.toContain(t.sign);
      expect(t.lines.join('\n')).not.toContain(t.sign.slice(4));
    });

    it('replaces an insane X-Request-Id with a generated one', async () => {
      const res = await request(t.app).get('/healthz').set('X-Request-Id', 'bad id\twith spaces');
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('logs no request body', async () => {
      await request(t.app)
        .post('/v1/things')
        .set('Authorization', `Bearer ${t.sign}`)
        .send({ name: 'body-marker-xyz', items: [] });
      await logLines(t.lines);
      expect(t.lines.join('\n')).not.toContain('body-marker-xyz');
    });
  });

  describe('Idempotency-Key', () => {
    it.each([
      ['the handler helper', '/v1/writes'],
      ['the middleware', '/v1/writes-mw'],
    ])('through %s, replays the stored answer for the same key and body', async (_name, path) => {
      const send = () =>
        request(t.app)
          .post(path)
          .auth(t.sign, { type: 'bearer' })
          .set('Idempotency-Key', 'k-1')
          .send({ n: 1 });
      const first = await send();
      expect(first.status).toBe(201);
      const second = await send();
      expect(second.status).toBe(201);
      expect(second.body).toEqual(first.body);
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(t.writes()).toBe(1);
    });

    it.each([
      ['the handler helper', '/v1/writes'],
      ['the middleware', '/v1/writes-mw'],
    ])(
      'through %s, answers 422 idempotency-key-reused for the same key with another body',
      async (_name, path) => {
        const post = (body: object) =>
          request(t.app)
            .post(path)
            .auth(t.sign, { type: 'bearer' })
            .set('Idempotency-Key', 'k-2')
            .send(body);
        expect((await post({ n: 1 })).status).toBe(201);
        expectProblem(await post({ n: 2 }), 422, 'idempotency-key-reused');
        expect(t.writes()).toBe(1);
      },
    );

    it('does not store a refused write, so a corrected retry is not a reuse', async () => {
      const post = (body: object) =>
        request(t.app)
          .post('/v1/writes')
          .auth(t.sign, { type: 'bearer' })
          .set('Idempotency-Key', 'k-3')
          .send(body);
      const refused = expectProblem(await post({ refuse: true }), 422, 'custody-violation');
      expect(refused.reasons).toEqual([{ code: 'CUSTODY_VIOLATION' }]);
      expect((await post({ n: 1 })).status).toBe(201);
    });

    it('scopes keys per party', async () => {
      await request(t.app)
        .post('/v1/writes')
        .auth(t.sign, { type: 'bearer' })
        .set('Idempotency-Key', 'k-4')
        .send({});
      expect([...t.store.rows.keys()]).toEqual([`${GLN_A}\u0000k-4`]);
    });

    it('answers 400 for a malformed key', async () => {
      const res = await request(t.app)
        .post('/v1/writes')
        .auth(t.sign, { type: 'bearer' })
        .set('Idempotency-Key', 'x'.repeat(300))
        .send({});
      expectProblem(res, 400, 'invalid-idempotency-key');
    });
  });

  describe('OpenAPI', () => {
    it('serves an OpenAPI 3.1 document with the Problem schema', async () => {
      const res = await request(t.app).get('/openapi.json');
      expect(res.status).toBe(200);
      expect(res.body.openapi).toBe('3.1.0');
      expect(res.body.components.schemas.Problem).toBeDefined();
      const thing = res.body.components.schemas.ThingRequest;
      expect(thing.additionalProperties).toBe(false);
      expect(thing.required).toEqual(['name', 'items']);
      expect(
        res.body.paths['/v1/things'].post.requestBody.content['application/json'].schema,
      ).toEqual({
        $ref: '#/components/schemas/ThingRequest',
      });
    });

    it('serves the docs page from this origin only (Scalar bundle under /docs/assets)', async () => {
      const res = await request(t.app).get('/docs');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('/docs/assets/api-reference.js');
      expect(res.text).not.toMatch(/https?:\/\//);
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/);
      const init = await request(t.app).get('/docs/assets/init.js');
      expect(init.status).toBe(200);
      expect(init.text).toContain("'../../openapi.json'");
    });
  });
});
