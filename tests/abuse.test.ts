// Abuse rules of DESIGN §8: rate limits per token and per address, counted in
// the database so that replicas share them (429 problem+json with
// Retry-After and the draft-8 RateLimit headers), and Idempotency-Keys that
// expire after 24 hours and are pruned.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { ISSUER_ROUTES, loadConfig } from '@provenant/issuer';
import { createApp } from '@provenant/server-kit';
import { pruneExpiredIdempotencyEntries } from '@provenant/store';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { unitSubject } from '@provenant/core';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100005');

describe('rate limits (DESIGN §8)', () => {
  let issuer: TestIssuer;
  let replica: ReturnType<typeof createApp>;
  let party: Party;

  beforeAll(async () => {
    issuer = await startTestIssuer({
      rateLimit: { perToken: 4, perAddress: 3, windowMs: 60_000 },
    });
    // A second app instance on the same database: another replica.
    replica = createApp({ ...issuer.deps, routes: ISSUER_ROUTES });
    const api = new Api(issuer.app, issuer.adminToken);
    party = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
    await issuer.db.query('DELETE FROM rate_limits');
  }, 60_000);
  afterAll(async () => issuer?.stop());

  it('limits anonymous callers per address across two app instances: 429 problem+json with Retry-After and RateLimit headers', async () => {
    const a = await request(issuer.app).get('/v1/log').expect(200);
    expect(a.headers['ratelimit-policy']).toMatch(
      /^"per-address"; q=3; w=60(; pk=:[A-Za-z0-9+/=]+:)?$/,
    );
    expect(a.headers['ratelimit']).toMatch(/^"per-address"; r=2; t=\d+$/);
    await request(replica).get('/v1/log').expect(200);
    await request(issuer.app).get('/v1/log/leaves?start=0').expect(200);
    const res = await request(replica).get('/v1/log');
    expect(res.status).toBe(429);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({
      type: 'urn:provenant:problem:rate-limited',
      status: 429,
    });
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(res.headers['ratelimit']).toMatch(/^"per-address"; r=0; t=\d+$/);
    expect(res.headers['ratelimit-policy']).toMatch(
      /^"per-address"; q=3; w=60(; pk=:[A-Za-z0-9+/=]+:)?$/,
    );
    // A token is counted on its own, not against the address.
    await request(issuer.app)
      .get(`/v1/parties/${party.gln}`)
      .set('Authorization', `Bearer ${party.token}`)
      .expect(200);
  });

  it('limits each token on its own, shared by the replicas; another token is unaffected', async () => {
    await issuer.db.query(`DELETE FROM rate_limits WHERE key LIKE 't:%'`);
    const get = (app: typeof replica, token: string) =>
      request(app).get(`/v1/parties/${party.gln}`).set('Authorization', `Bearer ${token}`);
    for (const app of [issuer.app, replica, issuer.app, replica])
      await get(app, party.token).expect(200);
    const res = await get(issuer.app, party.token);
    expect(res.status).toBe(429);
    expect(res.headers['ratelimit-policy']).toMatch(
      /^"per-token"; q=4; w=60(; pk=:[A-Za-z0-9+/=]+:)?$/,
    );
    expect(res.headers['retry-after']).toBeDefined();
    await get(replica, issuer.adminToken).expect(200);
    // The counter holds the token's hash, never the token.
    const { rows } = await issuer.db.query('SELECT key FROM rate_limits');
    expect(JSON.stringify(rows)).not.toContain(party.token);
  });

  it('counts refused (made-up) tokens against the address, so rotating tokens does not escape the limit', async () => {
    await issuer.db.query('DELETE FROM rate_limits');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(i % 2 ? replica : issuer.app)
        .get('/v1/log')
        .set('Authorization', `Bearer pvn_made-up-token-${i}-0000000000000000`);
      statuses.push(res.status);
      if (res.status === 429) expect(res.headers['retry-after']).toBeDefined();
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    await issuer.db.query('DELETE FROM rate_limits');
  });

  it('a refused request (429) changes nothing', async () => {
    for (let i = 0; i < 4; i++)
      await request(replica)
        .get(`/v1/parties/${party.gln}`)
        .set('Authorization', `Bearer ${party.token}`);
    const before = (await issuer.db.query('SELECT count(*)::int AS n FROM log_leaves')).rows[0]!.n;
    const res = await request(issuer.app)
      .post('/v1/commissions')
      .set('Authorization', `Bearer ${party.token}`)
      .send({ items: [{ gtin: GTIN, serial: 'RL1', lot: 'L', expiry: '2030-01-31' }] });
    expect(res.status).toBe(429);
    const after = (await issuer.db.query('SELECT count(*)::int AS n FROM log_leaves')).rows[0]!.n;
    expect(after).toBe(before);
  });

  it('reads the limits from the environment, with generous defaults', () => {
    const base = { PROVENANT_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(loadConfig(base).rateLimit).toEqual({
      perToken: 60_000,
      perAddress: 600,
      windowMs: 60_000,
    });
    expect(
      loadConfig({
        ...base,
        PROVENANT_RATE_LIMIT_TOKEN: '10',
        PROVENANT_RATE_LIMIT_ADDRESS: '0',
        PROVENANT_RATE_LIMIT_WINDOW_SECONDS: '5',
      }).rateLimit,
    ).toEqual({ perToken: 10, perAddress: 0, windowMs: 5000 });
    expect(() => loadConfig({ ...base, PROVENANT_RATE_LIMIT_TOKEN: '-1' })).toThrow(
      /PROVENANT_RATE_LIMIT_TOKEN/,
    );
  });
});

describe('verification cost against the per-token budget (DESIGN §8)', () => {
  // A pallet of 150 units costs 150 of a token's 300 per window.
  const UNITS = 150;
  const SSCC = withCheckDigit('10614141000000038');
  let world: TestWorld;
  let api: Api;
  let flooder: Party;
  let honest: Party;

  beforeAll(async () => {
    world = await startTestWorld(
      {},
      { rateLimit: { perToken: 2 * UNITS, perAddress: 0, windowMs: 60_000 } },
    );
    api = new Api(world.app, world.issuer.adminToken);
    const mfr = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
    flooder = await api.party('0614141000029', 'Flooder', ['distributor']);
    honest = await api.party('0614141000036', 'Honest', ['distributor']);
    const serials = Array.from({ length: UNITS }, (_, i) => `F${i}`);
    await api.commission(mfr, GTIN, serials);
    await api.pack(
      mfr,
      SSCC,
      serials.map((s) => unitSubject(GTIN, s)),
    );
    await api.ship(mfr, [`00/${SSCC}`], flooder, 'ASN-FLOOD');
    await world.issuer.db.query('DELETE FROM rate_limits');
  }, 120_000);
  afterAll(async () => world?.stop());

  const pallet = (p: Party) =>
    api.post('/v1/verifications', p.token, { subject: `00/${SSCC}`, purpose: 'receiving' });

  it("one party's pallet verifications spend its own budget (429 with Retry-After and RateLimit), not another party's", async () => {
    const first = await pallet(flooder).expect(201);
    expect(first.body.units.total).toBe(UNITS);
    // Charged before the answer went out: its header shows what is left.
    expect(first.headers['ratelimit']).toMatch(new RegExp(`^"per-token"; r=${UNITS}; t=\\d+$`));
    const second = await pallet(flooder).expect(201);
    expect(second.headers['ratelimit']).toMatch(/^"per-token"; r=0; t=\d+$/);

    // The budget is spent: a pallet and even a one-unit request are refused.
    for (const res of [
      await pallet(flooder),
      await api.get(`/v1/parties/${flooder.gln}`, flooder.token),
    ]) {
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ type: 'urn:provenant:problem:rate-limited', status: 429 });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(res.headers['ratelimit']).toMatch(/^"per-token"; r=0; t=\d+$/);
      expect(res.headers['ratelimit-policy']).toMatch(/^"per-token"; q=300; w=60/);
    }
    const { rows } = await world.issuer.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM verifications WHERE party = $1::text`,
      [flooder.gln],
    );
    expect(rows[0]!.n).toBe(2);

    // Another party's budget is whole: it verifies the same pallet and a unit.
    const other = await pallet(honest).expect(201);
    expect(other.headers['ratelimit']).toMatch(new RegExp(`^"per-token"; r=${UNITS}; t=\\d+$`));
    const unit = await api
      .post('/v1/verifications', honest.token, {
        subject: unitSubject(GTIN, 'F0'),
        purpose: 'receiving',
      })
      .expect(201);
    expect(unit.headers['ratelimit']).toMatch(new RegExp(`^"per-token"; r=${UNITS - 1}; t=\\d+$`));
  });
});

describe('Idempotency-Key expiry (DESIGN §8)', () => {
  let issuer: TestIssuer;
  let api: Api;
  let mfr: Party;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    api = new Api(issuer.app, issuer.adminToken);
    mfr = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
  }, 60_000);
  afterAll(async () => issuer?.stop());

  const commission = (serial: string, key: string) =>
    api
      .post('/v1/commissions', mfr.token, {
        items: [{ gtin: GTIN, serial, lot: 'L', expiry: '2030-01-31' }],
      })
      .set('Idempotency-Key', key);
  const age = (key: string, hours: number) =>
    issuer.db.query(
      `UPDATE idempotency_keys SET created_at = now() - $2::integer * interval '1 hour' WHERE key = $1::text`,
      [key, hours],
    );

  it('keeps a key 24 hours: within them the same key with another body is 422', async () => {
    await commission('K1', 'key-a').expect(201);
    await age('key-a', 23);
    const res = await commission('K2', 'key-a');
    expect(res.status).toBe(422);
    expect(res.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
  });

  it('after 24 hours the key is expired: it is a new request, stored afresh', async () => {
    await age('key-a', 25);
    const res = await commission('K2', 'key-a');
    expect(res.status).toBe(201);
    expect(res.headers['idempotent-replayed']).toBeUndefined();
    const { rows } = await issuer.db.query(
      `SELECT count(*)::int AS n FROM idempotency_keys WHERE key = 'key-a' AND created_at > now() - interval '1 hour'`,
    );
    expect(rows[0]!.n).toBe(1);
    // and the fresh answer replays
    const again = await commission('K2', 'key-a').expect(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
  });

  it('prunes expired keys and keeps fresh ones', async () => {
    await commission('K3', 'key-old').expect(201);
    await commission('K4', 'key-new').expect(201);
    await age('key-old', 30);
    const pruned = await pruneExpiredIdempotencyEntries(issuer.db);
    expect(pruned).toBeGreaterThanOrEqual(1);
    const { rows } = await issuer.db.query(
      `SELECT key FROM idempotency_keys WHERE key IN ('key-old', 'key-new') ORDER BY key`,
    );
    expect(rows.map((r) => r.key)).toEqual(['key-new']);
  });
});
