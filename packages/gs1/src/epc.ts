// EPC pure-identity URIs (GS1 EPC Tag Data Standard §6.3): sgtin, sscc, sgln.
// The company prefix length is carried by the "." split, so the GS1 keys can
// be rebuilt: indicator/extension digit + company prefix + reference + check digit.

import { checkMessage, isCset82, validateAiValue } from './ai.js';
import type { AiValue } from './ai.js';
import { gs1CheckDigit, normalizeGtin } from './check-digit.js';
import { Gs1Error } from './errors.js';
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
 * `urn:epc:id:sgln:CompanyPrefix.LocationRef.Extension` (→ 414 and 254 unless "0").
 * @throws Gs1Error BAD_EPC_URI, ILLEGAL_CHARACTER, or a value rule.
 */
export function parseEpcUri(uri: string): AiValue[] {
  if (typeof uri !== 'string') throw new Gs1Error('BAD_INPUT', 'EPC URI must be a string');
  const m = /^urn:epc:id:([a-z]+):(.*)$/i.exec(uri);
  if (!m) throw new Gs1Error('BAD_EPC_URI', 'not an EPC pure-identity URI (urn:epc:id:...)');
  const scheme = m[1]!.toLowerCase();
  // TDS §6.3: "." separates the numeric fields, but a serial or extension
  // (GS3A3) may itself hold "."; only the leading numeric fields are split off.
  const fields = scheme === 'sscc' ? 2 : 3;
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
  } else {
    throw new Gs1Error('BAD_EPC_URI', `EPC scheme ${scheme} is not supported (sgtin, sscc, sgln)`);
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
