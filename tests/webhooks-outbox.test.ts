// The webhook outbox (DESIGN §12): an event row commits in the transaction of
// its fact (there before any worker runs; absent when the fact is refused),
// retries back off exponentially with jitter, and several workers on one
// PostgreSQL (replicas) send each attempt once (FOR UPDATE SKIP LOCKED).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import {
  backoffDelay,
  ISSUER_ROUTES,
  WebhookWorker,
  webhookSettingsOf,
  type IssuerDeps,
} from '@provenant/issuer';
import { createApp, type RouteModule } from '@provenant/server-kit';
import { openPg, type Database } from '@provenant/store';
import { createVerifierDeps, VERIFIER_ROUTES, type VerifierDeps } from '@provenant/verifier';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';
import { events, startReceiver, verifyReceived } from './support/webhook-receiver.js';

const GTIN = withCheckDigit('1061414100021');

describe('backoffDelay', () => {
  const s = { backoffMs: 1_000, maxBackoffMs: 60_000 };
  it('doubles per attempt, with jitter between half and all of it, and is capped', () => {
    expect(backoffDelay(1, s, () => 0)).toBe(500);
    expect(backoffDelay(1, s, () => 1)).toBe(1_000);
    expect(backoffDelay(4, s, () => 1)).toBe(8_000);
    expect(backoffDelay(4, s, () => 0)).toBe(4_000);
    expect(backoffDelay(30, s, () => 1)).toBe(60_000);
    const spread = new Set(Array.from({ length: 20 }, () => backoffDelay(3, s)));
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('the outbox', () => {
  let issuer: TestIssuer;
  let verifier: VerifierDeps;
  let api: Api;
  let mfr: Party;
  let dist: Party;

  const outbox = async (type: string) =>
    (
      await issuer.db.query<{ payload: string }>(
        `SELECT payload FROM webhook_events WHERE type = $1::text ORDER BY n`,
        [type],
      )
    ).rows.map((r) => JSON.parse(r.payload) as { data: Record<string, unknown> });

  beforeAll(async () => {
    issuer = await startTestIssuer({ webhooks: { allowHosts: ['127.0.0.1'] } });
    verifier = createVerifierDeps({ db: issuer.db, ...issuer.verifier });
    const routes: RouteModule<IssuerDeps & VerifierDeps>[] = [...ISSUER_ROUTES, ...VERIFIER_ROUTES];
    api = new Api(
      createApp<IssuerDeps & VerifierDeps>({
        ...issuer.deps,
        ...verifier,
        config: issuer.config,
        routes,
      }),
      issuer.adminToken,
    );
    mfr = await api.party(withCheckDigit('061414100020'), 'Acme', ['manufacturer'], ['0614141']);
    dist = await api.party(withCheckDigit('061414100021'), 'Northwind', ['distributor']);
    await api.commission(mfr, GTIN, ['O1', 'O2']);
  }, 120_000);

  afterAll(async () => {
    await verifier?.pool.close();
    await issuer?.stop();
  });

  it('holds the event as soon as the fact is acknowledged, before any worker ran', async () => {
    await api
      .post('/v1/recalls', mfr.token, { gtin: GTIN, lot: 'LX', reason: 'label' })
      .expect(201);
    expect(await outbox('recall.issued')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ gtin: GTIN, lot: 'LX' }) }),
    ]);
    await api.handoff(mfr, dist, [unitSubject(GTIN, 'O1')], 'ASN-O1');
    expect((await outbox('shipment.received')).map((e) => e.data.shipment)).toEqual(['ASN-O1']);
  });

  it('writes no event for a refused fact', async () => {
    // O2 was never shipped to dist: the receipt is refused, and no shipment.received is queued.
    const res = await request(api.app)
      .post('/v1/receipts')
      .set('Authorization', `Bearer ${dist.token}`)
      .send({
        shipment: 'ASN-NONE',
        from: mfr.gln,
        scanned: [unitSubject(GTIN, 'O2')],
        condition: 'ok',
      });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await outbox('shipment.received')).map((e) => e.data.shipment)).toEqual(['ASN-O1']);
    // An accept verdict writes no event at all (one autocommitted audit row).
    const before = (await issuer.db.query(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0];
    await api.verify(dist, { subject: unitSubject(GTIN, 'O1'), purpose: 'receiving' }).expect(201);
    const after = (await issuer.db.query(`SELECT count(*)::int AS n FROM webhook_events`)).rows[0];
    expect(after).toEqual(before);
  });

  const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;
  (pgUrl ? it : it.skip)(
    // Skipped on PGlite: an embedded database has one connection, so there is one replica.
    'two replicas on one PostgreSQL deliver each event once and record each attempt once',
    async () => {
      const receiver = await startReceiver();
      const sub = await api
        .post('/v1/webhooks', issuer.adminToken, {
          url: receiver.url,
          events: ['log.alarm'],
        })
        .expect(201);
      const { enqueueLogAlarm } = await import('@provenant/server-kit');
      const N = 40;
      for (let i = 0; i < N; i++)
        await enqueueLogAlarm(issuer.db, { kind: 'test', message: `alarm ${i}` });
      const settings = { ...webhookSettingsOf(issuer.config), concurrency: 4 };
      const pools: Database[] = [await openPgLike(issuer.db), await openPgLike(issuer.db)];
      const workers = pools.map(
        (db) => new WebhookWorker({ db, masterKey: issuer.config.masterKey, settings }),
      );
      try {
        const deadline = Date.now() + 30_000;
        while (events(receiver.received).length < N && Date.now() < deadline)
          await Promise.all(workers.map((w) => w.tick()));
      } finally {
        for (const w of workers) await w.stop();
        for (const p of pools) await p.close();
      }
      const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
      expect(ids).toHaveLength(N);
      expect(new Set(ids).size).toBe(N);
      for (const r of receiver.received) verifyReceived(sub.body.secret, r);
      const attempts = await issuer.db.query<{ n: number; k: number }>(
        `SELECT d.n, count(a.*)::int AS k FROM webhook_deliveries d
         LEFT JOIN webhook_attempts a ON a.delivery_n = d.n
         WHERE d.subscription_id = $1::text GROUP BY d.n`,
        [sub.body.id],
      );
      expect(attempts.rows).toHaveLength(N);
      expect(attempts.rows.every((r) => r.k === 1)).toBe(true);
      // Both replicas did part of the work.
      expect(workers.every((w) => w.stats.attempts > 0)).toBe(true);
      await receiver.close();
    },
  );

  /** A second pool on the database `db` is connected to (a replica's own connections). */
  async function openPgLike(db: Database): Promise<Database> {
    const { rows } = await db.query<{ name: string }>('SELECT current_database() AS name');
    const name = rows[0]!.name;
    const u = new URL(pgUrl!);
    u.pathname = `/${name}`;
    return openPg(u.toString(), { max: 4 });
  }
});
