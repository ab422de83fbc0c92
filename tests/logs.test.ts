// Logs (DESIGN §8, §12): JSON lines (pretty on a terminal), `service` naming
// the part that logged (issuer, verifier, dock), 4xx at info and 5xx at
// error, the first start's seeding at debug so the banner is not buried, and
// never a token, a key or a body in any line.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { ISSUER_ROUTES, type IssuerDeps } from '@provenant/issuer';
import { createApp, createLogger, type RouteModule } from '@provenant/server-kit';
import { createVerifier } from '@provenant/verifier';
import { startService } from '../services/issuer/src/main.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { createTestDatabase, dropTestDatabase } from './support/service-process.js';
import { withCheckDigit } from './support/verifier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: parsed JSON of any shape
function capture(): { stream: Writable; text: () => string; json: () => any[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    text: () => chunks.join(''),
    json: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l)),
  };
}

describe('request logs', () => {
  let issuer: TestIssuer;
  const out = capture();
  let app: ReturnType<typeof createApp>;
  let verifierApp: ReturnType<typeof createApp>;
  let closeVerifier: () => Promise<void>;

  beforeAll(async () => {
    issuer = await startTestIssuer({ webhooks: { allowHosts: ['127.0.0.1'] } });
    const logger = createLogger('trace', out.stream);
    const boom: RouteModule<IssuerDeps> = (router) => {
      router.get('/boom', () => {
        throw new Error('kaboom');
      });
    };
    app = createApp<IssuerDeps>({ ...issuer.deps, logger, routes: [...ISSUER_ROUTES, boom] });
    const v = createVerifier({ db: issuer.db, ...issuer.verifier, logger });
    verifierApp = v.app;
    closeVerifier = v.close;
  }, 60_000);

  afterAll(async () => {
    await closeVerifier?.();
    await issuer?.stop();
  });

  it('never writes a token, a secret or a body, whatever the status', async () => {
    const gln = withCheckDigit('061414100050');
    const admin = `Bearer ${issuer.adminToken}`;
    await request(app)
      .post('/v1/parties')
      .set('Authorization', admin)
      .send({ gln, name: 'Acme', roles: ['manufacturer'], prefixes: ['0614141'] })
      .expect(201);
    const tok = await request(app)
      .post(`/v1/parties/${gln}/tokens`)
      .set('Authorization', admin)
      .send({ scopes: ['sign'] })
      .expect(201);
    const hook = await request(app)
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${tok.body.token}`)
      .send({ url: 'http://127.0.0.1:9/hook', events: ['case.opened'] })
      .expect(201);
    const bodySecret = 'body-secret-8c1f5e0b7a';
    await request(app)
      .post('/v1/recalls')
      .set('Authorization', `Bearer ${tok.body.token}`)
      .set('Idempotency-Key', 'idem-key-secret-5a5a')
      .send({ gtin: 'x', reason: bodySecret, password: bodySecret })
      .expect(400);
    await request(app).get('/boom').set('Authorization', admin).expect(500);
    const text = out.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of [
      issuer.adminToken,
      tok.body.token as string,
      hook.body.secret as string,
      bodySecret,
      'idem-key-secret-5a5a',
    ])
      expect(text).not.toContain(secret);
    expect(text).not.toMatch(/authorization/i);
  });

  it('logs 4xx at info and 5xx at error, with the route and the service', async () => {
    await request(app).get('/v1/parties/0000000000000').expect(401);
    await request(app).get('/boom').set('Authorization', `Bearer ${issuer.adminToken}`).expect(500);
    const lines = out.json().filter((l) => l.res);
    const unauth = lines.find((l) => l.res.statusCode === 401);
    expect(unauth).toMatchObject({ level: 30, service: 'issuer' });
    const boom = lines.filter((l) => l.res.statusCode === 500).at(-1);
    expect(boom).toMatchObject({ level: 50, service: 'issuer', route: '/boom' });
    expect(boom.err.message).toBe('kaboom');
    expect(JSON.stringify(boom.err)).not.toMatch(/\n\s+at /); // one frame, never the stack
  });

  it('names the verifier and the dock in their lines', async () => {
    await request(verifierApp).get('/v1/verifier').expect(200);
    await request(verifierApp).get('/dock');
    const lines = out.json().filter((l) => l.res);
    expect(lines.find((l) => l.req.url === '/v1/verifier')?.service).toBe('verifier');
    expect(lines.find((l) => l.req.url === '/dock')?.service).toBe('dock');
    // One `service` key per line (pino repeats a key given twice).
    for (const raw of out.text().split('\n').filter(Boolean))
      expect(raw.match(/"service":/g)?.length ?? 0).toBeLessThanOrEqual(1);
  });
});

describe('createLogger', () => {
  it('writes JSON lines by default and pretty lines when asked (a terminal)', () => {
    const json = capture();
    createLogger('info', json.stream).info({ gln: '123' }, 'hello json');
    expect(json.json()[0]).toMatchObject({ msg: 'hello json', gln: '123' });
    const human = capture();
    createLogger('info', human.stream, { pretty: true })
      .child({ service: 'issuer' })
      .info('hello terminal');
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        const t = human.text();
        expect(t).toContain('hello terminal');
        expect(t).toContain('INFO');
        expect(() => JSON.parse(t)).toThrow();
        resolve();
      }),
    );
  });
});

describe('the first start', () => {
  it('logs its demo seeding at debug, so at info only the banner shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-logs-'));
    const server = process.env.PROVENANT_TEST_DATABASE_URL;
    const dbUrl = server ? await createTestDatabase(server, 'provenant_logs') : null;
    const out = capture();
    let banner = '';
    const svc = await startService({
      env: {
        PORT: '0',
        PROVENANT_DATA_DIR: dir,
        PROVENANT_DEMO: 'on',
        PROVENANT_MASTER_KEY: Buffer.alloc(32, 6).toString('base64'),
        LOG_LEVEL: 'debug',
        ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
      },
      logger: createLogger('debug', out.stream),
      print: (t) => (banner += t),
      warn: () => {},
    });
    try {
      expect(svc.seed).not.toBeNull();
      const requests = out.json().filter((l) => l.req);
      expect(requests.length).toBeGreaterThanOrEqual(12);
      expect(requests.every((l) => l.level === 20)).toBe(true);
      // After the start, requests are at info again.
      await fetch(`http://127.0.0.1:${svc.port}/healthz`);
      await new Promise((r) => setTimeout(r, 20));
      expect(
        out
          .json()
          .filter((l) => l.req)
          .at(-1),
      ).toMatchObject({ level: 30, req: { url: '/healthz' } });
      expect(banner).toContain('Provenant is listening');
      for (const p of svc.seed!.parties) expect(out.text()).not.toContain(p.token);
    } finally {
      await svc.stop();
      if (server && dbUrl) await dropTestDatabase(server, dbUrl);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
