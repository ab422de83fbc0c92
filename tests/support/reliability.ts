// Shared pieces of the reliability tests (issue 3 "Reliability tests"): a
// plain fetch client against a real listening service, party set-up through
// the registry API, client-signed handoff records (DESIGN §5), and checks of
// the log from the outside (DESIGN §6): leaves, receipts, checkpoints and
// RFC 9162 proofs, verified with core only.
import {
  canonicalBytes,
  encodeRecord,
  fromBase64,
  fromHex,
  generateKeyPair,
  keyId,
  keyRegistrationBody,
  leafHash,
  parseVerifierKey,
  RECORD_PAYLOAD_TYPE,
  sha256Hex,
  signEnvelope,
  toHex,
  unitSubject,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type Checkpoint,
  type CustodyRecord,
  type Envelope,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { verifyReceipt } from '@provenant/issuer';

/** GS1 mod-10 check digit of `body` (GS1 General Specifications §7.9.1). */
export function withCheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = 4 - w) sum += Number(body[i]) * w;
  return body + String((10 - (sum % 10)) % 10);
}

export interface Receipt {
  origin: string;
  index: number;
  leafHash: string;
  integratedAt: string;
  signature: string;
}

/** An acknowledged append: what a 201 answered, and the envelope that was sent. */
export interface Acked {
  id: string;
  subject: string;
  seq: number;
  receipt: Receipt;
  envelope?: Envelope;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
  text: string;
}

/** A tiny JSON-over-fetch client (real sockets; keep-alive by undici). */
export class Client {
  constructor(readonly base: string) {}

  async call(
    method: 'GET' | 'POST',
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '')) parsed = JSON.parse(text);
    return { status: res.status, body: parsed, text };
  }

  get(path: string, token?: string): Promise<HttpAnswer> {
    return this.call('GET', path, token);
  }

  post(path: string, token: string, body: unknown): Promise<HttpAnswer> {
    return this.call('POST', path, token, body);
  }

  /** GET or POST that must answer `status`; throws with the body otherwise. */
  async expect(status: number, p: Promise<HttpAnswer>, what: string): Promise<unknown> {
    const r = await p;
    if (r.status !== status)
      throw new Error(`${what}: expected ${status}, got ${r.status}: ${r.text}`);
    return r.body;
  }
}

type Pair = { seed: Uint8Array; publicKey: Uint8Array };

/** A registered party with a client key, optionally a custodial key, and a sign+verify token. */
export interface Actor {
  gln: string;
  key: Pair;
  token: string;
  custodialKid?: string;
}

/** Registers a party, a client key, optionally a custodial key, and a token, all through the registry API. */
export async function registerParty(
  c: Client,
  admin: string,
  p: { gln: string; roles: string[]; prefixes: string[]; custodial?: boolean },
): Promise<Actor> {
  await c.expect(
    201,
    c.post('/v1/parties', admin, {
      gln: p.gln,
      name: `Party ${p.gln}`,
      roles: p.roles,
      prefixes: p.prefixes,
    }),
    `register party ${p.gln}`,
  );
  const key = generateKeyPair(nodeBackend);
  await c.expect(
    201,
    c.post(
      `/v1/parties/${p.gln}/keys`,
      admin,
      keyRegistrationBody(p.gln, key.seed, key.publicKey, new Date().toISOString(), nodeBackend),
    ),
    `client key of ${p.gln}`,
  );
  let custodialKid: string | undefined;
  if (p.custodial) {
    const k = (await c.expect(
      201,
      c.post(`/v1/parties/${p.gln}/keys`, admin, { custodial: true }),
      `custodial key of ${p.gln}`,
    )) as { kid: string };
    custodialKid = k.kid;
  }
  const t = (await c.expect(
    201,
    c.post(`/v1/parties/${p.gln}/tokens`, admin, { scopes: ['sign', 'verify'] }),
    `token of ${p.gln}`,
  )) as { token: string };
  return { gln: p.gln, key, token: t.token, ...(custodialKid ? { custodialKid } : {}) };
}

/** DSSE-signs a record with a client key (DESIGN §4). */
export function signRecord(record: CustodyRecord, key: Pair): Envelope {
  return signEnvelope(RECORD_PAYLOAD_TYPE, encodeRecord(record), key.seed, nodeBackend);
}

function base(actor: Actor, subject: string, head: { id: string; seq: number } | null) {
  return {
    v: 1,
    subject,
    seq: head ? head.seq + 1 : 0,
    prev: head ? head.id : null,
    actor: actor.gln,
    kid: keyId(actor.key.publicKey),
    time: new Date().toISOString(),
  };
}

export function commissionRecord(actor: Actor, gtin: string, serial: string): CustodyRecord {
  return {
    ...base(actor, unitSubject(gtin, serial), null),
    type: 'commission',
    data: { gtin, serial, lot: 'LOT1', expiry: '2030-12-31' },
  } as CustodyRecord;
}

export function shipRecord(
  actor: Actor,
  subject: string,
  head: { id: string; seq: number },
  to: string,
  shipment: string,
): CustodyRecord {
  return { ...base(actor, subject, head), type: 'ship', data: { to, shipment } } as CustodyRecord;
}

export function receiveRecord(
  actor: Actor,
  subject: string,
  head: { id: string; seq: number },
  from: string,
  shipment: string,
): CustodyRecord {
  return {
    ...base(actor, subject, head),
    type: 'receive',
    data: { from, shipment, condition: 'ok' },
  } as CustodyRecord;
}

/** A record of GET /v1/chains/{subject}. */
export interface ChainRecord {
  id: string;
  seq: number;
  type: string;
  actor: string;
  data: Record<string, unknown>;
  envelope: Envelope;
  receipt: Receipt;
}

/** The decoded record inside a record envelope (payload is standard base64 of JCS). */
export function payloadOf(env: Envelope): { bytes: Uint8Array; record: CustodyRecord } {
  const bytes = fromBase64(env.payload);
  if (!bytes) throw new Error('payload is not base64');
  return { bytes, record: JSON.parse(new TextDecoder().decode(bytes)) as CustodyRecord };
}

/**
 * Problems with one stored chain (DESIGN §5): seqs 0..n without gaps or
 * duplicates, each prev the id of the record before, id = SHA-256(payload).
 */
export function chainProblems(subject: string, records: readonly ChainRecord[]): string[] {
  const out: string[] = [];
  let prev: string | null = null;
  records.forEach((r, i) => {
    const { bytes, record } = payloadOf(r.envelope);
    if (r.seq !== i) out.push(`${subject}: record ${i} has seq ${r.seq}`);
    if (record.seq !== i) out.push(`${subject}: payload ${i} has seq ${record.seq}`);
    if (record.subject !== subject) out.push(`${subject}: payload ${i} is for ${record.subject}`);
    if (record.prev !== prev) out.push(`${subject}: seq ${i} prev ${record.prev}, want ${prev}`);
    if (sha256Hex(bytes) !== r.id) out.push(`${subject}: seq ${i} id is not SHA-256(payload)`);
    prev = r.id;
  });
  return out;
}

/** A leaf of GET /v1/log/entries. */
export interface LogEntry {
  index: number;
  leafHash: string;
  kind: 'record' | 'notice';
  id: string;
  envelope: Envelope;
  integratedAt: string;
  receipt: Receipt;
}

/**
 * Every leaf in [0, size), paging through GET /v1/log/entries (at most 1000 a
 * page); `token` is an admin or `monitor` token (DESIGN §6a).
 */
export async function allEntries(c: Client, token: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for (;;) {
    const page = (await c.expect(
      200,
      c.get(`/v1/log/entries?start=${out.length}`, token),
      'entries',
    )) as {
      end: number;
      size: number;
      entries: LogEntry[];
    };
    out.push(...page.entries);
    if (page.entries.length === 0 || out.length >= page.size) return out;
  }
}

/**
 * Problems with the leaves (DESIGN §6): indexes dense from 0, leaf hash =
 * SHA-256(0x00 ‖ JCS(envelope)), receipt signed by the log key and matching
 * the leaf, record ids = SHA-256 of the payload.
 */
export function leafProblems(entries: readonly LogEntry[], logPublicKey: Uint8Array): string[] {
  const out: string[] = [];
  entries.forEach((e, i) => {
    if (e.index !== i) out.push(`leaf ${i} has index ${e.index}`);
    const lh = toHex(leafHash(canonicalBytes(e.envelope)));
    if (lh !== e.leafHash) out.push(`leaf ${i}: leafHash is not SHA-256(0x00 ‖ JCS(envelope))`);
    const r = e.receipt;
    if (r.index !== i || r.leafHash !== lh || r.integratedAt !== e.integratedAt)
      out.push(`leaf ${i}: receipt does not match the leaf`);
    if (!verifyReceipt(r, logPublicKey)) out.push(`leaf ${i}: receipt signature does not verify`);
    if (e.kind === 'record' && sha256Hex(fromBase64(e.envelope.payload)!) !== e.id)
      out.push(`leaf ${i}: record id is not SHA-256(payload)`);
  });
  return out;
}

/** The log's identity: its verifier key and raw public key (GET /v1/log). */
export interface LogIdentity {
  origin: string;
  vkey: string;
  publicKey: Uint8Array;
}

export async function logIdentity(c: Client): Promise<LogIdentity> {
  const b = (await c.expect(200, c.get('/v1/log'), 'GET /v1/log')) as {
    origin: string;
    vkey: string;
    publicKey: string;
  };
  return { origin: b.origin, vkey: b.vkey, publicKey: fromBase64(b.publicKey)! };
}

/** Verifies a checkpoint note with the log key (C2SP signed note); throws naming the failure. */
export function checkedCheckpoint(note: string, log: LogIdentity): Checkpoint {
  const r = verifyCheckpoint(note, parseVerifierKey(log.vkey), {
    origin: log.origin,
    backend: nodeBackend,
  });
  if (!r.ok) throw new Error(`checkpoint does not verify: ${r.code} ${r.detail}\n${note}`);
  return r.checkpoint;
}

/** Bytes of a lowercase hex digest the service served; throws on anything else. */
export function hex(s: string): Uint8Array {
  const b = fromHex(s);
  if (!b) throw new Error(`not hex: ${s}`);
  return b;
}

/** Problems proving `a` a prefix of `b` with GET /v1/log/proofs/consistency (RFC 9162 §2.1.4). */
export async function consistencyProblem(
  c: Client,
  a: Checkpoint,
  b: Checkpoint,
): Promise<string | null> {
  if (a.size === b.size)
    return toHex(a.rootHash) === toHex(b.rootHash)
      ? null
      : `two checkpoints of size ${a.size} with different roots`;
  if (a.size > b.size) return `checkpoint size went back from ${a.size} to ${b.size}`;
  const p = (await c.expect(
    200,
    c.get(`/v1/log/proofs/consistency?from=${a.size}&to=${b.size}`),
    'consistency proof',
  )) as { proof: string[] };
  const r = verifyConsistency(a.size, b.size, p.proof.map(hex), a.rootHash, b.rootHash);
  return r.ok ? null : `consistency ${a.size} -> ${b.size}: ${r.code} ${r.detail}`;
}

/** Problems proving leaf `index` (hash `lh`, hex) into checkpoint `cp` (RFC 9162 §2.1.3). */
export async function inclusionProblem(
  c: Client,
  index: number,
  lh: string,
  cp: Checkpoint,
): Promise<string | null> {
  const p = (await c.expect(
    200,
    c.get(`/v1/log/proofs/inclusion?index=${index}&size=${cp.size}`),
    'inclusion proof',
  )) as { proof: string[] };
  const r = verifyInclusion(index, cp.size, hex(lh), p.proof.map(hex), cp.rootHash);
  return r.ok ? null : `inclusion of ${index} in ${cp.size}: ${r.code} ${r.detail}`;
}

/** Polls GET /v1/log/checkpoint until stopped, keeping each distinct note in order seen. */
export function pollCheckpoints(c: Client, everyMs: number): { stop(): Promise<string[]> } {
  const notes: string[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const r = await c.get('/v1/log/checkpoint');
        if (r.status === 200 && notes[notes.length - 1] !== r.text) notes.push(r.text);
      } catch {
        // The service may be gone (the crash test kills it); keep what was seen.
      }
      await new Promise((res) => setTimeout(res, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return notes;
    },
  };
}

/** A small deterministic PRNG (mulberry32) so a failing interleaving is easier to reason about. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
