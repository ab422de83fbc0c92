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
  loadConfig,
  WebhookWorker,
  webhookSettingsOf,
  type IssuerDeps,
} from '@provenant/issuer';
import { createApp, enqueueLogAlarm, type RouteModule } from '@provenant/server-kit';
import { openPg, partiesOfGtin, type Database, type Queryable } from '@provenant/store';
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

  it('finds the parties of a recalled GTIN by an index range on the subjects, not a scan of the log', async () => {
    // Another GTIN of the same maker, shipped to a third party: not in GTIN's chains.
    const gtin2 = withCheckDigit('1061414100038');
    const clinic = await api.party(withCheckDigit('061414100022'), 'Clinic', ['dispenser']);
    await api.commission(mfr, gtin2, ['R1']);
    await api.handoff(mfr, clinic, [unitSubject(gtin2, 'R1')], 'ASN-R1');
    const reference = async (gtin: string) =>
      (
        await issuer.db.query<{ p: string }>(
          `SELECT DISTINCT p FROM (
             SELECT actor AS p FROM records WHERE subject LIKE $1::text
             UNION SELECT data ->> 'to' FROM records WHERE subject LIKE $1::text AND type = 'ship'
           ) x WHERE p IS NOT NULL`,
          [`01/${gtin}/21/%`],
        )
      ).rows
        .map((r) => r.p)
        .sort();
    expect((await partiesOfGtin(issuer.db, GTIN)).sort()).toEqual([mfr.gln, dist.gln].sort());
    expect((await partiesOfGtin(issuer.db, GTIN)).sort()).toEqual(await reference(GTIN));
    expect((await partiesOfGtin(issuer.db, gtin2)).sort()).toEqual(await reference(gtin2));
    expect(await partiesOfGtin(issuer.db, withCheckDigit('1061414199999'))).toEqual([]);

    // The plan, with sequential scans priced out so a tiny table does not decide it:
    // an index condition on the C-collated subject index, no scan of records.
    const plans = await issuer.db.transaction(async (tx) => {
      await tx.exec('SET LOCAL enable_seqscan = off');
      const seen: string[] = [];
      const explaining: Queryable = {
        async query(sql: string, params?: unknown[]) {
          const plan = await tx.query(`EXPLAIN (FORMAT JSON) ${sql}`, params);
          seen.push(JSON.stringify(plan.rows));
          return tx.query(sql, params);
        },
        exec: (sql: string) => tx.exec(sql),
      } as Queryable;
      await partiesOfGtin(explaining, GTIN);
      return seen;
    });
    expect(plans).toHaveLength(1);
    expect(plans[0]).toMatch(/Index Name\W+records_subject_c_idx/);
    expect(plans[0]).toMatch(/Index Cond\W+[^"]*subject/);
    expect(plans[0]).not.toMatch(/Seq Scan\W+[^}]*Relation Name\W+records"/);
  });

  it('prunes finished deliveries, their events and expired Idempotency-Keys in the worker loop, keeping pending and recent ones', async () => {
    const receiver = await startReceiver();
    const sub = await api
      .post('/v1/webhooks', issuer.adminToken, { url: receiver.url, events: ['log.alarm'] })
      .expect(201);
    for (const m of ['a0', 'a1', 'a2', 'a3'])
      await enqueueLogAlarm(issuer.db, { kind: 'test', message: `prune ${m}` });
    const settings = webhookSettingsOf(issuer.config);
    const sender = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings,
    });
    const deadline = Date.now() + 30_000;
    while (events(receiver.received).length < 4 && Date.now() < deadline) await sender.tick();
    await sender.stop();
    await receiver.close();
    expect(events(receiver.received)).toHaveLength(4);

    const eventOf = async (m: string) =>
      (
        await issuer.db.query<{ id: string }>(
          `SELECT id FROM webhook_events WHERE type = 'log.alarm' AND payload LIKE $1::text`,
          [`%"prune ${m}"%`],
        )
      ).rows[0]?.id;
    const ids = Object.fromEntries(
      await Promise.all(['a0', 'a1', 'a2', 'a3'].map(async (m) => [m, await eventOf(m)])),
    ) as Record<string, string>;
    const age = (m: string, set = '') =>
      issuer.db.query(
        `UPDATE webhook_deliveries SET created_at = now() - interval '40 days'${set}
         WHERE event_id = $1::text`,
        [ids[m]],
      );
    // 40 days old: a0 delivered, a1 given up, a2 still retrying (kept at any age); a3 recent.
    await age('a0');
    await age('a1', `, status = 'failed'`);
    await age('a2', `, status = 'pending', next_attempt_at = now() + interval '1 day'`);
    await issuer.db.query(
      `UPDATE webhook_events SET created_at = now() - interval '40 days' WHERE id = ANY($1::text[])`,
      [[ids.a0, ids.a1, ids.a2]],
    );
    // An old event that matched no subscription, and two Idempotency-Keys, one past its 24 hours.
    await issuer.db.query(
      `INSERT INTO webhook_events (id, type, payload, fanned_out, created_at)
       VALUES ('evt_prune_orphan', 'log.alarm', '{}', true, now() - interval '40 days')`,
    );
    for (const [key, serial] of [
      ['prune-old', 'PR1'],
      ['prune-new', 'PR2'],
    ] as const)
      await api
        .post('/v1/commissions', mfr.token, {
          items: [{ gtin: GTIN, serial, lot: 'L', expiry: '2030-01-31' }],
        })
        .set('Idempotency-Key', key)
        .expect(201);
    await issuer.db.query(
      `UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'prune-old'`,
    );
    const attemptsBefore = await issuer.db.query<{ n: number }>(
      `SELECT delivery_n AS n FROM webhook_attempts a JOIN webhook_deliveries d ON d.n = a.delivery_n
       WHERE d.event_id = ANY($1::text[])`,
      [[ids.a0, ids.a1]],
    );
    expect(attemptsBefore.rows.length).toBeGreaterThanOrEqual(2);

    // A worker's first tick prunes (default retention: 30 days).
    const worker = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings,
    });
    await worker.tick();
    const left = async () =>
      (
        await issuer.db.query<{ event_id: string }>(
          `SELECT event_id FROM webhook_deliveries WHERE subscription_id = $1::text ORDER BY n`,
          [sub.body.id],
        )
      ).rows.map((r) => r.event_id);
    expect(await left()).toEqual([ids.a2, ids.a3]);
    const { rows: attemptsAfter } = await issuer.db.query(
      `SELECT 1 FROM webhook_attempts WHERE delivery_n = ANY($1::bigint[])`,
      [attemptsBefore.rows.map((r) => r.n)],
    );
    expect(attemptsAfter).toEqual([]);
    const { rows: kept } = await issuer.db.query<{ id: string }>(
      `SELECT id FROM webhook_events WHERE id = ANY($1::text[]) ORDER BY n`,
      [[ids.a0, ids.a1, ids.a2, ids.a3, 'evt_prune_orphan']],
    );
    expect(kept.map((r) => r.id)).toEqual([ids.a2, ids.a3]);
    const { rows: keys } = await issuer.db.query<{ key: string }>(
      `SELECT key FROM idempotency_keys WHERE key LIKE 'prune-%' ORDER BY key`,
    );
    expect(keys.map((r) => r.key)).toEqual(['prune-new']);

    // The loop prunes at most hourly; prune() itself goes again at once.
    await age('a3');
    await worker.tick();
    expect(await left()).toEqual([ids.a2, ids.a3]);
    expect(await worker.prune()).toMatchObject({ deliveries: 1 });
    expect(await left()).toEqual([ids.a2]);
    await worker.stop();
    await request(api.app)
      .delete(`/v1/webhooks/${sub.body.id}`)
      .set('Authorization', `Bearer ${issuer.adminToken}`)
      .expect(204);
  });

  it('reads the webhook retention from PROVENANT_WEBHOOK_RETENTION_DAYS (default 30 days)', () => {
    const base = { PROVENANT_MASTER_KEY: Buffer.alloc(32, 1).toString('base64') };
    expect(webhookSettingsOf(loadConfig(base)).retentionMs).toBe(30 * 86_400_000);
    const week = loadConfig({ ...base, PROVENANT_WEBHOOK_RETENTION_DAYS: '7' });
    expect(webhookSettingsOf(week).retentionMs).toBe(7 * 86_400_000);
    expect(() => loadConfig({ ...base, PROVENANT_WEBHOOK_RETENTION_DAYS: '0' })).toThrow(
      /PROVENANT_WEBHOOK_RETENTION_DAYS/,
    );
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
