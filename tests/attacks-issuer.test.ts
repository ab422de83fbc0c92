// Issuer-side attacks of issue 10 (docs/threat-model.md T1, T2, T5-T7, T9,
// T11-T13), played through the public HTTP API against a real issuer on a
// real database (PGlite, or PostgreSQL with PROVENANT_TEST_DATABASE_URL). Each
// test failed on the code as issue 10 found it. The issuer's receipt clock is
// injectable, so "20 days later" is a clock offset, not a sleep.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  cosignCheckpoint,
  encodeNotice,
  encodeVerifierKey,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  NOTICE_PAYLOAD_TYPE,
  signEnvelope,
  toBase64,
  toBase64Url,
  unitSubject,
  type Notice,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { getLogSize } from '@provenant/store';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;
const GTIN = withCheckDigit('1061414100005');
const unit = (serial: string) => unitSubject(GTIN, serial);
const iso = (ms: number) => new Date(ms).toISOString();
const reasonCodes = (body: { reasons?: { code: string }[] }) =>
  (body.reasons ?? []).map((r) => r.code);

interface World {
  issuer: TestIssuer;
  api: Api;
  admin: string;
  mfr: Party;
  dist: Party;
  pharm: Party;
  /** Moves the issuer's receipt clock this far ahead of the wall clock (receipts never go back). */
  travel(ms: number): void;
  /** The issuer's receipt clock now. */
  now(): number;
}

/** An issuer on its own database, with a manufacturer, a distributor and a pharmacy. */
async function startWorld(): Promise<World> {
  let offset = 0;
  const issuer = await startTestIssuer({}, { now: () => Date.now() + offset });
  const api = new Api(issuer.app, issuer.adminToken);
  const mfr = await api.party(
    withCheckDigit('061414100020'),
    'Acme',
    ['manufacturer'],
    ['0614141'],
    {
      clientKey: true,
    },
  );
  const dist = await api.party(
    withCheckDigit('086000100002'),
    'Northwind',
    ['distributor'],
    ['0860001'],
  );
  const pharm = await api.party(withCheckDigit('086000200002'), 'St. Luke', ['dispenser'], [], {
    clientKey: true,
  });
  return {
    issuer,
    api,
    admin: issuer.adminToken,
    mfr,
    dist,
    pharm,
    travel: (ms) => (offset = ms),
    now: () => Date.now() + offset,
  };
}

describe('issuer-side attacks (issue 10)', () => {
  let w: World;
  let issuer: TestIssuer;
  let api: Api;
  let admin: string;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;

  /** The record `p` signs next for `subject` (client key), not posted. */
  const next = async (p: Party, subject: string, type: string, data: unknown, time: string) => {
    const h = await api.head(subject, p.token);
    return api.signRecord(p, { subject, seq: h.seq + 1, prev: h.id, type, data, time });
  };

  /** A unit commissioned by MFR, shipped to and received by PHARM. */
  const atPharmacy = async (serial: string) => {
    await api.commission(mfr, GTIN, [serial]);
    await api.handoff(mfr, pharm, [unit(serial)], `ASN-${serial}`);
    return unit(serial);
  };

  beforeAll(async () => {
    w = await startWorld();
    ({ issuer, api, admin, mfr, dist, pharm } = w);
  }, 60_000);

  afterAll(async () => {
    await issuer?.stop();
  });

  describe('backdating (T2: DESIGN §5 time)', () => {
    it('refuses a client-signed record dated more than 72 hours before its receipt (422 TIME_ANOMALY)', async () => {
      const s = await atPharmacy('BD004');
      const env = await next(
        pharm,
        s,
        'decommission',
        { reason: 'dispensed' },
        iso(Date.now() - 73 * HOUR),
      );
      const res = await api.post('/v1/records', pharm.token, env);
      expect(res.status).toBe(422);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(reasonCodes(res.body)).toEqual(['TIME_ANOMALY']);
    });

    it('refuses a client-signed record dated more than 5 minutes after its receipt (422 TIME_ANOMALY)', async () => {
      await api.commission(mfr, GTIN, ['BD005']);
      const env = await next(
        mfr,
        unit('BD005'),
        'ship',
        { to: pharm.gln, shipment: 'ASN-BD005' },
        iso(Date.now() + 10 * 60 * 1000),
      );
      const res = await api.post('/v1/records', mfr.token, env);
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['TIME_ANOMALY']);
    });

    it('refuses a record dated before the previous record of its chain (422 TIME_ANOMALY)', async () => {
      const s = await atPharmacy('BD006');
      const env = await next(
        pharm,
        s,
        'decommission',
        { reason: 'dispensed' },
        iso(Date.now() - HOUR),
      );
      const res = await api.post('/v1/records', pharm.token, env);
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['TIME_ANOMALY']);
    });
  });

  describe('overlapping company prefixes (T5, T6, T7: DESIGN §5 prefixes, ship.to)', () => {
    const party = (gln: string, prefixes: string[]) =>
      api.post('/v1/parties', admin, { gln, name: 'Copycat', roles: ['manufacturer'], prefixes });

    it('refuses (409) a prefix that is a prefix of a manufacturer prefix', async () => {
      const res = await party(withCheckDigit('099999900020'), ['061414']);
      expect(res.status).toBe(409);
      expect(res.body.errors[0]).toMatchObject({
        path: 'body.prefixes[0]',
        rule: 'prefix-overlap',
      });
      // Nothing was written: the GLN is still free.
      expect((await api.get(`/v1/parties/${withCheckDigit('099999900020')}`, admin)).status).toBe(
        404,
      );
    });

    it('refuses (409) a prefix that has a manufacturer prefix as its prefix', async () => {
      expect((await party(withCheckDigit('099999900021'), ['0999991', '06141419'])).status).toBe(
        409,
      );
    });

    it('so a copycat cannot commission or recall the manufacturer GTINs', async () => {
      // The registration that would have allowed it is refused; a non-overlapping one cannot.
      const ok = await party(withCheckDigit('099999900022'), ['0999992']);
      expect(ok.status).toBe(201);
      const key = await api.post(`/v1/parties/${withCheckDigit('099999900022')}/keys`, admin, {
        custodial: true,
      });
      expect(key.status).toBe(201);
      const tok = await api.post(`/v1/parties/${withCheckDigit('099999900022')}/tokens`, admin, {
        scopes: ['sign'],
      });
      const copycat = tok.body.token as string;
      const fake = await api.post('/v1/commissions', copycat, {
        items: [{ gtin: GTIN, serial: 'FAKE1', lot: 'L1', expiry: '2030-01-31' }],
      });
      expect(fake.status).toBe(422);
      expect((await api.post('/v1/recalls', copycat, { gtin: GTIN, reason: 'x' })).status).toBe(
        403,
      );
    });

    it('refuses (422 GENESIS_INVALID) a pallet whose SSCC is under another company prefix', async () => {
      await api.commission(mfr, GTIN, ['PF001']);
      await api.handoff(mfr, dist, [unit('PF001')], 'ASN-PF001');
      const res = await api.post('/v1/packs', dist.token, {
        parent: withCheckDigit('10614141000000077'),
        children: [unit('PF001')],
      });
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['GENESIS_INVALID']);
      // Under its own registered prefix the distributor builds the pallet.
      const own = await api.post('/v1/packs', dist.token, {
        parent: withCheckDigit('10860001000000077'),
        children: [unit('PF001')],
      });
      expect(own.status).toBe(201);
    });

    it('refuses (422 CUSTODY_VIOLATION) a shipment to an unregistered party, custodial and client-signed', async () => {
      await api.commission(mfr, GTIN, ['SV001']);
      const nobody = withCheckDigit('077777700001');
      const custodial = await api.post('/v1/shipments', mfr.token, {
        subjects: [unit('SV001')],
        to: nobody,
        shipment: 'ASN-SV001',
      });
      expect(custodial.status).toBe(422);
      expect(reasonCodes(custodial.body)).toEqual(['CUSTODY_VIOLATION']);
      const env = await next(
        mfr,
        unit('SV001'),
        'ship',
        { to: nobody, shipment: 'ASN-SV001' },
        iso(Date.now()),
      );
      const signed = await api.post('/v1/records', mfr.token, env);
      expect(signed.status).toBe(422);
      expect(reasonCodes(signed.body)).toEqual(['CUSTODY_VIOLATION']);
    });

    it('refuses (422 CUSTODY_VIOLATION) a shipment to a suspended party, custodial and client-signed', async () => {
      const held = await api.party(withCheckDigit('077777700002'), 'Held', ['distributor']);
      await api.post(`/v1/parties/${held.gln}/suspend`, admin, { reason: 'audit' }).expect(200);
      await api.commission(mfr, GTIN, ['SV002']);
      const custodial = await api.post('/v1/shipments', mfr.token, {
        subjects: [unit('SV002')],
        to: held.gln,
        shipment: 'ASN-SV002',
      });
      expect(custodial.status).toBe(422);
      expect(reasonCodes(custodial.body)).toEqual(['CUSTODY_VIOLATION']);
      const env = await next(
        mfr,
        unit('SV002'),
        'ship',
        { to: held.gln, shipment: 'ASN-SV002' },
        iso(Date.now()),
      );
      const signed = await api.post('/v1/records', mfr.token, env);
      expect(signed.status).toBe(422);
      expect(reasonCodes(signed.body)).toEqual(['CUSTODY_VIOLATION']);
    });
  });

  describe('nested containers (DESIGN §5: containers nest, a cycle is refused)', () => {
    const now = () => iso(Date.now());
    const post = (env: unknown) => api.post('/v1/records', mfr.token, env);

    it('refuses a client-signed cycle A -> B -> A, writing nothing', async () => {
      await api.commission(mfr, GTIN, ['CYA', 'CYB']);
      const [a, b] = [unit('CYA'), unit('CYB')];
      expect((await post(await next(mfr, a, 'pack', { parent: b }, now()))).status).toBe(201);
      const size = await getLogSize(issuer.db);
      const res = await post(await next(mfr, b, 'pack', { parent: a }, now()));
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['CUSTODY_VIOLATION']);
      // Nor may A, now inside B (provisionally), take B as its child.
      const back = await post(
        await next(
          mfr,
          a,
          'pack',
          { children: [{ subject: b, head: (await api.head(b, mfr.token)).id }] },
          now(),
        ),
      );
      expect(back.status).toBe(422);
      expect(await getLogSize(issuer.db)).toBe(size);
    });

    it('refuses a client-signed pallet listing a case that is inside another pallet', async () => {
      await api.commission(mfr, GTIN, ['NP001']);
      const kase = withCheckDigit('10614141000000501');
      await api.pack(mfr, kase, [unit('NP001')]);
      await api.pack(mfr, withCheckDigit('10614141000000500'), [`00/${kase}`]);
      const head = await api.head(`00/${kase}`, mfr.token);
      const env = await api.signRecord(mfr, {
        subject: `00/${withCheckDigit('10614141000000502')}`,
        seq: 0,
        prev: null,
        type: 'pack',
        data: { children: [{ subject: `00/${kase}`, head: head.id }] },
        time: now(),
      });
      const res = await post(env);
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['CUSTODY_VIOLATION']);
    });

    it('refuses a client-signed ship of a case out of its pallet without unpacking', async () => {
      await api.commission(mfr, GTIN, ['NP002']);
      const kase = `00/${withCheckDigit('10614141000000511')}`;
      await api.pack(mfr, kase, [unit('NP002')]);
      await api.pack(mfr, withCheckDigit('10614141000000510'), [kase]);
      const res = await post(
        await next(mfr, kase, 'ship', { to: dist.gln, shipment: 'ASN-NP2' }, now()),
      );
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['CUSTODY_VIOLATION']);
    });

    it('refuses packing a container the caller does not hold, custodial or client-signed', async () => {
      await api.commission(mfr, GTIN, ['NP003']);
      const kase = `00/${withCheckDigit('10614141000000521')}`;
      await api.pack(mfr, kase, [unit('NP003')]);
      const res = await api.post('/v1/packs', dist.token, {
        parent: withCheckDigit('10860001000000520'),
        children: [kase],
      });
      expect(res.status).toBe(422);
      expect(reasonCodes(res.body)).toEqual(['CUSTODY_VIOLATION']);
      // The pharmacy's own client key cannot move it into a case either.
      await api.commission(mfr, GTIN, ['NP-CASE']);
      const h = await api.head(kase, mfr.token);
      const env = await api.signRecord(pharm, {
        subject: kase,
        seq: h.seq + 1,
        prev: h.id,
        type: 'pack',
        data: { parent: unit('NP-CASE') },
        time: now(),
      });
      const signed = await api.post('/v1/records', pharm.token, env);
      expect(signed.status).toBe(422);
      expect(reasonCodes(signed.body)).toEqual(['CUSTODY_VIOLATION']);
    });
  });

  describe('witness starvation (T9: DESIGN §6)', () => {
    it('answers 403 to 1,000 cosignatures from self-made keys and still takes a registered witness', async () => {
      const note = (await request(issuer.app).get('/v1/log/checkpoint').expect(200)).text;
      const attempts = Array.from({ length: 1000 }, (_, i) => {
        const { seed, publicKey } = generateKeyPair(nodeBackend);
        const name = `sybil-${i}.example`;
        return {
          witness: encodeVerifierKey(name, publicKey, 'cosignature/v1'),
          cosignature: cosignCheckpoint(note, { name, seed }, 1_800_000_000, nodeBackend),
          checkpoint: note,
        };
      });
      for (let i = 0; i < attempts.length; i += 50) {
        const answers = await Promise.all(
          attempts
            .slice(i, i + 50)
            .map((body) => request(issuer.app).post('/v1/log/cosignatures').send(body)),
        );
        for (const a of answers) expect(a.status).toBe(403);
      }
      // A real witness, registered by the admin, cosigns the same checkpoint.
      const real = generateKeyPair(nodeBackend);
      const reg = await api.post('/v1/witnesses', admin, {
        name: 'witness.real.example',
        publicKey: toBase64Url(real.publicKey),
      });
      expect(reg.status).toBe(201);
      const line = cosignCheckpoint(
        note,
        { name: 'witness.real.example', seed: real.seed },
        1_800_000_000,
        nodeBackend,
      );
      const ok = await request(issuer.app)
        .post('/v1/log/cosignatures')
        .send({
          witness: encodeVerifierKey('witness.real.example', real.publicKey, 'cosignature/v1'),
          cosignature: line,
          checkpoint: note,
        });
      expect(ok.status).toBe(201);
      const served = (await request(issuer.app).get('/v1/log/checkpoint').expect(200)).text;
      expect(served.match(/^— /gm)!.length).toBe(2); // the log's signature and the one witness
    });

    it('refuses a registered witness name posted with another key (403)', async () => {
      const note = (await request(issuer.app).get('/v1/log/checkpoint').expect(200)).text;
      const impostor = generateKeyPair(nodeBackend);
      const res = await request(issuer.app)
        .post('/v1/log/cosignatures')
        .send({
          witness: encodeVerifierKey('witness.real.example', impostor.publicKey, 'cosignature/v1'),
          cosignature: cosignCheckpoint(
            note,
            { name: 'witness.real.example', seed: impostor.seed },
            1,
            nodeBackend,
          ),
          checkpoint: note,
        });
      expect(res.status).toBe(403);
    });

    it('registers witnesses only as admin, once per name, and lists them to anyone', async () => {
      const k = generateKeyPair(nodeBackend);
      const body = { name: 'witness.two.example', publicKey: toBase64(k.publicKey) };
      expect((await api.post('/v1/witnesses', mfr.token, body)).status).toBe(403);
      expect((await api.post('/v1/witnesses', admin, body)).status).toBe(201);
      expect((await api.post('/v1/witnesses', admin, body)).status).toBe(409);
      expect(
        (await api.post('/v1/witnesses', admin, { name: 'bad name', publicKey: body.publicKey }))
          .status,
      ).toBe(400);
      const list = await request(issuer.app).get('/v1/witnesses').expect(200);
      const two = (list.body.witnesses as { name: string }[]).find(
        (w) => w.name === 'witness.two.example',
      );
      expect(two).toEqual({
        name: 'witness.two.example',
        publicKey: toBase64Url(k.publicKey),
        keyId: encodeVerifierKey('witness.two.example', k.publicKey, 'cosignature/v1').split(
          '+',
        )[1],
        createdAt: expect.any(String),
      });
    });
  });

  describe('key abuse with a sign token (T11, T12, T13: DESIGN §5 keys and tokens)', () => {
    let signOnly: string;
    let keysToken: string;
    let keysTokenId: string;

    beforeAll(async () => {
      signOnly = (
        await api.post(`/v1/parties/${pharm.gln}/tokens`, admin, { scopes: ['sign'] }).expect(201)
      ).body.token;
      const k = await api
        .post(`/v1/parties/${pharm.gln}/tokens`, admin, { scopes: ['keys'] })
        .expect(201);
      keysToken = k.body.token;
      keysTokenId = k.body.id;
    });

    const registration = (gln: string, time = iso(Date.now())) => {
      const pair = generateKeyPair(nodeBackend);
      return { pair, body: keyRegistrationBody(gln, pair.seed, pair.publicKey, time, nodeBackend) };
    };

    it('refuses key registration and revocation with a sign token (403), allows them with keys', async () => {
      const { body } = registration(pharm.gln);
      expect((await api.post(`/v1/parties/${pharm.gln}/keys`, signOnly, body)).status).toBe(403);
      expect(
        (await api.post(`/v1/parties/${pharm.gln}/keys`, signOnly, { custodial: true })).status,
      ).toBe(403);
      const reg = await api.post(`/v1/parties/${pharm.gln}/keys`, keysToken, body);
      expect(reg.status).toBe(201);
      const revoke = { compromisedAt: iso(Date.now()), reason: 'test' };
      expect((await api.post(`/v1/keys/${reg.body.kid}/revoke`, signOnly, revoke)).status).toBe(
        403,
      );
      expect((await api.post(`/v1/keys/${reg.body.kid}/revoke`, keysToken, revoke)).status).toBe(
        200,
      );
    });

    it('refuses a key without proof of possession (400), and proofs for another key, party or time (422)', async () => {
      const { pair, body } = registration(pharm.gln);
      const url = `/v1/parties/${pharm.gln}/keys`;
      const noProof = await api.post(url, admin, { publicKey: body.publicKey });
      expect(noProof.status).toBe(400);
      // Someone else's public key with a proof made by the attacker's own key.
      const mine = registration(pharm.gln);
      const stolen = await api.post(url, admin, { ...mine.body, publicKey: body.publicKey });
      expect(stolen.status).toBe(422);
      expect(stolen.body.errors[0]).toMatchObject({
        path: 'body.proof',
        rule: 'proof-of-possession',
      });
      // A genuine proof made for another party.
      const other = keyRegistrationBody(mfr.gln, pair.seed, pair.publicKey, body.time, nodeBackend);
      expect((await api.post(url, admin, other)).status).toBe(422);
      // A proof made an hour ago (replayed).
      const old = registration(pharm.gln, iso(Date.now() - HOUR));
      const stale = await api.post(url, admin, old.body);
      expect(stale.status).toBe(422);
      expect(stale.body.errors[0]).toMatchObject({ path: 'body.time' });
      // The time in the body differs from the one signed.
      expect((await api.post(url, admin, { ...body, time: iso(Date.now() + 1000) })).status).toBe(
        422,
      );
      expect((await api.post(url, admin, body)).status).toBe(201);
    });

    it('refuses compromisedAt before the key was registered or in the future (422), on the revoke route', async () => {
      const { body } = registration(pharm.gln);
      const reg = await api.post(`/v1/parties/${pharm.gln}/keys`, keysToken, body).expect(201);
      const url = `/v1/keys/${reg.body.kid}/revoke`;
      for (const compromisedAt of [
        '2000-01-01T00:00:00Z',
        '2099-01-01T00:00:00Z',
        iso(Date.now() - HOUR),
      ]) {
        const res = await api.post(url, admin, { compromisedAt, reason: 'grief' });
        expect(res.status).toBe(422);
        expect(res.body.errors[0].path).toBe('body.compromisedAt');
      }
      expect(
        (await api.get(`/v1/parties/${pharm.gln}`, admin)).body.keys.find(
          (k: { kid: string }) => k.kid === reg.body.kid,
        ).status,
      ).toBe('active');
    });

    it('refuses compromisedAt out of bounds in a client-signed key-revoke (422), and a key-revoke without keys scope (403)', async () => {
      const target = pharm.client!;
      const helper = registration(pharm.gln);
      await api.post(`/v1/parties/${pharm.gln}/keys`, keysToken, helper.body).expect(201);
      const revokeNotice = (compromisedAt: string) => {
        const notice = {
          v: 1,
          type: 'key-revoke',
          actor: pharm.gln,
          kid: keyId(helper.pair.publicKey),
          time: iso(Date.now()),
          data: { kid: target.kid, compromisedAt, reason: 'grief' },
        } as Notice;
        return signEnvelope(
          NOTICE_PAYLOAD_TYPE,
          encodeNotice(notice),
          helper.pair.seed,
          nodeBackend,
        );
      };
      const signAndKeys = (
        await api
          .post(`/v1/parties/${pharm.gln}/tokens`, admin, { scopes: ['sign', 'keys'] })
          .expect(201)
      ).body.token as string;
      expect(
        (await api.post('/v1/records', pharm.token, revokeNotice(iso(Date.now())))).status,
      ).toBe(403);
      for (const at of ['2000-01-01T00:00:00.000Z', '2099-01-01T00:00:00.000Z']) {
        const res = await api.post('/v1/records', signAndKeys, revokeNotice(at));
        expect(res.status).toBe(422);
        expect(res.body.errors[0].path).toBe('body.payload.data.compromisedAt');
      }
      expect(
        (await api.get(`/v1/parties/${pharm.gln}`, admin)).body.keys.find(
          (k: { kid: string }) => k.kid === target.kid,
        ).status,
      ).toBe('active');
    });

    it('lists a party token ids and scopes without secrets, to admin or the party with keys only', async () => {
      const url = `/v1/parties/${pharm.gln}/tokens`;
      expect((await api.get(url, signOnly)).status).toBe(403);
      expect((await api.get(url, mfr.token)).status).toBe(403);
      const res = await api.get(url, keysToken);
      expect(res.status).toBe(200);
      const mine = (res.body.tokens as { id: string; lastUsedAt: string | null }[]).find(
        (t) => t.id === keysTokenId,
      );
      expect(mine).toMatchObject({
        id: keysTokenId,
        scopes: ['keys'],
        createdAt: expect.any(String),
      });
      // This very request used it: lastUsedAt is set (written at most once a minute).
      expect(typeof mine!.lastUsedAt).toBe('string');
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(keysToken);
      expect(text).not.toContain(signOnly);
      expect(Object.keys(mine!).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'scopes']);
    });

    it('revokes a stolen token at once (401 on its next request), by the party with keys or the admin', async () => {
      const stolen = await api
        .post(`/v1/parties/${pharm.gln}/tokens`, admin, { scopes: ['sign', 'verify'] })
        .expect(201);
      expect((await api.get(`/v1/parties/${pharm.gln}`, stolen.body.token)).status).toBe(200);
      expect((await api.post(`/v1/tokens/${stolen.body.id}/revoke`, signOnly, {})).status).toBe(
        403,
      );
      expect((await api.post(`/v1/tokens/${stolen.body.id}/revoke`, mfr.token, {})).status).toBe(
        404,
      );
      const res = await api.post(`/v1/tokens/${stolen.body.id}/revoke`, keysToken, {});
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: stolen.body.id, revokedAt: expect.any(String) });
      expect((await api.get(`/v1/parties/${pharm.gln}`, stolen.body.token)).status).toBe(401);
      expect((await api.post(`/v1/tokens/${stolen.body.id}/revoke`, admin, {})).status).toBe(409);
    });
  });
});

describe('backdating across days (T1: the 10-day reactivation window, DESIGN §5)', () => {
  // Its own issuer: the receipt clock only moves forward, so these tests travel in order.
  let w: World;
  const ids = new Map<string, string>();

  const reactivate = async (serial: string, time: number) => {
    const s = unit(serial);
    const h = await w.api.head(s, w.pharm.token);
    const env = w.api.signRecord(w.pharm, {
      subject: s,
      seq: h.seq + 1,
      prev: h.id,
      type: 'reactivate',
      data: { undo: ids.get(serial) },
      time: iso(time),
    });
    return w.api.post('/v1/records', w.pharm.token, env);
  };

  beforeAll(async () => {
    w = await startWorld();
    const serials = ['BD001', 'BD002', 'BD003'];
    await w.api.commission(w.mfr, GTIN, [...serials, 'BD007']);
    await w.api.handoff(w.mfr, w.pharm, serials.map(unit), 'ASN-BD');
    const d = await w.api.decommission(w.pharm, serials.map(unit), 'dispensed');
    for (const r of d.body.records as { subject: string; id: string }[])
      ids.set(serials[serials.map(unit).indexOf(r.subject)]!, r.id);
  }, 60_000);

  afterAll(async () => {
    await w?.issuer.stop();
  });

  it('still lets the dispenser undo its own mistake within 10 days of the logged dispense', async () => {
    w.travel(9 * DAY);
    expect((await reactivate('BD003', w.now())).status).toBe(201);
  });

  it('refuses a reactivate logged 11 days after the dispense even when dated within the backdate allowance (CUSTODY_VIOLATION: the window runs on receipt times)', async () => {
    w.travel(11 * DAY);
    // 48 h before its receipt: allowed by PROVENANT_MAX_BACKDATE, and 9 days after the dispense.
    const res = await reactivate('BD002', w.now() - 48 * HOUR);
    expect(res.status).toBe(422);
    expect(reasonCodes(res.body)).toEqual(['CUSTODY_VIOLATION']);
  });

  it('refuses a reactivate dated inside the 10-day window 20 days after the dispense (422 TIME_ANOMALY)', async () => {
    w.travel(20 * DAY);
    // The attack of issue 10 #1: signed as if 5 days after the dispense.
    const res = await reactivate('BD001', Date.now() + 5 * DAY);
    expect(res.status).toBe(422);
    expect(reasonCodes(res.body)).toEqual(['TIME_ANOMALY']);
  });

  it('bounds custodial writes too: records dated by a clock days behind the log clock are refused', async () => {
    // The custodial signer dates records by the wall clock, now 20 days behind the receipts.
    const res = await w.api.post('/v1/shipments', w.mfr.token, {
      subjects: [unit('BD007')],
      to: w.pharm.gln,
      shipment: 'ASN-BD007',
    });
    expect(res.status).toBe(422);
    expect(reasonCodes(res.body)).toEqual(['TIME_ANOMALY']);
  });
});
