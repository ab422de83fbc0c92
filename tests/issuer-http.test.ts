// The issuer framework's store adapters against a real, migrated database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set): token
// lookup by hash and Idempotency-Key replay through createApp. No mocks. The
// test route is in the app's API description and every answer is checked
// against it (tests/support/contract.ts).
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import request from 'supertest';
import { createTestDatabase, insertParty, insertToken, setPartyStatus } from '@provenant/store';
import type { TestDatabase } from '@provenant/store';
import {
  BEARER_AUTH,
  checkIdempotency,
  createApp,
  IdempotencyHeaders,
  idempotencyContext,
  idempotencyStoreFor,
  newToken,
  recordIdempotency,
  replay,
  requireScope,
  tokenLookupFor,
} from '@provenant/server-kit';
import type { RouteModule } from '@provenant/server-kit';
import { watchContract } from './support/contract.js';

const GLN = '0614141000005';

describe('the issuer framework on a real database', () => {
  let db: TestDatabase;
  let app: ReturnType<typeof createApp>;
  const token = newToken();
  let writes = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    await insertParty(db, {
      gln: GLN,
      name: 'Manufacturer',
      roles: ['manufacturer'],
      prefixes: ['0614141'],
    });
    await insertToken(db, { tokenHash: token.hash, gln: GLN, scopes: ['sign', 'verify'] });
    const routes: RouteModule = (router, deps) => {
      deps.openapi.registerPath({
        method: 'post',
        path: '/v1/writes',
        summary: 'An idempotent write',
        security: [{ [BEARER_AUTH]: [] }],
        request: {
          headers: IdempotencyHeaders,
          body: { content: { 'application/json': { schema: { type: 'object' } } } },
        },
        responses: {
          201: {
            description: 'Written',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { id: { type: 'integer' }, at: { type: 'string' } },
                  required: ['id', 'at'],
                  additionalProperties: false,
                },
              },
            },
          },
        },
      });
      router.post('/v1/writes', requireScope('sign'), async (req, res) => {
        const ctx = idempotencyContext(req);
        const stored = ctx
          ? await checkIdempotency(idempotencyStoreFor(deps.db as TestDatabase), ctx)
          : null;
        if (stored) return replay(res, stored);
        const answer = await (deps.db as TestDatabase).transaction(async (tx) => {
          const a = { id: ++writes, at: 'x' };
          if (ctx) await recordIdempotency(idempotencyStoreFor(tx), ctx, 201, a);
          return a;
        });
        res.status(201).json(answer);
      });
    };
    app = watchContract(
      createApp({
        db,
        config: { bodyLimit: 1 << 20, adminTokenHash: null },
        tokens: tokenLookupFor(db),
        routes: [routes],
      }),
    );
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('is ready when the database answers', async () => {
    expect((await request(app).get('/readyz')).status).toBe(200);
  });

  it('authenticates a stored token by its hash and refuses an unknown one', async () => {
    const ok = await request(app)
      .post('/v1/writes')
      .auth(token.token, { type: 'bearer' })
      .send({ a: 0 });
    expect(ok.status).toBe(201);
    const bad = await request(app)
      .post('/v1/writes')
      .auth(newToken().token, { type: 'bearer' })
      .send({ a: 0 });
    expect(bad.status).toBe(401);
  });

  it('replays the same key and body, and answers 422 for the same key with another body', async () => {
    const post = (body: object) =>
      request(app)
        .post('/v1/writes')
        .auth(token.token, { type: 'bearer' })
        .set('Idempotency-Key', 'db-1')
        .send(body);
    const first = await post({ a: 1 });
    expect(first.status).toBe(201);
    const again = await post({ a: 1 });
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const other = await post({ a: 2 });
    expect(other.status).toBe(422);
    expect(other.body.type ?? JSON.parse(other.text).type).toBe(
      'urn:provenant:problem:idempotency-key-reused',
    );
  });

  it('refuses to sign for a suspended party', async () => {
    await setPartyStatus(db, GLN, 'suspended');
    const res = await request(app)
      .post('/v1/writes')
      .auth(token.token, { type: 'bearer' })
      .send({ a: 3 });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.text).type).toBe('urn:provenant:problem:party-suspended');
    await setPartyStatus(db, GLN, 'active');
  });
});
