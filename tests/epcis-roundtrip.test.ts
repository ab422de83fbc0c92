// The EPCIS round trip (issue 12, DESIGN §11): a supply chain written into
// one instance through /v1 and through EPCIS capture is exported with the
// SDK (every page of GET /epcis/events) and captured into a fresh instance
// where the same parties and company prefixes are registered. Every eventID
// comes back the same, the chains have the same shape, and the units verify
// accept at the same docks. Real issuers and verifiers on real databases
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set).
//
// The parties' custodial keys differ between the two instances: the API
// generates custodial keys and offers no import, so record ids (which name
// the kid) differ while eventIDs, which hash the events, do not.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { epcisStatedActors, unitSubject } from '@provenant/core';
import { getChain } from '@provenant/store';
import { ProvenantClient, type EpcisEventJson } from '@provenant/sdk';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100001');
const SSCC = withCheckDigit('10614141000000001');
const SSCC_URN = `urn:epc:id:sscc:0614141.${SSCC.slice(0, 1)}${SSCC.slice(8, 17)}`;
const urn = (serial: string) => `urn:epc:id:sgtin:0614141.100001.${serial}`;
const unit = (serial: string) => unitSubject(GTIN, serial);
const dl = (path: string) => `https://id.gs1.org/${path}`;

const PARTIES = [
  {
    key: 'mfr',
    gln: withCheckDigit('061414100000'),
    roles: ['manufacturer'],
    prefixes: ['0614141'],
  },
  { key: 'dist', gln: withCheckDigit('061414100001'), roles: ['distributor'], prefixes: [] },
  { key: 'pharm', gln: withCheckDigit('061414100002'), roles: ['dispenser'], prefixes: [] },
] as const;
type Who = (typeof PARTIES)[number]['key'];

interface Instance {
  world: TestWorld;
  api: Api;
  server: Server;
  url: string;
  parties: Record<Who, Party>;
  client(who: Who | 'admin'): ProvenantClient;
}

async function instance(): Promise<Instance> {
  const world = await startTestWorld();
  const api = new Api(world.app, world.issuer.adminToken);
  const parties = {} as Record<Who, Party>;
  for (const p of PARTIES) {
    parties[p.key] = await api.party(p.gln, p.key, [...p.roles], [...p.prefixes]);
  }
  const server = world.app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    world,
    api,
    server,
    url,
    parties,
    client: (who) =>
      new ProvenantClient({
        baseUrl: url,
        token: who === 'admin' ? world.issuer.adminToken : parties[who].token,
      }),
  };
}

async function stop(i: Instance | undefined): Promise<void> {
  if (!i) return;
  i.server.closeAllConnections?.();
  await new Promise<void>((r) => i.server.close(() => r()));
  await i.world.stop();
}

// Event times a few minutes back, a second apart, in the order they happen.
let clock = Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000;
const time = () => new Date((clock += 1000)).toISOString().replace('Z', '+00:00');

function document(events: unknown[]) {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  };
}

async function capture(i: Instance, who: Who, events: unknown[]): Promise<void> {
  const c = i.client(who);
  const { captureID } = await c.epcis.capture(document(events));
  const job = await c.epcis.waitForJob(captureID, { intervalMs: 50 });
  expect({ success: job.success, errors: job.errors }).toEqual({ success: true, errors: [] });
}

async function exportAll(i: Instance): Promise<EpcisEventJson[]> {
  const events: EpcisEventJson[] = [];
  for await (const { event } of i.client('admin').epcis.events({ perPage: 3 })) events.push(event);
  return events;
}

/** Who captures an event: the first party it states as its actor. */
function actorOf(event: EpcisEventJson, parties: Record<Who, Party>): Who {
  for (const a of epcisStatedActors(event)) {
    const who = (Object.keys(parties) as Who[]).find((k) => parties[k].gln === a.gln);
    if (who) return who;
  }
  throw new Error(`no registered actor for ${JSON.stringify(event)}`);
}

describe('the EPCIS round trip between two instances', () => {
  let a: Instance;
  let b: Instance;
  let exported: EpcisEventJson[];

  beforeAll(async () => {
    a = await instance();
    const { api, parties: p } = a;
    const at = (who: Who) => ({ bizLocation: { id: dl(`414/${p[who].gln}`) } });
    await api.commission(p.mfr, GTIN, ['Q001', 'Q002', 'Q003']);
    await capture(a, 'mfr', [
      {
        type: 'ObjectEvent',
        eventTime: time(),
        eventTimeZoneOffset: '+00:00',
        epcList: [urn('E1'), urn('E2')],
        action: 'ADD',
        bizStep: 'commissioning',
        disposition: 'active',
        ...at('mfr'),
        ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2030-01-31' },
      },
    ]);
    await api.pack(p.mfr, SSCC, [unit('Q001'), unit('Q002'), unit('E1')]);
    await api.handoff(p.mfr, p.dist, [`00/${SSCC}`], 'ASN-1');
    const party = (who: Who) => dl(`417/${p[who].gln}`);
    clock = Date.now();
    await capture(a, 'dist', [
      {
        type: 'ObjectEvent',
        eventTime: time(),
        eventTimeZoneOffset: '+00:00',
        epcList: [SSCC_URN],
        action: 'OBSERVE',
        bizStep: 'shipping',
        disposition: 'in_transit',
        ...at('dist'),
        bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-2' }],
        sourceList: [{ type: 'owning_party', source: party('dist') }],
        destinationList: [{ type: 'owning_party', destination: party('pharm') }],
      },
    ]);
    await capture(a, 'pharm', [
      {
        type: 'ObjectEvent',
        eventTime: time(),
        eventTimeZoneOffset: '+00:00',
        epcList: [SSCC_URN],
        action: 'OBSERVE',
        bizStep: 'receiving',
        disposition: 'in_progress',
        ...at('pharm'),
        bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-2' }],
        sourceList: [{ type: 'owning_party', source: party('dist') }],
        destinationList: [{ type: 'owning_party', destination: party('pharm') }],
      },
    ]);
    exported = await exportAll(a);

    // The fresh instance: same parties and prefixes, then the events, in order,
    // each run of consecutive events captured by the party that acted.
    b = await instance();
    let run: EpcisEventJson[] = [];
    let runBy: Who | undefined;
    for (const e of exported) {
      const who = actorOf(e, b.parties);
      if (runBy !== undefined && who !== runBy) {
        await capture(b, runBy, run);
        run = [];
      }
      runBy = who;
      run.push(e);
    }
    if (runBy !== undefined) await capture(b, runBy, run);
  }, 300_000);
  afterAll(async () => {
    await stop(a);
    await stop(b);
  });

  it('exports every event of the chain, /v1-written and captured alike', () => {
    expect(exported.map((e) => `${e.type} ${String(e['bizStep'])}`)).toEqual([
      'ObjectEvent commissioning',
      'ObjectEvent commissioning',
      'ObjectEvent commissioning',
      'ObjectEvent commissioning',
      'AggregationEvent packing',
      'ObjectEvent shipping',
      'ObjectEvent receiving',
      'ObjectEvent shipping',
      'ObjectEvent receiving',
    ]);
  });

  it('gives every event the same eventID in the fresh instance', async () => {
    const again = await exportAll(b);
    expect(again.map((e) => e.eventID)).toEqual(exported.map((e) => e.eventID));
    expect(new Set(exported.map((e) => e.eventID)).size).toBe(exported.length);
  });

  it('builds chains of the same shape, each record at the same time', async () => {
    for (const subject of [unit('Q001'), unit('Q003'), unit('E1'), `00/${SSCC}`]) {
      const shape = async (i: Instance) =>
        (await getChain(i.world.issuer.db, subject)).map((r) => [r.seq, r.type, r.actor, r.time]);
      expect(await shape(b)).toEqual(await shape(a));
    }
  });

  it('verifies accept at the same docks', async () => {
    for (const [who, serial] of [
      ['pharm', 'Q001'],
      ['pharm', 'E1'],
    ] as const) {
      const verdicts = [];
      for (const i of [a, b]) {
        const res = await i.api
          .verify(i.parties[who], { subject: unit(serial), purpose: 'dispense' })
          .expect(201);
        verdicts.push([res.body.verdict, res.body.reasons]);
      }
      expect(verdicts[1]).toEqual(verdicts[0]);
      expect(verdicts[0]![0]).toBe('accept');
    }
  });
});
