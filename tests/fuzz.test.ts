// A property-based fuzz of every route the OpenAPI document describes (DESIGN
// §8): random path ids (control characters, broken %-escapes, long and
// unicode strings), query strings, JSON and non-JSON bodies (duplicate keys,
// deep nesting, wrong types), tokens (none, a party's, the admin's, a bad one)
// and Idempotency-Keys. For every request: never a 5xx, every 4xx is
// problem+json, and a refused request changes no row of the main tables.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import request from 'supertest';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';
import { allowingUndeclaredPath } from './support/contract.js';

const GTIN = withCheckDigit('1061414100005');
const SSCC = withCheckDigit('10614141000000077');
/** Runs of the property; each is one request (bounded: the file stays well under a minute). */
const RUNS = Number(process.env.FUZZ_RUNS ?? 400);

const TABLES = [
  'log_leaves',
  'records',
  'notices',
  'parties',
  'party_keys',
  'tokens',
  'verifications',
  'cases',
  'idempotency_keys',
  'checkpoints',
  'cosignatures',
  'chain_heads',
];

interface Route {
  method: 'get' | 'post' | 'delete';
  path: string;
  query: string[];
  body: string[];
}

/** Every operation of the OpenAPI document, with its query and top-level body field names. */
function routesOf(doc: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
}): Route[] {
  const out: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (method !== 'get' && method !== 'post' && method !== 'delete') continue;
      const params = (op.parameters ?? []) as { in: string; name: string }[];
      const schema = (
        op.requestBody as
          | {
              content?: {
                'application/json'?: { schema?: { properties?: object; $ref?: string } };
              };
            }
          | undefined
      )?.content?.['application/json']?.schema;
      let props = schema?.properties;
      if (!props && schema?.$ref) {
        const name = schema.$ref.split('/').pop()!;
        props = (
          doc as unknown as { components: { schemas: Record<string, { properties?: object }> } }
        ).components.schemas[name]?.properties;
      }
      out.push({
        method,
        path,
        query: params.filter((p) => p.in === 'query').map((p) => p.name),
        body: Object.keys(props ?? {}),
      });
    }
  }
  return out;
}

// Path ids: plausible ones, hostile ones, and anything at all.
const hostileId = fc.constantFrom(
  '%00',
  '%01',
  '%0a',
  '%0D%0A',
  '%7f',
  '%ZZ',
  '%E0%A4%A',
  '%',
  '..',
  '%2e%2e',
  '%252F',
  'A%2F1',
);
const plausibleId = fc.constantFrom(
  GTIN,
  SSCC,
  '0614141000012',
  'A1',
  `01%2F${GTIN}%2F21%2FA1`,
  '00000000-0000-0000-0000-000000000000',
  'a'.repeat(32),
  '0'.repeat(64),
);
const pathId = fc.oneof(
  { arbitrary: hostileId, weight: 3 },
  plausibleId,
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
);

const queryValue = fc.oneof(
  fc.constantFrom('0', '1', '-1', '1e3', '99999999999999999999', '', '00', 'x', GTIN),
  fc.string({ maxLength: 30 }),
);

// Bodies: raw text, so duplicate keys and broken JSON reach the parser as sent.
const jsonText = (keys: string[]) =>
  fc.oneof(
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc
      .dictionary(
        keys.length > 0 ? fc.oneof(fc.constantFrom(...keys), fc.string()) : fc.string(),
        fc.jsonValue({ maxDepth: 3 }),
        { maxKeys: 6 },
      )
      .map((o) => JSON.stringify(o)),
    fc.constantFrom(
      '{"a":1,"a":2}',
      '{"items":[{"gtin":"1","gtin":"2"}]}',
      '{',
      '[]',
      'null',
      '"x"',
      '7',
      '{"__proto__":{"admin":true}}',
      `{"bundle":{},"purpose":"receiving"}`,
      `{"scan":"\\u0000","purpose":"receiving"}`,
      '['.repeat(300) + ']'.repeat(300),
      '{"a":"\\ud800"}',
    ),
  );

describe('fuzz: every route, body, query and path (DESIGN §8)', () => {
  let world: TestWorld;
  let api: Api;
  let party: Party;
  let routes: Route[];

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    party = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
    await api.commission(party, GTIN, ['A1', 'A2']);
    await api.pack(party, SSCC, [`01/${GTIN}/21/A1`]);
    const doc = (await request(world.app).get('/openapi.json').expect(200)).body;
    routes = routesOf(doc);
  }, 60_000);
  afterAll(async () => world?.stop());

  async function counts(): Promise<Record<string, number>> {
    const sql = `SELECT ${TABLES.map((t) => `(SELECT count(*)::int FROM ${t}) AS ${t}`).join(', ')}`;
    const { rows } = await world.issuer.db.query(sql);
    return rows[0] as Record<string, number>;
  }

  it('covers the routes of the OpenAPI document', () => {
    expect(routes.length).toBeGreaterThan(25);
    for (const p of ['/v1/records', '/v1/log/leaves', '/v1/bundles/verify', '/v1/parties/{gln}'])
      expect(routes.map((r) => r.path)).toContain(p);
  });

  it('never answers 5xx, answers every 4xx with problem+json, and a refused request changes nothing', async () => {
    const seen = new Set<string>();
    const arb = fc.integer({ min: 0, max: 10_000 }).chain((i) => {
      const route = routes[i % routes.length]!;
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      return fc.record({
        route: fc.constant(route),
        params: fc.tuple(...names.map(() => pathId)),
        query: fc.dictionary(
          route.query.length > 0
            ? fc.oneof(fc.constantFrom(...route.query), fc.string({ maxLength: 8 }))
            : fc.string({ maxLength: 8 }),
          queryValue,
          { maxKeys: 4 },
        ),
        body: fc.option(jsonText(route.body), { nil: undefined }),
        contentType: fc.constantFrom(
          'application/json',
          'application/json',
          'text/plain',
          'application/json; charset=latin1',
        ),
        token: fc.constantFrom('none', 'party', 'party', 'admin', 'admin', 'bad'),
        idem: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
      });
    });

    // Hostile paths (empty or odd segments) match no template of the description on purpose.
    await allowingUndeclaredPath(/./, () =>
      fc.assert(
        fc.asyncProperty(arb, async (c) => {
          let i = 0;
          const path = c.route.path.replace(/\{\w+\}/g, () => c.params[i++] ?? 'x');
          const qs = new URLSearchParams(c.query as Record<string, string>).toString();
          const url = qs ? `${path}?${qs}` : path;
          const before = await counts();
          let req =
            c.route.method === 'get'
              ? request(world.app).get(url)
              : c.route.method === 'delete'
                ? request(world.app).delete(url)
                : request(world.app).post(url);
          const token = {
            none: null,
            party: party.token,
            admin: world.issuer.adminToken,
            bad: 'pvn_not-a-real-token-000000000000',
          }[c.token];
          if (token) req = req.set('Authorization', `Bearer ${token}`);
          if (c.idem !== undefined && /^[\x20-\x7e]*$/.test(c.idem))
            req = req.set('Idempotency-Key', c.idem);
          if (c.body !== undefined && c.route.method !== 'get')
            req = req.set('Content-Type', c.contentType).send(c.body as string);
          const res = await req;
          seen.add(`${c.route.method} ${c.route.path} ${res.status}`);
          const where = `${c.route.method.toUpperCase()} ${url} (${c.token}) -> ${res.status}`;
          expect([where, res.status < 500]).toEqual([where, true]);
          if (res.status >= 400) {
            expect([where, res.headers['content-type']]).toEqual([
              where,
              expect.stringMatching(/^application\/problem\+json/),
            ]);
            expect([where, res.body.status]).toEqual([where, res.status]);
            expect([where, await counts()]).toEqual([where, before]);
          }
        }),
        { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261206) },
      ),
    );
    // The run reached most routes.
    const routesHit = new Set([...seen].map((s) => s.split(' ').slice(0, 2).join(' ')));
    expect(routesHit.size).toBeGreaterThan(routes.length * 0.8);
  }, 120_000);
});
