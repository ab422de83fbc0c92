// GET /metrics (DESIGN §12, §8a): Prometheus text for the admin and `monitor`
// tokens, and on METRICS_PORT; the counters move with requests, verdicts,
// sequencer batches and webhook attempts. Runs on the default test database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import { ISSUER_ROUTES, type IssuerDeps } from '@provenant/issuer';
import { createApp, type RouteModule } from '@provenant/server-kit';
import { createVerifierDeps, VERIFIER_ROUTES, type VerifierDeps } from '@provenant/verifier';
import { createServer } from 'node:net';
import { startService } from '../services/issuer/src/main.js';
import { createTestDatabase, dropTestDatabase } from './support/service-process.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';

const GTIN = withCheckDigit('1061414100031');

/** The value of one series in Prometheus text (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('GET /metrics', () => {
  let issuer: TestIssuer;
  let verifier: VerifierDeps;
  let api: Api;
  let mfr: Party;
  let dist: Party;

  const scrape = async (): Promise<string> => {
    const res = await api.get('/metrics', issuer.adminToken).expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  beforeAll(async () => {
    issuer = await startTestIssuer();
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
    mfr = await api.party(withCheckDigit('061414100030'), 'Acme', ['manufacturer'], ['0614141']);
    dist = await api.party(withCheckDigit('061414100031'), 'Northwind', ['distributor']);
  }, 120_000);

  afterAll(async () => {
    await verifier?.pool.close();
    await issuer?.stop();
  });

  it('answers the admin and a monitor token, and refuses other tokens and anonymous callers', async () => {
    await request(api.app).get('/metrics').expect(401);
    const refused = await api.get('/metrics', dist.token).expect(403);
    expect(refused.body.type).toBe('urn:provenant:problem:insufficient-scope');
    const monitor = await api
      .post(`/v1/parties/${dist.gln}/tokens`, issuer.adminToken, { scopes: ['monitor'] })
      .expect(201);
    const res = await api.get('/metrics', monitor.body.token).expect(200);
    expect(res.text).toContain('# TYPE provenant_http_requests_total counter');
    expect(res.text).not.toContain(monitor.body.token);
  });

  it('moves the request, verdict, sequencer, log and webhook series', async () => {
    const before = await scrape();
    await api.commission(mfr, GTIN, ['M1', 'M2']);
    await api
      .verify(dist, { subject: unitSubject(GTIN, 'NOPE'), purpose: 'receiving' })
      .expect(201);
    const after = await scrape();
    const http =
      'provenant_http_requests_total{method="POST",route="/v1/verifications",status="201"}';
    expect(value(after, http)).toBe(value(before, http) + 1);
    const commission =
      'provenant_http_requests_total{method="POST",route="/v1/commissions",status="201"}';
    expect(value(after, commission)).toBe(value(before, commission) + 1);
    expect(after).toMatch(
      /provenant_http_request_duration_seconds_bucket\{le="[^"]+",method="POST",route="\/v1\/verifications",status="201"\}/,
    );
    const quarantine = 'provenant_verdicts_total{verdict="quarantine"}';
    expect(value(after, quarantine)).toBe(value(before, quarantine) + 1);
    expect(after).toMatch(/provenant_verdict_reasons_total\{code="[A-Z_]+"\} \d+/);
    expect(value(after, 'provenant_sequencer_batch_entries_count')).toBeGreaterThan(
      value(before, 'provenant_sequencer_batch_entries_count'),
    );
    expect(value(after, 'provenant_sequencer_batch_entries_sum')).toBeGreaterThanOrEqual(
      value(before, 'provenant_sequencer_batch_entries_sum') + 2,
    );
    expect(value(after, 'provenant_sequencer_commit_seconds_count')).toBeGreaterThan(0);
    expect(value(after, 'provenant_log_size')).toBeGreaterThan(value(before, 'provenant_log_size'));
    // The quarantine queued verification.quarantined and case.opened (no subscriber: fan-out pending).
    expect(value(after, 'provenant_webhook_queue_depth{queue="events"}')).toBe(
      value(before, 'provenant_webhook_queue_depth{queue="events"}') + 2,
    );
    expect(after).toContain('provenant_webhook_deliveries_failed 0');
    expect(after).toContain('provenant_monitor_lag_seconds 0');
    // A path that matched no route is one label, not one per path.
    await api.get('/v1/nothing/here/123', dist.token).expect(404);
    expect(
      value(
        await scrape(),
        'provenant_http_requests_total{method="GET",route="unmatched",status="404"}',
      ),
    ).toBeGreaterThan(0);
  });
});

describe('METRICS_PORT', () => {
  it('serves /metrics without a token on its own port, and the service counts its requests', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'provenant-metrics-'));
    const server = process.env.PROVENANT_TEST_DATABASE_URL;
    const dbUrl = server ? await createTestDatabase(server, 'provenant_metrics') : null;
    const svc = await startService({
      env: {
        PORT: '0',
        METRICS_PORT: String(await freePort()),
        PROVENANT_DATA_DIR: dir,
        PROVENANT_DEMO: 'off',
        PROVENANT_ADMIN_TOKEN: 'metrics-test-admin-token-0000000000',
        PROVENANT_MASTER_KEY: Buffer.alloc(32, 3).toString('base64'),
        LOG_LEVEL: 'silent',
        ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
      },
      print: () => {},
      warn: () => {},
    });
    try {
      await fetch(`http://127.0.0.1:${svc.port}/healthz`);
      const res = await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`);
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(
        value(text, 'provenant_http_requests_total{method="GET",route="/healthz",status="200"}'),
      ).toBe(1);
      expect((await fetch(`http://127.0.0.1:${svc.metricsPort}/v1/parties`)).status).toBe(404);
    } finally {
      await svc.stop();
      if (server && dbUrl) await dropTestDatabase(server, dbUrl);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}
