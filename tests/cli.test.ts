// The `provenant` command end to end (issue 5): spawned processes, real files
// in a temp dir, a real issuer listening on a port (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set). The CLI runs from source through tsx,
// so no build is needed. Tests run in order and share the server's state.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  fromBase64,
  fromBase64Url,
  parseCheckpoint,
  parseSignedNote,
  signCheckpoint,
  toBase64,
  toBase64Url,
  toHex,
  unitSubject,
} from '@provenant/core';
import { authorityKey } from '@provenant/issuer';
import { getLogSize } from '@provenant/store';
import { ProvenantClient } from '@provenant/sdk';
import { cli, close, inproc, json, listen, serve, type Run, type Served } from './support/cli.js';
import { allowingUndeclaredPath } from './support/contract.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { withCheckDigit } from './support/verifier.js';

/** Verifier paths an issuer-only server answers 404 (not in its description). */
const NO_VERIFIER = /^\/v1\/(verifier|verifications)$/;

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414100001');
const GTIN = withCheckDigit('1061414100001');
const H1 = unitSubject(GTIN, 'H1');
const BULK_GTIN = withCheckDigit('1061414100002');

// Each spawn pays node + tsx start-up (~1 s idle); on a loaded machine much more.
jest.setTimeout(120_000);

let issuer: TestIssuer;
let served: Served;
let url: string;
let dir: string;
const tokens: Record<string, string> = {};
const f = (name: string) => join(dir, name);

beforeAll(async () => {
  issuer = await startTestIssuer();
  served = await serve(issuer.app, 'provenant-cli-');
  ({ url, dir } = served);
  const admin = new ProvenantClient({ baseUrl: url, token: issuer.adminToken });
  await admin.createParty({
    gln: MFR,
    name: 'Manufacturer',
    roles: ['manufacturer'],
    prefixes: ['0614141'],
  });
  await admin.createParty({ gln: DIST, name: 'Distributor', roles: ['distributor'], prefixes: [] });
  for (const gln of [MFR, DIST])
    tokens[gln] = (await admin.createToken(gln, { scopes: ['sign', 'verify', 'keys'] })).token;
});

afterAll(async () => {
  await served?.close();
  await issuer?.stop();
});

const as = (gln: string) => ['--server', url, '--token', tokens[gln]!];
const witness = (server: string, run: (args: string[]) => Promise<Run> = cli) =>
  run([
    'witness',
    '--state',
    f('witness'),
    '--key',
    f('witness-key.json'),
    '--trust',
    f('trust.json'),
    '--server',
    server,
    '--json',
  ]);

describe('a handoff signed non-custodially, from keygen to receive', () => {
  const subject = unitSubject(GTIN, 'H1');
  const ids: Record<string, string> = {};

  it('keygen writes a 0600 key file and prints the kid and public key', async () => {
    const runs = await Promise.all(
      ['m', 'd'].map((who) => cli(['keygen', '--out', f(`${who}-key.json`), '--json'])),
    );
    for (const [i, who] of ['m', 'd'].entries()) {
      const run = runs[i]!;
      expect(run.code).toBe(0);
      const out = json(run);
      const file = JSON.parse(await readFile(f(`${who}-key.json`), 'utf8')) as Record<
        string,
        string
      >;
      expect(out).toMatchObject({ kid: file.kid, publicKey: file.publicKey });
      expect(fromBase64Url(file.seed!)?.length).toBe(32);
      expect((await stat(f(`${who}-key.json`))).mode & 0o777).toBe(0o600);
    }
    const again = await inproc(['keygen', '--out', f('m-key.json')]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('reports the files it writes by absolute path, whatever the working directory', async () => {
    const run = await cli(['keygen', '--out', 'relative-key.json', '--json'], {}, dir);
    expect(run.code).toBe(0);
    expect(json(run).file).toBe(f('relative-key.json'));
    const human = await inproc(['keygen', '--out', join(dir, 'sub', '..', 'other-key.json')]);
    expect(human.stdout).toContain(`wrote ${f('other-key.json')} (mode 0600)`);
  });

  it('register-key registers each public key for its party', async () => {
    const runs = await Promise.all(
      (
        [
          ['m', MFR],
          ['d', DIST],
        ] as const
      ).map(([who, gln]) =>
        cli(['register-key', '--key', f(`${who}-key.json`), '--party', gln, ...as(gln)]),
      ),
    );
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/registered key [0-9a-f]{32}/);
    }
  });

  const signAndSubmit = async (
    name: string,
    record: Record<string, unknown>,
    key: string,
    gln: string,
  ) => {
    await writeFile(f(`${name}.json`), JSON.stringify(record));
    const signed = await cli([
      'sign',
      f(`${name}.json`),
      '--key',
      f(key),
      '--out',
      f(`${name}.env.json`),
      '--json',
    ]);
    expect(signed.code).toBe(0);
    const submitted = await cli(['submit', f(`${name}.env.json`), ...as(gln), '--json']);
    expect(submitted.code).toBe(0);
    const [result] = (json(submitted).records as { id: string; seq: number }[])!;
    expect(result!.id).toBe(json(signed).id);
    ids[name] = result!.id;
    return result!;
  };

  it('signs and submits the commission, the ship and the receive', async () => {
    const c = await signAndSubmit(
      'commission',
      {
        subject,
        seq: 0,
        prev: null,
        type: 'commission',
        actor: MFR,
        data: { gtin: GTIN, serial: 'H1', lot: 'L1', expiry: '2030-12-31' },
      },
      'm-key.json',
      MFR,
    );
    expect(c.seq).toBe(0);
    const s = await signAndSubmit(
      'ship',
      {
        subject,
        seq: 1,
        prev: ids.commission,
        type: 'ship',
        actor: MFR,
        data: { to: DIST, shipment: 'ASN-1' },
      },
      'm-key.json',
      MFR,
    );
    expect(s.seq).toBe(1);
    // The dock keeps a bundle of the goods in transit for the offline check at the end.
    const b = await cli([
      'bundle',
      '(01)' + GTIN + '(21)H1',
      '--out',
      f('in-transit.bundle.json'),
      ...as(DIST),
    ]);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/wrote .*in-transit\.bundle\.json/);
    const r = await signAndSubmit(
      'receive',
      {
        subject,
        seq: 2,
        prev: ids.ship,
        type: 'receive',
        actor: DIST,
        data: { from: MFR, shipment: 'ASN-1', condition: 'ok' },
      },
      'd-key.json',
      DIST,
    );
    expect(r.seq).toBe(2);
  });

  it('sign writes a DSSE envelope that node:crypto verifies on its own: PAE, kid, JCS payload, record id', async () => {
    const key = JSON.parse(await readFile(f('m-key.json'), 'utf8')) as Record<string, string>;
    const env = JSON.parse(await readFile(f('commission.env.json'), 'utf8')) as {
      payloadType: string;
      payload: string;
      signatures: { keyid: string; sig: string }[];
    };
    const pub = Buffer.from(key.publicKey!, 'base64url');
    // DESIGN §4: kid = first 32 hex of SHA-256(raw public key).
    const kid = createHash('sha256').update(pub).digest('hex').slice(0, 32);
    expect(env.signatures.map((s) => s.keyid)).toEqual([kid]);
    expect(env.payloadType).toBe('application/vnd.provenant.record+json');
    const body = Buffer.from(env.payload, 'base64');
    // RFC 8785 for this record: keys sorted by code unit, no whitespace.
    const jcs = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(jcs).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${jcs((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    const record = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    expect(jcs(record)).toBe(body.toString('utf8'));
    expect(record).toMatchObject({ v: 1, kid, subject, seq: 0, prev: null, actor: MFR });
    // DSSE PAE = "DSSEv1" SP len(type) SP type SP len(body) SP body.
    const type = Buffer.from(env.payloadType);
    const pae = Buffer.concat([
      Buffer.from(`DSSEv1 ${type.length} `),
      type,
      Buffer.from(` ${body.length} `),
      body,
    ]);
    const publicKey = createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: key.publicKey! },
      format: 'jwk',
    });
    const sig = Buffer.from(env.signatures[0]!.sig, 'base64');
    expect(nodeVerify(null, pae, publicKey, sig)).toBe(true);
    sig[0]! ^= 1;
    expect(nodeVerify(null, pae, publicKey, sig)).toBe(false);
    expect(createHash('sha256').update(body).digest('hex')).toBe(ids.commission);
  });

  it('sign refuses an invalid record naming the field, and a record of another key', async () => {
    await writeFile(
      f('bad.json'),
      JSON.stringify({
        subject,
        seq: 3,
        prev: null,
        type: 'ship',
        actor: DIST,
        data: { to: MFR, shipment: 'X' },
      }),
    );
    const bad = await inproc(['sign', f('bad.json'), '--key', f('d-key.json')]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/prev/);
    await writeFile(
      f('other.json'),
      JSON.stringify({
        subject,
        seq: 3,
        prev: ids.receive,
        type: 'ship',
        actor: DIST,
        kid: '0'.repeat(32),
        data: { to: MFR, shipment: 'X' },
      }),
    );
    const other = await inproc(['sign', f('other.json'), '--key', f('d-key.json')]);
    expect(other.code).toBe(3);
    expect(other.stderr).toMatch(/kid/);
  });

  it('submit reports the server refusal (a fork of seq 1) with exit 1', async () => {
    await writeFile(
      f('fork.json'),
      JSON.stringify({
        subject,
        seq: 1,
        prev: ids.commission,
        type: 'ship',
        actor: MFR,
        data: { to: DIST, shipment: 'ASN-2' },
      }),
    );
    const s = await inproc([
      'sign',
      f('fork.json'),
      '--key',
      f('m-key.json'),
      '--out',
      f('fork.env.json'),
    ]);
    expect(s.code).toBe(0);
    const fork = await cli(['submit', f('fork.env.json'), ...as(MFR)]);
    expect(fork.code).toBe(1);
    expect(fork.stderr).toMatch(/refused POST \/v1\/records: 409/);
  });
});

describe('trust export', () => {
  it('writes the keys a dock pins (authority key given where the server does not publish it)', async () => {
    const authority = toBase64Url(authorityKey(issuer.config.masterKey).publicKey);
    // This server is the issuer alone: its GET /v1/verifier is a 404 the description does not list.
    const run = await allowingUndeclaredPath(NO_VERIFIER, () =>
      cli([
        'trust',
        'export',
        '--out',
        f('trust.json'),
        '--server',
        url,
        '--authority-key',
        authority,
      ]),
    );
    expect(run.code).toBe(0);
    const trust = JSON.parse(await readFile(f('trust.json'), 'utf8')) as Record<string, unknown>;
    expect(trust).toMatchObject({ logKey: issuer.deps.logKeys.vkey, authorityKey: authority });
  });

  it('verifies a scan by downloading its bundle when the server has no verifier, and says so', async () => {
    const run = await allowingUndeclaredPath(NO_VERIFIER, () =>
      inproc([
        'verify',
        `(01)${GTIN}(10)L1(21)H1`,
        '--trust',
        f('trust.json'),
        ...as(DIST),
        '--json',
      ]),
    );
    const out = json(run);
    expect(out).toMatchObject({ purpose: 'saleable_return', subject: unitSubject(GTIN, 'H1') });
    expect(run.code).toBe(out.verdict === 'accept' ? 0 : out.verdict === 'quarantine' ? 1 : 2);
    // Once a verifier is mounted with the issuer, the server answers instead.
    if (out.mode === 'local') expect(run.stderr).toMatch(/verified it locally/);
    else expect(out.mode).toBe('server');
  });
});

describe('witness', () => {
  let double: Server;
  let doubleUrl: string;
  let serve: { checkpoint: string; proof: string[] } = { checkpoint: '', proof: [] };

  beforeAll(async () => {
    // A test double of the log endpoints, serving whatever the test puts in `serve`.
    double = createServer((req, res) => {
      if (req.url === '/v1/log/checkpoint') {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(serve.checkpoint);
      } else if (req.url?.startsWith('/v1/log/proofs/consistency')) {
        const q = new URL(req.url, 'http://x').searchParams;
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            from: Number(q.get('from')),
            to: Number(q.get('to')),
            proof: serve.proof,
          }),
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/problem+json' }).end(
          JSON.stringify({
            type: 'urn:provenant:problem:not-found',
            title: 'Not Found',
            status: 404,
          }),
        );
      }
    });
    doubleUrl = await listen(double);
    const key = await cli(['keygen', '--out', f('witness-key.json'), '--name', 'witness.test/w1']);
    expect(key.code).toBe(0);
    // DESIGN §6: the admin registers the witness; only registered witnesses may cosign.
    const file = JSON.parse(await readFile(f('witness-key.json'), 'utf8')) as { publicKey: string };
    const reg = await fetch(`${url}/v1/witnesses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${issuer.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'witness.test/w1', publicKey: file.publicKey }),
    });
    expect(reg.status).toBe(201);
  });

  afterAll(async () => {
    await close(double);
  });

  it('cosigns an honest checkpoint and the log serves the cosignature', async () => {
    const run = await witness(url);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({
      ok: true,
      previousSize: null,
      witness: 'witness.test/w1',
      stored: true,
    });
    const note = await (await fetch(`${url}/v1/log/checkpoint`)).text();
    expect(parseSignedNote(note).signatures.map((s) => s.name)).toContain('witness.test/w1');
    // DESIGN §4: the digest in the JSON result is lowercase hex.
    const cp = parseCheckpoint(parseSignedNote(note).text);
    expect(json(run).rootHash).toBe(toHex(cp.rootHash));
  });

  it('refuses and alarms (exit 2) on a forged checkpoint inconsistent with the one it saw, keeping its state', async () => {
    const saved = await readFile(f('witness/checkpoint'), 'utf8');
    const seen = parseCheckpoint(parseSignedNote(saved).text);
    const { origin, signer } = issuer.deps.logKeys;
    // The log key itself signs a bigger tree that does not extend the one the witness saw.
    serve = {
      checkpoint: signCheckpoint(
        { origin, size: seen.size + 3, rootHash: new Uint8Array(32).fill(7), extensions: [] },
        signer,
      ),
      proof: Array.from({ length: 8 }, (_, i) => 'ab'.repeat(31) + i.toString(16).padStart(2, '0')),
    };
    const run = await witness(doubleUrl);
    expect(run.code).toBe(2);
    expect(json(run)).toMatchObject({ error: { code: 'alarm' } });
    expect(await readFile(f('witness/checkpoint'), 'utf8')).toBe(saved);

    // A fork: the same size with another root.
    serve = {
      checkpoint: signCheckpoint(
        { origin, size: seen.size, rootHash: new Uint8Array(32).fill(9), extensions: [] },
        signer,
      ),
      proof: [],
    };
    const fork = await witness(doubleUrl, inproc);
    expect(fork.code).toBe(2);
    expect((json(fork).error as { message: string }).message).toMatch(/fork/);

    // A checkpoint signed by another key.
    serve = {
      checkpoint: signCheckpoint(
        { origin, size: seen.size + 1, rootHash: new Uint8Array(32).fill(1), extensions: [] },
        { name: origin, seed: new Uint8Array(32).fill(3) },
      ),
      proof: [],
    };
    const forged = await witness(doubleUrl, inproc);
    expect(forged.code).toBe(2);
    expect((json(forged).error as { message: string }).message).toMatch(/pinned log key/);
    expect(await readFile(f('witness/checkpoint'), 'utf8')).toBe(saved);
  });
});

describe('bulk operations', () => {
  it('commissions a 5,000-line CSV in batches through the custodial key', async () => {
    const admin = new ProvenantClient({ baseUrl: url, token: issuer.adminToken });
    await admin.registerKey(MFR, { custodial: true });
    const lines = [
      'gtin,serial,lot,expiry',
      ...Array.from({ length: 5000 }, (_, i) => `${BULK_GTIN},B${i},LOT7,301231`),
    ];
    await writeFile(f('units.csv'), lines.join('\n') + '\n');
    const before = await getLogSize(issuer.db);
    const run = await cli(['commission', '--csv', f('units.csv'), ...as(MFR), '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ ok: true, commissioned: 5000, records: 5000, batches: 5 });
    expect(await getLogSize(issuer.db)).toBe(before + 5000);
    // Not a terminal: no progress bar, no control characters, in either stream.
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toMatch(/[\u001b\r]/);
  });

  it('refuses a CSV with a bad line before sending anything', async () => {
    const badGtin = `${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}`;
    await writeFile(f('bad.csv'), `${BULK_GTIN},X1,L,301231\n${badGtin},X2,L,301231\n`);
    const before = await getLogSize(issuer.db);
    const run = await inproc(['commission', '--csv', f('bad.csv'), ...as(MFR)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/bad\.csv:2: gtin/);
    expect(await getLogSize(issuer.db)).toBe(before);
  });

  it('stops at a refused batch, reporting it; earlier batches stay, nothing of it is written', async () => {
    // Batch 1 is new; batch 2 holds a unit commissioned above.
    await writeFile(
      f('again.csv'),
      [
        `${BULK_GTIN},N1,L,301231`,
        `${BULK_GTIN},N2,L,301231`,
        `${BULK_GTIN},N3,L,301231`,
        `${BULK_GTIN},B7,L,301231`,
      ].join('\n'),
    );
    const before = await getLogSize(issuer.db);
    const run = await inproc([
      'commission',
      '--csv',
      f('again.csv'),
      '--batch-size',
      '2',
      ...as(MFR),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/batch 2 of 2/);
    expect(run.stderr).toMatch(/2 units of 1 earlier batch are in the log/);
    expect(run.stderr).toMatch(/re-run the same command/);
    expect(await getLogSize(issuer.db)).toBe(before + 2);

    // The bad line fixed, the same command completes: batch 1 is replayed, not refused or doubled.
    await writeFile(
      f('again.csv'),
      (await readFile(f('again.csv'), 'utf8')).replace(`${BULK_GTIN},B7,`, `${BULK_GTIN},N4,`),
    );
    const rerun = await inproc([
      'commission',
      '--csv',
      f('again.csv'),
      '--batch-size',
      '2',
      ...as(MFR),
      '--json',
    ]);
    expect(rerun.code).toBe(0);
    expect(json(rerun)).toMatchObject({ ok: true, commissioned: 4, records: 4, batches: 2 });
    expect(await getLogSize(issuer.db)).toBe(before + 4);
  });

  it('ships and receives units signed locally (--key), reconciling the shipment', async () => {
    const units = ['B1', 'B2', 'B3'].map((s) => `(01)${BULK_GTIN}(21)${s}`);
    await writeFile(f('ship.txt'), units.join('\n'));
    const ship = await cli([
      'ship',
      '--subjects',
      f('ship.txt'),
      '--to',
      DIST,
      '--shipment',
      'ASN-9',
      '--key',
      f('m-key.json'),
      '--party',
      MFR,
      ...as(MFR),
      '--json',
    ]);
    expect(ship.code).toBe(0);
    expect(json(ship)).toMatchObject({ ok: true, shipped: 3, records: 3 });
    const receive = await cli([
      'receive',
      '--shipment',
      'ASN-9',
      '--from',
      MFR,
      '--scanned',
      units.join(','),
      '--key',
      f('d-key.json'),
      '--party',
      DIST,
      ...as(DIST),
      '--json',
    ]);
    expect(receive.code).toBe(0);
    expect(json(receive)).toMatchObject({ ok: true, received: 3, records: 3 });
  });

  it('lets the witness cosign the grown log once it proved it consistent', async () => {
    const saved = parseCheckpoint(
      parseSignedNote(await readFile(f('witness/checkpoint'), 'utf8')).text,
    );
    const run = await witness(url);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({ ok: true, previousSize: saved.size, stored: true });
    expect(json(run).size as number).toBeGreaterThan(saved.size + 5000);
  });
});

describe('parse', () => {
  it('shows what a good scan contains', async () => {
    const run = await cli(['parse', `]d201${GTIN}17301231` + `10L1\u001d21ABC/1`, '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toMatchObject({
      valid: true,
      subject: `01/${GTIN}/21/ABC%2F1`,
      lot: 'L1',
      expiry: '2030-12-31',
      ais: [{ ai: '01' }, { ai: '17' }, { ai: '10' }, { ai: '21' }],
    });
  });

  it('explains a bad scan with the GS1 rule and AI, exit 3', async () => {
    const run = await cli(['parse', `(01)${GTIN.slice(0, 13)}${(Number(GTIN[13]) + 1) % 10}(21)X`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/BAD_CHECK_DIGIT, AI 01/);
    const json3 = await inproc(['parse', '(99)ABC', '--json']);
    expect(json3.code).toBe(3);
    expect(json(json3)).toMatchObject({
      error: { code: 'bad-scan', gs1: { code: expect.any(String) } },
    });
  });
});

describe('usage and I/O errors', () => {
  const noStack = (run: Run) => {
    expect(run.stderr).not.toMatch(/\n\s+at |node:internal|Error:/);
    expect(run.stdout).not.toMatch(/\n\s+at /);
  };

  it('exits 3 with a clear message and no stack trace: unknown option, missing file, malformed JSON, no command', async () => {
    await writeFile(f('malformed.json'), '{"v":1,');
    const runs = await Promise.all([
      cli(['verify', f('in-transit.bundle.json'), '--trust', f('trust.json'), '--bogus']),
      cli(['verify', f('missing.bundle.json'), '--scan', H1, '--trust', f('trust.json')]),
      cli(['verify', f('malformed.json'), '--scan', H1, '--trust', f('trust.json')]),
      cli(['submit', f('malformed.json'), ...as(MFR)]),
      cli([]),
    ]);
    const [unknown, missing, malformed, submit, none] = runs;
    for (const run of runs) {
      expect(run.code).toBe(3);
      noStack(run);
    }
    expect(unknown!.stderr).toMatch(/unknown option '--bogus'/);
    expect(missing!.stderr).toMatch(/cannot read bundle .*missing\.bundle\.json: ENOENT/);
    expect(malformed!.stderr).toMatch(/bundle .*malformed\.json is not valid JSON/);
    expect(submit!.stderr).toMatch(/envelope file .*malformed\.json is not valid JSON/);
    expect(none!.stderr).toMatch(/Usage: provenant/);
    expect((await inproc(['--help'])).code).toBe(0);
    expect((await inproc(['trust'])).code).toBe(3);
  });

  it('exits 3 when the server is unreachable, naming it, with a JSON error under --json', async () => {
    const gone = createServer();
    const goneUrl = await listen(gone);
    await close(gone);
    const human = await cli(['verify', `(01)${GTIN}(21)H1`, '--server', goneUrl, '--token', 't']);
    expect(human.code).toBe(3);
    noStack(human);
    expect(human.stderr).toContain(`cannot reach ${goneUrl}`);
    expect(human.stderr).toMatch(/verify a bundle file offline/);
    const machine = await inproc([
      'trust',
      'export',
      '--out',
      f('t.json'),
      '--server',
      goneUrl,
      '--json',
    ]);
    expect(machine.code).toBe(3);
    expect(json(machine)).toMatchObject({ error: { code: 'network-error' } });
  });
});

describe('offline verification with the server stopped', () => {
  beforeAll(async () => {
    await close(served.server);
  });

  const verify = (bundle: string) =>
    cli([
      'verify',
      bundle,
      '--scan',
      H1,
      '--trust',
      f('trust.json'),
      '--party',
      DIST,
      '--purpose',
      'receiving',
      '--server',
      url,
      '--json',
    ]);

  it('accepts the honest in-transit bundle (exit 0) with no server to ask', async () => {
    const run = await verify(f('in-transit.bundle.json'));
    expect(json(run)).toMatchObject({ mode: 'offline', verdict: 'accept' });
    expect(run.code).toBe(0);
    const human = await inproc([
      'verify',
      f('in-transit.bundle.json'),
      '--scan',
      `(01)${GTIN}(21)H1`,
      '--trust',
      f('trust.json'),
      '--party',
      DIST,
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/verdict +ACCEPT/);
    expect(human.stdout).toContain(`commission   ${MFR}`);
  });

  it('rejects the bundle with one byte of a payload changed (exit 2)', async () => {
    const bundle = JSON.parse(await readFile(f('in-transit.bundle.json'), 'utf8')) as {
      chains: Record<string, { envelope: { payload: string } }[]>;
    };
    const entry = bundle.chains[unitSubject(GTIN, 'H1')]![0]!;
    const bytes = fromBase64(entry.envelope.payload)!;
    const at = new TextDecoder().decode(bytes).indexOf('"L1"') + 2;
    bytes[at] = '2'.charCodeAt(0);
    entry.envelope.payload = toBase64(bytes);
    await writeFile(f('tampered.bundle.json'), JSON.stringify(bundle));
    const run = await verify(f('tampered.bundle.json'));
    expect(run.code).toBe(2);
    expect(json(run)).toMatchObject({ verdict: 'reject' });

    // One byte of the file itself: a character of the first signature.
    const text = await readFile(f('in-transit.bundle.json'), 'utf8');
    const i = text.indexOf('"sig":"') + 10;
    await writeFile(
      f('flipped.bundle.json'),
      text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1),
    );
    const flipped = await verify(f('flipped.bundle.json'));
    expect(flipped.code).toBe(2);
    expect((json(flipped).reasons as { code: string }[]).map((r) => r.code)).toContain(
      'SIGNATURE_INVALID',
    );
  });

  it('says why a bundle cannot be checked: a missing trust file is exit 3', async () => {
    const run = await inproc([
      'verify',
      f('in-transit.bundle.json'),
      '--scan',
      H1,
      '--trust',
      f('nope.json'),
      '--party',
      DIST,
    ]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot read trust file/);
  });
});
