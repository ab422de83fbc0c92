// At-least-once delivery across `kill -9` (DESIGN §12): the real service
// process (scripts/start.ts) commits a fact and its outbox event, starts the
// attempt, and is killed while the receiver holds the request open. After a
// restart on the same data, the worker sends the event again when the lease
// of the cut attempt ends, with the same webhook-id and a valid signature.
// Runs on embedded PGlite, and on PostgreSQL when PROVENANT_TEST_DATABASE_URL is set.
import { afterAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTestDatabase,
  dropTestDatabase,
  START_TIMEOUT_MS,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { startReceiver, verifyReceived, type Receiver } from './support/webhook-receiver.js';

const ADMIN = `webhook-crash-admin-${randomBytes(12).toString('hex')}`;
const SERVER = process.env.PROVENANT_TEST_DATABASE_URL;

describe('webhook delivery across kill -9', () => {
  const dir = mkdtempSync(join(tmpdir(), 'provenant-wh-crash-'));
  let dbUrl: string | null = null;
  let svc: ServiceProcess | undefined;
  let receiver: Receiver | undefined;

  afterAll(async () => {
    await svc?.kill9();
    await receiver?.close();
    if (SERVER && dbUrl) await dropTestDatabase(SERVER, dbUrl);
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<ServiceProcess> {
    const env: Record<string, string> = {
      PROVENANT_ADMIN_TOKEN: ADMIN,
      PROVENANT_DATA_DIR: dir,
      PROVENANT_DEMO: 'off',
      PROVENANT_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      PROVENANT_WEBHOOK_INTERVAL_MS: '50',
      // The lease of an attempt is 2 × timeout + 1 s: the cut attempt is retried ~2 s after restart.
      PROVENANT_WEBHOOK_TIMEOUT_MS: '500',
      PROVENANT_WEBHOOK_BACKOFF_MS: '10',
    };
    if (SERVER) {
      dbUrl ??= await createTestDatabase(SERVER, 'provenant_whcrash');
      env.DATABASE_URL = dbUrl;
      env.PROVENANT_MASTER_KEY = Buffer.alloc(32, 9).toString('base64');
    }
    return startServiceProcess(env);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: parsed JSON of any shape
  async function call(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${svc!.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  it(
    'delivers the event after a restart, with the same webhook-id',
    async () => {
      receiver = await startReceiver();
      // Hold the first request open (the service dies before it gets an answer); answer later ones.
      receiver.respond = (index, res) => {
        if (index === 0) return;
        res.statusCode = 204;
        res.end();
      };
      svc = await start();
      const sub = await call('/v1/webhooks', { url: receiver.url, events: ['party.suspended'] });
      expect(sub.status).toBe(201);
      const gln = '0614141000005';
      expect(
        (
          await call('/v1/parties', {
            gln,
            name: 'Acme',
            roles: ['manufacturer'],
            prefixes: ['0614141'],
          })
        ).status,
      ).toBe(201);
      expect((await call(`/v1/parties/${gln}/suspend`, { reason: 'audit' })).status).toBe(200);

      await receiver.waitFor((r) => r.length >= 1, 'first attempt');
      await svc.kill9();
      const first = receiver.received[0]!;
      const id = String(first.headers['webhook-id']);
      expect(id).toMatch(/^msg_/);

      svc = await start();
      await receiver.waitFor(
        (r) => r.some((x) => x.status === 204),
        'delivery after restart',
        30_000,
      );
      const again = receiver.received.find((x) => x.status === 204)!;
      expect(String(again.headers['webhook-id'])).toBe(id);
      const body = verifyReceived(sub.body.secret, again);
      expect(body).toMatchObject({ type: 'party.suspended', data: { gln, reason: 'audit' } });
      expect(again.body).toBe(first.body);
      expect(await svc.stop()).toBe(0);
    },
    3 * START_TIMEOUT_MS,
  );
});
