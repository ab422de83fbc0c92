// The first EPCIS 2.0 routes (DESIGN §11) against a real issuer and database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set): one
// commissioning event captured through the custodial append path, its event
// hash ID, and refusals that name the field and write nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { epcisEventHash, unitSubject } from '@provenant/core';
import { getChain, getLogSize } from '@provenant/store';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit } from './support/verifier.js';

const MFR = withCheckDigit('061414100000');
const OTHER = withCheckDigit('099999900000');
const DIST = withCheckDigit('061414100001');
const NOBODY = withCheckDigit('061414100009');
const GTIN = withCheckDigit('1061414100001');

// An event time a minute ago, written with a +01:00 offset as integrators do.
function eventTimeMinutesAgo(minutes: number): { local: string; utc: string } {
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 - minutes * 60_000);
  const local = new Date(at.getTime() + 3_600_000).toISOString().replace('Z', '+01:00');
  return { local, utc: at.toISOString() };
}

function commissioning(serials: string[], extra: object = {}) {
  const time = eventTimeMinutesAgo(1);
  return {
    time,
    event: {
      type: 'ObjectEvent',
      eventTime: time.local,
      eventTimeZoneOffset: '+01:00',
      epcList: serials.map((s) => `urn:epc:id:sgtin:0614141.100001.${s}`),
      action: 'ADD',
      bizStep: 'commissioning',
      disposition: 'active',
      ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-01-31' },
      ...extra,
    },
  };
}

describe('the /epcis routes', () => {
  let issuer: TestIssuer;
  const tokens: Record<string, string> = {};

  const post = (path: string, who: string, body: unknown) =>
    request(issuer.app)
      .post(path)
      .set('Authorization', `Bearer ${tokens[who]}`)
      .set('Content-Type', 'application/ld+json')
      .send(JSON.stringify(body));

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const api = new Api(issuer.app, issuer.adminToken);
    for (const [gln, role, prefixes] of [
      [MFR, 'manufacturer', ['0614141']],
      [OTHER, 'manufacturer', ['0999999']],
      [DIST, 'distributor', []],
    ] as const)
      tokens[gln] = (await api.party(gln, `party ${gln}`, [role], [...prefixes])).token;
  }, 120_000);
  afterAll(async () => {
    await issuer?.stop();
  });

  it('documents both routes in /openapi.json', async () => {
    const doc = await request(issuer.app).get('/openapi.json').expect(200);
    expect(doc.body.paths['/epcis/eventTypes']?.get).toBeDefined();
    expect(doc.body.paths['/epcis/events']?.post?.requestBody?.content).toHaveProperty(
      'application/ld+json',
    );
  });

  it('lists the event types it maps', async () => {
    const res = await request(issuer.app)
      .get('/epcis/eventTypes')
      .set('Authorization', `Bearer ${tokens[MFR]}`)
      .expect(200);
    expect(res.body).toEqual({ '@set': ['ObjectEvent', 'AggregationEvent'] });
  });

  it('captures a commissioning event as one commission record per EPC, named by its event hash ID', async () => {
    const { event, time } = commissioning(['E1', 'E2']);
    const res = await post('/epcis/events', MFR, event).expect(201);
    const eventID = epcisEventHash(event);
    expect(res.body.eventID).toBe(eventID);
    expect(res.headers['location']).toBe(`/epcis/events/${encodeURIComponent(eventID)}`);
    expect(res.body.records.map((r: { subject: string }) => r.subject)).toEqual([
      unitSubject(GTIN, 'E1'),
      unitSubject(GTIN, 'E2'),
    ]);
    const [stored] = await getChain(issuer.db, unitSubject(GTIN, 'E1'));
    expect(stored).toMatchObject({ type: 'commission', actor: MFR, seq: 0, time: time.utc });
  });

  it('keeps the eventID an event carries', async () => {
    const { event } = commissioning(['E3'], {
      eventID: 'urn:uuid:6b1c1f0e-0b0a-4d0e-9d4c-3c1d2a3b4c5d',
    });
    const res = await post('/epcis/events', MFR, event).expect(201);
    expect(res.body.eventID).toBe('urn:uuid:6b1c1f0e-0b0a-4d0e-9d4c-3c1d2a3b4c5d');
  });

  function objectEvent(serial: string, fields: object) {
    return {
      type: 'ObjectEvent',
      eventTime: eventTimeMinutesAgo(0).local,
      eventTimeZoneOffset: '+01:00',
      epcList: [`https://id.gs1.org/01/${GTIN}/21/${serial}`],
      ...fields,
    };
  }

  it('captures a shipping event as a ship record to the owning party', async () => {
    await post('/epcis/events', MFR, commissioning(['S1']).event).expect(201);
    const ship = objectEvent('S1', {
      action: 'OBSERVE',
      bizStep: 'shipping',
      disposition: 'in_transit',
      bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-1' }],
      destinationList: [{ type: 'owning_party', destination: `urn:epc:id:pgln:0614141.00001` }],
    });
    const res = await post('/epcis/events', MFR, ship).expect(201);
    expect(res.body.eventID).toBe(epcisEventHash(ship));
    const chain = await getChain(issuer.db, unitSubject(GTIN, 'S1'));
    expect(chain[1]).toMatchObject({ type: 'ship', seq: 1, actor: MFR });
  });

  it('captures the receiving event of that shipment as a receive record by the receiver', async () => {
    const receive = objectEvent('S1', {
      action: 'OBSERVE',
      bizStep: 'receiving',
      disposition: 'in_progress',
      bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-1' }],
      sourceList: [{ type: 'owning_party', source: `https://id.gs1.org/417/${MFR}` }],
      destinationList: [{ type: 'owning_party', destination: `https://id.gs1.org/417/${DIST}` }],
    });
    await post('/epcis/events', DIST, receive).expect(201);
    const chain = await getChain(issuer.db, unitSubject(GTIN, 'S1'));
    expect(chain[2]).toMatchObject({ type: 'receive', seq: 2, actor: DIST });
  });

  it('captures a dispensing event as a decommission record', async () => {
    await post('/epcis/events', MFR, commissioning(['D1']).event).expect(201);
    const event = objectEvent('D1', {
      action: 'DELETE',
      bizStep: 'dispensing',
      disposition: 'dispensed',
    });
    await post('/epcis/events', MFR, event).expect(201);
    const chain = await getChain(issuer.db, unitSubject(GTIN, 'D1'));
    expect(chain[1]).toMatchObject({ type: 'decommission', seq: 1 });
  });

  describe('when the event cannot be captured, nothing is written', () => {
    it('refuses a shipment to a party nobody registered', async () => {
      await post('/epcis/events', MFR, commissioning(['S2']).event).expect(201);
      const before = await getLogSize(issuer.db);
      const ship = objectEvent('S2', {
        action: 'OBSERVE',
        bizStep: 'shipping',
        bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-2' }],
        destinationList: [
          { type: 'owning_party', destination: `https://id.gs1.org/417/${NOBODY}` },
        ],
      });
      const res = await post('/epcis/events', MFR, ship).expect(422);
      expect(res.body.errors[0]).toMatchObject({ path: 'body.destinationList' });
      expect(await getLogSize(issuer.db)).toBe(before);
    });

    it('names the bizStep of an event the table does not map', async () => {
      const before = await getLogSize(issuer.db);
      const { event } = commissioning(['E4'], { action: 'OBSERVE', bizStep: 'inspecting' });
      const res = await post('/epcis/events', MFR, event).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.errors).toEqual([
        expect.objectContaining({ path: 'body.bizStep', rule: 'UNMAPPED_EVENT' }),
      ]);
      expect(await getLogSize(issuer.db)).toBe(before);
    });

    it('names a missing lot and a malformed field', async () => {
      const noLot = commissioning(['E5'], { ilmd: {} }).event;
      const a = await post('/epcis/events', MFR, noLot).expect(400);
      expect(a.body.errors[0]).toMatchObject({
        path: 'body.ilmd.cbvmda:lotNumber',
        rule: 'MISSING_FIELD',
      });
      const badTime = commissioning(['E5'], { eventTime: 'yesterday' }).event;
      const b = await post('/epcis/events', MFR, badTime).expect(400);
      expect(b.body.errors[0]).toMatchObject({ path: 'body.eventTime', rule: 'schema' });
    });

    it('refuses, with the custody reason, units of a GTIN the caller does not own', async () => {
      const before = await getLogSize(issuer.db);
      const { event } = commissioning(['E6']);
      const res = await post('/epcis/events', OTHER, event).expect(422);
      expect(res.body.reasons.length).toBeGreaterThan(0);
      expect(await getLogSize(issuer.db)).toBe(before);
      expect(await getChain(issuer.db, unitSubject(GTIN, 'E6'))).toEqual([]);
    });

    it('answers 409 to a second capture of units whose chains exist', async () => {
      const before = await getLogSize(issuer.db);
      const { event } = commissioning(['E1']);
      const res = await post('/epcis/events', MFR, event).expect(409);
      expect(res.body.reasons[0]).toMatchObject({ code: 'CHAIN_BROKEN' });
      expect(await getLogSize(issuer.db)).toBe(before);
    });
  });
});
