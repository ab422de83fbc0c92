// EPCIS query (issue 12 goal: a query of 1,000 events under 200 ms): the real
// service process (scripts/start.ts) on a fresh PostgreSQL database, a supply
// chain written through /v1 (every record becomes an EPCIS event), then
// GET /epcis/events with perPage=1000, one request at a time:
//  - the manufacturer's events (every one visible through its own chains);
//  - the distributor's (visible only through the cases it received: the §6a
//    check through the containers' chains);
//  - MATCH_epc by GTIN pattern, and GS1-EPC-Format Always_EPC_URN;
//  - a competitor who may see none of them (the whole table is checked).
// p50 and p99 of the wall time per request, printed, never asserted. A
// database provenant_bench_eq_<n> is created and dropped.
//
// Run alone: `pnpm build && tsx scripts/bench/epcis-query.ts`
// (BENCH_DATABASE_URL, BENCH_EPCIS_UNITS, BENCH_EPCIS_ROUNDS).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { fmt } from './measure.js';

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Units the manufacturer commissions (one event each). */
const UNITS = Number(process.env.BENCH_EPCIS_UNITS ?? 4000);
/** Requests per measured query. */
const ROUNDS = Number(process.env.BENCH_EPCIS_ROUNDS ?? 30);
const CASE_SIZE = 20;
const GOAL_MS = 200;

const GTIN = '00614141000418';
const MFR = '0614141000005';
const DIST = '0860001000009';
const COMP = withCheck('099999900000');
const COMP_GTIN = withCheck('0099999900001');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** GS1 mod-10 check digit appended (GS1 General Specifications §7.9.1). */
function withCheck(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

async function call(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ json: Json; ms: number }> {
  const start = performance.now();
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - start;
  if (res.status >= 300)
    throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { json: text.length > 0 ? JSON.parse(text) : null, ms };
}

function sscc(n: number): string {
  return withCheck(`10614141${String(n).padStart(9, '0')}`);
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function timed(
  label: string,
  base: string,
  token: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const first = await call(base, 'GET', path, token, undefined, headers);
  const count = first.json.epcisBody.queryResults.resultsBody.eventList.length as number;
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++)
    times.push((await call(base, 'GET', path, token, undefined, headers)).ms);
  times.sort((a, b) => a - b);
  const p50 = quantile(times, 0.5);
  const p99 = quantile(times, 0.99);
  const verdict = count >= 1000 || count === 0 ? (p50 < GOAL_MS ? 'met' : 'NOT met') : 'n/a';
  console.log(
    `${label.padEnd(50)} ${String(count).padStart(5)} events  p50 ${fmt(p50).padStart(7)} ms  p99 ${fmt(p99).padStart(7)} ms  (goal < ${GOAL_MS} ms: ${verdict})`,
  );
}

export async function runEpcisQueryBench(): Promise<void> {
  console.log(`\n== EPCIS query (GET /epcis/events, PostgreSQL, ${UNITS} units) ==`);
  let dbUrl: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
  let service: ServiceProcess | undefined;
  try {
    dbUrl = await createTestDatabase(BASE_URL, 'provenant_bench_eq');
    service = await startServiceOnPostgres({
      dbUrl,
      dataDir,
      adminToken,
      masterKey: randomBytes(32),
    });
    const base = service.url;
    const party = async (gln: string, roles: string[], prefixes: string[]) => {
      await call(base, 'POST', '/v1/parties', adminToken, {
        gln,
        name: `bench ${gln}`,
        roles,
        prefixes,
      });
      await call(base, 'POST', `/v1/parties/${gln}/keys`, adminToken, { custodial: true });
      const t = await call(base, 'POST', `/v1/parties/${gln}/tokens`, adminToken, {
        scopes: ['sign', 'verify'],
      });
      return t.json.token as string;
    };
    const mfr = await party(MFR, ['manufacturer'], ['0614141']);
    const dist = await party(DIST, ['distributor'], []);
    const comp = await party(COMP, ['manufacturer'], ['0999999']);

    const setup = performance.now();
    const serials = Array.from({ length: UNITS }, (_, i) => `EQ-${i}`);
    for (let i = 0; i < serials.length; i += 2000) {
      await call(base, 'POST', '/v1/commissions', mfr, {
        items: serials
          .slice(i, i + 2000)
          .map((serial) => ({ gtin: GTIN, serial, lot: 'L1', expiry: '2030-01-31' })),
      });
    }
    await call(base, 'POST', '/v1/commissions', comp, {
      items: Array.from({ length: 2000 }, (_, i) => ({
        gtin: COMP_GTIN,
        serial: `C-${i}`,
        lot: 'L1',
        expiry: '2030-01-31',
      })),
    });
    // Half the units in cases shipped to and received by the distributor.
    const cases = Math.floor(UNITS / 2 / CASE_SIZE);
    const ssccs: string[] = [];
    for (let c = 0; c < cases; c++) {
      const parent = sscc(c + 1);
      ssccs.push(`00/${parent}`);
      const children = serials
        .slice(c * CASE_SIZE, (c + 1) * CASE_SIZE)
        .map((s) => `01/${GTIN}/21/${s}`);
      await call(base, 'POST', '/v1/packs', mfr, { parent, children });
    }
    await call(base, 'POST', '/v1/shipments', mfr, {
      subjects: ssccs,
      to: DIST,
      shipment: 'ASN-EQ',
    });
    await call(base, 'POST', '/v1/receipts', dist, {
      shipment: 'ASN-EQ',
      from: MFR,
      scanned: ssccs,
      condition: 'ok',
    });
    console.log(
      `setup: ${UNITS + 2000} commissions, ${cases} cases packed, shipped and received (${fmt((performance.now() - setup) / 1000)} s)`,
    );

    await timed('manufacturer, perPage=1000', base, mfr, '/epcis/events?perPage=1000');
    await timed(
      'distributor (through case chains), perPage=1000',
      base,
      dist,
      '/epcis/events?perPage=1000',
    );
    await timed(
      'manufacturer, MATCH_epc GTIN pattern, perPage=1000',
      base,
      mfr,
      `/epcis/events?perPage=1000&MATCH_epc=${encodeURIComponent('urn:epc:idpat:sgtin:0614141.000041.*')}`,
    );
    await timed(
      'manufacturer, Always_EPC_URN, perPage=1000',
      base,
      mfr,
      '/epcis/events?perPage=1000',
      {
        'GS1-EPC-Format': 'Always_EPC_URN',
      },
    );
    await timed(
      'competitor, MATCH_anyEPC of a case it may not see',
      base,
      comp,
      `/epcis/events?perPage=1000&MATCH_anyEPC=${encodeURIComponent(`https://id.gs1.org/${ssccs[0]}`)}`,
    );
    await timed(
      'competitor, everything (sees its own 1000 of 2000)',
      base,
      comp,
      '/epcis/events?perPage=1000',
    );
  } finally {
    await service?.stop();
    // BENCH_KEEP_DB=1 keeps the database to look at query plans.
    if (dbUrl && process.env.BENCH_KEEP_DB !== '1') {
      await dropTestDatabase(BASE_URL, dbUrl).catch(() => undefined);
    } else if (dbUrl) console.log(`kept ${dbUrl}`);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runEpcisQueryBench();
