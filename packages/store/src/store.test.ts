// The one storage suite (STYLE rule 9): every test runs against PGlite, and
// against PostgreSQL when PROVENANT_TEST_DATABASE_URL is set.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  encodeVerifiedState,
  sha256,
  sha256Hex,
  utf8,
  verifiedStatusOf,
  type ChainState,
} from '@provenant/core';
import {
  AppendOnlyViolationError,
  StoreMisuseError,
  UniqueViolationError,
  appendLeaves,
  createTestDatabase,
  findNoticesByKid,
  findRecalls,
  findRecordsByShipment,
  getActiveToken,
  getRateLimit,
  getTokenGrants,
  incrementRateLimit,
  incrementRateLimits,
  getChain,
  getCheckpoint,
  getHead,
  getHeads,
  getIdempotencyEntry,
  getKey,
  getLeaves,
  getLeafByEntryId,
  getLogSize,
  getNodes,
  getParty,
  getRecord,
  getSealedPrivateKey,
  insertCheckpoint,
  insertCosignature,
  insertKey,
  insertNotices,
  insertParty,
  insertRecords,
  insertToken,
  revokeToken,
  latestCheckpoint,
  listCosignatures,
  listKeysByParty,
  lockLogSize,
  migrate,
  putNodes,
  revokeKey,
  saveIdempotencyEntry,
  setLogSize,
  setPartyStatus,
  storageDrivers,
  upsertChainHeads,
  findPartiesByGtin,
  ackVerifierAlarm,
  getPackedStatuses,
  getPalletFacts,
  getSubjectAlarms,
  getVerifiedDescendants,
  getVerifierCursor,
  getVerifierStatus,
  hasNoticeBefore,
  putVerifiedNotices,
  insertVerifierAlarms,
  markSubjectsAlarmed,
  type NewLeaf,
  type NewRecord,
  type ChainFacts,
  type Queryable,
  type TestDatabase,
} from './index.js';
import { isoOrNull } from './sql.js';

/** getPalletFacts' chain facts as a plain read over a list of subjects (the reference it must agree with). */
async function chainFactsOf(
  q: Queryable,
  subjects: readonly string[],
  below: number,
): Promise<ChainFacts> {
  const { rows } = await q.query(
    `SELECT array_agg(DISTINCT r.kid) AS kids, array_agg(DISTINCT r.actor) AS actors,
            max(r.time) AS max_time, max(l.integrated_at) AS max_receipt
     FROM records r JOIN log_leaves l ON l.idx = r.leaf_idx
     WHERE r.subject = ANY($1::text[]) AND r.leaf_idx < $2::bigint`,
    [subjects, below],
  );
  const r = rows[0]!;
  return {
    kids: (r.kids as string[] | null) ?? [],
    actors: (r.actors as string[] | null) ?? [],
    maxTime: isoOrNull(r.max_time),
    maxReceiptTime: isoOrNull(r.max_receipt),
  };
}

const GLN = '0614141000005';
const KID = 'a'.repeat(32);
const TIME = '2026-11-28T12:00:00.000Z';

function record(
  subject: string,
  seq: number,
  prev: string | null,
  leafIdx: number,
  data: unknown = {},
): NewRecord {
  const payload = utf8(JSON.stringify({ v: 1, subject, seq, prev, type: 'commission', data }));
  return {
    id: sha256Hex(payload),
    subject,
    seq,
    prev,
    type: seq === 0 ? 'commission' : 'ship',
    actor: GLN,
    kid: KID,
    time: TIME,
    data,
    payload,
    envelope: {
      payloadType: 'application/vnd.provenant.record+json',
      payload: 'eA==',
      signatures: [],
    },
    leafIdx,
  };
}

function leaf(idx: number, entryId: string, entryKind: 'record' | 'notice' = 'record'): NewLeaf {
  return {
    idx,
    leafHash: sha256(utf8(`leaf ${idx}`)),
    entryKind,
    entryId,
    envelope: { payloadType: 'x', payload: '', signatures: [] },
    integratedAt: TIME,
    receiptSignature: new Uint8Array(64).fill(idx % 256),
  };
}

/** Appends records with their leaves from the current log size, in one transaction. */
async function appendRecords(
  db: TestDatabase,
  make: (leafIdx: number, i: number) => NewRecord,
  n: number,
) {
  return db.transaction(async (tx) => {
    const size = await lockLogSize(tx);
    const recs = Array.from({ length: n }, (_, i) => make(size + i, i));
    await appendLeaves(
      tx,
      recs.map((r) => leaf(r.leafIdx, r.id)),
    );
    await insertRecords(tx, recs);
    expect(await setLogSize(tx, size + n, size)).toBe(true);
    return recs;
  });
}

describe.each(storageDrivers())('the storage suite on %s', (driver) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase(driver);
    await insertParty(db, {
      gln: GLN,
      name: 'Manufacturer',
      roles: ['manufacturer'],
      prefixes: ['0614141'],
    });
    await insertKey(db, { kid: KID, gln: GLN, publicKey: new Uint8Array(32).fill(1) });
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
  });

  describe('migrations', () => {
    it('are recorded once and re-running them applies nothing', async () => {
      expect(await migrate(db)).toEqual([]);
      const { rows } = await db.query<{ id: number; name: string }>(
        'SELECT id, name FROM migrations ORDER BY id',
      );
      expect(rows[0]).toEqual({ id: 1, name: 'init' });
    });

    it('many concurrent migrate calls on one database are fine', async () => {
      const results = await Promise.all(Array.from({ length: 4 }, () => migrate(db)));
      expect(results.flat()).toEqual([]);
    });
  });

  describe('the append-only tables', () => {
    beforeAll(async () => {
      await appendRecords(db, (idx) => record('01/00000000000017/21/AO', 0, null, idx), 1);
      await db.transaction(async (tx) => {
        const size = await lockLogSize(tx);
        const id = sha256Hex(utf8('notice ao'));
        await appendLeaves(tx, [leaf(size, id, 'notice')]);
        await insertNotices(tx, [
          {
            id,
            type: 'recall',
            actor: GLN,
            kid: KID,
            time: TIME,
            data: { gtin: 'AO' },
            payload: utf8('n'),
            envelope: {},
            leafIdx: size,
          },
        ]);
        await setLogSize(tx, size + 1, size);
        await putNodes(tx, [{ level: 5, idx: 999, hash: sha256(utf8('node')) }]);
        await insertCheckpoint(tx, { size: 999_999, rootHash: sha256(utf8('root')), note: 'note' });
      });
    });

    it.each(['records', 'notices', 'log_leaves', 'merkle_nodes', 'checkpoints'])(
      'refuses UPDATE, DELETE and TRUNCATE on %s',
      async (table) => {
        for (const sql of [
          `UPDATE ${table} SET ${table === 'merkle_nodes' ? 'level = level' : table === 'checkpoints' ? 'note = note' : table === 'log_leaves' ? 'idx = idx' : 'id = id'}`,
          `DELETE FROM ${table}`,
          `TRUNCATE ${table} CASCADE`,
        ]) {
          const err = await db.query(sql).catch((e: unknown) => e);
          expect(err).toBeInstanceOf(AppendOnlyViolationError);
          expect(err).toMatchObject({ code: 'APPEND_ONLY_VIOLATION', table });
        }
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::bigint AS n FROM ${table}`,
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
      },
    );
  });

  describe('records', () => {
    it('a second record for the same subject and seq is a UniqueViolationError naming the constraint', async () => {
      const subject = '01/00000000000017/21/FORK';
      await appendRecords(db, (idx) => record(subject, 0, null, idx), 1);
      const err = await appendRecords(
        db,
        (idx) => record(subject, 0, null, idx, { other: true }),
        1,
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UniqueViolationError);
      expect(err).toMatchObject({
        code: 'UNIQUE_VIOLATION',
        constraint: 'records_subject_seq_key',
      });
      expect(String((err as Error).message)).not.toMatch(/INSERT|FORK/);
      expect(await getChain(db, subject)).toHaveLength(1);
    });

    it('a record whose log leaf is missing is refused at COMMIT and nothing is stored', async () => {
      const r = record('01/00000000000017/21/NOLEAF', 0, null, 987_654_321);
      const err = await db.transaction((tx) => insertRecords(tx, [r])).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'QUERY_FAILED', sqlState: '23503' });
      expect(await getRecord(db, r.id)).toBeNull();
      expect((await db.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    });

    it('stores a chain and reads it back in order with receipts', async () => {
      const subject = '01/00000000000017/21/CHAIN';
      let prev: string | null = null;
      for (let seq = 0; seq < 3; seq++) {
        const [r] = await appendRecords(
          db,
          (idx) => record(subject, seq, prev, idx, { shipment: `S-${seq}` }),
          1,
        );
        prev = r!.id;
      }
      const chain = await getChain(db, subject);
      expect(chain.map((r) => r.seq)).toEqual([0, 1, 2]);
      expect(chain[1]!.prev).toBe(chain[0]!.id);
      expect(chain[2]!.time).toBe(TIME);
      expect(Object.getPrototypeOf(chain[0]!.payload)).toBe(Uint8Array.prototype);
      expect(chain[0]!.receipt.index).toBe(chain[0]!.leafIdx);
      expect(chain[0]!.receipt.leafHash).toEqual(sha256(utf8(`leaf ${chain[0]!.leafIdx}`)));
      expect(await getRecord(db, chain[2]!.id)).toEqual(chain[2]);
      expect(await getRecord(db, 'f'.repeat(64))).toBeNull();
      const shipped = await findRecordsByShipment(db, 'S-1', { type: 'ship' });
      expect(shipped.map((r) => r.id)).toEqual([chain[1]!.id]);
    });

    it('inserts 10,000 records with one statement, quickly', async () => {
      let statements = 0;
      await db.transaction(async (tx) => {
        const size = await lockLogSize(tx);
        const recs = Array.from({ length: 10_000 }, (_, i) =>
          record(`01/00000000000017/21/BULK${i}`, 0, null, size + i, {
            gtin: '00000000000017',
            serial: `BULK${i}`,
          }),
        );
        await appendLeaves(
          tx,
          recs.map((r) => leaf(r.leafIdx, r.id)),
        );
        const counting: Queryable = {
          query: (sql, params) => {
            statements++;
            return tx.query(sql, params);
          },
          exec: (sql) => tx.exec(sql),
        };
        expect(await insertRecords(counting, recs)).toBe(10_000);
        await setLogSize(tx, size + recs.length, size);
      });
      // Speed lives in `pnpm bench`; here only the one-statement shape is asserted.
      expect(statements).toBe(1);
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*) AS n FROM records WHERE subject LIKE '%BULK%'`,
      );
      expect(rows[0]!.n).toBe(10_000);
    }, 60_000);

    it('chain heads are upserted in a batch and never move backwards', async () => {
      const [a, b] = await appendRecords(
        db,
        (idx, i) => record(`01/00000000000017/21/HEAD${i}`, 0, null, idx),
        2,
      );
      await upsertChainHeads(db, [
        { subject: a!.subject, seq: 0, head: a!.id, state: { status: 'active', custodian: GLN } },
        { subject: b!.subject, seq: 0, head: b!.id, state: { status: 'active', children: ['x'] } },
      ]);
      const [c] = await appendRecords(db, (idx) => record(a!.subject, 1, a!.id, idx), 1);
      await upsertChainHeads(db, [
        { subject: a!.subject, seq: 1, head: c!.id, state: { status: 'in_transit' } },
      ]);
      await upsertChainHeads(db, [
        { subject: a!.subject, seq: 0, head: a!.id, state: { stale: true } },
      ]);
      expect(await getHead(db, a!.subject)).toMatchObject({
        seq: 1,
        head: c!.id,
        state: { status: 'in_transit' },
      });
      const heads = await db.transaction((tx) =>
        getHeads(tx, [a!.subject, b!.subject, 'nope'], { forUpdate: true }),
      );
      expect([...heads.keys()].sort()).toEqual([a!.subject, b!.subject].sort());
      expect(heads.get(b!.subject)!.state).toEqual({ status: 'active', children: ['x'] });
      expect(await getHead(db, 'nope')).toBeNull();
    });
  });

  describe('transactions', () => {
    it('a transaction that throws leaves nothing behind and rethrows the same error', async () => {
      const boom = new Error('boom');
      const err = await db
        .transaction(async (tx) => {
          await insertParty(tx, { gln: '0000000000017', name: 'Ghost', roles: [], prefixes: [] });
          throw boom;
        })
        .catch((e: unknown) => e);
      expect(err).toBe(boom);
      expect(await getParty(db, '0000000000017')).toBeNull();
    });

    it('concurrent serializable read-modify-write transactions all succeed through retries', async () => {
      await db.exec('CREATE TABLE IF NOT EXISTS t_counter (id int PRIMARY KEY, n int NOT NULL)');
      await db.query('INSERT INTO t_counter VALUES (1, 0) ON CONFLICT (id) DO UPDATE SET n = 0');
      await Promise.all(
        Array.from({ length: 8 }, () =>
          db.transaction(
            async (tx) => {
              const { rows } = await tx.query<{ n: number }>(
                'SELECT n FROM t_counter WHERE id = 1',
              );
              await tx.query('UPDATE t_counter SET n = $1::int WHERE id = 1', [rows[0]!.n + 1]);
            },
            { isolation: 'serializable', retries: 20 },
          ),
        ),
      );
      const { rows } = await db.query<{ n: number }>('SELECT n FROM t_counter WHERE id = 1');
      expect(rows[0]!.n).toBe(8);
    });

    it('a transaction handle cannot be used after the transaction ends', async () => {
      let leaked: Queryable | undefined;
      await db.transaction(async (tx) => {
        leaked = tx;
      });
      await expect(leaked!.query('SELECT 1')).rejects.toBeInstanceOf(StoreMisuseError);
    });

    if (driver === 'pglite') {
      it('using the database instead of the handle inside a transaction is refused rather than deadlocking', async () => {
        const err = await db.transaction(() => db.query('SELECT 1')).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoreMisuseError);
      });
    }

    it('int8 columns are numbers and bytea columns are plain Uint8Arrays', async () => {
      const { rows } = await db.query<{ a: unknown; b: unknown; c: unknown }>(
        `SELECT 42::bigint AS a, '\\x0102'::bytea AS b, ARRAY[1, 2]::bigint[] AS c`,
      );
      expect(rows[0]).toEqual({ a: 42, b: new Uint8Array([1, 2]), c: [1, 2] });
      expect(Object.getPrototypeOf(rows[0]!.b)).toBe(Uint8Array.prototype);
    });
  });

  describe('the registry', () => {
    it('parties are stored, found by GTIN prefix, suspended and reinstated', async () => {
      const p = await getParty(db, GLN);
      expect(p).toMatchObject({
        gln: GLN,
        roles: ['manufacturer'],
        prefixes: ['0614141'],
        status: 'active',
      });
      expect((await findPartiesByGtin(db, '10614141000002')).map((x) => x.gln)).toEqual([GLN]);
      expect(await findPartiesByGtin(db, '10999999000002')).toEqual([]);
      expect((await setPartyStatus(db, GLN, 'suspended'))!.status).toBe('suspended');
      expect((await setPartyStatus(db, GLN, 'active'))!.status).toBe('active');
      const dup = await insertParty(db, { gln: GLN, name: 'x', roles: [], prefixes: [] }).catch(
        (e: unknown) => e,
      );
      expect(dup).toMatchObject({ code: 'UNIQUE_VIOLATION', constraint: 'parties_pkey' });
    });

    it('custodial keys keep the sealed private key out of the key object and revocation is recorded once', async () => {
      const kid = 'b'.repeat(32);
      const key = await insertKey(db, {
        kid,
        gln: GLN,
        publicKey: new Uint8Array(32).fill(2),
        sealedPrivateKey: new Uint8Array([7, 7, 7]),
      });
      expect(key).toMatchObject({ kid, custodial: true, status: 'active', revokedAt: null });
      expect(Object.keys(key)).not.toContain('sealedPrivateKey');
      expect(await getSealedPrivateKey(db, kid)).toEqual(new Uint8Array([7, 7, 7]));
      expect(await getSealedPrivateKey(db, KID)).toBeNull();
      const revoked = await revokeKey(db, kid, {
        compromisedAt: '2026-01-01T00:00:00.000Z',
        reason: 'lost',
      });
      expect(revoked).toMatchObject({
        status: 'revoked',
        compromisedAt: '2026-01-01T00:00:00.000Z',
        revokeReason: 'lost',
      });
      expect(await revokeKey(db, kid, { compromisedAt: null, reason: 'again' })).toBeNull();
      expect(await getSealedPrivateKey(db, kid)).toBeNull();
      expect((await getKey(db, kid))!.revokeReason).toBe('lost');
      expect((await listKeysByParty(db, GLN)).map((k) => k.kid)).toEqual(
        expect.arrayContaining([KID, kid]),
      );
    });

    it('tokens are found by their hash only while unrevoked', async () => {
      const hash = sha256(utf8('secret token'));
      await insertToken(db, { tokenHash: hash, gln: GLN, scopes: ['sign', 'verify'] });
      expect(await getActiveToken(db, hash)).toMatchObject({
        gln: GLN,
        scopes: ['sign', 'verify'],
        revokedAt: null,
      });
      expect(await getActiveToken(db, sha256(utf8('other')))).toBeNull();
    });

    it('token grants are looked up for many hashes in one statement, in order, unknown and revoked as null', async () => {
      const a = sha256(utf8('grant a'));
      const b = sha256(utf8('grant b'));
      const revoked = sha256(utf8('grant revoked'));
      await insertToken(db, { tokenHash: a, gln: GLN, scopes: ['verify'] });
      await insertToken(db, { tokenHash: b, gln: null, scopes: ['admin'] });
      await insertToken(db, { tokenHash: revoked, gln: GLN, scopes: ['sign'] });
      await revokeToken(db, revoked);
      const grants = await getTokenGrants(db, [b, sha256(utf8('nobody')), a, revoked, a]);
      expect(grants.map((g) => g?.scopes ?? null)).toEqual([
        ['admin'],
        null,
        ['verify'],
        null,
        ['verify'],
      ]);
      expect(grants[2]).toMatchObject({ gln: GLN, partyStatus: 'active' });
      expect(grants[0]).toMatchObject({ gln: null, partyStatus: null });
    });

    it('rate-limit increments in one statement count as if made one after another', async () => {
      const counts = await incrementRateLimits(db, 60_000, [
        { key: 'rl:x', by: 1 },
        { key: 'rl:y', by: 5 },
        { key: 'rl:x', by: 3 },
        { key: 'rl:x', by: 1 },
      ]);
      expect(counts.map((c) => c.hits)).toEqual([1, 5, 4, 5]);
      expect((await incrementRateLimit(db, 'rl:x', 60_000)).hits).toBe(6);
      expect((await getRateLimit(db, 'rl:y'))?.hits).toBe(5);
      // A window that ended starts again from this batch's own hits.
      await incrementRateLimits(db, 1, [{ key: 'rl:z', by: 2 }]);
      await new Promise((r) => setTimeout(r, 20));
      expect(
        (
          await incrementRateLimits(db, 60_000, [
            { key: 'rl:z', by: 1 },
            { key: 'rl:z', by: 1 },
          ])
        ).map((c) => c.hits),
      ).toEqual([1, 2]);
    });

    it('an Idempotency-Key keeps its first outcome', async () => {
      const first = await saveIdempotencyEntry(db, {
        gln: GLN,
        key: 'k1',
        requestHash: 'h1',
        status: 201,
        response: [1],
      });
      const second = await saveIdempotencyEntry(db, {
        gln: GLN,
        key: 'k1',
        requestHash: 'h2',
        status: 201,
        response: {},
      });
      expect(second).toEqual(first);
      expect(await getIdempotencyEntry(db, GLN, 'k1')).toMatchObject({
        requestHash: 'h1',
        status: 201,
        response: [1],
      });
    });
  });

  describe('the log tables', () => {
    it('leaves are read back by range and by entry id', async () => {
      const recs = await appendRecords(
        db,
        (idx, i) => record(`01/00000000000017/21/LEAF${i}`, 0, null, idx),
        3,
      );
      const start = recs[0]!.leafIdx;
      const leaves = await getLeaves(db, start, start + 3);
      expect(leaves.map((l) => l.entryId)).toEqual(recs.map((r) => r.id));
      expect(leaves[0]).toMatchObject({ idx: start, entryKind: 'record', integratedAt: TIME });
      expect(await getLeafByEntryId(db, recs[2]!.id)).toEqual(leaves[2]);
      expect(await getLogSize(db)).toBeGreaterThanOrEqual(start + 3);
    });

    it('the log size moves only by compare-and-set', async () => {
      const size = await getLogSize(db);
      expect(await setLogSize(db, size + 1, size - 1)).toBe(false);
      expect(await getLogSize(db)).toBe(size);
    });

    it('subtree hashes are stored in a batch and read back aligned with the request', async () => {
      const h = (s: string) => sha256(utf8(s));
      await putNodes(db, [
        { level: 0, idx: 1_000_000, hash: h('a') },
        { level: 1, idx: 500_000, hash: h('b') },
      ]);
      expect(
        await getNodes(db, [
          { level: 1, idx: 500_000 },
          { level: 3, idx: 1 },
          { level: 0, idx: 1_000_000 },
        ]),
      ).toEqual([h('b'), null, h('a')]);
      const dup = await putNodes(db, [{ level: 0, idx: 1_000_000, hash: h('c') }]).catch(
        (e: unknown) => e,
      );
      expect(dup).toMatchObject({ constraint: 'merkle_nodes_pkey' });
    });

    it('checkpoints and their cosignatures are stored and the latest is found', async () => {
      await insertCheckpoint(db, { size: 10, rootHash: sha256(utf8('r10')), note: 'origin\n10\n' });
      await insertCheckpoint(db, {
        size: 1_000_000,
        rootHash: sha256(utf8('r1m')),
        note: 'origin\n1000000\n',
      });
      expect((await latestCheckpoint(db))!.size).toBe(1_000_000);
      expect((await getCheckpoint(db, 10))!.note).toBe('origin\n10\n');
      expect(await getCheckpoint(db, 11)).toBeNull();
      const cs = {
        checkpointSize: 10,
        witnessName: 'w.example',
        keyId: new Uint8Array([1, 2, 3, 4]),
        line: '— w x',
      };
      expect(await insertCosignature(db, cs)).toBe(true);
      expect(await insertCosignature(db, { ...cs, line: 'other' })).toBe(false);
      expect(await listCosignatures(db, 10)).toEqual([expect.objectContaining({ ...cs })]);
    });

    it('notices are found by recall GTIN and by revoked kid', async () => {
      await db.transaction(async (tx) => {
        const size = await lockLogSize(tx);
        const notices = [
          { type: 'recall', data: { gtin: '10614141000002', lot: 'L1', reason: 'r' } },
          { type: 'key-revoke', data: { kid: KID, compromisedAt: TIME, reason: 'x' } },
        ].map((n, i) => {
          const payload = utf8(JSON.stringify(n));
          return {
            id: sha256Hex(payload),
            actor: GLN,
            kid: KID,
            time: TIME,
            payload,
            envelope: {},
            leafIdx: size + i,
            ...n,
          };
        });
        await appendLeaves(
          tx,
          notices.map((n) => leaf(n.leafIdx, n.id, 'notice')),
        );
        await insertNotices(tx, notices);
        await setLogSize(tx, size + 2, size);
      });
      expect((await findRecalls(db, '10614141000002')).map((n) => n.data)).toEqual([
        { gtin: '10614141000002', lot: 'L1', reason: 'r' },
      ]);
      expect(await findNoticesByKid(db, 'key-revoke', [KID])).toHaveLength(1);
      expect(await findRecalls(db, '00000000000000')).toEqual([]);
    });
  });

  describe("the verifier's reads of a logistic unit", () => {
    const PALLET = '00/106141410000000128';
    const CASE = '00/106141410000000135';
    const CLEAN = '00/106141410000000159'; // a unit without alarms
    const unit = (s: string) => `01/00614141000418/21/${s}`;
    const HEAD = 'c'.repeat(64);
    const state = (subject: string, containedIn: string | null, more: Partial<ChainState> = {}) =>
      ({
        subject,
        kind: subject.startsWith('00/') ? 'container' : 'unit',
        seq: 1,
        head: HEAD,
        lastType: 'pack',
        lastTime: TIME,
        lastActor: GLN,
        originator: GLN,
        active: true,
        custodian: GLN,
        inTransit: null,
        containedIn,
        children: [],
        unpacked: null,
        quarantined: null,
        decommission: null,
        product: subject.startsWith('01/')
          ? { gtin: '00614141000418', serial: subject.slice(21), lot: 'L1', expiry: '2030-01-31' }
          : null,
        ...more,
      }) as ChainState;

    beforeAll(async () => {
      const subjects: [string, Uint8Array][] = [
        [CASE, encodeVerifiedState(state(CASE, PALLET), 11)],
        [unit('V1'), encodeVerifiedState(state(unit('V1'), PALLET), 12)],
        [unit('V2'), encodeVerifiedState(state(unit('V2'), CASE, { active: false }), 13)],
        [
          unit('V3'),
          encodeVerifiedState(
            state(unit('V3'), CASE, { quarantined: { case: 'Q1', id: HEAD } }),
            14,
          ),
        ],
        [unit('V4'), Uint8Array.of(1, 2, 3)], // does not decode (V5: an alarm only, below)
      ];
      await db.query(
        `INSERT INTO verifier_subjects (subject, state)
         SELECT s, decode(h, 'hex') FROM unnest($1::text[], $2::text[]) AS u(s, h)`,
        [
          subjects.map(([s]) => s),
          subjects.map(([, b]) => (b ? Buffer.from(b).toString('hex') : null)),
        ],
      );
      const children: [string, string][] = [
        [PALLET, CASE],
        [PALLET, unit('V1')],
        [PALLET, unit('V4')],
        [CASE, unit('V2')],
        [CASE, unit('V3')],
        [CASE, unit('V5')],
        [CASE, unit('V6')], // no verified state at all
        [CLEAN, unit('V1')],
        ['00/106141410000000142', 'odd\nname'],
      ];
      await db.query(
        `INSERT INTO verifier_children (container, child, head)
         SELECT c, k, decode($3::text, 'hex') FROM unnest($1::text[], $2::text[]) AS u(c, k)`,
        [children.map(([c]) => c), children.map(([, k]) => k), HEAD],
      );
      const [alarm] = await insertVerifierAlarms(db, [
        {
          logIndex: null,
          subject: unit('V5'),
          code: 'LOG_PROOF_INVALID',
          message: 'm',
          foundBy: 'audit',
        },
      ]);
      await markSubjectsAlarmed(db, [{ subject: unit('V5'), alarm: alarm! }]);
    });

    it("reads every descendant's status as getVerifiedDescendants reads its state, in one row", async () => {
      const packed = await getPackedStatuses(db, PALLET);
      const whole = await getVerifiedDescendants(db, PALLET);
      const key = (d: { container: string; child: string }) => `${d.container} ${d.child}`;
      const want = whole
        .map((d) => ({
          container: d.container,
          child: d.child,
          status: d.verified?.state
            ? verifiedStatusOf(d.verified.headIndex, d.verified.state)
            : null,
          alarmed: d.verified?.alarm != null,
        }))
        .sort((a, b) => key(a).localeCompare(key(b)));
      expect([...packed!].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(want);
      expect(want).toHaveLength(7);
      expect(packed!.find((d) => d.child === unit('V3'))?.status).toMatchObject({
        quarantineCase: 'Q1',
        containedIn: CASE,
        headIndex: 14,
      });
      expect(packed!.find((d) => d.child === unit('V2'))?.status?.active).toBe(false);
      expect(
        packed!
          .filter((d) => d.status === null)
          .map((d) => d.child)
          .sort(),
      ).toEqual([unit('V4'), unit('V5'), unit('V6')].sort());
      expect(packed!.filter((d) => d.alarmed).map((d) => d.child)).toEqual([unit('V5')]);
      expect(await getPackedStatuses(db, '00/106141410000000999')).toEqual([]);
      // A name with the separator (never a canonical subject): the caller reads it the long way.
      expect(await getPackedStatuses(db, '00/106141410000000142')).toBeNull();
    });

    it('reads the chain facts, alarms and earlier suspensions of a logistic unit and all inside it in one statement', async () => {
      const inside = (await getVerifiedDescendants(db, PALLET)).map((d) => d.child);
      const all = [PALLET, ...inside];
      const recs = await appendRecords(db, (idx, i) => record(all[i]!, 0, null, idx), 3);
      const below = recs[2]!.leafIdx + 1;
      const asSeparateReads = async (size: number) => {
        const facts = await chainFactsOf(db, all, size);
        const alarms = await getSubjectAlarms(db, all);
        return {
          subjects: all.length,
          alarmed: alarms.some((a) => a.subject !== null || a.ackedAt === null),
          actorSuspendedBefore: await hasNoticeBefore(
            db,
            'party-suspend',
            'gln',
            facts.actors,
            size,
          ),
          ...facts,
        };
      };
      const first = await getPalletFacts(db, PALLET, below);
      expect(first).toEqual(await asSeparateReads(below));
      expect(first).toMatchObject({ subjects: 8, alarmed: true, kids: [KID], actors: [GLN] });
      expect(first.maxTime).toBe(TIME);
      expect(await getPalletFacts(db, PALLET, recs[0]!.leafIdx)).toEqual(
        await asSeparateReads(recs[0]!.leafIdx),
      );
      // A container without alarms; then an unacknowledged alarm on the log itself.
      expect((await getPalletFacts(db, CLEAN, below)).alarmed).toBe(false);
      const [logAlarm] = await insertVerifierAlarms(db, [
        {
          logIndex: 1,
          subject: null,
          code: 'CHECKPOINT_INVALID',
          message: 'm',
          foundBy: 'monitor',
        },
      ]);
      expect((await getPalletFacts(db, CLEAN, below)).alarmed).toBe(true);
      await ackVerifierAlarm(db, logAlarm!, 'test');
      expect((await getPalletFacts(db, CLEAN, below)).alarmed).toBe(false);
      // A suspension of the actor, logged after `below`: counted only below a later size.
      const suspension = await db.transaction(async (tx) => {
        const size = await lockLogSize(tx);
        const id = sha256Hex(utf8('suspend pallet actor'));
        await appendLeaves(tx, [leaf(size, id, 'notice')]);
        await insertNotices(tx, [
          {
            id,
            type: 'party-suspend',
            actor: GLN,
            kid: KID,
            time: TIME,
            data: { gln: GLN },
            payload: utf8('s'),
            envelope: {},
            leafIdx: size,
          },
        ]);
        await setLogSize(tx, size + 1, size);
        // As the monitor lists it once verified: the verifier reads its own list (verifier_notices).
        await putVerifiedNotices(tx, [
          { index: size, type: 'party-suspend', gln: GLN, kid: null, gtin: null },
        ]);
        return size;
      });
      expect((await getPalletFacts(db, PALLET, suspension)).actorSuspendedBefore).toBe(false);
      const after = await getPalletFacts(db, PALLET, suspension + 1);
      expect(after).toEqual(await asSeparateReads(suspension + 1));
      expect(after.actorSuspendedBefore).toBe(true);
    });
  });

  describe("the verifier's status (GET /v1/verifier)", () => {
    it('reads the cursor, the log size, when the first unverified entry was logged and the newest alarms in one statement', async () => {
      const cursor = await getVerifierCursor(db);
      const recs = await appendRecords(
        db,
        (idx, i) => record(`01/00000000000017/21/STATUS${i}`, 0, null, idx),
        2,
      );
      const behind = recs[0]!.leafIdx;
      const ids = await insertVerifierAlarms(
        db,
        ['first', 'second', 'third'].map((message, i) => ({
          logIndex: behind + i,
          subject: i === 1 ? null : `01/00000000000017/21/STATUS${i}`,
          code: 'SIGNATURE_INVALID',
          message,
          foundBy: 'monitor' as const,
        })),
      );
      const acked = (await ackVerifierAlarm(db, ids[2]!, 'operator'))!;
      const second = (await ackVerifierAlarm(db, ids[1]!, 'operator'))!;
      const root = sha256(utf8('verified root'));
      await db.query(
        `UPDATE verifier_cursor SET next_index = $1::bigint, checkpoint_size = $1::bigint,
           checkpoint_root = $2::bytea, checkpoint_note = 'note'`,
        [behind, root],
      );
      try {
        const s = await getVerifierStatus(db, 2);
        expect(s).toEqual({
          verifiedSize: behind,
          logSize: await getLogSize(db),
          oldestUnverifiedAt: TIME,
          checkpoint: { size: behind, rootHash: root },
          // newest first, decoded as the row itself (ack's RETURNING) is
          alarms: [acked, second],
        });
        expect(s.logSize).toBe(behind + 2);
        expect((await getVerifierStatus(db)).alarms.map((a) => a.message).slice(0, 3)).toEqual([
          'third',
          'second',
          'first',
        ]);
        // caught up: nothing unverified, so no time to count the lag from
        await db.query(`UPDATE verifier_cursor SET next_index = $1::bigint`, [behind + 2]);
        expect(await getVerifierStatus(db, 0)).toMatchObject({
          verifiedSize: behind + 2,
          oldestUnverifiedAt: null,
          alarms: [],
        });
      } finally {
        await db.query(
          `UPDATE verifier_cursor SET next_index = $1::bigint, checkpoint_size = $2::bigint,
             checkpoint_root = $3::bytea, checkpoint_note = $4::text`,
          [
            cursor.nextIndex,
            cursor.checkpoint?.size ?? null,
            cursor.checkpoint?.rootHash ?? null,
            cursor.checkpoint?.note ?? null,
          ],
        );
      }
    });
  });
});
