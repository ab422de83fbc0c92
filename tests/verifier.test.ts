// The verification API (DESIGN §7, §8a) against the real issuer and verifier
// on one app and one database: honest units through pallets, container
// verdicts, verification receipts, VRS, cases and Form 3911, and who may read
// what. Everything is set up through the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { fromBase64, unitSubject } from '@provenant/core';
import { centuryAt, resolveCentury } from '@provenant/gs1';
import { nodeBackend } from '@provenant/core/node';
import { verifyVerificationReceipt } from '@provenant/verifier';
import {
  Api,
  codes,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100001');
const GTIN_R = withCheckDigit('1061414100002');
const SSCC_A = withCheckDigit('10614141000000001');
const SSCC_B = withCheckDigit('10614141000000002');
const GS = '\x1d';

const unit = (serial: string, gtin = GTIN) => unitSubject(gtin, serial);
const serials = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')}`);

describe('the verification API', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414100000'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    dist = await api.party(withCheckDigit('061414100001'), 'Northwind Distribution', [
      'distributor',
    ]);
    pharm = await api.party(withCheckDigit('061414100002'), 'St. Mary Pharmacy', ['dispenser']);

    // Pallet A: 20 units, MFR -> DIST (received), unpacked; unit A001 -> PHARM (in transit).
    const a = serials('A', 20);
    await api.commission(mfr, GTIN, a);
    await api.pack(
      mfr,
      SSCC_A,
      a.map((s) => unit(s)),
    );
    await api.handoff(mfr, dist, [`00/${SSCC_A}`], 'ASN-A');
    await api.unpack(dist, SSCC_A);
    await api.ship(dist, [unit('A001')], pharm, 'ASN-A2');

    // Pallet B: 6 units of lot L1 and 4 of lot LR (recalled), MFR -> DIST (in transit).
    await api.commission(mfr, GTIN_R, serials('B', 6), 'L1');
    await api.commission(mfr, GTIN_R, serials('R', 4), 'LR');
    await api.pack(
      mfr,
      SSCC_B,
      [...serials('B', 6), ...serials('R', 4)].map((s) => unit(s, GTIN_R)),
    );
    await api.ship(mfr, [`00/${SSCC_B}`], dist, 'ASN-B');
    await api
      .post('/v1/recalls', mfr.token, { gtin: GTIN_R, lot: 'LR', reason: 'sterility' })
      .expect(201);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  describe('an honest unit that travelled in a pallet', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer read field by field
    let body: Record<string, any>;

    it('is accepted at the pharmacy dock from a real scan string, with its whole custody timeline', async () => {
      const scan = `]d201${GTIN}17300131${GS}10L1${GS}21A001`;
      const res = await api.verify(pharm, { scan, purpose: 'receiving' }).expect(201);
      body = res.body;
      expect(res.headers.location).toBe(`/v1/verifications/${body.id}`);
      expect(body).toMatchObject({
        verdict: 'accept',
        reasons: [],
        subject: unit('A001'),
        party: pharm.gln,
        purpose: 'receiving',
        product: { gtin: GTIN, serial: 'A001', lot: 'L1', expiry: '2030-01-31' },
        status: 'in_transit',
      });
      expect(body.case).toBeUndefined();
      const steps = (body.custody as { subject: string; type: string; actor: string }[]).map(
        (e) => `${e.subject === unit('A001') ? 'unit' : 'pallet'}:${e.type}:${e.actor}`,
      );
      expect(steps).toEqual([
        `unit:commission:${mfr.gln}`,
        `unit:pack:${mfr.gln}`,
        `pallet:pack:${mfr.gln}`,
        `pallet:ship:${mfr.gln}`,
        `pallet:receive:${dist.gln}`,
        `pallet:unpack:${dist.gln}`,
        `unit:unpack:${dist.gln}`,
        `unit:ship:${dist.gln}`,
      ]);
    });

    it('carries a verification receipt that verifies with the key of GET /v1/verifier', async () => {
      const key = await request(world.app).get('/v1/verifier').expect(200);
      const publicKey = fromBase64(key.body.publicKey)!;
      const receipt = body.receipt;
      expect(receipt).toMatchObject({
        v: 1,
        id: body.id,
        subject: unit('A001'),
        party: pharm.gln,
        purpose: 'receiving',
        verdict: 'accept',
        reasons: [],
        kid: key.body.kid,
        verifiedAt: body.verifiedAt,
      });
      expect(receipt.checkpoint.size).toBeGreaterThan(0);
      expect(verifyVerificationReceipt(receipt, publicKey, nodeBackend)).toBe(true);
      // Any edit of a signed field breaks it.
      expect(
        verifyVerificationReceipt({ ...receipt, verdict: 'reject' }, publicKey, nodeBackend),
      ).toBe(false);
    });

    it('is stored: its party reads it back, another party gets 404, an admin may read it', async () => {
      const mine = await api.get(`/v1/verifications/${body.id}`, pharm.token).expect(200);
      expect(mine.body).toEqual(body);
      const other = await api.get(`/v1/verifications/${body.id}`, dist.token).expect(404);
      expect(other.body.type).toBe('urn:provenant:problem:verification-not-found');
      await api.get(`/v1/verifications/${body.id}`, world.issuer.adminToken).expect(200);
    });

    it('is accepted by subject too, and the shipper re-verifying what it still has is fine', async () => {
      const res = await api
        .verify(dist, { subject: unit('A002'), purpose: 'receiving' })
        .expect(201);
      expect(res.body.verdict).toBe('accept');
      expect(res.body.custodian).toBe(dist.gln);
      expect(res.body.status).toBe('active');
    });
  });

  describe('a logistic unit', () => {
    it('covers every unit inside: counts per verdict and the failing units with their reasons', async () => {
      const res = await api
        .verify(dist, { scan: `(00)${SSCC_B}`, purpose: 'receiving' })
        .expect(201);
      expect(res.body.verdict).toBe('quarantine');
      expect(codes(res.body)).toEqual(['RECALLED']);
      expect(res.body.reasons[0].message).toMatch(/^4 of 10 units/);
      expect(res.body.units.total).toBe(10);
      expect(res.body.units.counts).toEqual({ accept: 6, quarantine: 4, reject: 0 });
      expect(res.body.units.failing.map((f: { subject: string }) => f.subject).sort()).toEqual(
        serials('R', 4).map((s) => unit(s, GTIN_R)),
      );
      for (const f of res.body.units.failing) expect(codes(f)).toEqual(['RECALLED']);
      expect(res.body.case).toMatchObject({ status: 'open' });
    });

    it('an honest pallet in transit to the dock is accepted with every unit counted', async () => {
      const c = serials('C', 12);
      const sscc = withCheckDigit('10614141000000003');
      await api.commission(mfr, GTIN, c);
      await api.pack(
        mfr,
        sscc,
        c.map((s) => unit(s)),
      );
      await api.ship(mfr, [`00/${sscc}`], dist, 'ASN-C');
      const res = await api
        .verify(dist, { subject: `00/${sscc}`, purpose: 'receiving' })
        .expect(201);
      expect(res.body).toMatchObject({
        verdict: 'accept',
        reasons: [],
        status: 'in_transit',
        units: { total: 12, counts: { accept: 12, quarantine: 0, reject: 0 }, failing: [] },
      });
    });
  });

  describe('GET /v1/vrs/01/{gtin}/21/{serial}', () => {
    const vrs = (p: Party, gtin: string, serial: string, query: string) =>
      api.get(`/v1/vrs/01/${gtin}/21/${serial}?${query}`, p.token);

    it('answers the GS1 Lightweight Verification Messaging shape for a matching unit', async () => {
      const res = await vrs(
        dist,
        GTIN,
        'A003',
        `10=L1&17=300131&reqGLN=${dist.gln}&corrUUID=abc-1&context=dscsaSaleableReturn`,
      ).expect(200);
      expect(res.body).toEqual({
        verificationTimestamp: expect.any(String),
        responderGLN: mfr.gln,
        corrUUID: 'abc-1',
        data: { verified: true },
      });
    });

    it('names the most specific standard failure reason', async () => {
      const lot = await vrs(dist, GTIN, 'A003', '10=WRONG&17=300131&corrUUID=u2').expect(200);
      expect(lot.body.data).toEqual({
        verified: false,
        verificationFailureReason: 'No_match_GTIN_Serial_Lot',
      });
      const both = await vrs(dist, GTIN, 'A003', '10=WRONG&17=291231&corrUUID=u3').expect(200);
      expect(both.body.data).toEqual({
        verified: false,
        verificationFailureReason: 'No_match_GTIN_Serial_Lot_Expiry',
      });
      const unknown = await vrs(dist, GTIN, 'NOPE9', '10=L1&corrUUID=u4').expect(200);
      expect(unknown.body.data).toEqual({
        verified: false,
        verificationFailureReason: 'No_match_GTIN_Serial',
      });
      const recalled = await vrs(dist, GTIN_R, 'R001', '10=LR&corrUUID=u5').expect(200);
      expect(recalled.body.data).toEqual({ verified: false, additionalInfo: 'Recalled' });
    });

    it('refuses a bad lot naming the GS1 rule and AI, and a reqGLN that is not the caller', async () => {
      const bad = await vrs(dist, GTIN, 'A003', '10=L%C3%A9&corrUUID=u6').expect(400);
      expect(bad.body.errors[0]).toMatchObject({ path: 'query.10', rule: 'illegal-character' });
      await vrs(dist, GTIN, 'A003', `reqGLN=${mfr.gln}&corrUUID=u7`).expect(403);
      await vrs(dist, withCheckDigit('1099999900001'), 'X1', 'corrUUID=u8').expect(404);
    });

    it('answers a GS1 router: linkType verificationService or gs1:verificationService, its own parameters ignored', async () => {
      for (const lt of ['verificationService', 'gs1%3AverificationService']) {
        const res = await vrs(
          dist,
          GTIN,
          'A003',
          `10=L1&17=300131&corrUUID=lt&context=dscsaSaleableReturn&linkType=${lt}&resolverHop=2&utm_source=x`,
        ).expect(200);
        expect(res.body).toMatchObject({ corrUUID: 'lt', data: { verified: true } });
      }
    });

    it('refuses any other linkType naming the field', async () => {
      const res = await vrs(dist, GTIN, 'A003', 'corrUUID=lt2&linkType=gs1%3Apip').expect(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'query.linkType' });
    });

    describe('GET /v1/vrs/checkConnectivity', () => {
      const check = (query: string, token?: string) => {
        const r = request(world.app).get(`/v1/vrs/checkConnectivity?${query}`);
        return token === undefined ? r : r.set('Authorization', `Bearer ${token}`);
      };

      it('answers 200 {responderGLN}: the party that answers for the GTIN', async () => {
        const res = await check(
          `gtin=${GTIN}&reqGLN=${dist.gln}&context=dscsaSaleableReturn&linkType=gs1%3AverificationService&extra=1`,
          dist.token,
        ).expect(200);
        expect(res.body).toEqual({ responderGLN: mfr.gln });
      });

      it('is 401 for an unknown requester and 403 when not permitted', async () => {
        const q = `gtin=${GTIN}&reqGLN=${dist.gln}&context=dscsaSaleableReturn`;
        await check(q).expect(401);
        await check(q, 'pvn_unknownunknownunknown').expect(401);
        // reqGLN is another party than the caller's token.
        await check(
          `gtin=${GTIN}&reqGLN=${mfr.gln}&context=dscsaSaleableReturn`,
          dist.token,
        ).expect(403);
        const signOnly = await api
          .post(`/v1/parties/${dist.gln}/tokens`, world.issuer.adminToken, { scopes: ['sign'] })
          .expect(201);
        const scope = await check(q, signOnly.body.token).expect(403);
        expect(scope.body.type).toBe('urn:provenant:problem:insufficient-scope');
      });

      it('refuses a bad GTIN, a missing reqGLN or another context, and 404s a GTIN nobody answers for', async () => {
        const wrong = GTIN.slice(0, 13) + String((Number(GTIN[13]) + 1) % 10);
        const bad = await check(`gtin=${wrong}&reqGLN=${dist.gln}`, dist.token).expect(400);
        expect(bad.body.errors[0]).toMatchObject({ path: 'query.gtin', rule: 'bad-check-digit' });
        await check(`gtin=${GTIN}`, dist.token).expect(400);
        await check(`gtin=${GTIN}&reqGLN=${dist.gln}&context=dscsaSale`, dist.token).expect(400);
        await check(
          `gtin=${withCheckDigit('1099999900001')}&reqGLN=${dist.gln}`,
          dist.token,
        ).expect(404);
      });
    });
  });

  describe('cases', () => {
    let caseId: string;

    it('lists the open cases of the caller only, with cursor paging', async () => {
      // A second case for DIST: an unknown serial at receiving.
      const unknown = await api
        .verify(dist, { subject: unit('ZZZ404'), purpose: 'receiving' })
        .expect(201);
      expect(unknown.body).toMatchObject({
        verdict: 'quarantine',
        status: 'unknown',
        product: null,
      });
      expect(codes(unknown.body)).toEqual(['UNKNOWN_PRODUCT']);
      const first = await api.get('/v1/cases?status=open&limit=1', dist.token).expect(200);
      expect(first.body.cases).toHaveLength(1);
      expect(first.body.cases[0]).toMatchObject({
        subject: `00/${SSCC_B}`,
        verdict: 'quarantine',
        status: 'open',
      });
      caseId = first.body.cases[0].id;
      const second = await api
        .get(`/v1/cases?status=open&limit=1&after=${first.body.next}`, dist.token)
        .expect(200);
      expect(second.body.cases[0]).toMatchObject({ subject: unit('ZZZ404') });
      const mine = await api.get('/v1/cases', pharm.token).expect(200);
      expect(mine.body).toEqual({ cases: [], next: null });
      await api.get('/v1/cases?after=garbage', dist.token).expect(400);
    });

    it('exports the fields of an FDA Form 3911 notification', async () => {
      const res = await api.get(`/v1/cases/${caseId}/form3911`, dist.token).expect(200);
      expect(res.body).toMatchObject({
        form: 'FDA 3911',
        determination: 'high_risk_of_illegitimacy',
        classification: ['unfit_for_distribution'],
        product: { sscc: SSCC_B, quantity: 10 },
        reporter: { companyName: 'Northwind Distribution', gln: dist.gln },
        provenant: { caseId, reasonCodes: ['RECALLED'] },
      });
      await api.get(`/v1/cases/${caseId}/form3911`, pharm.token).expect(404);
    });

    it('resolves a case once, with an outcome; another party cannot', async () => {
      await api
        .post(`/v1/cases/${caseId}/resolve`, pharm.token, { outcome: 'returned' })
        .expect(404);
      const res = await api
        .post(`/v1/cases/${caseId}/resolve`, dist.token, {
          outcome: 'returned',
          note: 'back to Acme',
        })
        .expect(200);
      expect(res.body).toMatchObject({
        status: 'resolved',
        outcome: 'returned',
        note: 'back to Acme',
        resolvedBy: dist.gln,
      });
      await api
        .post(`/v1/cases/${caseId}/resolve`, dist.token, { outcome: 'released' })
        .expect(409);
      await api
        .post(`/v1/cases/${caseId}/resolve`, dist.token, { outcome: 'vanished' })
        .expect(400);
      const open = await api.get('/v1/cases?status=open', dist.token).expect(200);
      expect(open.body.cases.map((c: { id: string }) => c.id)).not.toContain(caseId);
    });
  });

  describe('a pallet of cases (DESIGN §5: containers nest)', () => {
    const CASE = `00/${withCheckDigit('10614141000000011')}`;
    const PALLET = `00/${withCheckDigit('10614141000000010')}`;
    const gcase = unit('DCASE');
    const deep = [unit('D001'), unit('D002'), unit('D003'), unit('DR1', GTIN_R)];

    beforeAll(async () => {
      await api.commission(mfr, GTIN, ['D001', 'D002', 'D003', 'DCASE']);
      await api.commission(mfr, GTIN_R, ['DR1'], 'LR');
      await api.pack(mfr, CASE, deep.slice(0, 2));
      await api.pack(mfr, gcase, deep.slice(2));
      await api.pack(mfr, PALLET, [CASE, gcase]);
      await api.ship(mfr, [PALLET], dist, 'ASN-D');
    });

    it('lists the cases and their units, and shows a recalled unit two levels down', async () => {
      const res = await api.verify(dist, { scan: PALLET, purpose: 'receiving' }).expect(201);
      expect(res.body.verdict).toBe('quarantine');
      expect(codes(res.body)).toEqual(['RECALLED']);
      expect(res.body.reasons[0].message).toMatch(/^1 of 6 units/);
      expect(res.body.units).toMatchObject({
        total: 6,
        counts: { accept: 5, quarantine: 1, reject: 0 },
      });
      expect(res.body.units.failing.map((f: { subject: string }) => f.subject)).toEqual([deep[3]]);
    });

    it('judges a unit two levels down by the pallet shipment, timeline included', async () => {
      const res = await api.verify(dist, { subject: deep[0]!, purpose: 'receiving' }).expect(201);
      expect(res.body).toMatchObject({ verdict: 'accept', status: 'in_transit' });
      const steps = (res.body.custody as { subject: string; type: string }[]).map(
        (e) =>
          `${e.subject === PALLET ? 'pallet' : e.subject === CASE ? 'case' : 'unit'}:${e.type}`,
      );
      expect(steps).toEqual([
        'unit:commission',
        'unit:pack',
        'case:pack',
        'case:pack',
        'pallet:pack',
        'pallet:ship',
      ]);
      const other = await api
        .verify(pharm, { subject: deep[1]!, purpose: 'receiving' })
        .expect(201);
      // (DUPLICATE_SCAN too: the distributor verified the pallet it is in, see below.)
      expect(codes(other.body)).toContain('NOT_SHIPPED_TO_YOU');
    });

    it('counts the pallet verification as a scan of a unit two levels down (DUPLICATE_SCAN)', async () => {
      // The distributor verified the pallet above, since its last handoff; the manufacturer
      // (in the chain) now verifies a unit inside the serialized case inside it.
      const res = await api.verify(mfr, { subject: deep[2]!, purpose: 'receiving' }).expect(201);
      expect(codes(res.body)).toContain('DUPLICATE_SCAN');
    });

    it('moves custody of the cases and units to the distributor on the pallet receive', async () => {
      await api.receive(dist, mfr, 'ASN-D', [PALLET]);
      for (const s of [gcase, deep[0]!]) {
        const res = await api.verify(dist, { subject: s, purpose: 'dispense' }).expect(201);
        expect([s, res.body.custodian, res.body.status]).toEqual([s, dist.gln, 'active']);
      }
    });
  });

  describe('bad requests', () => {
    it('names the GS1 rule and AI of a bad scan, and writes nothing', async () => {
      const wrong = `${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}`;
      const count = async () =>
        (
          await world.issuer.db.query<{ n: number }>(
            'SELECT count(*)::integer AS n FROM verifications',
          )
        ).rows[0]!.n;
      const before = await count();
      const res = await api
        .verify(pharm, { scan: `]d201${wrong}${GS}21A001`, purpose: 'receiving' })
        .expect(400);
      expect(await count()).toBe(before);
      expect(res.body.errors[0]).toMatchObject({
        path: 'body.scan',
        rule: 'bad-check-digit',
        ai: '01',
      });
      expect(res.body.detail).toMatch(/AI 01|\(01\)/);
    });

    it('wants exactly one of scan or subject, a known purpose, and a canonical subject', async () => {
      const both = await api
        .verify(pharm, { scan: unit('A001'), subject: unit('A001'), purpose: 'receiving' })
        .expect(400);
      expect(both.body.errors[0].rule).toBe('scan-or-subject');
      await api.verify(pharm, { subject: unit('A001'), purpose: 'selling' }).expect(400);
      const sub = await api
        .verify(pharm, { subject: `01/${GTIN}/21/A%2x`, purpose: 'receiving' })
        .expect(400);
      expect(sub.body.errors[0].path).toBe('body.subject');
    });

    it('wants a party token with the verify scope', async () => {
      await request(world.app)
        .post('/v1/verifications')
        .send({ subject: unit('A001'), purpose: 'receiving' })
        .expect(401);
      const admin = await api.post('/v1/verifications', world.issuer.adminToken, {
        subject: unit('A001'),
        purpose: 'receiving',
      });
      expect(admin.status).toBe(403);
      const signOnly = await api
        .post(`/v1/parties/${pharm.gln}/tokens`, world.issuer.adminToken, { scopes: ['sign'] })
        .expect(201);
      await api
        .post('/v1/verifications', signOnly.body.token, {
          subject: unit('A001'),
          purpose: 'receiving',
        })
        .expect(403);
    });
  });

  describe('GS1 input to the letter (DESIGN §3)', () => {
    const GTIN_Y = withCheckDigit('1061414100009');

    it('does not report EXPIRY_MISMATCH for a scan with expiry 991231 of a unit commissioned with expiry 2099-12-31', async () => {
      await api.commission(mfr, GTIN_Y, ['Y2099'], 'LY', '2099-12-31');
      const scan = `]d201${GTIN_Y}17991231${GS}10LY${GS}21Y2099`;
      const res = await api.verify(dist, { scan, purpose: 'receiving' }).expect(201);
      expect(codes(res.body)).not.toContain('EXPIRY_MISMATCH');
      expect(res.body.product.expiry).toBe('2099-12-31');
      const lvm = await api
        .get(`/v1/vrs/01/${GTIN_Y}/21/Y2099?10=LY&17=991231&corrUUID=y`, dist.token)
        .expect(200);
      expect(lvm.body.data.verificationFailureReason).toBeUndefined();
    });

    it('reads a label date YYMMDD at commission and at scan with the same §7.12 window', async () => {
      const year = resolveCentury(99, centuryAt(Date.now()));
      await api.commission(mfr, GTIN_Y, ['Y1999'], 'LY', '991231');
      const res = await api
        .verify(dist, { scan: `(01)${GTIN_Y}(17)991231(10)LY(21)Y1999`, purpose: 'receiving' })
        .expect(201);
      expect(res.body.product.expiry).toBe(`${year}-12-31`);
      expect(codes(res.body)).not.toContain('EXPIRY_MISMATCH');
    });

    it('honours a printable GS stand-in only when the request names the scanner profile', async () => {
      const scan = `]d201${GTIN}17300131${GS}10L1<GS>21A004`;
      const strict = await api.verify(dist, { scan, purpose: 'receiving' }).expect(400);
      expect(strict.body.errors[0]).toMatchObject({ path: 'body.scan', rule: 'missing-separator' });
      const wedge = await api
        .verify(dist, { scan, purpose: 'receiving', scannerProfile: 'keyboard-wedge-gs' })
        .expect(201);
      expect(wedge.body).toMatchObject({ subject: unit('A004'), verdict: 'accept' });
      const unknown = await api
        .verify(dist, { scan, purpose: 'receiving', scannerProfile: 'wedge' })
        .expect(400);
      expect(unknown.body.errors[0]).toMatchObject({ path: 'body.scannerProfile' });
    });

    it('refuses an integer beyond ±(2^53−1) in a request body with 400 naming the field (I-JSON)', async () => {
      const res = await request(world.app)
        .post('/v1/verifications')
        .set('Authorization', `Bearer ${dist.token}`)
        .set('Content-Type', 'application/json')
        .send(`{"subject": "${unit('A004')}", "purpose": "receiving", "n": 9007199254740993}`)
        .expect(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([
        { path: 'body.n', rule: 'unsafe-integer', message: expect.any(String) },
      ]);
    });

    it('refuses a Digital Link with a dot segment or an empty segment', async () => {
      for (const scan of [
        `https://id.example/a/../01/${GTIN}/21/A004`,
        `https://id.example/01/${GTIN}//21/A004`,
        `https://id.example/01/${GTIN}/21/%2E%2E`,
      ]) {
        const res = await api.verify(dist, { scan, purpose: 'receiving' }).expect(400);
        expect(res.body.errors[0]).toMatchObject({ path: 'body.scan', rule: 'bad-digital-link' });
      }
    });
  });

  it('documents every verifier path in /openapi.json', async () => {
    const res = await request(world.app).get('/openapi.json').expect(200);
    for (const p of [
      '/v1/verifications',
      '/v1/verifications/{id}',
      '/v1/bundles/verify',
      '/v1/verifier',
      '/v1/vrs/01/{gtin}/21/{serial}',
      '/v1/vrs/checkConnectivity',
      '/v1/cases',
      '/v1/cases/{id}/resolve',
      '/v1/cases/{id}/form3911',
    ])
      expect(Object.keys(res.body.paths)).toContain(p);
  });
});
