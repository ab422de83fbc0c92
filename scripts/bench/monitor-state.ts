// The log monitor (issue 15, DESIGN §7b), in one process on the test database
// (PGlite; PostgreSQL with PROVENANT_TEST_DATABASE_URL): a log of
// BENCH_MONITOR_UNITS commissions (default 20,000) built through the API, then
//  - monitor catch-up: entries verified per second, from index 0;
//  - audit: entries re-verified per second, and seconds per 100,000 entries;
//  - verified state: bytes per subject over verifier_subjects and verifier_children
//    (pg_total_relation_size: heap, TOAST, maps and every index), with the parts;
//  - one unit's verification, sequential: p50 answered from verified state vs
//    the full engine over the bundle (policy answerFrom 'engine');
//  - a pallet of BENCH_MONITOR_PALLET of those units (default 1,000): bytes per
//    verifier_children row, the state of a packed unit and of the pallet.
// Figures are printed, never asserted. Run: pnpm bench monitor-state
import { performance } from 'node:perf_hooks';
import { unitSubject } from '@provenant/core';
import { auditVerifier } from '@provenant/verifier';
import { Api, startTestWorld, withCheckDigit } from '../../tests/support/verifier.js';

const UNITS = Number(process.env.BENCH_MONITOR_UNITS ?? 20_000);
const REQUESTS = Number(process.env.BENCH_MONITOR_REQUESTS ?? 200);
const PALLET = Math.min(UNITS - 1, Number(process.env.BENCH_MONITOR_PALLET ?? 1000));
const GTIN = withCheckDigit('1061414100001');

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runMonitorStateBench(): Promise<void> {
  console.log('\n== log monitor (issue 15) ==');
  const world = await startTestWorld();
  try {
    const api = new Api(world.app, world.issuer.adminToken);
    const mfr = await api.party(
      withCheckDigit('061414100000'),
      'Acme',
      ['manufacturer'],
      ['0614141'],
    );
    const dist = await api.party(withCheckDigit('061414100001'), 'Northwind', ['distributor']);
    for (let i = 0; i < UNITS; i += 1000) {
      const n = Math.min(1000, UNITS - i);
      await api.commission(
        mfr,
        GTIN,
        Array.from({ length: n }, (_, j) => `M${i + j}`),
      );
    }
    await api.handoff(mfr, dist, [unitSubject(GTIN, 'M0')], 'ASN-M0');

    const t0 = performance.now();
    const entries = await world.verifier.monitor.catchUp();
    const catchUpS = (performance.now() - t0) / 1000;
    console.log(
      `monitor catch-up: ${entries} entries in ${catchUpS.toFixed(2)} s = ${Math.round(entries / catchUpS)} entries/s`,
    );

    const d = world.verifier;
    const report = await auditVerifier(d);
    console.log(
      `audit: ${report.size} entries in ${(report.elapsedMs / 1000).toFixed(2)} s = ${report.entriesPerSecond} entries/s (${(100_000 / report.entriesPerSecond).toFixed(1)} s per 100,000 entries); findings ${report.findings.length}, differences ${report.differences.length}`,
    );

    // Every byte of the per-subject tables (heap, TOAST, free-space and visibility maps,
    // every index), over the subjects they hold.
    const { rows } = await d.db.query(
      `SELECT pg_total_relation_size('verifier_subjects')::bigint AS s,
              pg_relation_size('verifier_subjects')::bigint AS heap,
              pg_indexes_size('verifier_subjects')::bigint AS idx,
              pg_total_relation_size('verifier_children')::bigint AS c,
              (SELECT count(*) FROM verifier_children)::int AS nc,
              (SELECT count(*) FROM verifier_subjects)::int AS n,
              (SELECT avg(pg_column_size(state)) FROM verifier_subjects)::float8 AS enc`,
    );
    const r = rows[0]!;
    const n = Number(r.n);
    const per = (x: unknown) => (Number(x) / n).toFixed(1);
    console.log(
      `verified state: ${per(Number(r.s) + Number(r.c))} B per subject over verifier_subjects and verifier_children (${n} subjects, ${r.nc} child rows): verifier_subjects ${per(r.s)} (heap ${per(r.heap)}, primary key ${per(r.idx)}, rest ${per(Number(r.s) - Number(r.heap) - Number(r.idx))}), verifier_children ${per(r.c)}; state column ${Number(r.enc).toFixed(1)} B on average (with its length byte)`,
    );

    const engine = world.appWith({ policy: { answerFrom: 'engine' } });
    try {
      const subject = unitSubject(GTIN, 'M0');
      const time = async (app: typeof world.app): Promise<number> => {
        const xs: number[] = [];
        for (let i = 0; i < REQUESTS; i++) {
          const s = performance.now();
          await api.verify(dist, { subject, purpose: 'saleable_return' }, app).expect(201);
          xs.push(performance.now() - s);
        }
        return p50(xs);
      };
      const fast = await time(world.app);
      const full = await time(engine.app);
      console.log(
        `unit verification, sequential p50: ${fast.toFixed(2)} ms from verified state, ${full.toFixed(2)} ms by the full engine (${(full / fast).toFixed(1)}x)`,
      );
    } finally {
      await engine.deps.pool.close();
    }

    // Packed units add a verifier_children row each (container, child, head).
    const packed = Array.from({ length: PALLET }, (_, i) => unitSubject(GTIN, `M${i + 1}`));
    await api.pack(mfr, withCheckDigit('10614141000000001'), packed);
    await d.monitor.catchUp();
    const c = await d.db.query(
      `SELECT pg_total_relation_size('verifier_children')::bigint AS c,
              pg_indexes_size('verifier_children')::bigint AS idx,
              (SELECT count(*) FROM verifier_children)::int AS n,
              (SELECT avg(pg_column_size(state)) FROM verifier_subjects
                WHERE subject = ANY($1::text[]))::float8 AS unit,
              (SELECT pg_column_size(state) FROM verifier_subjects WHERE subject LIKE '00/%')::int AS pallet`,
      [packed],
    );
    const x = c.rows[0]!;
    console.log(
      `a pallet of ${x.n} units: verifier_children ${(Number(x.c) / Number(x.n)).toFixed(1)} B per child row (primary key ${(Number(x.idx) / Number(x.n)).toFixed(1)}); state column of a packed unit ${Number(x.unit).toFixed(1)} B, of the pallet ${x.pallet} B`,
    );
  } finally {
    await world.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runMonitorStateBench();
