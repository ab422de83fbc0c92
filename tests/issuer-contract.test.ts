// The issuer as an outside client reads DESIGN §4, §5, §8 and §8a, on a real
// database (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set):
// client-signed notices through POST /v1/records, Idempotency-Key on the same
// JSON body re-serialised, subjects sent as one percent-encoded path segment,
// and expiry in its AI 17 form on custodial commissions. Everything goes
// through the registry endpoints and HTTP, as an integrator's calls would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  encodeRecord,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  NOTICE_PAYLOAD_TYPE,
  RECORD_PAYLOAD_TYPE,
  sha256Hex,
  signEnvelope,
  unitSubject,
  canonicalBytes,
  type CustodyRecord,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { getLogSize } from '@provenant/store';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100030');
const DIST = withCheckDigit('061414100031');
const GTIN = withCheckDigit('1061414100030');
const FOREIGN_GTIN = withCheckDigit('1099999900030');

type Pair = { seed: Uint8Array; publicKey: Uint8Array };

let serials = 0;
const now = () => new Date().toISOString();
const signRecord = (r: CustodyRecord, key: Pair): Envelope =>
  signEnvelope(RECORD_PAYLOAD_TYPE, encodeRecord(r), key.seed, nodeBackend);
const signNotice = (n: Record<string, unknown>, key: Pair): Envelope =>
  signEnvelope(NOTICE_PAYLOAD_TYPE, canonicalBytes(n), key.seed, nodeBackend);
const noticeId = (n: Record<string, unknown>) => sha256Hex(canonicalBytes(n));

describe('the issuer contract seen from outside', () => {
  let issuer: TestIssuer;
  let mfrToken: string;
  let distToken: string;
  let mfrKey: Pair;

  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const post = (path: string, token: string, body: unknown, headers: Record<string, string> = {}) =>
    request(issuer.app)
      .post(path)
      .set({ ...auth(token), ...headers })
      .send(body as object);
  const get = (path: string, token: string) => request(issuer.app).get(path).set(auth(token));
  const size = () => getLogSize(issuer.db);

  async function party(gln: string, roles: string[], prefixes: string[]): Promise<string> {
    await post('/v1/parties', issuer.adminToken, {
      gln,
      name: `Party ${gln}`,
      roles,
      prefixes,
    }).expect(201);
    return (
      await post(`/v1/parties/${gln}/tokens`, issuer.adminToken, {
        scopes: ['sign', 'keys'],
      }).expect(201)
    ).body.token as string;
  }

  async function addKey(gln: string, token: string): Promise<Pair> {
    const key = generateKeyPair(nodeBackend);
    await post(
      `/v1/parties/${gln}/keys`,
      token,
      keyRegistrationBody(gln, key.seed, key.publicKey, now(), nodeBackend),
    ).expect(201);
    return key;
  }

  function commission(key: Pair, serial = `N${++serials}`): CustodyRecord {
    return {
      v: 1,
      subject: unitSubject(GTIN, serial),
      seq: 0,
      prev: null,
      type: 'commission',
      actor: MFR,
      kid: keyId(key.publicKey),
      time: now(),
      data: { gtin: GTIN, serial, lot: 'LOT1', expiry: '2030-12-31' },
    } as CustodyRecord;
  }

  const recall = (key: Pair, gtin = GTIN) => ({
    v: 1,
    type: 'recall',
    actor: MFR,
    kid: keyId(key.publicKey),
    time: now(),
    data: { gtin, lot: 'LOT1', reason: 'contamination' },
  });

  const keyRevoke = (signer: Pair, target: Pair) => ({
    v: 1,
    type: 'key-revoke',
    actor: MFR,
    kid: keyId(signer.publicKey),
    time: now(),
    data: {
      kid: keyId(target.publicKey),
      // DESIGN §5: between the key's registration receipt time and now.
      compromisedAt: now(),
      reason: 'laptop stolen',
    },
  });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    mfrToken = await party(MFR, ['manufacturer'], ['0614141']);
    distToken = await party(DIST, ['distributor'], []);
    mfrKey = await addKey(MFR, mfrToken);
    await post(`/v1/parties/${MFR}/keys`, mfrToken, { custodial: true }).expect(201);
  });

  afterAll(async () => {
    await issuer?.stop();
  });

  describe('when a party is registered without prefixes', () => {
    it('registers it as owning no company prefix', async () => {
      const gln = withCheckDigit('061414100032');
      const res = await post('/v1/parties', issuer.adminToken, {
        gln,
        name: 'Clinic',
        roles: ['dispenser'],
      }).expect(201);
      expect(res.body).toMatchObject({ gln, prefixes: [], status: 'active' });
    });
  });

  describe('when a non-custodial party posts a notice envelope to POST /v1/records', () => {
    it('logs a recall signed by the GTIN manufacturer and answers 201 with {id, receipt}', async () => {
      const n = recall(mfrKey);
      const before = await size();
      const res = await post('/v1/records', mfrToken, signNotice(n, mfrKey)).expect(201);
      expect(Object.keys(res.body).sort()).toEqual(['id', 'receipt']);
      expect(res.body.id).toBe(noticeId(n));
      expect(res.body.receipt.index).toBe(before);
      expect(await size()).toBe(before + 1);
    });

    it('answers the same notice sent again with its stored result and logs nothing', async () => {
      const env = signNotice(recall(mfrKey), mfrKey);
      const first = await post('/v1/records', mfrToken, env).expect(201);
      const before = await size();
      const again = await post('/v1/records', mfrToken, env).expect(200);
      expect(again.body).toEqual(first.body);
      expect(await size()).toBe(before);
    });

    it('refuses a recall of a GTIN the signer does not own with 403 and logs nothing', async () => {
      const before = await size();
      const res = await post(
        '/v1/records',
        mfrToken,
        signNotice(recall(mfrKey, FOREIGN_GTIN), mfrKey),
      );
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(await size()).toBe(before);
    });

    it('refuses a notice of another party with 403', async () => {
      const res = await post('/v1/records', distToken, signNotice(recall(mfrKey), mfrKey));
      expect(res.status).toBe(403);
    });

    it('revokes a key with a key-revoke signed by another key of the party, in the registry too', async () => {
      const victim = await addKey(MFR, mfrToken);
      const n = keyRevoke(mfrKey, victim);
      const res = await post('/v1/records', mfrToken, { envelopes: [signNotice(n, mfrKey)] });
      expect(res.status).toBe(201);
      expect(res.body.records[0].id).toBe(noticeId(n));
      const view = await get(`/v1/parties/${MFR}`, distToken).expect(200);
      const key = (
        view.body.keys as { kid: string; status: string; compromisedAt?: string }[]
      ).find((k) => k.kid === keyId(victim.publicKey));
      expect(key).toMatchObject({ status: 'revoked', compromisedAt: n.data.compromisedAt });
      // The receipt time is after compromisedAt: the revoked key signs nothing more (DESIGN §6).
      const refused = await post('/v1/records', mfrToken, signRecord(commission(victim), victim));
      expect(refused.status).toBe(422);
      expect(refused.body.reasons[0].code).toBe('KEY_REVOKED');
      // Sent again: the stored result, not a conflict.
      await post('/v1/records', mfrToken, signNotice(n, mfrKey)).expect(200);
    });

    it('refuses a key-revoke signed by the key it revokes with 422 KEY_NOT_AUTHORIZED', async () => {
      const victim = await addKey(MFR, mfrToken);
      const before = await size();
      const res = await post(
        '/v1/records',
        mfrToken,
        signNotice(keyRevoke(victim, victim), victim),
      );
      expect(res.status).toBe(422);
      expect(res.body.reasons[0].code).toBe('KEY_NOT_AUTHORIZED');
      expect(await size()).toBe(before);
    });

    it('answers 409 to a second revocation of a revoked key', async () => {
      const victim = await addKey(MFR, mfrToken);
      await post('/v1/records', mfrToken, signNotice(keyRevoke(mfrKey, victim), mfrKey)).expect(
        201,
      );
      const before = await size();
      const again = { ...keyRevoke(mfrKey, victim), time: new Date(Date.now() + 1).toISOString() };
      const res = await post('/v1/records', mfrToken, signNotice(again, mfrKey));
      expect(res.status).toBe(409);
      expect(await size()).toBe(before);
    });

    it('refuses a mixed batch whose notice breaks a rule, naming its entry, and logs nothing', async () => {
      const victim = await addKey(MFR, mfrToken);
      const before = await size();
      const res = await post('/v1/records', mfrToken, {
        envelopes: [
          signRecord(commission(mfrKey), mfrKey),
          signNotice(keyRevoke(victim, victim), victim),
        ],
      });
      expect(res.status).toBe(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'KEY_NOT_AUTHORIZED', entry: 1 });
      expect(await size()).toBe(before);
    });

    it('appends a mixed batch of a record and a notice in request order', async () => {
      const res = await post('/v1/records', mfrToken, {
        envelopes: [signRecord(commission(mfrKey), mfrKey), signNotice(recall(mfrKey), mfrKey)],
      }).expect(201);
      expect(res.body.records).toHaveLength(2);
      expect(res.body.records[0]).toMatchObject({ seq: 0 });
      expect(Object.keys(res.body.records[1]).sort()).toEqual(['id', 'receipt']);
      expect(res.body.records[1].receipt.index).toBe(res.body.records[0].receipt.index + 1);
    });
  });

  describe('when an Idempotency-Key comes back with the same JSON re-serialised', () => {
    it('replays the stored answer instead of calling it a different request', async () => {
      const env = signRecord(commission(mfrKey), mfrKey);
      const key = `same-json-${serials}`;
      const first = await post('/v1/records', mfrToken, env, { 'Idempotency-Key': key }).expect(
        201,
      );
      const reordered = JSON.stringify(
        { signatures: env.signatures, payload: env.payload, payloadType: env.payloadType },
        null,
        2,
      );
      const res = await request(issuer.app)
        .post('/v1/records')
        .set({ ...auth(mfrToken), 'Idempotency-Key': key, 'Content-Type': 'application/json' })
        .send(reordered);
      expect(res.status).toBe(201);
      expect(res.headers['idempotent-replayed']).toBe('true');
      expect(res.body).toEqual(first.body);
    });

    it('still answers 422 when the body differs', async () => {
      const key = `different-json-${serials}`;
      await post('/v1/records', mfrToken, signRecord(commission(mfrKey), mfrKey), {
        'Idempotency-Key': key,
      }).expect(201);
      const before = await size();
      const res = await post('/v1/records', mfrToken, signRecord(commission(mfrKey), mfrKey), {
        'Idempotency-Key': key,
      });
      expect(res.status).toBe(422);
      expect(res.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
      expect(await size()).toBe(before);
    });
  });

  describe('when a subject is sent as one percent-encoded path segment', () => {
    it('serves the chain and the bundle as for the Digital Link path', async () => {
      const r = commission(mfrKey, 'A/1');
      await post('/v1/records', mfrToken, signRecord(r, mfrKey)).expect(201);
      const encoded = encodeURIComponent(r.subject); // 01%2F…%2F21%2FA%252F1
      const chain = await get(`/v1/chains/${encoded}`, mfrToken).expect(200);
      expect(chain.body.subject).toBe(r.subject);
      const byPath = await get(`/v1/chains/${r.subject}`, mfrToken).expect(200);
      expect(chain.body).toEqual(byPath.body);
      const bundle = await get(`/v1/bundles/${encoded}`, mfrToken).expect(200);
      // DESIGN §6a: a party outside the chain gets the 404 of an unknown subject.
      await get(`/v1/chains/${encoded}`, distToken).expect(404);
      expect(bundle.body.subject).toBe(r.subject);
    });

    it('answers 400 naming params.subject for a segment that is no subject', async () => {
      const res = await get('/v1/chains/not-a-subject', distToken);
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path).toBe('params.subject');
    });
  });

  describe('when a custodial commission gives the expiry as AI 17 prints it', () => {
    it('stores YYMMDD as YYYY-MM-DD, day 00 as the last day of the month', async () => {
      const res = await post('/v1/commissions', mfrToken, {
        items: [{ gtin: GTIN, serial: 'AI17-1', lot: 'LOT1', expiry: '280200' }],
      }).expect(201);
      const chain = await get(`/v1/chains/${res.body.records[0].subject}`, mfrToken).expect(200);
      expect(chain.body.records[0].data.expiry).toBe('2028-02-29');
    });

    it('answers 400 naming the field for a YYMMDD that is no date', async () => {
      const before = await size();
      const res = await post('/v1/commissions', mfrToken, {
        items: [{ gtin: GTIN, serial: 'AI17-2', lot: 'LOT1', expiry: '281301' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.items[0].expiry', rule: 'date' });
      expect(await size()).toBe(before);
    });
  });
});
