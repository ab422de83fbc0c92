// EPC pure-identity URIs (GS1 EPC Tag Data Standard §6.3): sgtin, sscc, sgln, pgln.
// The company prefix length is carried by the "." split, so the GS1 keys can
// be rebuilt: indicator/extension digit + company prefix + reference + check digit.

import { checkMessage, isCset82, validateAiValue } from './ai.js';
import type { AiValue } from './ai.js';
import { gs1CheckDigit, normalizeGtin } from './check-digit.js';
import { Gs1Error } from './errors.js';
import { parseDigitalLink } from './digital-link.js';
import { decodePercent } from './percent.js';

/** True when the input is an EPC URI (dispatch helper for parseScan). */
export function looksLikeEpcUri(input: string): boolean {
  return /^urn:epc:/i.test(input);
}

// TDS §6.3 "GS3A3" characters: CSET 82 written with %-escapes for " % & / < > ?
// (and allowed as escapes for any character); we decode then require CSET 82.
function decodeEpcComponent(raw: string, ai: string): string {
  if (raw === '') throw new Gs1Error('BAD_EPC_URI', `empty EPC component for AI (${ai})`, ai);
  if (/["&/<>?]/.test(raw) || /%(?![0-9A-Fa-f]{2})/.test(raw)) {
    throw new Gs1Error('BAD_EPC_URI', `characters " & / < > ? % must be %-escaped in EPC URIs`, ai);
  }
  const value = decodePercent(raw, 'BAD_EPC_URI', ai);
  if (!isCset82(value)) {
    throw new Gs1Error(
      'ILLEGAL_CHARACTER',
      `EPC component for AI (${ai}) is not GS1 character set 82`,
      ai,
    );
  }
  return value;
}

function digitsParts(parts: string[], lengths: number, ai: string, scheme: string): void {
  const [prefix, ref] = parts;
  if (!/^\d{6,12}$/.test(prefix ?? '')) {
    throw new Gs1Error('BAD_EPC_URI', `${scheme}: company prefix must be 6 to 12 digits`, ai);
  }
  if (!/^\d*$/.test(ref ?? 'x') || prefix!.length + ref!.length !== lengths) {
    throw new Gs1Error(
      'BAD_EPC_URI',
      `${scheme}: company prefix and reference must have ${lengths} digits together`,
      ai,
    );
  }
}

/**
 * Parses `urn:epc:id:sgtin:CompanyPrefix.IndicatorItemRef.Serial` (→ 01, 21),
 * `urn:epc:id:sscc:CompanyPrefix.ExtensionSerialRef` (→ 00) and
 * `urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension` (→ 414 and 254 unless "0") and
 * `urn:epc:id:pgln:CompanyPrefix.PartyRef` (→ 417).
 * @throws Gs1Error BAD_EPC_URI, ILLEGAL_CHARACTER, or a value rule.
 */
export function parseEpcUri(uri: string): AiValue[] {
  if (typeof uri !== 'string') throw new Gs1Error('BAD_INPUT', 'EPC URI must be a string');
  const m = /^urn:epc:id:([a-z]+):(.*)$/i.exec(uri);
  if (!m) throw new Gs1Error('BAD_EPC_URI', 'not an EPC pure-identity URI (urn:epc:id:...)');
  const scheme = m[1]!.toLowerCase();
  // TDS §6.3: "." separates the numeric fields, but a serial or extension
  // (GS3A3) may itself hold "."; only the leading numeric fields are split off.
  const fields = scheme === 'sscc' || scheme === 'pgln' ? 2 : 3;
  const all = m[2]!.split('.');
  const parts =
    all.length > fields ? [...all.slice(0, fields - 1), all.slice(fields - 1).join('.')] : all;
  let out: AiValue[];
  if (scheme === 'sgtin') {
    if (parts.length !== 3)
      throw new Gs1Error('BAD_EPC_URI', 'sgtin needs 3 dot-separated fields', '01');
    digitsParts(parts, 13, '01', scheme);
    const [prefix, indicatorRef, serial] = parts as [string, string, string];
    const body = indicatorRef[0]! + prefix + indicatorRef.slice(1);
    out = [
      { ai: '01', value: body + gs1CheckDigit(body) },
      { ai: '21', value: decodeEpcComponent(serial, '21') },
    ];
  } else if (scheme === 'sscc') {
    if (parts.length !== 2)
      throw new Gs1Error('BAD_EPC_URI', 'sscc needs 2 dot-separated fields', '00');
    digitsParts(parts, 17, '00', scheme);
    const [prefix, extRef] = parts as [string, string];
    const body = extRef[0]! + prefix + extRef.slice(1);
    out = [{ ai: '00', value: body + gs1CheckDigit(body) }];
  } else if (scheme === 'sgln') {
    if (parts.length !== 3)
      throw new Gs1Error('BAD_EPC_URI', 'sgln needs 3 dot-separated fields', '414');
    digitsParts(parts, 12, '414', scheme);
    const [prefix, locationRef, ext] = parts as [string, string, string];
    const body = prefix + locationRef;
    out = [{ ai: '414', value: body + gs1CheckDigit(body) }];
    // TDS: extension "0" means the GLN alone.
    if (ext !== '0') out.push({ ai: '254', value: decodeEpcComponent(ext, '254') });
  } else if (scheme === 'pgln') {
    if (parts.length !== 2)
      throw new Gs1Error('BAD_EPC_URI', 'pgln needs 2 dot-separated fields', '417');
    digitsParts(parts, 12, '417', scheme);
    const body = parts[0]! + parts[1]!;
    out = [{ ai: '417', value: body + gs1CheckDigit(body) }];
  } else {
    throw new Gs1Error(
      'BAD_EPC_URI',
      `EPC scheme ${scheme} is not supported (sgtin, sscc, sgln, pgln)`,
    );
  }
  for (const e of out) validateAiValue(e.ai, e.value);
  return checkMessage(out);
}

// TDS §6.3: escape exactly the characters that may not appear literally.
function encodeEpcComponent(value: string): string {
  return value.replace(/["%&/<>?]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * Formats an SGTIN (`{gtin, serial}`) or SSCC (`{sscc}`) EPC pure-identity URI.
 * The company prefix length (6-12) is not derivable from the key and must be given.
 * @throws Gs1Error BAD_INPUT for a bad prefix length, or a value rule.
 */
export function formatEpcUri(
  input: { gtin: string; serial: string } | { sscc: string },
  companyPrefixLength: number,
): string {
  if (
    !Number.isInteger(companyPrefixLength) ||
    companyPrefixLength < 6 ||
    companyPrefixLength > 12
  ) {
    throw new Gs1Error('BAD_INPUT', 'company prefix length must be 6 to 12');
  }
  const n = companyPrefixLength;
  if ('sscc' in input) {
    validateAiValue('00', input.sscc);
    const s = input.sscc;
    return `urn:epc:id:sscc:${s.slice(1, 1 + n)}.${s[0]}${s.slice(1 + n, 17)}`;
  }
  const gtin = normalizeGtin(input.gtin);
  validateAiValue('21', input.serial);
  return `urn:epc:id:sgtin:${gtin.slice(1, 1 + n)}.${gtin[0]}${gtin.slice(1 + n, 13)}.${encodeEpcComponent(input.serial)}`;
}

// ---------------------------------------------------------------------------
// EPC URIs -> canonical GS1 Digital Link (TDS 2.x §6 and §7 with the GS1
// Digital Link URI syntax): every pure-identity scheme (urn:epc:id), the
// LGTIN class (urn:epc:class:lgtin) and the pattern URIs that name a whole
// class (urn:epc:idpat:...:*). This is the form the EPCIS 2.0 / CBV 2.0 event
// hash uses for identifiers (CBV §8.9), so its escaping follows that
// algorithm: escapes already in the URN are kept as written, and only the
// characters ! ( ) * + , : that a DL path may not carry literally are escaped.

/** The host every canonical GS1 Digital Link uses. */
export const CANONICAL_DL_HOST = 'https://id.gs1.org';

// TDS §5 GS3A3 component: a character of the EPC URI set or a %-escape.
const GS3A3 = String.raw`(?:%[0-9A-Fa-f]{2}|[!'()*+,\-.0-9:;=A-Z_a-z])`;
// CPI component reference: digits, upper-case letters, "-" and escaped # /.
const CPI_REF = String.raw`(?:%2[3DFdf]|[0-9A-Z-])`;

function dlEscape(component: string): string {
  return component.replace(/[!()*+,:]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function withCheck(body: string): string {
  return body + gs1CheckDigit(body);
}

// Indicator digit first, then company prefix and the rest of the item reference.
function gtinOf(prefix: string, indicatorRef: string): string {
  return withCheck(indicatorRef[0]! + prefix + indicatorRef.slice(1));
}

type EpcRule = {
  /** Matches the part after the scheme name; groups are the URI's fields. */
  readonly pattern: RegExp;
  /** Total digits of company prefix + reference, when fixed. */
  readonly digits?: number;
  readonly build: (f: string[]) => string;
};

const CP = String.raw`(\d{6,12})`;

const ID_RULES: Readonly<Record<string, EpcRule>> = {
  sgtin: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.(${GS3A3}{1,20})$`),
    digits: 13,
    build: ([cp, ref, serial]) => `/01/${gtinOf(cp!, ref!)}/21/${dlEscape(serial!)}`,
  },
  sscc: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{5,11})$`),
    digits: 17,
    build: ([cp, ref]) => `/00/${withCheck(ref![0]! + cp! + ref!.slice(1))}`,
  },
  sgln: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.(${GS3A3}{1,20})$`),
    digits: 12,
    build: ([cp, ref, ext]) =>
      `/414/${withCheck(cp! + ref!)}` + (ext === '0' ? '' : `/254/${dlEscape(ext!)}`),
  },
  grai: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.(${GS3A3}{1,16})$`),
    digits: 12,
    build: ([cp, ref, serial]) => `/8003/${withCheck('0' + cp! + ref!)}${dlEscape(serial!)}`,
  },
  giai: {
    pattern: new RegExp(String.raw`^${CP}\.(${GS3A3}{1,24})$`),
    build: ([cp, ref]) => `/8004/${cp}${dlEscape(ref!)}`,
  },
  gsrn: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{5,11})$`),
    digits: 17,
    build: ([cp, ref]) => `/8018/${withCheck(cp! + ref!)}`,
  },
  gsrnp: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{5,11})$`),
    digits: 17,
    build: ([cp, ref]) => `/8017/${withCheck(cp! + ref!)}`,
  },
  gdti: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.(${GS3A3}{1,17})$`),
    digits: 12,
    build: ([cp, ref, serial]) => `/253/${withCheck(cp! + ref!)}${dlEscape(serial!)}`,
  },
  cpi: {
    pattern: new RegExp(String.raw`^${CP}\.(${CPI_REF}{1,24})\.(\d{1,12})$`),
    build: ([cp, ref, serial]) => `/8010/${dlEscape(cp! + ref!)}/8011/${serial}`,
  },
  sgcn: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.(\d{1,12})$`),
    digits: 12,
    build: ([cp, ref, serial]) => `/255/${withCheck(cp! + ref!)}${serial}`,
  },
  ginc: {
    pattern: new RegExp(String.raw`^${CP}\.(${GS3A3}{1,24})$`),
    build: ([cp, ref]) => `/401/${cp}${dlEscape(ref!)}`,
  },
  gsin: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{4,10})$`),
    digits: 16,
    build: ([cp, ref]) => `/402/${withCheck(cp! + ref!)}`,
  },
  itip: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.(\d{2})\.(\d{2})\.(${GS3A3}{1,20})$`),
    digits: 13,
    build: ([cp, ref, piece, total, serial]) =>
      `/8006/${gtinOf(cp!, ref!)}${piece}${total}/21/${dlEscape(serial!)}`,
  },
  upui: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.(${GS3A3}{1,28})$`),
    digits: 13,
    build: ([cp, ref, tpx]) => `/01/${gtinOf(cp!, ref!)}/235/${dlEscape(tpx!)}`,
  },
  pgln: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})$`),
    digits: 12,
    build: ([cp, ref]) => `/417/${withCheck(cp! + ref!)}`,
  },
};

const CLASS_RULES: Readonly<Record<string, EpcRule>> = {
  lgtin: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.(${GS3A3}{1,20})$`),
    digits: 13,
    build: ([cp, ref, lot]) => `/01/${gtinOf(cp!, ref!)}/10/${dlEscape(lot!)}`,
  },
};

const IDPAT_RULES: Readonly<Record<string, EpcRule>> = {
  sgtin: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.\*$`),
    digits: 13,
    build: ([cp, ref]) => `/01/${gtinOf(cp!, ref!)}`,
  },
  grai: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.\*$`),
    digits: 12,
    build: ([cp, ref]) => `/8003/${withCheck('0' + cp! + ref!)}`,
  },
  gdti: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.\*$`),
    digits: 12,
    build: ([cp, ref]) => `/253/${withCheck(cp! + ref!)}`,
  },
  sgcn: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{0,6})\.\*$`),
    digits: 12,
    build: ([cp, ref]) => `/255/${withCheck(cp! + ref!)}`,
  },
  cpi: {
    pattern: new RegExp(String.raw`^${CP}\.(${CPI_REF}{1,24})\.\*$`),
    build: ([cp, ref]) => `/8010/${dlEscape(cp! + ref!)}`,
  },
  itip: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.(\d{2})\.(\d{2})\.\*$`),
    digits: 13,
    build: ([cp, ref, piece, total]) => `/8006/${gtinOf(cp!, ref!)}${piece}${total}`,
  },
  upui: {
    pattern: new RegExp(String.raw`^${CP}\.(\d{1,7})\.\*$`),
    digits: 13,
    build: ([cp, ref]) => `/01/${gtinOf(cp!, ref!)}`,
  },
};

const EPC_FORMS: Readonly<Record<string, Readonly<Record<string, EpcRule>>>> = {
  id: ID_RULES,
  class: CLASS_RULES,
  idpat: IDPAT_RULES,
};

/**
 * Converts an EPC URI — pure identity (`urn:epc:id:sgtin|sscc|sgln|grai|giai|
 * gsrn|gsrnp|gdti|cpi|sgcn|ginc|gsin|itip|upui|pgln:…`), LGTIN class
 * (`urn:epc:class:lgtin:…`) or class pattern (`urn:epc:idpat:sgtin|grai|gdti|
 * sgcn|cpi|itip|upui:…*`) — into its canonical GS1 Digital Link URI on
 * https://id.gs1.org, computing the check digit the URI leaves out.
 * @throws Gs1Error BAD_EPC_URI when the URI is no EPC URI of those forms, or
 * its company prefix and reference do not add up to the key's length.
 */
export function epcToDigitalLink(uri: string): string {
  if (typeof uri !== 'string') throw new Gs1Error('BAD_INPUT', 'EPC URI must be a string');
  const m = /^urn:epc:(id|class|idpat):([a-z]+):(.*)$/.exec(uri);
  if (!m) throw new Gs1Error('BAD_EPC_URI', 'not an EPC URI (urn:epc:id|class|idpat:...)');
  const [, form, scheme, body] = m as unknown as [string, string, string, string];
  const rule = EPC_FORMS[form]![scheme];
  if (!rule) {
    throw new Gs1Error('BAD_EPC_URI', `EPC ${form} scheme ${scheme} has no Digital Link form`);
  }
  const fields = rule.pattern.exec(body);
  if (!fields) throw new Gs1Error('BAD_EPC_URI', `${scheme}: malformed fields in ${uri}`);
  const parts = fields.slice(1);
  if (rule.digits !== undefined && parts[0]!.length + parts[1]!.length !== rule.digits) {
    throw new Gs1Error(
      'BAD_EPC_URI',
      `${scheme}: company prefix and reference must have ${rule.digits} digits together`,
    );
  }
  return CANONICAL_DL_HOST + rule.build(parts);
}

// ---------------------------------------------------------------------------
// GS1 Digital Link -> EPC URIs (TDS 2.x §6 and §7, the inverse of the above):
// the URN splits the key into company prefix and reference, and the company
// prefix length is not written in the key (GS1 General Specifications §1.4.2),
// so the caller supplies it, typically from the prefixes it has registered.

/** The digits of a GS1 key that start with its company prefix (indicator, extension and check digit off). */
export function companyPrefixZone(ai: string, key: string): string | undefined {
  if (ai === '01') return key.slice(1, 13);
  if (ai === '00') return key.slice(1, 17);
  if (ai === '414' || ai === '417') return key.slice(0, 12);
  return undefined;
}

/**
 * The length of the longest of `prefixes` (GS1 company prefixes, 6-12 digits)
 * that begins the company prefix zone of the key, or undefined when none does.
 */
export function companyPrefixLengthIn(
  prefixes: readonly string[],
  ai: string,
  key: string,
): number | undefined {
  const zone = companyPrefixZone(ai, key);
  if (zone === undefined) return undefined;
  let best: number | undefined;
  for (const p of prefixes) {
    if (!/^\d{6,12}$/.test(p) || !zone.startsWith(p)) continue;
    if (best === undefined || p.length > best) best = p.length;
  }
  return best;
}

/** Gives the company prefix length of a GS1 key (`ai` 01, 00, 414 or 417), or undefined if unknown. */
export type CompanyPrefixLengthOf = (ai: string, key: string) => number | undefined;

function splitKey(zone: string, n: number | undefined, ai: string): [string, string] {
  if (n === undefined || !Number.isInteger(n) || n < 6 || n > 12 || n > zone.length) {
    throw new Gs1Error('BAD_INPUT', `no company prefix length known for AI (${ai})`, ai);
  }
  return [zone.slice(0, n), zone.slice(n)];
}

/**
 * Converts a GS1 Digital Link URI (any host) into its EPC URI: `01`+`21` →
 * `urn:epc:id:sgtin`, `00` → `sscc`, `414` (+`254`) → `sgln`, `417` → `pgln`,
 * `01`+`10` → `urn:epc:class:lgtin`, and `01` alone → the class pattern
 * `urn:epc:idpat:sgtin:…*`. Other data (CPV, query attributes) is dropped.
 * @throws Gs1Error from parsing the URI; BAD_INPUT when the company prefix
 * length is unknown or the key has no EPC URN form.
 */
export function digitalLinkToEpc(uri: string, prefixLengthOf: CompanyPrefixLengthOf): string {
  const elements = parseDigitalLink(uri);
  const get = (ai: string): string | undefined => elements.find((e) => e.ai === ai)?.value;
  const [sscc, gtin, gln, pgln] = [get('00'), get('01'), get('414'), get('417')];
  if (sscc !== undefined) {
    const n = prefixLengthOf('00', sscc);
    splitKey(companyPrefixZone('00', sscc)!, n, '00');
    return formatEpcUri({ sscc }, n!);
  }
  if (gtin !== undefined) {
    const [cp, ref] = splitKey(companyPrefixZone('01', gtin)!, prefixLengthOf('01', gtin), '01');
    const indicatorRef = gtin[0]! + ref;
    const serial = get('21');
    const lot = get('10');
    if (serial !== undefined)
      return `urn:epc:id:sgtin:${cp}.${indicatorRef}.${encodeEpcComponent(serial)}`;
    if (lot !== undefined)
      return `urn:epc:class:lgtin:${cp}.${indicatorRef}.${encodeEpcComponent(lot)}`;
    return `urn:epc:idpat:sgtin:${cp}.${indicatorRef}.*`;
  }
  if (gln !== undefined) {
    const [cp, ref] = splitKey(companyPrefixZone('414', gln)!, prefixLengthOf('414', gln), '414');
    const ext = get('254');
    return `urn:epc:id:sgln:${cp}.${ref}.${ext === undefined ? '0' : encodeEpcComponent(ext)}`;
  }
  if (pgln !== undefined) {
    const [cp, ref] = splitKey(companyPrefixZone('417', pgln)!, prefixLengthOf('417', pgln), '417');
    return `urn:epc:id:pgln:${cp}.${ref}`;
  }
  throw new Gs1Error(
    'BAD_INPUT',
    `${uri} has no EPC URN form here (sgtin, sscc, sgln, pgln, lgtin)`,
  );
}
