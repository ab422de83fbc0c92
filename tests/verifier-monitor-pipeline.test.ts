// The log monitor's pipeline (DESIGN §7b, issue 15), on PGlite and (with
// PROVENANT_TEST_DATABASE_URL) PostgreSQL: while one batch is verified the
// next is read and the previous one commits, yet every entry is verified once
// and in log order. Whatever the batch size, the worker pool or the number of
// monitors racing on one database, the verified state is the same, every
// subject's head is its last logged record, and the audit finds nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { unitSubject } from '@provenant/core';
import { getLogSize, getVerifiedSubjectsPage, getVerifierCursor } from '@provenant/store';
import { auditVerifier, createVerifierDeps, type VerifierDeps } from '@provenant/verifier';
import { Api, startTestWorld, withCheckDigit, type TestWorld } from './support/verifier.js';

const GTIN = withCheckDigit('1061414100003');
const SSCC = withCheckDigit('10614141000000101');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('the monitor pipeline', () => {
  let world: TestWorld;
  let size = 0;
  let reference: string[] = [];

  const q = (sql: string, params: unknown[] = []) => world.issuer.db.query(sql, params);

  /** Forgets everything the verifier verified (its tables only): the next monitor starts at 0. */
  const resetVerifier = async () => {
    await q(
      `TRUNCATE verifier_subjects, verifier_children, verifier_keys, verifier_parties, verifier_alarms`,
    );
    await q(
      `UPDATE verifier_cursor SET next_index = 0, frontier = '{}', checkpoint_size = NULL,
         checkpoint_root = NULL, checkpoint_note = NULL`,
    );
  };

  /** The verified state as rows of text, in subject order. */
  const snapshot = async (): Promise<string[]> => {
    const { rows } = await q(
      `SELECT subject, encode(state, 'hex') AS state, alarm FROM verifier_subjects ORDER BY subject`,
    );
    const kids = await q(
      `SELECT container, child, head FROM verifier_children ORDER BY container, child`,
    );
    return [...rows, ...kids.rows].map((r) => JSON.stringify(r));
  };

  const monitorWith = (opts: { workers: number; monitorBatch?: number }): VerifierDeps =>
    createVerifierDeps({ db: world.issuer.db, ...world.issuer.verifier, ...opts });

  /** Every subject's verified head is the last record logged for it; the audit agrees. */
  const expectConsistent = async (deps: VerifierDeps) => {
    expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBe(size);
    const { rows } = await q(
      `SELECT subject, max(leaf_idx)::int AS last, max(seq)::int AS seq FROM records
       GROUP BY subject ORDER BY subject`,
    );
    const verified = await getVerifiedSubjectsPage(world.issuer.db, '', 100_000);
    expect(verified.map((v) => [v.subject, v.headIndex, v.seq, v.alarm])).toEqual(
      rows.map((r) => [r.subject, r.last, r.seq, null]),
    );
    const report = await auditVerifier(deps);
    expect([report.findings, report.differences]).toEqual([[], []]);
    const alarms = await q(`SELECT count(*)::int AS n FROM verifier_alarms`);
    expect(alarms.rows[0]!.n).toBe(0);
  };

  beforeAll(async () => {
    world = await startTestWorld({ workers: 0 });
    const api = new Api(world.app, world.issuer.adminToken);
    const mfr = await api.party(
      withCheckDigit('061414100030'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    const dist = await api.party(withCheckDigit('061414100031'), 'Northwind', ['distributor']);
    // Later records depend on earlier ones across batch boundaries: commissions, a pack of
    // units from the first request, handoffs, more commissions, a handoff of the pallet.
    await api.commission(
      mfr,
      GTIN,
      Array.from({ length: 300 }, (_, i) => `P${i}`),
    );
    await api.pack(mfr, `00/${SSCC}`, [unit('P1'), unit('P2'), unit('P299')]);
    await api.handoff(mfr, dist, [unit('P7'), unit('P150')], 'ASN-P1');
    await api.commission(
      mfr,
      GTIN,
      Array.from({ length: 300 }, (_, i) => `Q${i}`),
    );
    await api.handoff(mfr, dist, [`00/${SSCC}`, unit('Q299')], 'ASN-P2');
    await api.decommission(dist, [unit('P7')], 'dispensed');
    size = await getLogSize(world.issuer.db);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('verifies every entry once in log order with many small batches, as one large pass does', async () => {
    await resetVerifier();
    const small = monitorWith({ workers: 0, monitorBatch: 7 });
    try {
      expect(await small.monitor.catchUp()).toBe(size);
      await expectConsistent(small);
      reference = await snapshot();
    } finally {
      await small.pool.close();
    }
    await resetVerifier();
    // The default batches (growing past one signature chunk) with the checks in two workers.
    const large = monitorWith({ workers: 2 });
    try {
      expect(await large.monitor.catchUp()).toBe(size);
      expect(await large.monitor.catchUp()).toBe(0);
      await expectConsistent(large);
      expect(await snapshot()).toEqual(reference);
    } finally {
      await large.pool.close();
    }
  }, 120_000);

  it('resumes one batch at a time where the cursor stands', async () => {
    await resetVerifier();
    const first = monitorWith({ workers: 0, monitorBatch: 50 });
    let done = 0;
    try {
      for (let i = 0; i < 3; i++) done += await first.monitor.step();
      expect(done).toBe(150);
      expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBe(150);
    } finally {
      await first.pool.close();
    }
    const second = monitorWith({ workers: 0, monitorBatch: 64 });
    try {
      expect(await second.monitor.catchUp()).toBe(size - 150);
      await expectConsistent(second);
      expect(await snapshot()).toEqual(reference);
    } finally {
      await second.pool.close();
    }
  }, 120_000);

  it('lets two monitors race on one database: each range is committed by one of them, once', async () => {
    await resetVerifier();
    const a = monitorWith({ workers: 0, monitorBatch: 5 });
    const b = monitorWith({ workers: 0, monitorBatch: 13 });
    try {
      const [na, nb] = await Promise.all([a.monitor.catchUp(), b.monitor.catchUp()]);
      // A write moves the cursor from where the previous one left it: the ranges tile the log.
      expect(na + nb).toBe(size);
      expect(await a.monitor.catchUp()).toBe(0);
      expect(await b.monitor.catchUp()).toBe(0);
      await expectConsistent(a);
      expect(await snapshot()).toEqual(reference);
    } finally {
      await a.pool.close();
      await b.pool.close();
    }
  }, 120_000);
});
