// OTEL_EXPORTER_OTLP_ENDPOINT (DESIGN §12): the service registers the
// OpenTelemetry SDK and exports its spans over OTLP/HTTP to a real collector
// endpoint on 127.0.0.1 (here a bare HTTP server that keeps what it gets).
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '../services/issuer/src/main.js';
import { createTestDatabase, dropTestDatabase } from './support/service-process.js';

describe('OTLP export', () => {
  it('posts the spans of a request to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces', async () => {
    const posts: { path: string; size: number }[] = [];
    const collector = createServer((req, res) => {
      let size = 0;
      req.on('data', (d: Buffer) => (size += d.length));
      req.on('end', () => {
        posts.push({ path: req.url ?? '', size });
        res.statusCode = 200;
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const dir = mkdtempSync(join(tmpdir(), 'provenant-otlp-'));
    const server = process.env.PROVENANT_TEST_DATABASE_URL;
    const dbUrl = server ? await createTestDatabase(server, 'provenant_otlp') : null;
    const svc = await startService({
      env: {
        PORT: '0',
        PROVENANT_DATA_DIR: dir,
        PROVENANT_DEMO: 'off',
        PROVENANT_MASTER_KEY: Buffer.alloc(32, 4).toString('base64'),
        PROVENANT_ADMIN_TOKEN: 'otlp-test-admin-token-00000000000000',
        LOG_LEVEL: 'silent',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        ...(dbUrl ? { DATABASE_URL: dbUrl } : {}),
      },
      print: () => {},
      warn: () => {},
    });
    try {
      const res = await fetch(`http://127.0.0.1:${svc.port}/v1/log/checkpoint`);
      expect(res.status).toBe(200);
    } finally {
      await svc.stop(); // flushes the batch processor
      if (server && dbUrl) await dropTestDatabase(server, dbUrl);
      rmSync(dir, { recursive: true, force: true });
      await new Promise<void>((r) => collector.close(() => r()));
    }
    expect(posts.length).toBeGreaterThan(0);
    expect(posts.every((p) => p.path === '/v1/traces' && p.size > 0)).toBe(true);
  }, 120_000);
});
