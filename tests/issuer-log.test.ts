// The log sequencer, the append pipeline and the log endpoints against a real,
// migrated database (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL
// is set). No mocks: DESIGN §5, §6, §9 checked from the stored rows.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import {
  canonicalBytes,
  cosignCheckpoint,
  encodeVerifierKey,
  parseVerifierKey,
  fromBase64,
  fromHex,
  generateKeyPair,
  keyId,
  leafHash,
  parseCheckpoint,
  parseSignedNote,
  rootFromLeafHashes,
  signEnvelope,
  RECORD_PAYLOAD_TYPE,
  toBase64,
  toHex,
  treeRoot,
  unitSubject,
  utf8,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type CustodyRecord,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  createTestDatabase,
  DatabaseUnavailableError,
  getChain,
  getHead,
  getLeaves,
  getLogSize,
  insertKey,
  insertWitness,
  insertParty,
  revokeKey,
  setPartyStatus,
  type Queryable,
  type TestDatabase,
} from '@provenant/store';
import { createApp, hashToken, type Principal } from '@provenant/server-kit';
import {
  appendNotice,
  appendRecords,
  CustodialSigner,
  prepareNotice,
  signNoticeWith,
  ensureAuthorityKey,
  prepareRecord,
  signAuthorityNotice,
  signRecordWith,
} from '../services/issuer/src/append/index.js';
import { deriveLogKeys } from '../services/issuer/src/log/keys.js';
import { verifyReceipt } from '../services/issuer/src/log/receipts.js';
import { logRoutes } from '../services/issuer/src/log/routes.js';
import {
  ANALYZE_MIN_ENTRIES,
  Sequencer,
  type Accepted,
  type PendingRecord,
} from '../services/issuer/src/log/sequencer.js';
import { storedNodeReader } from '../services/issuer/src/log/tree.js';
import { keyAad, seal } from '../services/issuer/src/seal.js';
import { watchContract } from './support/contract.js';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414100001');
const OTHER = withCheckDigit('061414100002');
const GTIN = withCheckDigit('1061414100001');
const FOREIGN_GTIN = withCheckDigit('1099999900001');
const ORIGIN = 'test.provenant.example/log';
const masterKey = new Uint8Array(32).fill(9);
const logKeys = deriveLogKeys(masterKey, ORIGIN);
const mfrKey = generateKeyPair(nodeBackend);
const distKey = generateKeyPair(nodeBackend);
const otherKey = generateKeyPair(nodeBackend);
const mfr: Principal = { gln: MFR, scopes: ['sign', 'keys'], isAdmin: false, suspended: false };
// Record times within DESIGN §5's bounds of their receipt times (at most 72 h before).
const HOUR_MS = 60 * 60 * 1000;
const COMMISSIONED_AT = new Date(Date.now() - 2 * HOUR_MS).toISOString();
const SHIPPED_AT = new Date(Date.now() - HOUR_MS).toISOString();

let serials = 0;
function commission(
  opts: { gtin?: string; actor?: string; kid?: string; serial?: string } = {},
): CustodyRecord {
  const gtin = opts.gtin ?? GTIN;
  const serial = opts.serial ?? `S${++serials}`;
  return {
    v: 1,
    subject: unitSubject(gtin, serial),
    seq: 0,
    prev: null,
    type: 'commission',
    actor: opts.actor ?? MFR,
    kid: opts.kid ?? keyId(mfrKey.publicKey),
    time: COMMISSIONED_AT,
    data: { gtin, serial, lot: 'L1', expiry: '2028-01-31' },
  } as CustodyRecord;
}

function ship(after: Accepted, to: string, shipment: string): CustodyRecord {
  return {
    v: 1,
    subject: after.subject!,
    seq: after.seq! + 1,
    prev: after.id,
    type: 'ship',
    actor: MFR,
    kid: keyId(mfrKey.publicKey),
    time: SHIPPED_AT,
    data: { to, shipment },
  } as CustodyRecord;
}

const signMfr = (r: CustodyRecord): PendingRecord => signRecordWith(mfrKey.seed, r);

/** Counts the transactions the database runs (the sequencer's group commit). */
function countingDb(db: TestDatabase): TestDatabase & { transactions: number } {
  const wrapped = Object.create(db) as TestDatabase & { transactions: number };
  wrapped.transactions = 0;
  wrapped.transaction = (fn, opts) => {
    wrapped.transactions++;
    return db.transaction(fn, opts);
  };
  return wrapped;
}

describe('the log sequencer on a real database', () => {
  let db: TestDatabase & { transactions: number };
  let seq: Sequencer;

  beforeAll(async () => {
    const raw = await createTestDatabase();
    db = countingDb(raw);
    for (const [gln, roles, key] of [
      [MFR, ['manufacturer'], mfrKey],
      [DIST, ['distributor'], distKey],
      [OTHER, ['distributor'], otherKey],
    ] as const) {
      await insertParty(db, {
        gln,
        name: gln,
        roles: [...roles],
        prefixes: gln === MFR ? ['0614141'] : [],
      });
      await insertKey(db, { kid: keyId(key.publicKey), gln, publicKey: key.publicKey });
    }
    seq = new Sequencer({ db, keys: logKeys });
    await seq.init();
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it('starts a fresh log with a signed checkpoint of size 0', async () => {
    const { rows } = await db.query<{ size: number; note: string }>(
      'SELECT size, note FROM checkpoints ORDER BY size',
    );
    expect(rows.map((r) => Number(r.size))).toEqual([0]);
    const v = verifyCheckpoint(rows[0]!.note, logKeys.verifierKey, { origin: ORIGIN });
    expect(v.ok).toBe(true);
  });

  it('commits 50 concurrent single appends in fewer transactions than appends', async () => {
    const before = db.transactions;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => seq.submit([signMfr(commission())])),
    );
    const used = db.transactions - before;
    expect(used).toBeLessThan(50);
    const indexes = results.map((r) => r[0]!.index).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(await getLogSize(db)).toBe(50);
  });

  it('writes nothing from a 100-record batch with one bad record, and names the entry', async () => {
    const size = await getLogSize(db);
    const batch = Array.from({ length: 100 }, (_, i) =>
      signMfr(commission(i === 57 ? { gtin: FOREIGN_GTIN } : {})),
    );
    const err = (await seq.submit(batch).catch((e: unknown) => e)) as {
      status: number;
      reasons: { code: string; entry: number }[];
    };
    expect(err.status).toBe(422);
    expect(err.reasons[0]).toMatchObject({ code: 'GENESIS_INVALID', entry: 57 });
    expect(await getLogSize(db)).toBe(size);
    expect(await getChain(db, batch[0]!.record.subject)).toEqual([]);
  });

  it('refuses a stale prev with a 409 naming the current head', async () => {
    const [c] = await seq.submit([signMfr(commission())]);
    const first = signMfr(ship(c!, DIST, 'SH-1'));
    const second = signMfr(ship(c!, OTHER, 'SH-2'));
    const [a, b] = await Promise.allSettled([seq.submit([first]), seq.submit([second])]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    const err = (b as PromiseRejectedResult).reason as {
      status: number;
      extra: Record<string, unknown>;
      reasons: { code: string }[];
    };
    expect(err.status).toBe(409);
    expect(err.reasons[0]!.code).toBe('CHAIN_BROKEN');
    expect(err.extra).toEqual({ subject: c!.subject, head: first.id, seq: 1 });
    // The fork was never stored (DESIGN §9).
    expect((await getChain(db, c!.subject!)).map((r) => r.id)).toEqual([c!.id, first.id]);
    expect((await getHead(db, c!.subject!))?.head).toBe(first.id);
  });

  it('answers the same envelope sent twice with the same stored result', async () => {
    const entry = signMfr(commission());
    const [one] = await seq.submit([entry]);
    const size = await getLogSize(db);
    const [again] = await seq.submit([entry]);
    expect(again).toEqual({ ...one, duplicate: true });
    expect(one!.duplicate).toBe(false);
    // And twice in one batch: one leaf.
    const twin = signMfr(commission());
    const [x, y] = await Promise.all([seq.submit([twin]), seq.submit([twin])]);
    expect(x[0]!.index).toBe(y[0]!.index);
    expect(await getLogSize(db)).toBe(size + 1);
  });

  it('refuses one submission alone and lets the rest of its batch through', async () => {
    const bad = signRecordWith(
      distKey.seed,
      commission({ actor: DIST, kid: keyId(distKey.publicKey) }),
    );
    const results = await Promise.allSettled([
      seq.submit([signMfr(commission())]),
      seq.submit([bad]),
      seq.submit([signMfr(commission())]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as { status: number }).status).toBe(422);
  });

  it('refuses a record whose key belongs to another party', async () => {
    const r = signRecordWith(distKey.seed, commission({ kid: keyId(distKey.publicKey) }));
    await expect(seq.submit([r])).rejects.toMatchObject({
      status: 422,
      reasons: [expect.objectContaining({ code: 'KEY_NOT_AUTHORIZED' })],
    });
  });

  it('runs submission hooks in the transaction and refuses that submission alone when apply throws', async () => {
    const ok = seq.submit([signMfr(commission())], {
      apply: async (tx: Queryable) => {
        await tx.query(
          `INSERT INTO idempotency_keys (gln, key, request_hash, status) VALUES ($1, 'k1', 'h', 0)`,
          [MFR],
        );
      },
      after: async (tx: Queryable, accepted) => {
        await tx.query(
          `UPDATE idempotency_keys SET status = 201, response = $2::jsonb WHERE gln = $1 AND key = 'k1'`,
          [MFR, JSON.stringify(accepted.map((a) => a.id))],
        );
      },
    });
    const failing = signMfr(commission());
    const bad = seq.submit([failing], {
      apply: async (tx: Queryable) => {
        await tx.query(
          `INSERT INTO idempotency_keys (gln, key, request_hash, status) VALUES ($1, 'k2', 'h', 201)`,
          [MFR],
        );
        throw new Error('hook refused');
      },
    });
    await expect(ok).resolves.toHaveLength(1);
    await expect(bad).rejects.toThrow('hook refused');
    const [accepted] = await ok;
    const { rows } = await db.query<{ key: string; status: number; response: unknown }>(
      'SELECT key, status, response FROM idempotency_keys ORDER BY key',
    );
    expect(rows).toEqual([{ key: 'k1', status: 201, response: [accepted!.id] }]);
    expect(await getChain(db, failing.record.subject)).toEqual([]);
  });

  it('rejects every submission of a failed transaction and leaves no state behind', async () => {
    const size = await getLogSize(db);
    const failing = Object.create(db) as TestDatabase;
    failing.transaction = (fn, opts) =>
      db.transaction(async (tx) => {
        await fn(tx);
        throw new DatabaseUnavailableError(); // after every write of the batch, before COMMIT
      }, opts);
    const broken = new Sequencer({ db: failing, keys: logKeys });
    const entries = [signMfr(commission()), signMfr(commission())];
    const results = await Promise.allSettled(entries.map((e) => broken.submit([e])));
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(DatabaseUnavailableError);
    }
    expect(await getLogSize(db)).toBe(size);
    expect(await getChain(db, entries[0]!.record.subject)).toEqual([]);
    // The healthy sequencer (another "replica") carries on from the stored tree.
    const [a] = await seq.submit([entries[0]!]);
    expect(a!.index).toBe(size);
  });

  it('reloads the tree edge when another replica appended in between', async () => {
    const replica = new Sequencer({ db, keys: logKeys });
    const [r1] = await replica.submit([signMfr(commission())]);
    const [r2] = await seq.submit([signMfr(commission())]);
    const [r3] = await replica.submit([signMfr(commission())]);
    expect([r2!.index - r1!.index, r3!.index - r2!.index]).toEqual([1, 1]);
    await replica.close();
    // A replica whose clock is behind never stamps a receipt earlier than the last one.
    const slow = new Sequencer({
      db,
      keys: logKeys,
      now: () => Date.parse('2020-01-01T00:00:00Z'),
    });
    const [r4] = await slow.submit([signMfr(commission())]);
    expect(r4!.integratedAt >= r3!.integratedAt).toBe(true);
    await slow.close();
  });

  it('refuses records signed with a revoked key or by a suspended party', async () => {
    const k = generateKeyPair(nodeBackend);
    await insertKey(db, { kid: keyId(k.publicKey), gln: MFR, publicKey: k.publicKey });
    await revokeKey(db, keyId(k.publicKey), {
      compromisedAt: '2026-01-01T00:00:00.000Z',
      reason: 'lost',
    });
    const r = signRecordWith(k.seed, commission({ kid: keyId(k.publicKey) }));
    await expect(seq.submit([r])).rejects.toMatchObject({
      status: 422,
      reasons: [expect.objectContaining({ code: 'KEY_REVOKED' })],
    });
    await setPartyStatus(db, MFR, 'suspended');
    try {
      await expect(seq.submit([signMfr(commission())])).rejects.toMatchObject({
        status: 422,
        reasons: [expect.objectContaining({ code: 'PARTY_SUSPENDED' })],
      });
    } finally {
      await setPartyStatus(db, MFR, 'active');
    }
  });

  it('sequences authority notices and custodially signed records', async () => {
    await ensureAuthorityKey(db, masterKey);
    const notice = signAuthorityNotice(masterKey, {
      v: 1,
      type: 'party-suspend',
      time: '2026-11-28T12:00:00.000Z',
      data: { gln: OTHER, reason: 'test' },
    });
    const [n] = await seq.submit([notice]);
    expect(n!.kind).toBe('notice');

    const custodial = generateKeyPair(nodeBackend);
    const kid = keyId(custodial.publicKey);
    await insertKey(db, {
      kid,
      gln: MFR,
      publicKey: custodial.publicKey,
      sealedPrivateKey: seal(custodial.seed, masterKey, keyAad(kid)),
    });
    const signer = new CustodialSigner({ masterKey });
    const { kid: _omit, ...unsigned } = commission();
    void _omit;
    const pending = await signer.signRecord(db, MFR, unsigned);
    expect(pending.record.kid).toBe(kid);
    const [a] = await seq.submit([pending]);
    expect(a!.seq).toBe(0);
  });

  it('keeps leaves, subtrees, receipts and checkpoints consistent', async () => {
    await seq.idle();
    const size = await getLogSize(db);
    const leaves = await getLeaves(db, 0, size);
    expect(leaves.map((l) => l.idx)).toEqual(Array.from({ length: size }, (_, i) => i));
    // DESIGN §6: leaf = SHA-256(0x00 || JCS(envelope)).
    for (const l of leaves)
      expect(toHex(l.leafHash)).toBe(toHex(leafHash(canonicalBytes(l.envelope))));
    const root = rootFromLeafHashes(leaves.map((l) => l.leafHash));
    expect(toHex(await treeRoot(size, storedNodeReader(db)))).toBe(toHex(root));

    for (const l of leaves) {
      const receipt = {
        origin: ORIGIN,
        index: l.idx,
        leafHash: toHex(l.leafHash),
        integratedAt: l.integratedAt,
        signature: toBase64(l.receiptSignature),
      };
      expect({ index: l.idx, ok: verifyReceipt(receipt, logKeys.publicKey) }).toEqual({
        index: l.idx,
        ok: true,
      });
    }

    const { rows } = await db.query<{ size: number; root_hash: Uint8Array; note: string }>(
      'SELECT size, root_hash, note FROM checkpoints ORDER BY size',
    );
    const cps = rows.map((r) => {
      const v = verifyCheckpoint(r.note, logKeys.verifierKey, { origin: ORIGIN });
      if (!v.ok) throw new Error(`checkpoint ${r.size}: ${v.detail}`);
      expect(toHex(v.checkpoint.rootHash)).toBe(toHex(r.root_hash));
      return v.checkpoint;
    });
    const latest = cps[cps.length - 1]!;
    expect(latest.size).toBe(size);
    expect(toHex(latest.rootHash)).toBe(toHex(root));
    const reader = storedNodeReader(db);
    const { consistencyProof, inclusionProof } = await import('@provenant/core');
    for (let i = 1; i + 1 < cps.length; i++) {
      const [a, b] = [cps[i]!, cps[i + 1]!];
      const proof = await consistencyProof(a.size, b.size, reader);
      const v = verifyConsistency(a.size, b.size, proof, a.rootHash, b.rootHash);
      expect({ from: a.size, to: b.size, ok: v.ok }).toEqual({
        from: a.size,
        to: b.size,
        ok: true,
      });
    }
    for (const l of leaves) {
      const proof = await inclusionProof(l.idx, size, reader);
      const v = verifyInclusion(l.idx, size, l.leafHash, proof, latest.rootHash);
      expect({ index: l.idx, ok: v.ok }).toEqual({ index: l.idx, ok: true });
    }
  });

  // Issue 15: with autovacuum off or late, a bulk load left the planner without
  // row counts and the bundle's chain query scanned the whole log.
  it('refreshes the planner statistics of the append tables after a bulk append', async () => {
    const rows = async () =>
      (
        await db.query<{ relname: string; n: number }>(
          `SELECT relname, reltuples::float8 AS n FROM pg_class
           WHERE relname = ANY($1::text[]) ORDER BY relname`,
          [['log_leaves', 'records']],
        )
      ).rows;
    await seq.submit(Array.from({ length: ANALYZE_MIN_ENTRIES }, () => signMfr(commission())));
    let seen = await rows();
    for (let i = 0; i < 200 && seen.some((r) => r.n < ANALYZE_MIN_ENTRIES); i++) {
      await new Promise((r) => setTimeout(r, 50));
      seen = await rows();
    }
    // ANALYZE counted the rows (a table never analyzed says -1 or 0).
    for (const r of seen)
      expect({ table: r.relname, counted: r.n >= ANALYZE_MIN_ENTRIES }).toEqual({
        table: r.relname,
        counted: true,
      });
  }, 60_000);
});

describe('the append pipeline', () => {
  let db: TestDatabase;
  let seq: Sequencer;

  beforeAll(async () => {
    db = await createTestDatabase();
    await insertParty(db, { gln: MFR, name: 'M', roles: ['manufacturer'], prefixes: ['0614141'] });
    await insertParty(db, { gln: DIST, name: 'D', roles: ['distributor'], prefixes: [] });
    await insertKey(db, { kid: keyId(mfrKey.publicKey), gln: MFR, publicKey: mfrKey.publicKey });
    seq = new Sequencer({ db, keys: logKeys });
    await seq.init();
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it('appends a client-signed envelope and answers {id, subject, seq, receipt}', async () => {
    const p = signMfr(commission());
    const [r] = await appendRecords({ db, sequencer: seq }, [p.envelope], mfr);
    expect(r).toEqual({ id: p.id, subject: p.record.subject, seq: 0, receipt: expect.any(Object) });
    expect(verifyReceipt(r!.receipt, logKeys.publicKey)).toBe(true);
    // Sent again: the stored result.
    const [again] = await appendRecords({ db, sequencer: seq }, [p.envelope], mfr);
    expect(again).toEqual(r);
  });

  it('refuses a record signed for another party with 403', async () => {
    const p = signMfr(commission());
    const dist: Principal = { gln: DIST, scopes: ['sign'], isAdmin: false, suspended: false };
    await expect(prepareRecord(db, p.envelope, dist)).rejects.toMatchObject({ status: 403 });
  });

  it('refuses a bad signature, an unknown key and a non-canonical payload', async () => {
    const p = signMfr(commission());
    const sig = fromBase64(p.envelope.signatures[0]!.sig)!;
    sig[0]! ^= 1;
    const tampered = {
      ...p.envelope,
      signatures: [{ keyid: p.envelope.signatures[0]!.keyid, sig: toBase64(sig) }],
    };
    await expect(prepareRecord(db, tampered, mfr)).rejects.toMatchObject({
      status: 422,
      reasons: [expect.objectContaining({ code: 'SIGNATURE_INVALID' })],
    });

    const stranger = generateKeyPair(nodeBackend);
    const unknown = signRecordWith(stranger.seed, commission({ kid: keyId(stranger.publicKey) }));
    await expect(prepareRecord(db, unknown.envelope, mfr)).rejects.toMatchObject({
      status: 422,
      reasons: [expect.objectContaining({ code: 'KEY_UNKNOWN' })],
    });

    const spaced = utf8(JSON.stringify(commission(), null, 1));
    const env = signEnvelope(RECORD_PAYLOAD_TYPE, spaced, mfrKey.seed, nodeBackend);
    await expect(prepareRecord(db, env, mfr)).rejects.toMatchObject({ status: 400 });

    await expect(prepareRecord(db, { ...p.envelope, extra: 1 }, mfr)).rejects.toMatchObject({
      status: 400,
      errors: [expect.objectContaining({ path: 'body.extra' })],
    });
  });
});

describe('notices through the append pipeline', () => {
  let db: TestDatabase;
  let seq: Sequencer;
  const second = generateKeyPair(nodeBackend);

  beforeAll(async () => {
    db = await createTestDatabase();
    await insertParty(db, { gln: MFR, name: 'M', roles: ['manufacturer'], prefixes: ['0614141'] });
    await insertParty(db, { gln: DIST, name: 'D', roles: ['distributor'], prefixes: [] });
    await insertKey(db, { kid: keyId(mfrKey.publicKey), gln: MFR, publicKey: mfrKey.publicKey });
    await insertKey(db, { kid: keyId(second.publicKey), gln: MFR, publicKey: second.publicKey });
    await insertKey(db, { kid: keyId(distKey.publicKey), gln: DIST, publicKey: distKey.publicKey });
    seq = new Sequencer({ db, keys: logKeys });
    await seq.init();
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  const time = new Date().toISOString();

  it('accepts a recall signed by the GTIN manufacturer', async () => {
    const n = signNoticeWith(mfrKey.seed, {
      v: 1,
      type: 'recall',
      actor: MFR,
      kid: keyId(mfrKey.publicKey),
      time,
      data: { gtin: GTIN, lot: 'L1', reason: 'contamination' },
    });
    const r = await appendNotice({ db, sequencer: seq }, n.envelope, mfr);
    expect(r.id).toBe(n.id);
    expect(verifyReceipt(r.receipt, logKeys.publicKey)).toBe(true);
  });

  it("refuses a recall of another manufacturer's GTIN with 403", async () => {
    const n = signNoticeWith(distKey.seed, {
      v: 1,
      type: 'recall',
      actor: DIST,
      kid: keyId(distKey.publicKey),
      time,
      data: { gtin: GTIN, reason: 'not mine' },
    });
    const dist: Principal = { gln: DIST, scopes: ['sign'], isAdmin: false, suspended: false };
    await expect(prepareNotice(db, n.envelope, dist)).rejects.toMatchObject({ status: 403 });
  });

  it('accepts a key revocation signed with another key of the party, not with the key itself', async () => {
    const data = {
      kid: keyId(mfrKey.publicKey),
      // DESIGN §5: not before the key's registration.
      compromisedAt: new Date().toISOString(),
      reason: 'laptop stolen',
    };
    const self = signNoticeWith(mfrKey.seed, {
      v: 1,
      type: 'key-revoke',
      actor: MFR,
      kid: keyId(mfrKey.publicKey),
      time,
      data,
    });
    await expect(prepareNotice(db, self.envelope, mfr)).rejects.toMatchObject({
      status: 422,
      reasons: [expect.objectContaining({ code: 'KEY_NOT_AUTHORIZED' })],
    });
    const other = signNoticeWith(second.seed, {
      v: 1,
      type: 'key-revoke',
      actor: MFR,
      kid: keyId(second.publicKey),
      time,
      data,
    });
    await expect(prepareNotice(db, other.envelope, mfr)).resolves.toMatchObject({ id: other.id });
  });

  it('refuses a registry notice from a party token', async () => {
    const n = signAuthorityNotice(masterKey, {
      v: 1,
      type: 'party-suspend',
      time,
      data: { gln: DIST },
    });
    await expect(prepareNotice(db, n.envelope, mfr)).rejects.toMatchObject({ status: 403 });
  });
});

const MONITOR_TOKEN = 'pvn_log-test-admin-token-000000000';
/** GET as the operator (log entries carry payloads: admin or monitor only, DESIGN §6a). */
const entries = (app: Parameters<typeof request>[0], path: string) =>
  request(app).get(path).set('Authorization', `Bearer ${MONITOR_TOKEN}`);

describe('the log endpoints', () => {
  let db: TestDatabase;
  let seq: Sequencer;
  let app: ReturnType<typeof createApp>;

  beforeAll(async () => {
    db = await createTestDatabase();
    await insertParty(db, { gln: MFR, name: 'M', roles: ['manufacturer'], prefixes: ['0614141'] });
    await insertKey(db, { kid: keyId(mfrKey.publicKey), gln: MFR, publicKey: mfrKey.publicKey });
    seq = new Sequencer({ db, keys: logKeys });
    await seq.init();
    for (let i = 0; i < 5; i++) await seq.submit([signMfr(commission()), signMfr(commission())]);
    app = watchContract(
      createApp({
        db,
        logKeys,
        config: { bodyLimit: 1 << 20, adminTokenHash: hashToken(MONITOR_TOKEN) },
        routes: [logRoutes],
      }),
    );
  });
  afterAll(async () => {
    await seq?.close();
    await db?.drop();
  });

  it('describes the log endpoints in the OpenAPI document', async () => {
    const res = await request(app).get('/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/log',
        '/v1/log/checkpoint',
        '/v1/log/entries',
        '/v1/log/proofs/inclusion',
        '/v1/log/proofs/consistency',
        '/v1/log/cosignatures',
      ]),
    );
  });

  it('serves the log key', async () => {
    const res = await request(app).get('/v1/log');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      origin: ORIGIN,
      keyName: ORIGIN,
      publicKey: toBase64(logKeys.publicKey),
      vkey: logKeys.vkey,
    });
  });

  it('serves the latest checkpoint as a signed note', async () => {
    const res = await request(app).get('/v1/log/checkpoint');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const v = verifyCheckpoint(res.text, logKeys.verifierKey, { origin: ORIGIN });
    expect(v.ok && v.checkpoint.size).toBe(10);
  });

  it('pages leaves with an inclusive end, clamped to the log, and refuses a bad range', async () => {
    const res = await entries(app, '/v1/log/entries?start=2&end=5');
    expect(res.status).toBe(200);
    expect(res.body.entries.map((e: { index: number }) => e.index)).toEqual([2, 3, 4, 5]);
    expect(res.body).toMatchObject({ start: 2, end: 5, size: 10 });
    const all = await entries(app, '/v1/log/entries?start=0&end=10');
    expect(all.body.entries.map((e: { index: number }) => e.index)).toEqual([...Array(10).keys()]);
    expect(all.body.end).toBe(9);
    const last = await entries(app, '/v1/log/entries?start=9&end=9');
    expect(last.body.entries.map((e: { index: number }) => e.index)).toEqual([9]);
    const none = await entries(app, '/v1/log/entries?start=10');
    expect(none.status).toBe(200);
    expect(none.body.entries).toEqual([]);
    for (const e of res.body.entries)
      expect(verifyReceipt(e.receipt, logKeys.publicKey)).toBe(true);
    expect((await entries(app, '/v1/log/entries?start=11')).status).toBe(400);
    expect((await entries(app, '/v1/log/entries?start=5&end=2')).status).toBe(400);
    expect((await entries(app, '/v1/log/entries?start=-1')).status).toBe(400);
    expect((await entries(app, '/v1/log/entries')).status).toBe(400);
  });

  it('serves inclusion proofs that verify, and refuses an index beyond the tree', async () => {
    const cp = parseCheckpoint(
      parseSignedNote((await request(app).get('/v1/log/checkpoint')).text).text,
    );
    const leaves = await getLeaves(db, 0, 10);
    for (const l of leaves) {
      const res = await request(app).get(`/v1/log/proofs/inclusion?index=${l.idx}`);
      expect(res.body).toMatchObject({ index: l.idx, size: 10 });
      const proof = (res.body.proof as string[]).map((h) => fromHex(h)!);
      expect(verifyInclusion(l.idx, 10, l.leafHash, proof, cp.rootHash).ok).toBe(true);
    }
    expect((await request(app).get('/v1/log/proofs/inclusion?index=10')).status).toBe(400);
    expect((await request(app).get('/v1/log/proofs/inclusion?index=0&size=11')).status).toBe(400);
  });

  it('serves consistency proofs that verify, and refuses from = 0', async () => {
    const res = await request(app).get('/v1/log/proofs/consistency?from=4&to=10');
    expect(res.status).toBe(200);
    const { rows } = await db.query<{ size: number; root_hash: Uint8Array }>(
      'SELECT size, root_hash FROM checkpoints WHERE size IN (4, 10) ORDER BY size',
    );
    const proof = (res.body.proof as string[]).map((h) => fromHex(h)!);
    expect(verifyConsistency(4, 10, proof, rows[0]!.root_hash, rows[1]!.root_hash).ok).toBe(true);
    expect((await request(app).get('/v1/log/proofs/consistency?from=0&to=10')).status).toBe(400);
    expect((await request(app).get('/v1/log/proofs/consistency?from=5&to=4')).status).toBe(400);
  });

  it('stores a verified witness cosignature and serves it with the checkpoint', async () => {
    const witness = generateKeyPair(nodeBackend);
    const vkey = encodeVerifierKey('witness.example', witness.publicKey, 'cosignature/v1');
    // DESIGN §6: only registered witnesses cosign (POST /v1/witnesses writes this row).
    await insertWitness(db, {
      name: 'witness.example',
      publicKey: witness.publicKey,
      keyId: parseVerifierKey(vkey).keyId,
    });
    const note = (await request(app).get('/v1/log/checkpoint')).text;
    const line = cosignCheckpoint(
      note,
      { name: 'witness.example', seed: witness.seed },
      1_800_000_000,
    );
    const res = await request(app)
      .post('/v1/log/cosignatures')
      .send({ witness: vkey, cosignature: line, checkpoint: note });
    expect(res.status).toBe(201);
    const again = await request(app)
      .post('/v1/log/cosignatures')
      .send({ witness: vkey, cosignature: line, size: 10 });
    expect(again.status).toBe(200);
    const served = (await request(app).get('/v1/log/checkpoint')).text;
    expect(served).toBe(note + line);

    const forged = cosignCheckpoint(
      note,
      { name: 'witness.example', seed: generateKeyPair().seed },
      1,
    );
    const bad = await request(app)
      .post('/v1/log/cosignatures')
      .send({ witness: vkey, cosignature: forged, size: 10 });
    expect(bad.status).toBe(422);
    const unknown = await request(app)
      .post('/v1/log/cosignatures')
      .send({ witness: vkey, cosignature: line, size: 3000 });
    expect(unknown.status).toBe(422);
  });
});
