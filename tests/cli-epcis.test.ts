// `provenant epcis capture` and `provenant epcis events` end to end (issue
// 12), in the style of tests/cli.test.ts: spawned processes, real files in a
// temp dir, a real issuer listening on a port (PGlite, or PostgreSQL when
// PROVENANT_TEST_DATABASE_URL is set). Tests run in order and share state.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { epcisDocumentEvents, epcisEventHash, unitSubject } from '@provenant/core';
import { getChain } from '@provenant/store';
import { cli, inproc, serve, type Served } from './support/cli.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit } from './support/verifier.js';

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414100001');
const GTIN = withCheckDigit('1061414100001');
const urn = (serial: string) => `urn:epc:id:sgtin:0614141.100001.${serial}`;

jest.setTimeout(120_000);

let issuer: TestIssuer;
let served: Served;
const tokens: Record<string, string> = {};
const f = (name: string) => join(served.dir, name);
const as = (gln: string) => ['--server', served.url, '--token', tokens[gln]!];

// Event times a few minutes back, a second apart.
let clock = Math.floor(Date.now() / 1000) * 1000 - 5 * 60_000;
const time = () => new Date((clock += 1000)).toISOString();

function commissioning(serials: string[]) {
  return {
    type: 'ObjectEvent',
    eventTime: time(),
    eventTimeZoneOffset: '+00:00',
    epcList: serials.map(urn),
    action: 'ADD',
    bizStep: 'commissioning',
    disposition: 'active',
    bizLocation: { id: `https://id.gs1.org/414/${MFR}` },
    ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2030-01-31' },
  };
}

function document(events: unknown[]) {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date().toISOString(),
    epcisBody: { eventList: events },
  };
}

beforeAll(async () => {
  issuer = await startTestIssuer();
  served = await serve(issuer.app, 'provenant-cli-epcis-');
  const api = new Api(issuer.app, issuer.adminToken);
  for (const [gln, role, prefixes] of [
    [MFR, 'manufacturer', ['0614141']],
    [DIST, 'distributor', []],
  ] as const)
    tokens[gln] = (await api.party(gln, gln, [role], [...prefixes])).token;
});

afterAll(async () => {
  await served?.close();
  await issuer?.stop();
});

describe('provenant epcis capture', () => {
  it('captures a document as a job, follows it to the end and exits 0', async () => {
    await writeFile(f('good.jsonld'), JSON.stringify(document([commissioning(['A1', 'A2'])])));
    const run = await cli(['epcis', 'capture', f('good.jsonld'), ...as(MFR), '--interval', '50']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^capture job \S+: 1 events \(rollback\)\ncaptured 1 events\n$/);
    const chain = await getChain(issuer.db, unitSubject(GTIN, 'A2'));
    expect(chain.map((r) => r.type)).toEqual(['commission']);
  });

  it('reports each refused event by index and reason, and exits 1 (proceed keeps the others)', async () => {
    const wrongActor = {
      ...commissioning(['B2']),
      bizLocation: { id: `https://id.gs1.org/414/${withCheckDigit('099999900000')}` },
    };
    const unmapped = { ...commissioning(['B3']), action: 'OBSERVE', bizStep: 'inspecting' };
    await writeFile(
      f('mixed.jsonld'),
      JSON.stringify(document([commissioning(['B1']), wrongActor, unmapped])),
    );
    const run = await inproc([
      'epcis',
      'capture',
      f('mixed.jsonld'),
      ...as(MFR),
      '--error-behaviour',
      'proceed',
      '--interval',
      '20',
    ]);
    expect(run.stdout).toContain('capture failed: 1 captured, 2 event(s) refused');
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      / {2}event 1 ni:\S+: actor-mismatch: .*\[ACTOR_MISMATCH at bizLocation\.id\]\n {2}event 2 ni:\S+: unmapped-event: .*\[UNMAPPED_EVENT at bizStep\]\n/,
    );
    expect((await getChain(issuer.db, unitSubject(GTIN, 'B1'))).length).toBe(1);
    expect(await getChain(issuer.db, unitSubject(GTIN, 'B3'))).toEqual([]);

    const json = await inproc([
      'epcis',
      'capture',
      f('mixed.jsonld'),
      ...as(MFR),
      '--json',
      '--interval',
      '20',
    ]);
    expect(json.code).toBe(1);
    const job = JSON.parse(json.stdout) as { success: boolean; errors: { eventIndex: number }[] };
    expect(job.success).toBe(false);
    expect(job.errors.map((e) => e.eventIndex)).toContain(1);
  });

  it('refuses a file that is no EPCIS document before calling the server (exit 3)', async () => {
    await writeFile(f('not-epcis.json'), JSON.stringify({ hello: 'world' }));
    const run = await inproc(['epcis', 'capture', f('not-epcis.json'), ...as(MFR)]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not an EPCIS document/);
  });
});

describe('provenant epcis events', () => {
  it('writes every page of a query into one EPCISQueryDocument whose eventIDs recompute', async () => {
    const run = await cli([
      'epcis',
      'events',
      '--epc',
      urn('A1'),
      '--epc',
      urn('B1'),
      '--per-page',
      '1',
      '--out',
      f('export.jsonld'),
      ...as(MFR),
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ events: 2, pages: 2, file: f('export.jsonld') });
    const doc = JSON.parse(await readFile(f('export.jsonld'), 'utf8')) as Record<string, unknown>;
    expect(doc['type']).toBe('EPCISQueryDocument');
    const { events, context } = epcisDocumentEvents(doc);
    expect(events).toHaveLength(2);
    for (const e of events as { eventID: string }[]) {
      expect(epcisEventHash(e, context)).toBe(e.eventID);
      expect(
        (doc['provenant:records'] as Record<string, string[]>)[e.eventID]!.length,
      ).toBeGreaterThan(0);
    }
  });

  it('--for-capture writes an EPCISDocument, and another party sees none of the events', async () => {
    const mine = await inproc(['epcis', 'events', '--for-capture', ...as(MFR)]);
    expect(mine.code).toBe(0);
    const doc = JSON.parse(mine.stdout) as { type: string; epcisBody: { eventList: unknown[] } };
    expect(doc.type).toBe('EPCISDocument');
    expect(doc.epcisBody.eventList).toHaveLength(2);
    const theirs = await inproc(['epcis', 'events', '--json', ...as(DIST)]);
    expect(theirs.code).toBe(0);
    expect(JSON.parse(theirs.stdout).epcisBody.queryResults.resultsBody.eventList).toEqual([]);
  });

  it('names a refused parameter and exits 1', async () => {
    const run = await inproc(['epcis', 'events', '--epc', 'not-an-epc', ...as(MFR)]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/query\.MATCH_epc/);
  });
});
