// `pnpm bench flood` (issue 11): one party floods the verifier with
// 10,000-unit pallet verifications on 2 connections while an honest dock, from
// another client address, verifies single units on 1 connection, paced at one
// scan every 20 ms (each unit verified once). The honest p50/p99 alone and
// beside the flood are measured in alternating rounds (so a change of machine
// load hits both), with the service's default rate limits on. The flooder
// keeps going whatever the answer: a 429 is counted and retried after 50 ms
// (a remote attacker would not wait at all, but its CPU would not be ours).
// Honest answers other than 201 accept are counted, not hidden. Real service
// process on a fresh PostgreSQL database; figures are printed, never asserted.
import { performance } from 'node:perf_hooks';
import { fmt } from './measure.js';
import { HttpClient, loadAverage, percentile } from './load.js';
import { monitorCaughtUp } from './monitor-status.js';
import { GTIN, party, startWorld } from './world.js';

const PALLET_UNITS = Number(process.env.BENCH_FLOOD_PALLET_UNITS ?? 10_000);
/** Seconds of each side (alone, beside the flood), split into ROUNDS rounds. */
const SECONDS = Number(process.env.BENCH_FLOOD_SECONDS ?? 12);
const ROUNDS = 3;
const HONEST_EVERY_MS = 20;
const HONEST_UNITS = Math.ceil((2 * SECONDS * 1000) / HONEST_EVERY_MS) + 50;
const MFR = '0614141000005';
const FLOODER = '0860001000009';
const HONEST = '0860003000007';

interface HonestRun {
  latencies: number[];
  refused: number;
}

export async function runFloodBench(): Promise<void> {
  console.log(
    `\n== flood isolation (issue 11): ${fmt(PALLET_UNITS)}-unit pallets on 2 connections beside an honest dock ==`,
  );
  const w = await startWorld('provenant_bench_flood');
  const honestClient = new HttpClient(w.service.url, { connections: 1, localAddress: '127.0.0.3' });
  const floodClient = new HttpClient(w.service.url, { connections: 2, localAddress: '127.0.0.2' });
  try {
    const c = w.client;
    const mfr = await party(w, MFR, ['manufacturer'], ['0614141']);
    const flooder = await party(w, FLOODER, ['distributor']);
    const honest = await party(w, HONEST, ['dispenser']);

    const serials = Array.from({ length: HONEST_UNITS }, (_, i) => `HONEST-${i}`);
    const units = serials.map((s) => `01/${GTIN}/21/${s}`);
    await c.json('POST', '/v1/commissions', {
      token: mfr.token,
      body: {
        items: serials.map((serial) => ({ gtin: GTIN, serial, lot: 'L1', expiry: '2030-01-31' })),
      },
    });
    await c.json('POST', '/v1/shipments', {
      token: mfr.token,
      body: { subjects: units, to: HONEST, shipment: 'FLOOD-H' },
    });
    const items = Array.from({ length: PALLET_UNITS }, (_, i) => ({
      gtin: GTIN,
      serial: `FLOOD-${i}`,
      lot: 'L1',
      expiry: '2030-01-31',
    }));
    await c.json('POST', '/v1/commissions', { token: mfr.token, body: { items } });
    const sscc = '006141410000000036';
    await c.json('POST', '/v1/packs', {
      token: mfr.token,
      body: { parent: sscc, children: items.map((u) => `01/${GTIN}/21/${u.serial}`) },
    });
    await c.json('POST', '/v1/shipments', {
      token: mfr.token,
      body: { subjects: [`00/${sscc}`], to: FLOODER, shipment: 'FLOOD-P' },
    });
    await monitorCaughtUp(c, 120_000, w.admin);

    let nextUnit = 0;
    const honestRun = async (seconds: number): Promise<HonestRun> => {
      const out: HonestRun = { latencies: [], refused: 0 };
      const start = performance.now();
      for (let i = 0; performance.now() - start < seconds * 1000; i++) {
        const due = start + i * HONEST_EVERY_MS;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const t0 = performance.now();
        const r = await honestClient.send('POST', '/v1/verifications', {
          token: honest.token,
          body: { subject: units[nextUnit++ % units.length], purpose: 'receiving' },
        });
        out.latencies.push(performance.now() - t0);
        if (r.status !== 201 || (JSON.parse(r.text) as { verdict: string }).verdict !== 'accept') {
          if (r.status >= 400 && r.status !== 429)
            throw new Error(`honest: HTTP ${r.status} ${r.text.slice(0, 200)}`);
          out.refused++;
        }
      }
      return out;
    };
    for (let i = 0; i < 20; i++)
      await honestClient.json('POST', '/v1/verifications', {
        token: honest.token,
        body: { subject: units[nextUnit++], purpose: 'receiving' },
      });

    const pallet = { scan: `00${sscc}`, purpose: 'receiving' };
    const palletTimes: number[] = [];
    let limited = 0;
    const startFlood = () => {
      let flooding = true;
      let failure: unknown;
      const conns = Array.from({ length: 2 }, async () => {
        try {
          await floodOn(() => flooding);
        } catch (err) {
          failure ??= err;
          flooding = false;
        }
      });
      return async () => {
        flooding = false;
        await Promise.all(conns);
        // A flood that died is no flood: the round beside it measured nothing.
        if (failure) throw failure;
      };
    };
    const floodOn = async (flooding: () => boolean): Promise<void> => {
      while (flooding()) {
        const t0 = performance.now();
        const r = await floodClient.send('POST', '/v1/verifications', {
          token: flooder.token,
          body: pallet,
        });
        if (r.status === 429) {
          limited++;
          await new Promise((res) => setTimeout(res, 50));
        } else if (r.status === 201) {
          palletTimes.push((performance.now() - t0) / 1000);
          const b = JSON.parse(r.text) as { units?: { total?: number } };
          if (b.units?.total !== PALLET_UNITS) throw new Error('pallet: wrong unit count');
        } else throw new Error(`flooder: HTTP ${r.status} ${r.text.slice(0, 200)}`);
      }
    };

    const alone: HonestRun = { latencies: [], refused: 0 };
    const beside: HonestRun = { latencies: [], refused: 0 };
    const add = (to: HonestRun, r: HonestRun) => {
      to.latencies.push(...r.latencies);
      to.refused += r.refused;
    };
    const load = await loadAverage();
    for (let r = 0; r < ROUNDS; r++) {
      add(alone, await honestRun(SECONDS / ROUNDS));
      const stop = startFlood();
      await new Promise((res) => setTimeout(res, 1000)); // let the flood get going
      add(beside, await honestRun(SECONDS / ROUNDS));
      await stop();
    }
    alone.latencies.sort((a, b) => a - b);
    beside.latencies.sort((a, b) => a - b);
    const p99a = percentile(alone.latencies, 99);
    const p99b = percentile(beside.latencies, 99);
    const line = (label: string, r: HonestRun) =>
      console.log(
        `${label.padEnd(42)} p50 ${percentile(r.latencies, 50).toFixed(1)} ms, p99 ${percentile(r.latencies, 99).toFixed(1)} ms (${r.latencies.length} requests, ${r.refused} not accepted)`,
      );
    line('honest unit verifications alone', alone);
    line('honest unit verifications beside flood', beside);
    console.log(
      `${'honest p99 ratio, flood / alone'.padEnd(42)} ${(p99b / p99a).toFixed(2)}×  (goal ≤ 2×: ${p99b / p99a <= 2 && beside.refused === 0 ? 'met' : 'NOT met'})`,
    );
    const sorted = [...palletTimes].sort((a, b) => a - b);
    console.log(
      `${"flooder's pallet verifications".padEnd(42)} ${palletTimes.length} answered (first ${palletTimes[0]?.toFixed(2)} s, median ${percentile(sorted, 50).toFixed(2)} s, queue wait included), ${limited} refused with 429`,
    );
    console.log(
      `  (${ROUNDS} alternating rounds of ${(SECONDS / ROUNDS).toFixed(1)} s per side; ${load} at the start)`,
    );
  } finally {
    honestClient.close();
    floodClient.close();
    await w.close();
  }
}
