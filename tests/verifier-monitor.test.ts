// The verifier as an independent monitor of the log (DESIGN §7b), on PGlite and
// (with PROVENANT_TEST_DATABASE_URL) PostgreSQL: it verifies every entry once
// from its own cursor, resumes and catches up, keeps verified state per
// subject, raises alarms a database insider cannot avoid (before and after the
// entry was verified, the latter found by the audit), and the answers stay as
// they were.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  canonicalBytes,
  encodeVerifiedState,
  fromDsseBase64,
  toBase64,
  toHex,
  unitSubject,
} from '@provenant/core';
import { getLogSize, getVerifierCursor, getVerifiedSubjects } from '@provenant/store';
import { answerFromState, createVerifier, createVerifierDeps } from '@provenant/verifier';
import {
  Api,
  cliAudit,
  codes,
  insider,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

/** What an answer says, without its id, time and receipt (state vs engine comparisons). */
const shape = (b: Record<string, unknown>) => ({
  verdict: b.verdict,
  reasons: b.reasons,
  subject: b.subject,
  product: b.product,
  status: b.status,
  custodian: b.custodian,
  custody: b.custody,
  units: b.units,
  checkpoint: b.checkpoint,
  limited: b.limited,
});

const GTIN = withCheckDigit('1061414100001');
const SSCC = withCheckDigit('10614141000000001');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('the verifier as a monitor of the log', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;

  const q = (sql: string, params: unknown[] = []) => world.issuer.db.query(sql, params);
  const admin = () => world.issuer.adminToken;
  const { tamper: tamperIn, leafOf } = insider(() => world.issuer.db);
  /** What an insider with the database password does: the append-only triggers off, a row changed, on again. */
  const tamper = (table: string, sql: string, params: unknown[]) =>
    tamperIn([table], (tx) => tx.query(sql, params));

  const cliAuditAsAdmin = () => cliAudit(world.app, admin());

  beforeAll(async () => {
    world = await startTestWorld({ workers: 0 });
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414100000'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    dist = await api.party(withCheckDigit('061414100001'), 'Northwind', ['distributor']);
    pharm = await api.party(withCheckDigit('061414100002'), 'St. Mary', ['dispenser']);
    const serials = ['A1', 'A2', 'A3', 'A4', 'A5', 'A6'];
    await api.commission(mfr, GTIN, serials);
    await api.pack(mfr, SSCC, serials.slice(0, 4).map(unit));
    await api.handoff(mfr, dist, [`00/${SSCC}`], 'ASN-1');
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('verifies every entry once, up to the log size, with state per subject', async () => {
    const n = await world.verifier.monitor.catchUp();
    const size = await getLogSize(world.issuer.db);
    expect(n).toBe(size);
    expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBe(size);
    expect(await world.verifier.monitor.catchUp()).toBe(0);
    const [u] = await getVerifiedSubjects(world.issuer.db, [unit('A1')]);
    expect(u).toMatchObject({ subject: unit('A1'), seq: 1, alarm: null });
    expect(u!.state).toMatchObject({ containedIn: `00/${SSCC}`, custodian: mfr.gln, active: true });
    const [pallet] = await getVerifiedSubjects(world.issuer.db, [`00/${SSCC}`]);
    expect(pallet!.state).toMatchObject({
      kind: 'container',
      custodian: dist.gln,
      inTransit: null,
    });
    // Verified state stays small (issue 15: at most ~200 B per subject is the goal).
    const { rows } = await q(
      `SELECT avg(pg_column_size(v.*))::int AS b FROM verifier_subjects v WHERE subject LIKE '01/%'`,
    );
    console.log(`verifier_subjects: ${rows[0]!.b} B per unit row`);
  });

  it('answers GET /v1/verifier with verified size, log size, lag and no alarms', async () => {
    const res = await request(world.app).get('/v1/verifier').expect(200);
    const size = await getLogSize(world.issuer.db);
    expect(res.body).toMatchObject({
      verifiedSize: size,
      logSize: size,
      lagSeconds: 0,
      alarms: [],
    });
    expect(typeof res.body.publicKey).toBe('string');
    expect(res.body.checkpoint.size).toBe(size);
    // DESIGN §4: digests in JSON are lowercase hex, as in a verification's checkpoint.
    const cursor = await getVerifierCursor(world.issuer.db);
    expect(res.body.checkpoint.rootHash).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.checkpoint.rootHash).toBe(toHex(cursor.checkpoint!.rootHash));
  });

  it('answers an honest unit as before: accept, once the monitor caught up with the new entries', async () => {
    await api.ship(dist, [`00/${SSCC}`], pharm, 'ASN-2');
    const before = await getLogSize(world.issuer.db);
    expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBeLessThan(before);
    const res = await api.verify(pharm, { subject: unit('A1'), purpose: 'receiving' }).expect(201);
    expect(res.body.verdict).toBe('accept');
    // The request waited for the monitor to reach the log size seen at its arrival.
    expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBeGreaterThanOrEqual(before);
    expect(res.body.receipt.checkpoint).toEqual(res.body.checkpoint);
  });

  it('resumes from its cursor after a restart and catches up with what was appended meanwhile', async () => {
    await api.receive(pharm, dist, 'ASN-2', [`00/${SSCC}`]);
    await api.commission(mfr, GTIN, ['B1', 'B2']);
    const from = (await getVerifierCursor(world.issuer.db)).nextIndex;
    const size = await getLogSize(world.issuer.db);
    // A new verifier process on the same database: no memory, the cursor is in its tables.
    const restarted = createVerifierDeps({
      db: world.issuer.db,
      ...world.issuer.verifier,
      workers: 0,
      monitorBatch: 2,
    });
    try {
      expect(await restarted.monitor.catchUp()).toBe(size - from);
      const [pallet] = await getVerifiedSubjects(world.issuer.db, [`00/${SSCC}`]);
      expect(pallet!.state).toMatchObject({ custodian: pharm.gln, inTransit: null });
      expect((await getVerifiedSubjects(world.issuer.db, [unit('B2')]))[0]!.seq).toBe(0);
    } finally {
      await restarted.pool.close();
    }
  });

  it('answers from verified state exactly as the full engine does, for every party and purpose', async () => {
    const engine = world.appWith({ workers: 0, policy: { answerFrom: 'engine' } });
    const parties = [mfr, dist, pharm];
    const purposes = ['receiving', 'dispense', 'saleable_return'];
    const inputs: Record<string, unknown>[] = [
      ...['A1', 'A4', 'A6', 'B1'].map((s) => ({ subject: unit(s) })),
      { scan: `https://id.gs1.org/01/${GTIN}/10/LX/21/A2` }, // LOT_MISMATCH
      { scan: `https://id.gs1.org/01/${GTIN}/10/L1/21/A3?17=290131` }, // EXPIRY_MISMATCH
      { subject: unit('NOPE') }, // UNKNOWN_PRODUCT (the engine's path)
      { subject: `00/${SSCC}` }, // a logistic unit (the engine's path)
    ];
    let compared = 0;
    try {
      for (const p of parties)
        for (const purpose of purposes)
          for (const input of inputs) {
            // The engine first: its stored verification is this party's own, which never counts.
            const full = await api.verify(p, { ...input, purpose }, engine.app).expect(201);
            const fast = await api.verify(p, { ...input, purpose }).expect(201);
            expect([input, p.gln, purpose, shape(fast.body)]).toEqual([
              input,
              p.gln,
              purpose,
              shape(full.body),
            ]);
            compared++;
          }
    } finally {
      await engine.deps.pool.close();
    }
    // And DUPLICATE_SCAN: another party of the chain verified A4 since its last handoff.
    const full = await api
      .verify(mfr, { subject: unit('A4'), purpose: 'saleable_return' }, world.app)
      .expect(201);
    expect(codes(full.body)).toContain('DUPLICATE_SCAN');
    expect(compared).toBe(parties.length * purposes.length * inputs.length);
    // The units above were answered from verified state, not by the engine's fallback.
    const origin = world.verifier.origin;
    for (const s of ['A1', 'A4', 'A6', 'B1']) {
      const a = await answerFromState(
        world.issuer.db,
        origin,
        { party: dist.gln, purpose: 'receiving', subject: unit(s) },
        Date.now(),
        (note) => world.verifier.monitor.trustsNote(note),
      );
      expect([s, a !== null]).toEqual([s, true]);
    }
    // The pallet too (its units in one query), with its units summary.
    const pallet = await answerFromState(
      world.issuer.db,
      origin,
      { party: dist.gln, purpose: 'receiving', subject: `00/${SSCC}` },
      Date.now(),
      (note) => world.verifier.monitor.trustsNote(note),
    );
    expect(pallet?.units).toEqual({
      total: 4,
      counts: { accept: 4, quarantine: 0, reject: 0 },
      failing: [],
    });
  });

  it('leaves a unit or a pallet whose chain has a party suspended before, even reinstated since, to the full engine', async () => {
    // A manufacturer of its own, so its suspension touches no other test's chains.
    const held = await api.party(
      withCheckDigit('086000500000'),
      'Held',
      ['manufacturer'],
      ['0860005'],
    );
    const gtin = withCheckDigit('1086000500001');
    const sscc = withCheckDigit('10860005000000001');
    await api.commission(held, gtin, ['S1', 'S2']);
    await api.pack(held, sscc, [`01/${gtin}/21/S1`, `01/${gtin}/21/S2`]);
    await world.verifier.monitor.catchUp();
    const trusts = (note: string) => world.verifier.monitor.trustsNote(note);
    const fromState = (subject: string) =>
      answerFromState(
        world.issuer.db,
        world.verifier.origin,
        { party: held.gln, purpose: 'receiving', subject },
        Date.now(),
        trusts,
      );
    const subjects = [`01/${gtin}/21/S1`, `00/${sscc}`];
    for (const s of subjects) expect([s, (await fromState(s)) !== null]).toEqual([s, true]);
    await api
      .post(`/v1/parties/${held.gln}/suspend`, api.adminToken, { reason: 'audit' })
      .expect(200);
    await api.post(`/v1/parties/${held.gln}/reinstate`, api.adminToken, {}).expect(200);
    await world.verifier.monitor.catchUp();
    for (const s of subjects) expect([s, await fromState(s)]).toEqual([s, null]);
    const engine = world.appWith({ workers: 0, policy: { answerFrom: 'engine' } });
    try {
      for (const subject of subjects) {
        const full = await api.verify(held, { subject, purpose: 'receiving' }, engine.app);
        const fast = await api.verify(held, { subject, purpose: 'receiving' });
        expect([subject, fast.body.verdict, fast.body.reasons]).toEqual([
          subject,
          full.body.verdict,
          full.body.reasons,
        ]);
      }
    } finally {
      await engine.deps.pool.close();
    }
  });

  it('answers logistic units from verified state exactly as the full engine does, nested or not', async () => {
    const GTIN2 = withCheckDigit('1061414100002');
    const sscc = (n: string) => `00/${withCheckDigit(`1061414100000${n}`)}`;
    const [P1, P2, K1, P3, P4, P5, K2] = [
      '0101',
      '0102',
      '0103',
      '0104',
      '0105',
      '0106',
      '0107',
    ].map(sscc);
    const GC = unit('GC2');
    const GC3 = unit('GC3'); // a serialized GTIN case on its own
    await api.commission(mfr, GTIN, ['GC2', ...['1', '2', '3', '4', '5', '6'].map((n) => `P${n}`)]);
    await api.commission(mfr, GTIN, ['PX1', 'PX2'], 'L1', '2024-01-31'); // expired
    await api.commission(mfr, GTIN, [
      'PD1',
      'PD2',
      'PU1',
      'PU2',
      'PU3',
      'PU4',
      'PU5',
      'PU6',
      'GC3',
    ]);
    await api.commission(mfr, GTIN2, ['PR1']);
    // A pallet of units.
    await api.pack(mfr, P1, ['P1', 'P2', 'P3'].map(unit));
    // A pallet of cases of units: an SSCC case and a serialized GTIN case, and a loose unit.
    await api.pack(mfr, K1, ['P4', 'P5'].map(unit));
    await api.pack(mfr, GC, ['PU1', 'PU2'].map(unit));
    await api.pack(mfr, P2, [K1, GC, unit('P6')]);
    await api.pack(mfr, GC3, ['PU5', 'PU6'].map(unit));
    // An expired unit; a unit decommissioned after its pallet was opened; a recalled GTIN.
    await api.pack(mfr, K2, [unit('PX2')]);
    await api.pack(mfr, P3, [unit('PU3'), unit('PX1'), K2]);
    await api.pack(mfr, P4, [unit('PU4'), unit('PD1')]);
    await api.pack(mfr, P5, [unit('PD2'), unitSubject(GTIN2, 'PR1')]);
    await api.handoff(mfr, dist, [P1, P2, P3, P4, P5, GC3], 'ASN-P');
    await api.unpack(dist, P4);
    await api.decommission(dist, [unit('PD1')], 'destroyed');
    await api.post('/v1/recalls', mfr.token, { gtin: GTIN2, reason: 'particulates' }).expect(201);

    const engine = world.appWith({ workers: 0, policy: { answerFrom: 'engine' } });
    const subjects = [P1, P2, K1, GC, GC3, P3, P4, P5];
    let compared = 0;
    try {
      for (const p of [mfr, dist, pharm])
        for (const purpose of ['receiving', 'dispense', 'saleable_return'])
          for (const subject of subjects) {
            const full = await api.verify(p, { subject, purpose }, engine.app).expect(201);
            const fast = await api.verify(p, { subject, purpose }).expect(201);
            expect([subject, p.gln, purpose, shape(fast.body)]).toEqual([
              subject,
              p.gln,
              purpose,
              shape(full.body),
            ]);
            compared++;
          }
    } finally {
      await engine.deps.pool.close();
    }
    expect(compared).toBe(3 * 3 * subjects.length);

    // Which of them the verified state answered, and which fell back to the engine.
    const fromState = async (subject: string) =>
      answerFromState(
        world.issuer.db,
        world.verifier.origin,
        { party: dist.gln, purpose: 'receiving', subject },
        Date.now(),
        (note) => world.verifier.monitor.trustsNote(note),
      );
    const p1 = await fromState(P1);
    expect([p1?.verdict, p1?.units?.total]).toEqual(['accept', 3]);
    const p2 = await fromState(P2);
    expect([p2?.verdict, p2?.units?.total]).toEqual(['accept', 7]); // K1, P4, P5, GC2, PU1, PU2, P6
    const gc3 = await fromState(GC3);
    expect([gc3?.verdict, gc3?.product?.serial, gc3?.units?.total]).toEqual(['accept', 'GC3', 2]);
    // Expired units, one of them in a case: listed in pack order, counted at the top.
    const p3 = await fromState(P3);
    expect([p3?.verdict, p3?.units?.total, p3?.units?.failing.map((f) => f.subject)]).toEqual([
      'quarantine',
      4,
      [unit('PX1'), unit('PX2')],
    ]);
    expect(p3?.reasons.map((r) => r.message)).toEqual([
      `2 of 4 units: ${unit('PX1')} expired on 2024-01-31`,
    ]);
    // Inside another container; an opened pallet; a recall: the engine.
    for (const s of [K1, GC, P4, P5]) expect([s, await fromState(s)]).toEqual([s, null]);
    // And the engine's answers for those carry the unit codes they fell back for.
    const codesOf = async (subject: string) =>
      codes((await api.verify(dist, { subject, purpose: 'receiving' }).expect(201)).body);
    expect(await codesOf(P3)).toContain('EXPIRED');
    expect(await codesOf(P4)).toContain('DECOMMISSIONED');
    expect(await codesOf(P5)).toContain('RECALLED');
  }, 120_000);

  it('audits the whole log from index 0 and finds nothing in an honest log', async () => {
    const res = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
    expect(res.body.findings).toEqual([]);
    expect(res.body.differences).toEqual([]);
    expect(res.body.size).toBe(await getLogSize(world.issuer.db));
    const perLakh = (100_000 / Math.max(1, res.body.entriesPerSecond)).toFixed(1);
    const run = await cliAuditAsAdmin();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('no differences');
    console.log(
      `audit: ${res.body.size} entries in ${res.body.elapsedMs} ms (${res.body.entriesPerSecond}/s, ~${perLakh} s per 100,000 entries)`,
    );
  });

  it('raises an alarm for a record an insider changed before the monitor verified it; the subject rejects', async () => {
    await api.ship(mfr, [unit('A5')], dist, 'ASN-5');
    const idx = await leafOf(unit('A5'), 1);
    // The insider sends the shipment elsewhere in the stored row, then more is appended.
    await tamper(
      'records',
      `UPDATE records SET data = jsonb_set(data, '{to}', to_jsonb($1::text)) WHERE leaf_idx = $2`,
      [pharm.gln, idx],
    );
    await api.commission(mfr, GTIN, ['C1']);
    // (mfr: the shipper, in the chain whatever the changed row says, so it reads the reasons in full)
    const res = await api
      .verify(mfr, { subject: unit('A5'), purpose: 'saleable_return' })
      .expect(201);
    expect(res.body.verdict).toBe('reject');
    expect(codes(res.body)).toContain('LOG_PROOF_INVALID');
    expect(JSON.stringify(res.body.reasons)).toContain('log monitor alarm');
    // Other subjects are unaffected, and the monitor went past the bad entry (it never stops).
    const ok = await api
      .verify(mfr, { subject: unit('C1'), purpose: 'saleable_return' })
      .expect(201);
    expect(ok.body.verdict).toBe('accept');

    const status = await api.get('/v1/verifier', admin()).expect(200);
    const alarm = status.body.alarms.find((a: { logIndex: number }) => a.logIndex === idx);
    expect(alarm).toMatchObject({
      code: 'LOG_PROOF_INVALID',
      subject: unit('A5'),
      foundBy: 'monitor',
      ackedAt: null,
    });
    // Anonymous callers see that there is an alarm, not which subject.
    const anon = await request(world.app).get('/v1/verifier').expect(200);
    expect(anon.body.alarms[0]).not.toHaveProperty('subject');
    const { rows } = await q(`SELECT payload FROM webhook_events WHERE type = 'log.alarm'`);
    expect(rows.map((r) => JSON.parse(r.payload as string).data.details.alarmId)).toContain(
      alarm.id,
    );
  });

  it('makes a standalone verifier unready until every alarm is acknowledged', async () => {
    const standalone = createVerifier({
      db: world.issuer.db,
      ...world.issuer.verifier,
      workers: 0,
      standalone: true,
    });
    try {
      const r = await request(standalone.app).get('/readyz').expect(503);
      expect(r.body.type).toContain('verifier-alarm');
      const { body } = await api.get('/v1/verifier', admin()).expect(200);
      await api.post(`/v1/verifier/alarms/${body.alarms[0].id}/ack`, pharm.token, {}).expect(403);
      await api.post('/v1/verifier/alarms/999999/ack', admin(), {}).expect(404);
      for (const a of body.alarms as { id: number }[]) {
        const ack = await request(standalone.app)
          .post(`/v1/verifier/alarms/${a.id}/ack`)
          .set('Authorization', `Bearer ${admin()}`)
          .expect(200);
        expect(ack.body.ackedAt).not.toBeNull();
      }
      await request(standalone.app).get('/readyz').expect(200);
      // The subject itself stays a reject: the tampering is a fact.
      const res = await api.verify(dist, { subject: unit('A5'), purpose: 'receiving' }).expect(201);
      expect(res.body.verdict).toBe('reject');
    } finally {
      await standalone.close();
    }
  });

  it('finds with the audit a payload an insider changed after the monitor verified it', async () => {
    await world.verifier.monitor.catchUp();
    const idx = await leafOf(unit('A6'), 0);
    // Rewrite the commission's logged envelope with another lot (signature left as it was).
    const { rows } = await q(`SELECT envelope FROM log_leaves WHERE idx = $1`, [idx]);
    const env = JSON.parse(rows[0]!.envelope as string) as { payload: string };
    const record = JSON.parse(new TextDecoder().decode(fromDsseBase64(env.payload)!));
    record.data.lot = 'FORGED';
    const forged = { ...env, payload: toBase64(canonicalBytes(record)) };
    await tamper('log_leaves', `UPDATE log_leaves SET envelope = $1::text WHERE idx = $2`, [
      new TextDecoder().decode(canonicalBytes(forged)),
      idx,
    ]);
    await api.commission(mfr, GTIN, ['D1']);
    // The monitor moves on (the entry is behind its cursor): no alarm yet.
    await world.verifier.monitor.catchUp();
    const before = await api.get('/v1/verifier', admin()).expect(200);
    expect(before.body.alarms.some((a: { logIndex: number }) => a.logIndex === idx)).toBe(false);

    const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
    const found = audit.body.findings.filter((f: { index: number }) => f.index === idx);
    expect(found.map((f: { code: string }) => f.code)).toContain('LOG_PROOF_INVALID');
    expect(found[0].subjects).toContain(unit('A6'));
    expect(audit.body.alarmsRaised).toBeGreaterThan(0);
    // The earlier tampering (already alarmed) is found again, and not raised twice.
    expect(
      audit.body.findings.some((f: { subjects: string[] }) => f.subjects.includes(unit('A5'))),
    ).toBe(true);
    const after = await api.get('/v1/verifier', admin()).expect(200);
    expect(
      after.body.alarms.filter((a: { logIndex: number }) => a.logIndex === idx)[0],
    ).toMatchObject({
      foundBy: 'audit',
    });
    const res = await api
      .verify(mfr, { subject: unit('A6'), purpose: 'saleable_return' })
      .expect(201);
    expect(res.body.verdict).toBe('reject');
    // `provenant audit` says so too, with exit 2 (an alarm).
    const run = await cliAuditAsAdmin();
    expect(run.code).toBe(2);
    expect(run.stdout).toContain(`ALARM LOG_PROOF_INVALID at ${idx}`);
  });

  it('finds with the audit a verified state an insider changed in the verifier tables', async () => {
    // A well-formed forgery: the stored encoding of B1 with another custodian.
    const [b1] = await getVerifiedSubjects(world.issuer.db, [unit('B1')]);
    expect(b1!.state!.custodian).not.toBe(pharm.gln);
    const forged = encodeVerifiedState({ ...b1!.state!, custodian: pharm.gln }, b1!.headIndex);
    await q(`UPDATE verifier_subjects SET state = decode($1, 'hex') WHERE subject = $2`, [
      toHex(forged),
      unit('B1'),
    ]);
    expect((await getVerifiedSubjects(world.issuer.db, [unit('B1')]))[0]!.state!.custodian).toBe(
      pharm.gln,
    );
    // And bytes that do not decode at all.
    await q(`UPDATE verifier_subjects SET state = '\\x01ff'::bytea WHERE subject = $1`, [
      unit('B2'),
    ]);
    const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
    expect(audit.body.differences).toEqual([
      { subject: unit('B1'), problem: 'stored state differs from the replayed one' },
      { subject: unit('B2'), problem: 'stored state does not decode' },
    ]);
  });

  it('raises an alarm for a stored record time, a log time or stored payload bytes an insider changed slightly', async () => {
    await api.commission(mfr, GTIN, ['T1', 'T2', 'T3']);
    const [t1, t2, t3] = [
      await leafOf(unit('T1'), 0),
      await leafOf(unit('T2'), 0),
      await leafOf(unit('T3'), 0),
    ];
    await tamper(
      'records',
      `UPDATE records SET time = time + interval '1 ms' WHERE leaf_idx = $1`,
      [t1],
    );
    // The receipt signed the time the entry was logged: moved, it no longer verifies.
    await tamper(
      'log_leaves',
      `UPDATE log_leaves SET integrated_at = integrated_at - interval '1 ms' WHERE idx = $1`,
      [t2],
    );
    // One payload byte flipped (the row's other columns, its id included, left as logged).
    await tamper(
      'records',
      `UPDATE records SET payload = set_byte(payload, 20, get_byte(payload, 20) # 1) WHERE leaf_idx = $1`,
      [t3],
    );
    await world.verifier.monitor.catchUp();
    const { body } = await api.get('/v1/verifier', admin()).expect(200);
    const at = (idx: number) =>
      (body.alarms as { logIndex: number; code: string; message: string }[])
        .filter((a) => a.logIndex === idx)
        .map((a) => [a.code, a.message]);
    expect(at(t1)).toEqual([
      [
        'LOG_PROOF_INVALID',
        `log entry ${t1}: the stored record: its time differs from the logged payload`,
      ],
    ]);
    expect(at(t2)).toEqual([
      [
        'LOG_PROOF_INVALID',
        `log entry ${t2} (${unit('T2')} seq 0): its receipt does not verify under the log key`,
      ],
    ]);
    expect(at(t3)).toEqual([
      [
        'LOG_PROOF_INVALID',
        `log entry ${t3}: the stored record: its payload differs from the logged one`,
      ],
    ]);
  });

  it('keeps the admin routes for admins', async () => {
    await api.post('/v1/verifier/audit', pharm.token, {}).expect(403);
    await request(world.app).post('/v1/verifier/audit').expect(401);
  });
});
