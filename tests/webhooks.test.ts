// Webhooks (DESIGN §12, §8a, §6a) against the real issuer and verifier on one
// app and one real database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set), a real delivery worker, and a real
// HTTP receiver on 127.0.0.1 that checks every signature with the
// `standardwebhooks` package. The worker is ticked by the test (no sleeps).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import {
  ISSUER_ROUTES,
  WebhookWorker,
  webhookSettingsOf,
  type IssuerDeps,
  type WebhookSettings,
} from '@provenant/issuer';
import { createApp, enqueueLogAlarm, type RouteModule } from '@provenant/server-kit';
import { listWebhookAttempts } from '@provenant/store';
import { createVerifierDeps, VERIFIER_ROUTES, type VerifierDeps } from '@provenant/verifier';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';
import {
  events,
  startReceiver,
  verifyReceived,
  type Receiver,
} from './support/webhook-receiver.js';

const GTIN = withCheckDigit('1061414100011');
const unit = (serial: string) => unitSubject(GTIN, serial);
const ALL = [
  'verification.quarantined',
  'verification.rejected',
  'case.opened',
  'case.resolved',
  'shipment.received',
  'recall.issued',
  'key.revoked',
  'party.suspended',
  'log.alarm',
];

type Express = ReturnType<typeof createApp>;

describe('webhooks', () => {
  let issuer: TestIssuer;
  let verifier: VerifierDeps;
  let app: Express;
  let api: Api;
  let worker: WebhookWorker;
  let settings: WebhookSettings;
  let mfr: Party;
  let dist: Party;
  let other: Party;

  /** Ticks the worker until `pred` holds (each tick fans out and attempts what is due). */
  async function deliverUntil(pred: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`no ${what}`);
      await worker.tick();
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async function subscribe(token: string, url: string, evs: string[] = ALL) {
    const res = await request(app)
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${token}`)
      .send({ url, events: evs });
    return res;
  }

  beforeAll(async () => {
    issuer = await startTestIssuer({
      webhooks: { allowHosts: ['127.0.0.1'], backoffMs: 1, maxBackoffMs: 4, timeoutMs: 2_000 },
    });
    verifier = createVerifierDeps({ db: issuer.db, ...issuer.verifier });
    const routes: RouteModule<IssuerDeps & VerifierDeps>[] = [...ISSUER_ROUTES, ...VERIFIER_ROUTES];
    app = createApp<IssuerDeps & VerifierDeps>({
      ...issuer.deps,
      ...verifier,
      config: issuer.config,
      routes,
    });
    api = new Api(app, issuer.adminToken);
    settings = webhookSettingsOf(issuer.config);
    worker = new WebhookWorker({ db: issuer.db, masterKey: issuer.config.masterKey, settings });
    mfr = await api.party(withCheckDigit('061414100010'), 'Acme', ['manufacturer'], ['0614141']);
    dist = await api.party(withCheckDigit('061414100011'), 'Northwind', ['distributor']);
    other = await api.party(withCheckDigit('061414100012'), 'Elsewhere', ['distributor']);
    await api.commission(mfr, GTIN, ['S1', 'S2', 'S3']);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await verifier?.pool.close();
    await issuer?.stop();
  });

  describe('subscriptions', () => {
    it('answers 201 with a whsec_ secret shown once, and lists without it', async () => {
      const res = await subscribe(dist.token, 'http://127.0.0.1:9/x', ['case.opened']);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        party: dist.gln,
        url: 'http://127.0.0.1:9/x',
        events: ['case.opened'],
      });
      expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
      const list = await api.get('/v1/webhooks', dist.token).expect(200);
      const mine = list.body.webhooks.find((w: { id: string }) => w.id === res.body.id);
      expect(mine).toBeDefined();
      expect(mine.secret).toBeUndefined();
      expect(JSON.stringify(list.body)).not.toContain(res.body.secret);
      // Another party sees neither the subscription nor its deliveries.
      const theirs = await api.get('/v1/webhooks', other.token).expect(200);
      expect(theirs.body.webhooks.map((w: { id: string }) => w.id)).not.toContain(res.body.id);
      await api.get(`/v1/webhooks/${res.body.id}/deliveries`, other.token).expect(404);
      await request(app)
        .delete(`/v1/webhooks/${res.body.id}`)
        .set('Authorization', `Bearer ${other.token}`)
        .expect(404);
      await request(app)
        .delete(`/v1/webhooks/${res.body.id}`)
        .set('Authorization', `Bearer ${dist.token}`)
        .expect(204);
      await api.get(`/v1/webhooks/${res.body.id}/deliveries`, dist.token).expect(404);
    });

    it('refuses an unknown event type and an empty list, naming the field', async () => {
      const bad = await subscribe(dist.token, 'http://127.0.0.1:9/x', ['case.exploded']);
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].path).toMatch(/^body\.events/);
      const empty = await subscribe(dist.token, 'http://127.0.0.1:9/x', []);
      expect(empty.status).toBe(400);
    });

    it('refuses an anonymous caller', async () => {
      await request(app)
        .post('/v1/webhooks')
        .send({ url: 'https://example.com', events: ALL })
        .expect(401);
    });
  });

  describe('delivery', () => {
    let distHook: Receiver;
    let otherHook: Receiver;
    let adminHook: Receiver;
    let distSecret: string;
    let distId: string;
    let otherSecret: string;
    let adminSecret: string;

    beforeAll(async () => {
      distHook = await startReceiver(2); // fails the first two attempts
      otherHook = await startReceiver();
      adminHook = await startReceiver();
      const d = (await subscribe(dist.token, distHook.url)).body;
      distSecret = d.secret;
      distId = d.id;
      otherSecret = (await subscribe(other.token, otherHook.url)).body.secret;
      adminSecret = (await subscribe(issuer.adminToken, adminHook.url)).body.secret;
    });

    afterAll(async () => {
      await distHook?.close();
      await otherHook?.close();
      await adminHook?.close();
    });

    it('delivers a quarantine and its case to the verifying party only, retrying with the same webhook-id', async () => {
      const res = await api
        .verify(dist, { subject: unit('NOPE404'), purpose: 'receiving' })
        .expect(201);
      expect(res.body.verdict).toBe('quarantine');
      const caseId = res.body.case.id as string;
      const want = (r: Receiver, type: string) =>
        events(r.received).some((e) => e.type === type && e.data.caseId === caseId);
      await deliverUntil(
        () =>
          want(distHook, 'case.opened') &&
          want(distHook, 'verification.quarantined') &&
          want(adminHook, 'case.opened'),
        'case.opened at the party and the operator',
      );
      for (const r of distHook.received) verifyReceived(distSecret, r);
      for (const r of adminHook.received) verifyReceived(adminSecret, r);
      expect(events(otherHook.received).some((e) => e.data.caseId === caseId)).toBe(false);
      // Two failures then success: three attempts of each message, one webhook-id each.
      const byId = new Map<string, number>();
      for (const e of events(distHook.received, true)) byId.set(e.id, (byId.get(e.id) ?? 0) + 1);
      const opened = events(distHook.received).find((e) => e.type === 'case.opened')!;
      expect(opened.id).toMatch(/^msg_/);
      expect(opened.data).toMatchObject({
        party: dist.gln,
        subject: unit('NOPE404'),
        verdict: 'quarantine',
      });
      expect(opened.data.reasons).toEqual(res.body.reasons.map((r: { code: string }) => r.code));
      expect(Math.max(...byId.values())).toBeGreaterThanOrEqual(2);
      const list = await api.get(`/v1/webhooks/${distId}/deliveries`, dist.token).expect(200);
      const delivered = list.body.deliveries.find(
        (d: { eventId: string }) => d.eventId === opened.id,
      );
      expect(delivered).toMatchObject({
        status: 'delivered',
        type: 'case.opened',
        lastStatus: 204,
      });
      const attempts = await listWebhookAttempts(issuer.db, Number(delivered.id));
      expect(attempts.map((a) => a.attempt)).toEqual(
        Array.from({ length: delivered.attempts }, (_, i) => i + 1),
      );
      expect(attempts.at(-1)!.statusCode).toBe(204);
    });

    it('delivers case.resolved', async () => {
      const res = await api
        .verify(dist, { subject: unit('NOPE405'), purpose: 'receiving' })
        .expect(201);
      await api
        .post(`/v1/cases/${res.body.case.id}/resolve`, dist.token, { outcome: 'returned' })
        .expect(200);
      await deliverUntil(
        () =>
          events(distHook.received).some(
            (e) => e.type === 'case.resolved' && e.data.caseId === res.body.case.id,
          ),
        'case.resolved',
      );
      const e = events(distHook.received).find((x) => x.type === 'case.resolved')!;
      expect(e.data).toMatchObject({ outcome: 'returned', party: dist.gln, resolvedBy: dist.gln });
    });

    it('delivers shipment.received to the receiver and the shipper, not to a third party', async () => {
      const mfrHook = await startReceiver();
      const mfrSecret = (await subscribe(mfr.token, mfrHook.url, ['shipment.received'])).body
        .secret;
      await api.handoff(mfr, dist, [unit('S1'), unit('S2')], 'ASN-W1');
      const got = (r: Receiver) =>
        events(r.received).some(
          (e) => e.type === 'shipment.received' && e.data.shipment === 'ASN-W1',
        );
      await deliverUntil(
        () => got(mfrHook) && got(distHook) && got(adminHook),
        'shipment.received',
      );
      const e = events(mfrHook.received).find((x) => x.type === 'shipment.received')!;
      verifyReceived(mfrSecret, mfrHook.received[0]!);
      expect(e.data).toMatchObject({
        from: mfr.gln,
        receiver: dist.gln,
        count: 2,
        condition: 'ok',
      });
      expect(e.data.subjects.sort()).toEqual([unit('S1'), unit('S2')]);
      expect(got(otherHook)).toBe(false);
      await mfrHook.close();
    });

    it('delivers recall.issued to the parties in a chain of the GTIN, not to others', async () => {
      await api.post('/v1/recalls', mfr.token, { gtin: GTIN, reason: 'sterility' }).expect(201);
      const got = (r: Receiver) =>
        events(r.received).some((e) => e.type === 'recall.issued' && e.data.gtin === GTIN);
      await deliverUntil(() => got(distHook) && got(adminHook), 'recall.issued');
      expect(got(otherHook)).toBe(false);
      const e = events(distHook.received).find((x) => x.type === 'recall.issued')!;
      expect(e.data).toMatchObject({ manufacturer: mfr.gln, lot: null, reason: 'sterility' });
    });

    it('delivers key.revoked to the key’s party and party.suspended to the suspended party', async () => {
      const extra = await api.clientKey(other.gln);
      await api
        .post(`/v1/keys/${extra.kid}/revoke`, issuer.adminToken, {
          // DESIGN §5: not before the key's registration (it was registered just now).
          compromisedAt: new Date().toISOString(),
          reason: 'laptop stolen',
        })
        .expect(200);
      await api
        .post(`/v1/parties/${other.gln}/suspend`, issuer.adminToken, { reason: 'audit' })
        .expect(200);
      await deliverUntil(
        () =>
          events(otherHook.received).some(
            (e) => e.type === 'key.revoked' && e.data.kid === extra.kid,
          ) && events(otherHook.received).some((e) => e.type === 'party.suspended'),
        'key.revoked and party.suspended',
      );
      for (const r of otherHook.received) verifyReceived(otherSecret, r);
      expect(
        events(distHook.received).some(
          (e) => e.type === 'key.revoked' || e.type === 'party.suspended',
        ),
      ).toBe(false);
      await api.post(`/v1/parties/${other.gln}/reinstate`, issuer.adminToken, {}).expect(200);
    });

    it('sends log.alarm to operator subscriptions only', async () => {
      await enqueueLogAlarm(issuer.db, {
        kind: 'split-view',
        message: 'two checkpoints of size 9',
      });
      await deliverUntil(
        () => events(adminHook.received).some((e) => e.type === 'log.alarm'),
        'log.alarm',
      );
      expect(events(distHook.received).some((e) => e.type === 'log.alarm')).toBe(false);
    });

    it('redelivers with the same webhook-id, and pages the deliveries list', async () => {
      const page1 = await api
        .get(`/v1/webhooks/${distId}/deliveries?limit=2`, dist.token)
        .expect(200);
      expect(page1.body.deliveries).toHaveLength(2);
      expect(page1.body.next).toEqual(expect.any(String));
      const page2 = await api
        .get(`/v1/webhooks/${distId}/deliveries?limit=2&after=${page1.body.next}`, dist.token)
        .expect(200);
      expect(page2.body.deliveries[0].id).not.toBe(page1.body.deliveries[1].id);
      expect(Number(page2.body.deliveries[0].id)).toBeLessThan(Number(page1.body.deliveries[1].id));
      await api.get(`/v1/webhooks/${distId}/deliveries?after=bogus`, dist.token).expect(400);

      const d = page1.body.deliveries[0];
      const before = distHook.received.length;
      const again = await api
        .post(`/v1/webhooks/${distId}/deliveries/${d.id}/redeliver`, dist.token, {})
        .expect(202);
      expect(again.body.status).toBe('pending');
      await deliverUntil(() => distHook.received.length > before, 'the redelivery');
      expect(String(distHook.received.at(-1)!.headers['webhook-id'])).toBe(d.eventId);
      verifyReceived(distSecret, distHook.received.at(-1)!);
      await api
        .post(`/v1/webhooks/${distId}/deliveries/999999999/redeliver`, dist.token, {})
        .expect(404);
      await api
        .post(`/v1/webhooks/${distId}/deliveries/${d.id}/redeliver`, other.token, {})
        .expect(404);
    });

    it('rotates the secret: the new one is shown once and both sign during the overlap', async () => {
      const rotated = await api.post(`/v1/webhooks/${distId}/rotate`, dist.token, {}).expect(200);
      expect(rotated.body.secret).toMatch(/^whsec_/);
      expect(rotated.body.secret).not.toBe(distSecret);
      const before = distHook.received.length;
      await api.verify(dist, { subject: unit('NOPE406'), purpose: 'receiving' }).expect(201);
      await deliverUntil(() => distHook.received.length > before, 'a delivery after rotation');
      const r = distHook.received.at(-1)!;
      expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
      verifyReceived(rotated.body.secret, r);
      verifyReceived(distSecret, r);
      distSecret = rotated.body.secret;
    });
  });

  it('marks a delivery failed once its retry window has passed', async () => {
    const dead = await startReceiver(1_000_000);
    const sub = (await subscribe(issuer.adminToken, dead.url, ['log.alarm'])).body;
    const short = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings: { ...settings, retryWindowMs: 50 },
    });
    await enqueueLogAlarm(issuer.db, { kind: 'test', message: 'nobody answers' });
    const deadline = Date.now() + 20_000;
    let status = 'pending';
    while (status === 'pending' && Date.now() < deadline) {
      await short.tick();
      await worker.tick();
      const list = await api
        .get(`/v1/webhooks/${sub.id}/deliveries`, issuer.adminToken)
        .expect(200);
      status = list.body.deliveries[0]?.status ?? 'pending';
      await new Promise((r) => setTimeout(r, 5));
    }
    await short.stop();
    expect(status).toBe('failed');
    const list = await api.get(`/v1/webhooks/${sub.id}/deliveries`, issuer.adminToken).expect(200);
    expect(list.body.deliveries[0]).toMatchObject({ lastStatus: 500, nextAttemptAt: null });
    await request(app)
      .delete(`/v1/webhooks/${sub.id}`)
      .set('Authorization', `Bearer ${issuer.adminToken}`)
      .expect(204);
    await dead.close();
  });
});
