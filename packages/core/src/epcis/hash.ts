// EPCIS 2.0 event hash ID (CBV 2.0 §8.9, "ni:///sha-256;…?ver=CBV2.0"), as
// the reference generator RalphTro/epcis-event-hash-generator computes it for
// JSON-LD: the event becomes a tree of (name, value, children) in the XML
// data model; the properties the CBV names are written in its fixed order,
// everything else (ilmd, business transactions, sources, destinations, user
// extensions) after them, sorted; values are canonicalised
// (canonical-values.ts) and the pieces joined without separators.
import { sha256Hex } from '../hash.js';
import { canonicalNumber, canonicalTime, canonicalValue } from './canonical-values.js';

/** What the hash needs from the document around an event. */
export interface EpcisHashContext {
  /** The document's `@context` (namespace prefixes of extension fields and CURIEs). */
  readonly '@context'?: unknown;
  /** Event keys the document asks to leave out (`<prefix>:ignoreFields`). */
  readonly ignoreFields?: readonly string[];
  /**
   * Web vocabulary URIs the JSON-LD expansion of the whole document yields;
   * bare strings anywhere in the event that name exactly one of them are
   * replaced by it. Defaults to the event's own vocabulary.
   */
  readonly vocabulary?: ReadonlySet<string>;
}

type Node = { name: string; text: string; children: Node[] };
type Order = readonly (readonly [string, Order?])[];

const CBV = 'https://ref.gs1.org/cbv/';
const GS1_VOC = 'https://gs1.org/voc/';

const QUANTITY: Order = [['epcClass'], ['quantity'], ['uom']];
const SENSOR_METADATA: Order = [
  'time',
  'startTime',
  'endTime',
  'deviceID',
  'deviceMetadata',
  'rawData',
  'dataProcessingMethod',
  'bizRules',
].map((n) => [n] as const);
const SENSOR_REPORT: Order = [
  'type',
  'exception',
  'deviceID',
  'deviceMetadata',
  'rawData',
  'dataProcessingMethod',
  'time',
  'microorganism',
  'chemicalSubstance',
  'value',
  'component',
  'stringValue',
  'booleanValue',
  'hexBinaryValue',
  'uriValue',
  'minValue',
  'maxValue',
  'meanValue',
  'sDev',
  'percRank',
  'percValue',
  'uom',
  'coordinateReferenceSystem',
].map((n) => [n] as const);

// CBV §8.9.2 canonical property order (after eventType).
const EVENT_ORDER: Order = [
  ['eventTime'],
  ['eventTimeZoneOffset'],
  ['certificationInfo'],
  ['parentID'],
  ['epcList', [['epc']]],
  ['inputEPCList', [['epc']]],
  ['childEPCs', [['epc']]],
  ['quantityList', [['quantityElement', QUANTITY]]],
  ['childQuantityList', [['quantityElement', QUANTITY]]],
  ['inputQuantityList', [['quantityElement', QUANTITY]]],
  ['outputEPCList', [['epc']]],
  ['outputQuantityList', [['quantityElement', QUANTITY]]],
  ['action'],
  ['transformationID'],
  ['bizStep'],
  ['disposition'],
  ['persistentDisposition', [['set'], ['unset']]],
  ['readPoint', [['id']]],
  ['bizLocation', [['id']]],
  [
    'sensorElementList',
    [
      [
        'sensorElement',
        [
          ['sensorMetadata', SENSOR_METADATA],
          ['sensorReport', SENSOR_REPORT],
        ],
      ],
    ],
  ],
];

// Never part of the hash: the event's identity and repository bookkeeping.
const IGNORED_EVENT_KEYS = new Set([
  'type',
  'eventID',
  'recordTime',
  'errorDeclaration',
  '@context',
]);
const IGNORED_KEYS = new Set(['#text', 'rdfs:comment', 'comment']);
// Lists whose entries are written type first: "type=<type><name>=<value>".
const TYPED_ENTRIES = new Set(['bizTransaction', 'source', 'destination']);

const SURROGATE = /[\uD800-\uDFFF]/;

/** Python's string order (code points), which the reference sorts with. */
function byCodePoint(a: string, b: string): number {
  // UTF-16 order is code point order unless a surrogate pair is involved.
  if (!SURROGATE.test(a) && !SURROGATE.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

function sortedJoin(values: string[]): string {
  return values.sort(byCodePoint).join('');
}

// --- JSON-LD in, tree out --------------------------------------------------

type Namespaces = ReadonlyMap<string, string>;

/** Prefixes declared in a JSON-LD `@context` (array of IRIs and term maps). */
function namespacesOf(context: unknown): Namespaces {
  const out = new Map<string, string>();
  const entries = Array.isArray(context) ? context : [context];
  for (const entry of entries) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) continue;
    for (const [prefix, def] of Object.entries(entry as Record<string, unknown>)) {
      const iri =
        typeof def === 'string'
          ? def
          : def !== null && typeof def === 'object'
            ? (def as Record<string, unknown>)['@id']
            : undefined;
      if (typeof iri === 'string') out.set(prefix, iri);
    }
  }
  return out;
}

// Extension keys are written {namespace}localName, as in the XML binding.
function expandKey(key: string, ns: Namespaces): string {
  const colon = key.indexOf(':');
  const iri = colon > 0 ? ns.get(key.slice(0, colon)) : undefined;
  return iri === undefined ? key : `{${iri}}${key.slice(colon + 1)}`;
}

// Only CURIEs of GS1 vocabularies are expanded in values (user CURIEs stay).
function expandValue(value: string, ns: Namespaces): string {
  const colon = value.indexOf(':');
  const iri = colon > 0 ? ns.get(value.slice(0, colon)) : undefined;
  if (
    iri !== undefined &&
    (iri.startsWith('https://ref.gs1.org') || iri.startsWith('https://gs1.org'))
  ) {
    return iri + value.slice(colon + 1);
  }
  return value;
}

function primitiveText(value: unknown, ns: Namespaces): string {
  if (typeof value === 'string') return expandValue(value, ns);
  if (typeof value === 'number') return canonicalNumber(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return 'None';
}

function toNodes(key: string, value: unknown, ns: Namespaces): Node[] {
  const name = expandKey(key, ns);
  if (Array.isArray(value)) return value.flatMap((v) => toNodes(key, v, ns));
  if (value !== null && typeof value === 'object') {
    return [correct({ name, text: '', children: objectChildren(value as object, ns) })];
  }
  return [{ name, text: primitiveText(value, ns), children: [] }];
}

function objectChildren(obj: object, ns: Namespaces, skip?: (key: string) => boolean): Node[] {
  const children: Node[] = [];
  for (const [key, value] of Object.entries(obj)) {
    if (IGNORED_KEYS.has(key) || key.startsWith('@xmlns') || skip?.(key)) continue;
    children.push(...toNodes(key, value, ns));
  }
  return groupLists(children);
}

// JSON writes lists as arrays where XML repeats a child element: `epcList:
// [a, b]` is <epcList><epc>a</epc><epc>b</epc></epcList>.
function groupLists(children: Node[]): Node[] {
  const out: Node[] = [];
  const lists = new Map<string, Node>();
  const childEpcs: Node[] = [];
  for (const child of children) {
    if (child.name.endsWith('List')) {
      let list = lists.get(child.name);
      if (!list) {
        list = { name: child.name, text: '', children: [] };
        lists.set(child.name, list);
        out.push(list);
      }
      list.children.push(correct({ ...child, name: child.name.slice(0, -4) }));
    } else if (child.name === 'childEPCs') {
      childEpcs.push({ name: 'epc', text: child.text, children: [] });
    } else out.push(child);
  }
  if (childEpcs.length > 0) out.push({ name: 'childEPCs', text: '', children: childEpcs });
  return out;
}

// Element names where the JSON and XML bindings differ (EPCIS 2.0 §12).
function correct(node: Node): Node {
  const { name, children } = node;
  if ((name === 'readPoint' || name === 'bizLocation') && node.text !== '') {
    return {
      name,
      text: '',
      children: [{ name: 'id', text: node.text, children: [] }, ...children],
    };
  }
  if (TYPED_ENTRIES.has(name)) {
    const inner = children.find((c) => c.name === name);
    if (inner) return { name, text: inner.text, children: children.filter((c) => c !== inner) };
  }
  if (name === 'inputEPC' || name === 'outputEPC') return { ...node, name: 'epc' };
  if (
    name === 'inputQuantity' ||
    name === 'outputQuantity' ||
    name === 'childQuantity' ||
    (name === 'quantity' && children.length > 0)
  ) {
    return { ...node, name: 'quantityElement' };
  }
  return node;
}

// --- tree out, pre-hash string out ------------------------------------------

function isTimeName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.includes('time') && !lower.includes('offset');
}

function valueText(node: Node, asTime: boolean): string {
  const text = node.text.trim();
  if (text === '') return '';
  const value = asTime && isTimeName(node.name) ? canonicalTime(text) : canonicalValue(text);
  return value === '' ? '' : `=${value}`;
}

function orderedElement(node: Node, sub: Order | undefined): string {
  const text = valueText(node, true);
  const inner = sub === undefined ? generic(node.children) : ordered(node.children, sub);
  return text !== '' || inner !== '' ? node.name + text + inner : '';
}

// The named properties in order, then whatever else the element holds.
function ordered(children: readonly Node[], order: Order): string {
  let out = '';
  const used = new Set<Node>();
  for (const [name, sub] of order) {
    const values: string[] = [];
    for (const child of children) {
      if (child.name !== name) continue;
      used.add(child);
      const s = orderedElement(child, sub);
      if (s !== '') values.push(s);
    }
    out += sortedJoin(values);
  }
  return out + generic(children.filter((c) => !used.has(c)));
}

function typedEntry(entry: Node): string {
  const type = entry.children.find((c) => c.name === 'type');
  const rest = entry.children.filter((c) => c !== type);
  const typeText = type ? `type${valueText(type, false)}` : '';
  return typeText + entry.name + valueText(entry, false) + generic(rest);
}

function genericNode(node: Node): string {
  if (node.children.length > 0 && node.children.every((c) => TYPED_ENTRIES.has(c.name))) {
    return node.name + valueText(node, false) + sortedJoin(node.children.map(typedEntry));
  }
  return node.name + valueText(node, false) + generic(node.children);
}

function generic(children: readonly Node[]): string {
  return sortedJoin(children.map(genericNode));
}

// --- bare strings (JSON-LD @vocab terms) -----------------------------------

// Where the EPCIS 2.0 JSON-LD context types a value as a vocabulary term, and
// the vocabulary a bare term expands into.
function vocabularyTerms(event: Record<string, unknown>): [unknown, string][] {
  const terms: [unknown, string][] = [
    [event['bizStep'], `${CBV}BizStep-`],
    [event['disposition'], `${CBV}Disp-`],
  ];
  const pd = event['persistentDisposition'];
  if (isObject(pd)) {
    for (const v of asArray(pd['set'])) terms.push([v, `${CBV}Disp-`]);
    for (const v of asArray(pd['unset'])) terms.push([v, `${CBV}Disp-`]);
  }
  for (const e of asArray(event['bizTransactionList']))
    if (isObject(e)) terms.push([e['type'], `${CBV}BTT-`]);
  for (const list of ['sourceList', 'destinationList']) {
    for (const e of asArray(event[list])) if (isObject(e)) terms.push([e['type'], `${CBV}SDT-`]);
  }
  const err = event['errorDeclaration'];
  if (isObject(err)) terms.push([err['reason'], `${CBV}ER-`]);
  for (const el of asArray(event['sensorElementList'])) {
    if (!isObject(el)) continue;
    for (const r of asArray(el['sensorReport'])) {
      if (!isObject(r)) continue;
      terms.push([r['type'], GS1_VOC], [r['exception'], GS1_VOC], [r['component'], `${CBV}Comp-`]);
    }
  }
  return terms;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined ? [] : [v];
}

/**
 * The web vocabulary URIs that JSON-LD expansion gives the vocabulary-typed
 * values of `events` (bizStep, disposition, business transaction, source and
 * destination types, sensor types ...), for {@link EpcisHashContext.vocabulary}.
 */
export function epcisVocabulary(events: readonly unknown[]): Set<string> {
  const out = new Set<string>();
  for (const event of events) {
    if (!isObject(event)) continue;
    for (const [value, vocab] of vocabularyTerms(event)) {
      if (typeof value !== 'string') continue;
      if (!value.includes(':')) out.add(vocab + value);
      else if (
        value.startsWith(CBV) ||
        value.startsWith(GS1_VOC) ||
        value.startsWith('https://ref.gs1.org/voc')
      ) {
        out.add(value);
      }
    }
  }
  return out;
}

// The reference replaces every string that names exactly one expanded term.
function replaceBare(value: unknown, vocabulary: readonly string[]): unknown {
  if (typeof value === 'string') {
    const hits = vocabulary.filter((v) => v.endsWith(`-${value}`) || v.endsWith(`/${value}`));
    return hits.length === 1 ? hits[0] : value;
  }
  if (Array.isArray(value)) return value.map((v) => replaceBare(v, vocabulary));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = replaceBare(v, vocabulary);
    return out;
  }
  return value;
}

// --- public API --------------------------------------------------------------

/**
 * The canonical pre-hash string of one EPCIS 2.0 JSON-LD event (CBV §8.9.2).
 * `context` carries the document's `@context` (else the event's own), its
 * ignore list and the document-wide vocabulary.
 * @throws TypeError when `event` is not an object with a string `type`.
 */
export function epcisEventPrehash(event: unknown, context: EpcisHashContext = {}): string {
  if (!isObject(event) || typeof event['type'] !== 'string') {
    throw new TypeError('an EPCIS event is an object with a string "type"');
  }
  // JSON-LD scoping: an event's own @context extends the document's (its prefixes win).
  const ns = namespacesOf([...asArray(context['@context']), ...asArray(event['@context'])]);
  const vocabulary = [...(context.vocabulary ?? epcisVocabulary([event]))];
  const expanded = replaceBare(event, vocabulary) as Record<string, unknown>;
  const ignored = new Set(context.ignoreFields ?? []);
  const skip = (key: string): boolean =>
    IGNORED_EVENT_KEYS.has(key) || ignored.has(key) || ignored.has(expandKey(key, ns));
  const children = objectChildren(expanded, ns, skip);
  return `eventType=${event['type']}` + ordered(children, EVENT_ORDER);
}

/**
 * The EPCIS 2.0 event hash ID `ni:///sha-256;<hex>?ver=CBV2.0` of one event
 * (CBV §8.9): SHA-256 of the UTF-8 pre-hash string.
 * @throws TypeError as {@link epcisEventPrehash}.
 */
export function epcisEventHash(event: unknown, context: EpcisHashContext = {}): string {
  return `ni:///sha-256;${sha256Hex(epcisEventPrehash(event, context))}?ver=CBV2.0`;
}

/**
 * The events of an EPCISDocument or EPCISQueryDocument in document order,
 * with the hash context the document gives them (its `@context`, its
 * `ignoreFields` and its vocabulary).
 * @throws TypeError when the document has no event list.
 */
export function epcisDocumentEvents(doc: unknown): {
  events: unknown[];
  context: EpcisHashContext;
} {
  const body = isObject(doc) ? doc['epcisBody'] : undefined;
  if (!isObject(doc) || !isObject(body)) throw new TypeError('an EPCIS document has an epcisBody');
  const results = body['queryResults'];
  const list = Array.isArray(body['eventList'])
    ? body['eventList']
    : isObject(results) && isObject(results['resultsBody'])
      ? results['resultsBody']['eventList']
      : body['event'] !== undefined
        ? [body['event']]
        : undefined;
  if (!Array.isArray(list)) throw new TypeError('an EPCIS document has an event list');
  // The ignore list may sit on the document, its body or its query results.
  const ignoreFields: string[] = [];
  for (const holder of [doc, body, results]) {
    if (!isObject(holder)) continue;
    for (const [key, value] of Object.entries(holder)) {
      if (/(^|:)ignoreFields$/.test(key) && Array.isArray(value)) {
        ignoreFields.push(...value.filter((v): v is string => typeof v === 'string'));
      }
    }
  }
  return {
    events: list,
    context: { '@context': doc['@context'], ignoreFields, vocabulary: epcisVocabulary(list) },
  };
}
