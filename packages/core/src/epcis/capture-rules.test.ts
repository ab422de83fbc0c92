import { describe, expect, it } from '@jest/globals';
import { epcisActorProblem, epcisOwnershipProblem, epcisStatedActors } from './capture-rules.js';
import {
  cbvTerm,
  epcisEventIndex,
  epcisGlnOf,
  epcisLocationKey,
  epcisSubjectKey,
} from './index-fields.js';
import { jsonArrayElementTexts } from './json-text.js';
import { recordsFromEpcisEvent } from './mapping.js';

const MFR = { gln: '0614141000005', prefixes: ['0614141'] };
const DIST = { gln: '0614142000004', prefixes: ['0614142'] };

const shipping = {
  type: 'ObjectEvent',
  eventTime: '2026-11-28T12:00:00Z',
  epcList: ['urn:epc:id:sgtin:0614141.100001.S1'],
  action: 'OBSERVE',
  bizStep: 'https://ref.gs1.org/cbv/BizStep-shipping',
  sourceList: [
    { type: 'owning_party', source: 'https://id.gs1.org/417/0614142000004' },
    { type: 'possessing_party', source: 'urn:epc:id:pgln:0614141.00000' },
  ],
  destinationList: [{ type: 'owning_party', destination: 'urn:epc:id:pgln:0614142.00000' }],
};

describe('the actor of an event (DESIGN §11)', () => {
  it('is the owning or possessing party of the sender list when shipping, and the bizLocation party', () => {
    expect(
      epcisStatedActors({ ...shipping, bizLocation: { id: 'urn:epc:id:sgln:0614141.00777.3' } }),
    ).toEqual([
      { field: 'sourceList.0.source', gln: '0614142000004' },
      { field: 'sourceList.1.source', gln: '0614141000005' },
      { field: 'bizLocation.id', gln: '0614141007776' },
    ]);
  });

  it('accepts the caller among the stated actors, and a location under its own prefix', () => {
    expect(epcisActorProblem(shipping, MFR)).toBeNull();
    expect(epcisActorProblem(shipping, DIST)).toBeNull();
    const located = {
      type: 'ObjectEvent',
      bizStep: 'commissioning',
      bizLocation: { id: 'urn:epc:id:sgln:0614141.00777.3' },
    };
    expect(epcisActorProblem(located, MFR)).toBeNull();
  });

  it('refuses a caller the event does not name, naming the first actor field', () => {
    const other = { gln: '0999999000009', prefixes: ['0999999'] };
    expect(epcisActorProblem(shipping, other)).toMatchObject({
      code: 'ACTOR_MISMATCH',
      field: 'sourceList.0.source',
    });
    // Receiving: the receiver states itself in destinationList.
    const receiving = { ...shipping, bizStep: 'receiving' };
    expect(epcisActorProblem(receiving, MFR)).toMatchObject({
      code: 'ACTOR_MISMATCH',
      field: 'destinationList.0.destination',
    });
    expect(epcisActorProblem(receiving, DIST)).toBeNull();
  });

  it('takes an event that states no actor as the capturing party’s own statement', () => {
    expect(epcisActorProblem({ type: 'ObjectEvent', bizStep: 'commissioning' }, MFR)).toBeNull();
  });
});

describe('EPCs within the caller’s rights', () => {
  const commissioning = {
    type: 'ObjectEvent',
    eventTime: '2026-11-28T12:00:00Z',
    epcList: ['urn:epc:id:sgtin:0614141.100001.A', 'urn:epc:id:sgtin:0999999.100001.B'],
    action: 'ADD',
    bizStep: 'commissioning',
    ilmd: { 'cbvmda:lotNumber': 'L', 'cbvmda:itemExpirationDate': '2028-01-31' },
  };

  it('refuses to commission a GTIN under another company prefix, naming the EPC', () => {
    const r = recordsFromEpcisEvent(commissioning);
    if (!r.ok) throw new Error(r.error.detail);
    expect(
      epcisOwnershipProblem(r.drafts, ['epcList.0', 'epcList.1'], MFR, () => false),
    ).toMatchObject({
      code: 'EPC_NOT_OWNED',
      field: 'epcList.1',
    });
  });

  it('refuses a new SSCC under another prefix, but not packing into an existing container', () => {
    const packing = {
      type: 'AggregationEvent',
      eventTime: '2026-11-28T12:00:00Z',
      parentID: 'urn:epc:id:sscc:0614142.1000000001',
      childEPCs: ['urn:epc:id:sgtin:0614141.100001.A'],
      action: 'ADD',
      bizStep: 'packing',
    };
    const r = recordsFromEpcisEvent(packing, { headOf: () => '0'.repeat(64) });
    if (!r.ok) throw new Error(r.error.detail);
    const fields = ['parentID', 'childEPCs.0'];
    expect(epcisOwnershipProblem(r.drafts, fields, MFR, () => false)).toMatchObject({
      code: 'EPC_NOT_OWNED',
      field: 'parentID',
    });
    expect(epcisOwnershipProblem(r.drafts, fields, DIST, () => false)).toBeNull();
    expect(epcisOwnershipProblem(r.drafts, fields, MFR, () => true)).toBeNull();
  });
});

describe('the query index of an event', () => {
  it('puts EPC URNs and Digital Links in one form, and CBV values as bare terms', () => {
    const index = epcisEventIndex({
      type: 'AggregationEvent',
      eventTime: '2026-11-28T13:00:00.5+01:00',
      parentID: 'urn:epc:id:sscc:0614141.1234567890',
      childEPCs: [
        'urn:epc:id:sgtin:0614141.112345.400',
        'https://example.org/01/10614141123459/21/401',
      ],
      action: 'ADD',
      bizStep: 'urn:epcglobal:cbv:bizstep:packing',
      disposition: 'https://ref.gs1.org/cbv/Disp-in_progress',
      bizLocation: { id: 'urn:epc:id:sgln:0614141.00777.0' },
    });
    expect(index).toEqual({
      eventType: 'AggregationEvent',
      action: 'ADD',
      bizStep: 'packing',
      disposition: 'in_progress',
      bizLocation: '414/0614141007776',
      eventTime: '2026-11-28T12:00:00.500Z',
      epcs: ['01/10614141123459/21/400', '01/10614141123459/21/401'],
      parentId: '00/106141412345678908',
      subjects: ['01/10614141123459/21/400', '01/10614141123459/21/401', '00/106141412345678908'],
    });
  });

  it('keeps what is no GS1 identifier or CBV term as given', () => {
    expect(epcisSubjectKey('urn:epc:class:lgtin:0614141.112345.L1')).toBe(
      'urn:epc:class:lgtin:0614141.112345.L1',
    );
    expect(epcisLocationKey('https://example.org/dock/7')).toBe('https://example.org/dock/7');
    expect(epcisLocationKey('https://id.gs1.org/414/0614141007776/254/12')).toBe(
      '414/0614141007776/254/12',
    );
    expect(epcisGlnOf('urn:epc:id:pgln:0614141.00000')).toBe('0614141000005');
    expect(epcisGlnOf(7)).toBeUndefined();
    expect(cbvTerm('urn:example:step')).toBe('urn:example:step');
  });
});

describe('the text of each event of a document, as written', () => {
  it('returns each element of the event list byte for byte', () => {
    const a = '{ "type" : "ObjectEvent",\n "x": [1, {"y": "]}\\"{"}] }';
    const b = '{"type":"AggregationEvent","n":-1.50e3,"t":true,"z":null}';
    const text = `{"@context": ["a", {"b": "c"}], "epcisBody": {"other": {"eventList": []},
      "eventList": [ ${a},${b} ]}, "tail": "x"}`;
    expect(jsonArrayElementTexts(text, ['epcisBody', 'eventList'])).toEqual([a, b]);
    expect(jsonArrayElementTexts(text, ['epcisBody', 'missing'])).toBeUndefined();
    expect(
      jsonArrayElementTexts('{"epcisBody": {"eventList": []}}', ['epcisBody', 'eventList']),
    ).toEqual([]);
    expect(jsonArrayElementTexts('{"epcisBody": 3}', ['epcisBody', 'eventList'])).toBeUndefined();
  });
});
