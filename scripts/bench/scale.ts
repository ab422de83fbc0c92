// `pnpm bench scale` (opt-in; issue 15 "cost must not grow with the log"):
// the real service on a fresh PostgreSQL database grows its log by bulk
// commission (POST /v1/commissions, 10,000 units per call) to 10^3, 10^5 and
// 10^6 leaves (PROVENANT_BENCH_SCALE_MAX lowers the top, e.g. 100000), and at
// each size prints, from one sequential client:
//  - inclusion proof latency p50 (GET /v1/log/proofs/inclusion, random index);
//  - single-unit verification latency p50 (POST /v1/verifications, a unit
//    commissioned and shipped at that size, each verified once);
//  - bytes per leaf for the whole database, and per table.
// At the top size it prints the PostgreSQL plan (EXPLAIN ANALYZE) of the
// chain query a bundle runs (bundleChains) and of a unit's chain read.
// Goal: p50 at 10^6 within 1.5× of p50 at 10^3. Statistics are whatever the
// service and autovacuum left: the bench runs no ANALYZE of its own.
import { performance } from 'node:perf_hooks';
import { openPg, type Database } from '@provenant/store';
import { fmt } from './measure.js';
import { loadAverage, percentile } from './load.js';
import { monitorCaughtUp } from './monitor-status.js';
import { GTIN, party, startWorld, type World } from './world.js';

const MAX = Number(process.env.PROVENANT_BENCH_SCALE_MAX ?? 1_000_000);
const SIZES = [1_000, 100_000, 1_000_000].filter((s) => s < MAX).concat([MAX]);
const PROBES = 100;
const BATCH = 10_000;

interface Point {
  leaves: number;
  proofP50: number;
  verifyP50: number;
  verifyP99: number;
  bytesPerLeaf: number;
}

async function leafCount(db: Database): Promise<number> {
  const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log_leaves');
  return r.rows[0]!.n;
}

/** Commissions units in BATCH-sized calls until the log has `target` leaves. */
async function growTo(w: World, db: Database, mfr: string, target: number, tag: { n: number }) {
  for (let have = await leafCount(db); have < target; have = await leafCount(db)) {
    const n = Math.min(BATCH, target - have);
    const batch = tag.n++;
    await w.client.json('POST', '/v1/commissions', {
      token: mfr,
      body: {
        items: Array.from({ length: n }, (_, i) => ({
          gtin: GTIN,
          serial: `G${batch}-${i}`,
          lot: 'L1',
          expiry: '2030-01-31',
        })),
      },
    });
  }
}

async function tableSizes(db: Database): Promise<{ table: string; bytes: number }[]> {
  const r = await db.query<{ table: string; bytes: number }>(
    `SELECT c.relname AS table, pg_total_relation_size(c.oid)::float8 AS bytes
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC`,
  );
  return r.rows;
}

async function measureAt(
  w: World,
  db: Database,
  parties: { mfr: string; dist: string; distGln: string },
  size: number,
): Promise<Point> {
  const c = w.client;
  // Probe units of this size: commissioned and shipped to the distributor now.
  const serials = Array.from({ length: PROBES }, (_, i) => `PROBE${size}-${i}`);
  const units = serials.map((s) => `01/${GTIN}/21/${s}`);
  await c.json('POST', '/v1/commissions', {
    token: parties.mfr,
    body: {
      items: serials.map((serial) => ({ gtin: GTIN, serial, lot: 'L1', expiry: '2030-01-31' })),
    },
  });
  await c.json('POST', '/v1/shipments', {
    token: parties.mfr,
    body: { subjects: units, to: parties.distGln, shipment: `PROBE-${size}` },
  });
  await monitorCaughtUp(c, 900_000, w.admin);
  const leaves = await leafCount(db);

  const proofs: number[] = [];
  for (let i = 0; i < 200; i++) {
    const index = Math.floor(Math.random() * leaves);
    const t0 = performance.now();
    await c.json('GET', `/v1/log/proofs/inclusion?index=${index}&size=${leaves}`);
    proofs.push(performance.now() - t0);
  }
  const verifies: number[] = [];
  for (const subject of units) {
    const t0 = performance.now();
    const r = await c.json<{ verdict: string }>('POST', '/v1/verifications', {
      token: parties.dist,
      body: { subject, purpose: 'receiving' },
    });
    verifies.push(performance.now() - t0);
    if (r.verdict !== 'accept') throw new Error(`${subject}: ${r.verdict}`);
  }
  proofs.sort((a, b) => a - b);
  verifies.sort((a, b) => a - b);
  const r = await db.query<{ b: number }>(
    'SELECT pg_database_size(current_database())::float8 AS b',
  );
  const p: Point = {
    leaves,
    proofP50: percentile(proofs, 50),
    verifyP50: percentile(verifies, 50),
    verifyP99: percentile(verifies, 99),
    bytesPerLeaf: r.rows[0]!.b / leaves,
  };
  console.log(
    `${fmt(leaves).padStart(10)} leaves   proof p50 ${p.proofP50.toFixed(1)} ms   unit verification p50 ${p.verifyP50.toFixed(1)} ms (p99 ${p.verifyP99.toFixed(1)} ms)   ${fmt(p.bytesPerLeaf)} B/leaf   (${await loadAverage()})`,
  );
  return p;
}

/** EXPLAIN ANALYZE of the bundle's chain query and a chain read, for one probe unit. */
async function plans(db: Database, subject: string, size: number): Promise<void> {
  const stats = await db.query<{
    relname: string;
    last: string | null;
    n_mod: number;
    n_live: number;
  }>(
    `SELECT relname, coalesce(greatest(last_analyze, last_autoanalyze)::text, 'never') AS last,
            n_mod_since_analyze::float8 AS n_mod, n_live_tup::float8 AS n_live
     FROM pg_stat_user_tables WHERE relname IN ('records', 'log_leaves', 'chain_heads', 'merkle_nodes')`,
  );
  for (const s of stats.rows)
    console.log(
      `  statistics of ${s.relname}: last analyzed ${s.last}, ${fmt(s.n_mod)} rows changed since, ${fmt(s.n_live)} live`,
    );
  const queries: [string, string, unknown[]][] = [
    [
      'bundleChains',
      `SELECT r.subject, r.seq, r.actor, r.kid, r.type, r.data ->> 'parent' AS parent, l.envelope,
              r.leaf_idx, l.leaf_hash, l.integrated_at, l.receipt_signature
       FROM unnest($1::text[]) AS u(subject)
       JOIN records r ON r.subject = u.subject
       JOIN log_leaves l ON l.idx = r.leaf_idx
       WHERE l.idx < $2::bigint
       ORDER BY r.subject, r.seq`,
      [[subject], size],
    ],
    ['chain read', `SELECT * FROM records WHERE subject = $1::text ORDER BY seq`, [subject]],
  ];
  for (const [name, sql, params] of queries) {
    const r = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
    console.log(`  plan of ${name}:`);
    for (const row of r.rows) console.log(`    ${row['QUERY PLAN']}`);
  }
}

export async function runScaleBench(): Promise<void> {
  console.log(`\n== cost against log size (issue 15; up to ${fmt(MAX)} leaves) ==`);
  const w = await startWorld('provenant_bench_scale', { PROVENANT_RATE_LIMIT_TOKEN: '0' });
  const db = await openPg(w.dbUrl, { max: 2 });
  try {
    const mfr = await party(w, '0614141000005', ['manufacturer'], ['0614141']);
    const dist = await party(w, '0614141000012', ['distributor']);
    const parties = { mfr: mfr.token, dist: dist.token, distGln: dist.gln };
    const tag = { n: 0 };
    const points: Point[] = [];
    const t0 = performance.now();
    for (const size of SIZES) {
      await growTo(w, db, mfr.token, size - PROBES * 2, tag);
      points.push(await measureAt(w, db, parties, size));
    }
    const first = points[0]!;
    const last = points[points.length - 1]!;
    const ratio = last.verifyP50 / first.verifyP50;
    console.log(
      `unit verification p50 at ${fmt(last.leaves)} / at ${fmt(first.leaves)} leaves: ${ratio.toFixed(2)}×  (goal ≤ 1.5×: ${ratio <= 1.5 ? 'met' : 'NOT met'}); proofs ${(last.proofP50 / first.proofP50).toFixed(2)}×`,
    );
    console.log(`  (grown in ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    console.log(`bytes per leaf at ${fmt(last.leaves)} leaves, by table:`);
    for (const t of (await tableSizes(db)).slice(0, 10))
      console.log(`  ${t.table.padEnd(24)} ${fmt(t.bytes / last.leaves).padStart(8)} B/leaf`);
    await plans(db, `01/${GTIN}/21/PROBE${SIZES[SIZES.length - 1]}-0`, last.leaves);
  } finally {
    await db.close();
    await w.close();
  }
}
