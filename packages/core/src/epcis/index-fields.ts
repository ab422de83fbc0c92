// The query index of a stored EPCIS 2.0 event (DESIGN §11; columns of
// epcis_events, migration 000011): what GET /epcis/events filters on, with
// every identifier and vocabulary value in one form, so a query given an EPC
// URN finds an event captured with a Digital Link and the other way round.
import { Gs1Error, parseDigitalLink, parseEpcUri, parseScan } from '@provenant/gs1';

type Json = Record<string, unknown>;

/** The filterable fields of one event. */
export interface EpcisEventIndex {
  eventType: string;
  action: string | null;
  /** CBV bare term when the value is a CBV term in any form, else as captured. */
  bizStep: string | null;
  disposition: string | null;
  /** {@link epcisLocationKey} of bizLocation.id. */
  bizLocation: string | null;
  /** UTC, millisecond precision. */
  eventTime: string;
  /** §3 subjects (else the EPC as captured) of epcList and childEPCs. */
  epcs: string[];
  parentId: string | null;
  /** epcs and parentId together. */
  subjects: string[];
}

const VOCABS = ['BizStep', 'Disp', 'BTT', 'SDT'] as const;
const URN: Record<(typeof VOCABS)[number], string> = {
  BizStep: 'bizstep',
  Disp: 'disp',
  BTT: 'btt',
  SDT: 'sdt',
};

/**
 * A CBV 2.0 vocabulary value (CBV §7) as its bare term: `commissioning` for
 * `https://ref.gs1.org/cbv/BizStep-commissioning`,
 * `urn:epcglobal:cbv:bizstep:commissioning` or `commissioning`; any other
 * string as given, a non-string as undefined.
 */
export function cbvTerm(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  for (const vocab of VOCABS) {
    for (const prefix of [
      `https://ref.gs1.org/cbv/${vocab}-`,
      `https://gs1.org/voc/${vocab}-`,
      `urn:epcglobal:cbv:${URN[vocab]}:`,
    ]) {
      if (value.startsWith(prefix)) return value.slice(prefix.length);
    }
  }
  return value;
}

/** The GS1 elements of an EPC URN or a Digital Link, or undefined when it is neither. */
function elementsOf(id: string): { ai: string; value: string }[] | undefined {
  try {
    return id.startsWith('urn:epc:') ? parseEpcUri(id) : parseDigitalLink(id);
  } catch (e) {
    if (e instanceof Gs1Error) return undefined;
    throw e;
  }
}

/**
 * A location or party id (urn:epc:id:sgln / pgln, Digital Link 414[/254] or
 * 417) as its GS1 path `414/<gln>`, `414/<gln>/254/<ext>` or `417/<gln>`; any
 * other string as given.
 */
export function epcisLocationKey(id: string): string {
  const els = elementsOf(id);
  const gln = els?.find((e) => e.ai === '414' || e.ai === '417');
  if (!els || !gln) return id;
  const ext = els.find((e) => e.ai === '254');
  return ext ? `${gln.ai}/${gln.value}/254/${ext.value}` : `${gln.ai}/${gln.value}`;
}

/** The GLN a location or party id names (SGLN extension ignored), or undefined. */
export function epcisGlnOf(id: unknown): string | undefined {
  if (typeof id !== 'string') return undefined;
  return elementsOf(id)?.find((e) => e.ai === '414' || e.ai === '417')?.value;
}

/** An EPC (URN or Digital Link) as its DESIGN §3 subject; any other string as given. */
export function epcisSubjectKey(epc: string): string {
  try {
    return parseScan(epc).subject;
  } catch (e) {
    if (e instanceof Gs1Error) return epc;
    throw e;
  }
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * The index fields of an event (any EPCIS 2.0 event object; fields it lacks
 * are null or empty). Pure; never throws for odd values.
 */
export function epcisEventIndex(event: Json): EpcisEventIndex {
  const epcs = [...strings(event['epcList']), ...strings(event['childEPCs'])].map(epcisSubjectKey);
  const parent = typeof event['parentID'] === 'string' ? epcisSubjectKey(event['parentID']) : null;
  const loc = event['bizLocation'];
  const locId =
    loc !== null && typeof loc === 'object' && typeof (loc as Json)['id'] === 'string'
      ? ((loc as Json)['id'] as string)
      : null;
  const time = typeof event['eventTime'] === 'string' ? Date.parse(event['eventTime']) : NaN;
  return {
    eventType: typeof event['type'] === 'string' ? event['type'] : '',
    action: typeof event['action'] === 'string' ? event['action'] : null,
    bizStep: cbvTerm(event['bizStep']) ?? null,
    disposition: cbvTerm(event['disposition']) ?? null,
    bizLocation: locId === null ? null : epcisLocationKey(locId),
    eventTime: Number.isNaN(time) ? new Date(0).toISOString() : new Date(time).toISOString(),
    epcs,
    parentId: parent,
    subjects: parent === null ? [...new Set(epcs)] : [...new Set([...epcs, parent])],
  };
}
