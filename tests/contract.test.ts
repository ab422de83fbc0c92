// The API description is the truth (issue 9): /openapi.json as `pnpm start`
// serves it, its shape (Redocly's needs: operationId, security, one Problem,
// patterns without regex flags), the contract check itself, a flow through
// every operation of the issuer and the verifier whose every response is
// checked against the description, and the /docs page served from this
// origin only. Real database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { generateKeyPair, strictApi, toBase64Url, tolerantApi, unitSubject } from '@provenant/core';
import * as sdk from '@provenant/sdk';
import { createApp, DOCS_CSP } from '@provenant/server-kit';
import { createTestDatabase } from '@provenant/store';
import { serviceDocument } from '../scripts/openapi-document.js';
import {
  answeredOperations,
  Contract,
  contractOf,
  settleFetchedChecks,
  takeViolations,
  watchContract,
  watchOrigin,
} from './support/contract.js';
import { startTestIssuer } from './support/issuer.js';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `METHOD path` of every operation of a document. */
function operations(doc: Json): { key: string; op: Json; path: string }[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({
      key: `${m.toUpperCase()} ${path}`,
      op: item[m] as Json,
      path,
    })),
  );
}

/** Every value of `key` anywhere in a JSON tree. */
function valuesOf(node: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(node)) for (const n of node) valuesOf(n, key, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === key) out.push(v);
      valuesOf(v, key, out);
    }
  return out;
}

const GTIN = withCheckDigit('1061414100041');
const SSCC = withCheckDigit('10614141000000041');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('the API description', () => {
  let world: TestWorld;
  let doc: Json;

  beforeAll(async () => {
    world = await startTestWorld();
    doc = contractOf(world.app).doc;
  });
  afterAll(async () => {
    await world?.stop();
  });

  it('is the document `pnpm start` serves (issuer app with the verifier mounted)', async () => {
    const db = await createTestDatabase();
    try {
      const started = await serviceDocument(db);
      expect(started).toEqual(doc);
      const served = await request(world.app).get('/openapi.json').expect(200);
      expect(served.body).toEqual(doc);
    } finally {
      await db.drop();
    }
  });

  it('names the whole service, its licence and its server', () => {
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toBe('Provenant API');
    expect(doc.info.license).toMatchObject({ name: expect.any(String) });
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });

  it('gives every operation a unique operationId and a security requirement', () => {
    const ops = operations(doc);
    const ids = ops.map((o) => o.op.operationId as string);
    expect(ids.every((id) => /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { key, op } of ops) expect([key, Array.isArray(op.security)]).toEqual([key, true]);
    const anonymous = ops.filter((o) => o.op.security.length === 0).map((o) => o.key);
    expect(anonymous).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /readyz',
        'GET /openapi.json',
        'GET /docs',
        'GET /dock',
        'GET /v1/log/checkpoint',
        'GET /v1/verifier',
      ]),
    );
    expect(anonymous).not.toContain('POST /v1/parties');
  });

  it('answers every error with the one $ref’d Problem schema', () => {
    expect(doc.components.schemas.Problem).toBeDefined();
    for (const { key, op } of operations(doc))
      for (const [status, response] of Object.entries(op.responses as Json))
        if (/^[45]/.test(status))
          expect([key, status, response.content]).toEqual([
            key,
            status,
            { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          ]);
  });

  it('lists the statuses the framework answers: bodies, auth, rate limits, database', () => {
    const op = (key: string) => operations(doc).find((o) => o.key === key)!.op;
    const statuses = (key: string) => Object.keys(op(key).responses);
    expect(statuses('POST /v1/parties')).toEqual(
      expect.arrayContaining([
        '201',
        '400',
        '401',
        '403',
        '409',
        '413',
        '415',
        '422',
        '429',
        '503',
      ]),
    );
    expect(statuses('GET /v1/chains/01/{gtin}/21/{serial}')).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '404', '429', '503']),
    );
    // 401: a token sent must be valid, anywhere.
    expect(statuses('GET /readyz')).toEqual(['200', '401', '503']);
    expect(statuses('GET /healthz')).toEqual(['200', '401']);
    expect(op('GET /v1/cases/{id}/form3911').responses['200'].content).toEqual({
      'application/json': { schema: { $ref: '#/components/schemas/Form3911' } },
    });
  });

  it('documents the shapes the SDK and the dock read, from one source (core api/)', () => {
    // The SDK parses answers with the tolerant form of the shapes the server registers.
    const sdkSchemas: [keyof typeof tolerantApi, unknown][] = [
      ['verification', sdk.verificationSchema],
      ['reason', sdk.reasonSchema],
      ['party', sdk.partySchema],
      ['registeredKey', sdk.registeredKeySchema],
      ['issuedToken', sdk.issuedTokenSchema],
      ['revokedKey', sdk.revokedKeySchema],
      ['appendResult', sdk.appendResultSchema],
      ['recordsResponse', sdk.recordsResponseSchema],
      ['packResponse', sdk.packResponseSchema],
      ['shipmentResponse', sdk.shipmentResponseSchema],
      ['receiptResponse', sdk.receiptResponseSchema],
      ['recallResponse', sdk.recallResponseSchema],
      ['chain', sdk.chainSchema],
      ['bundle', sdk.bundleOutlineSchema],
      ['logInfo', sdk.logInfoSchema],
      ['logEntries', sdk.logEntriesSchema],
      ['logLeaves', sdk.logLeavesSchema],
      ['logNotices', sdk.logNoticesSchema],
      ['inclusionProof', sdk.inclusionProofSchema],
      ['consistencyProof', sdk.consistencyProofSchema],
      ['cosignatureResult', sdk.cosignatureResultSchema],
      ['witnessList', sdk.witnessListSchema],
      ['verifierStatus', sdk.verifierInfoSchema],
      ['auditReport', sdk.auditReportSchema],
      ['vrsResponse', sdk.vrsResponseSchema],
      ['me', sdk.meSchema],
      ['caseView', sdk.caseSchema],
      ['casesPage', sdk.casesPageSchema],
    ];
    for (const [key, schema] of sdkSchemas) expect([key, schema]).toEqual([key, tolerantApi[key]]);
    // Each registered component is the strict form: the same fields, closed.
    const components: Record<string, keyof typeof strictApi> = {
      Verification: 'verification',
      RegistryParty: 'party',
      TokenInfo: 'tokenInfo',
      LogInfo: 'logInfo',
      LogEntries: 'logEntries',
      LogLeaves: 'logLeaves',
      LogNotices: 'logNotices',
      StoredCosignature: 'cosignatureResult',
      DsseEnvelope: 'envelope',
      RecordAppendResult: 'appendResult',
      NoticeAppendResult: 'noticeAppendResult',
      CustodialRecords: 'recordsResponse',
      CustodialPack: 'packResponse',
      CustodialShipment: 'shipmentResponse',
      CustodialReceipt: 'receiptResponse',
      CustodialRecall: 'recallResponse',
      Chain: 'chain',
      Bundle: 'bundle',
      Witness: 'witness',
      Case: 'caseView',
      Me: 'me',
      DockTrust: 'dockTrust',
      Form3911: 'form3911',
      VerifierStatus: 'verifierStatus',
      VerifierAlarm: 'verifierAlarm',
      AuditReport: 'auditReport',
      EpcisCaptureJob: 'captureJob',
      EpcisCaptureResult: 'capturedEvent',
      EpcisQueryDocument: 'epcisQueryDocument',
      EpcisEventTypes: 'epcisEventTypes',
    };
    for (const [name, key] of Object.entries(components)) {
      const served = doc.components.schemas[name];
      expect([name, Object.keys(served.properties)]).toEqual([
        name,
        Object.keys((strictApi[key] as unknown as { shape: object }).shape),
      ]);
      expect([name, served.additionalProperties]).toEqual([name, false]);
    }
    expect(doc.components.schemas.Verification.properties.verdict.enum).toEqual([
      'accept',
      'quarantine',
      'reject',
    ]);
  });

  it('documents every route the service answers outside /v1 too', () => {
    const keys = operations(doc).map((o) => o.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'GET /healthz',
        'GET /readyz',
        'GET /openapi.json',
        'GET /docs',
        'GET /docs/assets/api-reference.js',
        'GET /dock',
        'GET /dock/app.js',
        'GET /dock/trust.json',
        'GET /v1/chains/{subject}',
      ]),
    );
  });

  it('has patterns that compile as JSON Schema (ECMA-262) patterns, without regex flags', () => {
    const patterns = valuesOf(doc, 'pattern').filter((p): p is string => typeof p === 'string');
    expect(patterns.length).toBeGreaterThan(5);
    for (const p of patterns) {
      expect(() => new RegExp(p)).not.toThrow();
      expect(() => new RegExp(p, 'u')).not.toThrow();
      // No `/u` (or any flag) leaking from RegExp#toString().
      expect([p, /(^|[^\\])(\\\\)*\/[dgimsuyv]+$/.test(p)]).toEqual([p, false]);
      // Unicode property and code point escapes mean something else without `u`.
      expect([p, /\\[pP]\{|\\u\{/.test(p)]).toEqual([p, false]);
    }
  });

  it('is rendered by Scalar API Reference served by the service itself, nothing from elsewhere', async () => {
    const page = await request(world.app).get('/docs').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).not.toMatch(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/i);
    const scripts = [...page.text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(['/docs/assets/init.js', '/docs/assets/api-reference.js']);
    // Only this origin: no host, no scheme, no inline script.
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toBe(DOCS_CSP);
    for (const directive of csp.split(';'))
      expect([directive, /https?:|\*|'unsafe-eval'/.test(directive)]).toEqual([directive, false]);
    expect(csp).toMatch(/(^|; )script-src 'self'(;|$)/);
    expect(csp).toMatch(/(^|; )connect-src 'self'(;|$)/);

    const bundle = await request(world.app).get('/docs/assets/api-reference.js').expect(200);
    expect(bundle.headers['content-type']).toMatch(/^text\/javascript/);
    expect(bundle.text).toContain('createApiReference');
    const init = await request(world.app).get('/docs/assets/init.js').expect(200);
    expect(init.text).toContain("'../../openapi.json'");
    expect(init.text).toMatch(/withDefaultFonts: false/);
    expect(init.text).toMatch(/telemetry: false/);
    expect(init.text).not.toMatch(/https?:\/\//);
  });
});

describe('the contract check', () => {
  const doc = {
    openapi: '3.1.0',
    info: { title: 't', version: '1' },
    paths: {
      '/v1/things/{id}': {
        get: {
          responses: {
            200: {
              description: 'ok',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    required: ['id'],
                    properties: { id: { $ref: '#/components/schemas/Id' } },
                  },
                },
              },
            },
            404: { description: 'no', content: { 'application/problem+json': { schema: {} } } },
          },
        },
      },
      '/v1/things/special': { get: { responses: { 204: { description: 'none' } } } },
    },
    components: { schemas: { Id: { type: 'string', pattern: '^[a-z]+$' } } },
  };
  const c = new Contract(doc);
  const json = 'application/json; charset=utf-8';
  const x = (url: string, status: number, body: unknown, contentType = json) => ({
    method: 'GET',
    url,
    status,
    contentType,
    body: body === undefined ? '' : JSON.stringify(body),
  });

  it('accepts a declared status with a body matching its schema ($refs followed)', () => {
    expect(c.check(x('/v1/things/abc?x=1', 200, { id: 'abc' }))).toBeNull();
    expect(c.check(x('/v1/things/special', 204, undefined))).toBeNull();
  });

  it('refuses a body outside the schema, naming where', () => {
    expect(c.check(x('/v1/things/abc', 200, { id: 'ABC' }))).toMatch(/\/id must match pattern/);
    expect(c.check(x('/v1/things/abc', 200, { other: 1 }))).toMatch(/must have required/);
  });

  it('refuses an undeclared status, path, method or content type', () => {
    expect(c.check(x('/v1/things/abc', 500, {}))).toMatch(/status 500 is not declared/);
    expect(c.check(x('/v1/nothing', 404, {}))).toMatch(/no path of the API description/);
    expect(c.check({ ...x('/v1/things/abc', 200, { id: 'a' }), method: 'POST' })).toMatch(
      /declares no POST/,
    );
    expect(c.check(x('/v1/things/abc', 200, { id: 'a' }, 'text/plain'))).toMatch(
      /Content-Type text\/plain is not declared/,
    );
  });

  it('prefers a concrete path to a template', () => {
    expect(c.template('/v1/things/special')).toBe('/v1/things/special');
    expect(c.template('/v1/things/other')).toBe('/v1/things/{id}');
    expect(c.template('/v1/things/a/b')).toBeUndefined();
  });

  it('watches every response of the test helpers’ apps', async () => {
    const issuer = await startTestIssuer();
    try {
      takeViolations();
      await request(issuer.app).get('/v1/undeclared').expect(404);
      expect(takeViolations()).toEqual([
        expect.stringMatching(/^GET \/v1\/undeclared → 404: no path/),
      ]);
    } finally {
      await issuer.stop();
    }
  });

  it('checks every response fetched from a watched service process against the document it serves', async () => {
    // A stand-in for a spawned service: it serves `doc` and answers 200 as declared, 418 not.
    const server = createServer((req, res) => {
      const [status, body] =
        req.url === '/openapi.json'
          ? [200, doc]
          : req.url === '/v1/things/abc'
            ? [200, { id: 'abc' }]
            : [418, { id: 'teapot' }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await watchOrigin(url);
      takeViolations();
      expect((await fetch(`${url}/v1/things/abc`)).status).toBe(200);
      expect((await fetch(`${url}/v1/things/xyz`)).status).toBe(418);
      await settleFetchedChecks();
      expect(takeViolations()).toEqual([
        expect.stringMatching(
          /^http:\/\/127\.0\.0\.1:\d+: GET \/v1\/things\/xyz → 418: status 418/,
        ),
      ]);
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });
});

describe('every operation, answered as described', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  const anon = (path: string) => request(world.app).get(path);

  it('answers the anonymous routes: health, description, docs, dock, log', async () => {
    await anon('/healthz').expect(200);
    await anon('/readyz').expect(200);
    await anon('/openapi.json').expect(200);
    await anon('/docs').expect(200);
    await anon('/docs/assets/init.js').expect(200);
    await anon('/docs/assets/api-reference.js').expect(200);
    await anon('/dock').expect(200);
    await anon('/dock/app.js').expect(200);
    await anon('/dock/app.css').expect(200);
    await anon('/dock/sw.js').expect(200);
    await anon('/dock/zxing_reader.wasm').expect(200);
    await anon('/dock/trust.json').expect(200);
    await anon('/v1/log').expect(200);
    await anon('/v1/verifier').expect(200);
  }, 60_000);

  it('answers the registry, including its errors', async () => {
    mfr = await api.party(
      withCheckDigit('061414100040'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
      {
        clientKey: true,
      },
    );
    dist = await api.party(withCheckDigit('061414100041'), 'Northwind', ['distributor']);
    pharm = await api.party(withCheckDigit('061414100042'), 'St. Mary', ['dispenser']);
    const admin = world.issuer.adminToken;
    const newParty = {
      gln: withCheckDigit('061414100043'),
      name: 'X',
      roles: ['3pl'],
      prefixes: [],
    };
    await api.post('/v1/parties', admin, { ...newParty, roles: ['nope'] }).expect(400);
    await request(world.app).post('/v1/parties').send(newParty).expect(401);
    await api.post('/v1/parties', mfr.token, newParty).expect(403);
    await api
      .post('/v1/parties', admin, newParty)
      .set('Content-Type', 'text/plain')
      .send('gln')
      .expect(415);
    await api.post('/v1/parties', admin, newParty).set('Idempotency-Key', 'k-1').expect(201);
    await api
      .post('/v1/parties', admin, { ...newParty, name: 'Y' })
      .set('Idempotency-Key', 'k-1')
      .expect(422);
    await api.post('/v1/parties', admin, newParty).expect(409);
    await api.get(`/v1/parties/${mfr.gln}`, dist.token).expect(200);
    await api.get(`/v1/parties/${withCheckDigit('061414100049')}`, dist.token).expect(404);
    await api.get('/v1/parties/123', dist.token).expect(400);
    const issued = await api
      .post(`/v1/parties/${newParty.gln}/tokens`, admin, { scopes: ['sign'] })
      .expect(201);
    await api.get(`/v1/parties/${newParty.gln}/tokens`, admin).expect(200);
    await api.post(`/v1/tokens/${issued.body.id}/revoke`, admin, {}).expect(200);
    await api.get(`/v1/parties/${newParty.gln}/tokens`, dist.token).expect(403);
    const witnessKey = toBase64Url(generateKeyPair().publicKey);
    await api
      .post('/v1/witnesses', admin, { name: 'witness.example', publicKey: witnessKey })
      .expect(201);
    await api
      .post('/v1/witnesses', dist.token, { name: 'w2.example', publicKey: witnessKey })
      .expect(403);
    await request(world.app).get('/v1/witnesses').expect(200);
    await api.get('/v1/me', dist.token).expect(200);
    // Webhooks (DESIGN §12): a plain-http URL is refused (SSRF guard); unknown ids are 404.
    await api
      .post('/v1/webhooks', dist.token, { url: 'http://example.com/hook', events: ['case.opened'] })
      .expect(400);
    await api.get('/v1/webhooks', dist.token).expect(200);
    await request(world.app)
      .delete('/v1/webhooks/wh_nope')
      .set('Authorization', `Bearer ${dist.token}`)
      .expect(404);
    await api.post('/v1/webhooks/wh_nope/rotate', dist.token, {}).expect(404);
    await api.get('/v1/webhooks/wh_nope/deliveries', dist.token).expect(404);
    await api.post('/v1/webhooks/wh_nope/deliveries/1/redeliver', dist.token, {}).expect(404);
    await request(world.app).get('/v1/me').expect(401);
    await api.post(`/v1/parties/${newParty.gln}/suspend`, admin, { reason: 'audit' }).expect(200);
    await api.post(`/v1/parties/${newParty.gln}/reinstate`, admin, {}).expect(200);
    const key = await api.clientKey(dist.gln);
    const revoke = { compromisedAt: new Date().toISOString(), reason: 'lost' };
    await api.post(`/v1/keys/${key.kid}/revoke`, dist.token, revoke).expect(403); // needs `keys`
    await api.post(`/v1/keys/${key.kid}/revoke`, admin, revoke).expect(200);
    await api.post(`/v1/keys/${key.kid}/revoke`, admin, revoke).expect(409);
  }, 60_000);

  it('answers custody, chains, bundles and the log', async () => {
    const serials = ['C001', 'C002', 'C003'];
    await api.commission(mfr, GTIN, serials);
    await api.pack(mfr, SSCC, [unit('C001'), unit('C002')]);
    await api.handoff(mfr, dist, [`00/${SSCC}`], 'ASN-C1');
    await api.unpack(dist, SSCC);
    await api
      .post('/v1/shipments', mfr.token, { subjects: [unit('C001')], to: pharm.gln, shipment: 'X' })
      .expect(422);
    await api.decommission(mfr, [unit('C003')], 'sample');
    await api.post('/v1/reactivations', mfr.token, { subjects: [unit('C003')] }).expect(201);
    await api.post('/v1/recalls', mfr.token, { gtin: GTIN, lot: 'LX', reason: 'test' }).expect(201);
    // Client-signed: appended (201), then the same envelope again (200, the stored result).
    const h = await api.head(unit('C003'), mfr.token);
    const env = api.signRecord(mfr, {
      subject: unit('C003'),
      seq: h.seq + 1,
      prev: h.id,
      type: 'decommission',
      data: { reason: 'sample' },
    });
    await api.post('/v1/records', mfr.token, env).expect(201);
    await api.post('/v1/records', mfr.token, env).expect(200);

    for (const kind of ['chains', 'bundles']) {
      await api.get(`/v1/${kind}/${unit('C001')}`, dist.token).expect(200);
      await api.get(`/v1/${kind}/00/${SSCC}`, dist.token).expect(200);
      await api.get(`/v1/${kind}/${encodeURIComponent(unit('C002'))}`, dist.token).expect(200);
      await api.get(`/v1/${kind}/${unit('NOPE1')}`, dist.token).expect(404);
      await request(world.app)
        .get(`/v1/${kind}/${unit('C001')}`)
        .expect(401);
    }
    // The same custody as EPCIS 2.0 events (DESIGN §11), paged, one by its eventID.
    const page = await api.get('/epcis/events?perPage=1', dist.token).expect(200);
    expect(page.headers['link']).toMatch(/rel="next"/);
    const eventID = page.body.epcisBody.queryResults.resultsBody.eventList[0].eventID as string;
    await api.get(`/epcis/events/${encodeURIComponent(eventID)}`, dist.token).expect(200);
    await api.get(`/epcis/events/${encodeURIComponent('urn:uuid:nope')}`, dist.token).expect(404);
    await api.get('/epcis/events?EQ_readPoint=x', dist.token).expect(400);
    await request(world.app).get('/epcis/events').expect(401);

    await anon('/v1/log/checkpoint').expect(200);
    const size = Number((await anon('/v1/log/checkpoint')).text.split('\n')[1]);
    await anon('/v1/log/entries?start=0&end=1').expect(401); // DESIGN §6a: admin or monitor
    const admin = world.issuer.adminToken;
    await api.get('/v1/log/entries?start=0&end=1', admin).expect(200);
    await api.get('/v1/log/entries?start=-1', admin).expect(400);
    await anon('/v1/log/leaves?start=0&end=1').expect(200);
    await anon('/v1/log/notices').expect(200);
    await anon(`/v1/log/proofs/inclusion?leafHash=${'00'.repeat(32)}&size=${size}`).expect(404);
    await anon(`/v1/log/proofs/inclusion?index=0&size=${size}`).expect(200);
    await anon(`/v1/log/proofs/inclusion?index=${size}&size=${size}`).expect(400);
    await anon(`/v1/log/proofs/consistency?from=1&to=${size}`).expect(200);
    await request(world.app)
      .post('/v1/log/cosignatures')
      .send({ checkpoint: 'not a note', cosignature: 'x' })
      .expect((res) => expect([400, 422]).toContain(res.status));
  }, 120_000);

  it('answers verification, VRS and cases, including their errors', async () => {
    const ok = await api.verify(dist, { subject: unit('C002'), purpose: 'receiving' }).expect(201);
    await api.get(`/v1/verifications/${ok.body.id}`, dist.token).expect(200);
    await api.get(`/v1/verifications/${ok.body.id}`, pharm.token).expect(404);
    await api.verify(dist, { purpose: 'receiving' }).expect(400);
    const bundle = await api.bundle(unit('C002'), dist.token);
    await api.verifyBundle(dist, bundle).expect(201);

    await api.get(`/v1/vrs/01/${GTIN}/21/C002?10=L1&corrUUID=c-1`, dist.token).expect(200);
    await api
      .get(`/v1/vrs/01/${GTIN}/21/C002?corrUUID=c-2&bogus=1`, dist.token)
      .expect((res) => expect([200, 400]).toContain(res.status));
    await api
      .get(`/v1/vrs/01/${withCheckDigit('1099999900041')}/21/X1?corrUUID=c-3`, dist.token)
      .expect(404);
    await api
      .get(
        `/v1/vrs/checkConnectivity?gtin=${GTIN}&reqGLN=${dist.gln}&context=dscsaSaleableReturn`,
        dist.token,
      )
      .expect(200);
    await api
      .get(
        `/v1/vrs/checkConnectivity?gtin=${GTIN}&reqGLN=${pharm.gln}&context=dscsaSaleableReturn`,
        dist.token,
      )
      .expect(403);
    await api.get('/epcis/eventTypes', dist.token).expect(200);
    await api.post('/epcis/events', dist.token, { type: 'TransformationEvent' }).expect(400);
    const captured = await api
      .post('/epcis/capture', dist.token, {
        '@context': ['https://ref.gs1.org/standards/epcis/epcis-context.jsonld'],
        type: 'EPCISDocument',
        schemaVersion: '2.0',
        creationDate: new Date().toISOString(),
        epcisBody: { eventList: [{ type: 'TransformationEvent' }] },
      })
      .expect(202);
    await api.get(String(captured.headers['location']), dist.token).expect(200);
    await api.get('/epcis/capture/nope', dist.token).expect(404);
    await api.post('/epcis/capture', dist.token, { type: 'EPCISDocument' }).expect(400);

    // Not shipped to the pharmacy: a case opens at its receiving dock.
    const bad = await api
      .verify(pharm, { subject: unit('C002'), purpose: 'receiving' })
      .expect(201);
    expect(bad.body.verdict).not.toBe('accept');
    const list = await api.get('/v1/cases?status=open', pharm.token).expect(200);
    const id = list.body.cases[0].id as string;
    await api.get('/v1/cases?limit=0', pharm.token).expect(400);
    await api.get(`/v1/cases/${id}`, pharm.token).expect(200);
    await api.get(`/v1/cases/${id}`, dist.token).expect(404);
    await api.get(`/v1/cases/${id}/form3911`, pharm.token).expect(200);
    await api.post(`/v1/cases/${id}/resolve`, pharm.token, { outcome: 'nope' }).expect(400);
    await api.post(`/v1/cases/${id}/resolve`, pharm.token, { outcome: 'returned' }).expect(200);
    await api.post(`/v1/cases/${id}/resolve`, pharm.token, { outcome: 'returned' }).expect(409);
  }, 120_000);

  it('answers the log monitor: its audit and alarm acknowledgement (DESIGN §7b)', async () => {
    const admin = world.issuer.adminToken;
    const audit = await api.post('/v1/verifier/audit', admin, {}).expect(200);
    expect(audit.body.findings).toEqual([]);
    await api.post('/v1/verifier/audit', pharm.token, {}).expect(403);
    await api.post('/v1/verifier/alarms/1/ack', admin, {}).expect(404);
    await api.post('/v1/verifier/alarms/x/ack', admin, {}).expect(400);
    await request(world.app).post('/v1/verifier/alarms/1/ack').expect(401);
    await api.post('/v1/verifier/alarms/1/ack', pharm.token, {}).expect(403);
  });

  it('answers 413 beyond the body limit and 503 when the database is down', async () => {
    const small = await startTestIssuer({ bodyLimit: 256 });
    try {
      await request(small.app)
        .post('/v1/parties')
        .set('Authorization', `Bearer ${small.adminToken}`)
        .send({ gln: 'x'.repeat(1000) })
        .expect(413);
    } finally {
      await small.stop();
    }
    const down = watchContract(
      createApp({
        db: {
          query: () =>
            Promise.reject(Object.assign(new Error('down'), { name: 'DatabaseUnavailableError' })),
        },
        config: { bodyLimit: 1024, adminTokenHash: null },
      }),
    );
    await request(down).get('/readyz').expect(503);
  });

  it('has answered every operation of the description at least once', () => {
    const doc = contractOf(world.app).doc;
    const answered = new Set([...answeredOperations()].map((a) => a.replace(/ \d{3}$/, '')));
    const missing = operations(doc)
      .map((o) => o.key)
      .filter((k) => !answered.has(k));
    expect(missing).toEqual([]);
  });
});
