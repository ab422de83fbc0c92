// EPCIS capture throughput (issue 12 goal: capture of a 10,000-EPC document
// at least 80% of the /v1 bulk commission throughput of the same units,
// measured in the same run). One service process on a fresh PostgreSQL
// database; the same 10,000 units (100 cases of 100, one shipment of the 100
// cases) go in once through /v1 (commissions, packs, shipments) and once, under
// other serials, as one EPCISDocument through POST /epcis/capture. Figures are
// printed, never asserted. Run: `tsx scripts/bench/epcis.ts` (section `epcis`).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { epcisDocument } from '../../tests/support/epcis.js';

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CASES = 100;
const PER_CASE = 100;
const UNITS = CASES * PER_CASE;
const MFR = '0614141000005';
const DIST = '0614141000012';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(
  base: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ body: Json; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/ld+json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return { body: JSON.parse(text), headers: res.headers };
}

async function party(base: string, admin: string, gln: string, role: string, prefixes: string[]) {
  await call(base, '/v1/parties', admin, { gln, name: `bench ${gln}`, roles: [role], prefixes });
  await call(base, `/v1/parties/${gln}/keys`, admin, { custodial: true });
  return (await call(base, `/v1/parties/${gln}/tokens`, admin, { scopes: ['sign', 'verify'] })).body
    .token as string;
}

function checkDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const GTIN = checkDigit('1061414100001'); // urn:epc:id:sgtin:0614141.100001.*
const ssccOf = (run: number, c: number) => checkDigit(`${run}0614141${String(c).padStart(9, '0')}`);
const serialOf = (run: string, c: number, u: number) => `${run}${c}x${u}`;

/** The /v1 way: bulk commission, one pack per case, one shipment of the cases. */
async function viaV1(base: string, token: string): Promise<{ commission: number; all: number }> {
  const started = performance.now();
  const items = [];
  for (let c = 0; c < CASES; c++)
    for (let u = 0; u < PER_CASE; u++)
      items.push({ gtin: GTIN, serial: serialOf('V', c, u), lot: 'L1', expiry: '2030-01-31' });
  await call(base, '/v1/commissions', token, { items });
  const commissioned = performance.now();
  for (let c = 0; c < CASES; c++)
    await call(base, '/v1/packs', token, {
      parent: ssccOf(1, c),
      children: Array.from({ length: PER_CASE }, (_, u) => `01/${GTIN}/21/${serialOf('V', c, u)}`),
    });
  await call(base, '/v1/shipments', token, {
    subjects: Array.from({ length: CASES }, (_, c) => `00/${ssccOf(1, c)}`),
    to: DIST,
    shipment: 'BENCH-V1',
  });
  const done = performance.now();
  return {
    commission: UNITS / ((commissioned - started) / 1000),
    all: UNITS / ((done - started) / 1000),
  };
}

function captureDocument(): Json {
  const now = Date.now() - 60_000;
  let tick = 0;
  const time = () => new Date(now + tick++).toISOString();
  const loc = { id: `https://id.gs1.org/414/${MFR}` };
  const events: Json[] = [];
  for (let c = 0; c < CASES; c++)
    events.push({
      type: 'ObjectEvent',
      eventTime: time(),
      eventTimeZoneOffset: '+00:00',
      epcList: Array.from(
        { length: PER_CASE },
        (_, u) => `urn:epc:id:sgtin:0614141.100001.${serialOf('E', c, u)}`,
      ),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      bizLocation: loc,
      ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2030-01-31' },
    });
  for (let c = 0; c < CASES; c++)
    events.push({
      type: 'AggregationEvent',
      eventTime: time(),
      eventTimeZoneOffset: '+00:00',
      parentID: `urn:epc:id:sscc:0614141.2${ssccOf(2, c).slice(8, 17)}`,
      childEPCs: Array.from(
        { length: PER_CASE },
        (_, u) => `https://id.gs1.org/01/${GTIN}/21/${serialOf('E', c, u)}`,
      ),
      action: 'ADD',
      bizStep: 'packing',
      bizLocation: loc,
    });
  events.push({
    type: 'ObjectEvent',
    eventTime: time(),
    eventTimeZoneOffset: '+00:00',
    epcList: Array.from({ length: CASES }, (_, c) => `https://id.gs1.org/00/${ssccOf(2, c)}`),
    action: 'OBSERVE',
    bizStep: 'shipping',
    disposition: 'in_transit',
    bizLocation: loc,
    bizTransactionList: [{ type: 'desadv', bizTransaction: 'BENCH-EPCIS' }],
    destinationList: [{ type: 'owning_party', destination: `https://id.gs1.org/417/${DIST}` }],
  });
  return epcisDocument(events);
}

/** POST /epcis/capture of the same units, polled to the job's end. */
async function viaCapture(base: string, token: string): Promise<number> {
  const doc = captureDocument();
  const started = performance.now();
  const location = (await call(base, '/epcis/capture', token, doc)).headers.get('location')!;
  for (;;) {
    const job = (await call(base, location, token)).body;
    if (!job.running) {
      if (!job.success) throw new Error(`capture failed: ${JSON.stringify(job.errors[0])}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return UNITS / ((performance.now() - started) / 1000);
}

export async function runEpcisBench(): Promise<void> {
  console.log(`\n== EPCIS capture vs /v1: ${UNITS} units, ${CASES} cases, one shipment ==`);
  let dbUrl: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-epcis-'));
  const admin = `bench-admin-${randomBytes(12).toString('hex')}`;
  let service: ServiceProcess | undefined;
  try {
    dbUrl = await createTestDatabase(BASE_URL, 'provenant_bench_epcis');
    service = await startServiceOnPostgres({
      dbUrl,
      dataDir,
      adminToken: admin,
      masterKey: randomBytes(32),
    });
    const base = service.url;
    const mfr = await party(base, admin, MFR, 'manufacturer', ['0614141']);
    await party(base, admin, DIST, 'distributor', []);
    let v1: { commission: number; all: number };
    let epcis: number;
    try {
      v1 = await viaV1(base, mfr);
      epcis = await viaCapture(base, mfr);
    } catch (err) {
      console.error(`service stderr: ${service.stderr().slice(-2000)}`);
      throw err;
    }
    const f = (n: number) => `${Math.round(n).toLocaleString('en')} units/s`;
    console.log(`/v1 bulk commission (10,000 units, one call)         ${f(v1.commission)}`);
    console.log(`/v1 commission + 100 packs + shipment (same records) ${f(v1.all)}`);
    console.log(`POST /epcis/capture, one document (20,200 records)   ${f(epcis)}`);
    console.log(
      `capture / /v1 bulk commission: ${((100 * epcis) / v1.commission).toFixed(0)}% (goal >= 80%); ` +
        `capture / /v1 same records: ${((100 * epcis) / v1.all).toFixed(0)}%`,
    );
  } finally {
    await service?.stop();
    if (dbUrl) await dropTestDatabase(BASE_URL, dbUrl);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runEpcisBench();
