// Who may read what (DESIGN §6a) and the checks that run before any work
// (DESIGN §8): anonymous and competitor reads of every confidential route,
// the public log surface (leaves, proofs by index and by hash, notices),
// control characters in path ids, duplicate JSON keys, authentication
// before the body is read, and unparseable presented bundles.
import { connect } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  canonicalize,
  fromBase64,
  leafHash,
  toHex,
  utf8,
  verificationReceiptMessage,
  verify,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  Api,
  codes,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';
import { allowingUndeclaredPath } from './support/contract.js';

const GTIN = withCheckDigit('1061414100005');
const SSCC = withCheckDigit('10614141000000099');
const unit = (s: string) => `01/${GTIN}/21/${s}`;
const pallet = `00/${SSCC}`;

async function counts(world: TestWorld): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['log_leaves', 'records', 'notices', 'verifications', 'cases']) {
    const { rows } = await world.issuer.db.query(`SELECT count(*)::int AS n FROM ${t}`);
    out[t] = Number(rows[0]!.n);
  }
  return out;
}

describe('who may read what (DESIGN §6a)', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let competitor: Party;
  let monitorToken: string;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
    dist = await api.party('0614141000029', 'Distributor', ['distributor']);
    competitor = await api.party('0614141000036', 'Competitor', ['distributor']);
    await api.commission(mfr, GTIN, ['A1', 'A2', 'B1']);
    await api.pack(mfr, SSCC, [unit('A1'), unit('A2')]);
    await api.handoff(mfr, dist, [pallet], 'SHIP-1');
    const tok = await api
      .post(`/v1/parties/${competitor.gln}/tokens`, world.issuer.adminToken, {
        scopes: ['monitor'],
      })
      .expect(201);
    monitorToken = tok.body.token as string;
  }, 60_000);
  afterAll(async () => world?.stop());

  const confidential = [
    `/v1/chains/${unit('A1')}`,
    `/v1/chains/${pallet}`,
    `/v1/chains/${encodeURIComponent(unit('A1'))}`,
    `/v1/bundles/${unit('A1')}`,
    `/v1/bundles/${pallet}`,
    `/v1/bundles/${encodeURIComponent(unit('A1'))}`,
  ];

  it('anonymous callers get 401 on chains, bundles and log entries', async () => {
    for (const path of [...confidential, '/v1/log/entries?start=0']) {
      const res = await request(world.app).get(path);
      expect([path, res.status]).toEqual([path, 401]);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });

  it('a competitor gets exactly the 404 of an unknown subject for chains and bundles', async () => {
    for (const path of confidential) {
      const res = await api.get(path, competitor.token);
      expect([path, res.status]).toEqual([path, 404]);
      const unknown = await api.get(path.replace(/A1$|A1(?=$)/, 'ZZ9'), competitor.token);
      if (path.endsWith('A1')) {
        const unknownPath = path.replace(/A1$/, 'ZZ9');
        expect(res.body).toEqual({
          ...unknown.body,
          detail: unknown.body.detail.replace('ZZ9', 'A1'),
          instance: unknown.body.instance.replace('ZZ9', 'A1'),
        });
        expect(unknownPath).not.toEqual(path);
      }
      expect(JSON.stringify(res.body)).not.toContain(mfr.gln);
    }
  });

  it('chain parties (actor or `to`, also through the container) and the admin read chains and bundles', async () => {
    for (const path of confidential) {
      await api.get(path, mfr.token).expect(200);
      await api.get(path, dist.token).expect(200);
      await api.get(path, world.issuer.adminToken).expect(200);
    }
    // B1 never left the maker: the distributor is not in its chain.
    await api.get(`/v1/chains/${unit('B1')}`, dist.token).expect(404);
    await api.get(`/v1/bundles/${unit('B1')}`, dist.token).expect(404);
  });

  it('GET /v1/log/entries needs admin or monitor: 403 for other tokens', async () => {
    const res = await api.get('/v1/log/entries?start=0', competitor.token);
    expect(res.status).toBe(403);
    expect(res.body.type).toBe('urn:provenant:problem:insufficient-scope');
    await api.get('/v1/log/entries?start=0', monitorToken).expect(200);
    await api.get('/v1/log/entries?start=0', world.issuer.adminToken).expect(200);
  });

  it('anyone reads leaf hashes, proofs by index and by leaf hash, checkpoints, keys and notices', async () => {
    const entries = (await api.get('/v1/log/entries?start=0', world.issuer.adminToken).expect(200))
      .body;
    const leaves = (await request(world.app).get('/v1/log/leaves?start=0').expect(200)).body;
    expect(leaves.size).toBe(entries.size);
    expect(leaves.leaves).toEqual(entries.entries.map((e: { leafHash: string }) => e.leafHash));
    expect(JSON.stringify(leaves)).not.toContain('envelope');
    // end is inclusive, like entries; at most 1,000.
    const two = (await request(world.app).get('/v1/log/leaves?start=1&end=2').expect(200)).body;
    expect(two.leaves).toEqual(leaves.leaves.slice(1, 3));
    // Leaf hash = SHA-256(0x00 || JCS(envelope)).
    expect(leaves.leaves[0]).toBe(toHex(leafHash(utf8(canonicalize(entries.entries[0].envelope)))));
    await request(world.app).get('/v1/log/checkpoint').expect(200);
    await request(world.app).get('/v1/log').expect(200);
    await request(world.app).get('/v1/verifier').expect(200);
    const size = entries.size as number;
    const byIndex = (
      await request(world.app).get(`/v1/log/proofs/inclusion?index=3&size=${size}`).expect(200)
    ).body;
    const byHash = (
      await request(world.app)
        .get(`/v1/log/proofs/inclusion?leafHash=${leaves.leaves[3]}&size=${size}`)
        .expect(200)
    ).body;
    expect(byHash).toEqual(byIndex);
    await request(world.app).get('/v1/log/proofs/inclusion?leafHash=zz').expect(400);
    await request(world.app)
      .get(`/v1/log/proofs/inclusion?leafHash=${'0'.repeat(64)}`)
      .expect(404);
    await request(world.app)
      .get(`/v1/log/proofs/inclusion?index=1&leafHash=${leaves.leaves[1]}`)
      .expect(400);
    await request(world.app).get(`/v1/log/proofs/consistency?from=1&to=${size}`).expect(200);

    const notices = (await request(world.app).get('/v1/log/notices').expect(200)).body;
    const types = new Set(notices.notices.map((n: { type: string }) => n.type));
    expect(types).toEqual(new Set(['party', 'key']));
    expect(
      notices.notices.every(
        (n: { leafHash: string; index: number }) => n.leafHash === leaves.leaves[n.index],
      ),
    ).toBe(true);
    // paging by cursor
    const page = (await request(world.app).get('/v1/log/notices?limit=2').expect(200)).body;
    expect(page.notices).toHaveLength(2);
    const rest = (await request(world.app).get(`/v1/log/notices?after=${page.next}`).expect(200))
      .body;
    expect(rest.notices[0].index).toBe(notices.notices[2].index);
  });

  it('a verification by a party outside the chain answers verdict, codes and product only; the receipt still verifies', async () => {
    const inside = await api.verify(dist, { subject: unit('A1'), purpose: 'dispense' });
    expect(inside.status).toBe(201);
    expect(inside.body.custody.length).toBeGreaterThan(0);
    expect(inside.body.limited).toBeUndefined();

    const res = await api.verify(competitor, { subject: unit('A1'), purpose: 'dispense' });
    expect(res.status).toBe(201);
    expect(res.body.limited).toBe(true);
    expect(res.body.custody).toEqual([]);
    expect(res.body.custodian).toBeNull();
    expect(res.body.product.gtin).toBe(GTIN);
    const text = JSON.stringify(res.body);
    for (const gln of [mfr.gln, dist.gln]) expect(text).not.toContain(gln);
    expect(codes(res.body)).toEqual(res.body.receipt.reasons);
    const key = (await request(world.app).get('/v1/verifier').expect(200)).body.publicKey;
    const { signature, ...body } = res.body.receipt;
    expect(
      verify(
        fromBase64(signature)!,
        verificationReceiptMessage(body),
        fromBase64(key)!,
        nodeBackend,
      ),
    ).toBe(true);
    // The stored answer is the limited one too.
    const again = await api.get(`/v1/verifications/${res.body.id}`, competitor.token).expect(200);
    expect(again.body.custody).toEqual([]);
    // A pallet: counts stay, the failing list does not.
    const p = await api.verify(competitor, { subject: pallet, purpose: 'receiving' });
    expect(p.body.limited).toBe(true);
    expect(JSON.stringify(p.body)).not.toContain(dist.gln);
  });
});

describe('checks before any work (DESIGN §8)', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party('0614141000012', 'Maker', ['manufacturer'], ['061414']);
    await api.commission(mfr, GTIN, ['A1']);
    server = createServer(world.app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await world?.stop();
  });

  it('a NUL or control character in any path id is 400 problem+json', async () => {
    const before = await counts(world);
    const paths: [string, string][] = [
      ['get', '/v1/parties/%00'],
      ['get', `/v1/chains/01/${GTIN}/21/A%01`],
      ['get', '/v1/chains/%0a'],
      ['post', '/v1/keys/%0a/revoke'],
      ['get', '/v1/verifications/%7f'],
      ['get', '/v1/cases/%00/form3911'],
      ['post', '/v1/parties/%00/keys'],
      ['get', '/v1/parties/%E0%A4%A'],
    ];
    for (const [method, path] of paths) {
      const r =
        method === 'get'
          ? await api.get(path, world.issuer.adminToken)
          : await api.post(path, world.issuer.adminToken, { custodial: true });
      expect([path, r.status]).toEqual([path, 400]);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.body.type).toBe('urn:provenant:problem:invalid-path');
    }
    expect(await counts(world)).toEqual(before);
  });

  it('a duplicate key anywhere in a JSON body is 400 naming the key', async () => {
    const before = await counts(world);
    const raw = `{"items":[{"gtin":"${GTIN}","serial":"D1","serial":"D2","lot":"L","expiry":"2030-01-31"}]}`;
    const res = await request(world.app)
      .post('/v1/commissions')
      .set('Authorization', `Bearer ${mfr.token}`)
      .set('Content-Type', 'application/json')
      .send(raw);
    expect(res.status).toBe(400);
    expect(res.body.type).toBe('urn:provenant:problem:duplicate-key');
    expect(res.body.detail).toContain('"serial"');
    expect(res.body.errors[0].rule).toBe('duplicate-key');
    expect(await counts(world)).toEqual(before);
    // The same body without the duplicate is fine.
    await request(world.app)
      .post('/v1/commissions')
      .set('Authorization', `Bearer ${mfr.token}`)
      .set('Content-Type', 'application/json')
      .send(raw.replace('"serial":"D1",', ''))
      .expect(201);
  });

  it('a presented bundle that does not parse is 400: no verdict, no case', async () => {
    const before = await counts(world);
    for (const junk of [
      {},
      { v: 1 },
      { v: 1, subject: 'x', checkpoint: '', chains: {}, notices: [] },
    ]) {
      const res = await api.verifyBundle(mfr, junk);
      expect(res.status).toBe(400);
      expect(res.body.type).toBe('urn:provenant:problem:invalid-bundle');
      expect(res.body.verdict).toBeUndefined();
    }
    expect(await counts(world)).toEqual(before);
  });

  /** Sends only the request head; resolves with the raw answer and whether the socket closed. */
  function headOnly(head: string): Promise<{ text: string; closed: boolean }> {
    return new Promise((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      let text = '';
      let done = false;
      const finish = (closed: boolean) => {
        if (done) return;
        done = true;
        resolve({ text, closed });
      };
      sock.on('data', (d) => {
        text += d.toString('latin1');
      });
      sock.on('close', () => finish(true));
      sock.on('error', reject);
      sock.write(head);
      setTimeout(() => {
        finish(false);
        sock.destroy();
      }, 5000);
    });
  }

  it('a 12 MiB anonymous body gets 401 from its headers alone, before one byte of it is sent', async () => {
    const size = 12 * 1024 * 1024;
    for (const path of ['/v1/records', '/v1/commissions', '/v1/parties', '/v1/nowhere']) {
      // /v1/nowhere is in no description on purpose: a body anywhere needs a token first.
      const { text, closed } = await allowingUndeclaredPath(/^\/v1\/nowhere$/, () =>
        headOnly(
          `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`,
        ),
      );
      expect([path, text.split('\r\n', 1)[0]]).toEqual([path, 'HTTP/1.1 401 Unauthorized']);
      expect(text).toMatch(/content-type: application\/problem\+json/i);
      expect(text).toMatch(/connection: close/i);
      expect(closed).toBe(true);
    }
  });

  it('a body on a route the token may not use is 403 before it is read', async () => {
    const { text } = await headOnly(
      `POST /v1/parties HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${mfr.token}\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`,
    );
    expect(text.split('\r\n', 1)[0]).toBe('HTTP/1.1 403 Forbidden');
    // A bad token is 401 before the body too.
    const bad = await headOnly(
      `POST /v1/records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer pvn_not-a-real-token-000000000\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n`,
    );
    expect(bad.text.split('\r\n', 1)[0]).toBe('HTTP/1.1 401 Unauthorized');
    // The witness route stays open to anyone (it verifies the cosignature itself).
    const anon = await request(world.app).post('/v1/log/cosignatures').send({ witness: 'x' });
    expect(anon.status).toBe(400);
  });
});
