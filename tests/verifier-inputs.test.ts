// What arrives at the verifier from outside (DESIGN §3, §7, STYLE rule 5):
// subjects in every §3 form, and bundles a hostile shipper hands over. A
// malformed bundle is evidence, so it gets a verdict with reason codes, never a
// 4xx about its contents or a 5xx; a record re-signed with a key of a party
// outside the chain is KEY_NOT_AUTHORIZED even when the shipper left that
// key's registration out, because the verifier knows the registry.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { checkBundleFrame, fromBase64, fromUtf8, unitSubject, type Bundle } from '@provenant/core';
import {
  Api,
  codes,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414200003');
const unit = (serial: string) => unitSubject(GTIN, serial);

describe('verification inputs and hostile bundles', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let pharm: Party;
  let outsider: Party;
  let bundle: Bundle;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414200001'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614142'],
    );
    pharm = await api.party(withCheckDigit('061414200002'), 'St. Mary Pharmacy', ['dispenser']);
    outsider = await api.party(
      withCheckDigit('061414200003'),
      'Elsewhere Clinic',
      ['dispenser'],
      [],
      {
        clientKey: true,
      },
    );
    await api.commission(mfr, GTIN, ['U001', 'U002'], 'L1', '2030-01-31');
    await api.ship(mfr, [unit('U001'), unit('U002')], pharm, 'ASN-U');
    bundle = await api.bundle(unit('U001'), pharm.token);
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  const verifyBundle = async (b: unknown) => {
    const res = await api.verifyBundle(pharm, b);
    expect(res.status).toBe(201);
    return res.body;
  };

  describe('subjects in every DESIGN §3 form', () => {
    it('accepts an EPC URI, {gtin, serial} and a Digital Link path as the subject', async () => {
      for (const subject of [
        'urn:epc:id:sgtin:0614142.100003.U001',
        { gtin: GTIN, serial: 'U001' },
        unit('U001'),
      ]) {
        const res = await api.verify(pharm, { subject, purpose: 'receiving' }).expect(201);
        expect(res.body).toMatchObject({ subject: unit('U001'), verdict: 'accept' });
      }
    });

    it('matches the lot a Digital Link path carries, given as subject or as scan', async () => {
      for (const key of ['subject', 'scan']) {
        const res = await api
          .verify(pharm, { [key]: `01/${GTIN}/10/L9/21/U002`, purpose: 'receiving' })
          .expect(201);
        expect(codes(res.body)).toEqual(['LOT_MISMATCH']);
      }
    });

    it('names the GS1 rule and AI of a {gtin} scan that has no serial', async () => {
      const res = await api
        .verify(pharm, { scan: { gtin: GTIN }, purpose: 'receiving' })
        .expect(400);
      expect(res.body.errors[0]).toMatchObject({
        path: 'body.scan',
        rule: 'missing-serial',
        ai: '21',
      });
      expect(res.body.detail).not.toMatch(/\(AI 21\).*\(AI 21\)/);
    });
  });

  describe('hostile bundles, through POST /v1/bundles/verify', () => {
    it('refuses a bundle that names no canonical subject with 400: no verdict, nothing stored (DESIGN §7)', async () => {
      const { subject: _s, ...noSubject } = structuredClone(bundle);
      void _s;
      const count = async () =>
        Number(
          (await world.issuer.db.query('SELECT count(*)::int AS n FROM verifications')).rows[0]!.n,
        );
      const before = await count();
      for (const b of [{}, noSubject, { ...structuredClone(bundle), subject: 5 }]) {
        const res = await api.verifyBundle(pharm, b);
        expect(res.status).toBe(400);
        expect(res.body.type).toBe('urn:provenant:problem:invalid-bundle');
        expect(res.body.verdict).toBeUndefined();
      }
      expect(await count()).toBe(before);
    });

    it('answers a malformed bundle with 400 when its frame does not parse, else a reject with reason codes; never an error', async () => {
      const s = unit('U001');
      const mutations: ((b: Bundle & Record<string, unknown>) => void)[] = [
        (b) => ((b as Record<string, unknown>).v = 2),
        (b) => ((b as Record<string, unknown>).chains = []),
        (b) => ((b as Record<string, unknown>).notices = { a: 1 }),
        (b) => ((b as Record<string, unknown>).checkpoint = 7),
        (b) => (b.extra = true),
        (b) => ((b.chains[s] as unknown[])[0] = null),
        (b) => ((b.chains[s]![0] as unknown as Record<string, unknown>).envelope = 'x'),
        (b) => (b.chains[s]![0]!.envelope.payload = '!!!'),
        (b) => (b.chains[s]![0]!.envelope.signatures = []),
        (b) => ((b.chains[s]![0]!.receipt as unknown as Record<string, unknown>).index = '1'),
        (b) => (b.chains[s]![0]!.receipt.index = Number.MAX_SAFE_INTEGER),
        (b) => (b.chains[s]![0]!.receipt.signature = 'AAAA'),
        (b) => (b.chains[s]![0]!.receipt.signature = Buffer.alloc(64).toString('base64')),
        (b) => ((b.chains[s]![0] as unknown as Record<string, unknown>).proof = null),
        (b) => b.chains[s]![0]!.proof.pop(),
        (b) => b.chains[s]![0]!.proof.push('00'.repeat(32)),
        (b) => (b.chains[s]![0]!.proof = Array(5000).fill('ab'.repeat(32)) as string[]),
        (b) => (b.checkpoint = b.checkpoint.replace(/^— \S+ /m, '— untrusted.example ')),
      ];
      for (const [i, mutate] of mutations.entries()) {
        const b = structuredClone(bundle) as Bundle & Record<string, unknown>;
        mutate(b);
        const res = await api.verifyBundle(pharm, b);
        // What the server parses (JSON.parse gives objects of this realm; structuredClone does not).
        if (!checkBundleFrame(JSON.parse(JSON.stringify(b)) as unknown).ok) {
          expect({ i, status: res.status }).toEqual({ i, status: 400 });
          continue;
        }
        expect({ i, status: res.status }).toEqual({ i, status: 201 });
        expect({ i, verdict: res.body.verdict }).toEqual({ i, verdict: 'reject' });
        expect(codes(res.body).length).toBeGreaterThan(0);
      }
    });

    it('refuses a bundle with an integer beyond ±(2^53−1) as 400 naming the field: it does not parse (I-JSON)', async () => {
      const text = JSON.stringify({ bundle, purpose: 'receiving' }).replace(
        /"index":(\d+)/,
        '"index":1152921504606846976',
      );
      const res = await request(world.app)
        .post('/v1/bundles/verify')
        .set('Authorization', `Bearer ${pharm.token}`)
        .set('Content-Type', 'application/json')
        .send(text)
        .expect(400);
      expect(res.body.errors[0]).toMatchObject({ rule: 'unsafe-integer' });
      expect(res.body.errors[0].path).toMatch(/^body\.bundle\.chains\[".+"\]\[\d+\]\.\w+\.index$/);
    });

    it('reports KEY_NOT_AUTHORIZED for a ship re-signed with the key of a party outside the chain', async () => {
      const b = structuredClone(bundle);
      const chain = b.chains[unit('U001')]!;
      const p = JSON.parse(fromUtf8(fromBase64(chain[1]!.envelope.payload)!)!) as Record<
        string,
        unknown
      >;
      chain[1]!.envelope = api.signRecord(
        outsider,
        {
          subject: unit('U001'),
          seq: 1,
          prev: p.prev as string,
          type: 'ship',
          data: p.data,
          time: p.time as string,
        },
        outsider.client!,
        mfr.gln,
      );
      const body = await verifyBundle(b);
      expect(codes(body)).toEqual(['KEY_NOT_AUTHORIZED', 'LOG_PROOF_INVALID', 'BUNDLE_DIVERGES']);
      expect(body.reasons[0]).toMatchObject({ subject: unit('U001'), seq: 1 });
    });

    it('reports CHAIN_BROKEN for a chain listed under the key of another subject', async () => {
      const b = structuredClone(bundle);
      b.chains[unit('U002')] = b.chains[unit('U001')]!;
      delete b.chains[unit('U001')];
      const body = await verifyBundle(b);
      expect(codes(body)).toEqual(['CHAIN_BROKEN']);
      expect(body.reasons[0].subject).toBe(unit('U002'));
    });
  });
});
