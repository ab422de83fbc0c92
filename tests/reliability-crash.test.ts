// Reliability across a crash (issue 3 "Reliability tests"; DESIGN §6, §9: a
// record, its leaf and its receipt commit in one transaction, so an
// acknowledged write survives `kill -9`). The real service process
// (scripts/start.ts) takes appends from several concurrent clients, is killed
// with SIGKILL mid-stream after a few hundred acknowledged writes, and is
// restarted on the same data: every acknowledged write must be there with
// the same id, seq and receipt, the log must verify from its first
// checkpoint to its last, and appends must work again. Runs on embedded
// PGlite, and also on PostgreSQL when PROVENANT_TEST_DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canonicalBytes,
  leafHash,
  rootFromLeafHashes,
  toHex,
  type Checkpoint,
} from '@provenant/core';
import {
  allEntries,
  chainProblems,
  checkedCheckpoint,
  Client,
  commissionRecord,
  consistencyProblem,
  hex,
  inclusionProblem,
  leafProblems,
  logIdentity,
  pollCheckpoints,
  receiveRecord,
  registerParty,
  shipRecord,
  signRecord,
  withCheckDigit,
  type Acked,
  type Actor,
  type ChainRecord,
  type LogEntry,
  type LogIdentity,
} from './support/reliability.js';
import {
  createTestDatabase,
  dropTestDatabase,
  START_TIMEOUT_MS,
  startServiceProcess,
  type ServiceProcess,
} from './support/service-process.js';

const ADMIN = `crash-test-admin-${randomBytes(12).toString('hex')}`;
/**
 * Concurrent clients and how many units each hands off: six single-record
 * clients and two that post batches of ten (all-or-nothing, DESIGN §8).
 */
const GROUPS = [1, 1, 1, 1, 1, 1, 10, 10];
/** Acknowledged writes before the kill. */
const KILL_AFTER = 300;
const GTIN = withCheckDigit('1061414100060');
const MFR = withCheckDigit('061414100060');
const DIST = withCheckDigit('061414100061');

/** Runs `fn` over `items` with at most `n` in flight. */
async function pool<T>(items: readonly T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

interface Scenario {
  env: Record<string, string>;
  label: string;
}

function crashSuite(scenario: () => Scenario): void {
  let before: ServiceProcess | undefined;
  let after: ServiceProcess | undefined;
  let c: Client;
  let log: LogIdentity;
  let mfr: Actor;
  let dist: Actor;
  /** Every write a 201 acknowledged, before the kill. */
  const acked: Acked[] = [];
  /** Every unit handed off. */
  const units: string[] = [];
  let firstCheckpoint: Checkpoint;
  let seenBefore: Checkpoint[] = [];
  const unexpected: string[] = [];
  let inFlightAtKill = 0;
  let inFlightEnvelopes = 0;
  /** Leaf hashes of every record envelope sent during the run, acknowledged or not. */
  const sent = new Set<string>();
  let unackedAtKill = 0;
  let entries: LogEntry[];
  let latest: Checkpoint;

  const chainOf = async (subject: string): Promise<ChainRecord[]> =>
    (
      (await c.expect(200, c.get(`/v1/chains/${subject}`, dist.token), `chain ${subject}`)) as {
        records: ChainRecord[];
      }
    ).records;

  /**
   * A client handing its units back and forth between the two parties until
   * the service dies: one envelope per request for a single unit, else one
   * all-or-nothing batch (POST /v1/records {envelopes}) per step.
   */
  async function handoffs(n: number, firsts: Acked[], dead: () => boolean): Promise<void> {
    const heads = [...firsts];
    let holder = mfr;
    let shipped: { to: Actor; shipment: string } | null = null;
    for (let i = 0; !dead(); i++) {
      const shipment: string = shipped?.shipment ?? `S-${n}-${i}`;
      const actor = shipped ? shipped.to : holder;
      const envelopes = heads.map((head) =>
        signRecord(
          shipped
            ? receiveRecord(actor, head.subject, head, holder.gln, shipment)
            : shipRecord(actor, head.subject, head, holder === mfr ? DIST : MFR, shipment),
          actor.key,
        ),
      );
      for (const e of envelopes) sent.add(toHex(leafHash(canonicalBytes(e))));
      let res;
      inFlightAtKill++;
      inFlightEnvelopes += envelopes.length;
      try {
        res = await c.post(
          '/v1/records',
          actor.token,
          envelopes.length === 1 ? envelopes[0] : { envelopes },
        );
      } catch {
        return; // the service is gone: this write was never acknowledged
      } finally {
        inFlightAtKill--;
        inFlightEnvelopes -= envelopes.length;
      }
      if (res.status !== 201) {
        if (!dead()) unexpected.push(`client ${n} step ${i}: ${res.status} ${res.text}`);
        return;
      }
      const b = res.body as Acked & { records?: Acked[] };
      (b.records ?? [b]).forEach((r, k) => {
        heads[k] = { ...r, envelope: envelopes[k]! };
        acked.push(heads[k]!);
      });
      if (shipped) {
        holder = shipped.to;
        shipped = null;
      } else shipped = { to: holder === mfr ? dist : mfr, shipment };
    }
  }

  beforeAll(async () => {
    const { env, label } = scenario();
    before = await startServiceProcess(env);
    c = new Client(before.url);
    log = await logIdentity(c);
    mfr = await registerParty(c, ADMIN, {
      gln: MFR,
      roles: ['manufacturer'],
      prefixes: ['0614141'],
    });
    dist = await registerParty(c, ADMIN, { gln: DIST, roles: ['distributor'], prefixes: [] });
    // One commission batch per client: its units start in the manufacturer's custody.
    const groups: Acked[][] = [];
    for (const [n, size] of GROUPS.entries()) {
      const envelopes = Array.from({ length: size }, (_, i) =>
        signRecord(commissionRecord(mfr, GTIN, `C${n}-${i}`), mfr.key),
      );
      const b = (await c.expect(
        201,
        c.post('/v1/records', mfr.token, { envelopes }),
        'commission',
      )) as { records: Acked[] };
      const group = b.records.map((r, i) => ({ ...r, envelope: envelopes[i]! }));
      groups.push(group);
      acked.push(...group);
      units.push(...group.map((a) => a.subject));
    }
    firstCheckpoint = checkedCheckpoint((await c.get('/v1/log/checkpoint')).text, log);

    // Append from every client; kill -9 once KILL_AFTER writes are acknowledged.
    const poller = pollCheckpoints(c, 20);
    let dead = false;
    const isDead = () => dead;
    const t0 = performance.now();
    let running = groups.length;
    const done = () => void running--;
    const clients = groups.map((g, n) => handoffs(n, g, isDead).finally(done));
    let inFlight = 0;
    const killer = (async () => {
      // Stop early if every client gave up (an unexpected answer): the tests below say why.
      while (acked.length < KILL_AFTER && running > 0) await new Promise((r) => setTimeout(r, 5));
      // A little jitter so the kill lands at varying points of a group commit.
      await new Promise((r) => setTimeout(r, Math.random() * 40));
      inFlight = inFlightAtKill;
      unackedAtKill = inFlightEnvelopes;
      dead = true;
      await before!.kill9();
    })();
    await killer;
    const ms = performance.now() - t0;
    await Promise.all(clients);
    seenBefore = (await poller.stop()).map((n) => checkedCheckpoint(n, log));
    const ackedAtKill = acked.length;

    // Restart on the same data (same env): recovery must need nothing from us.
    const t1 = performance.now();
    after = await startServiceProcess(env);
    c = new Client(after.url);
    const restartMs = performance.now() - t1;
    entries = await allEntries(c, ADMIN);
    latest = checkedCheckpoint((await c.get('/v1/log/checkpoint')).text, log);
    process.stdout.write(
      `reliability-crash (${label}): ${ackedAtKill} writes acknowledged in ${Math.round(ms)} ms ` +
        `(${((ackedAtKill * 1000) / ms).toFixed(1)}/s) before kill -9 with ${inFlight} requests in flight; ` +
        `${seenBefore.length} checkpoints seen; restart in ${Math.round(restartMs)} ms; ` +
        `log size ${entries.length} after restart, ` +
        `${entries.filter((e) => e.kind === 'record').length - acked.length} of ${unackedAtKill} ` +
        `unacknowledged in-flight records committed\n`,
    );
  }, 3 * START_TIMEOUT_MS);

  afterAll(async () => {
    for (const p of [before, after]) if (p) await p.stop();
  });

  it('acknowledged the writes without error until the kill', () => {
    expect(unexpected).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER);
  });

  it('keeps every acknowledged write in the log at its index, with the same receipt', () => {
    const bad = acked.filter((a) => {
      const e = entries[a.receipt.index];
      return (
        !e ||
        e.id !== a.id ||
        // Same envelope: the leaf hash covers JCS(envelope) (DESIGN §6), whatever the key order.
        e.leafHash !== toHex(leafHash(canonicalBytes(a.envelope!))) ||
        JSON.stringify(e.receipt) !== JSON.stringify(a.receipt)
      );
    });
    expect(bad.map((a) => `${a.subject}#${a.seq} @${a.receipt.index}`)).toEqual([]);
  });

  it('keeps every acknowledged write in its chain with the same id, seq and receipt', async () => {
    const subjects = [...new Set(acked.map((a) => a.subject))];
    const chains = new Map<string, ChainRecord[]>();
    await pool(subjects, 4, async (s) => {
      chains.set(s, await chainOf(s));
    });
    const problems: string[] = [];
    for (const s of subjects) problems.push(...chainProblems(s, chains.get(s)!));
    for (const a of acked) {
      const r = chains.get(a.subject)![a.seq];
      if (!r || r.id !== a.id || JSON.stringify(r.receipt) !== JSON.stringify(a.receipt))
        problems.push(`${a.subject}#${a.seq} ${a.id} is not in its chain`);
    }
    expect(problems).toEqual([]);
  });

  it('holds no record it was not sent: beyond the acknowledged ones, only requests in flight at the kill', () => {
    const ackedLeaves = new Set(acked.map((a) => a.receipt.leafHash));
    const records = entries.filter((e) => e.kind === 'record');
    const extra = records.filter((e) => !ackedLeaves.has(e.leafHash));
    // Committed but never acknowledged is allowed (the answer was lost in the kill).
    expect(extra.filter((e) => !sent.has(e.leafHash)).map((e) => e.index)).toEqual([]);
    expect(extra.length).toBeLessThanOrEqual(unackedAtKill);
    expect(records.length).toBe(acked.length + extra.length);
  });

  it('serves a log whose leaves, receipts and latest checkpoint all verify', () => {
    expect(leafProblems(entries, log.publicKey)).toEqual([]);
    // The latest checkpoint covers every leaf, and its root is the root of these leaves.
    expect(latest.size).toBe(entries.length);
    const root = rootFromLeafHashes(entries.map((e) => hex(e.leafHash)));
    expect(toHex(root)).toBe(toHex(latest.rootHash));
  });

  it('proves the latest checkpoint consistent with the first one and every one seen before the kill', async () => {
    const problems: string[] = [];
    for (const cp of [firstCheckpoint, ...seenBefore]) {
      const p = await consistencyProblem(c, cp, latest);
      if (p) problems.push(p);
    }
    expect(seenBefore.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('proves every acknowledged write included in the latest checkpoint', async () => {
    const problems: string[] = [];
    await pool(acked, 8, async (a) => {
      const p = await inclusionProblem(c, a.receipt.index, a.receipt.leafHash, latest);
      if (p) problems.push(p);
    });
    expect(problems).toEqual([]);
  });

  it('takes appends again after the restart, on every unit, with a consistent new checkpoint', async () => {
    for (const s of units) {
      const chain = await chainOf(s);
      const last = chain[chain.length - 1]!;
      const holderGln = last.type === 'ship' ? String(last.data.to) : last.actor;
      const actor = holderGln === MFR ? mfr : dist;
      const rec =
        last.type === 'ship'
          ? receiveRecord(actor, s, last, last.actor, String(last.data.shipment))
          : shipRecord(actor, s, last, actor === mfr ? DIST : MFR, 'S-after-restart');
      const res = await c.post('/v1/records', actor.token, signRecord(rec, actor.key));
      expect({ subject: s, status: res.status }).toEqual({ subject: s, status: 201 });
    }
    const next = checkedCheckpoint((await c.get('/v1/log/checkpoint')).text, log);
    expect(next.size).toBe(entries.length + units.length);
    expect(await consistencyProblem(c, latest, next)).toBeNull();
    expect(await consistencyProblem(c, firstCheckpoint, next)).toBeNull();
  });
}

describe('kill -9 of the service on embedded PGlite during appends', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'provenant-crash-'));
  });
  crashSuite(() => ({
    label: 'PGlite',
    env: { PROVENANT_DATA_DIR: dataDir, PROVENANT_DEMO: 'off', PROVENANT_ADMIN_TOKEN: ADMIN },
  }));
  // After crashSuite's own afterAll (hooks run in declaration order): the process is stopped first.
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
});

const pgUrl = process.env.PROVENANT_TEST_DATABASE_URL;

(pgUrl ? describe : describe.skip)('kill -9 of the service on PostgreSQL during appends', () => {
  const masterKey = randomBytes(32).toString('base64');
  let dbUrl = '';
  let dataDir: string;
  beforeAll(async () => {
    dbUrl = await createTestDatabase(pgUrl!, 'provenant_crash');
    dataDir = mkdtempSync(join(tmpdir(), 'provenant-crash-pg-'));
  });
  crashSuite(() => ({
    label: 'PostgreSQL',
    env: {
      DATABASE_URL: dbUrl,
      PROVENANT_MASTER_KEY: masterKey,
      PROVENANT_DATA_DIR: dataDir,
      PROVENANT_DEMO: 'off',
      PROVENANT_ADMIN_TOKEN: ADMIN,
    },
  }));
  // Dropped only after crashSuite's afterAll stopped the service.
  afterAll(async () => {
    if (dbUrl) await dropTestDatabase(pgUrl!, dbUrl);
    rmSync(dataDir, { recursive: true, force: true });
  });
});
