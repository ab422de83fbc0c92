// The verifier's attack suite (issue 10, findings 2, 3, 5 and 6): what an
// attacker can bend in the verdict path, played through the public API, the
// SDK and the CLI (its in-process entry point, with an injected clock) against
// the real issuer and verifier on one database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set). docs/threat-model.md ("The verdict path in detail") lists the
// threats; every test here names the one it closes.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  encodeVerifierKey,
  generateKeyPair,
  sign,
  toBase64,
  toBase64Url,
  unitSubject,
  verificationReceiptMessage,
  type VerificationReceiptBody,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { checkVerificationReceipt, ProvenantClient } from '@provenant/sdk';
// The CLI in-process (the same `main` the bin runs), with a clock of our choosing.
import { close, inproc as cli, json, listen, serve, type Served } from './support/cli.js';
import {
  acmeAndNorthwind,
  Api,
  codes,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

jest.setTimeout(120_000);

const GTIN = withCheckDigit('1061414100005');
const SSCC = withCheckDigit('10614141000000021');
const DAY_MS = 24 * 60 * 60 * 1000;
const unit = (serial: string) => unitSubject(GTIN, serial);

/**
 * A server that answers every POST /v1/verifications with `answer()` (a genuine
 * signed verification, for another question): the network attacker of finding 2.
 */
function replayServer(answer: () => unknown): Server {
  return createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/verifications') {
        res.writeHead(201, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer()));
      } else {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }));
      }
    });
  });
}

describe('the verifier attack suite', () => {
  let world: TestWorld;
  let api: Api;
  let served: Served;
  let url: string;
  let dir: string;
  let mfr: Party;
  let dist: Party;
  let pharm: Party;
  let rival: Party;
  const f = (name: string) => join(dir, name);
  /** `provenant trust export --out <dir>/<out> --server <server> flags...`, in process. */
  const trustExport = (out: string, server: string, ...flags: string[]) =>
    cli(['trust', 'export', '--out', f(out), '--server', server, ...flags]);

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    served = await serve(world.app, 'provenant-attacks-verifier-');
    ({ url, dir } = served);
    ({ mfr, dist } = await acmeAndNorthwind(
      api,
      withCheckDigit('061414100020'),
      withCheckDigit('061414100021'),
    ));
    pharm = await api.party(withCheckDigit('061414100022'), 'St. Mary Pharmacy', ['dispenser']);
    rival = await api.party(
      withCheckDigit('099999900020'),
      'Globex Generics',
      ['manufacturer'],
      ['0999999'],
    );
    // G1..G3 in transit MFR -> DIST; P1, P2 in a pallet in transit MFR -> DIST;
    // O1 with the pharmacy (later dispensed).
    await api.commission(mfr, GTIN, ['G1', 'G2', 'G3', 'P1', 'P2', 'O1', 'C1']);
    await api.ship(mfr, [unit('G1'), unit('G2'), unit('G3')], dist, 'ASN-G');
    await api.pack(mfr, SSCC, [unit('P1'), unit('P2')]);
    await api.ship(mfr, [`00/${SSCC}`], dist, 'ASN-P');
    await api.ship(mfr, [unit('O1')], pharm, 'ASN-O');
    await api.ship(mfr, [unit('C1')], dist, 'ASN-C');
    const trust = await trustExport('trust.json', url);
    expect(trust.code).toBe(0);
  });

  afterAll(async () => {
    await served?.close();
    await world?.stop();
  });

  /** `provenant verify <scan>` as the distributor, through `server`, checking the receipt with trust.json. */
  const verifyVia = (
    server: string,
    scan: string,
    opts: { purpose?: string; json?: boolean; now?: () => Date } = {},
  ) =>
    cli(
      [
        'verify',
        scan,
        ...(opts.purpose ? ['--purpose', opts.purpose] : []),
        '--party',
        dist.gln,
        '--server',
        server,
        '--token',
        dist.token,
        '--trust',
        f('trust.json'),
        ...(opts.json === false ? [] : ['--json']),
      ],
      opts.now,
    );

  // -------------------------------------------------------------------------
  describe('finding 2: a genuine signed receipt replayed for another question', () => {
    let replay: Server;
    let replayUrl: string;
    let answer: unknown;

    beforeAll(async () => {
      replay = replayServer(() => answer);
      replayUrl = await listen(replay);
    });
    afterAll(() => close(replay));

    /** A genuine answer of the verifier, as `p` asked it (no nonce unless given). */
    const genuine = async (p: Party, body: Record<string, unknown>) =>
      (await api.verify(p, body).expect(201)).body as Record<string, unknown>;

    const scanViaReplay = (scan: string, purpose = 'receiving') =>
      verifyVia(replayUrl, scan, { purpose });

    const ask = (serial: string, purpose: string) => ({ subject: unit(serial), purpose });
    /** Genuine answers replayed for another question: by whom, what was asked, the serial scanned, the check that catches it. */
    const replays = (): {
      by: Party;
      asked: Record<string, unknown>;
      serial: string;
      check: string;
    }[] => [
      // Another unit, replayed for a counterfeit serial.
      { by: dist, asked: ask('G1', 'receiving'), serial: 'FAKE2', check: 'SUBJECT_MISMATCH' },
      // The unit, by the pharmacy (saleable_return: no custody check, an accept).
      { by: pharm, asked: ask('G3', 'saleable_return'), serial: 'G3', check: 'PARTY_MISMATCH' },
      // The unit, by this party, for dispensing.
      { by: dist, asked: ask('G3', 'dispense'), serial: 'G3', check: 'PURPOSE_MISMATCH' },
      // The very question, answered earlier without a nonce.
      { by: dist, asked: ask('G3', 'receiving'), serial: 'G3', check: 'NONCE_MISMATCH' },
    ];
    /** The purpose a scan asks with: a return as such, anything else at receiving. */
    const scanPurpose = (asked: Record<string, unknown>) =>
      asked['purpose'] === 'saleable_return' ? 'saleable_return' : 'receiving';

    it('the verifier signs the request nonce into the receipt, and refuses a malformed nonce (400)', async () => {
      const body = await genuine(dist, {
        subject: unit('G1'),
        purpose: 'receiving',
        nonce: 'n-1_A',
      });
      expect(body['verdict']).toBe('accept');
      const receipt = body['receipt'] as VerificationReceiptBody & { signature: string };
      expect(receipt.nonce).toBe('n-1_A');
      const pinned = world.verifier.verifierKey.publicKey;
      expect(
        checkVerificationReceipt(body, pinned, nodeBackend, {
          subject: unit('G1'),
          party: dist.gln,
          purpose: 'receiving',
          nonce: 'n-1_A',
        }),
      ).toMatchObject({ ok: true });
      // Stripping or changing the nonce breaks the signature.
      const stripped = { ...body, receipt: { ...receipt, nonce: null } };
      expect(checkVerificationReceipt(stripped, pinned)).toMatchObject({
        ok: false,
        code: 'SIGNATURE_INVALID',
      });
      for (const nonce of ['', 'x'.repeat(65), 'has space', 'dot.dot', 42]) {
        const res = await api
          .verify(dist, { subject: unit('G1'), purpose: 'receiving', nonce })
          .expect(400);
        expect(JSON.stringify(res.body.errors)).toMatch(/nonce/);
      }
    });

    it('the CLI accepts the real server only with the receipt bound to its own fresh question', async () => {
      const run = await verifyVia(url, `(01)${GTIN}(21)G2`);
      expect(json(run)).toMatchObject({ verdict: 'accept', receiptCheck: 'verified' });
      expect(run.code).toBe(0);
      const receipt = json(run)['receipt'] as { nonce: string };
      expect(receipt.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    });

    it('REJECT (exit 2): a genuine accept of another unit replayed for a counterfeit serial', async () => {
      answer = await genuine(dist, { subject: unit('G1'), purpose: 'receiving' });
      const run = await scanViaReplay(`(01)${GTIN}(21)FAKE1`);
      expect(run.code).toBe(2);
      expect(json(run)).toMatchObject({
        error: { code: 'receipt-invalid', check: 'SUBJECT_MISMATCH', verdict: 'reject' },
      });
      const human = await verifyVia(replayUrl, `(01)${GTIN}(21)FAKE1`, { json: false });
      expect(human.code).toBe(2);
      expect(human.stdout).toMatch(/verdict +REJECT/);
      expect(human.stdout).not.toMatch(/ACCEPT/);
    });

    it.each(['PARTY_MISMATCH', 'PURPOSE_MISMATCH', 'NONCE_MISMATCH'])(
      'REJECT (exit 2): a genuine accept for another party, another purpose, or without the nonce: %s',
      async (check) => {
        const { asked, by, serial } = replays().find((r) => r.check === check)!;
        answer = await genuine(by, asked);
        const run = await scanViaReplay(`(01)${GTIN}(21)${serial}`, scanPurpose(asked));
        expect(run.code).toBe(2);
        expect(json(run)).toMatchObject({ error: { check } });
      },
    );

    it('REJECT (exit 2): the very question, answered earlier with another nonce', async () => {
      answer = await genuine(dist, { subject: unit('G3'), purpose: 'receiving', nonce: 'old' });
      expect((await scanViaReplay(`(01)${GTIN}(21)G3`)).code).toBe(2);
    });

    it('REJECT (exit 2): a receipt signed more than 5 minutes from the local clock', async () => {
      // The real verifier, with the nonce echoed, but the dock's clock 10 minutes on.
      const later = () => new Date(Date.now() + 10 * 60_000);
      const run = await verifyVia(url, `(01)${GTIN}(21)G2`, { now: later });
      expect(run.code).toBe(2);
      expect(json(run)).toMatchObject({ error: { check: 'RECEIPT_STALE' } });
    });

    it('a receipt re-signed by any other key is refused, however well it answers', async () => {
      const fresh = await genuine(dist, { subject: unit('G1'), purpose: 'receiving' });
      const other = generateKeyPair();
      const body = { ...(fresh['receipt'] as VerificationReceiptBody), nonce: null };
      const receipt = {
        ...body,
        signature: toBase64(sign(verificationReceiptMessage(body), other.seed)),
      };
      answer = { ...fresh, receipt };
      const run = await scanViaReplay(`(01)${GTIN}(21)G1`);
      expect(run.code).toBe(2);
    });

    it('a server answering "no route" cannot downgrade a pinned verifier to a local bundle check', async () => {
      const noVerifier = createServer((req, res) => {
        req.resume();
        if (req.method === 'POST' && req.url === '/v1/verifications') {
          res.writeHead(404, { 'content-type': 'application/problem+json' });
          res.end(
            JSON.stringify({
              type: 'urn:provenant:problem:not-found',
              title: 'Not Found',
              status: 404,
              detail: 'No route for POST /v1/verifications.',
            }),
          );
        } else world.app(req, res);
      });
      const at = await listen(noVerifier);
      try {
        const run = await verifyVia(at, `(01)${GTIN}(21)G2`);
        expect(run.code).toBe(3);
        expect(json(run)).toMatchObject({ error: { code: 'no-verifier' } });
      } finally {
        await close(noVerifier);
      }
    });

    it('the SDK refuses every replayed variant with a typed failure, and takes the real answer', async () => {
      const policy = {
        verifierKey: toBase64(world.verifier.verifierKey.publicKey),
        party: dist.gln,
      };
      const replayed = new ProvenantClient({ baseUrl: replayUrl, token: dist.token, retries: 0 });
      for (const { asked, check: code, by, serial } of replays()) {
        answer = await genuine(by, asked);
        const r = await replayed.verifyChecked(
          { scan: `(01)${GTIN}(21)${serial}`, purpose: scanPurpose(asked) },
          policy,
        );
        expect({ code, r }).toMatchObject({ code, r: { ok: false, code } });
      }
      const real = new ProvenantClient({ baseUrl: url, token: dist.token, retries: 0 });
      const ok = await real.verifyChecked({ subject: unit('G2'), purpose: 'receiving' }, policy);
      expect(ok).toMatchObject({ ok: true, verification: { verdict: 'accept' } });
      // A keyboard wedge's printable GS stand-in reads under its profile here as on the server (the dock).
      const wedged = await real.verifyChecked(
        {
          scan: `01${GTIN}10L1<GS>21G2`,
          purpose: 'receiving',
          scannerProfile: 'keyboard-wedge-gs',
        },
        policy,
      );
      expect(wedged).toMatchObject({ ok: true, verification: { verdict: 'accept' } });
      const stale = await real.verifyChecked(
        { subject: unit('G2'), purpose: 'receiving' },
        { ...policy, now: () => Date.now() - 6 * 60_000 },
      );
      expect(stale).toMatchObject({ ok: false, code: 'RECEIPT_STALE' });
    });
  });

  // -------------------------------------------------------------------------
  describe('finding 3: DUPLICATE_SCAN poisoning by a party outside the chain', () => {
    it('a rival verifying units in transit (and posting junk bundles naming them) quarantines nothing', async () => {
      for (const purpose of ['receiving', 'dispense', 'saleable_return']) {
        await api.verify(rival, { subject: unit('G2'), purpose }).expect(201);
        await api.verify(rival, { scan: `(01)${GTIN}(21)P1`, purpose }).expect(201);
        await api.verify(rival, { subject: `00/${SSCC}`, purpose }).expect(201);
      }
      for (const s of [unit('G2'), unit('P2'), `00/${SSCC}`]) {
        const junk = { v: 1, subject: s, checkpoint: 'junk', chains: {}, notices: [] };
        const res = await api.verifyBundle(rival, junk).expect(201);
        expect(res.body.verdict).toBe('reject');
      }
      const casesBefore = (await api.get('/v1/cases?status=open', dist.token).expect(200)).body
        .cases.length;
      for (const s of [unit('G2'), unit('P1'), unit('P2'), `00/${SSCC}`]) {
        const res = await api.verify(dist, { subject: s, purpose: 'receiving' }).expect(201);
        expect({ s, codes: codes(res.body) }).toEqual({ s, codes: [] });
        expect(res.body.verdict).toBe('accept');
        expect(res.body.case).toBeUndefined();
      }
      const casesAfter = (await api.get('/v1/cases?status=open', dist.token).expect(200)).body.cases
        .length;
      expect(casesAfter).toBe(casesBefore);
    });

    it('the rival’s verifications are still kept for audit', async () => {
      const res = await api
        .verify(rival, { subject: unit('G2'), purpose: 'receiving' })
        .expect(201);
      const kept = await api.get(`/v1/verifications/${res.body.id}`, rival.token).expect(200);
      expect(kept.body).toMatchObject({ subject: unit('G2'), party: rival.gln });
    });

    it('a party of the chain scanning the serial since its last handoff still counts (a clone)', async () => {
      // The shipper itself finds "the same" serial on its shelf while C1 is in transit.
      await api.verify(mfr, { subject: unit('C1'), purpose: 'dispense' }).expect(201);
      const res = await api.verify(dist, { subject: unit('C1'), purpose: 'receiving' }).expect(201);
      expect(codes(res.body)).toEqual(['DUPLICATE_SCAN']);
      expect(res.body.case).toMatchObject({ status: 'open' });
    });
  });

  // -------------------------------------------------------------------------
  describe('finding 5: old evidence verified offline', () => {
    let oldBundle: string;

    beforeAll(async () => {
      // The pharmacy keeps O1's bundle, fetched while O1 was genuine and in transit.
      oldBundle = f('o1-before-dispense.json');
      const b = await api.bundle(unit('O1'), pharm.token);
      await writeFile(oldBundle, JSON.stringify(b));
      await api.receive(pharm, mfr, 'ASN-O', [unit('O1')]);
      await api.decommission(pharm, [unit('O1')], 'dispensed');
    });

    const offline = (bundle: string, scan: string | null, trust = f('trust.json'), at?: number) =>
      cli(
        [
          'verify',
          bundle,
          ...(scan !== null ? ['--scan', scan] : []),
          '--trust',
          trust,
          '--party',
          pharm.gln,
          '--json',
        ],
        at === undefined ? undefined : () => new Date(at),
      );

    it('the old bundle presented for another serial is REJECT SUBJECT_MISMATCH (exit 2)', async () => {
      const run = await offline(oldBundle, `(01)${GTIN}(21)COUNTERFEIT7`);
      expect(run.code).toBe(2);
      expect(json(run)).toMatchObject({ mode: 'offline', verdict: 'reject' });
      expect(codes(json(run) as { reasons: { code: string }[] })).toEqual(['SUBJECT_MISMATCH']);
      // Any GS1 form of the scan; its own subject is what the bundle proves (as of then).
      const own = await offline(oldBundle, `https://id.example.com/01/${GTIN}/21/O1`);
      expect(json(own)).toMatchObject({ verdict: 'accept' });
    });

    it('offline verification without --scan is a usage error (exit 3)', async () => {
      const run = await cli([
        'verify',
        oldBundle,
        '--trust',
        f('trust.json'),
        '--party',
        pharm.gln,
      ]);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/--scan/);
    });

    it('the old bundle two days later is CHECKPOINT_STALE under the exported default of a day', async () => {
      const trust = JSON.parse(await readFile(f('trust.json'), 'utf8')) as Record<string, unknown>;
      expect(trust).toMatchObject({
        maxCheckpointAgeSeconds: 86_400,
        witnesses: [],
        witnessQuorum: 0,
      });
      const run = await offline(oldBundle, unit('O1'), f('trust.json'), Date.now() + 2 * DAY_MS);
      expect(run.code).toBe(1);
      expect(codes(json(run) as { reasons: { code: string }[] })).toEqual(['CHECKPOINT_STALE']);
    });

    it('a trust file from before issue 10 still loads, with the defaults', async () => {
      const trust = JSON.parse(await readFile(f('trust.json'), 'utf8')) as Record<string, unknown>;
      const old = { ...trust };
      for (const k of ['witnesses', 'witnessQuorum', 'maxCheckpointAgeSeconds']) delete old[k];
      await writeFile(f('old-trust.json'), JSON.stringify(old));
      const now = await offline(oldBundle, unit('O1'), f('old-trust.json'));
      expect(now.code).toBe(0);
      const later = await offline(
        oldBundle,
        unit('O1'),
        f('old-trust.json'),
        Date.now() + 2 * DAY_MS,
      );
      expect(codes(json(later) as { reasons: { code: string }[] })).toEqual(['CHECKPOINT_STALE']);
    });

    it('the server compares a presented bundle with the scan too (POST /v1/bundles/verify)', async () => {
      const b = JSON.parse(await readFile(oldBundle, 'utf8')) as unknown;
      const res = await api
        .post('/v1/bundles/verify', pharm.token, {
          bundle: b,
          purpose: 'dispense',
          scan: `(01)${GTIN}(21)COUNTERFEIT7`,
        })
        .expect(201);
      expect(codes(res.body)).toContain('SUBJECT_MISMATCH');
      expect(res.body.verdict).toBe('reject');
    });
  });

  // -------------------------------------------------------------------------
  describe('finding 6 (CLI side): the trust file’s witness quorum', () => {
    it('trust export writes the quorum it is given, and refuses one no listed witness can meet', async () => {
      const none = await trustExport('q.json', url, '--witness-quorum', '1');
      expect(none.code).toBe(3);
      expect(none.stderr).toMatch(/witnessQuorum/);
      const w = generateKeyPair();
      const vkey = encodeVerifierKey('witness.example', w.publicKey, 'cosignature/v1');
      const run = await trustExport('q.json', url, '--witness', vkey, '--witness-quorum', '1');
      expect(run.code).toBe(0);
      const trust = JSON.parse(await readFile(f('q.json'), 'utf8')) as Record<string, unknown>;
      expect(trust).toMatchObject({
        witnesses: [{ name: 'witness.example', publicKey: toBase64Url(w.publicKey) }],
        witnessQuorum: 1,
        maxCheckpointAgeSeconds: 86_400,
      });
    });

    it('trust export pins the witnesses the server registered (GET /v1/witnesses)', async () => {
      const w1 = generateKeyPair();
      const w2 = generateKeyPair();
      const listed = {
        witnesses: [
          { name: 'w1.example', publicKey: toBase64Url(w1.publicKey), keyId: 'k1', createdAt: 'x' },
          // A registry that serves the C2SP vkey form is read too.
          {
            name: 'w2.example',
            publicKey: encodeVerifierKey('w2.example', w2.publicKey, 'cosignature/v1'),
          },
        ],
      };
      const withRegistry = createServer((req, res) => {
        if (req.method === 'GET' && req.url === '/v1/witnesses') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(listed));
        } else world.app(req, res);
      });
      const at = await listen(withRegistry);
      try {
        const run = await trustExport('w.json', at, '--witness-quorum', '2');
        expect(run.code).toBe(0);
        const trust = JSON.parse(await readFile(f('w.json'), 'utf8')) as Record<string, unknown>;
        expect(trust).toMatchObject({
          witnesses: [
            { name: 'w1.example', publicKey: toBase64Url(w1.publicKey) },
            { name: 'w2.example', publicKey: toBase64Url(w2.publicKey) },
          ],
          witnessQuorum: 2,
        });
        expect(run.stdout).toMatch(/witness +w1\.example/);
      } finally {
        await close(withRegistry);
      }
    });

    it('a bundle whose checkpoint lacks the quorum is REJECT LOG_PROOF_INVALID offline (exit 2)', async () => {
      const bundle = await api.bundle(unit('G1'), dist.token);
      await writeFile(f('g1.json'), JSON.stringify(bundle));
      const args = (trust: string) => [
        'verify',
        f('g1.json'),
        '--scan',
        unit('G1'),
        '--trust',
        trust,
        '--party',
        dist.gln,
        '--json',
      ];
      const run = await cli(args(f('q.json')));
      expect(run.code).toBe(2);
      const out = json(run) as { reasons: { code: string; message: string }[] };
      expect(codes(out)).toEqual(['LOG_PROOF_INVALID']);
      expect(out.reasons[0]!.message).toMatch(/WITNESS_QUORUM_NOT_MET/);
      // The same bundle with the exported default (quorum 0) is fine.
      expect((await cli(args(f('trust.json')))).code).toBe(0);
    });
  });
});
