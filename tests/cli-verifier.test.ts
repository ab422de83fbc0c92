// `provenant verify <scan>` and `provenant trust export` against the issuer
// and the verifier on one server (as `pnpm start` mounts them): spawned CLI
// processes, real files. The server's verdict counts only with a receipt
// signed by the verifier key pinned in trust.json (DESIGN §7).
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateKeyPair, toBase64, unitSubject } from '@provenant/core';
import { cli, json, serve, type Served } from './support/cli.js';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

jest.setTimeout(120_000);

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414100001');
const GTIN = withCheckDigit('1061414100003');
let world: TestWorld;
let served: Served;
let url: string;
let dir: string;
let dist: Party;
const f = (name: string) => join(dir, name);
const subject = unitSubject(GTIN, 'V1');

beforeAll(async () => {
  world = await startTestWorld();
  served = await serve(world.app, 'provenant-cli-verifier-');
  ({ url, dir } = served);
  const api = new Api(world.app, world.issuer.adminToken);
  const mfr = await api.party(MFR, 'Manufacturer', ['manufacturer'], ['0614141']);
  dist = await api.party(DIST, 'Distributor', ['distributor']);
  await api.commission(mfr, GTIN, ['V1'], 'L1', '2030-01-31');
  await api.ship(mfr, [subject], dist, 'ASN-V');
});

afterAll(async () => {
  await served?.close();
  await world?.stop();
});

describe('verify a scan through the server', () => {
  it('trust export pins the log, authority and verifier keys the server publishes', async () => {
    const run = await cli(['trust', 'export', '--out', f('trust.json'), '--server', url]);
    expect(run.code).toBe(0);
    const trust = JSON.parse(await readFile(f('trust.json'), 'utf8')) as Record<string, string>;
    expect(trust).toMatchObject({
      logKey: world.issuer.deps.logKeys.vkey,
      verifierKey: toBase64(world.verifier.verifierKey.publicKey),
    });
    expect(trust.authorityKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('accepts with exit 0 once the receipt verifies with the pinned verifier key', async () => {
    const as = ['--server', url, '--token', dist.token, '--trust', f('trust.json')];
    const run = await cli(['verify', `(01)${GTIN}(10)L1(21)V1`, '--party', DIST, ...as, '--json']);
    expect(json(run)).toMatchObject({
      mode: 'server',
      purpose: 'receiving',
      verdict: 'accept',
      receiptCheck: 'verified',
    });
    expect(run.code).toBe(0);
    // Checking the receipt needs the party it must be for (DESIGN §7 receipts bind the question).
    const noParty = await cli(['verify', `https://example.com/01/${GTIN}/21/V1?10=L9`, ...as]);
    expect(noParty.code).toBe(3);
    expect(noParty.stderr).toMatch(/--party/);
    const human = await cli([
      'verify',
      `https://example.com/01/${GTIN}/21/V1?10=L9`,
      '--party',
      DIST,
      ...as,
    ]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/verdict +QUARANTINE/);
    expect(human.stdout).toMatch(/LOT_MISMATCH/);
    expect(human.stdout).toMatch(/receipt signed by the pinned verifier key [0-9a-f]{32}/);
    expect(human.stdout).toMatch(/custody\n.*commission/);
  });

  it('refuses the verdict (exit 2) when the receipt is not signed by the pinned verifier key', async () => {
    const trust = JSON.parse(await readFile(f('trust.json'), 'utf8')) as Record<string, string>;
    const other = { ...trust, verifierKey: toBase64(generateKeyPair().publicKey) };
    await writeFile(f('other-trust.json'), JSON.stringify(other));
    const run = await cli([
      'verify',
      `(01)${GTIN}(10)L1(21)V1`,
      '--party',
      DIST,
      '--server',
      url,
      '--token',
      dist.token,
      '--trust',
      f('other-trust.json'),
      '--json',
    ]);
    expect(run.code).toBe(2);
    expect(json(run)).toMatchObject({ error: { code: 'receipt-invalid', check: 'KID_MISMATCH' } });
  });
});
