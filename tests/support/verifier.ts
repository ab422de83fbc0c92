// The issuer and the verifier on one app and one real database (PGlite, or
// PostgreSQL when PROVENANT_TEST_DATABASE_URL is set), plus a small supply
// chain driven only through the HTTP API: parties, keys and tokens through
// the registry endpoints (so every party and key is an authority notice in the
// log), custody through the custodial endpoints, and client-signed records
// through POST /v1/records for what the custodial endpoints do not offer.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { main as cliMain } from '@provenant/cli';
import {
  canonicalBytes,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  RECORD_PAYLOAD_TYPE,
  signEnvelope,
  type Bundle,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { ISSUER_ROUTES, type Config, type IssuerDeps } from '@provenant/issuer';
import { createApp, type RouteModule } from '@provenant/server-kit';
import {
  createVerifierDeps,
  VERIFIER_ROUTES,
  type CreateVerifierDepsOptions,
  type VerifierDeps,
} from '@provenant/verifier';
import { buildBundle, type Database, type Queryable } from '@provenant/store';
import { watchContract } from './contract.js';
import { startTestIssuer, type TestIssuer } from './issuer.js';

/** The Express app createApp builds (express itself is not a dependency of the tests). */
type Express = ReturnType<typeof createApp>;

/** What a test reads of an answer. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = { status: number; body: any; headers: Record<string, string> };

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
export function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

/** Verifier options of a test; the trust and key default to the issuer's handoff. */
export type VerifierOptions = Omit<
  CreateVerifierDepsOptions,
  'db' | 'config' | 'trust' | 'verifierSeed'
> &
  Partial<Pick<CreateVerifierDepsOptions, 'trust' | 'verifierSeed'>>;

export interface TestWorld {
  issuer: TestIssuer;
  app: Express;
  verifier: VerifierDeps;
  /** A second app on the same database with other verifier options (clock, policy). */
  appWith(opts: VerifierOptions): { app: Express; deps: VerifierDeps };
  stop(): Promise<void>;
}

/** Issuer and verifier routes on one app (as `pnpm start` mounts them), on a fresh database. */
export async function startTestWorld(
  opts: VerifierOptions = {},
  issuerConfig: Partial<Config> = {},
): Promise<TestWorld> {
  const issuer = await startTestIssuer(issuerConfig);
  const extra: VerifierDeps[] = [];
  const build = (o: VerifierOptions) => {
    const deps = createVerifierDeps({ db: issuer.db, ...issuer.verifier, ...o });
    const routes: RouteModule<IssuerDeps & VerifierDeps>[] = [...ISSUER_ROUTES, ...VERIFIER_ROUTES];
    const app = createApp<IssuerDeps & VerifierDeps>({
      ...issuer.deps,
      ...deps,
      config: issuer.config,
      routes,
    });
    // Every response is checked against the API description (tests/support/contract.ts).
    return { app: watchContract(app), deps };
  };
  const main = build(opts);
  return {
    issuer,
    app: main.app,
    verifier: main.deps,
    appWith(o) {
      const b = build(o);
      extra.push(b.deps);
      return b;
    },
    async stop() {
      await main.deps.pool.close();
      for (const d of extra) await d.pool.close();
      await issuer.stop();
    },
  };
}

/**
 * The log's bundle source, held until `n` callers are inside it (`expect(n)`
 * before the concurrent requests; past the Idempotency-Key lookup), so a race
 * between replicas is certain, not left to scheduling. After each meeting it
 * lets every caller through again until the next `expect`.
 */
export function rendezvous() {
  let waiting: (() => void)[] = [];
  let parties = 1;
  const source: typeof buildBundle = async (...args) => {
    if (waiting.length + 1 < parties) await new Promise<void>((r) => waiting.push(r));
    else {
      for (const go of waiting) go();
      waiting = [];
      parties = 1;
    }
    return buildBundle(...args);
  };
  return { source, expect: (n: number) => (parties = n) };
}

export interface Replicas {
  world: TestWorld;
  /** The world's app, then a second app on the same database. */
  replicas: Express[];
  meet: ReturnType<typeof rendezvous>;
  api: Api;
  /** Acme Pharma and Northwind (acmeAndNorthwind). */
  mfr: Party;
  dist: Party;
}

/**
 * Two replicas of the service (two apps on one database, as two instances
 * behind a load balancer) whose bundle source is one rendezvous, with a
 * manufacturer and a distributor registered at the GLNs given.
 */
export async function startReplicas(mfrGln: string, distGln: string): Promise<Replicas> {
  const meet = rendezvous();
  const world = await startTestWorld({ bundleSource: meet.source });
  const replicas = [world.app, world.appWith({ bundleSource: meet.source }).app];
  const api = new Api(world.app, world.issuer.adminToken);
  return { world, replicas, meet, api, ...(await acmeAndNorthwind(api, mfrGln, distGln)) };
}

export interface Party {
  gln: string;
  name: string;
  token: string;
  /** custodial key (the service signs with it) */
  kid: string;
  /** a client-held key, when registered with `clientKey` */
  client?: { seed: Uint8Array; publicKey: Uint8Array; kid: string };
}

/** Drives the API as an admin and as each party. */
export class Api {
  constructor(
    readonly app: Express,
    readonly adminToken: string,
  ) {}

  post(path: string, token: string, body: unknown) {
    return request(this.app)
      .post(path)
      .set('Authorization', `Bearer ${token}`)
      .send(body as object);
  }

  get(path: string, token: string) {
    return request(this.app).get(path).set('Authorization', `Bearer ${token}`);
  }

  /** Registers a party with a custodial key and a sign+verify token, all through the registry API. */
  async party(
    gln: string,
    name: string,
    roles: string[],
    prefixes: string[] = [],
    opts: { clientKey?: boolean } = {},
  ): Promise<Party> {
    await this.post('/v1/parties', this.adminToken, { gln, name, roles, prefixes }).expect(201);
    const key = await this.post(`/v1/parties/${gln}/keys`, this.adminToken, {
      custodial: true,
    }).expect(201);
    const tok = await this.post(`/v1/parties/${gln}/tokens`, this.adminToken, {
      scopes: ['sign', 'verify'],
    }).expect(201);
    const p: Party = { gln, name, token: tok.body.token as string, kid: key.body.kid as string };
    if (opts.clientKey) p.client = await this.clientKey(gln);
    return p;
  }

  /** Registers a client-held (non-custodial) key for a party; the test keeps the seed. */
  async clientKey(gln: string): Promise<{ seed: Uint8Array; publicKey: Uint8Array; kid: string }> {
    const pair = generateKeyPair(nodeBackend);
    // DESIGN §5: a client-held key proves possession.
    const res = await this.post(
      `/v1/parties/${gln}/keys`,
      this.adminToken,
      keyRegistrationBody(gln, pair.seed, pair.publicKey, new Date().toISOString(), nodeBackend),
    ).expect(201);
    return { ...pair, kid: res.body.kid as string };
  }

  async commission(
    p: Party,
    gtin: string,
    serials: string[],
    lot = 'L1',
    expiry = '2030-01-31',
  ): Promise<Answer> {
    return this.post('/v1/commissions', p.token, {
      items: serials.map((serial) => ({ gtin, serial, lot, expiry })),
    }).expect(201);
  }

  async pack(p: Party, sscc: string, children: string[]): Promise<Answer> {
    return this.post('/v1/packs', p.token, { parent: sscc, children }).expect(201);
  }

  async unpack(p: Party, sscc: string): Promise<Answer> {
    return this.post('/v1/unpacks', p.token, { parent: sscc }).expect(201);
  }

  async ship(p: Party, subjects: string[], to: Party, shipment: string): Promise<Answer> {
    return this.post('/v1/shipments', p.token, { subjects, to: to.gln, shipment }).expect(201);
  }

  async receive(p: Party, from: Party, shipment: string, scanned: string[]): Promise<Answer> {
    return this.post('/v1/receipts', p.token, {
      shipment,
      from: from.gln,
      scanned,
      condition: 'ok',
    }).expect(201);
  }

  /** Ship and receive: one dual-signed handoff. */
  async handoff(from: Party, to: Party, subjects: string[], shipment: string) {
    await this.ship(from, subjects, to, shipment);
    await this.receive(to, from, shipment, subjects);
  }

  async decommission(p: Party, subjects: string[], reason: string): Promise<Answer> {
    return this.post('/v1/decommissions', p.token, { subjects, reason }).expect(201);
  }

  /** The head of a chain: {seq, id} of its last record. */
  async head(subject: string, token: string): Promise<{ seq: number; id: string }> {
    const res = await this.get(`/v1/chains/${subject}`, token).expect(200);
    const records = res.body.records as { seq: number; id: string }[];
    const last = records[records.length - 1]!;
    return { seq: last.seq, id: last.id };
  }

  /** A record signed with the party's client key (not logged). */
  signRecord(
    p: Party,
    record: {
      subject: string;
      seq: number;
      prev: string | null;
      type: string;
      data: unknown;
      time?: string;
    },
    key = p.client!,
    actor = p.gln,
  ): Envelope {
    const payload = canonicalBytes({
      v: 1,
      subject: record.subject,
      seq: record.seq,
      prev: record.prev,
      type: record.type,
      actor,
      kid: keyId(key.publicKey),
      time: record.time ?? new Date().toISOString(),
      data: record.data,
    });
    return signEnvelope(RECORD_PAYLOAD_TYPE, payload, key.seed, nodeBackend);
  }

  /** Appends the next record of a chain, client-signed, through POST /v1/records. */
  async appendNext(
    p: Party,
    subject: string,
    type: string,
    data: unknown,
    time?: string,
  ): Promise<Answer> {
    const h = await this.head(subject, p.token);
    const env = this.signRecord(p, {
      subject,
      seq: h.seq + 1,
      prev: h.id,
      type,
      data,
      ...(time ? { time } : {}),
    });
    return this.post('/v1/records', p.token, env).expect(201);
  }

  async bundle(subject: string, token: string): Promise<Bundle> {
    const res = await this.get(`/v1/bundles/${subject}`, token).expect(200);
    return res.body as Bundle;
  }

  verify(p: Party, body: Record<string, unknown>, app: Express = this.app) {
    return request(app)
      .post('/v1/verifications')
      .set('Authorization', `Bearer ${p.token}`)
      .send(body);
  }

  verifyBundle(p: Party, bundle: unknown, purpose = 'receiving', app: Express = this.app) {
    return request(app)
      .post('/v1/bundles/verify')
      .set('Authorization', `Bearer ${p.token}`)
      .send({ bundle, purpose });
  }
}

/** The manufacturer Acme Pharma (prefix 0614141) and the distributor Northwind, at the GLNs given. */
export async function acmeAndNorthwind(
  api: Api,
  mfrGln: string,
  distGln: string,
): Promise<{ mfr: Party; dist: Party }> {
  const mfr = await api.party(mfrGln, 'Acme Pharma', ['manufacturer'], ['0614141']);
  const dist = await api.party(distGln, 'Northwind', ['distributor']);
  return { mfr, dist };
}

/** The codes of an answer, in its order. */
export function codes(body: { reasons: { code: string }[] }): string[] {
  return body.reasons.map((r) => r.code);
}

/**
 * `provenant audit` against `app` over HTTP, as an operator runs it (or
 * against `url` instead, such as a port nobody listens on): its exit code and
 * everything it printed.
 */
export async function cliAudit(
  app: Express,
  token: string,
  url?: string,
): Promise<{ code: number; stdout: string }> {
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const at = url ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stdout = '';
  try {
    const code = await cliMain(['node', 'provenant', 'audit', '--server', at, '--token', token], {
      stdout: (t) => void (stdout += t),
      stderr: (t) => void (stdout += t),
      stderrIsTty: false,
      env: {},
      now: () => new Date(),
    });
    return { code, stdout };
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

/** What a database insider does to `db` (DESIGN §7b attacks): tests of the monitor and the audit. */
export function insider(db: () => Database) {
  return {
    /** The append-only triggers of `tables` off, `fn` in one transaction, the triggers on again. */
    async tamper(tables: string[], fn: (tx: Queryable) => Promise<unknown>): Promise<void> {
      for (const t of tables) await db().query(`ALTER TABLE ${t} DISABLE TRIGGER USER`);
      try {
        await db().transaction(async (tx) => {
          await fn(tx);
        });
      } finally {
        for (const t of tables) await db().query(`ALTER TABLE ${t} ENABLE TRIGGER USER`);
      }
    },
    /** The log index of a subject's record `seq`. */
    async leafOf(subject: string, seq: number): Promise<number> {
      const { rows } = await db().query(
        `SELECT leaf_idx FROM records WHERE subject = $1 AND seq = $2`,
        [subject, seq],
      );
      return Number(rows[0]!.leaf_idx);
    },
  };
}
