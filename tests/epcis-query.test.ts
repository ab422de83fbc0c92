// The EPCIS 2.0 query interface (DESIGN §11) against a real issuer and
// database (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set):
// a small supply chain written through /v1 and through POST /epcis/events,
// then every query parameter, paging with the Link header, §6a access (a
// competitor sees nothing of it, a direct read is a 404), GS1-EPC-Format,
// and the hash IDs of the exported events recomputed with epcisEventHash.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { epcisDocumentEvents, epcisEventHash, unitSubject } from '@provenant/core';
import { getChain } from '@provenant/store';
import {
  Api,
  startTestWorld,
  withCheckDigit,
  type Party,
  type TestWorld,
} from './support/verifier.js';

const GTIN = withCheckDigit('1061414100001');
const OTHER_GTIN = withCheckDigit('1099999900001');
const SSCC = withCheckDigit('10614141000000001');
const unit = (serial: string, gtin = GTIN) => unitSubject(gtin, serial);
const urn = (serial: string) => `urn:epc:id:sgtin:0614141.100001.${serial}`;
const SSCC_URN = `urn:epc:id:sscc:0614141.${SSCC.slice(0, 1)}${SSCC.slice(8, 17)}`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
type Event = Record<string, unknown> & { eventID: string; type: string };

function eventsOf(doc: Doc): Event[] {
  return doc.epcisBody.queryResults.resultsBody.eventList as Event[];
}

describe('GET /epcis/events', () => {
  let world: TestWorld;
  let api: Api;
  let mfr: Party;
  let dist: Party;
  let comp: Party;
  let keysOnly: string;
  // A commissioning event captured through /epcis, an hour ago, written as integrators do.
  const capturedAt = new Date(Math.floor(Date.now() / 1000) * 1000 - 3_600_000);
  const captured = {
    type: 'ObjectEvent',
    eventTime: new Date(capturedAt.getTime() + 3_600_000).toISOString().replace('Z', '+01:00'),
    eventTimeZoneOffset: '+01:00',
    epcList: [urn('E1'), urn('E2')],
    action: 'ADD',
    bizStep: 'urn:epcglobal:cbv:bizstep:commissioning',
    disposition: 'active',
    ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2030-01-31' },
  };
  let capturedText: string;
  let laterWritesFrom: string;

  const get = (path: string, who: Party | string, headers: Record<string, string> = {}) =>
    request(world.app)
      .get(path)
      .set('Authorization', `Bearer ${typeof who === 'string' ? who : who.token}`)
      .set(headers);
  const ids = (doc: Doc) => eventsOf(doc).map((e) => e.eventID);
  const query = async (qs: string, who: Party = mfr) => {
    const res = await get(`/epcis/events?${qs}`, who).expect(200);
    return eventsOf(res.body);
  };
  const kinds = (events: Event[]) =>
    events.map((e) => {
      const epcs = (e['epcList'] ?? e['childEPCs'] ?? []) as string[];
      return `${e.type} ${String(e['bizStep']).replace(/^.*[:-]/, '')} ${epcs.length}`;
    });

  beforeAll(async () => {
    world = await startTestWorld();
    api = new Api(world.app, world.issuer.adminToken);
    mfr = await api.party(withCheckDigit('061414100000'), 'Mfr', ['manufacturer'], ['0614141']);
    dist = await api.party(withCheckDigit('061414100001'), 'Dist', ['distributor']);
    comp = await api.party(withCheckDigit('099999900000'), 'Comp', ['manufacturer'], ['0999999']);
    const t = await api
      .post(`/v1/parties/${mfr.gln}/tokens`, world.issuer.adminToken, { scopes: ['keys'] })
      .expect(201);
    keysOnly = t.body.token as string;

    capturedText = JSON.stringify(captured);
    await request(world.app)
      .post('/epcis/events')
      .set('Authorization', `Bearer ${mfr.token}`)
      .set('Content-Type', 'application/ld+json')
      .send(capturedText)
      .expect(201);
    await api.commission(mfr, GTIN, ['Q001', 'Q002', 'Q003', 'Q004', 'Q005']);
    await api.commission(comp, OTHER_GTIN, ['C001']);
    laterWritesFrom = new Date().toISOString();
    await api.pack(
      mfr,
      SSCC,
      ['Q001', 'Q002', 'Q003'].map((s) => unit(s)),
    );
    await api.handoff(mfr, dist, [`00/${SSCC}`], 'ASN-1');
  }, 180_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('answers the caller’s events as an EPCISQueryDocument, in capture order', async () => {
    const res = await get('/epcis/events?perPage=100', mfr).expect(200);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({
      type: 'EPCISQueryDocument',
      schemaVersion: '2.0',
      epcisBody: { queryResults: { queryName: 'SimpleEventQuery' } },
    });
    expect(res.body['@context'][0]).toBe(
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
    );
    expect(kinds(eventsOf(res.body))).toEqual([
      'ObjectEvent commissioning 2',
      ...Array(5).fill('ObjectEvent commissioning 1'),
      'AggregationEvent packing 3',
      'ObjectEvent shipping 1',
      'ObjectEvent receiving 1',
    ]);
    expect(res.headers['link']).toBeUndefined();
  });

  it('gives every event its hash ID: recomputing the EPCIS 2.0 event hash over the answer gets it', async () => {
    const res = await get('/epcis/events?perPage=100', mfr).expect(200);
    const { events, context } = epcisDocumentEvents(res.body);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events as Event[]) {
      expect(epcisEventHash(e, context)).toBe(e.eventID);
      expect(epcisEventHash(e)).toBe(e.eventID);
    }
    expect(eventsOf(res.body)[0]!.eventID).toBe(epcisEventHash(captured));
  });

  it('maps each eventID to the records it produced (provenant:records)', async () => {
    const res = await get(`/epcis/events?MATCH_parentID=${SSCC_URN}`, mfr).expect(200);
    const [pack] = eventsOf(res.body);
    const recordIds = res.body['provenant:records'][pack!.eventID] as string[];
    const chain = await getChain(world.issuer.db, `00/${SSCC}`);
    expect(recordIds).toContain(chain[0]!.id);
    const e1 = await getChain(world.issuer.db, unit('E1'));
    const all = await get('/epcis/events?perPage=100', mfr).expect(200);
    expect(all.body['provenant:records'][epcisEventHash(captured)]).toContain(e1[0]!.id);
  });

  describe('each query parameter', () => {
    it('eventType', async () => {
      expect(kinds(await query('eventType=AggregationEvent'))).toEqual([
        'AggregationEvent packing 3',
      ]);
      expect(await query('eventType=TransformationEvent')).toEqual([]);
    });

    it('EQ_action, with several values as a|b', async () => {
      expect(await query('EQ_action=DELETE')).toEqual([]);
      expect(kinds(await query('EQ_action=OBSERVE'))).toEqual([
        'ObjectEvent shipping 1',
        'ObjectEvent receiving 1',
      ]);
      expect(await query('EQ_action=ADD|OBSERVE&perPage=100')).toHaveLength(9);
    });

    it('EQ_bizStep and EQ_disposition, in any CBV form', async () => {
      expect(kinds(await query('EQ_bizStep=shipping'))).toEqual(['ObjectEvent shipping 1']);
      expect(
        kinds(
          await query(
            `EQ_bizStep=${encodeURIComponent('https://ref.gs1.org/cbv/BizStep-receiving')}`,
          ),
        ),
      ).toEqual(['ObjectEvent receiving 1']);
      expect(await query('EQ_bizStep=urn:epcglobal:cbv:bizstep:commissioning')).toHaveLength(6);
      expect(kinds(await query('EQ_disposition=in_transit'))).toEqual(['ObjectEvent shipping 1']);
    });

    it('EQ_bizLocation, as an SGLN or a Digital Link', async () => {
      // The receipt is the distributor's; every other event here is the manufacturer's.
      const distSgln = `urn:epc:id:sgln:0614141.00001.0`;
      expect(kinds(await query(`EQ_bizLocation=${distSgln}`))).toEqual(['ObjectEvent receiving 1']);
      const mfrDl = encodeURIComponent(`https://id.gs1.org/414/${mfr.gln}`);
      expect(await query(`EQ_bizLocation=${mfrDl}&perPage=100`)).toHaveLength(7);
    });

    it('MATCH_epc: epcList or childEPCs, an EPC in either notation or an SGTIN pattern', async () => {
      expect(kinds(await query(`MATCH_epc=${urn('Q001')}`))).toEqual([
        'ObjectEvent commissioning 1',
        'AggregationEvent packing 3',
      ]);
      const dl = encodeURIComponent(`https://id.gs1.org/01/${GTIN}/21/E2`);
      expect(
        ids({
          epcisBody: {
            queryResults: { resultsBody: { eventList: await query(`MATCH_epc=${dl}`) } },
          },
        }),
      ).toEqual([epcisEventHash(captured)]);
      const pattern = encodeURIComponent('urn:epc:idpat:sgtin:0614141.100001.*');
      expect(await query(`MATCH_epc=${pattern}&perPage=100`)).toHaveLength(7);
      // The SSCC is a parent or an epcList entry, never a child.
      expect(kinds(await query(`MATCH_epc=${SSCC_URN}`))).toEqual([
        'ObjectEvent shipping 1',
        'ObjectEvent receiving 1',
      ]);
    });

    it('MATCH_parentID and MATCH_anyEPC', async () => {
      expect(kinds(await query(`MATCH_parentID=${SSCC_URN}`))).toEqual([
        'AggregationEvent packing 3',
      ]);
      expect(kinds(await query(`MATCH_anyEPC=${SSCC_URN}`))).toEqual([
        'AggregationEvent packing 3',
        'ObjectEvent shipping 1',
        'ObjectEvent receiving 1',
      ]);
    });

    it('GE_eventTime and LT_eventTime', async () => {
      const cut = encodeURIComponent(new Date(capturedAt.getTime() + 60_000).toISOString());
      expect(
        ids({
          epcisBody: {
            queryResults: { resultsBody: { eventList: await query(`LT_eventTime=${cut}`) } },
          },
        }),
      ).toEqual([epcisEventHash(captured)]);
      expect(await query(`GE_eventTime=${cut}&perPage=100`)).toHaveLength(8);
    });

    it('GE_recordTime and LT_recordTime', async () => {
      const cut = encodeURIComponent(laterWritesFrom);
      expect(kinds(await query(`GE_recordTime=${cut}`))).toEqual([
        'AggregationEvent packing 3',
        'ObjectEvent shipping 1',
        'ObjectEvent receiving 1',
      ]);
      expect(await query(`LT_recordTime=${cut}&perPage=100`)).toHaveLength(6);
    });

    it('filters combine (AND)', async () => {
      expect(
        kinds(await query(`eventType=ObjectEvent&MATCH_anyEPC=${SSCC_URN}&EQ_bizStep=receiving`)),
      ).toEqual(['ObjectEvent receiving 1']);
    });
  });

  describe('refused queries: 400 problem+json naming the parameter', () => {
    it.each([
      ['GE_eventTime=yesterday', 'query.GE_eventTime'],
      ['EQ_action=MOVE', 'query.EQ_action'],
      ['eventType=ThingEvent', 'query.eventType'],
      ['MATCH_epc=not-an-epc', 'query.MATCH_epc'],
      ['perPage=0', 'query.perPage'],
      ['perPage=5000', 'query.perPage'],
      ['nextPageToken=forged', 'query.nextPageToken'],
      ['EQ_readPoint=urn:epc:id:sgln:0614141.00000.0', 'query.EQ_readPoint'],
      ['MATCH_epcClass=x', 'query.MATCH_epcClass'],
    ])('%s', async (qs, path) => {
      const res = await get(`/epcis/events?${qs}`, mfr).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.type).toBe('urn:provenant:problem:query-parameter');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
    });

    it('a GS1-EPC-Format that is none of the four', async () => {
      const res = await get('/epcis/events', mfr, { 'GS1-EPC-Format': 'Sometimes' }).expect(400);
      expect(res.body.errors[0]).toMatchObject({ path: 'headers.GS1-EPC-Format' });
    });

    it('a token without the verify or sign scope', async () => {
      await get('/epcis/events', keysOnly).expect(403);
      await get(`/epcis/events/${encodeURIComponent(epcisEventHash(captured))}`, keysOnly).expect(
        403,
      );
    });
  });

  describe('paging', () => {
    it('walks every page through the Link header, each event once, and stops', async () => {
      const all = await query('perPage=100');
      let next: string | undefined = '/epcis/events?perPage=4&EQ_action=ADD|OBSERVE';
      const seen: string[] = [];
      let pages = 0;
      while (next !== undefined) {
        const res = await get(next, mfr).expect(200);
        pages++;
        const page = eventsOf(res.body);
        expect(page.length).toBeLessThanOrEqual(4);
        seen.push(...page.map((e) => e.eventID));
        const link = res.headers['link'] as string | undefined;
        next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
        expect(pages).toBeLessThan(10);
      }
      expect(pages).toBe(3);
      expect(seen).toEqual(all.map((e) => e.eventID));
    });

    it('refuses a token replayed with other filters', async () => {
      const res = await get('/epcis/events?perPage=2', mfr).expect(200);
      const token = /nextPageToken=([^&>]+)/.exec(res.headers['link'] as string)![1]!;
      const bad = await get(
        `/epcis/events?perPage=2&EQ_bizStep=shipping&nextPageToken=${token}`,
        mfr,
      ).expect(400);
      expect(bad.body.errors[0]).toMatchObject({
        path: 'query.nextPageToken',
        rule: 'query-changed',
      });
    });
  });

  describe('who sees what (DESIGN §6a)', () => {
    it('a competitor sees none of the chain, only its own events', async () => {
      const events = await query('perPage=100', comp);
      expect(kinds(events)).toEqual(['ObjectEvent commissioning 1']);
      expect(events[0]!['epcList']).toEqual([`https://id.gs1.org/01/${OTHER_GTIN}/21/C001`]);
      expect(await query(`MATCH_anyEPC=${SSCC_URN}`, comp)).toEqual([]);
    });

    it('a competitor reading an event directly gets the 404 of an unknown one', async () => {
      const [pack] = await query(`MATCH_parentID=${SSCC_URN}`);
      const res = await get(`/epcis/events/${encodeURIComponent(pack!.eventID)}`, comp).expect(404);
      const unknown = await get(
        `/epcis/events/${encodeURIComponent(`ni:///sha-256;${'0'.repeat(64)}?ver=CBV2.0`)}`,
        comp,
      ).expect(404);
      expect(res.body.type).toBe(unknown.body.type);
      expect(res.body.title).toBe(unknown.body.title);
    });

    it('the distributor sees the events of what it received, units in the case included, and nothing else', async () => {
      const events = await query('perPage=100', dist);
      expect(kinds(events)).toEqual([
        ...Array(3).fill('ObjectEvent commissioning 1'),
        'AggregationEvent packing 3',
        'ObjectEvent shipping 1',
        'ObjectEvent receiving 1',
      ]);
      const [q5] = await query(`MATCH_epc=${urn('Q005')}`);
      await get(`/epcis/events/${encodeURIComponent(q5!.eventID)}`, dist).expect(404);
      await get(`/epcis/events/${encodeURIComponent(epcisEventHash(captured))}`, dist).expect(404);
    });

    it('the admin sees every event', async () => {
      const res = await get('/epcis/events?perPage=100', world.issuer.adminToken).expect(200);
      expect(eventsOf(res.body)).toHaveLength(10);
    });
  });

  describe('GET /epcis/events/{eventID}', () => {
    it('answers the one event by its URL-encoded hash ID, with its records', async () => {
      const id = epcisEventHash(captured);
      const res = await get(`/epcis/events/${encodeURIComponent(id)}`, mfr).expect(200);
      expect(ids(res.body)).toEqual([id]);
      expect(res.body['provenant:records'][id]).toHaveLength(2);
    });
  });

  describe('GS1-EPC-Format', () => {
    const read = (format?: string) =>
      get(
        `/epcis/events/${encodeURIComponent(epcisEventHash(captured))}`,
        mfr,
        format ? { 'GS1-EPC-Format': format } : {},
      ).expect(200);

    it('No_Preference (the default) and Never_Translates answer the captured bytes', async () => {
      for (const res of [
        await read(),
        await read('Never_Translates'),
        await read('No_Preference'),
      ]) {
        // The eventID and recordTime come first; after them, the event as it was posted.
        expect(res.text).toContain(`,${capturedText.slice(1)}`);
        expect(res.headers['gs1-epc-format']).toBe('Never_Translates');
      }
    });

    it('Always_GS1_Digital_Link rewrites EPC URNs; the hash ID still recomputes', async () => {
      const res = await read('Always_GS1_Digital_Link');
      const [e] = eventsOf(res.body);
      expect(e!['epcList']).toEqual([
        `https://id.gs1.org/01/${GTIN}/21/E1`,
        `https://id.gs1.org/01/${GTIN}/21/E2`,
      ]);
      expect(res.headers['gs1-epc-format']).toBe('Always_GS1_Digital_Link');
      expect(epcisEventHash(e)).toBe(e!.eventID);
    });

    it('Always_EPC_URN rewrites Digital Links with the registered company prefixes', async () => {
      const res = await get(`/epcis/events?MATCH_anyEPC=${SSCC_URN}`, mfr, {
        'GS1-EPC-Format': 'Always_EPC_URN',
      }).expect(200);
      const [pack, ship] = eventsOf(res.body);
      expect(pack!['parentID']).toBe(SSCC_URN);
      expect(pack!['childEPCs']).toEqual(['Q001', 'Q002', 'Q003'].map(urn));
      expect(ship!['epcList']).toEqual([SSCC_URN]);
      expect(ship!['destinationList']).toEqual([
        { type: 'owning_party', destination: 'urn:epc:id:pgln:0614141.00001' },
      ]);
      for (const e of eventsOf(res.body)) expect(epcisEventHash(e)).toBe(e.eventID);
    });
  });
  describe('through containers inside containers (DESIGN §5)', () => {
    it('the party a pallet went to sees the events of the units in its cases; others get 404', async () => {
      const kase = withCheckDigit('10614141000000011');
      const pallet = withCheckDigit('10614141000000012');
      await api.commission(mfr, GTIN, ['N001', 'N002']);
      await api.pack(mfr, kase, [unit('N001'), unit('N002')]);
      await api.pack(mfr, pallet, [`00/${kase}`]);
      await api.handoff(mfr, dist, [`00/${pallet}`], 'ASN-N');
      const [n001] = await query(`MATCH_epc=${urn('N001')}&eventType=ObjectEvent`);
      const id = encodeURIComponent(n001!.eventID);
      await get(`/epcis/events/${id}`, dist).expect(200);
      await get(`/epcis/events/${id}`, comp).expect(404);
      const seen = await query(`MATCH_anyEPC=${urn('N002')}`, dist);
      expect(kinds(seen)).toEqual(['ObjectEvent commissioning 1', 'AggregationEvent packing 2']);
    });
  });
});
