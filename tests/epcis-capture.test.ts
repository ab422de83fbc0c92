// EPCIS 2.0 capture (DESIGN §11, issue 12) against a real issuer and database
// (PGlite, or PostgreSQL when PROVENANT_TEST_DATABASE_URL is set): capture
// jobs under rollback and proceed, every row of the §11 table, the actor and
// EPC-rights checks, eventIDs (kept, unique per party, else the EPCIS 2.0
// hash over the event exactly as captured), /v1 records seen as events, and
// a 10,000-EPC document.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import request from 'supertest';
import { epcisDocumentEvents, epcisEventHash, unitSubject } from '@provenant/core';
import { getChain, getEpcisEvent, getLogSize, queryEpcisEvents } from '@provenant/store';
import {
  commissioningEvent,
  epcisDocument as document,
  eventClock,
  type Json,
} from './support/epcis.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { Api, withCheckDigit } from './support/verifier.js';

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('061414200000');
const OTHER = withCheckDigit('099999900000');
const GTIN = withCheckDigit('1061414100001');
const sscc = (ref: string) => withCheckDigit(`10614141${ref.padStart(9, '0')}`);

const urn = (serial: string) => `urn:epc:id:sgtin:0614141.100001.${serial}`;
const dl = (serial: string) => `https://id.gs1.org/01/${GTIN}/21/${serial}`;
const ssccUrn = (s: string) => `urn:epc:id:sscc:0614141.${s.slice(0, 1)}${s.slice(8, 17)}`;
const unit = (serial: string) => unitSubject(GTIN, serial);
const at = (gln: string) => ({ bizLocation: { id: `https://id.gs1.org/414/${gln}` } });

const nextTime = eventClock(10);

const commissioning = (epcs: string[], extra: Json = {}) =>
  commissioningEvent(epcs, MFR, nextTime(), extra);

function packing(parent: string, children: string[], by = MFR): Json {
  return {
    type: 'AggregationEvent',
    eventTime: nextTime(),
    eventTimeZoneOffset: '+00:00',
    parentID: parent,
    childEPCs: children,
    action: 'ADD',
    bizStep: 'packing',
    ...at(by),
  };
}

function objectEvent(epcs: string[], action: string, bizStep: string, extra: Json = {}): Json {
  return {
    type: 'ObjectEvent',
    eventTime: nextTime(),
    eventTimeZoneOffset: '+00:00',
    epcList: epcs,
    action,
    bizStep,
    ...extra,
  };
}

function shipping(epcs: string[], to: string, desadv: string): Json {
  return objectEvent(epcs, 'OBSERVE', 'shipping', {
    disposition: 'in_transit',
    ...at(MFR),
    bizTransactionList: [
      { type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:PO-1' },
      { type: 'inv', bizTransaction: 'urn:epcglobal:cbv:bt:0614141000005:INV-1' },
      { type: 'desadv', bizTransaction: desadv },
    ],
    sourceList: [{ type: 'owning_party', source: `urn:epc:id:pgln:0614141.00000` }],
    destinationList: [{ type: 'owning_party', destination: `https://id.gs1.org/417/${to}` }],
  });
}

describe('EPCIS capture', () => {
  let issuer: TestIssuer;
  const tokens: Record<string, string> = {};

  const send = (path: string, who: string, text: string, behaviour?: string) => {
    const r = request(issuer.app)
      .post(path)
      .set('Authorization', `Bearer ${tokens[who]}`)
      .set('Content-Type', 'application/ld+json');
    if (behaviour) r.set('GS1-Capture-Error-Behaviour', behaviour);
    return r.send(text);
  };

  /** Posts a document and polls its job to the end. */
  async function capture(who: string, doc: Json | string, behaviour?: string): Promise<Json> {
    const text = typeof doc === 'string' ? doc : JSON.stringify(doc);
    const res = await send('/epcis/capture', who, text, behaviour).expect(202);
    const location = String(res.headers['location']);
    expect(location).toBe(`/epcis/capture/${res.body.captureID}`);
    for (;;) {
      const job = await request(issuer.app)
        .get(location)
        .set('Authorization', `Bearer ${tokens[who]}`)
        .expect(200);
      if (!job.body.running) return job.body as Json;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const api = new Api(issuer.app, issuer.adminToken);
    for (const [gln, role, prefixes] of [
      [MFR, 'manufacturer', ['0614141']],
      [DIST, 'distributor', ['0614142']],
      [OTHER, 'manufacturer', ['0999999']],
    ] as const)
      tokens[gln] = (await api.party(gln, `p ${gln}`, [role], [...prefixes])).token;
  }, 120_000);
  afterAll(async () => {
    await issuer?.stop();
  });

  it('answers a job polled at once, and only to its capturing party', async () => {
    const res = await send(
      '/epcis/capture',
      MFR,
      JSON.stringify(document([commissioning([urn('P1')])])),
    ).expect(202);
    const location = String(res.headers['location']);
    const first = await request(issuer.app)
      .get(location)
      .set('Authorization', `Bearer ${tokens[MFR]}`)
      .expect(200);
    expect(first.body).toMatchObject({
      captureID: res.body.captureID,
      captureErrorBehaviour: 'rollback',
    });
    await request(issuer.app)
      .get(location)
      .set('Authorization', `Bearer ${tokens[DIST]}`)
      .expect(404);
    await request(issuer.app)
      .get(location)
      .set('Authorization', `Bearer ${issuer.adminToken}`)
      .expect(200);
    // Let the job end here: the next test counts the log, which this job would still grow.
    for (;;) {
      const job = await request(issuer.app)
        .get(location)
        .set('Authorization', `Bearer ${tokens[MFR]}`)
        .expect(200);
      if (!job.body.running) break;
      await new Promise((r) => setTimeout(r, 25));
    }
  });

  describe('a document that is no EPCISDocument', () => {
    it('is 400 naming the event index and field, and writes nothing', async () => {
      const before = await getLogSize(issuer.db);
      const bad = document([
        commissioning([urn('Q1')]),
        { ...commissioning([urn('Q2')]), eventTime: 'soon' },
      ]);
      const res = await send('/epcis/capture', MFR, JSON.stringify(bad)).expect(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.eventIndex).toBe(1);
      expect(res.body.errors[0].path).toBe('body.epcisBody.eventList.1.eventTime');
      await send('/epcis/capture', MFR, '{"type": "EPCISDocument", ').expect(400);
      await send('/epcis/capture', MFR, JSON.stringify(document([])), 'sometimes').expect(400);
      expect(await getLogSize(issuer.db)).toBe(before);
    });
  });

  it('under rollback, one bad event writes nothing of the document', async () => {
    const before = await getLogSize(issuer.db);
    const job = await capture(
      MFR,
      document([
        commissioning([urn('R1'), urn('R2')]),
        objectEvent([urn('R1')], 'OBSERVE', 'inspecting', at(MFR)),
      ]),
    );
    expect(job).toMatchObject({
      running: false,
      success: false,
      captureErrorBehaviour: 'rollback',
    });
    expect(job.finishedAt).not.toBeNull();
    expect(job.errors).toEqual([
      expect.objectContaining({
        eventIndex: 1,
        type: 'urn:provenant:problem:unmapped-event',
        reasons: [expect.objectContaining({ code: 'UNMAPPED_EVENT', field: 'bizStep' })],
      }),
    ]);
    expect(await getLogSize(issuer.db)).toBe(before);
    expect(await getChain(issuer.db, unit('R1'))).toEqual([]);
    expect(await queryEpcisEvents(issuer.db, { epcs: [unit('R1')], limit: 10 })).toEqual([]);
  });

  it('under proceed, the good events are written and each bad one is listed', async () => {
    const job = await capture(
      MFR,
      document([
        commissioning([urn('G1')]),
        objectEvent([urn('G1')], 'OBSERVE', 'inspecting', at(MFR)),
        commissioning([dl('G2')], { ilmd: {} }),
        commissioning([dl('G3')]),
      ]),
      'proceed',
    );
    expect(job).toMatchObject({ success: false, captureErrorBehaviour: 'proceed' });
    expect(
      job.errors.map((e: Json) => [e.eventIndex, e.reasons[0].code, e.reasons[0].field]),
    ).toEqual([
      [1, 'UNMAPPED_EVENT', 'bizStep'],
      [2, 'MISSING_FIELD', 'ilmd.cbvmda:lotNumber'],
    ]);
    expect(job.errors[0].eventID).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    expect((await getChain(issuer.db, unit('G1'))).map((r) => r.type)).toEqual(['commission']);
    expect((await getChain(issuer.db, unit('G3'))).map((r) => r.type)).toEqual(['commission']);
    expect(await getChain(issuer.db, unit('G2'))).toEqual([]);
  });

  it('maps every row of the §11 table, from commissioning to decommissioning', async () => {
    const case1 = sscc('1');
    const job = await capture(
      MFR,
      document([
        commissioning([urn('T1'), urn('T2'), dl('T3'), dl('T4'), dl('T5'), dl('T6')]),
        packing(ssccUrn(case1), [urn('T1'), dl('T2')]),
        shipping(
          [`https://id.gs1.org/00/${case1}`, dl('T3'), dl('T4'), dl('T5'), dl('T6')],
          DIST,
          'ASN-T',
        ),
      ]),
    );
    expect(job.errors).toEqual([]);
    expect(job.success).toBe(true);
    const t1 = await getChain(issuer.db, unit('T1'));
    expect(t1[0]).toMatchObject({
      type: 'commission',
      actor: MFR,
      data: { gtin: GTIN, serial: 'T1', lot: 'LOT7', expiry: '2028-01-31' },
    });
    expect(t1[1]).toMatchObject({ type: 'pack', data: { parent: `00/${case1}` } });
    const box = await getChain(issuer.db, `00/${case1}`);
    // Packing N units costs N+1 records: each unit's pack, then the container's listing their heads.
    expect(box[0]).toMatchObject({
      type: 'pack',
      seq: 0,
      data: { children: [{ subject: unit('T1'), head: t1[1]!.id }, expect.anything()] },
    });
    expect(box[1]).toMatchObject({
      type: 'ship',
      data: {
        to: DIST,
        shipment: 'ASN-T',
        transactions: [
          { type: 'po', id: 'urn:epcglobal:cbv:bt:0614141000005:PO-1' },
          { type: 'inv', id: 'urn:epcglobal:cbv:bt:0614141000005:INV-1' },
          { type: 'desadv', id: 'ASN-T' },
        ],
      },
    });

    const dist = (events: Json[]) => capture(DIST, document(events));
    const receive = (epcs: string[], disposition: string) =>
      objectEvent(epcs, 'OBSERVE', 'receiving', {
        disposition,
        ...at(DIST),
        bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-T' }],
        sourceList: [{ type: 'owning_party', source: `https://id.gs1.org/417/${MFR}` }],
        destinationList: [{ type: 'owning_party', destination: `https://id.gs1.org/417/${DIST}` }],
      });
    const received = await dist([
      receive([`https://id.gs1.org/00/${case1}`, dl('T3'), dl('T4'), dl('T5')], 'in_progress'),
      receive([dl('T6')], 'damaged'),
      {
        type: 'AggregationEvent',
        eventTime: nextTime(),
        eventTimeZoneOffset: '+00:00',
        parentID: `https://id.gs1.org/00/${case1}`,
        childEPCs: [urn('T1'), urn('T2')],
        action: 'DELETE',
        bizStep: 'unpacking',
        ...at(DIST),
      },
      objectEvent([dl('T1')], 'DELETE', 'dispensing', { disposition: 'dispensed', ...at(DIST) }),
      objectEvent([dl('T2')], 'DELETE', 'destroying', { disposition: 'destroyed', ...at(DIST) }),
      objectEvent([dl('T3')], 'DELETE', 'decommissioning', { disposition: 'stolen', ...at(DIST) }),
      objectEvent([dl('T4')], 'DELETE', 'decommissioning', {
        disposition: 'exported',
        ...at(DIST),
      }),
      objectEvent([dl('T5')], 'DELETE', 'decommissioning', { disposition: 'sample', ...at(DIST) }),
    ]);
    expect(received.errors).toEqual([]);
    const last = async (serial: string) => (await getChain(issuer.db, unit(serial))).at(-1)!;
    expect((await getChain(issuer.db, `00/${case1}`)).map((r) => r.type)).toEqual([
      'pack',
      'ship',
      'receive',
      'unpack',
    ]);
    expect((await last('T6')).data).toMatchObject({ condition: 'damaged', from: MFR });
    expect((await getChain(issuer.db, unit('T1'))).map((r) => r.type)).toEqual([
      'commission',
      'pack',
      'unpack',
      'decommission',
    ]);
    expect((await last('T1')).data).toEqual({ reason: 'dispensed' });
    expect((await last('T2')).data).toEqual({ reason: 'destroyed' });
    expect((await last('T3')).data).toEqual({ reason: 'stolen' });
    expect((await last('T4')).data).toEqual({ reason: 'exported' });
    expect((await last('T5')).data).toEqual({ reason: 'sample' });
  });

  it('packs a pallet of cases of units: a serialized case, an SSCC case, then the pallet (DESIGN §5 nesting)', async () => {
    const ssccCase = sscc('201');
    const pallet = sscc('202');
    const job = await capture(
      MFR,
      document([
        commissioning([urn('N1'), urn('N2'), urn('NC1'), dl('N3')]),
        packing(urn('NC1'), [urn('N1'), urn('N2')]),
        packing(`https://id.gs1.org/00/${ssccCase}`, [dl('N3')]),
        packing(ssccUrn(pallet), [dl('NC1'), `https://id.gs1.org/00/${ssccCase}`]),
        shipping([`https://id.gs1.org/00/${pallet}`], DIST, 'ASN-N'),
      ]),
    );
    expect(job.errors).toEqual([]);
    // The serialized case: its commission, its pack as a container, then its pack into the pallet.
    expect((await getChain(issuer.db, unit('NC1'))).map((r) => r.type)).toEqual([
      'commission',
      'pack',
      'pack',
    ]);
    const caseChain = await getChain(issuer.db, unit('NC1'));
    expect(caseChain[1]!.data).toMatchObject({
      children: [{ subject: unit('N1') }, { subject: unit('N2') }],
    });
    expect(caseChain[2]!.data).toEqual({ parent: `00/${pallet}` });
    expect((await getChain(issuer.db, `00/${ssccCase}`)).map((r) => r.type)).toEqual([
      'pack',
      'pack',
    ]);
    expect((await getChain(issuer.db, `00/${pallet}`)).map((r) => r.type)).toEqual([
      'pack',
      'ship',
    ]);
  });

  it('refuses an event whose stated actor is not the caller', async () => {
    const job = await capture(DIST, document([commissioning([urn('A1')])]), 'proceed');
    expect(job.errors).toEqual([
      expect.objectContaining({
        eventIndex: 0,
        type: 'urn:provenant:problem:actor-mismatch',
        reasons: [expect.objectContaining({ code: 'ACTOR_MISMATCH', field: 'bizLocation.id' })],
      }),
    ]);
    expect(await getChain(issuer.db, unit('A1'))).toEqual([]);
  });

  it('refuses an EPC outside the caller’s rights, and a unit it does not hold', async () => {
    const foreign = commissioning([urn('F1')], at(OTHER));
    const job = await capture(OTHER, document([foreign]), 'proceed');
    expect(job.errors[0].reasons[0]).toMatchObject({ code: 'EPC_NOT_OWNED', field: 'epcList.0' });
    await capture(MFR, document([commissioning([urn('F2')])]));
    const taking = objectEvent([urn('F2')], 'DELETE', 'destroying', {
      disposition: 'destroyed',
      ...at(OTHER),
    });
    const other = await capture(OTHER, document([taking]), 'proceed');
    expect(other.errors[0].reasons[0]).toMatchObject({
      code: 'CUSTODY_VIOLATION',
      field: 'epcList.0',
    });
    expect((await getChain(issuer.db, unit('F2'))).map((r) => r.type)).toEqual(['commission']);
  });

  it('keeps an eventID and refuses it a second time for the same party', async () => {
    const eventID = 'urn:uuid:0d7c4d8e-6a51-4c0e-8f5b-3f2a7b1c9d01';
    const first = await capture(MFR, document([commissioning([urn('U1')], { eventID })]));
    expect(first.success).toBe(true);
    expect((await getEpcisEvent(issuer.db, MFR, eventID))?.recordIds).toHaveLength(1);
    const again = await capture(
      MFR,
      document([
        commissioning([urn('U2')], { eventID }),
        commissioning([urn('U3')], { eventID: 'x:2' }),
        commissioning([urn('U4')], { eventID: 'x:2' }),
      ]),
      'proceed',
    );
    expect(again.errors.map((e: Json) => [e.eventIndex, e.reasons[0].code])).toEqual([
      [0, 'DUPLICATE_EVENT_ID'],
      [2, 'DUPLICATE_EVENT_ID'],
    ]);
    expect(await getChain(issuer.db, unit('U2'))).toEqual([]);
    // POST /epcis/events: the same rule, as 409.
    const lone = commissioning([urn('U5')], { eventID });
    const res = await send('/epcis/events', MFR, JSON.stringify(lone)).expect(409);
    expect(res.body.reasons[0]).toMatchObject({ code: 'DUPLICATE_EVENT_ID', field: 'eventID' });
  });

  it('names an event without eventID by the EPCIS 2.0 hash of its text as captured', async () => {
    // Odd spacing and key order: kept byte for byte.
    const eventText = `{ "type" : "ObjectEvent", "action":"ADD",  "bizStep":"commissioning",
      "epcList": ["${urn('H1')}"], "eventTime":"${nextTime().replace('Z', '+00:00')}",
      "eventTimeZoneOffset":"+00:00", "bizLocation": {"id": "urn:epc:id:sgln:0614141.00000.0"},
      "ilmd": {"cbvmda:lotNumber": "L\\u0041t", "cbvmda:itemExpirationDate": "2028-02-29"} }`;
    const docText = `{"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
      {"cbvmda": "urn:epcglobal:cbv:mda:"}], "type": "EPCISDocument", "schemaVersion": "2.0",
      "creationDate": "${new Date().toISOString()}", "epcisBody": {"eventList": [ ${eventText} ]}}`;
    const job = await capture(MFR, docText);
    expect(job.errors).toEqual([]);
    const { events, context } = epcisDocumentEvents(JSON.parse(docText));
    const eventID = epcisEventHash(events[0], context);
    const stored = await getEpcisEvent(issuer.db, MFR, eventID);
    expect(stored?.event).toBe(eventText);
    expect(stored?.source).toBe('capture');
    expect(stored?.bizLocation).toBe(`414/${MFR}`);
    expect(stored?.epcs).toEqual([unit('H1')]);
    // Whoever recomputes over the stored text (with the document context kept beside it) gets the ID.
    const ctx = stored!.hashContext as Json;
    expect(
      epcisEventHash(JSON.parse(stored!.event), { ...ctx, vocabulary: new Set(ctx.vocabulary) }),
    ).toBe(eventID);

    // POST /epcis/events: 201, Location, the event stored too.
    const lone = commissioning([urn('H2')]);
    const res = await send('/epcis/events', MFR, JSON.stringify(lone)).expect(201);
    expect(res.headers['location']).toBe(
      `/epcis/events/${encodeURIComponent(epcisEventHash(lone))}`,
    );
    const row = await getEpcisEvent(issuer.db, MFR, epcisEventHash(lone));
    expect(row?.recordIds).toEqual(res.body.records.map((r: Json) => r.id));
    expect(epcisEventHash(JSON.parse(row!.event))).toBe(row!.eventId);
  });

  it('gives records written through /v1 their event, with its hash ID', async () => {
    const res = await request(issuer.app)
      .post('/v1/commissions')
      .set('Authorization', `Bearer ${tokens[MFR]}`)
      .send({
        items: ['V1', 'V2'].map((serial) => ({
          gtin: GTIN,
          serial,
          lot: 'L9',
          expiry: '2028-03-31',
        })),
      })
      .expect(201);
    const [row] = await queryEpcisEvents(issuer.db, { epcs: [unit('V1')], limit: 10 });
    expect(row).toMatchObject({
      source: 'v1',
      party: MFR,
      eventType: 'ObjectEvent',
      action: 'ADD',
      bizStep: 'commissioning',
      recordIds: [res.body.records[0].id],
    });
    expect(epcisEventHash(JSON.parse(row!.event))).toBe(row!.eventId);
    // A pack of N units: one AggregationEvent naming all N+1 records.
    const box = sscc('77');
    const packed = await request(issuer.app)
      .post('/v1/packs')
      .set('Authorization', `Bearer ${tokens[MFR]}`)
      .send({ parent: box, children: [unit('V1'), unit('V2')] })
      .expect(201);
    const [agg] = await queryEpcisEvents(issuer.db, { parentIds: [`00/${box}`], limit: 10 });
    expect(agg).toMatchObject({ source: 'v1', eventType: 'AggregationEvent', bizStep: 'packing' });
    expect(agg!.epcs).toEqual([unit('V1'), unit('V2')]);
    expect([...agg!.recordIds].sort()).toEqual(
      packed.body.records.map((r: Json) => r.id as string).sort(),
    );
    expect(epcisEventHash(JSON.parse(agg!.event))).toBe(agg!.eventId);
  });

  it('captures a 10,000-EPC document: commissioning, aggregation into 100 cases, shipping', async () => {
    const cases = Array.from({ length: 100 }, (_, c) => sscc(String(1000 + c)));
    const serial = (c: number, u: number) => `B${c}x${u}`;
    const events: Json[] = [];
    for (let c = 0; c < 100; c++)
      events.push(commissioning(Array.from({ length: 100 }, (_, u) => urn(serial(c, u)))));
    for (let c = 0; c < 100; c++)
      events.push(
        packing(
          `https://id.gs1.org/00/${cases[c]}`,
          Array.from({ length: 100 }, (_, u) => dl(serial(c, u))),
        ),
      );
    events.push(
      shipping(
        cases.map((s) => `https://id.gs1.org/00/${s}`),
        DIST,
        'ASN-BIG',
      ),
    );
    const started = performance.now();
    const job = await capture(MFR, document(events));
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `EPCIS capture: 10,000 EPCs (${events.length} events, 20,200 records) in ${seconds.toFixed(1)} s, ` +
        `${Math.round(10_000 / seconds)} units/s`,
    );
    expect(job.errors).toEqual([]);
    expect(job.success).toBe(true);
    const chain = await getChain(issuer.db, unit(serial(99, 99)));
    expect(chain.map((r) => r.type)).toEqual(['commission', 'pack']);
    expect((await getChain(issuer.db, `00/${cases[99]}`)).map((r) => r.type)).toEqual([
      'pack',
      'ship',
    ]);
  }, 300_000);
});
