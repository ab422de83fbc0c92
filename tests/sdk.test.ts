// @provenant/sdk: transport behaviour against a scripted fetch (retries only
// on 429/503, Retry-After, Idempotency-Key per logical call, problem+json
// errors, answers checked), local signing, and typed calls against a real
// issuer (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import {
  canonicalBytes,
  fromBase64Url,
  generateKeyPair,
  keyId,
  publicKeyFromSeed,
  sign,
  toBase64,
  unitSubject,
  verifyEnvelope,
} from '@provenant/core';
import {
  checkVerificationReceipt,
  envelopeRecordId,
  generateKey,
  ProvenantClient,
  ProvenantError,
  readKeyFile,
  retryAfterMs,
  signRecord,
  SigningError,
  type FetchLike,
} from '@provenant/sdk';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { REPO_ROOT } from './support/paths.js';

function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100000');
const GTIN = withCheckDigit('1061414100001');

interface Call {
  url: string;
  init: RequestInit;
}

/** A fetch that answers from a script, recording every call. */
function scripted(answers: (() => Response)[]): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, init });
      const next = answers.shift();
      if (!next) throw new Error('no more scripted answers');
      return next();
    },
  };
}

const problem =
  (
    status: number,
    slug: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) =>
  () =>
    new Response(
      JSON.stringify({
        type: `urn:provenant:problem:${slug}`,
        title: 'T',
        status,
        detail: `d ${slug}`,
        ...extra,
      }),
      {
        status,
        headers: { 'content-type': 'application/problem+json', ...headers },
      },
    );
const ok =
  (body: unknown, status = 200) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const party = {
  gln: MFR,
  name: 'M',
  roles: ['manufacturer'],
  prefixes: ['0614141'],
  status: 'active',
  keys: [],
};

function client(fetch: FetchLike, sleeps: number[] = [], retries = 3): ProvenantClient {
  return new ProvenantClient({
    baseUrl: 'http://api.test/',
    token: 'tok',
    fetch,
    retries,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
  });
}

const header = (c: Call, name: string) => (c.init.headers as Record<string, string>)[name];

describe('the transport', () => {
  it('retries a write on 503 and 429 with the same Idempotency-Key, honouring Retry-After', async () => {
    const s = scripted([
      problem(503, 'database-unavailable', {}, { 'retry-after': '2' }),
      problem(429, 'rate-limited'),
      ok(party, 201),
    ]);
    const sleeps: number[] = [];
    const res = await client(s.fetch, sleeps).createParty({
      gln: MFR,
      name: 'M',
      roles: ['manufacturer'],
      prefixes: ['0614141'],
    });
    expect(res.gln).toBe(MFR);
    expect(s.calls).toHaveLength(3);
    const keys = s.calls.map((c) => header(c, 'Idempotency-Key'));
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(header(s.calls[0]!, 'Authorization')).toBe('Bearer tok');
    // Retry-After: 2 s; then backoff 250·2¹ with equal jitter at random 0.5 = 375 ms.
    expect(sleeps).toEqual([2000, 375]);
  });

  it('gives each logical write its own key, and takes the caller’s', async () => {
    const s = scripted([ok(party, 201), ok(party, 201)]);
    const c = client(s.fetch);
    await c.createParty({ gln: MFR, name: 'M', roles: ['manufacturer'], prefixes: [] });
    await c.createParty(
      { gln: MFR, name: 'M', roles: ['manufacturer'], prefixes: [] },
      { idempotencyKey: 'mine' },
    );
    expect(header(s.calls[0]!, 'Idempotency-Key')).not.toBe(header(s.calls[1]!, 'Idempotency-Key'));
    expect(header(s.calls[1]!, 'Idempotency-Key')).toBe('mine');
  });

  it('does not retry other errors, and throws one ProvenantError carrying the problem', async () => {
    for (const status of [500, 409, 422, 400]) {
      const s = scripted([
        problem(status, 'x', {
          reasons: [{ code: 'CUSTODY_VIOLATION', message: 'm' }],
          head: { seq: 3 },
        }),
      ]);
      const err = await client(s.fetch)
        .getParty(MFR)
        .catch((e: unknown) => e);
      expect(s.calls).toHaveLength(1);
      expect(err).toBeInstanceOf(ProvenantError);
      const e = err as ProvenantError;
      expect(e).toMatchObject({
        status,
        code: 'x',
        type: 'urn:provenant:problem:x',
        detail: 'd x',
      });
      expect(e.reasons).toEqual([{ code: 'CUSTODY_VIOLATION', message: 'm' }]);
      expect(e.problem['head']).toEqual({ seq: 3 });
    }
  });

  it('stops retrying after the bound and throws the last 503', async () => {
    const s = scripted(Array.from({ length: 3 }, () => problem(503, 'database-unavailable')));
    const sleeps: number[] = [];
    const err = (await client(s.fetch, sleeps, 2)
      .readyz()
      .catch((e: unknown) => e)) as ProvenantError;
    expect(err.status).toBe(503);
    expect(s.calls).toHaveLength(3);
    expect(sleeps).toEqual([188, 375]);
  });

  it('reports an unreachable server as status 0 network-error, without retrying', async () => {
    const calls: string[] = [];
    const c = client(async (url) => {
      calls.push(url);
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    });
    const err = (await c.getLogInfo().catch((e: unknown) => e)) as ProvenantError;
    expect(err).toMatchObject({ status: 0, code: 'network-error' });
    expect(err.detail).toMatch(/ECONNREFUSED/);
    expect(calls).toHaveLength(1);
  });

  it('refuses an answer that is not what the API documents', async () => {
    const s = scripted([ok({ gln: MFR })]);
    const err = (await client(s.fetch)
      .getParty(MFR)
      .catch((e: unknown) => e)) as ProvenantError;
    expect(err).toMatchObject({ code: 'invalid-response', status: 200 });
  });

  it('refuses a subject that is not canonical before any request', async () => {
    const s = scripted([]);
    const err = (await client(s.fetch)
      .getChain('01/123/21/x')
      .catch((e: unknown) => e)) as ProvenantError;
    expect(err).toMatchObject({ code: 'invalid-argument', status: 0 });
    expect(s.calls).toHaveLength(0);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});

describe('local signing', () => {
  const key = generateKey();
  const seed = fromBase64Url(key.seed)!;
  const record = {
    v: 1,
    subject: unitSubject(GTIN, 'S1'),
    seq: 0,
    prev: null,
    type: 'commission',
    actor: MFR,
    kid: key.kid,
    time: '2026-11-28T12:00:00.000Z',
    data: { gtin: GTIN, serial: 'S1', lot: 'L1', expiry: '2030-12-31' },
  };

  it('signs a valid record into a DSSE envelope that core verifies', () => {
    const env = signRecord(record, seed);
    const pub = publicKeyFromSeed(seed);
    const r = verifyEnvelope(env, (kid) => (kid === keyId(pub) ? pub : undefined));
    expect(r.ok).toBe(true);
    expect(envelopeRecordId(env)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an invalid record naming the field, and a kid that is not the key’s', () => {
    const bad = (() => {
      try {
        signRecord({ ...record, seq: 1 }, seed);
      } catch (e) {
        return e;
      }
      return null;
    })() as SigningError;
    expect(bad).toBeInstanceOf(SigningError);
    expect(bad.code).toBe('INVALID_RECORD');
    expect(bad.issues.map((i) => i.path)).toContain('prev');
    expect(() => signRecord({ ...record, kid: '0'.repeat(32) }, seed)).toThrow(
      expect.objectContaining({ code: 'KID_MISMATCH' }),
    );
  });

  it('reads a key file and refuses one whose public key is not the seed’s', () => {
    expect(readKeyFile({ seed: key.seed, publicKey: key.publicKey, kid: key.kid }).kid).toBe(
      key.kid,
    );
    expect(() => readKeyFile({ seed: key.seed, publicKey: generateKey().publicKey })).toThrow(
      expect.objectContaining({ code: 'INVALID_KEY' }),
    );
  });
});

describe('verification receipts', () => {
  const verifier = generateKeyPair();
  const kid = keyId(verifier.publicKey);
  const signed = (overrides: Record<string, unknown> = {}) => {
    const body = {
      v: 1,
      id: 'v-1',
      subject: unitSubject(GTIN, 'S1'),
      party: MFR,
      purpose: 'receiving',
      verdict: 'quarantine',
      reasons: ['LOT_MISMATCH'],
      checkpoint: { origin: 'o', size: 3, rootHash: 'ab'.repeat(32) },
      verifiedAt: '2026-11-28T12:00:00.000Z',
      nonce: 'n0nce',
      kid,
      ...overrides,
    };
    return { ...body, signature: toBase64(sign(canonicalBytes(body), verifier.seed)) };
  };
  const answer = (receipt: unknown, verdict = 'quarantine') => ({
    id: 'v-1',
    subject: unitSubject(GTIN, 'S1'),
    purpose: 'receiving',
    verdict,
    reasons: [{ code: 'LOT_MISMATCH', message: 'm' }],
    receipt,
  });

  it('accepts a receipt signed by the pinned key that says what the answer says', () => {
    expect(checkVerificationReceipt(answer(signed()), toBase64(verifier.publicKey))).toEqual({
      ok: true,
      kid,
    });
  });

  it('refuses a receipt of another key, a changed byte, another verdict, or none', () => {
    const pinned = toBase64(verifier.publicKey);
    const other = toBase64(generateKeyPair().publicKey);
    expect(checkVerificationReceipt(answer(signed()), other)).toMatchObject({
      ok: false,
      code: 'KID_MISMATCH',
    });
    const flipped = { ...signed(), verifiedAt: '2026-11-28T12:00:00.001Z' };
    expect(checkVerificationReceipt(answer(flipped), pinned)).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
    expect(checkVerificationReceipt(answer(signed(), 'accept'), pinned)).toMatchObject({
      ok: false,
      code: 'RECEIPT_MISMATCH',
    });
    expect(checkVerificationReceipt(answer(undefined), pinned)).toMatchObject({
      ok: false,
      code: 'RECEIPT_MISSING',
    });
    expect(() => checkVerificationReceipt(answer(signed()), 'short')).toThrow(TypeError);
  });

  it('with the question, refuses a receipt for another subject, party, purpose or nonce, or a stale one', () => {
    const pinned = toBase64(verifier.publicKey);
    const question = {
      subject: unitSubject(GTIN, 'S1'),
      party: MFR,
      purpose: 'receiving',
      nonce: 'n0nce',
      now: Date.parse('2026-11-28T12:04:00.000Z'),
    };
    expect(checkVerificationReceipt(answer(signed()), pinned, undefined, question)).toEqual({
      ok: true,
      kid,
    });
    const wrong: [Partial<typeof question>, string][] = [
      [{ subject: unitSubject(GTIN, 'S2') }, 'SUBJECT_MISMATCH'],
      [{ party: withCheckDigit('061414100001') }, 'PARTY_MISMATCH'],
      [{ purpose: 'dispense' }, 'PURPOSE_MISMATCH'],
      [{ nonce: 'other' }, 'NONCE_MISMATCH'],
      [{ now: Date.parse('2026-11-28T12:05:00.001Z') }, 'RECEIPT_STALE'],
      [{ now: Date.parse('2026-11-28T11:54:59.999Z') }, 'RECEIPT_STALE'],
    ];
    for (const [q, code] of wrong)
      expect(
        checkVerificationReceipt(answer(signed()), pinned, undefined, { ...question, ...q }),
      ).toMatchObject({ ok: false, code });
  });
});

describe('in a browser', () => {
  // The SDK and everything it imports must load without Node built-ins (it
  // uses the global fetch and crypto.randomUUID): walk its static import graph
  // from source, workspace packages resolved as the bundler would (core's
  // root export, never core/node).
  const root = REPO_ROOT;
  const workspace: Record<string, string> = {
    '@provenant/core': 'packages/core/src/index.ts',
    '@provenant/gs1': 'packages/gs1/src/index.ts',
    '@provenant/sdk': 'packages/sdk/src/index.ts',
  };
  const importsOf = (file: string): string[] =>
    [
      ...readFileSync(file, 'utf8').matchAll(
        /^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s)?['"]([^'"]+)['"]/gm,
      ),
    ]
      .filter((m) => !/^\s*(?:import|export)\s+type\s/.test(m[0]))
      .map((m) => m[1]!);

  it('imports no node: module and no Node-only package anywhere below @provenant/sdk', () => {
    const seen = new Set<string>();
    const external = new Set<string>();
    const stack = [resolve(root, workspace['@provenant/sdk']!)];
    while (stack.length > 0) {
      const file = stack.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const spec of importsOf(file)) {
        if (spec.startsWith('.')) {
          const ts = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
          stack.push(existsSync(ts) ? ts : join(ts.replace(/\.ts$/, ''), 'index.ts'));
        } else if (workspace[spec]) stack.push(resolve(root, workspace[spec]!));
        else external.add(spec);
      }
    }
    expect(seen.size).toBeGreaterThan(5);
    expect(
      [...external].filter((s) => s.startsWith('node:') || s.startsWith('@provenant/')),
    ).toEqual([]);
    // Only portable packages: zod and the noble crypto libraries.
    expect([...external].every((s) => /^(zod|@noble\/[a-z0-9-]+)(\/.*)?$/.test(s))).toBe(true);
  });
});

describe('against a real issuer', () => {
  let issuer: TestIssuer;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    server = issuer.app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await issuer?.stop();
  });

  it('registers a party and a client key, appends a signed record and reads it back', async () => {
    const admin = new ProvenantClient({ baseUrl: url, token: issuer.adminToken });
    expect((await admin.healthz()).status).toBe('ok');
    await admin.createParty({
      gln: MFR,
      name: 'M',
      roles: ['manufacturer'],
      prefixes: ['0614141'],
    });
    const key = generateKey();
    const registered = await admin.registerKey(MFR, { seed: key.seedBytes });
    expect(registered.kid).toBe(key.kid);
    const { token } = await admin.createToken(MFR, { scopes: ['sign', 'verify'] });
    const m = new ProvenantClient({ baseUrl: url, token });
    const seed = fromBase64Url(key.seed)!;
    const subject = unitSubject(GTIN, 'R1');
    const env = signRecord(
      {
        v: 1,
        subject,
        seq: 0,
        prev: null,
        type: 'commission',
        actor: MFR,
        kid: key.kid,
        time: new Date().toISOString(),
        data: { gtin: GTIN, serial: 'R1', lot: 'L', expiry: '2030-12-31' },
      },
      seed,
    );
    const appended = await m.submitRecord(env);
    expect(appended).toMatchObject({ subject, seq: 0, id: envelopeRecordId(env) });
    const chain = await m.getChain(subject);
    expect(chain.records.map((r) => r.id)).toEqual([appended.id]);
    const bundle = await m.getBundle(subject);
    expect(Object.keys(bundle.chains)).toEqual([subject]);
    const info = await m.getLogInfo();
    expect(info.vkey).toBe(issuer.deps.logKeys.vkey);
    expect(await m.getCheckpoint()).toMatch(/^test\.provenant\/log\n\d+\n/);
    const leaves = await m.getLogLeaves({ start: 0 });
    expect(leaves.leaves.length).toBe(leaves.size);
    const byHash = await m.getInclusionProof({ leafHash: leaves.leaves[0]!, size: leaves.size });
    expect(byHash.index).toBe(0);
    const notices = await m.getLogNotices();
    expect(notices.notices.map((n) => n.type)).toContain('party');
    const proof = await m.getConsistencyProof({ from: 1 });
    expect(proof.from).toBe(1);
    const openapi = await m.getOpenApi();
    expect(openapi.openapi).toMatch(/^3\.1/);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining(['/v1/records', '/v1/log/checkpoint']),
    );
    expect(m.docsUrl).toBe(`${url}/docs`);
  });

  it('throws the server’s problem for a refused call', async () => {
    const admin = new ProvenantClient({ baseUrl: url, token: issuer.adminToken });
    const err = (await admin
      .getParty(withCheckDigit('061414100099'))
      .catch((e: unknown) => e)) as ProvenantError;
    expect(err).toBeInstanceOf(ProvenantError);
    expect(err).toMatchObject({ status: 404, code: 'party-not-found' });
    const bad = (await admin
      .createParty({ gln: '123', name: 'x', roles: ['manufacturer'], prefixes: [] })
      .catch((e: unknown) => e)) as ProvenantError;
    expect(bad.status).toBe(400);
    expect(bad.errors?.[0]?.path).toBe('body.gln');
  });
});
