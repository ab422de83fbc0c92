// Issuer and storage benchmarks (issue 3): from one run on local PostgreSQL,
// the raw limits (one-row-per-transaction INSERTs at the HTTP test's
// concurrency, 100-row batched INSERTs, node:crypto signing), then through a
// real service process (scripts/start.ts): handoff appends from 16 concurrent clients and a bulk
// commission of 10,000 units, each as a ratio to its raw limit. A fresh
// database provenant_bench_<random> is created, migrated and dropped at the end.
// Loopback only; every loop is bounded; figures are printed, never asserted.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  encodeRecord,
  generateKeyPair,
  keyId,
  RECORD_PAYLOAD_TYPE,
  sha256Hex,
  signEnvelope,
  unitSubject,
  type CustodyRecord,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  insertKey,
  insertParty,
  insertToken,
  migrate,
  openPg,
  type Database,
} from '@provenant/store';
import { keyAad, seal } from '@provenant/issuer';
import { hashToken } from '@provenant/server-kit';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { rawNodeRates } from './core.js';
import { fmt, report } from './measure.js';

export const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Concurrent clients of the handoff test, and connections of the raw one-row test (the same, for a fair ratio). */
const CLIENTS = 16;
const BULK_UNITS = 10_000;
/** Units each handoff client ships and receives (2 appends per unit). */
const HANDOFF_UNITS_PER_CLIENT = Number(process.env.BENCH_HANDOFF_UNITS ?? 150);
/** Wall time of each raw INSERT measurement. */
const RAW_SECONDS = 3;

const GTIN = '00614141000418';
const MFR = '0614141000005';
const DIST = '0614141000012';
// Record times near their receipt times (DESIGN §5: at most 72 h before, 5 min after).
const TIME = new Date().toISOString();

/** One checkpoint is signed per sequencer batch (DESIGN §6). */
async function checkpointCount(db: Database): Promise<number> {
  const r = await db.query<{ n: string }>('SELECT count(*)::text AS n FROM checkpoints');
  return Number(r.rows[0]!.n);
}

// A table shaped like `records` (same columns, types, keys and checks; no
// foreign keys, no triggers): what PostgreSQL itself can do per row.
const RAW_TABLE = `CREATE TABLE bench_records (
  id text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{64}$'),
  subject text NOT NULL, seq integer NOT NULL CHECK (seq >= 0),
  prev text CHECK (prev ~ '^[0-9a-f]{64}$'), type text NOT NULL, actor text NOT NULL,
  kid text NOT NULL, time timestamptz NOT NULL, data jsonb NOT NULL DEFAULT '{}',
  payload bytea NOT NULL, leaf_idx bigint NOT NULL,
  UNIQUE (subject, seq), UNIQUE (leaf_idx))`;

let rawSeq = 0;
function rawRow(): unknown[] {
  const n = rawSeq++;
  const data = { gtin: GTIN, serial: `RAW${n}`, lot: 'L1', expiry: '2028-01-31' };
  const payload = Buffer.alloc(320, n % 251);
  return [
    createHash('sha256').update(`raw ${n}`).digest('hex'),
    unitSubject(GTIN, `RAW${n}`),
    0,
    null,
    'commission',
    MFR,
    'a'.repeat(32),
    TIME,
    JSON.stringify(data),
    payload,
    n,
  ];
}

/** (1) One row per transaction (autocommit INSERT), `CLIENTS` connections at once. */
async function rawOneRowRate(db: Database): Promise<number> {
  const sql = `INSERT INTO bench_records (id, subject, seq, prev, type, actor, kid, time, data, payload, leaf_idx)
    VALUES ($1::text, $2::text, $3::integer, $4::text, $5::text, $6::text, $7::text, $8::timestamptz,
            $9::jsonb, $10::bytea, $11::bigint)`;
  for (let i = 0; i < CLIENTS; i++) await db.query(sql, rawRow()); // warm the pool
  let rows = 0;
  const start = performance.now();
  const end = start + RAW_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let i = 0; i < 1_000_000 && performance.now() < end; i++) {
        await db.query(sql, rawRow());
        rows++;
      }
    }),
  );
  return rows / ((performance.now() - start) / 1000);
}

/** (2) 100-row INSERTs (unnest), one connection, rows per second. */
async function rawBatchedRate(db: Database): Promise<number> {
  const sql = `INSERT INTO bench_records (id, subject, seq, prev, type, actor, kid, time, data, payload, leaf_idx)
    SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[],
      $7::text[], $8::timestamptz[], $9::jsonb[], $10::bytea[], $11::bigint[])`;
  const batch = (): unknown[][] => {
    const rows = Array.from({ length: 100 }, rawRow);
    return rows[0]!.map((_, c) => rows.map((r) => r[c]));
  };
  await db.query(sql, batch());
  let rows = 0;
  const start = performance.now();
  const end = start + RAW_SECONDS * 1000;
  for (let i = 0; i < 100_000 && performance.now() < end; i++) {
    await db.query(sql, batch());
    rows += 100;
  }
  return rows / ((performance.now() - start) / 1000);
}

export interface Party {
  gln: string;
  seed: Uint8Array;
  kid: string;
  token: string;
}

export async function setUpParties(db: Database, masterKey: Uint8Array): Promise<Party[]> {
  const out: Party[] = [];
  for (const [gln, roles, prefixes] of [
    [MFR, ['manufacturer'], ['0614141']],
    [DIST, ['distributor'], []],
  ] as const) {
    await insertParty(db, {
      gln,
      name: `bench ${gln}`,
      roles: [...roles],
      prefixes: [...prefixes],
    });
    // A client key (client-signed POST /v1/records) and a custodial key (sealed, for /v1/commissions).
    const client = generateKeyPair(nodeBackend);
    const kid = keyId(client.publicKey);
    await insertKey(db, { kid, gln, publicKey: client.publicKey });
    const custodial = generateKeyPair(nodeBackend);
    const ckid = keyId(custodial.publicKey);
    await insertKey(db, {
      kid: ckid,
      gln,
      publicKey: custodial.publicKey,
      sealedPrivateKey: seal(custodial.seed, masterKey, keyAad(ckid)),
    });
    const token = `pvn_bench_${gln}_${Math.random().toString(36).slice(2)}`;
    await insertToken(db, { tokenHash: hashToken(token), gln, scopes: ['sign', 'verify'] });
    out.push({ gln, seed: client.seed, kid, token });
  }
  return out;
}

function signRecord(
  p: Party,
  record: Omit<CustodyRecord, 'kid' | 'actor'>,
): { id: string; envelope: Envelope } {
  const full = { ...record, actor: p.gln, kid: p.kid } as CustodyRecord;
  const payload = encodeRecord(full);
  return {
    id: sha256Hex(payload),
    envelope: signEnvelope(RECORD_PAYLOAD_TYPE, payload, p.seed, nodeBackend),
  };
}

function commission(p: Party, serial: string) {
  return signRecord(p, {
    v: 1,
    subject: unitSubject(GTIN, serial),
    seq: 0,
    prev: null,
    type: 'commission',
    time: TIME,
    data: { gtin: GTIN, serial, lot: 'L1', expiry: '2028-01-31' },
  } as Omit<CustodyRecord, 'kid' | 'actor'>);
}

export async function post(
  base: string,
  path: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null };
}

export function expectStatus(
  r: { status: number; body: unknown },
  want: number[],
  what: string,
): void {
  if (!want.includes(r.status))
    throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
}

/** (4) Ship/receive pairs, client-signed, `CLIENTS` concurrent clients each with its own units. */
export async function handoffRate(
  base: string,
  mfr: Party,
  dist: Party,
  /** called after the (untimed) setup, right before the timed appends */
  beforeTimed?: () => Promise<void>,
): Promise<{ rate: number; appends: number }> {
  const units = Array.from({ length: CLIENTS }, (_, c) =>
    Array.from({ length: HANDOFF_UNITS_PER_CLIENT }, (_, i) => `H${c}X${i}`),
  );
  // Setup (not timed): commission every unit in batches, then pre-sign the handoffs.
  const genesis = units.flat().map((serial) => ({ serial, ...commission(mfr, serial) }));
  for (let i = 0; i < genesis.length; i += 5_000) {
    const r = await post(base, '/v1/records', mfr.token, {
      envelopes: genesis.slice(i, i + 5_000).map((g) => g.envelope),
    });
    expectStatus(r, [201], 'handoff setup commission');
  }
  const ids = new Map(genesis.map((g) => [g.serial, g.id]));
  const work = units.map((serials, c) =>
    serials.map((serial, i) => {
      const subject = unitSubject(GTIN, serial);
      const shipment = `BENCH-${c}-${i}`;
      const ship = signRecord(mfr, {
        v: 1,
        subject,
        seq: 1,
        prev: ids.get(serial)!,
        type: 'ship',
        time: TIME,
        data: { to: dist.gln, shipment },
      } as Omit<CustodyRecord, 'kid' | 'actor'>);
      const receive = signRecord(dist, {
        v: 1,
        subject,
        seq: 2,
        prev: ship.id,
        type: 'receive',
        time: TIME,
        data: { from: mfr.gln, shipment, condition: 'ok' },
      } as Omit<CustodyRecord, 'kid' | 'actor'>);
      return { ship, receive };
    }),
  );
  await beforeTimed?.();
  let appends = 0;
  const start = performance.now();
  await Promise.all(
    work.map(async (pairs) => {
      for (const { ship, receive } of pairs) {
        expectStatus(await post(base, '/v1/records', mfr.token, ship.envelope), [201], 'ship');
        expectStatus(
          await post(base, '/v1/records', dist.token, receive.envelope),
          [201],
          'receive',
        );
        appends += 2;
      }
    }),
  );
  return { rate: appends / ((performance.now() - start) / 1000), appends };
}

/** (5) One request commissioning BULK_UNITS units; custodial when the route exists. */
async function bulkCommission(base: string, mfr: Party): Promise<{ rate: number; via: string }> {
  const items = Array.from({ length: BULK_UNITS }, (_, i) => ({
    gtin: GTIN,
    serial: `B${i}`,
    lot: 'L1',
    expiry: '2028-01-31',
  }));
  // Warm-up (not timed): a small commission through the same path.
  const warm = await post(base, '/v1/commissions', mfr.token, {
    items: [{ gtin: GTIN, serial: 'WARM1', lot: 'L1', expiry: '2028-01-31' }],
  });
  if (warm.status === 404) {
    const envelopes = items.map((it) => commission(mfr, it.serial).envelope);
    const start = performance.now();
    expectStatus(
      await post(base, '/v1/records', mfr.token, { envelopes }),
      [201],
      'bulk commission',
    );
    return {
      rate: BULK_UNITS / ((performance.now() - start) / 1000),
      via: 'POST /v1/records, 10,000 client-signed commission envelopes (no /v1/commissions route)',
    };
  }
  expectStatus(warm, [201], 'commission warm-up');
  const start = performance.now();
  expectStatus(await post(base, '/v1/commissions', mfr.token, { items }), [201], 'bulk commission');
  return {
    rate: BULK_UNITS / ((performance.now() - start) / 1000),
    via: 'POST /v1/commissions (custodial)',
  };
}

export async function runStoreBench(): Promise<void> {
  console.log(`\n# issuer and storage (PostgreSQL ${new URL(BASE_URL).host}, ${CLIENTS} clients)`);
  let url: string | undefined;
  let db: Database | undefined;
  let service: ServiceProcess | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  try {
    url = await createTestDatabase(BASE_URL, 'provenant_bench');
    const rawDb = await openPg(url, { max: CLIENTS });
    try {
      await rawDb.query(RAW_TABLE);
      const oneRow = await rawOneRowRate(rawDb);
      report(`raw INSERT, one row per transaction, ${CLIENTS} connections`, oneRow, 'rows/s');
      const batched = await rawBatchedRate(rawDb);
      report('raw INSERT, 100-row batches, 1 connection', batched, 'rows/s');
      const sign = rawNodeRates().sign;
      report('raw node:crypto Ed25519 sign', sign, 'sign/s');

      db = await openPg(url);
      await migrate(db);
      const masterKey = new Uint8Array(32).fill(42);
      const [mfr, dist] = await setUpParties(db, masterKey);
      // The real service in its own process (as `pnpm start` runs it), so the
      // load generator here does not share the server's event loop.
      service = await startServiceOnPostgres({
        dbUrl: url,
        dataDir,
        adminToken: `bench-admin-${process.pid}`,
        masterKey,
        env: { PROVENANT_LOG_ORIGIN: 'bench.provenant/log' },
      });
      const base = service.url;

      const bulk = await bulkCommission(base, mfr!);
      const limit = Math.min(sign, batched);
      report('HTTP bulk commission of 10,000 units, 1 request', bulk.rate, 'units/s', {
        to: `min(raw sign, raw batched INSERT) = ${fmt(limit)}/s`,
        value: bulk.rate / limit,
        goal: 0.5,
      });
      console.log(`  (via ${bulk.via}; ${fmt(BULK_UNITS / bulk.rate)} s for 10,000 units)`);

      const batchesBefore = await checkpointCount(db);
      const handoff = await handoffRate(base, mfr!, dist!);
      const batches = (await checkpointCount(db)) - batchesBefore;
      report(`HTTP handoff appends (ship+receive), ${CLIENTS} clients`, handoff.rate, 'appends/s', {
        to: 'raw one-row INSERT',
        value: handoff.rate / oneRow,
        goal: 2,
      });
      console.log(
        `  (${fmt(handoff.appends)} client-signed POST /v1/records, one envelope each, ${CLIENTS} concurrent clients;` +
          ` ${fmt(handoff.appends / Math.max(1, batches))} entries per sequencer batch)`,
      );
    } finally {
      await rawDb.close();
    }
  } finally {
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await db?.close();
    if (url) await dropTestDatabase(BASE_URL, url).catch(() => {});
  }
}
