// Answers of the EPCIS 2.0 query interface (DESIGN §11): the
// EPCISQueryDocument of GET /epcis/events and the GS1-EPC-Format
// translation of the identifiers in it.
//
// Which formats keep an event's bytes: No_Preference and Never_Translates
// return every field as captured (values and key order); only `eventID` (when
// the event had none) and `recordTime` (set by the repository, EPCIS 2.0
// §7.4.1) are added, and the event hash leaves both out (CBV 2.0 §8.9), so a
// consumer recomputing the hash gets the eventID. Always_GS1_Digital_Link and
// Always_EPC_URN rewrite identifiers: the bytes change. URN ↔ canonical
// Digital Link is the canonicalisation the hash itself applies, so the hash
// of a translated event is still its eventID for SGTIN, SSCC, SGLN and PGLN
// identifiers, except where a serial needs percent-escapes.
import { digitalLinkToEpc, epcToDigitalLink, Gs1Error } from '@provenant/gs1';
import type { CompanyPrefixLengthOf } from '@provenant/gs1';

/** The values of the GS1-EPC-Format header (EPCIS 2.0 REST binding). */
export const EPC_FORMATS = [
  'No_Preference',
  'Always_GS1_Digital_Link',
  'Always_EPC_URN',
  'Never_Translates',
] as const;
export type EpcFormat = (typeof EPC_FORMATS)[number];

/** The header's value, No_Preference when absent, undefined when it is no EPC format. */
export function parseEpcFormat(header: string | undefined): EpcFormat | undefined {
  if (header === undefined || header === '') return 'No_Preference';
  return (EPC_FORMATS as readonly string[]).includes(header) ? (header as EpcFormat) : undefined;
}

/** True when events are answered with their captured bytes (no identifier is rewritten). */
export function keepsCapturedBytes(format: EpcFormat): boolean {
  return format === 'No_Preference' || format === 'Never_Translates';
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function translateId(
  id: unknown,
  format: EpcFormat,
  prefixLengthOf: CompanyPrefixLengthOf,
): unknown {
  if (typeof id !== 'string') return id;
  try {
    if (format === 'Always_GS1_Digital_Link' && id.startsWith('urn:epc:')) {
      return epcToDigitalLink(id);
    }
    if (format === 'Always_EPC_URN' && /^https?:\/\//.test(id)) {
      return digitalLinkToEpc(id, prefixLengthOf);
    }
  } catch (e) {
    // No form in the other notation (or no known company prefix): kept as written.
    if (e instanceof Gs1Error) return id;
    throw e;
  }
  return id;
}

const EPC_LISTS = ['epcList', 'childEPCs', 'inputEPCList', 'outputEPCList'];
const QUANTITY_LISTS = [
  'quantityList',
  'childQuantityList',
  'inputQuantityList',
  'outputQuantityList',
];

/**
 * The event with its GS1 identifiers (EPC lists, parentID, quantity classes,
 * readPoint, bizLocation, sources and destinations) in the notation `format`
 * asks for. The same object when the format keeps captured bytes. An
 * identifier with no form in the other notation is kept as written.
 */
export function translateEventEpcs(
  event: Json,
  format: EpcFormat,
  prefixLengthOf: CompanyPrefixLengthOf = () => undefined,
): Json {
  if (keepsCapturedBytes(format)) return event;
  const t = (v: unknown) => translateId(v, format, prefixLengthOf);
  const out: Json = { ...event };
  for (const key of EPC_LISTS) {
    if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map(t);
  }
  if (out['parentID'] !== undefined) out['parentID'] = t(out['parentID']);
  for (const key of QUANTITY_LISTS) {
    if (!Array.isArray(out[key])) continue;
    out[key] = (out[key] as unknown[]).map((q) =>
      isObject(q) && q['epcClass'] !== undefined ? { ...q, epcClass: t(q['epcClass']) } : q,
    );
  }
  for (const key of ['readPoint', 'bizLocation']) {
    const loc = out[key];
    if (isObject(loc) && loc['id'] !== undefined) out[key] = { ...loc, id: t(loc['id']) };
  }
  for (const [list, field] of [
    ['sourceList', 'source'],
    ['destinationList', 'destination'],
  ] as const) {
    if (!Array.isArray(out[list])) continue;
    out[list] = (out[list] as unknown[]).map((e) =>
      isObject(e) && e[field] !== undefined ? { ...e, [field]: t(e[field]) } : e,
    );
  }
  return out;
}

/**
 * The event as the query interface answers it: as stored, with `eventID` when
 * it had none, the repository's `recordTime`, and, when it has no @context of
 * its own, the @context of the document it was captured in (all three
 * outside the hash; the @context gives its prefixes, CBV 2.0 §8.9).
 */
export function answeredEvent(
  stored: Json,
  eventID: string,
  recordTime: string,
  context?: unknown,
): Json {
  const out: Json = { ...stored };
  if (out['eventID'] === undefined) out['eventID'] = eventID;
  if (out['recordTime'] === undefined) out['recordTime'] = recordTime;
  if (out['@context'] === undefined && context !== undefined && context !== null) {
    out['@context'] = context;
  }
  return out;
}

/**
 * {@link answeredEvent} on the stored JSON text, keeping its bytes: what is
 * missing is written after the opening brace and nothing else is touched (a
 * recordTime the event was captured with stays).
 * @throws TypeError when the text is no JSON object.
 */
export function answeredEventText(
  stored: string,
  eventID: string,
  recordTime: string,
  context?: unknown,
): string {
  const parsed: unknown = JSON.parse(stored);
  const text = stored.trim();
  if (!isObject(parsed) || !text.startsWith('{')) {
    throw new TypeError('a stored event is a JSON object');
  }
  const added: string[] = [];
  if (parsed['@context'] === undefined && context !== undefined && context !== null) {
    added.push(`"@context":${JSON.stringify(context)}`);
  }
  if (parsed['eventID'] === undefined) added.push(`"eventID":${JSON.stringify(eventID)}`);
  if (parsed['recordTime'] === undefined) added.push(`"recordTime":${JSON.stringify(recordTime)}`);
  if (added.length === 0) return text;
  const rest = text.slice(1);
  return `{${added.join(',')}${/^\s*}$/.test(rest) ? '' : ','}${rest}`;
}

/** The EPCIS 2.0 JSON-LD context every answer starts with. */
export const EPCIS_CONTEXT_URL = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

export interface QueryDocumentInput {
  /** The events, as answered (see {@link answeredEvent}, {@link translateEventEpcs}). */
  readonly events: readonly Json[];
  /** eventID → the ids of the custody records the event produced. */
  readonly records: Readonly<Record<string, readonly string[]>>;
  /** ISO time the document is made (passed in: core reads no clock). */
  readonly creationDate: string;
}

const EVENTS_SLOT = '"provenant:eventList-slot"';

/**
 * {@link epcisQueryDocument} as JSON text, the events spliced in as the
 * texts given (see {@link answeredEventText}) so that their bytes are kept.
 */
export function epcisQueryDocumentText(
  input: Omit<QueryDocumentInput, 'events'> & { readonly eventTexts: readonly string[] },
): string {
  const doc = JSON.stringify(
    epcisQueryDocument({ ...input, events: [JSON.parse(EVENTS_SLOT) as unknown as Json] }),
  );
  const i = doc.lastIndexOf(EVENTS_SLOT);
  return `${doc.slice(0, i)}${input.eventTexts.join(',')}${doc.slice(i + EVENTS_SLOT.length)}`;
}

/**
 * The EPCISQueryDocument of a SimpleEventQuery (EPCIS 2.0 §8.2.7, JSON-LD
 * binding), with the document-level `provenant:records` map from each
 * eventID to its record ids (each record's proof is then one call away).
 */
export function epcisQueryDocument(input: QueryDocumentInput): Json {
  return {
    // Only the standard context: each event carries the prefixes its hash was
    // computed with (its own @context), which a document-wide map could contradict.
    '@context': [EPCIS_CONTEXT_URL],
    type: 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate: input.creationDate,
    'provenant:records': input.records,
    epcisBody: {
      queryResults: {
        queryName: 'SimpleEventQuery',
        resultsBody: { eventList: input.events },
      },
    },
  };
}
