// The DESIGN §11 table between EPCIS 2.0 events and custody records (§5), both
// ways, as pure functions:
//
// | EPCIS 2.0                                                     | record            |
// | ObjectEvent ADD commissioning, ilmd lot + expiry              | commission / EPC  |
// | AggregationEvent ADD packing                                  | pack (N+1)        |
// | ObjectEvent OBSERVE shipping, destination owning_party, bizTx | ship / EPC        |
// | ObjectEvent OBSERVE receiving (damaged → condition damaged)   | receive / EPC     |
// | AggregationEvent DELETE unpacking                             | unpack (N+1)      |
// | ObjectEvent DELETE dispensing/destroying/decommissioning      | decommission / EPC|
//
// What a record holds that EPCIS has no field for travels in `provenant:`
// extensions, so that record → event → record gives the same record.
import { Gs1Error, parseDigitalLink, parseEpcUri, parseScan } from '@provenant/gs1';
import type { ScanResult } from '@provenant/gs1';
import type { z } from 'zod';
import type { CustodyRecord, DecommissionReason, RecordType } from '../records.js';
import {
  commissionDataSchema,
  decommissionDataSchema,
  packDataSchema,
  receiveDataSchema,
  shipDataSchema,
  unpackDataSchema,
} from '../records.js';
import { canonicalTime } from './canonical-values.js';

/** The namespace of Provenant's EPCIS extension fields. */
export const PROVENANT_EPCIS_NS = 'urn:provenant:epcis:';
/** The `@context` of every event Provenant exports. */
export const EXPORT_CONTEXT: readonly unknown[] = [
  'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  { cbvmda: 'urn:epcglobal:cbv:mda:', provenant: PROVENANT_EPCIS_NS },
];

/** What a record is before the append path gives it seq, prev, actor, kid and a signature. */
export interface RecordDraft {
  readonly type: RecordType;
  readonly subject: string;
  /** The event time in UTC at millisecond precision (the record's `time`). */
  readonly time: string;
  readonly data: Record<string, unknown>;
  /**
   * `parentHead`: a unit's unpack draft; the append path sets `data.parentHead`
   * to the id of the container's unpack record (the first draft) once signed.
   */
  readonly resolve?: 'parentHead';
}

/** Why an event does not map to records; `field` is the event field at fault. */
export type EpcisMappingCode =
  /** The event type, action and bizStep match no row of the §11 table. */
  | 'UNMAPPED_EVENT'
  /** A field value the table has no record equivalent for (disposition, transaction type). */
  | 'UNMAPPED_VALUE'
  /** A field the table needs is absent. */
  | 'MISSING_FIELD'
  /** An EPC, party or location that is no GS1 identifier of the right kind. */
  | 'BAD_IDENTIFIER'
  /** The values do not make a valid record (DESIGN §5 data rules). */
  | 'INVALID_RECORD_DATA'
  /** A child to pack whose chain head the caller does not know. */
  | 'UNKNOWN_HEAD';

export interface EpcisMappingError {
  readonly code: EpcisMappingCode;
  readonly field: string;
  readonly detail: string;
}

export type EpcisMappingResult =
  | { readonly ok: true; readonly drafts: RecordDraft[] }
  | { readonly ok: false; readonly error: EpcisMappingError };

/** What the mapping needs to know of the store. */
export interface EpcisMappingContext {
  /** The id of a subject's latest record (a pack lists each child's head). */
  readonly headOf?: (subject: string) => string | undefined;
}

class MappingFailure extends Error {
  constructor(readonly error: EpcisMappingError) {
    super(error.detail);
  }
}

function fail(code: EpcisMappingCode, field: string, detail: string): never {
  throw new MappingFailure({ code, field, detail });
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

// CBV 2.0 §7: a vocabulary value as bare term, web URI or URN.
function term(value: unknown, vocab: 'BizStep' | 'Disp' | 'BTT' | 'SDT'): string | undefined {
  if (typeof value !== 'string') return undefined;
  const urn = { BizStep: 'bizstep', Disp: 'disp', BTT: 'btt', SDT: 'sdt' }[vocab];
  for (const prefix of [
    `https://ref.gs1.org/cbv/${vocab}-`,
    `https://gs1.org/voc/${vocab}-`,
    `urn:epcglobal:cbv:${urn}:`,
  ]) {
    if (value.startsWith(prefix)) return value.slice(prefix.length);
  }
  return value;
}

function scanOf(epc: unknown, field: string): ScanResult {
  if (typeof epc !== 'string') fail('BAD_IDENTIFIER', field, 'an EPC is a string');
  try {
    return parseScan(epc);
  } catch (e) {
    if (e instanceof Gs1Error) fail('BAD_IDENTIFIER', field, `${epc}: ${e.message}`);
    throw e;
  }
}

/** The GLN a party id names: urn:epc:id:pgln, urn:epc:id:sgln (extension 0), or a DL 417/414. */
function glnOf(id: unknown, field: string): string {
  if (typeof id !== 'string') fail('BAD_IDENTIFIER', field, 'a party is a string');
  let elements: { ai: string; value: string }[];
  try {
    elements = id.startsWith('urn:epc:') ? parseEpcUri(id) : parseDigitalLink(id);
  } catch (e) {
    if (e instanceof Gs1Error) fail('BAD_IDENTIFIER', field, `${id}: ${e.message}`);
    throw e;
  }
  const gln = elements.find((e) => e.ai === '417' || e.ai === '414');
  if (!gln || elements.some((e) => e.ai === '254')) {
    fail('BAD_IDENTIFIER', field, `${id} names no party GLN (417, or 414 without extension)`);
  }
  return gln.value;
}

function subjectOf(epc: unknown, field: string): string {
  return scanOf(epc, field).subject;
}

function scans(event: Json, key: 'epcList' | 'childEPCs'): ScanResult[] {
  const list = event[key];
  if (!Array.isArray(list) || list.length === 0) {
    fail('MISSING_FIELD', key, `the event lists no EPCs in ${key}`);
  }
  return list.map((epc, i) => scanOf(epc, `${key}.${i}`));
}

function epcs(event: Json, key: 'epcList' | 'childEPCs'): string[] {
  const list = event[key];
  if (!Array.isArray(list) || list.length === 0) {
    fail('MISSING_FIELD', key, `the event lists no EPCs in ${key}`);
  }
  return list.map((epc, i) => subjectOf(epc, `${key}.${i}`));
}

/** The GLN of the one `owning_party` entry of sourceList / destinationList. */
function owningParty(event: Json, list: 'sourceList' | 'destinationList'): string {
  const key = list === 'sourceList' ? 'source' : 'destination';
  const entries = Array.isArray(event[list]) ? (event[list] as unknown[]) : [];
  const owners = entries
    .map((e, i) => [e, i] as const)
    .filter(([e]) => isObject(e) && term(e['type'], 'SDT') === 'owning_party');
  if (owners.length !== 1) {
    fail('MISSING_FIELD', list, `${list} needs exactly one owning_party ${key}`);
  }
  const [entry, i] = owners[0]!;
  return glnOf((entry as Json)[key], `${list}.${i}.${key}`);
}

const TRANSACTION_TYPES = new Set(['po', 'inv', 'desadv']);

function transactions(event: Json): { type: string; id: string }[] {
  const list = Array.isArray(event['bizTransactionList'])
    ? (event['bizTransactionList'] as unknown[])
    : [];
  return list.map((e, i) => {
    const type = isObject(e) ? term(e['type'], 'BTT') : undefined;
    if (type === undefined || !TRANSACTION_TYPES.has(type)) {
      fail(
        'UNMAPPED_VALUE',
        `bizTransactionList.${i}.type`,
        'business transactions are po, inv or desadv',
      );
    }
    const id = (e as Json)['bizTransaction'];
    if (typeof id !== 'string') {
      fail(
        'MISSING_FIELD',
        `bizTransactionList.${i}.bizTransaction`,
        'a business transaction needs its id',
      );
    }
    return { type, id };
  });
}

// The shipment id: Provenant's extension, else the despatch advice.
function shipmentOf(event: Json, txs: { type: string; id: string }[]): string {
  const ext = event['provenant:shipment'];
  if (typeof ext === 'string') return ext;
  const desadv = txs.find((t) => t.type === 'desadv');
  if (!desadv) {
    fail(
      'MISSING_FIELD',
      'bizTransactionList',
      'a shipment needs a desadv business transaction (or provenant:shipment)',
    );
  }
  return desadv.id;
}

function checked(schema: z.ZodType, data: Json, field: string): Json {
  const r = schema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    fail('INVALID_RECORD_DATA', field, `${issue.path.join('.') || 'data'}: ${issue.message}`);
  }
  return data;
}

function commission(event: Json, time: string): RecordDraft[] {
  const ilmd = isObject(event['ilmd']) ? event['ilmd'] : {};
  const lot = ilmd['cbvmda:lotNumber'];
  const expiry = ilmd['cbvmda:itemExpirationDate'];
  if (typeof lot !== 'string')
    fail('MISSING_FIELD', 'ilmd.cbvmda:lotNumber', 'commissioning needs the lot');
  if (typeof expiry !== 'string') {
    fail('MISSING_FIELD', 'ilmd.cbvmda:itemExpirationDate', 'commissioning needs the expiry date');
  }
  const product = event['provenant:product'];
  return scans(event, 'epcList').map(({ subject, gtin, serial }, i) => {
    if (gtin === undefined)
      fail('BAD_IDENTIFIER', `epcList.${i}`, 'commissioning names units (SGTIN)');
    const data: Json = { gtin, serial, lot, expiry };
    if (product !== undefined) data['product'] = product;
    return {
      type: 'commission',
      subject,
      time,
      data: checked(commissionDataSchema, data, `epcList.${i}`),
    };
  });
}

function ship(event: Json, time: string): RecordDraft[] {
  const to = owningParty(event, 'destinationList');
  const txs = transactions(event);
  const data: Json = { to, shipment: shipmentOf(event, txs) };
  if (txs.length > 0) data['transactions'] = txs;
  checked(shipDataSchema, data, 'bizTransactionList');
  return epcs(event, 'epcList').map((subject) => ({ type: 'ship', subject, time, data }));
}

function receive(event: Json, time: string): RecordDraft[] {
  const from = owningParty(event, 'sourceList');
  const shipment = shipmentOf(event, transactions(event));
  const condition = term(event['disposition'], 'Disp') === 'damaged' ? 'damaged' : 'ok';
  const data: Json = { from, shipment, condition };
  if (event['provenant:discrepancies'] !== undefined) {
    data['discrepancies'] = event['provenant:discrepancies'];
  }
  checked(receiveDataSchema, data, 'sourceList');
  return epcs(event, 'epcList').map((subject) => ({ type: 'receive', subject, time, data }));
}

// CBV 2.0 §7.2 dispositions, and Provenant's own for what CBV has no term for.
const REASON_BY_DISPOSITION: Readonly<Record<string, DecommissionReason>> = {
  stolen: 'stolen',
  destroyed: 'destroyed',
  dispensed: 'dispensed',
  exported: 'exported',
  sample: 'sample',
  free_sample: 'free_sample',
};

function decommission(event: Json, time: string, bizStep: string): RecordDraft[] {
  let reason: DecommissionReason | undefined;
  if (bizStep === 'dispensing') reason = 'dispensed';
  else if (bizStep === 'destroying') reason = 'destroyed';
  else reason = REASON_BY_DISPOSITION[term(event['disposition'], 'Disp') ?? ''];
  if (reason === undefined) {
    fail(
      'UNMAPPED_VALUE',
      'disposition',
      'decommissioning takes disposition stolen, destroyed, dispensed, exported, sample or free_sample',
    );
  }
  const data = checked(decommissionDataSchema, { reason }, 'disposition');
  return epcs(event, 'epcList').map((subject) => ({ type: 'decommission', subject, time, data }));
}

function parentOf(event: Json): string {
  if (event['parentID'] === undefined)
    fail('MISSING_FIELD', 'parentID', 'aggregation needs parentID');
  return subjectOf(event['parentID'], 'parentID');
}

function pack(event: Json, time: string, ctx: EpcisMappingContext): RecordDraft[] {
  const parent = parentOf(event);
  const children = epcs(event, 'childEPCs').map((subject, i) => {
    const head = ctx.headOf?.(subject);
    if (head === undefined)
      fail('UNKNOWN_HEAD', `childEPCs.${i}`, `no chain head known for ${subject}`);
    return { subject, head };
  });
  const data = checked(packDataSchema, { children }, 'childEPCs');
  return [
    { type: 'pack', subject: parent, time, data },
    ...children.map((c, i) => ({
      type: 'pack' as const,
      subject: c.subject,
      time,
      data: checked(packDataSchema, { parent }, `childEPCs.${i}`),
    })),
  ];
}

function unpack(event: Json, time: string): RecordDraft[] {
  const parent = parentOf(event);
  const children = epcs(event, 'childEPCs');
  const data = checked(unpackDataSchema, { children }, 'childEPCs');
  return [
    { type: 'unpack', subject: parent, time, data },
    ...children.map((subject) => ({
      type: 'unpack' as const,
      subject,
      time,
      data: { parent },
      resolve: 'parentHead' as const,
    })),
  ];
}

function draftsOf(event: Json, ctx: EpcisMappingContext): RecordDraft[] {
  const type = event['type'];
  const action = event['action'];
  const bizStep = term(event['bizStep'], 'BizStep');
  if (typeof event['eventTime'] !== 'string')
    fail('MISSING_FIELD', 'eventTime', 'the event has no eventTime');
  const time = canonicalTime(event['eventTime']);
  if (!/Z$/.test(time)) fail('INVALID_RECORD_DATA', 'eventTime', 'eventTime is no dateTime');
  if (type === 'ObjectEvent') {
    if (action === 'ADD' && bizStep === 'commissioning') return commission(event, time);
    if (action === 'OBSERVE' && bizStep === 'shipping') return ship(event, time);
    if (action === 'OBSERVE' && bizStep === 'receiving') return receive(event, time);
    if (
      action === 'DELETE' &&
      ['dispensing', 'destroying', 'decommissioning'].includes(bizStep ?? '')
    ) {
      return decommission(event, time, bizStep!);
    }
    fail(
      'UNMAPPED_EVENT',
      'bizStep',
      `ObjectEvent ${String(action)} ${String(bizStep)} maps to no record`,
    );
  }
  if (type === 'AggregationEvent') {
    if (action === 'ADD' && bizStep === 'packing') return pack(event, time, ctx);
    if (action === 'DELETE' && bizStep === 'unpacking') return unpack(event, time);
    fail(
      'UNMAPPED_EVENT',
      'bizStep',
      `AggregationEvent ${String(action)} ${String(bizStep)} maps to no record`,
    );
  }
  return fail('UNMAPPED_EVENT', 'type', `${String(type)} maps to no record`);
}

/**
 * The custody record drafts an EPCIS 2.0 event stands for (DESIGN §11 table).
 * Never throws for bad input: an event the table does not map, or whose
 * fields do not make valid records, gives a coded error naming the field.
 */
export function recordsFromEpcisEvent(
  event: unknown,
  ctx: EpcisMappingContext = {},
): EpcisMappingResult {
  if (!isObject(event)) {
    return { ok: false, error: { code: 'UNMAPPED_EVENT', field: 'type', detail: 'not an event' } };
  }
  try {
    return { ok: true, drafts: draftsOf(event, ctx) };
  } catch (e) {
    if (e instanceof MappingFailure) return { ok: false, error: e.error };
    throw e;
  }
}

// --- records out -------------------------------------------------------------

const DL_HOST = 'https://id.gs1.org/';

/** A canonical subject (DESIGN §3) as a GS1 Digital Link URI: the subject is the path. */
export function subjectToDigitalLink(subject: string): string {
  return DL_HOST + subject;
}

const party = (gln: string): string => `${DL_HOST}417/${gln}`;
const owner = (key: 'source' | 'destination', gln: string) => [
  { type: 'owning_party', [key]: party(gln) },
];

function baseEvent(record: CustodyRecord, type: string, action: string, bizStep: string): Json {
  return {
    '@context': EXPORT_CONTEXT,
    type,
    eventTime: record.time,
    eventTimeZoneOffset: '+00:00',
    ...(type === 'ObjectEvent' ? { epcList: [subjectToDigitalLink(record.subject)] } : {}),
    action,
    bizStep,
  };
}

// The acting party, stated as the business location (DESIGN §11: the
// capturing party must be the event's actor).
function at(record: CustodyRecord): Json {
  return { bizLocation: { id: `${DL_HOST}414/${record.actor}` } };
}

const BIZ_STEP_BY_REASON: Readonly<Record<DecommissionReason, string>> = {
  dispensed: 'dispensing',
  destroyed: 'destroying',
  exported: 'decommissioning',
  stolen: 'decommissioning',
  sample: 'decommissioning',
  free_sample: 'decommissioning',
};

/**
 * The EPCIS 2.0 event the §11 table gives a record, for export with its
 * event hash ID; `null` for a record that another record's event already
 * states (a unit's pack or unpack: its container's AggregationEvent) or that
 * the table does not map (reactivate, quarantine, release).
 */
export function epcisEventFromRecord(record: CustodyRecord): Json | null {
  switch (record.type) {
    case 'commission': {
      const d = record.data;
      return {
        ...baseEvent(record, 'ObjectEvent', 'ADD', 'commissioning'),
        disposition: 'active',
        ...at(record),
        ilmd: { 'cbvmda:lotNumber': d.lot, 'cbvmda:itemExpirationDate': d.expiry },
        ...(d.product !== undefined ? { 'provenant:product': d.product } : {}),
      };
    }
    case 'ship': {
      const d = record.data;
      return {
        ...baseEvent(record, 'ObjectEvent', 'OBSERVE', 'shipping'),
        disposition: 'in_transit',
        ...at(record),
        ...(d.transactions && d.transactions.length > 0
          ? {
              bizTransactionList: d.transactions.map((t) => ({
                type: t.type,
                bizTransaction: t.id,
              })),
            }
          : {}),
        sourceList: owner('source', record.actor),
        destinationList: owner('destination', d.to),
        'provenant:shipment': d.shipment,
      };
    }
    case 'receive': {
      const d = record.data;
      return {
        ...baseEvent(record, 'ObjectEvent', 'OBSERVE', 'receiving'),
        disposition: d.condition === 'damaged' ? 'damaged' : 'in_progress',
        ...at(record),
        sourceList: owner('source', d.from),
        destinationList: owner('destination', record.actor),
        'provenant:shipment': d.shipment,
        ...(d.discrepancies !== undefined ? { 'provenant:discrepancies': d.discrepancies } : {}),
      };
    }
    case 'decommission': {
      const reason = record.data.reason;
      return {
        ...baseEvent(record, 'ObjectEvent', 'DELETE', BIZ_STEP_BY_REASON[reason]),
        disposition: reason,
        ...at(record),
      };
    }
    case 'pack':
    case 'unpack': {
      if (!('children' in record.data)) return null;
      const children = record.data.children.map((c) => (typeof c === 'string' ? c : c.subject));
      const adding = record.type === 'pack';
      return {
        ...baseEvent(
          record,
          'AggregationEvent',
          adding ? 'ADD' : 'DELETE',
          adding ? 'packing' : 'unpacking',
        ),
        parentID: subjectToDigitalLink(record.subject),
        childEPCs: children.map(subjectToDigitalLink),
        ...at(record),
      };
    }
    default:
      return null;
  }
}

/** The draft a record was made from (the inverse of the append path's filling-in). */
export function recordDraftOf(record: CustodyRecord): RecordDraft {
  const { type, subject, time } = record;
  if (type === 'unpack' && 'parent' in record.data) {
    return { type, subject, time, data: { parent: record.data.parent }, resolve: 'parentHead' };
  }
  return { type, subject, time, data: record.data as Json };
}
