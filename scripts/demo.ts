// `pnpm demo` (issue 3 "The main command"): against a running service, walks
// one new unit through a whole custody chain with the custodial endpoints
// (DESIGN §5, §8a): commission -> pack on a pallet -> ship to the distributor
// -> receive -> unpack -> ship the unit to the pharmacy -> receive. Prints
// each record id, then the latest checkpoint, verified with the log key, and
// the last record's inclusion in it (DESIGN §6).
//
// Configuration: PROVENANT_URL (default: http://localhost:$PORT when PORT is
// set, else the URL in the tokens file, else http://localhost:8080); tokens
// from PROVENANT_MANUFACTURER_TOKEN, PROVENANT_DISTRIBUTOR_TOKEN,
// PROVENANT_PHARMACY_TOKEN, else from $PROVENANT_DATA_DIR/demo-tokens.json
// (default ./data), written by the first `pnpm start`.
import { randomInt } from 'node:crypto';
import { resolve } from 'node:path';
import { fromHex, parseVerifierKey, verifyCheckpoint, verifyInclusion } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  apiClient,
  DEMO_PARTIES,
  DEMO_PRODUCT,
  DEMO_TOKENS_FILE,
  DemoApiError,
  demoSscc,
  demoUnit,
  readDemoTokens,
  recordsOf,
  type AppendedRecord,
  type DemoPartySpec,
} from '../services/issuer/src/seed.js';

interface Actor {
  name: string;
  gln: string;
  token: string;
}

function fail(message: string): never {
  process.stderr.write(`demo: ${message}\n`);
  process.exit(1);
}

function loadActors(): { url: string; actors: Record<DemoPartySpec['handle'], Actor> } {
  const env = process.env;
  const dataDir = resolve(env.PROVENANT_DATA_DIR || './data');
  const file = readDemoTokens(dataDir);
  const url = (
    env.PROVENANT_URL ||
    (env.PORT ? `http://localhost:${env.PORT}` : file?.url) ||
    'http://localhost:8080'
  ).replace(/\/+$/, '');
  const envToken: Record<DemoPartySpec['handle'], string | undefined> = {
    manufacturer: env.PROVENANT_MANUFACTURER_TOKEN,
    distributor: env.PROVENANT_DISTRIBUTOR_TOKEN,
    pharmacy: env.PROVENANT_PHARMACY_TOKEN,
  };
  const actors = {} as Record<DemoPartySpec['handle'], Actor>;
  for (const spec of DEMO_PARTIES) {
    const saved = file?.parties.find((p) => p.handle === spec.handle);
    const token = envToken[spec.handle] || saved?.token;
    if (!token)
      fail(
        `no token for the ${spec.handle}: set PROVENANT_${spec.handle.toUpperCase()}_TOKEN ` +
          `or run against the data dir whose first \`pnpm start\` wrote ${resolve(dataDir, DEMO_TOKENS_FILE)}`,
      );
    actors[spec.handle] = { name: spec.name, gln: saved?.gln ?? spec.gln, token };
  }
  return { url, actors };
}

async function main(): Promise<void> {
  const { url, actors } = loadActors();
  const { manufacturer: acme, distributor: northwind, pharmacy } = actors;
  const as = (a: Actor) => apiClient(url, a.token);
  try {
    await apiClient(url).get('/healthz');
  } catch (err) {
    fail(`no service at ${url} (${(err as Error).message}); start it with \`pnpm start\``);
  }

  // A fresh serial and SSCC per run, so the demo can be run again and again.
  const stamp = Date.now().toString(36).toUpperCase();
  const unit = demoUnit(`D${stamp}${randomInt(100, 999)}`);
  const pallet = demoSscc(randomInt(100_000_000, 999_999_999));
  const ship1 = `SHP-${stamp}-1`;
  const ship2 = `SHP-${stamp}-2`;
  const serial = unit.split('/')[3]!;

  const printed: AppendedRecord[] = [];
  const show = (step: string, who: Actor, answer: unknown): void => {
    process.stdout.write(`\n${step} (${who.name}, GLN ${who.gln})\n`);
    for (const r of recordsOf(answer)) {
      printed.push(r);
      process.stdout.write(
        `  ${r.subject.padEnd(40)} seq ${String(r.seq).padStart(2)}  id ${r.id}\n`,
      );
    }
  };

  process.stdout.write(`Provenant demo against ${url}\nunit ${unit}, pallet ${pallet}\n`);
  show(
    '1. commission',
    acme,
    await as(acme).post('/v1/commissions', {
      items: [{ serial, ...DEMO_PRODUCT }],
    }),
  );
  show(
    '2. pack onto a pallet',
    acme,
    await as(acme).post('/v1/packs', { parent: pallet, children: [unit] }),
  );
  show(
    `3. ship the pallet to ${northwind.name}`,
    acme,
    await as(acme).post('/v1/shipments', {
      subjects: [pallet],
      to: northwind.gln,
      shipment: ship1,
      transactions: [{ type: 'desadv', id: `ASN-${stamp}` }],
    }),
  );
  show(
    '4. receive the pallet',
    northwind,
    await as(northwind).post('/v1/receipts', {
      shipment: ship1,
      from: acme.gln,
      scanned: [pallet],
      condition: 'ok',
    }),
  );
  show(
    '5. unpack the pallet',
    northwind,
    await as(northwind).post('/v1/unpacks', { parent: pallet }),
  );
  show(
    `6. ship the unit to ${pharmacy.name}`,
    northwind,
    await as(northwind).post('/v1/shipments', {
      subjects: [unit],
      to: pharmacy.gln,
      shipment: ship2,
    }),
  );
  show(
    '7. receive the unit',
    pharmacy,
    await as(pharmacy).post('/v1/receipts', {
      shipment: ship2,
      from: northwind.gln,
      scanned: [unit],
      condition: 'ok',
    }),
  );

  const chain = await as(pharmacy).get<{ status?: string; custodian?: string; records: unknown[] }>(
    `/v1/chains/${unit}`,
  );
  process.stdout.write(
    `\nchain of ${unit}: ${chain.records.length} records, status ${chain.status}, custodian ${chain.custodian}\n`,
  );

  // DESIGN §6: the checkpoint is verified with the log key, and the last record proven in it.
  const log = await apiClient(url).get<{ origin: string; vkey: string }>('/v1/log');
  const note = await apiClient(url).getText('/v1/log/checkpoint');
  process.stdout.write(`\ncheckpoint:\n${note}${note.endsWith('\n') ? '' : '\n'}`);
  const cp = verifyCheckpoint(note, parseVerifierKey(log.vkey), {
    origin: log.origin,
    backend: nodeBackend,
  });
  if (!cp.ok) fail(`the checkpoint does not verify: ${cp.code} ${cp.detail}`);
  const last = printed[printed.length - 1]!;
  const receipt = last.receipt as { index: number; leafHash: string };
  const proof = await apiClient(url).get<{ proof: string[] }>(
    `/v1/log/proofs/inclusion?index=${receipt.index}&size=${cp.checkpoint.size}`,
  );
  // Hex from the wire is untrusted: a malformed value fails the check, never crashes it.
  const hex = (h: string): Uint8Array => fromHex(h) ?? new Uint8Array(0);
  const included = verifyInclusion(
    receipt.index,
    cp.checkpoint.size,
    hex(receipt.leafHash),
    proof.proof.map(hex),
    cp.checkpoint.rootHash,
  );
  if (!included.ok) fail(`the last record is not proven in the checkpoint: ${included.code}`);
  process.stdout.write(
    `checkpoint signature verified (log key ${log.vkey.split('+')[0]}); ` +
      `record ${last.id.slice(0, 16)}… is leaf ${receipt.index} of ${cp.checkpoint.size}, inclusion proof verified\n`,
  );
}

main().catch((err: unknown) => {
  if (err instanceof DemoApiError) {
    const p = err.problem as { errors?: unknown; reasons?: unknown } | string;
    const extra = typeof p === 'object' && p ? JSON.stringify(p.errors ?? p.reasons ?? '') : '';
    fail(`${err.message}${extra && extra !== '""' ? ` ${extra}` : ''}`);
  }
  fail((err as Error).stack ?? String(err));
});
