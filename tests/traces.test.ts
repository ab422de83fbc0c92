// Traces (DESIGN §12): a W3C traceparent is accepted and propagated (response
// headers, log line), and with an OpenTelemetry SDK registered (here an
// in-memory exporter, as OTEL_EXPORTER_OTLP_ENDPOINT would register the OTLP
// one) one verification yields an HTTP span under the caller's parent, SQL
// spans and a signing span beneath it, all in the caller's trace.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-node';
import { ISSUER_ROUTES, type IssuerDeps } from '@provenant/issuer';
import { createApp, createLogger, traceDatabase, type RouteModule } from '@provenant/server-kit';
import { createVerifierDeps, VERIFIER_ROUTES, type VerifierDeps } from '@provenant/verifier';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';

const GTIN = withCheckDigit('1061414100041');
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('traces', () => {
  let issuer: TestIssuer;
  let verifier: VerifierDeps;
  let api: Api;
  let dist: Party;
  const lines: string[] = [];

  beforeAll(async () => {
    issuer = await startTestIssuer();
    verifier = createVerifierDeps({ db: traceDatabase(issuer.db), ...issuer.verifier });
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const routes: RouteModule<IssuerDeps & VerifierDeps>[] = [...ISSUER_ROUTES, ...VERIFIER_ROUTES];
    api = new Api(
      createApp<IssuerDeps & VerifierDeps>({
        ...issuer.deps,
        ...verifier,
        config: issuer.config,
        logger,
        routes,
      }),
      issuer.adminToken,
    );
    const mfr = await api.party(
      withCheckDigit('061414100040'),
      'Acme',
      ['manufacturer'],
      ['0614141'],
    );
    dist = await api.party(withCheckDigit('061414100041'), 'Northwind', ['distributor']);
    await api.commission(mfr, GTIN, ['T1']);
  }, 120_000);

  afterAll(async () => {
    await verifier?.pool.close();
    await issuer?.stop();
  });

  describe('without an SDK', () => {
    it('continues the caller’s trace with a span id of its own, in the response and the log line', async () => {
      const res = await request(api.app)
        .get('/healthz')
        .set('traceparent', `00-${TRACE}-${PARENT}-01`)
        .expect(200);
      const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(res.headers.traceparent!);
      expect(m?.[1]).toBe(TRACE);
      expect(m?.[2]).not.toBe(PARENT);
      expect(res.headers.traceresponse).toBe(res.headers.traceparent);
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.trace_id === TRACE);
      expect(line).toMatchObject({ trace_id: TRACE, span_id: m![2], service: 'issuer' });
    });

    it('starts a new trace for a missing or malformed traceparent', async () => {
      for (const bad of [
        undefined,
        'garbage',
        `00-${'0'.repeat(32)}-${PARENT}-01`,
        `ff-${TRACE}-${PARENT}`,
      ]) {
        const req = request(api.app).get('/healthz');
        if (bad) req.set('traceparent', bad);
        const res = await req.expect(200);
        const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(res.headers.traceparent!);
        expect(m).not.toBeNull();
        expect(m![1]).not.toBe(TRACE);
        expect(m![1]).not.toBe('0'.repeat(32));
      }
    });
  });

  describe('with an SDK and an in-memory exporter', () => {
    const exporter = new InMemorySpanExporter();
    let provider: NodeTracerProvider;

    beforeAll(() => {
      provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
      provider.register();
    });

    afterAll(async () => {
      await provider.shutdown();
    });

    it('exports the HTTP, SQL and signing spans of one verification, parented by traceparent', async () => {
      exporter.reset();
      const res = await request(api.app)
        .post('/v1/verifications')
        .set('Authorization', `Bearer ${dist.token}`)
        .set('traceparent', `00-${TRACE}-${PARENT}-01`)
        .send({ subject: unitSubject(GTIN, 'T1'), purpose: 'receiving' })
        .expect(201);
      await new Promise((r) => setImmediate(r)); // the span ends on 'finish'
      const spans = exporter.getFinishedSpans();
      const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;
      const http = spans.find((s) => s.name === 'HTTP POST /v1/verifications');
      expect(http).toBeDefined();
      expect(http!.spanContext().traceId).toBe(TRACE);
      expect(parentOf(http!)).toBe(PARENT);
      expect(http!.attributes['http.response.status_code']).toBe(201);
      expect(res.headers.traceparent).toBe(`00-${TRACE}-${http!.spanContext().spanId}-01`);

      const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
      const under = (s: ReadableSpan, ancestor: ReadableSpan): boolean => {
        for (let p = parentOf(s); p; p = byId.get(p) ? parentOf(byId.get(p)!) : undefined)
          if (p === ancestor.spanContext().spanId) return true;
        return false;
      };
      const sql = spans.filter((s) => s.name.startsWith('SQL '));
      expect(sql.length).toBeGreaterThan(0);
      for (const s of sql) {
        expect(s.spanContext().traceId).toBe(TRACE);
        expect(under(s, http!)).toBe(true);
        expect(JSON.stringify(s.attributes)).not.toMatch(/ FROM |\$1|VALUES|unnest/i); // no statement text
      }
      expect(sql.map((s) => s.name)).toContain('SQL INSERT');
      const signing = spans.find((s) => s.name === 'sign verification receipt');
      expect(signing).toBeDefined();
      expect(parentOf(signing!)).toBe(http!.spanContext().spanId);
    });
  });
});
