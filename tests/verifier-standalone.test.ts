// The verifier as its own trust domain (DESIGN §7b, issue 15): `pnpm
// start:verifier` runs it alone with DATABASE_URL, PORT, PROVENANT_TRUST_FILE
// and PROVENANT_VERIFIER_KEY, and no master key in its environment. It
// refuses to start without one of the four (exit 2, naming the variable).
// On PostgreSQL (PROVENANT_TEST_DATABASE_URL), against a database an issuer
// populated, it answers verifications from the trust file's public keys and
// signs receipts with its own key; a trust file naming another log key makes
// the same unit fail.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeVerifierKey,
  fromBase64,
  keyId,
  publicKeyFromSeed,
  toBase64Url,
  unitSubject,
  type TrustFile,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { createIssuer, deriveServiceKey, type Issuer } from '@provenant/issuer';
import { migrate, openPg, type Database } from '@provenant/store';
import { startVerifier, verifyVerificationReceipt } from '@provenant/verifier';
import { TEST_ADMIN_TOKEN, testConfig } from './support/issuer.js';
import {
  createTestDatabase,
  dropTestDatabase,
  exitCodeOf,
  runScript,
  startVerifierProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';

/** Runs start-verifier.ts with `env` (and nothing else the service reads) to its exit. */
async function refusal(env: Record<string, string>): Promise<{ code: number | null; err: string }> {
  const child = runScript('start-verifier.ts', env);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { code: await exitCodeOf(child), err };
}

describe('pnpm start:verifier without its configuration', () => {
  let dir: string;
  let trustFile: string;
  const seed = Buffer.from(randomBytes(32)).toString('base64');
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'provenant-verifier-cfg-'));
    trustFile = join(dir, 'trust.json');
    writeFileSync(trustFile, '{"logKey": "not a key"}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const full = (): Record<string, string> => ({
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    PORT: '0',
    PROVENANT_TRUST_FILE: join(dir, 'absent.json'),
    PROVENANT_VERIFIER_KEY: seed,
  });

  it.each(['PROVENANT_TRUST_FILE', 'PROVENANT_VERIFIER_KEY', 'DATABASE_URL'])(
    'exits 2 naming %s when it is missing',
    async (missing) => {
      const env = full();
      delete env[missing];
      const r = await refusal(env);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`ConfigError: ${missing}: is required`);
    },
    60_000,
  );

  it('exits 2 naming the trust file when it is absent or not a trust file, before any connection', async () => {
    const absent = await refusal(full());
    expect(absent.code).toBe(2);
    expect(absent.err).toMatch(/PROVENANT_TRUST_FILE: cannot read .*absent\.json \(ENOENT\)/);
    const bad = await refusal({ ...full(), PROVENANT_TRUST_FILE: trustFile });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('logKey must be a C2SP verifier key');
    // Never the key's value in an error.
    expect(bad.err + absent.err).not.toContain(seed);
  }, 60_000);

  it('exits 2 naming PROVENANT_VERIFIER_KEY when it is not a 32-byte seed, without its value', async () => {
    // 31 bytes of a would-be secret, and text that is not base64 at all.
    const short = Buffer.from(randomBytes(31)).toString('base64');
    const good = join(dir, 'good.json');
    const key = (n: number) => publicKeyFromSeed(new Uint8Array(32).fill(n), nodeBackend);
    writeFileSync(
      good,
      JSON.stringify({
        logKey: encodeVerifierKey('example.test/log', key(1)),
        authorityKey: toBase64Url(key(2)),
        witnesses: [],
        witnessQuorum: 0,
      }),
    );
    for (const value of [short, 'not a key at all!']) {
      const r = await refusal({
        ...full(),
        PROVENANT_TRUST_FILE: good,
        PROVENANT_VERIFIER_KEY: value,
      });
      expect(r.code).toBe(2);
      expect(r.err).toContain('ConfigError: PROVENANT_VERIFIER_KEY: must be standard base64');
      expect(r.err).not.toContain(value);
    }
  }, 60_000);
});

const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;
const GTIN = withCheckDigit('1061414100011');
const unit = (serial: string) => unitSubject(GTIN, serial);

(pgUrl ? describe : describe.skip)(
  'a standalone verifier on a database the issuer populated',
  () => {
    let dbUrl = '';
    let dir: string;
    let db: Database;
    let issuer: Issuer;
    let dist: Party;
    let trust: TrustFile;
    const procs: ServiceProcess[] = [];
    const seed = new Uint8Array(randomBytes(32));
    const publicKey = publicKeyFromSeed(seed, nodeBackend);

    beforeAll(async () => {
      dbUrl = await createTestDatabase(pgUrl!, 'provenant_verifier');
      dir = mkdtempSync(join(tmpdir(), 'provenant-verifier-'));
      db = await openPg(dbUrl);
      await migrate(db);
      issuer = await createIssuer({ db, config: testConfig() });
      const api = new Api(issuer.app, TEST_ADMIN_TOKEN);
      const mfr = await api.party(
        withCheckDigit('061414100010'),
        'Acme Pharma',
        ['manufacturer'],
        ['0614141'],
      );
      dist = await api.party(withCheckDigit('061414100011'), 'Northwind', ['distributor']);
      await api.commission(mfr, GTIN, ['S1', 'S2']);
      await api.ship(mfr, [unit('S1')], dist, 'ASN-S');
      // The public keys, as `provenant trust export` writes them (GET /v1/log).
      const log = (await api.get('/v1/log', TEST_ADMIN_TOKEN).expect(200)).body as {
        origin: string;
        vkey: string;
        authorityKey: string;
      };
      trust = {
        logKey: log.vkey,
        authorityKey: log.authorityKey,
        witnesses: [],
        witnessQuorum: 0,
        maxCheckpointAgeSeconds: 86_400,
        origin: log.origin,
      };
    }, 120_000);
    afterAll(async () => {
      for (const p of procs) await p.stop();
      await issuer?.close();
      await db?.close();
      if (dbUrl) await dropTestDatabase(pgUrl!, dbUrl);
      rmSync(dir, { recursive: true, force: true });
    });

    /** The verifier process on `trustValue`, with no master key in its environment. */
    async function start(name: string, trustValue: TrustFile): Promise<ServiceProcess> {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, JSON.stringify(trustValue));
      const env = {
        DATABASE_URL: dbUrl,
        PROVENANT_TRUST_FILE: file,
        PROVENANT_VERIFIER_KEY: Buffer.from(seed).toString('base64'),
      };
      expect(Object.keys(env)).not.toContain('PROVENANT_MASTER_KEY');
      const p = await startVerifierProcess(env);
      procs.push(p);
      return p;
    }

    async function verify(p: ServiceProcess, subject: string) {
      const res = await fetch(`${p.url}/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${dist.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ subject, purpose: 'receiving' }),
      });
      // Parsed in this realm: fetch's objects are not plain objects to JCS under Jest's VM.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, body: JSON.parse(await res.text()) as any };
    }

    it('accepts a good unit with a receipt signed by PROVENANT_VERIFIER_KEY, not a key of the master key', async () => {
      const p = await start('trust', trust);
      expect(p.stdout()).toContain(`receipt key: ${keyId(publicKey)}`);
      expect((await fetch(`${p.url}/readyz`)).status).toBe(200);
      const key = (await (await fetch(`${p.url}/v1/verifier`)).json()) as { publicKey: string };
      expect(fromBase64(key.publicKey)).toEqual(publicKey);

      const ok = await verify(p, unit('S1'));
      expect(ok.status).toBe(201);
      expect(ok.body).toMatchObject({ verdict: 'accept', reasons: [], subject: unit('S1') });
      expect(ok.body.receipt.checkpoint).toMatchObject({ origin: trust.origin });
      expect(verifyVerificationReceipt(ok.body.receipt, publicKey)).toBe(true);
      // The issuer's embedded verifier key (derived from the master key) did not sign it.
      const derived = deriveServiceKey(testConfig().masterKey, 'verifier');
      expect(verifyVerificationReceipt(ok.body.receipt, derived.publicKey)).toBe(false);

      // A unit still at the manufacturer is not the distributor's to receive.
      const held = await verify(p, unit('S2'));
      expect(held.status).toBe(201);
      expect(held.body.verdict).not.toBe('accept');
    }, 120_000);

    it('never reads PROVENANT_MASTER_KEY, even when its environment has one', async () => {
      const file = join(dir, 'master-trust.json');
      writeFileSync(file, JSON.stringify(trust));
      const read: string[] = [];
      const env = new Proxy(
        {
          DATABASE_URL: dbUrl,
          PORT: '0',
          PROVENANT_TRUST_FILE: file,
          PROVENANT_VERIFIER_KEY: Buffer.from(seed).toString('base64'),
          PROVENANT_MASTER_KEY: Buffer.from(testConfig().masterKey).toString('base64'),
        } as Record<string, string | undefined>,
        {
          get(target, name: string) {
            read.push(name);
            return target[name];
          },
        },
      );
      const running = await startVerifier({ env, print: () => {} });
      try {
        const res = await fetch(`${running.url}/v1/verifications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${dist.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ subject: unit('S1'), purpose: 'receiving' }),
        });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const body = JSON.parse(await res.text()) as any;
        expect([res.status, body.verdict]).toEqual([201, 'accept']);
        expect(verifyVerificationReceipt(body.receipt, publicKey)).toBe(true);
      } finally {
        await running.stop();
      }
      expect(read).toContain('PROVENANT_VERIFIER_KEY');
      expect(read).not.toContain('PROVENANT_MASTER_KEY');
    }, 120_000);

    it('refuses a database the issuer has not migrated, saying so (exit 1)', async () => {
      const empty = await createTestDatabase(pgUrl!, 'provenant_verifier_empty');
      try {
        const file = join(dir, 'empty-trust.json');
        writeFileSync(file, JSON.stringify(trust));
        const r = await refusal({
          DATABASE_URL: empty,
          PORT: '0',
          PROVENANT_TRUST_FILE: file,
          PROVENANT_VERIFIER_KEY: Buffer.from(seed).toString('base64'),
        });
        expect(r.code).toBe(1);
        expect(r.err).toContain('the database has no Provenant log');
      } finally {
        await dropTestDatabase(pgUrl!, empty);
      }
    }, 60_000);

    it('trusts the log only through the trust file: another log key makes the same unit fail', async () => {
      const other = encodeVerifierKey(
        trust.origin!,
        publicKeyFromSeed(new Uint8Array(32).fill(9), nodeBackend),
      );
      const p = await start('other', { ...trust, logKey: other });
      const res = await verify(p, unit('S1'));
      expect(res.status).toBe(201);
      expect(res.body.verdict).toBe('reject');
      expect(res.body.reasons.map((r: { code: string }) => r.code)).toContain('LOG_PROOF_INVALID');
      expect(verifyVerificationReceipt(res.body.receipt, publicKey)).toBe(true);
    }, 120_000);
  },
);
