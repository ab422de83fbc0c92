import { describe, expect, it } from '@jest/globals';
import { parseEpcisDocument, parseEpcisEvent } from './schema.js';

const commissioning = {
  type: 'ObjectEvent',
  eventTime: '2026-11-28T12:00:00.000+01:00',
  eventTimeZoneOffset: '+01:00',
  epcList: ['urn:epc:id:sgtin:9506000.013435.ABC1', 'https://id.gs1.org/01/09506000134352/21/ABC2'],
  action: 'ADD',
  bizStep: 'commissioning',
  disposition: 'active',
  readPoint: { id: 'urn:epc:id:sgln:9506000.00000.0' },
  ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-06-30' },
};

const packing = {
  type: 'AggregationEvent',
  eventTime: '2026-11-28T13:00:00Z',
  eventTimeZoneOffset: '+00:00',
  parentID: 'urn:epc:id:sscc:9506000.0000000017',
  childEPCs: ['urn:epc:id:sgtin:9506000.013435.ABC1'],
  action: 'ADD',
  bizStep: 'packing',
};

function doc(eventList: unknown[]) {
  return {
    '@context': ['https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld'],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: '2026-11-28T14:00:00Z',
    epcisBody: { eventList },
  };
}

function paths(r: ReturnType<typeof parseEpcisDocument>): string[] {
  return r.ok ? [] : r.errors.map((e) => e.path);
}

describe('parseEpcisDocument', () => {
  it('accepts a document with commissioning, packing and a transformation event', () => {
    const r = parseEpcisDocument(doc([commissioning, packing, { type: 'TransformationEvent' }]));
    expect(r.ok).toBe(true);
  });

  it('keeps namespaced extension fields as captured', () => {
    const event = { ...commissioning, 'example:myField': { 'example:sub': '1' } };
    const r = parseEpcisEvent(event);
    expect(r.ok && (r.value as Record<string, unknown>)['example:myField']).toEqual({
      'example:sub': '1',
    });
  });

  it('refuses a field that is neither EPCIS nor namespaced, naming it', () => {
    const r = parseEpcisDocument(doc([{ ...commissioning, lotNumber: 'L1' }]));
    expect(paths(r)).toEqual(['epcisBody.eventList.0.lotNumber']);
  });

  it('names the event index and field of a bad EPC', () => {
    const bad = { ...packing, childEPCs: ['ABC'] };
    expect(paths(parseEpcisDocument(doc([commissioning, bad])))).toEqual([
      'epcisBody.eventList.1.childEPCs.0',
    ]);
  });

  it('refuses an event time without a time zone', () => {
    const r = parseEpcisEvent({ ...commissioning, eventTime: '2026-11-28T12:00:00' });
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual(['eventTime']);
  });

  it('refuses an unknown action and a bad ilmd expiry date', () => {
    const r = parseEpcisEvent({
      ...commissioning,
      action: 'CREATE',
      ilmd: { 'cbvmda:itemExpirationDate': '2028-13-01' },
    });
    expect(r.ok ? [] : r.errors.map((e) => e.path).sort()).toEqual([
      'action',
      'ilmd.cbvmda:itemExpirationDate',
    ]);
  });

  it('requires parentID on an AggregationEvent ADD', () => {
    const { parentID: _omit, ...noParent } = packing;
    const r = parseEpcisEvent(noParent);
    expect(r.ok ? [] : r.errors.map((e) => e.path)).toEqual(['parentID']);
  });

  it('requires the type of a source and the id of a read point', () => {
    const r = parseEpcisEvent({
      ...commissioning,
      sourceList: [{ source: 'urn:epc:id:pgln:9506000.00000' }],
      readPoint: {},
    });
    expect(r.ok ? [] : r.errors.map((e) => e.path).sort()).toEqual([
      'readPoint.id',
      'sourceList.0.type',
    ]);
  });

  it('refuses a document that is not an EPCISDocument', () => {
    const r = parseEpcisDocument({ ...doc([]), type: 'EPCISQueryDocument' });
    expect(paths(r)).toEqual(['type']);
  });

  it('refuses an event of no EPCIS type', () => {
    expect(parseEpcisEvent({ type: 'ShipEvent' }).ok).toBe(false);
  });
});
