// `pnpm bench flood` (issue 11): one party floods the verifier with pallet
// verifications on 2 connections while another, honest party verifies single
// units on 1 connection. Prints the honest party's p50/p99 alone and beside
// the flood, and their ratio (goal: p99 within 2×), plus what a repeated
// pallet verification costs. Real service process on a fresh PostgreSQL
// database; figures are printed, never asserted.
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

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PALLET_UNITS = Number(process.env.BENCH_FLOOD_PALLET_UNITS ?? 10_000);
const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 10);
const HONEST_UNITS = 300;
const GTIN = '00614141000418';
const MFR = '0614141000005';
const FLOODER = '0860001000009';
const HONEST = '0860003000007';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function call(base: string, path: string, token: string, body?: unknown): Promise<Json> {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function party(
  base: string,
  admin: string,
  gln: string,
  roles: string[],
  prefixes: string[],
) {
  await call(base, '/v1/parties', admin, { gln, name: `bench ${gln}`, roles, prefixes });
  await call(base, `/v1/parties/${gln}/keys`, admin, { custodial: true });
  return (await call(base, `/v1/parties/${gln}/tokens`, admin, { scopes: ['sign', 'verify'] }))
    .token as string;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** The honest dock: one connection, one unit after another, for SECONDS; latencies sorted. */
async function honestRun(base: string, token: string, units: string[]): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + SECONDS * 1000;
  for (let i = 0; performance.now() < end; i++) {
    const t0 = performance.now();
    const r = await call(base, '/v1/verifications', token, {
      subject: units[i % units.length],
      purpose: 'receiving',
    });
    if (r.verdict !== 'accept') throw new Error(`honest unit: ${r.verdict}`);
    latencies.push(performance.now() - t0);
  }
  return latencies.sort((a, b) => a - b);
}

export async function runFloodBench(): Promise<void> {
  console.log(
    `\n== flood isolation: ${PALLET_UNITS}-unit pallets on 2 connections beside an honest dock ==`,
  );
  let dbUrl: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-flood-'));
  const admin = `bench-admin-${randomBytes(12).toString('hex')}`;
  let service: ServiceProcess | undefined;
  try {
    dbUrl = await createTestDatabase(BASE_URL, 'provenant_bench_flood');
    service = await startServiceOnPostgres({
      dbUrl,
      dataDir,
      adminToken: admin,
      masterKey: randomBytes(32),
    });
    const base = service.url;
    const mfr = await party(base, admin, MFR, ['manufacturer'], ['0614141']);
    const flooder = await party(base, admin, FLOODER, ['distributor'], []);
    const honest = await party(base, admin, HONEST, ['dispenser'], []);

    const serials = Array.from({ length: HONEST_UNITS }, (_, i) => `HONEST-${i}`);
    const units = serials.map((s) => `01/${GTIN}/21/${s}`);
    await call(base, '/v1/commissions', mfr, {
      items: serials.map((serial) => ({ gtin: GTIN, serial, lot: 'L1', expiry: '2030-01-31' })),
    });
    await call(base, '/v1/shipments', mfr, { subjects: units, to: HONEST, shipment: 'FLOOD-H' });

    const items = Array.from({ length: PALLET_UNITS }, (_, i) => ({
      gtin: GTIN,
      serial: `FLOOD-${i}`,
      lot: 'L1',
      expiry: '2030-01-31',
    }));
    await call(base, '/v1/commissions', mfr, { items });
    const sscc = '006141410000000036';
    await call(base, '/v1/packs', mfr, {
      parent: sscc,
      children: items.map((u) => `01/${GTIN}/21/${u.serial}`),
    });
    await call(base, '/v1/shipments', mfr, {
      subjects: [`00/${sscc}`],
      to: FLOODER,
      shipment: 'FLOOD-P',
    });

    // Warm up the honest path, then measure it alone.
    for (let i = 0; i < 20; i++)
      await call(base, '/v1/verifications', honest, { subject: units[i], purpose: 'receiving' });
    const alone = await honestRun(base, honest, units);

    // The flood: 2 connections of back-to-back pallet verifications, from the first call on.
    const pallet = { scan: `00${sscc}`, purpose: 'receiving' };
    const palletTimes: number[] = [];
    let flooding = true;
    const flood = Array.from({ length: 2 }, async () => {
      while (flooding) {
        const t0 = performance.now();
        const r = await call(base, '/v1/verifications', flooder, pallet);
        palletTimes.push((performance.now() - t0) / 1000);
        if (r.units?.total !== PALLET_UNITS) throw new Error('pallet: wrong unit count');
      }
    });
    await new Promise((r) => setTimeout(r, 1000)); // let the flood get going
    const beside = await honestRun(base, honest, units);
    flooding = false;
    await Promise.all(flood);

    const p99a = percentile(alone, 99);
    const p99b = percentile(beside, 99);
    console.log(
      `honest unit verifications alone          p50 ${percentile(alone, 50).toFixed(1)} ms, p99 ${p99a.toFixed(1)} ms (${alone.length} requests)`,
    );
    console.log(
      `honest unit verifications beside flood   p50 ${percentile(beside, 50).toFixed(1)} ms, p99 ${p99b.toFixed(1)} ms (${beside.length} requests)`,
    );
    console.log(
      `honest p99 ratio, flood / alone          ${(p99b / p99a).toFixed(2)}×  (goal ≤ 2×: ${p99b / p99a <= 2 ? 'met' : 'not met'})`,
    );
    console.log(
      `flooder's pallet verifications           ${palletTimes.length} done (one at a time per party), first ${palletTimes[0]?.toFixed(2)} s, later best ${Math.min(...palletTimes.slice(1)).toFixed(2)} s, median ${[...palletTimes].sort((a, b) => a - b)[Math.floor(palletTimes.length / 2)]?.toFixed(2)} s (queue wait included)`,
    );
  } finally {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (dbUrl) await dropTestDatabase(BASE_URL, dbUrl).catch(() => {});
  }
}
