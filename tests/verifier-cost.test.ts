// Verification cost (issue 11, DESIGN §8): a logistic unit counts its units,
// and a verification keeps every count but at most 100 failing units, in
// the answer and in the stored row.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { unitSubject } from '@provenant/core';
import { MAX_FAILING_UNITS, verificationCostUnits } from '@provenant/verifier';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100021');
const SSCC = withCheckDigit('10614141000000021');
const UNITS = 130;

describe('a pallet with more failing units than a verification keeps', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414100020'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    const serials = Array.from({ length: UNITS }, (_, i) => `C${String(i).padStart(4, '0')}`);
    await api.commission(mfr, GTIN, serials, 'LC');
    await api.pack(
      mfr,
      SSCC,
      serials.map((s) => unitSubject(GTIN, s)),
    );
    // Every unit of the lot is recalled: each one fails.
    await api
      .post('/v1/recalls', mfr.token, { gtin: GTIN, lot: 'LC', reason: 'sterility' })
      .expect(201);
  });
  afterAll(async () => {
    await world.stop();
  });

  it('answers and stores all counts and the first 100 failing units', async () => {
    const res = await api
      .post('/v1/verifications', mfr.token, { subject: `00/${SSCC}`, purpose: 'dispense' })
      .expect(201);
    const units = res.body.units as {
      total: number;
      counts: Record<string, number>;
      failing: unknown[];
      failingOmitted: number;
    };
    expect(units.total).toBe(UNITS);
    expect(units.counts.accept + units.counts.quarantine + units.counts.reject).toBe(UNITS);
    expect(units.failing).toHaveLength(MAX_FAILING_UNITS);
    expect(units.failingOmitted).toBe(UNITS - MAX_FAILING_UNITS);
    expect(verificationCostUnits(res.body)).toBe(UNITS);

    const { rows } = await world.issuer.db.query<{ failing: number; total: number }>(
      `SELECT jsonb_array_length(result->'units'->'failing') AS failing,
              (result->'units'->>'total')::int AS total
       FROM verifications WHERE id = $1::text`,
      [res.body.id],
    );
    expect(rows[0]).toEqual({ failing: MAX_FAILING_UNITS, total: UNITS });
    // GET serves the stored answer: the same capped summary.
    const stored = await api.get(`/v1/verifications/${res.body.id}`, mfr.token).expect(200);
    expect(stored.body.units).toEqual(units);
  });

  it('counts a unit verification as one unit', async () => {
    const res = await api
      .post('/v1/verifications', mfr.token, {
        subject: unitSubject(GTIN, 'C0000'),
        purpose: 'dispense',
      })
      .expect(201);
    expect(res.body.units).toBeUndefined();
    expect(verificationCostUnits(res.body)).toBe(1);
  });
});
