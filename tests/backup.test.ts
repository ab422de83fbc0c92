// `provenant admin backup` and `restore` (DESIGN §9) on both drivers: back
// up, append more, restore into a fresh instance; the restored log is
// consistent (RFC 9162 proofs, verified with core) with every checkpoint the
// old instance signed before the backup, and has nothing of what came after.
// The service runs as a real process; the CLI runs in this process.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromHex, parseVerifierKey, verifyCheckpoint, verifyConsistency } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { main as cli } from '@provenant/cli';
import { openDatabase, openPg, type Database, type DatabaseEnv } from '@provenant/store';
import {
  createTestDatabase,
  dropTestDatabase,
  START_TIMEOUT_MS,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';
import { withCheckDigit } from './support/verifier.js';

const ADMIN = `pvn_admin_${randomBytes(12).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('base64');
const AFTER_BACKUP = withCheckDigit('086000900000');
const AFTER_RESTORE = withCheckDigit('086000900001');
const BASE_ENV = {
  PROVENANT_ADMIN_TOKEN: ADMIN,
  PROVENANT_MASTER_KEY: MASTER_KEY,
  PROVENANT_DEMO: 'on',
};

/** Runs the CLI with `args`; resolves to its exit code and output. */
async function provenant(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cli(['node', 'provenant', ...args], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stderrIsTty: false,
    env: {},
    now: () => new Date(),
  });
  return { code, out, err };
}

interface SignedCheckpoint {
  size: number;
  root: Uint8Array;
}

/** Every checkpoint the instance signed, from its database. */
async function signedCheckpoints(db: Database): Promise<SignedCheckpoint[]> {
  const { rows } = await db.query<{ size: string; root: string }>(
    `SELECT size::text AS size, encode(root_hash, 'hex') AS root FROM checkpoints ORDER BY size`,
  );
  return rows.map((r) => ({ size: Number(r.size), root: fromHex(r.root)! }));
}

/** The instance's latest checkpoint, verified with its log key. */
async function latestCheckpoint(url: string): Promise<SignedCheckpoint> {
  const log = (await (await fetch(`${url}/v1/log`)).json()) as { origin: string; vkey: string };
  const note = await (await fetch(`${url}/v1/log/checkpoint`)).text();
  const r = verifyCheckpoint(note, parseVerifierKey(log.vkey), {
    origin: log.origin,
    backend: nodeBackend,
  });
  if (!r.ok) throw new Error(`checkpoint does not verify: ${r.code} ${r.detail}`);
  return { size: r.checkpoint.size, root: r.checkpoint.rootHash };
}

/** Registers a party: two more log entries (party and key notices come with keys; one here). */
async function appendParty(url: string, gln: string): Promise<void> {
  const res = await fetch(`${url}/v1/parties`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${ADMIN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ gln, name: 'After The Backup Ltd', roles: ['distributor'] }),
  });
  expect(res.status).toBe(201);
}

/** Asserts the restored log is consistent with each old checkpoint (core's RFC 9162 check). */
async function expectConsistent(url: string, old: SignedCheckpoint[]): Promise<SignedCheckpoint> {
  const now = await latestCheckpoint(url);
  for (const c of old.filter((x) => x.size > 0)) {
    const res = await fetch(`${url}/v1/log/proofs/consistency?from=${c.size}&to=${now.size}`);
    expect(res.status).toBe(200);
    const { proof } = (await res.json()) as { proof: string[] };
    const r = verifyConsistency(
      c.size,
      now.size,
      proof.map((h) => fromHex(h)!),
      c.root,
      now.root,
    );
    expect({ size: c.size, ...r }).toEqual({ size: c.size, ok: true });
  }
  return now;
}

/**
 * The scenario on one driver. `env(i)` is the database of instance i
 * (0: the old one, 1: the fresh one the backup is restored into).
 */
function scenario(
  env: (i: 0 | 1) => DatabaseEnv & Record<string, string>,
  cliDb: (i: 0 | 1) => string[],
  embedded: boolean,
) {
  let file: string;
  let old: SignedCheckpoint[] = [];
  let atBackup = 0;
  let svc: ServiceProcess | undefined;

  beforeAll(() => {
    file = join(mkdtempSync(join(tmpdir(), 'provenant-backup-file-')), 'provenant.backup');
  });
  afterAll(async () => {
    if (svc && svc.child.exitCode === null) await svc.stop();
    rmSync(join(file, '..'), { recursive: true, force: true });
  });

  it(
    'backs up (PGlite: refused while the service runs), then the old instance appends more',
    async () => {
      svc = await startServiceProcess({ ...BASE_ENV, ...env(0) });
      if (embedded) {
        const busy = await provenant(['admin', 'backup', '--out', file, ...cliDb(0)]);
        expect(busy.code).toBe(1);
        expect(busy.err).toMatch(/in use by process \d+; stop it first/);
        expect(await svc.stop()).toBe(0);
      }
      const db = await (embedded ? openDatabase(env(0)) : openPg(env(0).DATABASE_URL!));
      try {
        old = await signedCheckpoints(db);
        const { rows } = await db.query<{ size: string }>(
          'SELECT size::text AS size FROM log_state',
        );
        atBackup = Number(rows[0]!.size);
      } finally {
        await db.close();
      }
      expect(old.length).toBeGreaterThan(1);
      expect(old[old.length - 1]!.size).toBeLessThanOrEqual(atBackup);

      const backup = await provenant(['admin', 'backup', '--out', file, ...cliDb(0)]);
      expect(backup).toMatchObject({ code: 0, err: '' });
      expect(statSync(file).mode & 0o777).toBe(0o600);

      if (embedded) svc = await startServiceProcess({ ...BASE_ENV, ...env(0) });
      await appendParty(svc!.url, AFTER_BACKUP);
      expect((await latestCheckpoint(svc!.url)).size).toBeGreaterThan(atBackup);
      expect(await svc!.stop()).toBe(0);
    },
    3 * START_TIMEOUT_MS,
  );

  it(
    'restores into a fresh instance whose log is consistent with every checkpoint signed before the backup',
    async () => {
      const restore = await provenant(['admin', 'restore', file, ...cliDb(1)]);
      expect(restore).toMatchObject({ code: 0, err: '' });
      // A second restore onto the now non-empty target is refused.
      const again = await provenant(['admin', 'restore', file, ...cliDb(1)]);
      expect(again.code).toBe(1);
      expect(again.err).toMatch(/not empty/);

      svc = await startServiceProcess({ ...BASE_ENV, ...env(1) });
      const restored = await expectConsistent(svc.url, old);
      // The log as it was at the backup: nothing appended afterwards.
      expect(restored.size).toBe(atBackup);
      const party = await fetch(`${svc.url}/v1/parties/${AFTER_BACKUP}`, {
        headers: { Authorization: `Bearer ${ADMIN}` },
      });
      expect(party.status).toBe(404);
      // The restored instance appends and stays consistent with the old checkpoints.
      await appendParty(svc.url, AFTER_RESTORE);
      expect((await expectConsistent(svc.url, old)).size).toBeGreaterThan(atBackup);
      expect(await svc.stop()).toBe(0);
    },
    2 * START_TIMEOUT_MS,
  );
}

describe('admin backup and restore on embedded PGlite', () => {
  const dirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'provenant-backup-')));
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  scenario(
    (i) => ({ PROVENANT_DATA_DIR: dirs[i]! }),
    (i) => ['--data-dir', dirs[i]!],
    true,
  );
});

const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;
(pgUrl ? describe : describe.skip)('admin backup and restore on PostgreSQL', () => {
  const urls: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) urls.push(await createTestDatabase(pgUrl!, 'provenant_backup'));
  });
  afterAll(async () => {
    for (const u of urls) await dropTestDatabase(pgUrl!, u);
  });
  scenario(
    (i) => ({ DATABASE_URL: urls[i]! }),
    (i) => ['--database-url', urls[i]!],
    false,
  );
});
