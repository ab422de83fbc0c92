// The custodial (service-signed) endpoints against a real issuer and database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set): the whole
// custodial life of a pallet, receiving reconciliation (DESIGN §7), the
// all-or-nothing batches of DESIGN §8 and Idempotency-Key. No mocks: every
// claim is checked against the stored chains and the log size.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  fromBase64,
  fromUtf8,
  generateKeyPair,
  keyId,
  unitSubject,
  verifyEnvelope,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  getChain,
  getHead,
  getLogSize,
  insertKey,
  insertParty,
  insertToken,
  findRecalls,
} from '@provenant/store';
import { keyAad, seal } from '@provenant/issuer';
import { newToken } from '@provenant/server-kit';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414100001');
const PHARM = withCheckDigit('061414100002');
const OTHER = withCheckDigit('099999900000');
const GTIN = withCheckDigit('1061414100001');
const GTIN_B = withCheckDigit('1061414100002');
const OTHER_GTIN = withCheckDigit('1099999900001');
const SSCC = withCheckDigit('10614141000000001');
const SSCC_2 = withCheckDigit('10614141000000002');
const KNOWN_SSCC = '106141412345678908';

const unit = (serial: string, gtin = GTIN) => unitSubject(gtin, serial);
const serials = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')}`);

interface Result {
  id: string;
  subject: string;
  seq: number;
  receipt: {
    origin: string;
    index: number;
    leafHash: string;
    integratedAt: string;
    signature: string;
  };
}

describe('the custodial endpoints', () => {
  let issuer: TestIssuer;
  const tokens: Record<string, string> = {};
  const kids: Record<string, string> = {};
  let verifyToken: string;

  const post = (path: string, who: string, body: unknown, headers: Record<string, string> = {}) =>
    request(issuer.app)
      .post(path)
      .set('Authorization', `Bearer ${tokens[who] ?? who}`)
      .set(headers)
      .send(body as object);
  const logSize = () => getLogSize(issuer.db);
  const last = async (subject: string) => {
    const chain = await getChain(issuer.db, subject);
    return chain[chain.length - 1];
  };
  const items = (serialList: string[], gtin = GTIN, lot = 'L1') =>
    serialList.map((serial) => ({ gtin, serial, lot, expiry: '2028-01-31' }));

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const db = issuer.db;
    for (const [gln, roles, prefixes] of [
      [MFR, ['manufacturer'], ['0614141']],
      [DIST, ['distributor'], []],
      [PHARM, ['dispenser'], []],
      [OTHER, ['manufacturer'], ['0999999']],
    ] as const) {
      await insertParty(db, {
        gln,
        name: `party ${gln}`,
        roles: [...roles],
        prefixes: [...prefixes],
      });
      // A custodial key as POST /v1/parties/{gln}/keys {custodial: true} stores it.
      const key = generateKeyPair(nodeBackend);
      const kid = keyId(key.publicKey);
      await insertKey(db, {
        kid,
        gln,
        publicKey: key.publicKey,
        sealedPrivateKey: seal(key.seed, issuer.config.masterKey, keyAad(kid)),
      });
      kids[gln] = kid;
      const t = newToken();
      await insertToken(db, { tokenHash: t.hash, gln, scopes: ['sign', 'verify'] });
      tokens[gln] = t.token;
    }
    const v = newToken();
    await insertToken(db, { tokenHash: v.hash, gln: DIST, scopes: ['verify'] });
    verifyToken = v.token;
  }, 120_000);
  afterAll(async () => {
    await issuer?.stop();
  });

  describe('the custodial life of a pallet', () => {
    const pallet = serials('P', 20).map((s) => unit(s));

    it('commissions 20 units, each signed with the manufacturer custodial key', async () => {
      const res = await post('/v1/commissions', MFR, { items: items(serials('P', 20)) }).expect(
        201,
      );
      const records = res.body.records as Result[];
      expect(records.map((r) => r.subject)).toEqual(pallet);
      expect(records.every((r) => r.seq === 0)).toBe(true);
      expect(records[0]!.receipt.origin).toBe(issuer.config.logOrigin);
      const [stored] = await getChain(issuer.db, pallet[0]!);
      expect(stored).toMatchObject({
        id: records[0]!.id,
        type: 'commission',
        actor: MFR,
        kid: kids[MFR],
      });
      const env = stored!.envelope as Envelope;
      expect(env.signatures[0]!.keyid).toBe(kids[MFR]);
      const pub = (
        await issuer.db.query<{ public_key: Uint8Array }>(
          'SELECT public_key FROM party_keys WHERE kid = $1::text',
          [kids[MFR]],
        )
      ).rows[0]!.public_key;
      expect(verifyEnvelope(env, () => new Uint8Array(pub), nodeBackend).ok).toBe(true);
      const payload = JSON.parse(fromUtf8(fromBase64(env.payload)!)!);
      expect(payload.data).toEqual({ gtin: GTIN, serial: 'P001', lot: 'L1', expiry: '2028-01-31' });
    });

    it('answers 409 naming the head when a subject is commissioned again, and writes nothing', async () => {
      const size = await logSize();
      const res = await post('/v1/commissions', MFR, {
        items: items(['NEW1', 'P005']),
      }).expect(409);
      expect(res.body.type).toBe('urn:provenant:problem:chain-conflict');
      expect(res.body.subject).toBe(unit('P005'));
      expect(res.body.seq).toBe(0);
      expect(res.body.reasons[0]).toMatchObject({
        code: 'CHAIN_BROKEN',
        subject: unit('P005'),
        index: 1,
      });
      expect(await logSize()).toBe(size);
      expect(await getHead(issuer.db, unit('NEW1'))).toBeNull();
    });

    it('packs the 20 units into an SSCC: the unit packs first, then the container pack (N + 1 records)', async () => {
      const children = pallet.map((s, i) => {
        const serial = `P${String(i + 1).padStart(3, '0')}`;
        // Every §3 input form is accepted for a subject.
        switch (i % 4) {
          case 0:
            return s;
          case 1:
            return `(01)${GTIN}(21)${serial}`;
          case 2:
            return `https://example.com/01/${GTIN}/21/${serial}`;
          default:
            return `]d201${GTIN}21${serial}`;
        }
      });
      const res = await post('/v1/packs', MFR, { parent: SSCC, children }).expect(201);
      const records = res.body.records as Result[];
      expect(res.body.parent).toBe(`00/${SSCC}`);
      expect(records).toHaveLength(21);
      expect(records.slice(0, 20).map((r) => r.subject)).toEqual(pallet);
      expect(records.slice(0, 20).every((r) => r.seq === 1)).toBe(true);
      expect(records[20]).toMatchObject({ subject: `00/${SSCC}`, seq: 0 });
      const indexes = records.map((r) => r.receipt.index);
      expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
      const container = await last(`00/${SSCC}`);
      expect(container!.data).toEqual({
        children: records.slice(0, 20).map((r) => ({ subject: r.subject, head: r.id })),
      });
      expect((await last(pallet[3]!))!.data).toEqual({ parent: `00/${SSCC}` });
    });

    it('refuses to ship a unit that is inside the pallet (422 CUSTODY_VIOLATION), writing nothing', async () => {
      const size = await logSize();
      const res = await post('/v1/shipments', MFR, {
        subjects: [pallet[2]],
        to: DIST,
        shipment: 'ASN-X',
      }).expect(422);
      expect(res.body.type).toBe('urn:provenant:problem:custody-violation');
      expect(res.body.reasons[0]).toMatchObject({
        code: 'CUSTODY_VIOLATION',
        subject: pallet[2],
        index: 0,
      });
      expect(await logSize()).toBe(size);
    });

    it('refuses a shipment to a GLN that is not registered', async () => {
      const res = await post('/v1/shipments', MFR, {
        subjects: [`00/${SSCC}`],
        to: withCheckDigit('400000000000'),
        shipment: 'ASN-X',
      }).expect(422);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.to', rule: 'registered-party' });
    });

    it('ships the pallet to the distributor with one ship record', async () => {
      const res = await post('/v1/shipments', MFR, {
        subjects: [`urn:epc:id:sscc:0614141.${SSCC.slice(0, 1)}${SSCC.slice(8, 17)}`],
        to: DIST,
        shipment: 'ASN-1',
        transactions: [{ type: 'po', id: 'PO-77' }],
      }).expect(201);
      expect(res.body.records).toHaveLength(1);
      expect(res.body.records[0]).toMatchObject({ subject: `00/${SSCC}`, seq: 1 });
      expect((await last(`00/${SSCC}`))!.data).toEqual({
        to: DIST,
        shipment: 'ASN-1',
        transactions: [{ type: 'po', id: 'PO-77' }],
      });
    });

    it('receives the pallet scanned by its label: every unit inside is inferred', async () => {
      const res = await post('/v1/receipts', DIST, {
        shipment: 'ASN-1',
        from: MFR,
        scanned: [`(00)${SSCC}`],
        condition: 'ok',
      }).expect(201);
      expect(res.body.units).toEqual([
        { subject: `00/${SSCC}`, status: 'scanned' },
        ...pallet.map((s) => ({ subject: s, status: 'inferred', parent: `00/${SSCC}` })),
      ]);
      expect(res.body.counts).toEqual({
        expected: 21,
        scanned: 1,
        inferred: 20,
        missing: 0,
        unexpected: 0,
        received: 1,
      });
      expect(res.body.records).toHaveLength(1);
      const rec = await last(`00/${SSCC}`);
      expect(rec).toMatchObject({ type: 'receive', actor: DIST, seq: 2 });
      expect(rec!.data).toEqual({ from: MFR, shipment: 'ASN-1', condition: 'ok' });
    });

    it('reconciles a second shipment with one unit missing and one unexpected', async () => {
      const loose = serials('L', 5).map((s) => unit(s));
      await post('/v1/commissions', MFR, { items: items(serials('L', 5)) }).expect(201);
      await post('/v1/commissions', MFR, { items: items(['STRAY1']) }).expect(201);
      await post('/v1/shipments', MFR, { subjects: loose, to: DIST, shipment: 'ASN-2' }).expect(
        201,
      );
      const size = await logSize();
      const stray = unit('STRAY1');
      const res = await post('/v1/receipts', DIST, {
        shipment: 'ASN-2',
        from: MFR,
        // L003 was not scanned; STRAY1 was never shipped; L001 scanned twice.
        scanned: [loose[0], loose[1], stray, loose[3], loose[4], `(01)${GTIN}(21)L001`],
        condition: 'ok',
      }).expect(201);
      expect(res.body.units).toEqual([
        { subject: loose[0], status: 'scanned' },
        { subject: loose[1], status: 'scanned' },
        { subject: loose[2], status: 'missing' },
        { subject: loose[3], status: 'scanned' },
        { subject: loose[4], status: 'scanned' },
        { subject: stray, status: 'unexpected' },
      ]);
      expect(res.body.counts).toEqual({
        expected: 5,
        scanned: 4,
        inferred: 0,
        missing: 1,
        unexpected: 1,
        received: 4,
      });
      expect(await logSize()).toBe(size + 4);
      const first = await last(loose[0]!);
      expect(first!.data).toEqual({
        from: MFR,
        shipment: 'ASN-2',
        condition: 'ok',
        discrepancies: [
          { subject: loose[2], status: 'missing' },
          { subject: stray, status: 'unexpected' },
        ],
      });
      expect((await last(loose[1]!))!.data).toEqual({
        from: MFR,
        shipment: 'ASN-2',
        condition: 'ok',
      });
      // The missing unit stays in transit.
      expect((await last(loose[2]!))!.type).toBe('ship');
    });

    it('answers 422 when nothing scanned belongs to the shipment, and receives the late unit afterwards', async () => {
      const size = await logSize();
      const none = await post('/v1/receipts', DIST, {
        shipment: 'ASN-2',
        from: MFR,
        scanned: [unit('STRAY1')],
        condition: 'ok',
      }).expect(422);
      expect(none.body.type).toBe('urn:provenant:problem:nothing-to-receive');
      expect(none.body.counts).toMatchObject({ missing: 1, unexpected: 1 });
      expect(await logSize()).toBe(size);

      const late = await post('/v1/receipts', DIST, {
        shipment: 'ASN-2',
        from: MFR,
        scanned: [unit('L003')],
        condition: 'damaged',
      }).expect(201);
      expect(late.body.units).toEqual([{ subject: unit('L003'), status: 'scanned' }]);
      expect((await last(unit('L003')))!.data).toEqual({
        from: MFR,
        shipment: 'ASN-2',
        condition: 'damaged',
        discrepancies: [{ subject: unit('L003'), status: 'damaged' }],
      });
      await post('/v1/receipts', DIST, {
        shipment: 'ASN-2',
        from: MFR,
        scanned: [unit('L003')],
        condition: 'ok',
      }).expect(409);
    });

    it('receives a pallet whose label was not scanned from the units scanned inside it', async () => {
      const four = serials('Q', 4).map((s) => unit(s));
      await post('/v1/commissions', MFR, { items: items(serials('Q', 4)) }).expect(201);
      await post('/v1/packs', MFR, { parent: `00/${SSCC_2}`, children: four }).expect(201);
      await post('/v1/shipments', MFR, {
        subjects: [`00/${SSCC_2}`],
        to: DIST,
        shipment: 'ASN-5',
      }).expect(201);
      const res = await post('/v1/receipts', DIST, {
        shipment: 'ASN-5',
        from: MFR,
        scanned: [four[1], four[3]],
        condition: 'ok',
      }).expect(201);
      expect(res.body.units).toEqual([
        { subject: `00/${SSCC_2}`, status: 'inferred' },
        { subject: four[0], status: 'missing', parent: `00/${SSCC_2}` },
        { subject: four[1], status: 'scanned', parent: `00/${SSCC_2}` },
        { subject: four[2], status: 'missing', parent: `00/${SSCC_2}` },
        { subject: four[3], status: 'scanned', parent: `00/${SSCC_2}` },
      ]);
      expect(res.body.counts).toMatchObject({ expected: 5, scanned: 2, inferred: 1, missing: 2 });
      const rec = await last(`00/${SSCC_2}`);
      expect(rec).toMatchObject({ type: 'receive', actor: DIST });
      expect((rec!.data as { discrepancies: unknown }).discrepancies).toEqual([
        { subject: four[0], status: 'missing' },
        { subject: four[2], status: 'missing' },
      ]);
    });

    it('answers 404 for an unknown shipment', async () => {
      const res = await post('/v1/receipts', DIST, {
        shipment: 'NO-SUCH',
        from: MFR,
        scanned: [`00/${SSCC}`],
        condition: 'ok',
      }).expect(404);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('unpacks the pallet: the container unpack, then each unit with parentHead', async () => {
      const res = await post('/v1/unpacks', DIST, { parent: `00/${SSCC}` }).expect(201);
      const records = res.body.records as Result[];
      expect(records).toHaveLength(21);
      expect(records[0]).toMatchObject({ subject: `00/${SSCC}`, seq: 3 });
      expect(records.slice(1).map((r) => r.subject)).toEqual(pallet);
      const u = await last(pallet[7]!);
      expect(u).toMatchObject({ type: 'unpack', actor: DIST, seq: 2 });
      expect(u!.data).toEqual({ parent: `00/${SSCC}`, parentHead: records[0]!.id });
    });

    it('ships three units onward to the pharmacy, which receives them all', async () => {
      const three = pallet.slice(0, 3);
      await post('/v1/shipments', DIST, { subjects: three, to: PHARM, shipment: 'ASN-3' }).expect(
        201,
      );
      const res = await post('/v1/receipts', PHARM, {
        shipment: 'ASN-3',
        from: DIST,
        scanned: three.map((_, i) => `(01)${GTIN}(21)P00${i + 1}`),
        condition: 'ok',
      }).expect(201);
      expect(res.body.counts).toMatchObject({ expected: 3, scanned: 3, missing: 0, received: 3 });
      for (const s of three) expect(await last(s)).toMatchObject({ type: 'receive', actor: PHARM });
    });

    it('decommissions a unit as dispensed and reactivates it with undo = the decommission id', async () => {
      const s = pallet[0]!;
      const dec = await post('/v1/decommissions', PHARM, {
        subjects: [s],
        reason: 'dispensed',
      }).expect(201);
      const decId = dec.body.records[0].id as string;
      expect((await last(s))!.data).toEqual({ reason: 'dispensed' });
      const re = await post('/v1/reactivations', PHARM, { subjects: [s] }).expect(201);
      expect(re.body.records[0]).toMatchObject({ subject: s, seq: dec.body.records[0].seq + 1 });
      expect(await last(s)).toMatchObject({ type: 'reactivate', data: { undo: decId } });
    });

    it('refuses to reactivate a unit that is not decommissioned', async () => {
      const res = await post('/v1/reactivations', PHARM, { subjects: [pallet[1]] }).expect(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'CUSTODY_VIOLATION', subject: pallet[1] });
    });

    it('refuses a shipment that includes one unit not in the caller custody, writing nothing', async () => {
      const size = await logSize();
      const res = await post('/v1/shipments', DIST, {
        subjects: [pallet[5], pallet[6], pallet[1]], // pallet[1] is the pharmacy's now
        to: PHARM,
        shipment: 'ASN-4',
      }).expect(422);
      expect(res.body.reasons).toEqual([
        expect.objectContaining({ code: 'CUSTODY_VIOLATION', subject: pallet[1], index: 2 }),
      ]);
      expect(await logSize()).toBe(size);
      expect((await last(pallet[5]!))!.type).toBe('unpack');
    });

    it("refuses another party's subject with 422 CUSTODY_VIOLATION", async () => {
      const res = await post('/v1/decommissions', OTHER, {
        subjects: [pallet[9]],
        reason: 'destroyed',
      }).expect(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'CUSTODY_VIOLATION', subject: pallet[9] });
    });
  });

  describe('containers inside containers (DESIGN §5)', () => {
    const CASE_A = `00/${withCheckDigit('10614141000000101')}`;
    const PALLET_N = `00/${withCheckDigit('10614141000000100')}`;
    const OTHER_PALLET = `00/${withCheckDigit('10614141000000102')}`;
    const kase = unit('NCASE1', GTIN_B);
    const inA = serials('NA', 2).map((s) => unit(s));
    const inCase = serials('NB', 2).map((s) => unit(s));
    const get = (path: string, who: string) =>
      request(issuer.app)
        .get(path)
        .set('Authorization', `Bearer ${tokens[who] ?? who}`);

    it('packs units into an SSCC case and into a serialized GTIN case after its commission', async () => {
      await post('/v1/commissions', MFR, {
        items: [
          ...items(serials('NA', 2)),
          ...items(serials('NB', 2)),
          ...items(['NCASE1'], GTIN_B),
        ],
      }).expect(201);
      const a = await post('/v1/packs', MFR, { parent: CASE_A, children: inA }).expect(201);
      expect(a.body.records).toHaveLength(3);
      const g = await post('/v1/packs', MFR, {
        parent: { gtin: GTIN_B, serial: 'NCASE1' },
        children: inCase,
      }).expect(201);
      expect(g.body.parent).toBe(kase);
      expect(g.body.records).toHaveLength(3);
      // The case's pack of its children follows its commission (seq 1), N + 1 records.
      expect(g.body.records[2]).toMatchObject({ subject: kase, seq: 1 });
      expect((await last(kase))!.data).toEqual({
        children: (g.body.records as Result[])
          .slice(0, 2)
          .map((r) => ({ subject: r.subject, head: r.id })),
      });
    });

    it('refuses a container packed into itself (400) and a case never commissioned (422), writing nothing', async () => {
      const size = await logSize();
      const self = await post('/v1/packs', MFR, { parent: CASE_A, children: [CASE_A] }).expect(400);
      expect(self.body.errors[0]).toMatchObject({
        path: 'body.children[0]',
        rule: 'not-the-parent',
      });
      const u = unit('NLOOSE');
      await post('/v1/commissions', MFR, { items: items(['NLOOSE']) }).expect(201);
      const after = await logSize();
      const res = await post('/v1/packs', MFR, {
        parent: unit('NEVER', GTIN_B),
        children: [u],
      }).expect(422);
      expect(res.body.reasons.map((r: { code: string }) => r.code)).toEqual(['CUSTODY_VIOLATION']);
      expect(await logSize()).toBe(after);
      expect(after).toBe(size + 1);
    });

    it('refuses packing a container the caller does not hold', async () => {
      const size = await logSize();
      const res = await post('/v1/packs', OTHER, {
        parent: OTHER_PALLET,
        children: [CASE_A],
      }).expect(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'CUSTODY_VIOLATION', subject: CASE_A });
      expect(await logSize()).toBe(size);
    });

    it('packs both cases onto a pallet: the cases pack first, then the pallet (N + 1 records)', async () => {
      const res = await post('/v1/packs', MFR, {
        parent: PALLET_N,
        children: [CASE_A, kase],
      }).expect(201);
      const records = res.body.records as Result[];
      expect(records.map((r) => [r.subject, r.seq])).toEqual([
        [CASE_A, 1],
        [kase, 2],
        [PALLET_N, 0],
      ]);
      expect((await last(CASE_A))!.data).toEqual({ parent: PALLET_N });
    });

    it('refuses packing a case that is inside the pallet, and shipping it out without unpacking', async () => {
      const size = await logSize();
      const pack = await post('/v1/packs', MFR, { parent: OTHER_PALLET, children: [kase] }).expect(
        422,
      );
      expect(pack.body.reasons[0]).toMatchObject({ code: 'CUSTODY_VIOLATION', subject: kase });
      for (const s of [CASE_A, inCase[0]!]) {
        const ship = await post('/v1/shipments', MFR, {
          subjects: [s],
          to: DIST,
          shipment: 'N-X',
        }).expect(422);
        expect(ship.body.reasons[0]).toMatchObject({ code: 'CUSTODY_VIOLATION', subject: s });
      }
      expect(await logSize()).toBe(size);
    });

    it('receives the pallet by its label: cases and units are inferred at every level, custody moves two levels down', async () => {
      await post('/v1/shipments', MFR, { subjects: [PALLET_N], to: DIST, shipment: 'N-1' }).expect(
        201,
      );
      const res = await post('/v1/receipts', DIST, {
        shipment: 'N-1',
        from: MFR,
        scanned: [PALLET_N],
        condition: 'ok',
      }).expect(201);
      expect(res.body.units).toEqual([
        { subject: PALLET_N, status: 'scanned' },
        { subject: CASE_A, status: 'inferred', parent: PALLET_N },
        ...inA.map((s) => ({ subject: s, status: 'inferred', parent: CASE_A })),
        { subject: kase, status: 'inferred', parent: PALLET_N },
        ...inCase.map((s) => ({ subject: s, status: 'inferred', parent: kase })),
      ]);
      expect(res.body.counts).toMatchObject({ expected: 7, scanned: 1, inferred: 6, received: 1 });
      expect(res.body.records).toHaveLength(1);
      // The distributor reads a unit two levels down (it is in the pallet's chain) and holds it.
      const chain = await get(`/v1/chains/${encodeURIComponent(inCase[1]!)}`, DIST).expect(200);
      expect(chain.body).toMatchObject({ custodian: DIST, status: 'contained' });
      const bundle = await get(`/v1/bundles/${encodeURIComponent(PALLET_N)}`, DIST).expect(200);
      expect(Object.keys(bundle.body.chains).sort()).toEqual(
        [PALLET_N, CASE_A, kase, ...inA, ...inCase].sort(),
      );
      const unitBundle = await get(`/v1/bundles/${encodeURIComponent(inA[0]!)}`, DIST).expect(200);
      expect(Object.keys(unitBundle.body.chains).sort()).toEqual([PALLET_N, CASE_A, inA[0]].sort());
    });

    it('reconciles a pallet from one unit scanned deep inside: its case inferred, the other case missing', async () => {
      const units = serials('NR', 2).map((s) => unit(s));
      await post('/v1/commissions', MFR, { items: items(serials('NR', 2)) }).expect(201);
      const c1 = `00/${withCheckDigit('10614141000000111')}`;
      const c2 = `00/${withCheckDigit('10614141000000112')}`;
      const p = `00/${withCheckDigit('10614141000000110')}`;
      await post('/v1/packs', MFR, { parent: c1, children: [units[0]] }).expect(201);
      await post('/v1/packs', MFR, { parent: c2, children: [units[1]] }).expect(201);
      await post('/v1/packs', MFR, { parent: p, children: [c1, c2] }).expect(201);
      await post('/v1/shipments', MFR, { subjects: [p], to: DIST, shipment: 'N-2' }).expect(201);
      const res = await post('/v1/receipts', DIST, {
        shipment: 'N-2',
        from: MFR,
        scanned: [units[0]],
        condition: 'ok',
      }).expect(201);
      expect(res.body.units).toEqual([
        { subject: p, status: 'inferred' },
        { subject: c1, status: 'inferred', parent: p },
        { subject: units[0], status: 'scanned', parent: c1 },
        { subject: c2, status: 'missing', parent: p },
        { subject: units[1], status: 'missing', parent: c2 },
      ]);
      expect((await last(p))!.data).toEqual({
        from: MFR,
        shipment: 'N-2',
        condition: 'ok',
        discrepancies: [
          { subject: c2, status: 'missing' },
          { subject: units[1], status: 'missing' },
        ],
      });
    });

    it('unpacks one level at a time: the pallet, then the serialized case by its GTIN and serial', async () => {
      const p = await post('/v1/unpacks', DIST, { parent: PALLET_N }).expect(201);
      expect((p.body.records as Result[]).map((r) => r.subject)).toEqual([PALLET_N, CASE_A, kase]);
      expect(await getHead(issuer.db, kase)).toMatchObject({
        state: { containedIn: null, custodian: DIST },
      });
      const c = await post('/v1/unpacks', DIST, { parent: `(01)${GTIN_B}(21)NCASE1` }).expect(201);
      expect((c.body.records as Result[]).map((r) => r.subject)).toEqual([kase, ...inCase]);
      await post('/v1/shipments', DIST, {
        subjects: [inCase[0]],
        to: PHARM,
        shipment: 'N-3',
      }).expect(201);
      // The SSCC case is still sealed: it travels whole.
      await post('/v1/shipments', DIST, { subjects: [CASE_A], to: PHARM, shipment: 'N-3' }).expect(
        201,
      );
    });
  });

  describe('races and the API description', () => {
    it('lets one of two concurrent writes to the same chain win; the other is refused and nothing forks', async () => {
      const s = unit('RACE1');
      await post('/v1/commissions', MFR, { items: items(['RACE1']) }).expect(201);
      const [a, b] = await Promise.all([
        post('/v1/decommissions', MFR, { subjects: [s], reason: 'destroyed' }),
        post('/v1/decommissions', MFR, { subjects: [s], reason: 'sample' }),
      ]);
      const statuses = [a.status, b.status].sort();
      expect(statuses[0]).toBe(201);
      expect([409, 422]).toContain(statuses[1]);
      const chain = await getChain(issuer.db, s);
      expect(chain.map((r) => r.type)).toEqual(['commission', 'decommission']);
    });

    it('answers 409 naming the head when an SSCC already has a chain', async () => {
      const sscc = `00/${withCheckDigit('10614141000000003')}`;
      await post('/v1/commissions', MFR, { items: items(['REPACK1', 'REPACK2']) }).expect(201);
      await post('/v1/packs', MFR, { parent: sscc, children: [unit('REPACK1')] }).expect(201);
      const res = await post('/v1/packs', MFR, {
        parent: sscc,
        children: [unit('REPACK2')],
      }).expect(409);
      expect(res.body).toMatchObject({ subject: sscc, seq: 0 });
      expect((await last(unit('REPACK2')))!.type).toBe('commission');
    });

    it('answers 422 KEY_UNKNOWN when the party holds no custodial key', async () => {
      const gln = withCheckDigit('061414100009');
      await insertParty(issuer.db, {
        gln,
        name: 'no key',
        roles: ['manufacturer'],
        prefixes: ['0614141'],
      });
      const t = newToken();
      await insertToken(issuer.db, { tokenHash: t.hash, gln, scopes: ['sign'] });
      const res = await post('/v1/recalls', t.token, { gtin: GTIN, reason: 'x' }).expect(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'KEY_UNKNOWN' });
    });

    it('documents every custodial endpoint in /openapi.json', async () => {
      const doc = await request(issuer.app).get('/openapi.json').expect(200);
      for (const path of [
        '/v1/commissions',
        '/v1/packs',
        '/v1/unpacks',
        '/v1/shipments',
        '/v1/receipts',
        '/v1/decommissions',
        '/v1/reactivations',
        '/v1/recalls',
      ])
        expect(doc.body.paths[path]?.post?.responses?.['201']).toBeDefined();
    });
  });

  describe('recalls', () => {
    it('records a recall notice signed custodially by the manufacturer', async () => {
      const res = await post('/v1/recalls', MFR, {
        gtin: GTIN,
        lot: 'L1',
        reason: 'sterility',
      }).expect(201);
      expect(Object.keys(res.body).sort()).toEqual(['id', 'receipt']);
      const recalls = await findRecalls(issuer.db, GTIN);
      const n = recalls.find((r) => r.id === res.body.id);
      expect(n).toMatchObject({ actor: MFR, kid: kids[MFR] });
      expect(n!.data).toEqual({ gtin: GTIN, lot: 'L1', reason: 'sterility' });
    });

    it('answers 403 when the caller does not own the GTIN company prefix', async () => {
      await post('/v1/recalls', OTHER, { gtin: GTIN, reason: 'not mine' }).expect(403);
      await post('/v1/recalls', DIST, { gtin: GTIN, reason: 'not mine' }).expect(403);
    });
  });

  describe('bad input and all-or-nothing batches', () => {
    it('writes nothing from a 100-unit commission with one invalid GTIN, naming its index and rule', async () => {
      const size = await logSize();
      const list = items(serials('B', 100));
      list[57] = { ...list[57]!, gtin: GTIN.slice(0, 13) + String((Number(GTIN[13]) + 1) % 10) };
      const res = await post('/v1/commissions', MFR, { items: list }).expect(400);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ path: 'body.items[57].gtin', rule: 'check-digit' }),
      ]);
      expect(await logSize()).toBe(size);
      expect(await getHead(issuer.db, unit('B001'))).toBeNull();
    });

    it('keeps GTINs strictly 14 digits and says how to spell a shorter one', async () => {
      const res = await post('/v1/commissions', MFR, {
        items: [{ gtin: GTIN.slice(1), serial: 'X1', lot: 'L', expiry: '2028-01-31' }],
      }).expect(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.items[0].gtin', rule: 'gtin-14' });
      expect(res.body.errors[0].message).toMatch(/14 digits/);
    });

    it('names the index of a subject listed twice in one batch', async () => {
      const res = await post('/v1/commissions', MFR, { items: items(['D1', 'D2', 'D1']) }).expect(
        400,
      );
      expect(res.body.errors[0]).toMatchObject({ path: 'body.items[2]', rule: 'duplicate' });
    });

    it('names the index and the GS1 rule of an invalid scan', async () => {
      const bad = `(01)${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}(21)X`;
      const res = await post('/v1/shipments', MFR, {
        subjects: [`00/${SSCC_2}`, bad, `(01)${GTIN}(99)X`],
        to: DIST,
        shipment: 'S',
      }).expect(400);
      expect(res.body.errors.map((e: { path: string; rule: string }) => [e.path, e.rule])).toEqual([
        ['body.subjects[1]', 'bad-check-digit'],
        ['body.subjects[2]', 'missing-serial'],
      ]);
    });

    it('refuses an SSCC where a unit is expected, and unpacking a unit that holds nothing', async () => {
      const a = await post('/v1/decommissions', MFR, {
        subjects: [KNOWN_SSCC],
        reason: 'destroyed',
      }).expect(400);
      expect(a.body.errors[0]).toMatchObject({ path: 'body.subjects[0]', rule: 'unit-subject' });
      // A serialized GTIN may be a case (DESIGN §5), so a unit parent is a lookup, not a 400.
      await post('/v1/unpacks', MFR, { parent: unit('P001') }).expect(404);
    });

    it('names an unknown field', async () => {
      const res = await post('/v1/decommissions', MFR, {
        subjects: [unit('P001')],
        reason: 'dispensed',
        extra: 1,
      }).expect(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.extra', rule: 'unrecognized_keys' });
    });

    it('refuses callers without the sign scope or without a party', async () => {
      await request(issuer.app)
        .post('/v1/commissions')
        .send({ items: items(['Z1']) })
        .expect(401);
      await post('/v1/commissions', verifyToken, { items: items(['Z1']) }).expect(403);
      await post('/v1/commissions', issuer.adminToken, { items: items(['Z1']) }).expect(403);
    });

    it('refuses a commission under another company prefix (422 GENESIS_INVALID)', async () => {
      const res = await post('/v1/commissions', MFR, { items: items(['F1'], OTHER_GTIN) }).expect(
        422,
      );
      expect(res.body.reasons[0]).toMatchObject({ code: 'GENESIS_INVALID', index: 0 });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the same body without writing new records, and refuses the key for another body', async () => {
      const body = { items: items(['I1', 'I2'], GTIN_B) };
      const key = { 'Idempotency-Key': 'commission-I-1' };
      const first = await post('/v1/commissions', MFR, body, key).expect(201);
      const size = await logSize();
      const again = await post('/v1/commissions', MFR, body, key).expect(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      expect(await logSize()).toBe(size);
      await post('/v1/commissions', MFR, { items: items(['I3'], GTIN_B) }, key).expect(422);
      expect(await logSize()).toBe(size);
    });
  });

  describe('bulk', () => {
    it('commissions 10,000 units in one call', async () => {
      const size = await logSize();
      const list = items(serials('K', 10_000), GTIN_B, 'BULK');
      const t0 = performance.now();
      const res = await post('/v1/commissions', MFR, { items: list }).expect(201);
      const ms = performance.now() - t0;
      console.log(
        `10,000-unit custodial commission: ${ms.toFixed(0)} ms (${((10_000 / ms) * 1000).toFixed(0)} units/s)`,
      );
      expect(res.body.records).toHaveLength(10_000);
      expect(await logSize()).toBe(size + 10_000);
    }, 120_000);

    it('refuses more than 10,000 subjects in one call', async () => {
      const list = items(['X'], GTIN_B);
      const res = await post('/v1/commissions', MFR, { items: Array(10_001).fill(list[0]) }).expect(
        400,
      );
      expect(res.body.errors[0]).toMatchObject({ path: 'body.items', rule: 'too_big' });
    });
  });
});
