import { describe, expect, it } from '@jest/globals';
import { gs1CheckDigit } from '@provenant/gs1';
import type { CustodyRecord } from '../records.js';
import { recordSchema } from '../records.js';
import { epcisEventHash } from './hash.js';
import { parseEpcisEvent } from './schema.js';
import type { EpcisMappingResult, RecordDraft } from './mapping.js';
import { epcisEventFromRecord, recordDraftOf, recordsFromEpcisEvent } from './mapping.js';

const withCheck = (body: string) => body + gs1CheckDigit(body);
const MAKER = withCheck('950600000000'); // 9506000000005
const WHOLESALER = withCheck('400000100000');
const GTIN = withCheck('0950600013435');
const SSCC = withCheck('09506000000000001');
const unit = (serial: string) => `01/${GTIN}/21/${serial}`;
const PALLET = `00/${SSCC}`;
const HEAD = 'a'.repeat(64);

function drafts(r: EpcisMappingResult): RecordDraft[] {
  if (!r.ok) throw new Error(`${r.error.code} ${r.error.field}: ${r.error.detail}`);
  return r.drafts;
}

function errorOf(r: EpcisMappingResult): [string, string] {
  if (r.ok) throw new Error('expected a mapping error');
  return [r.error.code, r.error.field];
}

const base = {
  eventTime: '2026-11-28T13:00:00.000+01:00',
  eventTimeZoneOffset: '+01:00',
};

/** An ObjectEvent of the §11 table's shape; `extra` adds or overrides fields. */
const objectEvent = (action: string, bizStep: string, extra: object = {}) => ({
  ...base,
  type: 'ObjectEvent',
  action,
  bizStep,
  ...extra,
});

/** An AggregationEvent whose parent is the pallet SSCC. */
const aggregationEvent = (action: string, bizStep: string, childEPCs: string[]) => ({
  ...base,
  type: 'AggregationEvent',
  action,
  bizStep,
  parentID: `https://id.gs1.org/00/${SSCC}`,
  childEPCs,
});

const S1 = 'urn:epc:id:sgtin:9506000.013435.S1';
const commissioning = objectEvent('ADD', 'commissioning', {
  epcList: [S1, `https://example.com/01/${GTIN}/21/S%2F2`],
  ilmd: { 'cbvmda:lotNumber': 'L1', 'cbvmda:itemExpirationDate': '2028-06-30' },
});

describe('recordsFromEpcisEvent', () => {
  it('commissions each EPC of an ObjectEvent ADD commissioning with lot and expiry from ilmd', () => {
    expect(drafts(recordsFromEpcisEvent(commissioning))).toEqual([
      {
        type: 'commission',
        subject: unit('S1'),
        time: '2026-11-28T12:00:00.000Z',
        data: { gtin: GTIN, serial: 'S1', lot: 'L1', expiry: '2028-06-30' },
      },
      {
        type: 'commission',
        subject: unit('S%2F2'),
        time: '2026-11-28T12:00:00.000Z',
        data: { gtin: GTIN, serial: 'S/2', lot: 'L1', expiry: '2028-06-30' },
      },
    ]);
  });

  it('ships to the owning_party destination with the po/inv/desadv transactions', () => {
    const event = objectEvent('OBSERVE', 'https://ref.gs1.org/cbv/BizStep-shipping', {
      epcList: [`urn:epc:id:sscc:9506000.${SSCC[0]}${SSCC.slice(8, 17)}`],
      bizTransactionList: [
        { type: 'po', bizTransaction: 'urn:epcglobal:cbv:bt:9506000000005:PO1' },
        { type: 'urn:epcglobal:cbv:btt:desadv', bizTransaction: 'ASN-7' },
      ],
      destinationList: [
        { type: 'location', destination: 'urn:epc:id:sgln:4000001.00012.0' },
        { type: 'owning_party', destination: 'urn:epc:id:pgln:4000001.00000' },
      ],
    });
    expect(drafts(recordsFromEpcisEvent(event))).toEqual([
      {
        type: 'ship',
        subject: PALLET,
        time: '2026-11-28T12:00:00.000Z',
        data: {
          to: WHOLESALER,
          shipment: 'ASN-7',
          transactions: [
            { type: 'po', id: 'urn:epcglobal:cbv:bt:9506000000005:PO1' },
            { type: 'desadv', id: 'ASN-7' },
          ],
        },
      },
    ]);
  });

  it('receives with condition damaged when the disposition is damaged, ok otherwise', () => {
    const event = objectEvent('OBSERVE', 'receiving', {
      disposition: 'damaged',
      epcList: [`https://id.gs1.org/00/${SSCC}`],
      sourceList: [{ type: 'owning_party', source: `https://id.gs1.org/417/${MAKER}` }],
      bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-7' }],
    });
    const [damaged] = drafts(recordsFromEpcisEvent(event));
    expect(damaged!.data).toEqual({
      from: MAKER,
      shipment: 'ASN-7',
      condition: 'damaged',
    });
    const [ok] = drafts(recordsFromEpcisEvent({ ...event, disposition: 'in_progress' }));
    expect(ok!.data['condition']).toBe('ok');
  });

  it('packs a container and each child: N+1 drafts, children at their heads', () => {
    const event = aggregationEvent('ADD', 'packing', [S1, 'urn:epc:id:sgtin:9506000.013435.S3']);
    const out = drafts(recordsFromEpcisEvent(event, { headOf: () => HEAD }));
    expect(out.map((d) => [d.type, d.subject, d.data])).toEqual([
      [
        'pack',
        PALLET,
        {
          children: [
            { subject: unit('S1'), head: HEAD },
            { subject: unit('S3'), head: HEAD },
          ],
        },
      ],
      ['pack', unit('S1'), { parent: PALLET }],
      ['pack', unit('S3'), { parent: PALLET }],
    ]);
  });

  it('refuses to pack a child whose head is unknown, naming it', () => {
    const event = aggregationEvent('ADD', 'packing', [
      `https://id.gs1.org/01/${GTIN}/21/S1`,
      `https://id.gs1.org/01/${GTIN}/21/S9`,
    ]);
    const headOf = (s: string) => (s === unit('S1') ? HEAD : undefined);
    expect(errorOf(recordsFromEpcisEvent(event, { headOf }))).toEqual([
      'UNKNOWN_HEAD',
      'childEPCs.1',
    ]);
  });

  it('unpacks a container and marks each child draft to take the parent unpack id', () => {
    const event = aggregationEvent('DELETE', 'unpacking', [`https://id.gs1.org/01/${GTIN}/21/S1`]);
    expect(drafts(recordsFromEpcisEvent(event))).toEqual([
      {
        type: 'unpack',
        subject: PALLET,
        time: '2026-11-28T12:00:00.000Z',
        data: { children: [unit('S1')] },
      },
      {
        type: 'unpack',
        subject: unit('S1'),
        time: '2026-11-28T12:00:00.000Z',
        data: { parent: PALLET },
        resolve: 'parentHead',
      },
    ]);
  });

  describe('decommissions with the reason the bizStep or disposition names', () => {
    it.each([
      ['dispensing', undefined, 'dispensed'],
      ['destroying', undefined, 'destroyed'],
      ['decommissioning', 'stolen', 'stolen'],
      ['decommissioning', 'exported', 'exported'],
    ])('bizStep %s, disposition %s: %s', (bizStep, disposition, reason) => {
      const event = objectEvent('DELETE', bizStep, {
        epcList: [S1],
        ...(disposition ? { disposition } : {}),
      });
      expect(drafts(recordsFromEpcisEvent(event))[0]!.data['reason']).toBe(reason);
    });
  });

  describe('when the event is not one the table maps', () => {
    const ship = (extra: object) => objectEvent('OBSERVE', 'shipping', { epcList: [S1], ...extra });
    it.each([
      {
        names: 'the type of a TransformationEvent',
        event: { ...base, type: 'TransformationEvent' },
        error: ['UNMAPPED_EVENT', 'type'],
      },
      {
        names: 'the bizStep of an ObjectEvent OBSERVE inspecting',
        event: { ...commissioning, action: 'OBSERVE', bizStep: 'inspecting' },
        error: ['UNMAPPED_EVENT', 'bizStep'],
      },
      {
        names: 'a missing lot',
        event: { ...commissioning, ilmd: {} },
        error: ['MISSING_FIELD', 'ilmd.cbvmda:lotNumber'],
      },
      {
        names: 'a bad EPC',
        event: { ...commissioning, epcList: [S1, 'urn:epc:id:sgtin:1.2.3'] },
        error: ['BAD_IDENTIFIER', 'epcList.1'],
      },
      {
        names: 'an unmapped transaction type',
        event: ship({
          destinationList: [
            { type: 'owning_party', destination: `https://id.gs1.org/417/${WHOLESALER}` },
          ],
          bizTransactionList: [{ type: 'prodorder', bizTransaction: 'P-1' }],
        }),
        error: ['UNMAPPED_VALUE', 'bizTransactionList.0.type'],
      },
      {
        names: 'the destinationList of a shipment without an owning party',
        event: ship({
          bizTransactionList: [{ type: 'desadv', bizTransaction: 'ASN-1' }],
        }),
        error: ['MISSING_FIELD', 'destinationList'],
      },
      {
        names: 'the disposition of a decommissioning that gives no reason',
        event: objectEvent('DELETE', 'decommissioning', { epcList: [S1], disposition: 'inactive' }),
        error: ['UNMAPPED_VALUE', 'disposition'],
      },
    ])('names $names', ({ event, error }) => {
      expect(errorOf(recordsFromEpcisEvent(event))).toEqual(error);
    });
  });
});

// Records as the append path writes them (seq/prev/kid do not take part in the table).
function record(fields: {
  subject: string;
  type: string;
  actor: string;
  data: object;
  seq?: number;
}): CustodyRecord {
  const seq = fields.seq ?? 1;
  return recordSchema.parse({
    v: 1,
    seq,
    prev: seq === 0 ? null : 'b'.repeat(64),
    kid: 'c'.repeat(32),
    time: '2026-11-28T12:00:00.000Z',
    ...fields,
  });
}

const RECORDS: CustodyRecord[] = [
  record({
    subject: unit('S1'),
    type: 'commission',
    actor: MAKER,
    seq: 0,
    data: {
      gtin: GTIN,
      serial: 'S1',
      lot: 'L1',
      expiry: '2028-06-30',
      product: { name: 'Aspirin' },
    },
  }),
  record({
    subject: PALLET,
    type: 'pack',
    actor: MAKER,
    seq: 0,
    data: { children: [{ subject: unit('S1'), head: HEAD }] },
  }),
  record({ subject: unit('S1'), type: 'pack', actor: MAKER, data: { parent: PALLET } }),
  record({
    subject: PALLET,
    type: 'ship',
    actor: MAKER,
    data: { to: WHOLESALER, shipment: 'SH-1', transactions: [{ type: 'po', id: 'PO-1' }] },
  }),
  record({
    subject: PALLET,
    type: 'receive',
    actor: WHOLESALER,
    data: {
      from: MAKER,
      shipment: 'SH-1',
      condition: 'damaged',
      discrepancies: [{ subject: unit('S1'), status: 'damaged', note: 'crushed' }],
    },
  }),
  record({ subject: PALLET, type: 'unpack', actor: WHOLESALER, data: { children: [unit('S1')] } }),
  record({
    subject: unit('S1'),
    type: 'unpack',
    actor: WHOLESALER,
    data: { parent: PALLET, parentHead: HEAD },
  }),
  ...(['dispensed', 'destroyed', 'exported', 'stolen', 'sample', 'free_sample'] as const).map(
    (reason) =>
      record({ subject: unit('S1'), type: 'decommission', actor: WHOLESALER, data: { reason } }),
  ),
];

describe('epcisEventFromRecord', () => {
  it('round trip: record → event → records gives the same drafts', () => {
    const headOf = () => HEAD;
    const events = RECORDS.map(epcisEventFromRecord).filter((e) => e !== null);
    const back = events.flatMap((e) => drafts(recordsFromEpcisEvent(e, { headOf })));
    expect(back).toEqual(RECORDS.map(recordDraftOf));
  });

  it('gives events that pass the capture schema, so another instance can capture them', () => {
    for (const event of RECORDS.map(epcisEventFromRecord).filter((e) => e !== null)) {
      const r = parseEpcisEvent(event);
      expect(r.ok ? [] : r.errors).toEqual([]);
    }
  });

  it('leaves out what another event states (unit pack) and what the table does not map', () => {
    expect(epcisEventFromRecord(RECORDS[2]!)).toBeNull();
    const hold = record({
      subject: unit('S1'),
      type: 'quarantine',
      actor: MAKER,
      data: { case: 'C1', reason: 'check' },
    });
    expect(epcisEventFromRecord(hold)).toBeNull();
  });

  it('states the acting party, so the event can be captured by it elsewhere', () => {
    const ship = epcisEventFromRecord(RECORDS[3]!)!;
    expect(ship['sourceList']).toEqual([
      { type: 'owning_party', source: `https://id.gs1.org/417/${MAKER}` },
    ]);
    expect(ship['bizLocation']).toEqual({ id: `https://id.gs1.org/414/${MAKER}` });
  });

  it('gives an event whose hash ID is stable across serialisation and key order', () => {
    const event = epcisEventFromRecord(RECORDS[0]!)!;
    const id = epcisEventHash(event);
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    expect(epcisEventHash(JSON.parse(JSON.stringify(event)))).toBe(id);
    expect(epcisEventHash(reordered)).toBe(id);
    expect(id).toMatch(/^ni:\/\/\/sha-256;[0-9a-f]{64}\?ver=CBV2\.0$/);
    // Pinned: a change to the export or the hash must be deliberate.
    expect(id).toBe(PINNED_COMMISSION_HASH);
  });
});

const PINNED_COMMISSION_HASH =
  'ni:///sha-256;ac089436f88f751f2537a05784b6962b4880b0cdbca0acaa3bea8c8f546c6f08?ver=CBV2.0';
