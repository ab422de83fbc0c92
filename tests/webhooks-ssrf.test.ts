// The SSRF guard of webhooks (DESIGN §12): https only except allowed hosts;
// private, loopback and link-local addresses refused after DNS resolution,
// at subscribe time and again at delivery time; the attempt connects to the
// address that was checked; redirects are not followed.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { utf8 } from '@provenant/core';
import {
  checkWebhookUrl,
  isPublicAddress,
  seal,
  WebhookUrlError,
  WebhookWorker,
  webhookSettingsOf,
  type WebhookSettings,
} from '@provenant/issuer';
import { type createApp, enqueueLogAlarm } from '@provenant/server-kit';
import { insertWebhookSubscription, listWebhookDeliveries } from '@provenant/store';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { startReceiver, verifyReceived, type Receiver } from './support/webhook-receiver.js';

const dns =
  (table: Record<string, string[]>) =>
  async (host: string): Promise<string[]> => {
    const a = table[host];
    if (!a) throw new Error('ENOTFOUND');
    return a;
  };

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof WebhookUrlError) return err.rule;
    throw err;
  }
  return 'accepted';
}

describe('checkWebhookUrl', () => {
  const resolve = dns({
    'hooks.example.com': ['93.184.216.34'],
    'internal.example.com': ['10.1.2.3'],
    'mixed.example.com': ['93.184.216.34', '192.168.1.1'],
    'metadata.example.com': ['169.254.169.254'],
    'v6.example.com': ['2606:2800:220:1:248:1893:25c8:1946'],
    'v6local.example.com': ['fe80::1'],
    'mapped.example.com': ['::ffff:127.0.0.1'],
    localhost: ['127.0.0.1', '::1'],
  });

  it('accepts https to a public address', async () => {
    const c = await checkWebhookUrl('https://hooks.example.com/in', [], resolve);
    expect(c.address).toBe('93.184.216.34');
    expect(await refusal(checkWebhookUrl('https://v6.example.com/', [], resolve))).toBe('accepted');
  });

  it('refuses http unless the host is allowed', async () => {
    expect(await refusal(checkWebhookUrl('http://hooks.example.com/in', [], resolve))).toBe(
      'https',
    );
    expect(await refusal(checkWebhookUrl('ftp://hooks.example.com/in', [], resolve))).toBe('https');
    expect(await refusal(checkWebhookUrl('http://127.0.0.1:9/in', ['127.0.0.1'], resolve))).toBe(
      'accepted',
    );
  });

  it.each([
    ['a private address by name', 'https://internal.example.com/'],
    ['any private address among several', 'https://mixed.example.com/'],
    ['link-local (cloud metadata)', 'https://metadata.example.com/'],
    ['IPv6 link-local', 'https://v6local.example.com/'],
    ['an IPv4-mapped loopback', 'https://mapped.example.com/'],
    ['localhost', 'https://localhost/'],
    ['a loopback literal', 'https://127.0.0.1/'],
    ['an IPv6 loopback literal', 'https://[::1]/'],
    ['a private literal', 'https://172.16.0.5/'],
    ['the unspecified address', 'https://0.0.0.0/'],
    ['CGNAT space', 'https://100.64.0.1/'],
  ])('refuses %s', async (_what, url) => {
    expect(await refusal(checkWebhookUrl(url, [], resolve))).toBe('address');
  });

  it('refuses a host that does not resolve, credentials and garbage', async () => {
    expect(await refusal(checkWebhookUrl('https://nowhere.example.com/', [], resolve))).toBe(
      'address',
    );
    expect(await refusal(checkWebhookUrl('https://u:p@hooks.example.com/', [], resolve))).toBe(
      'url',
    );
    expect(await refusal(checkWebhookUrl('not a url', [], resolve))).toBe('url');
  });

  it('knows public from private addresses', () => {
    expect(isPublicAddress('8.8.8.8')).toBe(true);
    for (const a of ['10.0.0.1', '127.0.0.1', '169.254.1.1', '::1', 'fc00::1', '::ffff:10.0.0.1'])
      expect(isPublicAddress(a)).toBe(false);
  });
});

describe('the SSRF guard in the service', () => {
  let issuer: TestIssuer;
  let app: ReturnType<typeof createApp>;
  let receiver: Receiver;
  let settings: WebhookSettings;

  beforeAll(async () => {
    issuer = await startTestIssuer({
      webhooks: { allowHosts: ['127.0.0.1'], backoffMs: 1, timeoutMs: 2_000 },
    });
    app = issuer.app;
    settings = webhookSettingsOf(issuer.config);
    receiver = await startReceiver();
  }, 60_000);

  afterAll(async () => {
    await receiver?.close();
    await issuer?.stop();
  });

  const subscribe = (url: string) =>
    request(app)
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${issuer.adminToken}`)
      .send({ url, events: ['log.alarm'] });

  it('answers 400 naming body.url for http, loopback and link-local URLs', async () => {
    for (const [url, rule] of [
      ['http://example.com/hook', 'https'],
      ['https://localhost/hook', 'address'],
      ['https://169.254.169.254/latest/meta-data', 'address'],
      ['https://[::1]/hook', 'address'],
      ['https://10.0.0.7/hook', 'address'],
    ] as const) {
      const res = await subscribe(url);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: 'body.url', rule })]);
    }
    const { rows } = await issuer.db.query(`SELECT count(*)::int AS n FROM webhook_subscriptions`);
    expect(rows[0]).toEqual({ n: 0 });
  });

  /** A subscription stored as it was accepted earlier (the guard runs again at delivery). */
  async function stored(url: string): Promise<{ id: string; secret: string }> {
    const id = `wh_test${Math.random().toString(16).slice(2)}`;
    const secret = 'whsec_' + Buffer.alloc(32, 5).toString('base64');
    await insertWebhookSubscription(issuer.db, {
      id,
      party: null,
      url,
      events: ['log.alarm'],
      secretSealed: seal(utf8(secret), issuer.config.masterKey, `provenant:webhook-secret:${id}`),
    });
    return { id, secret };
  }

  async function runOnce(worker: WebhookWorker): Promise<void> {
    await enqueueLogAlarm(issuer.db, { kind: 'test', message: 'ssrf' });
    await worker.tick();
    await worker.stop(); // closes its kept-alive connections
  }

  it('refuses again at delivery time when the host no longer passes, without connecting', async () => {
    const sub = await stored(receiver.url);
    // The operator took 127.0.0.1 off the allow list after the subscription was made.
    const strict = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings: { ...settings, allowHosts: [] },
    });
    await runOnce(strict);
    const [d] = await listWebhookDeliveries(issuer.db, sub.id, { limit: 1 });
    expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatus: null });
    expect(d!.lastError).toMatch(/https/);
    expect(receiver.received).toHaveLength(0);
    await issuer.db.query(
      `UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1::text`,
      [sub.id],
    );
    await issuer.db.query(
      `UPDATE webhook_deliveries SET status = 'failed' WHERE subscription_id = $1::text`,
      [sub.id],
    );
  });

  it('refuses a name that now resolves to a private address (DNS rebinding)', async () => {
    const sub = await stored('https://rebind.example.com/hook');
    const w = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings,
      resolve: dns({ 'rebind.example.com': ['10.0.0.8'] }),
    });
    await runOnce(w);
    const [d] = await listWebhookDeliveries(issuer.db, sub.id, { limit: 1 });
    expect(d!.lastError).toMatch(/private, loopback or link-local/);
    await issuer.db.query(
      `UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1::text`,
      [sub.id],
    );
    await issuer.db.query(
      `UPDATE webhook_deliveries SET status = 'failed' WHERE subscription_id = $1::text`,
      [sub.id],
    );
  });

  it('connects to the resolved address, keeping the name in Host', async () => {
    const sub = await stored(`http://hooks.internal.test:${receiver.port}/hook`);
    const w = new WebhookWorker({
      db: issuer.db,
      masterKey: issuer.config.masterKey,
      settings: { ...settings, allowHosts: ['hooks.internal.test'] },
      resolve: dns({ 'hooks.internal.test': ['127.0.0.1'] }),
    });
    await runOnce(w);
    await receiver.waitFor((r) => r.length >= 1, 'the pinned request');
    expect(receiver.received[0]!.host).toBe(`hooks.internal.test:${receiver.port}`);
    verifyReceived(sub.secret, receiver.received[0]!);
    await issuer.db.query(
      `UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1::text`,
      [sub.id],
    );
  });

  it('does not follow a redirect', async () => {
    const target = await startReceiver();
    const redirector = await startReceiver();
    redirector.respond = (_i, res) => {
      res.statusCode = 302;
      res.setHeader('Location', target.url);
      res.end();
    };
    const sub = await stored(redirector.url);
    const w = new WebhookWorker({ db: issuer.db, masterKey: issuer.config.masterKey, settings });
    await runOnce(w);
    const [d] = await listWebhookDeliveries(issuer.db, sub.id, { limit: 1 });
    expect(d).toMatchObject({ status: 'pending', lastStatus: 302 });
    expect(redirector.received).toHaveLength(1);
    expect(target.received).toHaveLength(0);
    await target.close();
    await redirector.close();
  });
});
