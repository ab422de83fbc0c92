// parseScan: every input form DESIGN §3 accepts, reduced to the canonical
// subject (the Digital Link path without host) plus lot and expiry for matching.

import { getAiDefinition, validateAiValue } from './ai.js';
import type { AiValue } from './ai.js';
import { normalizeGtin } from './check-digit.js';
import { gs1DateToIso } from './date.js';
import type { CenturyOptions } from './date.js';
import type { ScannerOptions } from './element-string.js';
import { looksLikeDigitalLink, parseDigitalLink } from './digital-link.js';
import {
  GS1_SYMBOLOGY_IDENTIFIERS,
  normalizeScanData,
  parseElementString,
} from './element-string.js';
import { looksLikeEpcUri, parseEpcUri } from './epc.js';
import { Gs1Error } from './errors.js';
import { decodePercent, encodeRfc3986 } from './percent.js';

/** What a scan identifies (DESIGN §3). */
export interface ScanResult {
  /** Canonical subject: `01/<gtin14>/21/<serial, RFC 3986 encoded>` or `00/<sscc>`. */
  readonly subject: string;
  readonly gtin?: string;
  readonly serial?: string;
  readonly lot?: string;
  /** AI 17 as ISO `YYYY-MM-DD`; day 00 resolved to the month's last day. */
  readonly expiry?: string;
  readonly sscc?: string;
}

/** A serialized unit or a logistic unit. */
export type SubjectParts =
  { readonly gtin: string; readonly serial: string } | { readonly sscc: string };

/**
 * Options for {@link parseScan}: the §7.12 reference year (pass the caller's
 * clock through `centuryAt(now)`) and an opted-in scanner profile.
 */
export type ParseScanOptions = CenturyOptions & ScannerOptions;

/**
 * Formats the canonical subject of a unit (`01/<gtin14>/21/<serial>`, serial
 * percent-encoded per RFC 3986) or logistic unit (`00/<sscc>`).
 * @throws Gs1Error for a bad GTIN, serial (AI 21: 1-20 chars of CSET 82) or SSCC.
 */
export function formatSubject(parts: SubjectParts): string {
  if (parts === null || typeof parts !== 'object') {
    throw new Gs1Error('BAD_INPUT', 'subject parts must be {gtin, serial} or {sscc}');
  }
  if ('sscc' in parts && typeof parts.sscc === 'string') {
    validateAiValue('00', parts.sscc);
    return `00/${parts.sscc}`;
  }
  const { gtin, serial } = parts as { gtin?: unknown; serial?: unknown };
  if (typeof gtin !== 'string')
    throw new Gs1Error('NO_KEY', 'a GTIN (01) or SSCC (00) is required', '01');
  const gtin14 = normalizeGtin(gtin);
  if (typeof serial !== 'string') {
    throw new Gs1Error('MISSING_SERIAL', 'a unit subject needs a serial (AI 21)', '21');
  }
  validateAiValue('21', serial);
  return `01/${gtin14}/21/${encodeRfc3986(serial)}`;
}

/**
 * Parses a canonical subject back into its parts. Strict: only the exact
 * output of {@link formatSubject} is accepted (GTIN-14, canonical encoding).
 * @throws Gs1Error BAD_SUBJECT (or a value rule such as BAD_CHECK_DIGIT).
 */
export function parseSubject(subject: string): SubjectParts {
  if (typeof subject !== 'string') throw new Gs1Error('BAD_SUBJECT', 'subject must be a string');
  let m = /^00\/(\d{18})$/.exec(subject);
  if (m) {
    validateAiValue('00', m[1]!);
    return { sscc: m[1]! };
  }
  m = /^01\/(\d{14})\/21\/([^/]+)$/.exec(subject);
  if (!m) {
    throw new Gs1Error('BAD_SUBJECT', 'subject must be 01/<gtin14>/21/<serial> or 00/<sscc>');
  }
  const gtin = m[1]!;
  validateAiValue('01', gtin);
  const serial = decodePercent(m[2]!, 'BAD_SUBJECT', '21');
  validateAiValue('21', serial);
  if (encodeRfc3986(serial) !== m[2]) {
    throw new Gs1Error('BAD_SUBJECT', 'serial is not in canonical RFC 3986 encoding', '21');
  }
  return { gtin, serial };
}

// No GS1 carrier holds more (QR Code: 7089 digits); longer input is refused
// before parsing so hostile input cannot make the parsers work hard.
const MAX_SCAN_LENGTH = 8192;

// Whitespace and control characters keyboard wedges add around the data (CR,
// LF, tab, NUL, EOT); GS itself is kept because it can be a separator.
const EDGE = /^[\s\0\x04]+|[\s\0\x04]+$/g;

function elementsOf(input: string, options: ScannerOptions): AiValue[] {
  if (looksLikeDigitalLink(input)) return parseDigitalLink(input);
  if (looksLikeEpcUri(input)) return parseEpcUri(input);
  const id = /^\][A-Za-z][0-9A-Za-z]/.exec(input)?.[0];
  // A Digital Link URI behind any symbology identifier (normally ]Q1 or ]d1; some
  // scanners report ]Q3 / ]d2 for it) is a URI, never element strings.
  if (id !== undefined && looksLikeDigitalLink(input.slice(3))) {
    return parseDigitalLink(input.slice(3));
  }
  if (id !== undefined && !GS1_SYMBOLOGY_IDENTIFIERS.includes(id)) {
    // Plain QR / Data Matrix etc. (]Q1, ]d1, ...) can carry a Digital Link URI, not AIs.
    throw new Gs1Error(
      'BAD_SYMBOLOGY',
      `symbology identifier ${id} carries neither GS1 element strings nor a Digital Link`,
    );
  }
  return parseElementString(input, { profile: options.profile });
}

// Unbracketed data with a GTIN but no serial often lost the GS after a
// variable-length value (e.g. "10LOT21SER"): the serial then reads as part of
// that value. Returns the AI whose value would end where a valid (21) starts.
function lostSerialSeparator(
  input: string,
  elements: readonly AiValue[],
  options: ScannerOptions,
): string | undefined {
  const text = input.replace(EDGE, '');
  if (looksLikeDigitalLink(text) || looksLikeEpcUri(text)) return undefined;
  if (
    normalizeScanData(text, options.profile)
      .data.replace(/^\x1d+/, '')
      .startsWith('(')
  )
    return undefined;
  for (const e of elements) {
    const def = getAiDefinition(e.ai);
    if (def === undefined || def.predefinedLength) continue;
    for (let p = def.minLength; p < e.value.length - 2; p++) {
      if (!e.value.startsWith('21', p)) continue;
      try {
        validateAiValue(e.ai, e.value.slice(0, p));
        const rest = parseElementString(e.value.slice(p), { profile: options.profile });
        if (rest.some((r) => r.ai === '21')) return e.ai;
      } catch {
        // not a split that parses; try the next one
      }
    }
  }
  return undefined;
}

/**
 * Parses any DESIGN §3 scan form — raw scan data with or without symbology
 * identifier (GS as separator; the printable stand-ins of
 * `options.profile` only when the caller opts in), bracketed element
 * strings, Digital Link URIs on any host, EPC sgtin/sscc URIs, or
 * `{gtin, serial}` (or `{sscc}`) — into the canonical subject plus gtin, serial, lot, expiry
 * and sscc. Surrounding whitespace is ignored. A GTIN with a serial gives a
 * unit subject; otherwise an SSCC gives a logistic-unit subject.
 * Expiry years follow the §7.12 window around `options.referenceYear` (every
 * service passes `centuryAt(now)`); without it they are taken as 20YY.
 * @throws Gs1Error only (never anything else): EMPTY, MISSING_SERIAL, NO_KEY,
 * or the rule the input broke.
 */
export function parseScan(
  input: string | { gtin: string; serial: string } | { sscc: string },
  options: ParseScanOptions = {},
): ScanResult {
  let elements: AiValue[];
  if (typeof input === 'string') {
    if (input.length > MAX_SCAN_LENGTH) {
      throw new Gs1Error('BAD_LENGTH', `scan data longer than ${MAX_SCAN_LENGTH} characters`);
    }
    const text = input.replace(EDGE, '');
    if (text === '') throw new Gs1Error('EMPTY', 'scan is empty');
    elements = elementsOf(text, options);
  } else if (input !== null && typeof input === 'object') {
    const { gtin, serial, sscc } = input as { gtin?: unknown; serial?: unknown; sscc?: unknown };
    if (gtin === undefined && typeof sscc === 'string') {
      // {sscc}: the logistic-unit counterpart of {gtin, serial} (formatSubject's input).
      validateAiValue('00', sscc);
      return { subject: formatSubject({ sscc }), sscc };
    }
    if (typeof gtin !== 'string') throw new Gs1Error('NO_KEY', 'a GTIN is required', '01');
    if (typeof serial !== 'string') {
      throw new Gs1Error('MISSING_SERIAL', 'a unit subject needs a serial (AI 21)', '21');
    }
    const gtin14 = normalizeGtin(gtin);
    validateAiValue('21', serial);
    elements = [
      { ai: '01', value: gtin14 },
      { ai: '21', value: serial },
    ];
  } else {
    throw new Gs1Error('EMPTY', 'scan must be a string or {gtin, serial}');
  }

  const get = (ai: string): string | undefined => elements.find((e) => e.ai === ai)?.value;
  const gtin = get('01');
  const serial = get('21');
  const lot = get('10');
  const exp = get('17');
  const sscc = get('00');
  const expiry = exp === undefined ? undefined : gs1DateToIso(exp, options, '17');
  let subject: string;
  if (gtin !== undefined && serial !== undefined) subject = formatSubject({ gtin, serial });
  else if (sscc !== undefined) subject = formatSubject({ sscc });
  else if (gtin !== undefined) {
    const swallowedBy =
      typeof input === 'string' ? lostSerialSeparator(input, elements, options) : undefined;
    if (swallowedBy !== undefined) {
      throw new Gs1Error(
        'MISSING_SEPARATOR',
        `AI (${swallowedBy}) value seems to hold the serial (21): the GS separator after it is missing`,
        swallowedBy,
      );
    }
    throw new Gs1Error(
      'MISSING_SERIAL',
      'GTIN without serial (AI 21): not a serialized unit',
      '21',
    );
  } else {
    throw new Gs1Error('NO_KEY', 'scan carries neither GTIN + serial (01, 21) nor SSCC (00)');
  }
  return {
    subject,
    ...(gtin !== undefined ? { gtin } : {}),
    ...(serial !== undefined ? { serial } : {}),
    ...(lot !== undefined ? { lot } : {}),
    ...(expiry !== undefined ? { expiry } : {}),
    ...(sscc !== undefined ? { sscc } : {}),
  };
}
