// A verifier on a PostgreSQL streaming replica (DESIGN §7b, §10; issue 15):
// the issuer writes on the primary, a hot standby (tests/support/pg-standby.ts,
// pg_basebackup -R) follows it, and the verifier reads the log from the
// standby. While the standby lags (WAL replay paused) it answers from what it
// has and names the checkpoint it used; after catch-up, the right verdict for
// the newer log. Runs on PostgreSQL only: skipped without
// PROVENANT_TEST_DATABASE_URL, never skipped in CI.
//
// The verifier app (createVerifier, given only the issuer's public trust and
// its own key) reads the log from the standby; its own rows (verifications,
// cases, rate-limit counts, monitor state) are written on the primary
// (readsFromStandby): a standby takes no writes. `pnpm start:verifier` does
// the same with DATABASE_URL on the standby, and its rows on the primary the
// standby streams from (or on PROVENANT_VERIFIER_STATE_URL when set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { unitSubject } from '@provenant/core';
import { openPg, type Database } from '@provenant/store';
import { createVerifier, type Verifier } from '@provenant/verifier';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { readsFromStandby, startStandby, type Standby } from './support/pg-standby.js';
import { startVerifierProcess } from './support/service-process.js';
import { Api, withCheckDigit, type Party } from './support/verifier.js';

const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;
const inCi = process.env.CI === 'true';
const GTIN = withCheckDigit('1061414100015');
const unit = (serial: string) => unitSubject(GTIN, serial);

(pgUrl || inCi ? describe : describe.skip)('a verifier on a hot standby', () => {
  let issuer: TestIssuer;
  let standby: Standby;
  let standbyDb: Database;
  let verifier: Verifier;
  let api: Api;
  let mfr: Party;
  let dist: Party;

  beforeAll(async () => {
    if (!pgUrl) throw new Error('CI=true needs PROVENANT_TEST_DATABASE_URL (a PostgreSQL primary)');
    issuer = await startTestIssuer();
    api = new Api(issuer.app, issuer.adminToken);
    mfr = await api.party(
      withCheckDigit('061414100020'),
      'Acme Pharma',
      ['manufacturer'],
      ['0614141'],
    );
    dist = await api.party(withCheckDigit('061414100021'), 'Northwind', ['distributor']);
    await api.commission(mfr, GTIN, ['S1'], 'LOT-A');
    await api.ship(mfr, [unit('S1')], dist, 'ASN-S1');

    const { rows } = await issuer.db.query<{ db: string }>('SELECT current_database() AS db');
    standby = await startStandby(pgUrl);
    standbyDb = await openPg(standby.urlOf(rows[0]!.db), { max: 4 });
    // Only the public trust and the verifier's own key, as the issuer hands them over.
    verifier = createVerifier({
      db: readsFromStandby(issuer.db, standbyDb),
      ...issuer.verifier,
      workers: 0,
    });
    await standby.catchUp();
  }, 300_000);

  afterAll(async () => {
    await verifier?.close();
    await standbyDb?.close();
    await standby?.stop();
    await issuer?.stop();
  }, 60_000);

  /** The primary's latest signed checkpoint size. */
  async function primarySize(): Promise<number> {
    const res = await request(issuer.app).get('/v1/log/checkpoint').expect(200);
    return Number(res.text.split('\n')[1]);
  }

  async function verify(subject: string) {
    const res = await request(verifier.app)
      .post('/v1/verifications')
      .set('Authorization', `Bearer ${dist.token}`)
      .send({ subject, purpose: 'receiving' });
    expect(res.status).toBe(201);
    return res.body as {
      verdict: string;
      reasons: { code: string }[];
      checkpoint: { size: number } | null;
    };
  }

  it('reads from a real standby, which refuses writes', async () => {
    const { rows } = await standbyDb.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
    expect(rows[0]!.r).toBe(true);
    await expect(standbyDb.query('CREATE TABLE t_standby (x int)')).rejects.toThrow();
  });

  it('once caught up, answers as the primary would, at the primary checkpoint', async () => {
    const v = await verify(unit('S1'));
    expect(v.verdict).toBe('accept');
    expect(v.checkpoint?.size).toBe(await primarySize());
  });

  it('while replay lags, answers from what it has and names that checkpoint; after catch-up, the newer verdict', async () => {
    const before = await primarySize();
    await standby.pauseReplay();
    try {
      // On the primary: a new unit shipped to the distributor, and a recall of S1's lot.
      await api.commission(mfr, GTIN, ['S2'], 'LOT-B');
      await api.ship(mfr, [unit('S2')], dist, 'ASN-S2');
      await api
        .post('/v1/recalls', mfr.token, { gtin: GTIN, lot: 'LOT-A', reason: 'particulates' })
        .expect(201);
      const after = await primarySize();
      expect(after).toBeGreaterThan(before);

      const lagging1 = await verify(unit('S1'));
      expect(lagging1.verdict).toBe('accept'); // the recall is not replayed yet
      expect(lagging1.checkpoint?.size).toBe(before);
      const lagging2 = await verify(unit('S2'));
      expect(lagging2.verdict).toBe('quarantine');
      expect(lagging2.reasons.map((r) => r.code)).toEqual(['UNKNOWN_PRODUCT']);

      await standby.resumeReplay();
      await standby.catchUp();
      const s1 = await verify(unit('S1'));
      expect(s1.verdict).toBe('quarantine');
      expect(s1.reasons.map((r) => r.code)).toContain('RECALLED');
      expect(s1.checkpoint?.size).toBe(after);
      const s2 = await verify(unit('S2'));
      expect(s2.verdict).toBe('accept');
      expect(s2.checkpoint?.size).toBe(after);
    } finally {
      await standby.resumeReplay().catch(() => {});
    }
  }, 300_000);

  // DESIGN §7b: `pnpm start:verifier` "on the primary or a streaming replica".
  it('pnpm start:verifier reads the log from the standby and keeps its own rows on the primary, found or named', async () => {
    const log = (await api.get('/v1/log', issuer.adminToken).expect(200)).body as {
      origin: string;
      vkey: string;
      authorityKey: string;
    };
    const dir = mkdtempSync(join(tmpdir(), 'provenant-standby-trust-'));
    const trustFile = join(dir, 'trust.json');
    writeFileSync(
      trustFile,
      JSON.stringify({
        logKey: log.vkey,
        authorityKey: log.authorityKey,
        witnesses: [],
        witnessQuorum: 0,
        maxCheckpointAgeSeconds: 86_400,
        origin: log.origin,
      }),
    );
    const { rows } = await issuer.db.query<{ db: string }>('SELECT current_database() AS db');
    const env = {
      DATABASE_URL: standby.urlOf(rows[0]!.db),
      PROVENANT_TRUST_FILE: trustFile,
      PROVENANT_VERIFIER_KEY: Buffer.alloc(32, 9).toString('base64'),
    };
    /** A `pnpm start:verifier` process with `vars`: it accepts S2, and its row is on the primary. */
    const acceptsAndStoresOnPrimary = async (vars: Record<string, string>) => {
      const p = await startVerifierProcess(vars);
      try {
        const res = await fetch(`${p.url}/v1/verifications`, {
          method: 'POST',
          headers: { authorization: `Bearer ${dist.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ subject: unit('S2'), purpose: 'receiving' }),
        });
        expect(res.status).toBe(201);
        const v = JSON.parse(await res.text()) as { id: string; verdict: string };
        expect(v.verdict).toBe('accept');
        const stored = await issuer.db.query('SELECT 1 FROM verifications WHERE id = $1', [v.id]);
        expect(stored.rows).toHaveLength(1);
      } finally {
        await p.stop();
      }
    };
    await standby.catchUp();
    try {
      // DESIGN §7b: the four variables alone, DATABASE_URL on the standby. A
      // standby takes no writes: its own rows go to the primary the standby
      // streams from (pg_stat_wal_receiver), with DATABASE_URL's user and database.
      await acceptsAndStoresOnPrimary(env);
      // Or on the primary named by PROVENANT_VERIFIER_STATE_URL.
      const primaryUrl = new URL(pgUrl!);
      primaryUrl.pathname = `/${rows[0]!.db}`;
      await acceptsAndStoresOnPrimary({
        ...env,
        PROVENANT_VERIFIER_STATE_URL: primaryUrl.toString(),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
