// GS1 Digital Link URI syntax (GS1 Digital Link Standard: URI Syntax 1.x):
// http(s)://any-host/optional/stem/<key AI>/<key>/<qualifier AI>/<value>...?<attr AI>=<value>
// Uncompressed form only; compressed DL is not supported.

import { checkMessage, getAiDefinition, validateAiValue } from './ai.js';
import type { AiValue } from './ai.js';
import { normalizeGtin } from './check-digit.js';
import { partsToElements } from './element-string.js';
import type { Gs1Parts } from './element-string.js';
import { Gs1Error } from './errors.js';
import { decodePercent, encodeRfc3986 } from './percent.js';

/** Short names of DL URI Syntax §6 (path keys, qualifiers and the `exp` attribute). */
export const DL_SHORT_NAMES: Readonly<Record<string, string>> = {
  '00': 'sscc',
  '01': 'gtin',
  '10': 'lot',
  '17': 'exp',
  '21': 'ser',
  '22': 'cpv',
  '253': 'gdti',
  '254': 'glnx',
  '255': 'gcn',
  '401': 'ginc',
  '402': 'gsin',
  '410': 'shipTo',
  '411': 'billTo',
  '412': 'purchasedFrom',
  '413': 'shipFor',
  '414': 'gln',
  '415': 'payTo',
  '416': 'glnProd',
  '417': 'party',
  '8003': 'grai',
  '8004': 'giai',
  '8006': 'itip',
  '8010': 'cpid',
  '8011': 'cpsn',
  '8013': 'gmn',
  '8017': 'gsrnp',
  '8018': 'gsrn',
  '8019': 'srin',
  '8020': 'refno',
};
const SHORT_NAME_TO_AI = new Map(Object.entries(DL_SHORT_NAMES).map(([ai, s]) => [s, ai]));

// Primary keys of earlier DL releases that the current dictionary no longer
// marks `dlpkey`; resolvers and the GS1 vectors still use them, without qualifiers.
const LEGACY_PRIMARY_KEYS: ReadonlySet<string> = new Set(['410', '411', '412', '413', '416']);

/** Ordered qualifier sequences allowed after primary key `ai`, or undefined when `ai` is no key. */
export function dlQualifierSequences(ai: string): readonly (readonly string[])[] | undefined {
  const def = getAiDefinition(ai);
  if (def?.dlPrimaryKey) return def.dlPrimaryKey;
  return LEGACY_PRIMARY_KEYS.has(ai) ? [[]] : undefined;
}

function segmentAi(segment: string): string | undefined {
  if (/^\d{2,4}$/.test(segment)) return getAiDefinition(segment) ? segment : undefined;
  return SHORT_NAME_TO_AI.get(segment);
}

const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#[\s\S]*)?$/;
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+)(?::\d{0,5})?$/;

// A dot segment, also percent-encoded (RFC 3986 §3.3, §2.3: %2E is ".").
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

// DESIGN §3 "exact, not lenient": a resolver would remove dot segments
// (RFC 3986 §5.2.4) and could collapse empty ones, so such a path may identify
// something else on the way than what it spells: refuse, never normalise.
function checkSegments(segments: readonly string[]): void {
  segments.forEach((segment, i) => {
    if (DOT_SEGMENT.test(segment))
      throw new Gs1Error(
        'BAD_DIGITAL_LINK',
        `dot segment ${JSON.stringify(segment)} in the Digital Link path (segment ${i + 1}) is refused`,
      );
    if (segment === '')
      throw new Gs1Error(
        'BAD_DIGITAL_LINK',
        `empty segment in the Digital Link path (segment ${i + 1}: "//" or a trailing "/") is refused`,
      );
  });
}

/** True when the input looks like an http(s) URI (dispatch helper for parseScan). */
export function looksLikeDigitalLink(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

/**
 * Parses an uncompressed GS1 Digital Link URI on any host: the primary key and
 * its qualifiers from the path (numeric AIs or short names, in the order the
 * dictionary's `dlpkey` allows), data attributes from the query (other query
 * parameters are ignored). A path with a dot segment (`.`, `..`, also as
 * `%2E`) or an empty segment (`//`, a trailing `/`) is refused. Values are percent-decoded and validated; a GTIN-8/
 * 12/13 key is padded to 14 digits.
 * @throws Gs1Error BAD_DIGITAL_LINK, NO_KEY, BAD_QUALIFIER, or any value rule.
 */
export function parseDigitalLink(uri: string): AiValue[] {
  if (typeof uri !== 'string') throw new Gs1Error('BAD_INPUT', 'Digital Link must be a string');
  const m = URI.exec(uri);
  if (!m) throw new Gs1Error('BAD_DIGITAL_LINK', 'not an absolute http(s) URI');
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new Gs1Error(
      'BAD_DIGITAL_LINK',
      `Digital Link scheme must be http or https, got ${scheme}`,
    );
  }
  if (!AUTHORITY.test(m[2]!)) throw new Gs1Error('BAD_DIGITAL_LINK', 'bad host in Digital Link');
  // A bare "/" (or no path) is the root, not an empty segment: it has no key.
  const segments = m[3] === '/' ? [] : m[3]!.split('/').slice(1);
  checkSegments(segments);

  // The key is the leftmost segment that starts a run of AI/value pairs to the
  // end of the path; anything before it is the resolver's stem. pairsFrom[i]:
  // segments i, i+2, ... are all AIs (computed right to left: linear time on
  // attacker-controlled paths).
  const n = segments.length;
  const pairsFrom: boolean[] = new Array<boolean>(n + 2).fill(true);
  for (let i = n - 1; i >= 0; i--) {
    pairsFrom[i] = segmentAi(segments[i]!) !== undefined && pairsFrom[i + 2]!;
  }
  let keyAt = -1;
  for (let i = 0; i + 1 < n; i++) {
    if ((n - i) % 2 !== 0 || !pairsFrom[i]) continue;
    if (dlQualifierSequences(segmentAi(segments[i]!)!)) {
      keyAt = i;
      break;
    }
  }
  if (keyAt < 0) {
    throw new Gs1Error('NO_KEY', 'no GS1 primary key (e.g. /01/<gtin>) in the Digital Link path');
  }

  const path: AiValue[] = [];
  for (let j = keyAt; j < segments.length; j += 2) {
    const ai = segmentAi(segments[j]!)!;
    const raw = segments[j + 1]!;
    if (raw === '') throw new Gs1Error('BAD_DIGITAL_LINK', `empty value for AI (${ai})`, ai);
    let value = decodePercent(raw, 'BAD_DIGITAL_LINK', ai);
    // DL URI Syntax §4.1: a GTIN-8/12/13 in the path stands for its GTIN-14.
    if (ai === '01' && /^\d{8}$|^\d{12,13}$/.test(value)) value = normalizeGtin(value);
    path.push({ ai, value });
  }
  checkQualifiers(
    path[0]!.ai,
    path.slice(1).map((e) => e.ai),
  );

  const query: AiValue[] = [];
  for (const param of (m[4] ?? '').split('&')) {
    if (param === '') continue;
    const eq = param.indexOf('=');
    const name = decodePercent(eq < 0 ? param : param.slice(0, eq), 'BAD_DIGITAL_LINK');
    const ai = segmentAi(name);
    if (ai === undefined) continue; // not GS1 data (e.g. linkType): ignored per DL §4.5
    const def = getAiDefinition(ai)!;
    if (!def.dlDataAttribute) {
      throw new Gs1Error(
        'BAD_DIGITAL_LINK',
        `AI (${ai}) is not a data attribute: as a key or key qualifier it belongs in the path`,
        ai,
      );
    }
    const value = decodePercent(eq < 0 ? '' : param.slice(eq + 1), 'BAD_DIGITAL_LINK', ai);
    query.push({ ai, value });
  }

  const all = [...path, ...query];
  for (const e of all) validateAiValue(e.ai, e.value);
  return checkMessage(all);
}

function fitsSequence(
  sequences: readonly (readonly string[])[],
  qualifiers: readonly string[],
): boolean {
  return sequences.some((seq) => {
    let at = 0;
    for (const q of qualifiers) {
      const idx = seq.indexOf(q, at);
      if (idx < 0) return false;
      at = idx + 1;
    }
    return true;
  });
}

// DL URI Syntax §4.3 / dictionary `dlpkey=`: qualifiers are optional but, when
// present, come from one allowed sequence and in its order.
function checkQualifiers(key: string, qualifiers: readonly string[]): void {
  const sequences = dlQualifierSequences(key)!;
  if (fitsSequence(sequences, qualifiers)) return;
  let k = 1;
  while (fitsSequence(sequences, qualifiers.slice(0, k))) k++;
  const culprit = qualifiers[k - 1]!;
  const allowed = sequences.map((s) => s.join(',') || '(none)').join(' or ');
  throw new Gs1Error(
    'BAD_QUALIFIER',
    sequences.some((seq) => seq.includes(culprit))
      ? `key qualifiers of (${key}) must appear in the order ${allowed}; (${culprit}) is out of order`
      : `AI (${culprit}) is not a key qualifier of (${key}); allowed: ${allowed}`,
    culprit,
  );
}

const STEM =
  /^(https?):\/\/((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(?::(\d{1,5}))?((?:\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+)*)\/?$/i;

/**
 * Validates a Digital Link URI stem (scheme, host, optional port and path) and
 * returns it normalised: lowercase scheme and host, default port and trailing
 * slash removed.
 * @throws Gs1Error BAD_URI_STEM.
 */
export function normalizeUriStem(stem: string): string {
  const m = typeof stem === 'string' ? STEM.exec(stem) : null;
  const port = m?.[3] === undefined ? undefined : Number(m[3]);
  if (!m || (port !== undefined && (port < 1 || port > 65535))) {
    throw new Gs1Error(
      'BAD_URI_STEM',
      `the Digital Link URI stem ${JSON.stringify(stem)} is invalid`,
    );
  }
  const scheme = m[1]!.toLowerCase();
  const defaultPort = scheme === 'https' ? 443 : 80;
  const portPart = port === undefined || port === defaultPort ? '' : `:${port}`;
  return `${scheme}://${m[2]!.toLowerCase()}${portPart}${m[4]}`;
}

// A value spelled "." or ".." is a dot segment in a path (percent-encoding it
// does not help: %2E is "."), which parseDigitalLink refuses: say so here.
function pathValue(e: AiValue): string {
  if (e.value === '.' || e.value === '..')
    throw new Gs1Error(
      'BAD_DIGITAL_LINK',
      `AI (${e.ai}) value ${JSON.stringify(e.value)} would be a dot segment in a Digital Link path`,
      e.ai,
    );
  return encodeRfc3986(e.value);
}

/** Options for {@link formatDigitalLink}. */
export interface FormatDigitalLinkOptions {
  /** Use DL short names (gtin, lot, ser, exp, ...) instead of numeric AIs. Default false. */
  readonly shortNames?: boolean;
}

/**
 * Formats a GS1 Digital Link URI: the primary key (01 preferred) and its
 * qualifiers in `dlpkey` order in the path, other data attributes (e.g. 17) in
 * the query, every value percent-encoded per RFC 3986.
 * @throws Gs1Error NO_KEY, BAD_URI_STEM, BAD_DIGITAL_LINK (an AI that is neither
 * qualifier nor data attribute, or a path value "." or ".."), or any value rule.
 */
export function formatDigitalLink(
  input: Gs1Parts | readonly AiValue[],
  stem = 'https://id.gs1.org',
  options: FormatDigitalLinkOptions = {},
): string {
  const base = normalizeUriStem(stem);
  const elements = checkMessage(
    (Array.isArray(input) ? input : partsToElements(input as Gs1Parts)).map((e) =>
      e.ai === '01' && /^\d{8}$|^\d{12,13}$/.test(e.value)
        ? { ai: e.ai, value: normalizeGtin(e.value) }
        : e,
    ),
  );
  for (const e of elements) validateAiValue(e.ai, e.value);
  const keys = elements.filter((e) => dlQualifierSequences(e.ai));
  const key = keys.find((e) => e.ai === '01') ?? keys[0];
  if (!key) throw new Gs1Error('NO_KEY', 'no GS1 primary key to build a Digital Link from');
  const present = new Set(elements.map((e) => e.ai));
  // Of the allowed qualifier sequences, take the one covering most of the data.
  const sequences = dlQualifierSequences(key.ai)!;
  let best = sequences[0]!;
  for (const seq of sequences) {
    if (seq.filter((q) => present.has(q)).length > best.filter((q) => present.has(q)).length) {
      best = seq;
    }
  }
  const name = (ai: string): string => (options.shortNames ? (DL_SHORT_NAMES[ai] ?? ai) : ai);
  const byAi = new Map(elements.map((e) => [e.ai, e.value]));
  let path = `/${name(key.ai)}/${pathValue(key)}`;
  const used = new Set([key.ai]);
  for (const q of best) {
    const value = byAi.get(q);
    if (value === undefined) continue;
    path += `/${name(q)}/${pathValue({ ai: q, value })}`;
    used.add(q);
  }
  const query: string[] = [];
  for (const e of elements) {
    if (used.has(e.ai)) continue;
    if (!getAiDefinition(e.ai)!.dlDataAttribute) {
      throw new Gs1Error(
        'BAD_DIGITAL_LINK',
        `AI (${e.ai}) is neither a qualifier of (${key.ai}) nor a Digital Link data attribute`,
        e.ai,
      );
    }
    query.push(`${name(e.ai)}=${encodeRfc3986(e.value)}`);
  }
  return base + path + (query.length > 0 ? `?${query.join('&')}` : '');
}
