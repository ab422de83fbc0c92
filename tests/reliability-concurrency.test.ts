// Reliability under concurrency (issue 3 "Reliability tests"; DESIGN §5, §6,
// §9): 16 clients race handoffs on a few shared units over real HTTP against
// one issuer on a real database (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set). Each client reads a chain head, then
// appends a ship or a receive, client-signed (POST /v1/records) or custodial
// (POST /v1/shipments, /v1/receipts); losers of a race must get 409 (stale
// head) or 422 (custody), never a 5xx. Afterwards, checked from the outside:
// no fork is stored, every 201 reads back unchanged, the log's leaves are
// exactly the accepted entries, and every checkpoint seen is signed and
// consistent with the next.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromBase64, sha256Hex, unitSubject } from '@provenant/core';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import {
  allEntries,
  chainProblems,
  checkedCheckpoint,
  Client,
  commissionRecord,
  consistencyProblem,
  leafProblems,
  logIdentity,
  pollCheckpoints,
  prng,
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

const CLIENTS = 16;
/** Attempts per client: bounded for CI on a loaded machine; raise it locally for a longer soak. */
const ATTEMPTS = Number(process.env.PROVENANT_RELIABILITY_ATTEMPTS ?? 12);
const UNITS = 6;
const GTIN = withCheckDigit('1061414100050');
const GLNS = ['061414100050', '061414100051', '061414100052', '061414100053'].map(withCheckDigit);

/** What the clients saw, for the assertions and the printed figures. */
interface RunStats {
  acked: Acked[];
  statuses: Map<number, number>;
  unexpected: string[];
  conflicts: number;
  /** 409s other than chain-conflict (e.g. a custodial receipt of a shipment received already). */
  otherConflicts: string[];
  custodyRefusals: number;
  idle: number;
  /** 200s: an identical envelope was already stored. */
  duplicates: Acked[];
  ms: number;
  reads: number;
  readMs: number;
  writeMs: number;
}

interface Head {
  id: string;
  seq: number;
  type: string;
  actor: string;
  data: Record<string, unknown>;
}

describe('16 concurrent clients appending handoffs to overlapping chains', () => {
  let issuer: TestIssuer;
  let server: Server;
  let c: Client;
  let log: LogIdentity;
  let parties: Actor[];
  let subjects: string[];
  let setupAcked: Acked[];
  let setupSize: number;
  let run: RunStats;
  let notes: string[];

  const chainOf = async (subject: string, token: string): Promise<ChainRecord[]> =>
    (
      (await c.expect(200, c.get(`/v1/chains/${subject}`, token), `chain ${subject}`)) as {
        records: ChainRecord[];
      }
    ).records;

  /** One client: reads heads, acts where its party may, races the others. */
  async function client(n: number, stats: RunStats): Promise<void> {
    const me = parties[n % parties.length]!;
    const custodial = n % 3 === 2;
    const rand = prng(1000 + n);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const order = [...subjects].sort(() => rand() - 0.5);
      let target: { subject: string; head: Head; action: 'ship' | 'receive' } | null = null;
      let first: { subject: string; head: Head } | null = null;
      for (const subject of order) {
        const t = performance.now();
        // Heads are read as the operator: a party outside a chain gets 404 for it (DESIGN §6a).
        const records = await chainOf(subject, issuer.adminToken);
        stats.reads++;
        stats.readMs += performance.now() - t;
        const last = records[records.length - 1]!;
        const head: Head = last;
        first ??= { subject, head };
        if ((last.type === 'commission' || last.type === 'receive') && last.actor === me.gln) {
          target = { subject, head, action: 'ship' };
          break;
        }
        if (last.type === 'ship' && last.data.to === me.gln) {
          target = { subject, head, action: 'receive' };
          break;
        }
      }
      let res: { status: number; body: unknown; text: string };
      let expectRefusal = false;
      /** Id of a client-signed receive sent, to recognise a replay of it. */
      let receiveId: string | null = null;
      const tw = performance.now();
      if (target === null) {
        // Nothing for this party right now: ship a unit it does not hold (DESIGN §5: 422).
        expectRefusal = true;
        stats.idle++;
        const { subject, head } = first!;
        const to = pick(parties.filter((p) => p !== me)).gln;
        res = await c.post(
          '/v1/records',
          me.token,
          signRecord(shipRecord(me, subject, head, to, `X-${n}-${attempt}`), me.key),
        );
      } else if (target.action === 'ship') {
        const to = pick(parties.filter((p) => p !== me)).gln;
        const shipment = `SH-${n}-${attempt}`;
        res = custodial
          ? await c.post('/v1/shipments', me.token, { subjects: [target.subject], to, shipment })
          : await c.post(
              '/v1/records',
              me.token,
              signRecord(shipRecord(me, target.subject, target.head, to, shipment), me.key),
            );
      } else {
        const from = target.head.actor;
        const shipment = target.head.data.shipment as string;
        if (custodial)
          res = await c.post('/v1/receipts', me.token, {
            shipment,
            from,
            scanned: [target.subject],
            condition: 'ok',
          });
        else {
          const rec = receiveRecord(me, target.subject, target.head, from, shipment);
          const env = signRecord(rec, me.key);
          receiveId = sha256Hex(fromBase64(env.payload)!);
          res = await c.post('/v1/records', me.token, env);
        }
      }
      stats.writeMs += performance.now() - tw;
      stats.statuses.set(res.status, (stats.statuses.get(res.status) ?? 0) + 1);
      if (res.status === 201) {
        if (expectRefusal) stats.unexpected.push(`client ${n}: a custody violation was accepted`);
        const b = res.body as Acked & { records?: Acked[] };
        for (const a of b.records ?? [b]) stats.acked.push(a);
      } else if (res.status === 200 && (res.body as Acked).id === receiveId) {
        // Two clients of one party receiving in the same millisecond sign byte-identical
        // records (Ed25519 is deterministic): the second gets the stored result (DESIGN §8).
        stats.duplicates.push(res.body as Acked);
      } else if (res.status === 409) {
        stats.conflicts++;
        // DESIGN §8: a chain conflict names the current head.
        const b = res.body as { type?: string; subject?: string; head?: string; seq?: number };
        const read = target ?? first!;
        if (b.type === 'urn:provenant:problem:chain-conflict') {
          // The head moved on since this client read it.
          if (b.subject !== read.subject || typeof b.head !== 'string' || !(b.seq! > read.head.seq))
            stats.unexpected.push(`client ${n}: 409 not naming a newer head: ${res.text}`);
        } else if (!/^urn:provenant:problem:/.test(b.type ?? ''))
          stats.unexpected.push(`client ${n}: 409 without a problem type: ${res.text}`);
        else stats.otherConflicts.push(b.type!);
      } else if (res.status === 422) {
        stats.custodyRefusals++;
        // DESIGN §8: 422 carries the reason code; racing handoffs can only break custody.
        const codes = ((res.body as { reasons?: { code: string }[] }).reasons ?? []).map(
          (r) => r.code,
        );
        if (codes.length === 0 || codes.some((code) => code !== 'CUSTODY_VIOLATION'))
          stats.unexpected.push(`client ${n}: 422 with reasons ${codes.join(',')}: ${res.text}`);
      } else {
        stats.unexpected.push(`client ${n} attempt ${attempt}: ${res.status} ${res.text}`);
      }
    }
  }

  beforeAll(
    async () => {
      issuer = await startTestIssuer();
      server = createServer(issuer.app);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      c = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      log = await logIdentity(c);
      const admin = issuer.adminToken;
      parties = [];
      for (const [i, gln] of GLNS.entries())
        parties.push(
          await registerParty(c, admin, {
            gln,
            roles: i === 0 ? ['manufacturer'] : ['distributor'],
            prefixes: i === 0 ? ['0614141'] : [],
            custodial: true,
          }),
        );
      const mfr = parties[0]!;
      setupAcked = [];
      subjects = [];
      for (let u = 0; u < UNITS; u++) {
        const serial = `R${u}`;
        const a = (await c.expect(
          201,
          c.post(
            '/v1/records',
            mfr.token,
            signRecord(commissionRecord(mfr, GTIN, serial), mfr.key),
          ),
          'commission',
        )) as Acked;
        setupAcked.push(a);
        subjects.push(unitSubject(GTIN, serial));
      }
      setupSize = (await allEntries(c, issuer.adminToken)).length;

      const poller = pollCheckpoints(c, 15);
      run = {
        acked: [],
        statuses: new Map(),
        unexpected: [],
        conflicts: 0,
        otherConflicts: [],
        custodyRefusals: 0,
        idle: 0,
        duplicates: [],
        ms: 0,
        reads: 0,
        readMs: 0,
        writeMs: 0,
      };
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CLIENTS }, (_, n) => client(n, run)));
      run.ms = performance.now() - t0;
      notes = await poller.stop();
      // The last checkpoint after every append returned (the sequencer signs one per batch).
      const last = await c.get('/v1/log/checkpoint');
      if (notes[notes.length - 1] !== last.text) notes.push(last.text);
      process.stdout.write(
        `reliability-concurrency (${process.env.PROVENANT_TEST_DATABASE_URL ? 'PostgreSQL' : 'PGlite'}): ` +
          `${CLIENTS * ATTEMPTS} attempts in ${Math.round(run.ms)} ms, ` +
          `${run.acked.length} appended (${((run.acked.length * 1000) / run.ms).toFixed(1)}/s), ` +
          `${run.conflicts} x 409 (${run.otherConflicts.length} not chain-conflict: ` +
          `${[...new Set(run.otherConflicts)].join(', ')}), ${run.custodyRefusals} x 422 (${run.idle} deliberate), ${run.duplicates.length} x 200 replay, ` +
          `${notes.length} checkpoints seen, ${run.reads} chain reads averaging ` +
          `${(run.readMs / run.reads).toFixed(1)} ms, writes averaging ` +
          `${(run.writeMs / (CLIENTS * ATTEMPTS)).toFixed(1)} ms, statuses ${JSON.stringify([...run.statuses])}\n`,
      );
    },
    120_000 + ATTEMPTS * 2_000,
  );

  afterAll(async () => {
    if (server) await new Promise<void>((r) => server.close(() => r()));
    await issuer?.stop();
  });

  it('answers every racing append with 201, 409 or 422 (200 replaying an identical record), never a 5xx', () => {
    expect(run.unexpected).toEqual([]);
    expect([...run.statuses.keys()].every((s) => [200, 201, 409, 422].includes(s))).toBe(true);
    // A 200 only ever replays a record that a 201 acknowledged, with the same receipt.
    const byId = new Map(run.acked.map((a) => [a.id, a]));
    for (const d of run.duplicates) expect(d).toEqual(byId.get(d.id));
    // The run did race: appends went through and some lost to a stale head.
    expect(run.acked.length).toBeGreaterThan(CLIENTS);
    expect(run.conflicts).toBeGreaterThan(0);
  });

  it('stores no fork: every chain has seqs 0..n, each prev the id before it', async () => {
    const problems: string[] = [];
    for (const s of subjects)
      problems.push(...chainProblems(s, await chainOf(s, issuer.adminToken)));
    expect(problems).toEqual([]);
  });

  it('reads back every acknowledged append with the same id, seq and receipt', async () => {
    const chains = new Map<string, ChainRecord[]>();
    for (const s of subjects) chains.set(s, await chainOf(s, issuer.adminToken));
    const missing: string[] = [];
    for (const a of [...setupAcked, ...run.acked]) {
      const r = chains.get(a.subject)?.[a.seq];
      if (!r || r.id !== a.id || JSON.stringify(r.receipt) !== JSON.stringify(a.receipt))
        missing.push(`${a.subject} seq ${a.seq} id ${a.id}`);
    }
    expect(missing).toEqual([]);
    // And nothing else is stored: the chains hold exactly the acknowledged records.
    const stored = [...chains.values()].reduce((n, rs) => n + rs.length, 0);
    expect(stored).toBe(setupAcked.length + run.acked.length);
  });

  describe('the log afterwards', () => {
    let entries: LogEntry[];
    beforeAll(async () => {
      entries = await allEntries(c, issuer.adminToken);
    });

    it('has dense indexes, correct leaf hashes and receipts signed by the log key', () => {
      expect(leafProblems(entries, log.publicKey)).toEqual([]);
    });

    it('holds exactly the accepted entries: the set-up, then one leaf per 201', () => {
      const runLeaves = entries.slice(setupSize);
      expect(runLeaves.every((e) => e.kind === 'record')).toBe(true);
      expect(runLeaves.map((e) => e.id).sort()).toEqual(run.acked.map((a) => a.id).sort());
      // The set-up: one party and two key notices per party, then the commissions.
      const setup = entries.slice(0, setupSize);
      expect(setup.filter((e) => e.kind === 'notice')).toHaveLength(parties.length * 3);
      expect(setup.filter((e) => e.kind === 'record').map((e) => e.id)).toEqual(
        setupAcked.map((a) => a.id),
      );
    });

    it('matches every acknowledged receipt to its leaf', () => {
      const bad = [...setupAcked, ...run.acked].filter((a) => {
        const e = entries[a.receipt.index];
        return (
          !e ||
          e.id !== a.id ||
          e.leafHash !== a.receipt.leafHash ||
          JSON.stringify(e.receipt) !== JSON.stringify(a.receipt)
        );
      });
      expect(bad.map((a) => `${a.subject}#${a.seq}`)).toEqual([]);
    });

    it('has one record leaf per (subject, seq): no fork reached the log either', () => {
      const seen = new Map<string, string>();
      const dups: string[] = [];
      for (const e of entries) {
        if (e.kind !== 'record') continue;
        const rec = JSON.parse(Buffer.from(e.envelope.payload, 'base64').toString('utf8')) as {
          subject: string;
          seq: number;
        };
        const k = `${rec.subject}#${rec.seq}`;
        if (seen.has(k)) dups.push(k);
        seen.set(k, e.id);
      }
      expect(dups).toEqual([]);
    });
  });

  describe('the checkpoints seen during the run', () => {
    it('are each signed by the log key and the last covers the whole log', async () => {
      const cps = notes.map((n) => checkedCheckpoint(n, log));
      expect(cps.length).toBeGreaterThan(1);
      expect(cps[cps.length - 1]!.size).toBe((await allEntries(c, issuer.adminToken)).length);
    });

    it('are pairwise consistent, each a prefix of the next (RFC 9162 proofs)', async () => {
      const cps = notes.map((n) => checkedCheckpoint(n, log));
      const problems: string[] = [];
      for (let i = 1; i < cps.length; i++) {
        const p = await consistencyProblem(c, cps[i - 1]!, cps[i]!);
        if (p) problems.push(p);
      }
      expect(problems).toEqual([]);
    });
  });

  it('still appends after the run', async () => {
    const chain = await chainOf(subjects[0]!, issuer.adminToken);
    const last = chain[chain.length - 1]!;
    const holder =
      last.type === 'ship'
        ? parties.find((p) => p.gln === last.data.to)!
        : parties.find((p) => p.gln === last.actor)!;
    const rec =
      last.type === 'ship'
        ? receiveRecord(holder, subjects[0]!, last, last.actor, last.data.shipment as string)
        : shipRecord(
            holder,
            subjects[0]!,
            last,
            parties[0]!.gln === holder.gln ? GLNS[1]! : GLNS[0]!,
            'SH-after',
          );
    const res = await c.post('/v1/records', holder.token, signRecord(rec, holder.key));
    expect(res.status).toBe(201);
  });
});
