// Core benchmarks (issue 2): raw node:crypto Ed25519 against each backend
// through the core API, canonical JSON, and a 10-record chain replay
// (signature + payload parse + custody state machine per record).
import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
} from 'node:crypto';
import {
  MemoryCustody,
  RECORD_PAYLOAD_TYPE,
  canonicalize,
  encodeRecord,
  generateKeyPair,
  keyId,
  nobleBackend,
  parseRecordPayload,
  recordId,
  signEnvelope,
  toBase64Url,
  verify,
  verifyEnvelope,
  type CustodyRecord,
  type Envelope,
  type PartyInfo,
} from '@provenant/core';
import { nodeBackend, nodeSha256 } from '@provenant/core/node';
import { measure, paired, report } from './measure.js';

const MESSAGE = new Uint8Array(300).fill(7);

/** Raw node:crypto Ed25519 with pre-imported KeyObjects: the limit the core API is measured against. */
/** A pre-imported public KeyObject and a signature over MESSAGE: the raw verify limit's inputs. */
function rawVerifyFixture() {
  const { seed, publicKey } = generateKeyPair(nodeBackend);
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) },
    format: 'jwk',
  });
  const priv = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey), d: toBase64Url(seed) },
    format: 'jwk',
  });
  return { pub, priv, sig: cryptoSign(null, MESSAGE, priv) };
}

export function rawNodeRates(): { verify: number; sign: number } {
  const { seed, publicKey } = generateKeyPair(nodeBackend);
  const pub = createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey) },
    format: 'jwk',
  });
  const priv = createPrivateKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: toBase64Url(publicKey), d: toBase64Url(seed) },
    format: 'jwk',
  });
  const sig = cryptoSign(null, MESSAGE, priv);
  const v = measure(() => {
    for (let i = 0; i < 200; i++) cryptoVerify(null, MESSAGE, pub, sig);
  }, 200);
  const s = measure(() => {
    for (let i = 0; i < 200; i++) cryptoSign(null, MESSAGE, priv);
  }, 200);
  return { verify: v.perSecond, sign: s.perSecond };
}

const PARTIES: PartyInfo[] = [
  { gln: '0614141000005', roles: ['manufacturer'], prefixes: ['0614141'], status: 'active' },
  { gln: '0614141000012', roles: ['distributor'], prefixes: [], status: 'active' },
  { gln: '0614141000029', roles: ['dispenser'], prefixes: [], status: 'active' },
];

/** A signed 10-record chain: commission, then ship/receive handoffs, then a dispense. */
export function buildChain(): { envelopes: Envelope[]; keys: Map<string, Uint8Array> } {
  const keys = new Map<string, Uint8Array>();
  const seeds = PARTIES.map(() => generateKeyPair(nodeBackend));
  seeds.forEach((k) => keys.set(keyId(k.publicKey), k.publicKey));
  const subject = '01/00614141000418/21/BENCH1';
  const envelopes: Envelope[] = [];
  let prev: string | null = null;
  let t = Date.parse('2026-11-01T08:00:00.000Z');
  const add = (actor: number, type: CustodyRecord['type'], data: unknown) => {
    const record = {
      v: 1,
      subject,
      seq: envelopes.length,
      prev,
      type,
      actor: PARTIES[actor]!.gln,
      kid: keyId(seeds[actor]!.publicKey),
      time: new Date((t += 60_000)).toISOString(),
      data,
    } as CustodyRecord;
    envelopes.push(
      signEnvelope(RECORD_PAYLOAD_TYPE, encodeRecord(record), seeds[actor]!.seed, nodeBackend),
    );
    prev = recordId(record);
  };
  add(0, 'commission', {
    gtin: '00614141000418',
    serial: 'BENCH1',
    lot: 'L1',
    expiry: '2028-01-31',
  });
  const hops: [number, number][] = [
    [0, 1],
    [1, 2],
    [2, 1],
    [1, 2],
  ];
  hops.forEach(([from, to], i) => {
    add(from, 'ship', { to: PARTIES[to]!.gln, shipment: `S${i}` });
    add(to, 'receive', { from: PARTIES[from]!.gln, shipment: `S${i}`, condition: 'ok' });
  });
  add(2, 'decommission', { reason: 'dispensed' });
  return { envelopes, keys };
}

/** Verifies and replays a chain; returns false on the first failure. */
export function replayChain(
  envelopes: Envelope[],
  keys: Map<string, Uint8Array>,
  backend = nodeBackend,
  sha256?: (bytes: Uint8Array) => Uint8Array,
): boolean {
  const custody = new MemoryCustody(PARTIES);
  for (const env of envelopes) {
    const checked = verifyEnvelope(env, (kid) => keys.get(kid), backend);
    if (!checked.ok) return false;
    const parsed = parseRecordPayload(checked.payload, sha256 ? { sha256 } : {});
    if (!parsed.ok || parsed.record.kid !== checked.keyid) return false;
    if (!custody.apply(parsed.record, parsed.id).ok) return false;
  }
  return true;
}

export function runCoreBench(): void {
  console.log('\n== core (issue 2) ==');
  const raw = rawNodeRates();
  report('raw node:crypto Ed25519 verify', raw.verify, 'verify/s');
  report('raw node:crypto Ed25519 sign', raw.sign, 'sign/s');

  const { seed, publicKey } = generateKeyPair();
  const sig = nobleBackend.sign(MESSAGE, seed);
  const nodeVerify = measure(() => {
    for (let i = 0; i < 200; i++) verify(sig, MESSAGE, publicKey, nodeBackend);
  }, 200);
  report('core verify, node backend', nodeVerify.perSecond, 'verify/s', {
    to: 'raw verify',
    value: nodeVerify.perSecond / raw.verify,
  });
  const nobleVerify = measure(() => {
    for (let i = 0; i < 20; i++) verify(sig, MESSAGE, publicKey, nobleBackend);
  }, 20);
  report('core verify, noble backend (portable, browser)', nobleVerify.perSecond, 'verify/s', {
    to: 'raw verify',
    value: nobleVerify.perSecond / raw.verify,
  });
  const nodeSign = measure(() => {
    for (let i = 0; i < 200; i++) nodeBackend.sign(MESSAGE, seed);
  }, 200);
  report('core sign, node backend', nodeSign.perSecond, 'sign/s', {
    to: 'raw sign',
    value: nodeSign.perSecond / raw.sign,
  });

  const record = {
    v: 1,
    subject: '01/00614141000418/21/BENCH1',
    seq: 3,
    prev: 'ab'.repeat(32),
    type: 'ship',
    actor: '0614141000005',
    kid: 'cd'.repeat(16),
    time: '2026-11-28T12:00:00.000Z',
    data: {
      to: '0614141000012',
      shipment: 'SHIP-2026-000123',
      transactions: [
        { type: 'po', id: 'PO-4711-2026' },
        { type: 'inv', id: 'INV-0815-2026' },
        { type: 'desadv', id: 'DESADV-000042' },
        { type: 'po', id: 'PO-4712-2026-HOSPITAL-NETWORK-EAST-REGION' },
        { type: 'inv', id: 'INV-0816-2026-HOSPITAL-NETWORK-EAST-REGION' },
      ],
    },
  };
  const bytes = canonicalize(record).length;
  const canon = measure(() => {
    for (let i = 0; i < 1000; i++) canonicalize(record);
  }, 1000);
  report(`canonicalize a ${bytes}-byte record`, canon.perSecond, 'records/s', {
    to: 'raw verify',
    value: canon.perSecond / raw.verify,
  });

  const { envelopes, keys } = buildChain();
  if (!replayChain(envelopes, keys)) throw new Error('benchmark chain does not replay');
  // The goal ratio is taken from interleaved rounds of raw verify and replay.
  const { pub, sig: rawSig } = rawVerifyFixture();
  const pair = paired(
    {
      body: () => {
        for (let i = 0; i < 200; i++) cryptoVerify(null, MESSAGE, pub, rawSig);
      },
      batch: 200,
    },
    {
      body: () => {
        for (let i = 0; i < 20; i++) replayChain(envelopes, keys, nodeBackend, nodeSha256);
      },
      batch: 20,
    },
  );
  report('raw node:crypto verify (best of interleaved rounds)', pair.a, 'verify/s');
  report(
    '10-record chain replay, node backend (node:crypto verify and SHA-256)',
    pair.b,
    'chains/s',
    {
      to: 'raw verify ÷ 10',
      value: pair.b / (pair.a / envelopes.length),
      goal: 0.85,
    },
  );
  const replayNoble = measure(() => replayChain(envelopes, keys, nobleBackend), 1);
  report('10-record chain replay, noble backend', replayNoble.perSecond, 'chains/s', {
    to: 'raw verify ÷ 10',
    value: replayNoble.perSecond / (raw.verify / envelopes.length),
  });
}
