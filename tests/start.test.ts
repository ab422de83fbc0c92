// The main command end to end (issue 3 "The main command", DESIGN §8a
// configuration): the real `scripts/start.ts` process on a fresh data dir
// seeds the demo and prints its tokens once; scripts/demo walks a unit
// through it; SIGTERM shuts it down cleanly; a restart on the same data dir
// re-seeds nothing, prints no new token and serves the same log. With
// PROVENANT_TEST_DATABASE_URL the same process runs on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isValidGln, isValidGtin14, parseVerifierKey, verifyCheckpoint } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  DEMO_PARTIES,
  DEMO_PRODUCT,
  DEMO_TOKENS_FILE,
  demoSscc,
} from '../services/issuer/src/seed.js';
import {
  createTestDatabase,
  dropTestDatabase,
  exitCodeOf,
  runScript,
  START_TIMEOUT_MS,
  startServiceProcess as start,
  type ServiceProcess as Proc,
} from './support/service-process.js';

async function get(url: string, token?: string): Promise<Response> {
  return fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
}

/** The latest checkpoint, verified with the log key the service publishes. */
async function verifiedCheckpoint(url: string): Promise<{ size: number; note: string }> {
  const log = (await (await get(`${url}/v1/log`)).json()) as { origin: string; vkey: string };
  const note = await (await get(`${url}/v1/log/checkpoint`)).text();
  const r = verifyCheckpoint(note, parseVerifierKey(log.vkey), {
    origin: log.origin,
    backend: nodeBackend,
  });
  if (!r.ok) throw new Error(`checkpoint does not verify: ${r.code} ${r.detail}`);
  return { size: r.checkpoint.size, note };
}

describe('the demo data', () => {
  it('uses GS1 identifiers with valid check digits under the manufacturer prefix', () => {
    for (const p of DEMO_PARTIES) expect(isValidGln(p.gln)).toBe(true);
    expect(isValidGtin14(DEMO_PRODUCT.gtin)).toBe(true);
    expect(DEMO_PRODUCT.gtin.slice(1, 8)).toBe(DEMO_PARTIES[0]!.prefixes[0]);
    expect(demoSscc(1)).toBe('00/006141410000000012');
  });
});

describe('pnpm start with a bad configuration', () => {
  it('refuses to start on PostgreSQL without a master key, naming the variable', async () => {
    // The config check comes before any connection, so no server is needed.
    const child = runScript('start.ts', {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      PORT: '0',
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    expect(await exitCodeOf(child)).toBe(1);
    expect(err).toContain('cannot start: ConfigError: PROVENANT_MASTER_KEY');
  }, 30_000);
});

describe('pnpm start on embedded PGlite', () => {
  let dataDir: string;
  let first: Proc | undefined;
  let second: Proc | undefined;
  let tokens: string[] = [];
  let sizeAfterDemo = 0;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'provenant-start-'));
  });
  afterAll(async () => {
    for (const p of [first, second]) if (p && p.child.exitCode === null) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    'starts on an empty data dir, seeds the demo and prints the admin and demo tokens once',
    async () => {
      first = await start({ PROVENANT_DATA_DIR: dataDir });
      const banner = first.stdout();
      expect(banner).toMatch(/Admin token \(shown once, only its hash is stored\): pvn_\S+/);
      expect(banner).toContain('Demo supply chain seeded');
      expect(banner).toContain(`${first.printedUrl}/dock`);
      tokens = [...banner.matchAll(/GLN \d{13} .* token (pvn_\S+)/g)].map((m) => m[1]!);
      expect(tokens).toHaveLength(3);
      expect(first.stderr()).toContain('generated a master key');
      // Secrets at rest are readable by the owner only (DESIGN §8a).
      expect(statSync(join(dataDir, 'master.key')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, DEMO_TOKENS_FILE)).mode & 0o777).toBe(0o600);
      const saved = JSON.parse(readFileSync(join(dataDir, DEMO_TOKENS_FILE), 'utf8')) as {
        parties: { token: string }[];
      };
      expect(saved.parties.map((p) => p.token)).toEqual(tokens);
    },
    START_TIMEOUT_MS + 10_000,
  );

  it('serves health, readiness, the log, and the registry to a demo token', async () => {
    const url = first!.url;
    expect((await get(`${url}/healthz`)).status).toBe(200);
    expect((await get(`${url}/readyz`)).status).toBe(200);
    const log = await get(`${url}/v1/log`);
    expect(log.status).toBe(200);
    expect(((await log.json()) as { origin: string }).origin).toBe('provenant.local/log');
    // Three party + three key notices and the seeded records are in the log.
    expect((await verifiedCheckpoint(url)).size).toBeGreaterThan(6);

    const [acme, northwind] = DEMO_PARTIES;
    const party = await get(`${url}/v1/parties/${acme!.gln}`, tokens[1]);
    expect(party.status).toBe(200);
    expect(((await party.json()) as { gln: string }).gln).toBe(acme!.gln);
    const chain = await get(`${url}/v1/chains/${demoSscc(1)}`, tokens[1]);
    expect(chain.status).toBe(200);
    const body = (await chain.json()) as { status: string; records: { type: string }[] };
    expect(body.records.map((r) => r.type)).toEqual(['pack', 'ship']);
    expect(body.status).toBe('in_transit');
    // Without a token the registry is closed.
    expect((await get(`${url}/v1/parties/${northwind!.gln}`)).status).toBe(401);
  });

  it('routes by path alone: a query or an absolute-form target reaches the verifier; an odd target is a 4xx, not a crash', async () => {
    const url = new URL(first!.url);
    const raw = (target: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest(
          { host: url.hostname, port: url.port, path: target, method: 'GET' },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const target of ['/v1/verifier?x=1', `http://${url.host}/v1/verifier`]) {
      const r = await raw(target);
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toHaveProperty('verifiedSize'); // the verifier's answer, not the issuer's 404
    }
    expect((await raw('http://[/v1/verifier')).status).toBeGreaterThanOrEqual(400);
    expect((await raw('http://[/v1/verifier')).status).toBeLessThan(500);
    expect((await get(`${first!.url}/healthz`)).status).toBe(200);
  });

  it('lets scripts/demo walk a unit from commission to the pharmacy', async () => {
    const demo = runScript('demo.ts', { PROVENANT_DATA_DIR: dataDir, PROVENANT_URL: first!.url });
    let out = '';
    let err = '';
    demo.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await exitCodeOf(demo);
    expect({ code, err }).toEqual({ code: 0, err: '' });
    for (const step of [
      '1. commission',
      '2. pack',
      '3. ship',
      '4. receive',
      '5. unpack',
      '6. ship',
      '7. receive',
    ])
      expect(out).toContain(step);
    expect(out.match(/ id [0-9a-f]{64}/g)?.length).toBe(9);
    expect(out).toContain('inclusion proof verified');
    sizeAfterDemo = (await verifiedCheckpoint(first!.url)).size;
  }, 60_000);

  it(
    'shuts down on SIGTERM and restarts on the same data dir without re-seeding',
    async () => {
      expect(await first!.stop()).toBe(0);
      expect(first!.stderr()).toContain('SIGTERM, shutting down');

      second = await start({ PROVENANT_DATA_DIR: dataDir });
      const banner = second.stdout();
      expect(banner).not.toMatch(/pvn_/);
      expect(banner).not.toContain('Demo supply chain seeded');
      expect(banner).toContain('Existing database (3 parties)');
      expect(second.stderr()).not.toContain('generated a master key');

      const cp = await verifiedCheckpoint(second.url);
      expect(cp.size).toBe(sizeAfterDemo);
      // The custodial keys unseal with the master key kept in the data dir.
      const res = await fetch(`${second.url}/v1/commissions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          items: [{ ...DEMO_PRODUCT, serial: `R${randomBytes(4).toString('hex')}` }],
        }),
      });
      expect(res.status).toBe(201);
      expect(await second.stop()).toBe(0);
    },
    START_TIMEOUT_MS + 20_000,
  );
});

const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;

(pgUrl ? describe : describe.skip)('pnpm start with DATABASE_URL', () => {
  let dbUrl = '';
  let dataDir: string;
  let proc: Proc | undefined;

  beforeAll(async () => {
    dbUrl = await createTestDatabase(pgUrl!, 'provenant_start');
    dataDir = mkdtempSync(join(tmpdir(), 'provenant-start-pg-'));
  });
  // With DATABASE_URL the data dir need not exist: the demo tokens file creates it.
  const dataSubdir = (): string => join(dataDir, 'data');
  afterAll(async () => {
    if (proc && proc.child.exitCode === null) await proc.stop();
    if (dbUrl) await dropTestDatabase(pgUrl!, dbUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('migrates a fresh PostgreSQL database, serves, seeds on request and stops cleanly', async () => {
    proc = await start({
      DATABASE_URL: dbUrl,
      PROVENANT_DATA_DIR: dataSubdir(),
      PROVENANT_MASTER_KEY: randomBytes(32).toString('base64'),
      PROVENANT_DEMO: 'on',
    });
    expect(proc.stdout()).toContain('Database: PostgreSQL (DATABASE_URL)');
    expect(proc.stdout()).toContain('Demo supply chain seeded');
    expect((await get(`${proc.url}/readyz`)).status).toBe(200);
    expect(statSync(join(dataSubdir(), DEMO_TOKENS_FILE)).mode & 0o777).toBe(0o600);
    expect((await verifiedCheckpoint(proc.url)).size).toBeGreaterThan(6);
    const token = /GLN \d{13} .* token (pvn_\S+)/.exec(proc.stdout())![1]!;
    expect((await get(`${proc.url}/v1/parties/${DEMO_PARTIES[2]!.gln}`, token)).status).toBe(200);
    expect(await proc.stop()).toBe(0);
  }, 60_000);
});
