// A database insider against the verifier as an independent monitor (DESIGN
// §7b), on PGlite and (with PROVENANT_TEST_DATABASE_URL) PostgreSQL: with the
// append-only triggers off, the insider edits, swaps, deletes and inserts rows
// of the log, its checkpoints and the verifier's own tables, before the
// monitor verifies an entry and after. Every change must end in an alarm (by
// the monitor, or by the full re-audit for what it had already verified), a
// log.alarm event, and a reject of the affected subjects with a DESIGN §7 code.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { canonicalize, unitSubject } from '@provenant/core';
import { getLogSize, getVerifierCursor } from '@provenant/store';
import { auditLog, createVerifier, createVerifierDeps } from '@provenant/verifier';
import {
  acmeAndNorthwind,
  Api,
  cliAudit,
  codes,
  insider,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100021');
const SSCC = withCheckDigit('10614141000000021');
const unit = (serial: string) => unitSubject(GTIN, serial);

interface Alarm {
  id: number;
  code: string;
  logIndex: number | null;
  subject: string | null;
  message: string;
  foundBy: string;
  ackedAt: string | null;
}

describe('a database insider against the verifier (DESIGN §7b)', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;

  const q = (sql: string, params: unknown[] = []) => world.issuer.db.query(sql, params);
  const admin = () => world.issuer.adminToken;
  const { tamper, leafOf } = insider(() => world.issuer.db);
  const alarms = async (): Promise<Alarm[]> =>
    (await api.get('/v1/verifier', admin()).expect(200)).body.alarms as Alarm[];
  const alarmEvents = async (): Promise<number[]> => {
    const { rows } = await q(`SELECT payload FROM webhook_events WHERE type = 'log.alarm'`);
    return rows.map((r) => JSON.parse(r.payload as string).data.details.alarmId as number);
  };
  /** mfr sees the reasons in full (it is in every chain here). */
  const verdictOf = async (subject: string) => {
    const res = await api.verify(mfr, { subject, purpose: 'saleable_return' }).expect(201);
    return { verdict: res.body.verdict as string, codes: codes(res.body) };
  };
  const ackAll = async () => {
    for (const a of await alarms())
      if (a.ackedAt === null)
        await api.post(`/v1/verifier/alarms/${a.id}/ack`, admin(), {}).expect(200);
  };

  /** A manufacturer of its own under the 7-digit company prefix `prefix`, and a GTIN of it. */
  const ownManufacturer = async (prefix: string, name: string) => ({
    p: await api.party(withCheckDigit(`${prefix}00000`), name, ['manufacturer'], [prefix]),
    gtin: withCheckDigit(`1${prefix}00001`),
  });
  /** A standalone verifier process of its own on the world's database (no memory of the log). */
  const standaloneVerifier = () =>
    createVerifier({ db: world.issuer.db, ...world.issuer.verifier, workers: 0, standalone: true });
  /** The answer to `p` verifying `subject` as it receives it. */
  const verifyAs = async (p: Party, subject: string) =>
    (await api.verify(p, { subject, purpose: 'receiving' }).expect(201)).body;

  /** A world of its own for each group: what one group breaks in the log stays broken. */
  const fresh = async () => {
    world = await startTestWorld({ workers: 0 });
    api = new Api(world.app, world.issuer.adminToken);
    ({ mfr, dist } = await acmeAndNorthwind(
      api,
      withCheckDigit('061414100020'),
      withCheckDigit('061414100021'),
    ));
    pharm = await api.party(withCheckDigit('061414100022'), 'St. Mary', ['dispenser']);
    await api.commission(mfr, GTIN, ['K1', 'S1', 'S2', 'R1', 'H1', 'H2', 'P1', 'Z1']);
    await api.commission(mfr, GTIN, ['P2'], 'L1', '2024-01-31'); // expired
    await world.verifier.monitor.catchUp();
  };
  const stop = async () => {
    await world?.stop();
  };

  describe('before the monitor verified the entry', () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('a record whose stored kid was changed raises an alarm; the subject rejects', async () => {
      await api.ship(mfr, [unit('K1')], dist, 'ASN-K1');
      const idx = await leafOf(unit('K1'), 1);
      await tamper(['records'], (tx) =>
        tx.query(`UPDATE records SET kid = $1 WHERE leaf_idx = $2`, [dist.kid, idx]),
      );
      const v = await verdictOf(unit('K1'));
      expect(v.verdict).toBe('reject');
      expect(v.codes).toContain('LOG_PROOF_INVALID');
      const a = (await alarms()).find((x) => x.logIndex === idx);
      expect(a).toMatchObject({
        code: 'LOG_PROOF_INVALID',
        subject: unit('K1'),
        foundBy: 'monitor',
      });
      expect(a!.message).toContain('kid');
      expect(await alarmEvents()).toContain(a!.id);
    });

    it('an envelope re-signed by someone else, with its leaf hash and tree node made to match, raises an alarm', async () => {
      await api.ship(mfr, [unit('S1')], dist, 'ASN-S1');
      const idx = await leafOf(unit('S1'), 1);
      // The insider swaps the signature and recomputes the leaf hash and the level-0 node.
      await tamper(['log_leaves', 'merkle_nodes'], async (tx) => {
        const { rows } = await tx.query(`SELECT envelope FROM log_leaves WHERE idx = $1`, [idx]);
        const env = JSON.parse(rows[0]!.envelope as string) as {
          signatures: { keyid: string; sig: string }[];
        };
        env.signatures[0]!.sig = Buffer.alloc(64, 7).toString('base64');
        const text = canonicalize(env);
        await tx.query(
          `UPDATE log_leaves SET envelope = $1::text,
             leaf_hash = sha256('\\x00'::bytea || convert_to($1::text, 'UTF8')) WHERE idx = $2`,
          [text, idx],
        );
        await tx.query(
          `UPDATE merkle_nodes m SET hash = l.leaf_hash FROM log_leaves l
           WHERE m.level = 0 AND m.idx = l.idx AND l.idx = $1`,
          [idx],
        );
      });
      const v = await verdictOf(unit('S1'));
      expect(v.verdict).toBe('reject');
      expect(v.codes.some((c) => c === 'SIGNATURE_INVALID' || c === 'LOG_PROOF_INVALID')).toBe(
        true,
      );
      const found = (await alarms()).filter((x) => x.logIndex === idx).map((x) => x.code);
      expect(found).toEqual(expect.arrayContaining(['LOG_PROOF_INVALID', 'SIGNATURE_INVALID']));
    });

    it('two leaves swapped (rows, records and tree nodes alike) raise an alarm on both subjects', async () => {
      await api.ship(mfr, [unit('H1'), unit('H2')], dist, 'ASN-H');
      const [a, b] = [await leafOf(unit('H1'), 1), await leafOf(unit('H2'), 1)];
      expect(a).not.toBe(b);
      const T = 999_999_999;
      await tamper(['log_leaves', 'records', 'merkle_nodes'], async (tx) => {
        for (const [table, col, extra] of [
          ['log_leaves', 'idx', ''],
          ['records', 'leaf_idx', ''],
          ['merkle_nodes', 'idx', ' AND level = 0'],
        ] as const) {
          await tx.query(`UPDATE ${table} SET ${col} = $1 WHERE ${col} = $2${extra}`, [T, a]);
          await tx.query(`UPDATE ${table} SET ${col} = $1 WHERE ${col} = $2${extra}`, [a, b]);
          await tx.query(`UPDATE ${table} SET ${col} = $1 WHERE ${col} = $2${extra}`, [b, T]);
        }
      });
      for (const s of ['H1', 'H2']) {
        const v = await verdictOf(unit(s));
        expect([s, v.verdict, v.codes.includes('LOG_PROOF_INVALID')]).toEqual([s, 'reject', true]);
      }
      const subjects = (await alarms())
        .filter((x) => x.logIndex === a || x.logIndex === b)
        .map((x) => x.subject);
      expect(subjects).toEqual(expect.arrayContaining([unit('H1'), unit('H2')]));
      // The tree changed too: the next checkpoint's signed root is not the root of the stored leaves.
      await api.commission(mfr, GTIN, ['H3']);
      await world.verifier.monitor.catchUp();
      expect(
        (await alarms()).some(
          (x) => x.subject === null && x.message.includes('is not the root of the logged entries'),
        ),
      ).toBe(true);
      // Acknowledged, the swapped subjects still reject.
      await ackAll();
      expect((await verdictOf(unit('H1'))).verdict).toBe('reject');
    });
  });

  describe('provenant audit', () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    const audit = (token: string, url?: string) => cliAudit(world.app, token, url);

    it('exits 0 on an honest log, 1 when the token is not the admin, 3 when the server cannot be reached, 2 on an alarm', async () => {
      expect((await audit(admin())).code).toBe(0);
      const refused = await audit(pharm.token);
      expect(refused.code).toBe(1);
      expect(refused.stdout).not.toContain(pharm.token);
      expect((await audit(admin(), 'http://127.0.0.1:1')).code).toBe(3);
      const idx = await leafOf(unit('K1'), 0);
      await tamper(['records'], (tx) =>
        tx.query(`UPDATE records SET time = time + interval '1 ms' WHERE leaf_idx = $1`, [idx]),
      );
      const alarm = await audit(admin());
      expect(alarm.code).toBe(2);
      expect(alarm.stdout).toContain(`ALARM LOG_PROOF_INVALID at ${idx}`);
    });
  });

  describe('after the monitor verified the entry: the audit', () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('finds nothing in an honest log the monitor moves on while the audit runs', async () => {
      // Entries the monitor has not verified yet: it verifies them in the middle of the audit.
      await api.ship(mfr, [unit('S2')], dist, 'ASN-S2');
      await api.commission(mfr, GTIN, ['N1']);
      let moved = false;
      const deps = world.verifier;
      const report = await auditLog({
        db: deps.db,
        origin: deps.origin,
        trust: deps.trust,
        backend: deps.backend,
        sha256: deps.sha256,
        signatureCheck: async (items) => {
          if (!moved) {
            moved = true;
            await deps.monitor.catchUp();
          }
          return deps.pool.check(items);
        },
      });
      expect(moved).toBe(true);
      expect(report.size).toBeLessThan(await getLogSize(world.issuer.db));
      expect([report.findings, report.differences]).toEqual([[], []]);
      expect((await verdictOf(unit('S2'))).verdict).toBe('accept');
    });

    it('finds a stored receipt changed afterwards; the subject rejects', async () => {
      await api.ship(mfr, [unit('R1')], dist, 'ASN-R1');
      expect((await verdictOf(unit('R1'))).verdict).toBe('accept');
      const idx = await leafOf(unit('R1'), 1);
      await tamper(['log_leaves'], (tx) =>
        tx.query(
          `UPDATE log_leaves SET receipt_signature = set_byte(receipt_signature, 0, get_byte(receipt_signature, 0) # 1) WHERE idx = $1`,
          [idx],
        ),
      );
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      const f = audit.body.findings.find((x: { index: number }) => x.index === idx);
      expect(f).toMatchObject({ code: 'LOG_PROOF_INVALID', subjects: [unit('R1')] });
      expect((await alarms()).find((x) => x.logIndex === idx)).toMatchObject({
        foundBy: 'audit',
        subject: unit('R1'),
      });
      const v = await verdictOf(unit('R1'));
      expect([v.verdict, v.codes]).toEqual(['reject', ['LOG_PROOF_INVALID']]);
    });

    it('finds an alarm deleted from the verifier tables and raises it again', async () => {
      const idx = await leafOf(unit('R1'), 1);
      await q(`DELETE FROM verifier_alarms WHERE log_index = $1`, [idx]);
      await q(`UPDATE verifier_subjects SET alarm = NULL WHERE subject = $1`, [unit('R1')]);
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(audit.body.alarmsRaised).toBeGreaterThan(0);
      expect((await alarms()).find((x) => x.logIndex === idx)).toMatchObject({
        foundBy: 'audit',
        subject: unit('R1'),
        ackedAt: null,
      });
      expect((await verdictOf(unit('R1'))).verdict).toBe('reject');
    });

    it('finds a key revocation erased from the verified registry, and the unit rejects KEY_REVOKED again', async () => {
      // A manufacturer of its own: its key is revoked from before it signed the commission.
      const { p: m2, gtin } = await ownManufacturer('0860006', 'Revoked Pharma');
      const compromisedAt = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      await api.commission(m2, gtin, ['V1']);
      await api
        .post(`/v1/keys/${m2.kid}/revoke`, admin(), { compromisedAt, reason: 'stolen' })
        .expect(200);
      const subject = unitSubject(gtin, 'V1');
      const check = () => verifyAs(m2, subject);
      const before = await check();
      expect([before.verdict, codes(before)]).toEqual(['reject', ['KEY_REVOKED']]);

      // The insider erases the revocation where the verifier keeps its registry.
      await q(`UPDATE verifier_keys SET revocations = '[]'::jsonb WHERE kid = $1`, [m2.kid]);
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(audit.body.differences).toContainEqual({
        subject: `key ${m2.kid}`,
        problem: 'its revocations or suspensions differ from the replayed ones',
      });
      const alarm = (await alarms()).find(
        (a) => a.subject === null && a.foundBy === 'audit' && a.message.includes(m2.kid),
      );
      expect(alarm).toMatchObject({ code: 'LOG_PROOF_INVALID', ackedAt: null });
      expect(await alarmEvents()).toContain(alarm!.id);
      // The audit put the registry back as the log gives it: acknowledged, the unit still rejects.
      await ackAll();
      const after = await check();
      expect([after.verdict, codes(after)]).toEqual(['reject', ['KEY_REVOKED']]);
    });

    it('keeps rejecting a unit signed with a revoked key when the revocation notice row is deleted', async () => {
      const { p: m4, gtin } = await ownManufacturer('0860008', 'Leaky Pharma');
      const compromisedAt = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      await api.commission(m4, gtin, ['X1', 'X2']);
      await api.pack(m4, withCheckDigit('10860008000000001'), [
        unitSubject(gtin, 'X1'),
        unitSubject(gtin, 'X2'),
      ]);
      await api
        .post(`/v1/keys/${m4.kid}/revoke`, admin(), { compromisedAt, reason: 'stolen' })
        .expect(200);
      const subjects = [unitSubject(gtin, 'X1'), `00/${withCheckDigit('10860008000000001')}`];
      const check = (subject: string) => verifyAs(m4, subject);
      for (const s of subjects) expect([s, (await check(s)).verdict]).toEqual([s, 'reject']);
      // The insider deletes the stored notice (its log leaf stays): neither the unit nor the pallet accepts.
      await tamper(['notices'], (tx) =>
        tx.query(`DELETE FROM notices WHERE type = 'key-revoke' AND data ->> 'kid' = $1`, [m4.kid]),
      );
      for (const s of subjects) {
        const b = await check(s);
        expect([s, b.verdict]).toEqual([s, 'reject']);
        expect(codes(b)).toContain('LOG_PROOF_INVALID');
      }
    });

    it('keeps a recalled GTIN and a suspended party from accepting when their notice rows are deleted', async () => {
      const { p: m5, gtin: gtin5 } = await ownManufacturer('0860009', 'Recalling Pharma');
      const { p: m6, gtin: gtin6 } = await ownManufacturer('0860010', 'Suspended Pharma');
      const recalled = unitSubject(gtin5, 'Y1');
      const held = unitSubject(gtin6, 'Y2');
      await api.commission(m5, gtin5, ['Y1']);
      await api.commission(m6, gtin6, ['Y2']);
      await api.post('/v1/recalls', m5.token, { gtin: gtin5, reason: 'glass' }).expect(201);
      await api.post(`/v1/parties/${m6.gln}/suspend`, admin(), { reason: 'audit' }).expect(200);
      const check = verifyAs;
      expect(codes(await check(m5, recalled))).toEqual(['RECALLED']);
      expect(codes(await check(m6, held))).toContain('PARTY_SUSPENDED');
      await tamper(['notices'], (tx) =>
        tx.query(
          `DELETE FROM notices WHERE (type = 'recall' AND data ->> 'gtin' = $1)
             OR (type = 'party-suspend' AND data ->> 'gln' = $2)`,
          [gtin5, m6.gln],
        ),
      );
      for (const [p, s] of [
        [m5, recalled],
        [m6, held],
      ] as const) {
        const b = await check(p, s);
        expect([s, b.verdict, codes(b).includes('LOG_PROOF_INVALID')]).toEqual([s, 'reject', true]);
      }
      // And the verifier's own list of the recall, deleted too: the audit finds it and puts it back.
      const { rows } = await q(
        `DELETE FROM verifier_notices WHERE type = 'recall' AND gtin = $1 RETURNING log_index`,
        [gtin5],
      );
      const index = Number(rows[0]!.log_index);
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(audit.body.differences).toContainEqual({
        subject: `notice ${index}`,
        problem: 'missing from the verified notices',
      });
      const back = await q(`SELECT type FROM verifier_notices WHERE log_index = $1`, [index]);
      expect(back.rows.map((r) => r.type)).toEqual(['recall']);
      await ackAll();
    });

    it('keeps a decommissioned unit from accepting when its decommission row is deleted', async () => {
      await api.commission(mfr, GTIN, ['D1']);
      await api.decommission(mfr, [unit('D1')], 'destroyed');
      expect(await verdictOf(unit('D1'))).toEqual({
        verdict: 'quarantine',
        codes: ['DECOMMISSIONED'],
      });
      const idx = await leafOf(unit('D1'), 1);
      await tamper(['records', 'chain_heads'], async (tx) => {
        await tx.query(`DELETE FROM chain_heads WHERE subject = $1`, [unit('D1')]);
        await tx.query(`DELETE FROM records WHERE leaf_idx = $1`, [idx]);
      });
      const v = await verdictOf(unit('D1'));
      expect(v.verdict).toBe('reject');
      expect(v.codes).toContain('LOG_PROOF_INVALID');
    });

    it('finds a party reinstated in the verified registry only, and puts it back', async () => {
      const { p: m3, gtin } = await ownManufacturer('0860007', 'Held Pharma');
      await api.commission(m3, gtin, ['W1']);
      await api.post(`/v1/parties/${m3.gln}/suspend`, admin(), { reason: 'audit' }).expect(200);
      const subject = unitSubject(gtin, 'W1');
      const check = async () => codes(await verifyAs(m3, subject));
      expect(await check()).toContain('PARTY_SUSPENDED');
      await q(`UPDATE verifier_parties SET status = 'active' WHERE gln = $1`, [m3.gln]);
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(audit.body.differences).toContainEqual({
        subject: `party ${m3.gln}`,
        problem: 'its roles, prefixes or status differ from the replayed ones',
      });
      await ackAll();
      const { rows } = await q(`SELECT status FROM verifier_parties WHERE gln = $1`, [m3.gln]);
      expect(rows[0]!.status).toBe('suspended');
      expect(await check()).toContain('PARTY_SUSPENDED');
    });

    it('finds an expired unit taken out of its pallet in the verifier tables; the pallet rejects', async () => {
      await api.pack(mfr, SSCC, [unit('P1'), unit('P2')]);
      const pallet = `00/${SSCC}`;
      const before = await verdictOf(pallet);
      expect(before).toEqual({ verdict: 'quarantine', codes: ['EXPIRED'] });
      await q(`DELETE FROM verifier_children WHERE container = $1 AND child = $2`, [
        pallet,
        unit('P2'),
      ]);
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(audit.body.differences).toContainEqual({
        subject: pallet,
        problem: 'its stored units differ from the replayed ones',
      });
      const after = await verdictOf(pallet);
      expect(after.verdict).toBe('reject');
      expect(after.codes).toContain('LOG_PROOF_INVALID');
    });

    it('finds a forged checkpoint row inserted at a size the monitor had passed', async () => {
      const size = await getLogSize(world.issuer.db);
      const { rows } = await q(
        `SELECT min(g)::int AS s FROM generate_series(1, $1::int) g
         WHERE NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.size = g)`,
        [size],
      );
      const at = rows[0]!.s as number;
      const { rows: real } = await q(`SELECT note, root_hash FROM checkpoints WHERE size = $1`, [
        size,
      ]);
      const lines = (real[0]!.note as string).split('\n');
      lines[1] = String(at);
      await q(`INSERT INTO checkpoints (size, root_hash, note) VALUES ($1, $2, $3)`, [
        at,
        real[0]!.root_hash,
        lines.join('\n'),
      ]);
      await world.verifier.monitor.catchUp();
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      const f = audit.body.findings.find((x: { message: string }) =>
        x.message.startsWith(`checkpoint ${at}:`),
      );
      expect(f).toMatchObject({ code: 'LOG_PROOF_INVALID', subjects: [] });
      // Raised as its own alarm, even though other log alarms were raised (and acknowledged) before.
      expect(
        (await alarms()).find(
          (a) => a.message.startsWith(`checkpoint ${at}:`) && a.ackedAt === null,
        ),
      ).toBeDefined();
      await ackAll();
    });

    it('finds an interior tree node changed or deleted (the proofs of honest entries would fail)', async () => {
      // Nodes the monitor never reads: it folds the leaves it verified into a range of its own.
      const { rows } = await q(`SELECT max(idx)::int AS d FROM merkle_nodes WHERE level = 2`);
      const deleted = rows[0]!.d as number;
      expect(deleted).toBeGreaterThan(0);
      await tamper(['merkle_nodes'], async (tx) => {
        await tx.query(
          `UPDATE merkle_nodes SET hash = set_byte(hash, 5, get_byte(hash, 5) # 1) WHERE level = 1 AND idx = 0`,
        );
        await tx.query(`DELETE FROM merkle_nodes WHERE level = 2 AND idx = $1`, [deleted]);
      });
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      const tree = (audit.body.findings as { message: string; code: string }[]).filter((f) =>
        f.message.startsWith('stored tree node'),
      );
      expect(tree.map((f) => [f.code, f.message])).toEqual([
        ['LOG_PROOF_INVALID', 'stored tree node (level 1, 0) is not the hash of its two children'],
        ['LOG_PROOF_INVALID', 'stored tree node (level 2, 0) is not the hash of its two children'],
        ['LOG_PROOF_INVALID', `stored tree node (level 2, ${deleted}) is missing`],
      ]);
      const open = (await alarms()).filter(
        (a) => a.message.startsWith('stored tree node') && a.ackedAt === null,
      );
      expect(open).toHaveLength(3);
      await ackAll();
    });
  });

  describe('a log cut back or given another newest checkpoint', () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('raises an alarm when the newest checkpoint is replaced by a forged one of the same size', async () => {
      await api.ship(mfr, [unit('Z1')], dist, 'ASN-Z1');
      await world.verifier.monitor.catchUp();
      const size = await getLogSize(world.issuer.db);
      const { rows } = await q(`SELECT note FROM checkpoints WHERE size = $1`, [size]);
      const note = rows[0]!.note as string;
      // The signature's last byte flipped: no longer the log's signature.
      const lines = note.split('\n');
      const at = lines.length - (lines[lines.length - 1] === '' ? 2 : 1);
      const parts = lines[at]!.split(' ');
      const sig = Buffer.from(parts[parts.length - 1]!, 'base64');
      sig[sig.length - 1]! ^= 1;
      parts[parts.length - 1] = sig.toString('base64');
      lines[at] = parts.join(' ');
      const forged = lines.join('\n');
      expect(forged).not.toBe(note);
      await tamper(['checkpoints'], async (tx) => {
        await tx.query(`DELETE FROM cosignatures WHERE checkpoint_size = $1`, [size]);
        await tx.query(`UPDATE checkpoints SET note = $1 WHERE size = $2`, [forged, size]);
      });
      await world.verifier.monitor.catchUp();
      const a = (await alarms()).find(
        (x) => x.subject === null && x.ackedAt === null && x.message.includes(`checkpoint ${size}`),
      );
      expect(a).toMatchObject({ code: 'LOG_PROOF_INVALID', foundBy: 'monitor' });
      const v = await verdictOf(unit('Z1'));
      expect(v.verdict).toBe('reject');
      // Put back for the next test.
      await tamper(['checkpoints'], (tx) =>
        tx.query(`UPDATE checkpoints SET note = $1 WHERE size = $2`, [note, size]),
      );
      await ackAll();
      expect((await verdictOf(unit('Z1'))).verdict).toBe('accept');
    });

    it('raises an alarm when the log shrinks below what the monitor verified; a standalone verifier is unready', async () => {
      const size = await getLogSize(world.issuer.db);
      expect((await verdictOf(unit('Z1'))).verdict).toBe('accept');
      const cut = size - 1;
      // The insider deletes the newest entry with its record, node and checkpoint, and the log size.
      await tamper(
        ['log_leaves', 'records', 'notices', 'merkle_nodes', 'checkpoints'],
        async (tx) => {
          await tx.query(
            `DELETE FROM chain_heads WHERE head IN (SELECT id FROM records WHERE leaf_idx >= $1)`,
            [cut],
          );
          await tx.query(`DELETE FROM records WHERE leaf_idx >= $1`, [cut]);
          await tx.query(`DELETE FROM notices WHERE leaf_idx >= $1`, [cut]);
          await tx.query(`DELETE FROM log_leaves WHERE idx >= $1`, [cut]);
          await tx.query(`DELETE FROM merkle_nodes WHERE level = 0 AND idx >= $1`, [cut]);
          await tx.query(`DELETE FROM cosignatures WHERE checkpoint_size > $1`, [cut]);
          await tx.query(`DELETE FROM checkpoints WHERE size > $1`, [cut]);
          await tx.query(`UPDATE log_state SET size = $1`, [cut]);
        },
      );
      await world.verifier.monitor.catchUp();
      const open = (await alarms()).filter((x) => x.subject === null && x.ackedAt === null);
      const a = open.find((x) => x.message.includes('the log shrank'));
      expect(a).toMatchObject({ code: 'LOG_PROOF_INVALID', foundBy: 'monitor', logIndex: cut });
      expect(open.some((x) => x.message.startsWith(`checkpoint ${size} is gone`))).toBe(true);
      expect(await alarmEvents()).toContain(a!.id);
      const standalone = standaloneVerifier();
      try {
        await request(standalone.app).get('/readyz').expect(503);
        const v = await verdictOf(unit('Z1'));
        expect([v.verdict, v.codes]).toEqual(['reject', ['LOG_PROOF_INVALID']]);
        // Acknowledging needs the admin.
        await api.post(`/v1/verifier/alarms/${a!.id}/ack`, pharm.token, {}).expect(403);
        await ackAll();
        await request(standalone.app).get('/readyz').expect(200);
      } finally {
        await standalone.close();
      }
    });
  });

  describe("the verifier's own cursor", () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('a cursor whose tree was changed outside the monitor raises an alarm on restart, and the audit reports it', async () => {
      const { rows } = await q(`SELECT next_index FROM verifier_cursor`);
      expect(Number(rows[0]!.next_index)).toBeGreaterThan(0);
      await q(`UPDATE verifier_cursor SET frontier = '{}'`);
      // A verifier process started on it (no memory of its own): it cannot go on, and says so.
      const restarted = createVerifierDeps({
        db: world.issuer.db,
        ...world.issuer.verifier,
        workers: 0,
      });
      try {
        await expect(restarted.monitor.catchUp()).rejects.toThrow(/frontier/);
      } finally {
        await restarted.pool.close();
      }
      const a = (await alarms()).find((x) => x.message.includes("the verifier's cursor"));
      expect(a).toMatchObject({ code: 'LOG_PROOF_INVALID', subject: null, foundBy: 'monitor' });
      // The audit reports it instead of failing (and so does any count of entries that are not stored).
      const audit = await api.post('/v1/verifier/audit', admin(), {}).expect(200);
      expect(
        audit.body.findings.some((f: { message: string }) =>
          f.message.includes("the verifier's cursor"),
        ),
      ).toBe(true);
    });
  });

  describe("the verifier's own checkpoint", () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('a checkpoint note rewritten in the cursor stops the monitor: a standalone verifier is unready, answers still right', async () => {
      await api.decommission(mfr, [unit('S2')], 'destroyed');
      await world.verifier.monitor.catchUp();
      await q(`UPDATE verifier_cursor SET checkpoint_note = $1`, ['forged\n1\nAAAA\n']);
      const standalone = standaloneVerifier();
      try {
        await standalone.deps.monitor.catchUp();
        expect(standalone.deps.monitor.foreign).toBe(true);
        const r = await request(standalone.app).get('/readyz').expect(503);
        expect(r.body.type).toContain('verifier-not-monitoring');
        // The answers come from the full engine over the log: still right.
        const res = await request(standalone.app)
          .post('/v1/verifications')
          .set('Authorization', `Bearer ${mfr.token}`)
          .send({ subject: unit('S2'), purpose: 'saleable_return' })
          .expect(201);
        expect(codes(res.body)).toEqual(['DECOMMISSIONED']);
      } finally {
        await standalone.close();
      }
    });
  });

  describe('a log size beyond its stored entries', () => {
    beforeAll(fresh, 120_000);
    afterAll(stop);

    it('raises an alarm and stops there: the monitor never skips an entry', async () => {
      const size = await getLogSize(world.issuer.db);
      expect((await verdictOf(unit('K1'))).verdict).toBe('accept');
      await q(`UPDATE log_state SET size = size + 3`);
      await expect(world.verifier.monitor.catchUp()).rejects.toThrow(/not all readable/);
      const a = (await alarms()).find((x) => x.logIndex === size);
      expect(a).toMatchObject({ code: 'LOG_PROOF_INVALID', subject: null, foundBy: 'monitor' });
      expect(a!.message).toContain('counted in the log');
      expect(await alarmEvents()).toContain(a!.id);
      // Answers fall back to the full engine, which rejects while the alarm is open.
      expect((await verdictOf(unit('K1'))).verdict).toBe('reject');
      expect((await getVerifierCursor(world.issuer.db)).nextIndex).toBe(size);
    });
  });
});
