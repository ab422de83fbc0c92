// Bench section `webhooks` (DESIGN §12 goal): handoff append throughput and
// verification p99 with webhooks subscribed for every event type, against
// the same run without subscriptions. Each run gets a fresh PostgreSQL
// database and the real service process (scripts/start.ts); with
// subscriptions, the operator and both parties subscribe to every event
// type on a local receiver answering 204, so the service's own worker
// delivers while the load runs. Runs alternate (off, on, off, on, ...) and
// each mode keeps its best figures, so the shared machine's drift does not
// land on one side. BENCH_WEBHOOK_ROUNDS sets the rounds (default 2).
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unitSubject } from '@provenant/core';
import { WEBHOOK_EVENT_TYPES } from '@provenant/server-kit';
import { migrate, openPg, type Database } from '@provenant/store';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { fmt } from './measure.js';
import { BASE_URL, expectStatus, handoffRate, post, setUpParties, type Party } from './store.js';

const CLIENTS = 16;
const GTIN = '00614141000418';
const VERIFICATIONS_PER_CLIENT = Number(process.env.BENCH_WEBHOOK_VERIFICATIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 2);

/** A webhook endpoint answering 204 and counting; GET /count says how many it got. */
const RECEIVER = `
let n = 0;
const s = require('node:http').createServer((req, res) => {
  if (req.method === 'GET') { res.end(String(n)); return; }
  req.resume();
  req.on('end', () => { n++; res.statusCode = 204; res.end(); });
});
s.listen(0, '127.0.0.1', () => console.log(s.address().port));
`;

interface RunResult {
  appendsPerSecond: number;
  p50: number;
  p99: number;
  verifications: number;
  quarantines: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** 16 clients verify at receiving, one unit each request: 3 of 4 received units (accept), 1 of 4 unknown (quarantine: events). */
async function verificationLatencies(base: string, dist: Party): Promise<RunResult> {
  const latencies: number[] = [];
  let quarantines = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let i = 0; i < VERIFICATIONS_PER_CLIENT; i++) {
        const serial = i % 4 === 3 ? `UNKNOWN${c}X${i}` : `H${c}X${i}`;
        const t = performance.now();
        const r = await post(base, '/v1/verifications', dist.token, {
          subject: unitSubject(GTIN, serial),
          purpose: 'receiving',
        });
        latencies.push(performance.now() - t);
        expectStatus(r, [201], 'verification');
        if ((r.body as { verdict: string }).verdict !== 'accept') quarantines++;
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    appendsPerSecond: 0,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    verifications: latencies.length,
    quarantines,
  };
}

async function subscribeAll(base: string, tokens: string[], url: string): Promise<void> {
  for (const token of tokens)
    expectStatus(
      await post(base, '/v1/webhooks', token, { url, events: WEBHOOK_EVENT_TYPES }),
      [201],
      'subscribe',
    );
}

async function oneRun(subscribed: boolean, receiverUrl: string): Promise<RunResult> {
  let url: string | undefined;
  let db: Database | undefined;
  let service: ServiceProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-wh-'));
  const admin = `bench-admin-${process.pid}-webhooks`;
  try {
    url = await createTestDatabase(BASE_URL, 'provenant_bench_wh');
    db = await openPg(url);
    await migrate(db);
    const masterKey = new Uint8Array(32).fill(42);
    const [mfr, dist] = await setUpParties(db, masterKey);
    service = await startServiceOnPostgres({
      dbUrl: url,
      dataDir,
      adminToken: admin,
      masterKey,
      env: {
        PROVENANT_LOG_ORIGIN: 'bench.provenant/log',
        PROVENANT_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
      },
    });
    const base = service.url;
    if (subscribed) await subscribeAll(base, [admin, mfr!.token, dist!.token], receiverUrl);
    const handoff = await handoffRate(base, mfr!, dist!);
    const v = await verificationLatencies(base, dist!);
    return { ...v, appendsPerSecond: handoff.rate };
  } finally {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await db?.close();
    if (url) await dropTestDatabase(BASE_URL, url).catch(() => {});
  }
}

export async function runWebhooksBench(): Promise<void> {
  console.log(
    `\n# webhooks (PostgreSQL ${new URL(BASE_URL).host}, ${CLIENTS} clients, ${ROUNDS} alternating rounds, best of each)`,
  );
  // The receiver runs in a process of its own, as a real endpoint would: in this
  // load generator's event loop it would delay the latencies measured here.
  const receiver = spawn(process.execPath, ['-e', RECEIVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    receiver.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
    receiver.once('exit', (code) => reject(new Error(`webhook receiver exited with ${code}`)));
  });
  const receiverUrl = `http://127.0.0.1:${port}/hook`;
  let delivered: number;
  const best = { off: null as RunResult | null, on: null as RunResult | null };
  const keep = (a: RunResult | null, b: RunResult): RunResult =>
    a === null
      ? b
      : {
          ...b,
          appendsPerSecond: Math.max(a.appendsPerSecond, b.appendsPerSecond),
          p50: Math.min(a.p50, b.p50),
          p99: Math.min(a.p99, b.p99),
        };
  try {
    for (let r = 0; r < ROUNDS; r++) {
      best.off = keep(best.off, await oneRun(false, receiverUrl));
      best.on = keep(best.on, await oneRun(true, receiverUrl));
    }
  } finally {
    delivered = Number(await (await fetch(`http://127.0.0.1:${port}/count`)).text());
    receiver.kill();
  }
  const { off, on } = best as { off: RunResult; on: RunResult };
  const line = (label: string, a: string, b: string, ratio: string) =>
    console.log(`${label.padEnd(52)} ${a.padStart(16)} ${b.padStart(16)}   ${ratio}`);
  line('', 'no subscriptions', 'every event type', 'with / without');
  const appendRatio = on.appendsPerSecond / off.appendsPerSecond;
  line(
    'HTTP handoff appends (ship+receive), appends/s',
    fmt(off.appendsPerSecond),
    fmt(on.appendsPerSecond),
    `${(appendRatio * 100).toFixed(1)}% (goal ≥ 90%: ${appendRatio >= 0.9 ? 'met' : 'NOT met'})`,
  );
  const p99Ratio = on.p99 / off.p99;
  line(
    'POST /v1/verifications p99, ms',
    off.p99.toFixed(1),
    on.p99.toFixed(1),
    `${(p99Ratio * 100).toFixed(1)}% (goal ≤ 110%: ${p99Ratio <= 1.1 ? 'met' : 'NOT met'})`,
  );
  line('POST /v1/verifications p50, ms', off.p50.toFixed(1), on.p50.toFixed(1), '');
  console.log(
    `  (${fmt(on.verifications)} verifications per run, ${fmt(on.quarantines)} quarantined with a case; ` +
      `${fmt(delivered)} webhook requests delivered to the local receiver over the subscribed runs)`,
  );
}
