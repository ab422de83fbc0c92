// Client-signed records, chains and offline bundles through HTTP (DESIGN §5,
// §7, §8, §8a) on a real database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set). Parties, keys and tokens are set up
// through the registry endpoints; records are signed here, as a client would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  encodeRecord,
  sha256Hex,
  fromBase64,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  RECORD_PAYLOAD_TYPE,
  signEnvelope,
  toBase64,
  toBase64Url,
  unitSubject,
  containerSubject,
  utf8,
  bundleSchema,
  verifyBundle,
  type CustodyRecord,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { getLogSize } from '@provenant/store';
import { authorityKey, verifyReceipt } from '@provenant/issuer';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100020');
const DIST = withCheckDigit('061414100021');
const OTHER = withCheckDigit('061414100022');
const GTIN = withCheckDigit('1061414100020');
const EXPIRY = '2030-12-31';

type Pair = { seed: Uint8Array; publicKey: Uint8Array };
interface Actor {
  gln: string;
  key: Pair;
  token: string;
}
interface Appended {
  id: string;
  subject: string;
  seq: number;
  receipt: { index: number; leafHash: string; integratedAt: string; signature: string };
}

let serials = 0;
const now = () => new Date().toISOString();

function sign(record: CustodyRecord, key: Pair): Envelope {
  return signEnvelope(RECORD_PAYLOAD_TYPE, encodeRecord(record), key.seed, nodeBackend);
}

function base(
  actor: Actor,
  subject: string,
  after: Appended | null,
): Omit<CustodyRecord, 'type' | 'data'> {
  return {
    v: 1,
    subject,
    seq: after ? after.seq + 1 : 0,
    prev: after ? after.id : null,
    actor: actor.gln,
    kid: keyId(actor.key.publicKey),
    time: now(),
  } as Omit<CustodyRecord, 'type' | 'data'>;
}

function commission(actor: Actor, serial = `U${++serials}`, key: Pair = actor.key): CustodyRecord {
  return {
    ...base(actor, unitSubject(GTIN, serial), null),
    kid: keyId(key.publicKey),
    type: 'commission',
    data: { gtin: GTIN, serial, lot: 'LOT1', expiry: EXPIRY },
  } as CustodyRecord;
}

const ship = (actor: Actor, after: Appended, to: string, shipment: string): CustodyRecord =>
  ({ ...base(actor, after.subject, after), type: 'ship', data: { to, shipment } }) as CustodyRecord;

const receive = (actor: Actor, after: Appended, from: string, shipment: string): CustodyRecord =>
  ({
    ...base(actor, after.subject, after),
    type: 'receive',
    data: { from, shipment, condition: 'ok' },
  }) as CustodyRecord;

/** The Digital Link path of a subject for /v1/chains and /v1/bundles. */
const path = (kind: 'chains' | 'bundles', subject: string) => `/v1/${kind}/${subject}`;

describe('client-signed records, chains and bundles', () => {
  let issuer: TestIssuer;
  let mfr: Actor;
  let dist: Actor;
  let other: Actor;
  let verifyOnly: string;

  const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
  const post = (token: string | null, body: unknown, headers: Record<string, string> = {}) =>
    request(issuer.app)
      .post('/v1/records')
      .set(token ? { ...auth(token), ...headers } : headers)
      .send(body as object);
  const get = (p: string, token: string) => request(issuer.app).get(p).set(auth(token));
  const size = () => getLogSize(issuer.db);

  /** Appends one record through HTTP and expects 201. */
  async function append(actor: Actor, record: CustodyRecord): Promise<Appended> {
    const res = await post(actor.token, sign(record, actor.key));
    if (res.status !== 201) throw new Error(`expected 201, got ${res.status}: ${res.text}`);
    return res.body as Appended;
  }

  async function party(gln: string, roles: string[], prefixes: string[]): Promise<Actor> {
    const admin = issuer.adminToken;
    await request(issuer.app)
      .post('/v1/parties')
      .set(auth(admin))
      .send({ gln, name: `Party ${gln}`, roles, prefixes })
      .expect(201);
    const key = generateKeyPair(nodeBackend);
    await request(issuer.app)
      .post(`/v1/parties/${gln}/keys`)
      .set(auth(admin))
      .send(
        keyRegistrationBody(gln, key.seed, key.publicKey, new Date().toISOString(), nodeBackend),
      )
      .expect(201);
    const token = (
      await request(issuer.app)
        .post(`/v1/parties/${gln}/tokens`)
        .set(auth(admin))
        .send({ scopes: ['sign', 'verify', 'keys'] })
        .expect(201)
    ).body.token as string;
    return { gln, key, token };
  }

  const trust = () => ({
    logKey: issuer.deps.logKeys.vkey,
    authorityKey: toBase64Url(authorityKey(issuer.config.masterKey).publicKey),
  });

  beforeAll(async () => {
    issuer = await startTestIssuer();
    mfr = await party(MFR, ['manufacturer'], ['0614141']);
    dist = await party(DIST, ['distributor'], []);
    other = await party(OTHER, ['distributor'], []);
    verifyOnly = (
      await request(issuer.app)
        .post(`/v1/parties/${DIST}/tokens`)
        .set(auth(issuer.adminToken))
        .send({ scopes: ['verify'] })
    ).body.token as string;
  });
  afterAll(async () => {
    await issuer?.stop();
  });

  describe('a client-signed handoff', () => {
    it('commissions, ships and receives through POST /v1/records, and the chain shows it', async () => {
      const c = await append(mfr, commission(mfr));
      expect(c).toMatchObject({ subject: unitSubject(GTIN, `U${serials}`), seq: 0 });
      expect(verifyReceipt(c.receipt, issuer.deps.logKeys.publicKey)).toBe(true);
      const s = await append(mfr, ship(mfr, c, DIST, 'SH-1'));
      const moving = (await get(path('chains', c.subject), dist.token).expect(200)).body;
      expect(moving).toMatchObject({ status: 'in_transit', custodian: MFR });
      const sent = sign(receive(dist, s, MFR, 'SH-1'), dist.key);
      const r = (await post(dist.token, sent).expect(201)).body as Appended;
      expect(r.seq).toBe(2);

      // DESIGN §6a: a party outside the chain gets 404; the receiving party reads it.
      await get(path('chains', c.subject), other.token).expect(404);
      const chain = (await get(path('chains', c.subject), dist.token).expect(200)).body;
      expect(chain).toMatchObject({ subject: c.subject, status: 'active', custodian: DIST });
      expect(chain.records.map((x: { id: string }) => x.id)).toEqual([c.id, s.id, r.id]);
      expect(chain.records[1]).toMatchObject({
        seq: 1,
        type: 'ship',
        actor: MFR,
        data: { to: DIST, shipment: 'SH-1' },
        receipt: s.receipt,
      });
      expect(chain.records[2].envelope).toEqual(sent);
      for (const rec of chain.records)
        expect(verifyReceipt(rec.receipt, issuer.deps.logKeys.publicKey)).toBe(true);
    });

    it('serves a bundle that the verification engine accepts for the receiving party', async () => {
      const c = await append(mfr, commission(mfr));
      const s = await append(mfr, ship(mfr, c, DIST, 'SH-2'));
      await append(dist, receive(dist, s, MFR, 'SH-2'));
      const res = await get(path('bundles', c.subject), dist.token).expect(200);
      const bundle = res.body;
      expect(bundleSchema.safeParse(bundle).success).toBe(true);
      expect(Object.keys(bundle.chains)).toEqual([c.subject]);
      expect(bundle.chains[c.subject]).toHaveLength(3);
      // Party and key registrations of both actors.
      expect(bundle.notices.length).toBeGreaterThanOrEqual(4);
      const result = verifyBundle(
        bundle,
        trust(),
        { purpose: 'receiving', party: DIST, now: now() },
        nodeBackend,
      );
      expect(result.reasons).toEqual([]);
      expect(result).toMatchObject({ verdict: 'accept', status: 'active', custodian: DIST });
      // Another party that was never shipped to is told so.
      const elsewhere = verifyBundle(
        bundle,
        trust(),
        { purpose: 'receiving', party: OTHER, now: now() },
        nodeBackend,
      );
      expect(elsewhere.reasons.map((x) => x.code)).toEqual(['NOT_SHIPPED_TO_YOU']);
    });

    it('accepts an envelope in URL-safe unpadded base64 (DSSE allows either) and its bundle verifies', async () => {
      const urlSafe = (b64: string) =>
        b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const record = commission(mfr);
      const env = sign(record, mfr.key);
      const res = await post(mfr.token, {
        ...env,
        payload: urlSafe(env.payload),
        signatures: [{ keyid: env.signatures[0]!.keyid, sig: urlSafe(env.signatures[0]!.sig) }],
      });
      expect(res.status).toBe(201);
      expect(res.body.id).toBe(sha256Hex(encodeRecord(record)));
      const bundle = (await get(path('bundles', record.subject), mfr.token).expect(200)).body;
      const result = verifyBundle(
        bundle,
        trust(),
        { purpose: 'receiving', party: MFR, now: now() },
        nodeBackend,
      );
      expect(result.reasons).toEqual([]);
      expect(result.verdict).toBe('accept');
    });

    it('accepts a batch of three, all-or-nothing, and answers {records}', async () => {
      const a = commission(mfr);
      const b = commission(mfr);
      const c = commission(mfr);
      const res = await post(mfr.token, { envelopes: [a, b, c].map((x) => sign(x, mfr.key)) });
      expect(res.status).toBe(201);
      expect(res.body.records.map((x: Appended) => x.subject)).toEqual([
        a.subject,
        b.subject,
        c.subject,
      ]);
      const indexes = res.body.records.map((x: Appended) => x.receipt.index);
      expect(indexes[1] - indexes[0]).toBe(1);
    });
  });

  describe('logistic units', () => {
    it('packs units into an SSCC, ships and receives it; units show as contained, held by the receiver', async () => {
      const u1 = await append(mfr, commission(mfr));
      const u2 = await append(mfr, commission(mfr));
      const sscc = containerSubject(withCheckDigit('00614141000000001'));
      const p1 = await append(mfr, {
        ...base(mfr, u1.subject, u1),
        type: 'pack',
        data: { parent: sscc },
      } as CustodyRecord);
      const p2 = await append(mfr, {
        ...base(mfr, u2.subject, u2),
        type: 'pack',
        data: { parent: sscc },
      } as CustodyRecord);
      const box = await append(mfr, {
        ...base(mfr, sscc, null),
        type: 'pack',
        data: {
          children: [
            { subject: u1.subject, head: p1.id },
            { subject: u2.subject, head: p2.id },
          ],
        },
      } as CustodyRecord);
      const s = await append(mfr, ship(mfr, box, DIST, 'SH-P'));
      const unitInTransit = (await get(path('chains', u1.subject), dist.token).expect(200)).body;
      expect(unitInTransit).toMatchObject({ status: 'in_transit', custodian: MFR });
      await append(dist, receive(dist, s, MFR, 'SH-P'));

      const unit = (await get(path('chains', u1.subject), dist.token).expect(200)).body;
      expect(unit).toMatchObject({ status: 'contained', custodian: DIST });
      const pallet = (await get(path('chains', sscc), dist.token).expect(200)).body;
      expect(pallet).toMatchObject({ status: 'active', custodian: DIST });

      const containerBundle = (await get(path('bundles', sscc), dist.token).expect(200)).body;
      expect(Object.keys(containerBundle.chains).sort()).toEqual(
        [sscc, u1.subject, u2.subject].sort(),
      );
      const v = verifyBundle(
        containerBundle,
        trust(),
        { purpose: 'receiving', party: DIST, now: now() },
        nodeBackend,
      );
      expect(v.reasons).toEqual([]);
      expect(v.verdict).toBe('accept');
      expect(v.units?.total).toBe(2);

      const unitBundle = (await get(path('bundles', u1.subject), dist.token).expect(200)).body;
      expect(Object.keys(unitBundle.chains).sort()).toEqual([sscc, u1.subject].sort());
      const vu = verifyBundle(
        unitBundle,
        trust(),
        { purpose: 'receiving', party: DIST, now: now() },
        nodeBackend,
      );
      expect(vu.reasons).toEqual([]);
      expect(vu).toMatchObject({ verdict: 'accept', custodian: DIST });
    });
  });

  describe('refusals', () => {
    it('refuses a forged signature with 422 SIGNATURE_INVALID', async () => {
      const env = sign(commission(mfr), mfr.key);
      const sig = fromBase64(env.signatures[0]!.sig)!;
      sig[5]! ^= 0x01;
      const res = await post(mfr.token, {
        ...env,
        signatures: [{ ...env.signatures[0]!, sig: toBase64(sig) }],
      });
      expect(res.status).toBe(422);
      expect(res.body.reasons[0].code).toBe('SIGNATURE_INVALID');
    });

    it('refuses a payload edited after signing with 422 SIGNATURE_INVALID', async () => {
      const record = commission(mfr);
      const env = sign(record, mfr.key);
      const edited = {
        ...record,
        data: { ...(record.data as object), lot: 'LOT9' },
      } as CustodyRecord;
      const res = await post(mfr.token, { ...env, payload: toBase64(encodeRecord(edited)) });
      expect(res.status).toBe(422);
      expect(res.body.reasons[0].code).toBe('SIGNATURE_INVALID');
    });

    it.each([
      [
        'missing signatures',
        (e: Envelope) => ({ payloadType: e.payloadType, payload: e.payload }),
        'body.signatures',
      ],
      [
        'bad base64 payload',
        (e: Envelope) => ({ ...e, payload: e.payload.slice(0, -2) + '*=' }),
        'body.payload',
      ],
      ['an unknown field', (e: Envelope) => ({ ...e, note: 'x' }), 'body.note'],
      [
        'a non-canonical payload',
        (e: Envelope) => ({
          ...e,
          payload: toBase64(
            utf8(
              JSON.stringify(JSON.parse(new TextDecoder().decode(fromBase64(e.payload)!)), null, 1),
            ),
          ),
        }),
        'body.payload',
      ],
    ])('answers 400 naming the field for %s', async (_what, mutate, field) => {
      const before = await size();
      const res = await post(mfr.token, mutate(sign(commission(mfr), mfr.key)));
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path.startsWith(field)).toBe(true);
      expect(await size()).toBe(before);
    });

    it('refuses a record of another party (403), no token (401) and a verify-only token (403)', async () => {
      const env = sign(commission(mfr), mfr.key);
      expect((await post(dist.token, env)).status).toBe(403);
      expect((await post(null, env)).status).toBe(401);
      const res = await post(verifyOnly, env);
      expect(res.status).toBe(403);
      expect(res.body.type).toBe('urn:provenant:problem:insufficient-scope');
    });

    it('refuses unknown keys, keys of another party, and a commission by a distributor', async () => {
      const stranger = generateKeyPair(nodeBackend);
      const unknown = await post(mfr.token, sign(commission(mfr, undefined, stranger), stranger));
      expect(unknown.status).toBe(422);
      expect(unknown.body.reasons[0].code).toBe('KEY_UNKNOWN');
      const borrowed = await post(mfr.token, sign(commission(mfr, undefined, dist.key), dist.key));
      expect(borrowed.status).toBe(422);
      expect(borrowed.body.reasons[0].code).toBe('KEY_NOT_AUTHORIZED');
      const genesis = await post(dist.token, sign(commission(dist), dist.key));
      expect(genesis.status).toBe(422);
      expect(genesis.body.reasons[0].code).toBe('GENESIS_INVALID');
    });

    it('refuses a record for a unit in someone else’s custody with 422 CUSTODY_VIOLATION', async () => {
      const c = await append(mfr, commission(mfr));
      const s = await append(mfr, ship(mfr, c, DIST, 'SH-3'));
      const r = await append(dist, receive(dist, s, MFR, 'SH-3'));
      const res = await post(other.token, sign(ship(other, r, MFR, 'SH-X'), other.key));
      expect(res.status).toBe(422);
      expect(res.body.reasons[0].code).toBe('CUSTODY_VIOLATION');
    });

    it('answers a stale prev with 409 naming the current head', async () => {
      const c = await append(mfr, commission(mfr));
      const first = await append(mfr, ship(mfr, c, DIST, 'SH-4'));
      const res = await post(mfr.token, sign(ship(mfr, c, OTHER, 'SH-5'), mfr.key));
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ subject: c.subject, head: first.id, seq: 1 });
      expect(res.body.reasons[0].code).toBe('CHAIN_BROKEN');
    });

    it('refuses records signed with a key after its revocation (422 KEY_REVOKED)', async () => {
      const spare = generateKeyPair(nodeBackend);
      const kid = (
        await request(issuer.app)
          .post(`/v1/parties/${MFR}/keys`)
          .set(auth(mfr.token))
          .send(
            keyRegistrationBody(
              MFR,
              spare.seed,
              spare.publicKey,
              new Date().toISOString(),
              nodeBackend,
            ),
          )
          .expect(201)
      ).body.kid as string;
      const ok = await post(mfr.token, sign(commission(mfr, undefined, spare), spare));
      expect(ok.status).toBe(201);
      await request(issuer.app)
        .post(`/v1/keys/${kid}/revoke`)
        .set(auth(mfr.token))
        // DESIGN §5: not before the key's registration receipt time.
        .send({ compromisedAt: new Date().toISOString(), reason: 'leaked' })
        .expect(200);
      const res = await post(mfr.token, sign(commission(mfr, undefined, spare), spare));
      expect(res.status).toBe(422);
      expect(res.body.reasons[0].code).toBe('KEY_REVOKED');
    });

    it('writes nothing from a batch of three with one bad envelope', async () => {
      const before = await size();
      const good1 = commission(mfr);
      const good2 = commission(mfr);
      const bad = { ...sign(commission(mfr), mfr.key) };
      bad.signatures = [
        { keyid: bad.signatures[0]!.keyid, sig: toBase64(new Uint8Array(64).fill(1)) },
      ];
      const res = await post(mfr.token, {
        envelopes: [sign(good1, mfr.key), bad, sign(good2, mfr.key)],
      });
      expect(res.status).toBe(422);
      expect(res.body.reasons[0]).toMatchObject({ code: 'SIGNATURE_INVALID', entry: 1 });
      expect(await size()).toBe(before);
      await get(path('chains', good1.subject), mfr.token).expect(404);
      await get(path('chains', good2.subject), mfr.token).expect(404);
      // A custody refusal in the middle of a batch: nothing either.
      const res2 = await post(mfr.token, {
        envelopes: [sign(good1, mfr.key), sign(commission(dist), dist.key), sign(good2, mfr.key)],
      });
      expect(res2.status).toBe(403);
      const res3 = await post(mfr.token, {
        envelopes: [
          sign(good1, mfr.key),
          sign(
            {
              ...commission(mfr),
              data: {
                gtin: withCheckDigit('1099999900001'),
                serial: 'Z',
                lot: 'L',
                expiry: EXPIRY,
              },
              subject: unitSubject(withCheckDigit('1099999900001'), 'Z'),
            } as CustodyRecord,
            mfr.key,
          ),
          sign(good2, mfr.key),
        ],
      });
      expect(res3.status).toBe(422);
      expect(res3.body.reasons[0]).toMatchObject({ code: 'GENESIS_INVALID', entry: 1 });
      expect(await size()).toBe(before);
      await get(path('chains', good1.subject), mfr.token).expect(404);
    });

    it('answers 400 for an empty batch and names the envelope at fault', async () => {
      expect((await post(mfr.token, { envelopes: [] })).status).toBe(400);
      const res = await post(mfr.token, {
        envelopes: [sign(commission(mfr), mfr.key), { payloadType: 'x' }],
      });
      expect(res.status).toBe(400);
      expect(res.body.errors[0].path.startsWith('body.envelopes[1]')).toBe(true);
    });
  });

  describe('re-sending', () => {
    it('answers the same envelope sent again with 200 and the stored result', async () => {
      const env = sign(commission(mfr), mfr.key);
      const first = await post(mfr.token, env);
      expect(first.status).toBe(201);
      const before = await size();
      const again = await post(mfr.token, env);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(await size()).toBe(before);
    });

    it('replays an Idempotency-Key answer and refuses the key with another body (422)', async () => {
      const env = sign(commission(mfr), mfr.key);
      const first = await post(mfr.token, env, { 'Idempotency-Key': 'rec-1' });
      expect(first.status).toBe(201);
      const again = await post(mfr.token, env, { 'Idempotency-Key': 'rec-1' });
      expect(again.status).toBe(201);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.body).toEqual(first.body);
      const other = await post(mfr.token, sign(commission(mfr), mfr.key), {
        'Idempotency-Key': 'rec-1',
      });
      expect(other.status).toBe(422);
      expect(other.body.type).toBe('urn:provenant:problem:idempotency-key-reused');
      // Keys are per party: the same key text is free for another party.
      const theirs = await post(dist.token, sign(commission(mfr), mfr.key), {
        'Idempotency-Key': 'rec-1',
      });
      expect(theirs.status).toBe(403);
    });
    it('answers two concurrent twins with one Idempotency-Key with one write', async () => {
      const env = sign(commission(mfr), mfr.key);
      const before = await size();
      const [a, b] = await Promise.all([
        post(mfr.token, env, { 'Idempotency-Key': 'twin-1' }),
        post(mfr.token, env, { 'Idempotency-Key': 'twin-1' }),
      ]);
      const statuses = [a.status, b.status].sort();
      // The loser either replays the winner's answer or is told to retry (same batch).
      expect([
        [201, 201],
        [201, 409],
      ]).toContainEqual(statuses);
      for (const r of [a, b])
        if (r.status === 201) expect(r.body.id).toBe(a.status === 201 ? a.body.id : b.body.id);
      expect(await size()).toBe(before + 1);
      const retry = await post(mfr.token, env, { 'Idempotency-Key': 'twin-1' });
      expect(retry.status).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
    });
  });

  describe('chain and bundle paths', () => {
    it('accepts a percent-encoded serial and answers 404 for an unknown subject and 400 for a bad GTIN', async () => {
      const c = await append(mfr, commission(mfr, 'A/1'));
      expect(c.subject).toBe(`01/${GTIN}/21/A%2F1`);
      const res = await get(`/v1/chains/01/${GTIN}/21/A%2F1`, mfr.token).expect(200);
      expect(res.body.subject).toBe(c.subject);
      await get(`/v1/bundles/01/${GTIN}/21/A%2F1`, mfr.token).expect(200);
      const missing = await get(`/v1/chains/01/${GTIN}/21/NOPE`, dist.token).expect(404);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      await get(`/v1/bundles/00/${withCheckDigit('00614141000000999')}`, dist.token).expect(404);
      const wrong = GTIN.slice(0, 13) + String((Number(GTIN[13]) + 1) % 10);
      const bad = await get(`/v1/chains/01/${wrong}/21/X`, dist.token).expect(400);
      expect(bad.body.errors[0].path).toBe('params.gtin');
      await request(issuer.app).get(`/v1/chains/01/${GTIN}/21/X`).expect(401);
    });
  });
});
