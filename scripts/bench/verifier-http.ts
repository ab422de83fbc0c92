// Verification through the API (issue 4): the real service process
// (scripts/start.ts, as `pnpm start` runs it) on a fresh PostgreSQL database,
// a supply chain built through the public endpoints, then
//  - POST /v1/verifications for a unit with 6 handoffs, 16 concurrent
//    connections: requests/s, p50, p99, and the ratio to
//    2 × raw verify ÷ signatures per chain (the goal is ≥ 60%);
//  - POST /v1/verifications for a 10,000-unit pallet, end to end (seconds).
// The server runs in its own process so the load generator does not share its
// event loop. Loopback only; every loop is bounded; figures are printed, never
// asserted. A database provenant_bench_v_<n> is created and dropped.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { rawNodeRates } from './core.js';
import { fmt, report } from './measure.js';

const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const UNIT_SECONDS = Number(process.env.BENCH_UNIT_SECONDS ?? 5);
/** BENCH_PALLET_UNITS=0 skips the pallet. */
const PALLET_UNITS = Number(process.env.BENCH_PALLET_UNITS ?? 10_000);
/** Handoffs of the benchmark unit: each a custodial ship and a custodial receive. */
const HANDOFFS = 6;
/** Distinct units, one verification each (BENCH_UNITS). */
const UNITS = Number(process.env.BENCH_UNITS ?? 4000);

const GTIN = '00614141000418';
const MFR = '0614141000005';
const DIST = '0860001000009';
const PHARMACY = '0860002000008';
const CLINIC = '0860003000007';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

class Api {
  constructor(readonly base: string) {}
  async call(method: string, path: string, token: string, body?: unknown): Promise<Json> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return text.length > 0 ? JSON.parse(text) : null;
  }
}

async function party(
  api: Api,
  admin: string,
  gln: string,
  roles: string[],
  prefixes: string[],
): Promise<string> {
  await api.call('POST', '/v1/parties', admin, { gln, name: `bench ${gln}`, roles, prefixes });
  await api.call('POST', `/v1/parties/${gln}/keys`, admin, { custodial: true });
  const t = await api.call('POST', `/v1/parties/${gln}/tokens`, admin, {
    scopes: ['sign', 'verify'],
  });
  return t.token as string;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine so far (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8')
      .split('\n')[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
    return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) / 100;
  } catch {
    return NaN;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export async function runVerifierHttpBench(): Promise<void> {
  console.log(
    `\n== verification through the API (issue 4; PostgreSQL ${new URL(BASE_URL).host}) ==`,
  );
  const raw = rawNodeRates();
  report('raw node:crypto Ed25519 verify', raw.verify, 'verify/s');

  let dbUrl: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
  let service: ServiceProcess | undefined;
  try {
    dbUrl = await createTestDatabase(BASE_URL, 'provenant_bench_v');
    service = await startServiceOnPostgres({
      dbUrl,
      dataDir,
      adminToken,
      masterKey: randomBytes(32),
    });
    const api = new Api(service.url);
    const mfr = await party(api, adminToken, MFR, ['manufacturer'], ['0614141']);
    const dist = await party(api, adminToken, DIST, ['distributor'], []);
    const pharmacy = await party(api, adminToken, PHARMACY, ['dispenser'], []);
    const clinic = await party(api, adminToken, CLINIC, ['dispenser'], []);

    // The units: commissioned, then 6 handoffs each, ending with a shipment to
    // the clinic (which verifies at receiving, before taking custody). Every
    // request verifies a different unit, so no chain is checked twice; only
    // the registry notices every bundle carries repeat, as in real use.
    const serials = Array.from({ length: UNITS }, (_, i) => `BENCH6-${i}`);
    const units = serials.map((s) => `01/${GTIN}/21/${s}`);
    await api.call('POST', '/v1/commissions', mfr, {
      items: serials.map((serial) => ({ gtin: GTIN, serial, lot: 'L1', expiry: '2030-01-31' })),
    });
    const path: [string, string, string][] = [
      [mfr, MFR, DIST],
      [dist, DIST, PHARMACY],
      [pharmacy, PHARMACY, DIST],
      [dist, DIST, PHARMACY],
      [pharmacy, PHARMACY, DIST],
    ];
    const tokenOf: Record<string, string> = { [DIST]: dist, [PHARMACY]: pharmacy };
    for (const [i, [token, from, to]] of path.entries()) {
      const shipment = `BENCH-U-${i}`;
      await api.call('POST', '/v1/shipments', token, { subjects: units, to, shipment });
      await api.call('POST', '/v1/receipts', tokenOf[to]!, {
        shipment,
        from,
        scanned: units,
        condition: 'ok',
      });
    }
    await api.call('POST', '/v1/shipments', dist, {
      subjects: units,
      to: CLINIC,
      shipment: 'BENCH-U-5',
    });
    // commission + 5 full handoffs + the last ship; each record is checked by its
    // envelope signature and its log receipt, plus one checkpoint signature.
    const records = 1 + 2 * (HANDOFFS - 1) + 1;
    const sigs = 2 * records + 1;

    let next = 0;
    const verifyNext = async (): Promise<void> => {
      const subject = units[next++ % units.length]!;
      const r = await api.call('POST', '/v1/verifications', clinic, {
        subject,
        purpose: 'receiving',
      });
      if (r.verdict !== 'accept')
        throw new Error(`${subject}: ${r.verdict} ${JSON.stringify(r.reasons)}`);
    };
    for (let i = 0; i < 20; i++) await verifyNext(); // warm up (JIT, pools)

    const latencies: number[] = [];
    // A profiler preloaded through BENCH_SERVICE_NODE_OPTIONS may start on this signal.
    if (process.env.BENCH_SERVICE_NODE_OPTIONS) service.child.kill('SIGUSR2');
    const cpu0 = cpuSeconds(service.child.pid);
    const self0 = process.cpuUsage();
    const busy0 = machineBusySeconds();
    const start = performance.now();
    const end = start + UNIT_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let i = 0; i < 100_000 && performance.now() < end && next < units.length; i++) {
          const t0 = performance.now();
          await verifyNext();
          latencies.push(performance.now() - t0);
        }
      }),
    );
    const rps = latencies.length / ((performance.now() - start) / 1000);
    const perRequest = (seconds: number) => (seconds * 1000) / latencies.length;
    const cpuMs = perRequest(cpuSeconds(service.child.pid) - cpu0);
    const self = process.cpuUsage(self0);
    const clientMs = perRequest((self.user + self.system) / 1e6);
    const restMs = perRequest(machineBusySeconds() - busy0) - cpuMs - clientMs;
    latencies.sort((a, b) => a - b);
    const limit = (2 * raw.verify) / sigs;
    report(
      `POST /v1/verifications, units with ${HANDOFFS} handoffs, ${CONNECTIONS} conns`,
      rps,
      'req/s',
      {
        to: `2 × raw verify ÷ ${sigs} signatures = ${fmt(limit)}/s`,
        value: rps / limit,
        goal: 0.6,
      },
    );
    console.log(
      `  (p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ${fmt(latencies.length)} requests, each for a different unit; CPU per request: service ${cpuMs.toFixed(1)} ms, PostgreSQL and the rest of the machine ${restMs.toFixed(1)} ms, this load generator ${clientMs.toFixed(1)} ms)`,
    );

    if (PALLET_UNITS === 0) return;
    // The pallet: 10,000 units commissioned, packed on one SSCC, shipped to the distributor.
    const items = Array.from({ length: PALLET_UNITS }, (_, i) => ({
      gtin: GTIN,
      serial: `P${i}`,
      lot: 'L1',
      expiry: '2030-01-31',
    }));
    await api.call('POST', '/v1/commissions', mfr, { items });
    const sscc = '006141410000000029';
    await api.call('POST', '/v1/packs', mfr, {
      parent: sscc,
      children: items.map((u) => `01/${GTIN}/21/${u.serial}`),
    });
    await api.call('POST', '/v1/shipments', mfr, {
      subjects: [`00/${sscc}`],
      to: DIST,
      shipment: 'BENCH-PALLET',
    });
    const palletBody = { scan: `00${sscc}`, purpose: 'receiving' };
    if (process.env.BENCH_SERVICE_NODE_OPTIONS) service.child.kill('SIGUSR2');
    const timings: number[] = [];
    let counts: unknown;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await api.call('POST', '/v1/verifications', dist, palletBody);
      timings.push((performance.now() - t0) / 1000);
      if (r.verdict !== 'accept')
        throw new Error(`pallet verdict ${r.verdict}: ${JSON.stringify(r.reasons).slice(0, 300)}`);
      counts = r.units?.counts;
    }
    const palletSigs = 2 * (2 * PALLET_UNITS + 3) + 1;
    report(
      `POST /v1/verifications, ${fmt(PALLET_UNITS)}-unit pallet (first call)`,
      timings[0]!,
      's',
      {
        to: `${fmt(palletSigs)} raw verifies on one core`,
        value: palletSigs / raw.verify / timings[0]!,
      },
    );
    report(
      `POST /v1/verifications, ${fmt(PALLET_UNITS)}-unit pallet (best of 3)`,
      Math.min(...timings),
      's',
      {
        to: `${fmt(palletSigs)} raw verifies on one core`,
        value: palletSigs / raw.verify / Math.min(...timings),
      },
    );
    console.log(`  (counts ${JSON.stringify(counts)}; goal: under 1 s)`);
  } finally {
    if (process.env.BENCH_SHOW_STDERR) console.log(service?.stderr());
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (dbUrl) await dropTestDatabase(BASE_URL, dbUrl).catch(() => {});
  }
}
