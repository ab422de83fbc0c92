import { describe, expect, it } from '@jest/globals';
import { epcisDocumentEvents, epcisEventHash } from './hash.js';
import { encodePageToken, parseEpcisQuery, type EpcisEventQuery } from './query.js';
import {
  answeredEvent,
  answeredEventText,
  epcisQueryDocument,
  epcisQueryDocumentText,
  parseEpcFormat,
  translateEventEpcs,
} from './query-document.js';

const GTIN = '10614141000019';

function ok(params: Record<string, unknown>): EpcisEventQuery {
  const r = parseEpcisQuery(params);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.query;
}

function refused(params: Record<string, unknown>): string[] {
  const r = parseEpcisQuery(params);
  if (r.ok) throw new Error('expected the query to be refused');
  return r.errors.map((e) => `${e.parameter}:${e.rule}`);
}

describe('parseEpcisQuery', () => {
  it('answers 30 events of any kind when given nothing', () => {
    expect(ok({})).toEqual({ eventTime: {}, recordTime: {}, perPage: 30 });
  });

  it('normalises times to UTC milliseconds and CBV values to bare terms', () => {
    const q = ok({
      GE_eventTime: '2026-12-01T01:00:00+01:00',
      LT_recordTime: '2026-12-02T00:00:00.5Z',
      EQ_bizStep: 'urn:epcglobal:cbv:bizstep:shipping|https://ref.gs1.org/cbv/BizStep-receiving',
      EQ_disposition: ['in_transit', 'https://example.com/disp/x'],
    });
    expect(q.eventTime).toEqual({ ge: '2026-12-01T00:00:00.000Z' });
    expect(q.recordTime).toEqual({ lt: '2026-12-02T00:00:00.500Z' });
    expect(q.bizSteps).toEqual(['shipping', 'receiving']);
    expect(q.dispositions).toEqual(['in_transit', 'https://example.com/disp/x']);
  });

  it('reads EPCs in either notation as subjects, and an SGTIN pattern as a GTIN class', () => {
    const q = ok({
      MATCH_epc: `urn:epc:id:sgtin:0614141.100001.A1|https://example.com/01/${GTIN}/21/A2`,
      MATCH_parentID: 'urn:epc:id:sscc:0614141.1234567890',
      MATCH_anyEPC: `urn:epc:idpat:sgtin:0614141.100001.*|https://id.gs1.org/01/${GTIN}`,
    });
    expect(q.epc).toEqual([{ subject: `01/${GTIN}/21/A1` }, { subject: `01/${GTIN}/21/A2` }]);
    expect(q.parentID).toEqual([{ subject: '00/106141412345678908' }]);
    expect(q.anyEPC).toEqual([{ gtin: GTIN }, { gtin: GTIN }]);
  });

  it('reads a business location in either notation as its GS1 path', () => {
    const q = ok({
      EQ_bizLocation: 'urn:epc:id:sgln:0614141.00000.0|https://x.example/414/0614141000005',
    });
    expect(q.bizLocations).toEqual(['414/0614141000005', '414/0614141000005']);
  });

  it('names every bad parameter at once', () => {
    expect(
      refused({
        GE_eventTime: 'yesterday',
        EQ_action: 'ADD|REMOVE',
        eventType: 'ThingEvent',
        MATCH_epc: 'urn:epc:id:giai:0614141.1',
        perPage: '0',
      }).sort(),
    ).toEqual([
      'EQ_action:enum',
      'GE_eventTime:date-time',
      'MATCH_epc:epc',
      'eventType:enum',
      'perPage:range',
    ]);
  });

  it('refuses perPage above the ceiling, and a time without a zone', () => {
    expect(refused({ perPage: '1001' })).toEqual(['perPage:range']);
    expect(refused({ LT_eventTime: '2026-12-01T00:00:00' })).toEqual(['LT_eventTime:date-time']);
    expect(refused({ perPage: ['10', '20'] })).toEqual(['perPage:single']);
  });

  it('refuses, by name, parameters it does not implement (QueryParameterException)', () => {
    expect(
      refused({ EQ_readPoint: 'urn:epc:id:sgln:0614141.00000.0', MATCH_epcClass: 'x' }),
    ).toEqual(['EQ_readPoint:unsupported', 'MATCH_epcClass:unsupported']);
  });

  it('takes back the position of a nextPageToken made for the same filters', () => {
    const first = ok({ EQ_bizStep: 'shipping', perPage: '10' });
    const token = encodePageToken(first, '42');
    expect(ok({ EQ_bizStep: 'shipping', perPage: '50', nextPageToken: token }).after).toBe('42');
  });

  it('refuses a nextPageToken replayed with other filters, or one it never made', () => {
    const token = encodePageToken(ok({ EQ_bizStep: 'shipping' }), '42');
    expect(refused({ EQ_bizStep: 'receiving', nextPageToken: token })).toEqual([
      'nextPageToken:query-changed',
    ]);
    expect(refused({ nextPageToken: 'not a token' })).toEqual(['nextPageToken:token']);
    expect(refused({ nextPageToken: 'e30' })).toEqual(['nextPageToken:token']);
  });
});

describe('GS1-EPC-Format', () => {
  const captured = {
    type: 'ObjectEvent',
    eventTime: '2026-12-01T10:00:00.000+01:00',
    eventTimeZoneOffset: '+01:00',
    epcList: ['urn:epc:id:sgtin:0614141.100001.A1', `https://id.gs1.org/01/${GTIN}/21/A2`],
    action: 'OBSERVE',
    bizStep: 'shipping',
    bizLocation: { id: 'urn:epc:id:sgln:0614141.00000.0' },
    destinationList: [
      { type: 'owning_party', destination: 'https://id.gs1.org/417/0614141000005' },
    ],
  };
  const seven = () => 7;

  it('reads the header, No_Preference when absent, and refuses other values', () => {
    expect(parseEpcFormat(undefined)).toBe('No_Preference');
    expect(parseEpcFormat('Always_EPC_URN')).toBe('Always_EPC_URN');
    expect(parseEpcFormat('always_epc_urn')).toBeUndefined();
  });

  it('keeps the captured event itself under No_Preference and Never_Translates', () => {
    expect(translateEventEpcs(captured, 'No_Preference')).toBe(captured);
    expect(translateEventEpcs(captured, 'Never_Translates')).toBe(captured);
  });

  it('rewrites every identifier into Digital Links, keeping the event hash', () => {
    const out = translateEventEpcs(captured, 'Always_GS1_Digital_Link', seven);
    expect(out['epcList']).toEqual([
      `https://id.gs1.org/01/${GTIN}/21/A1`,
      `https://id.gs1.org/01/${GTIN}/21/A2`,
    ]);
    expect(out['bizLocation']).toEqual({ id: 'https://id.gs1.org/414/0614141000005' });
    expect(epcisEventHash(out)).toBe(epcisEventHash(captured));
  });

  it('rewrites every identifier into EPC URNs where the company prefix is known, keeping the hash', () => {
    const out = translateEventEpcs(captured, 'Always_EPC_URN', seven);
    expect(out['epcList']).toEqual([
      'urn:epc:id:sgtin:0614141.100001.A1',
      'urn:epc:id:sgtin:0614141.100001.A2',
    ]);
    expect(out['destinationList']).toEqual([
      { type: 'owning_party', destination: 'urn:epc:id:pgln:0614141.00000' },
    ]);
    expect(epcisEventHash(out)).toBe(epcisEventHash(captured));
    // Unknown prefix: the Digital Link stays as written.
    expect(translateEventEpcs(captured, 'Always_EPC_URN')['epcList']).toEqual(captured.epcList);
  });
});

describe('epcisQueryDocument', () => {
  it('builds the EPCIS 2.0 query document with the records of each event', () => {
    const id = epcisEventHash({ ...captured() });
    const event = answeredEvent(captured(), id, '2026-12-01T10:00:01.000Z');
    expect(epcisEventHash(event)).toBe(id);
    const doc = epcisQueryDocument({
      events: [event],
      records: { [id]: ['ab'.repeat(32)] },
      creationDate: '2026-12-01T10:00:02.000Z',
    });
    expect(doc).toMatchObject({
      type: 'EPCISQueryDocument',
      schemaVersion: '2.0',
      'provenant:records': { [id]: ['ab'.repeat(32)] },
      epcisBody: {
        queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: [event] } },
      },
    });
    expect(doc['@context']).toEqual([
      'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
    ]);
  });

  it('gives each event the prefixes its hash used, so events of mixed origin all recompute', () => {
    // One event hashed inside a document that maps ex:, one hashed alone (ex:n literal).
    const ctx = [{ ex: 'https://ex.example/' }];
    const inDoc = { ...captured(), 'ex:n': '1' };
    const alone = { ...captured(), epcList: ['urn:epc:id:sgtin:0614141.100001.A2'], 'ex:n': '1' };
    const idInDoc = epcisEventHash(inDoc, { '@context': ctx });
    const idAlone = epcisEventHash(alone);
    expect(idInDoc).not.toBe(epcisEventHash(inDoc));
    const text = epcisQueryDocumentText({
      eventTexts: [
        answeredEventText(JSON.stringify(inDoc), idInDoc, '2026-12-01T10:00:01.000Z', ctx),
        answeredEventText(JSON.stringify(alone), idAlone, '2026-12-01T10:00:01.000Z'),
      ],
      records: {},
      creationDate: '2026-12-01T10:00:02.000Z',
    });
    const { events, context } = epcisDocumentEvents(JSON.parse(text));
    expect(events.map((e) => epcisEventHash(e, context))).toEqual([idInDoc, idAlone]);
    expect(events.map((e) => (e as { eventID: string }).eventID)).toEqual([idInDoc, idAlone]);
  });

  it('keeps the stored bytes of an event and adds only what is missing', () => {
    const stored = '{ "type":"ObjectEvent",  "quantity": 26.0 }';
    expect(answeredEventText(stored, 'urn:uuid:1', 'T')).toBe(
      '{"eventID":"urn:uuid:1","recordTime":"T", "type":"ObjectEvent",  "quantity": 26.0 }',
    );
    expect(answeredEventText('{"eventID":"x","recordTime":"R"}', 'y', 'T')).toBe(
      '{"eventID":"x","recordTime":"R"}',
    );
  });

  function captured() {
    return {
      type: 'ObjectEvent',
      eventTime: '2026-12-01T10:00:00.000+01:00',
      eventTimeZoneOffset: '+01:00',
      epcList: ['urn:epc:id:sgtin:0614141.100001.A1'],
      action: 'ADD',
      bizStep: 'commissioning',
    };
  }
});
