// GS1 element strings (General Specifications §7.8): raw scan data with or
// without a symbology identifier, GS/FNC1 separators and their textual
// substitutes, and the human-readable bracketed form "(01)...(21)...".

import { checkMessage, getAiDefinition, matchAiPrefix, validateAiValue } from './ai.js';
import type { AiValue } from './ai.js';
import { normalizeGtin } from './check-digit.js';
import { isoDateToGs1 } from './date.js';
import type { AiDefinition } from './dictionary.js';
import { Gs1Error } from './errors.js';

/** ASCII GS (0x1D), how scanners transmit FNC1 used as a separator (§7.8.4). */
export const GS = '\x1d';

/**
 * Symbology identifiers (ISO/IEC 15424) whose data is GS1 element strings:
 * GS1-128, GS1 DataBar, GS1 DataMatrix, GS1 QR Code, GS1 DotCode (§5.1.2 / §5.4.1).
 */
export const GS1_SYMBOLOGY_IDENTIFIERS: readonly string[] = [']C1', ']e0', ']d2', ']Q3', ']J1'];

/**
 * Scanner profiles a caller may opt in to (DESIGN §3). By default only 0x1D
 * (how a scanner transmits FNC1) separates element strings.
 * - `keyboard-wedge-gs`: a keyboard-wedge scanner or label tool that cannot
 *   type 0x1D and sends a printable stand-in instead: U+241D, `<GS>`, `{GS}`,
 *   `[GS]`, `<FNC1>`, `{FNC1}`, `[FNC1]`, `^FNC1` (any case), the escape texts
 *   `\x1d` and `\u001d`, a single `|`, `^` or `~` before an AI, and `~1`.
 *   Only opt in for such a scanner: `<` and `>` are legal serial characters, so
 *   a serial containing `<GS>` reads differently under this profile.
 */
export const SCANNER_PROFILES = ['keyboard-wedge-gs'] as const;
export type ScannerProfile = (typeof SCANNER_PROFILES)[number];

/** The scanner profile option shared by the parsers. */
export interface ScannerOptions {
  /** Honour the printable GS stand-ins of this scanner profile; default none (0x1D only). */
  readonly profile?: ScannerProfile | undefined;
}

// Textual stand-ins for GS that keyboard-wedge scanners, label software and
// hand-typed test data use (the `keyboard-wedge-gs` profile only). Every one is
// outside CSET 82 and CSET 39, so none can be data, except "<GS>" and "<FNC1>"
// whose characters are CSET 82: they are the common written notation (and the
// one the GS1 vectors use), so under the profile they win.
//   0x1D (real GS), U+241D (SYMBOL FOR GROUP SEPARATOR), <GS> {GS} [GS]
//   <FNC1> {FNC1} [FNC1] ^FNC1 (any case), the escape texts \x1d \x1D \u001d \u001D.
const GS_TEXT_SUBSTITUTES =
  /\u241d|<gs>|\{gs\}|\[gs\]|<fnc1>|\{fnc1\}|\[fnc1\]|\^fnc1|\\x1d|\\u001d/gi;
// The single characters | ^ ~ that wedge scanners are often set to send for GS.
// They are separators only where an AI follows (a digit) in unbracketed data;
// anywhere else they stay and are reported as ILLEGAL_CHARACTER for the AI.
const GS_CHAR_SUBSTITUTES = /[|^~](?=\d)/g;
// "~1" is another FNC1 notation (encoder escape); it collides with "~" + an AI
// starting with 1, so it is only tried when reading "~" alone as GS fails.
const TILDE_ONE = /~1/g;

/** Options for {@link parseElementString}. */
export interface ParseElementStringOptions extends ScannerOptions {
  /**
   * Check each value against the dictionary (charset, check digits, dates) and
   * the message for duplicate or mutually exclusive AIs. Default true; false
   * only splits the data into AIs and values.
   */
  readonly validate?: boolean;
}

/**
 * True when `profile` honours printable GS stand-ins.
 * @throws Gs1Error BAD_INPUT for a profile that is not in SCANNER_PROFILES.
 */
export function honoursStandIns(profile: string | undefined): boolean {
  if (profile === undefined) return false;
  if (!(SCANNER_PROFILES as readonly string[]).includes(profile))
    throw new Gs1Error(
      'BAD_INPUT',
      `unknown scanner profile ${JSON.stringify(profile)}; known: ${SCANNER_PROFILES.join(', ')}`,
    );
  return true;
}

/**
 * Splits off a leading symbology identifier and, only for an opted-in scanner
 * profile, replaces its GS stand-ins with 0x1D. Returns the identifier (or
 * undefined) and the data.
 * @throws Gs1Error BAD_INPUT for an unknown profile.
 */
export function normalizeScanData(
  input: string,
  profile?: ScannerProfile,
): { symbology: string | undefined; data: string } {
  let data = input;
  let symbology: string | undefined;
  if (/^\][A-Za-z][0-9A-Za-z]/.test(data)) {
    symbology = data.slice(0, 3);
    data = data.slice(3);
  }
  return { symbology, data: honoursStandIns(profile) ? substituteGs(data) : data };
}

function substituteGs(data: string): string {
  const out = data.replace(GS_TEXT_SUBSTITUTES, GS);
  // Bracketed data needs no separator, so a single | ^ ~ there can only be a bad character.
  return out.replace(/^\x1d+/, '').startsWith('(') ? out : out.replace(GS_CHAR_SUBSTITUTES, GS);
}

function isFixed(def: AiDefinition): boolean {
  return def.minLength === def.maxLength && def.components.every((c) => !c.optional);
}

/**
 * Parses GS1 element strings: unbracketed data (GS after variable-length
 * values, none needed after predefined-length AIs), optionally behind a GS1
 * symbology identifier (]C1 ]e0 ]d2 ]Q3 ]J1), or the bracketed form. The
 * separator is 0x1D; printable stand-ins only with `options.profile`.
 * @throws Gs1Error BAD_INPUT (unknown profile), EMPTY, BAD_SYMBOLOGY, UNKNOWN_AI, MISSING_SEPARATOR,
 * BAD_LENGTH, ILLEGAL_CHARACTER, BAD_CHECK_DIGIT, BAD_DATE, BAD_VALUE,
 * DUPLICATE_AI, CONFLICTING_AI.
 */
export function parseElementString(
  input: string,
  options: ParseElementStringOptions = {},
): AiValue[] {
  if (typeof input !== 'string') throw new Gs1Error('BAD_INPUT', 'element string must be a string');
  const { symbology, data } = normalizeScanData(input, options.profile);
  if (symbology !== undefined && !GS1_SYMBOLOGY_IDENTIFIERS.includes(symbology)) {
    throw new Gs1Error(
      'BAD_SYMBOLOGY',
      `symbology identifier ${symbology} does not carry GS1 element strings`,
    );
  }
  // FNC1 in first position may come through as a leading GS.
  const body = data.replace(/^\x1d+/, '');
  if (body === '') throw new Gs1Error('EMPTY', 'no element string data');
  const validate = options.validate !== false;
  // Values are validated as they are split, so the first bad element is the one reported.
  const parse = (text: string): AiValue[] => {
    const elements = text.startsWith('(')
      ? splitBracketed(text, validate)
      : splitUnbracketed(text, validate);
    return validate ? checkMessage(elements) : elements;
  };
  try {
    return parse(body);
  } catch (e) {
    const tildeOne = symbology === undefined ? input : input.slice(3);
    if (!(e instanceof Gs1Error) || body.startsWith('(') || !tildeOne.includes('~1')) throw e;
    if (options.profile === undefined) throw e;
    // Retry reading "~1" as FNC1; if that fails too, the first reading's error stands.
    const retry = substituteGs(tildeOne.replace(TILDE_ONE, GS)).replace(/^\x1d+/, '');
    try {
      return parse(retry);
    } catch {
      throw e;
    }
  }
}

function splitBracketed(data: string, validate: boolean): AiValue[] {
  const out: AiValue[] = [];
  const aiAt = /^\((\d{2,4})\)/;
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === GS) {
      pos++;
      continue;
    }
    const m = aiAt.exec(data.slice(pos, pos + 6));
    if (!m) {
      throw new Gs1Error('UNKNOWN_AI', `expected "(AI)" at position ${pos} of the bracketed data`);
    }
    const ai = m[1]!;
    if (!getAiDefinition(ai)) {
      throw new Gs1Error('UNKNOWN_AI', `invalid application identifier (${ai})`, ai);
    }
    pos += m[0].length;
    let value = '';
    while (pos < data.length) {
      const ch = data[pos]!;
      // "\(" is a literal "(" in data (bracketed notation escape).
      if (ch === '\\' && data[pos + 1] === '(') {
        value += '(';
        pos += 2;
      } else if (ch === '(' && aiAt.test(data.slice(pos, pos + 6))) {
        break;
      } else if (ch === GS) {
        pos++;
        break;
      } else {
        value += ch;
        pos++;
      }
    }
    if (value === '') throw new Gs1Error('BAD_LENGTH', `AI (${ai}) has no value`, ai);
    if (validate) validateAiValue(ai, value);
    out.push({ ai, value });
  }
  return out;
}

// `probing`: called from diagnoseOverlong, which must not recurse.
function splitUnbracketed(data: string, validate: boolean, probing = false): AiValue[] {
  const out: AiValue[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === GS) {
      pos++;
      continue;
    }
    const def = matchAiPrefix(data, pos);
    if (!def) {
      const head = /^\d{2}/.test(data.slice(pos)) ? data.slice(pos, pos + 2) : undefined;
      throw new Gs1Error(
        'UNKNOWN_AI',
        head === undefined
          ? `no application identifier at position ${pos}`
          : `invalid application identifier starting ${data.slice(pos, pos + 4)} at position ${pos}`,
        head,
      );
    }
    const ai = def.ai;
    pos += ai.length;
    let value: string;
    if (isFixed(def)) {
      // Fixed length: no separator needed to find the end (and tolerated after it).
      value = data.slice(pos, pos + def.maxLength);
      const gsAt = value.indexOf(GS);
      if (gsAt >= 0) value = value.slice(0, gsAt);
      if (value.length < def.maxLength) {
        throw new Gs1Error(
          'BAD_LENGTH',
          `AI (${ai}) needs ${def.maxLength} characters, got ${value.length}`,
          ai,
        );
      }
    } else {
      const end = data.indexOf(GS, pos);
      value = data.slice(pos, end < 0 ? data.length : end);
      if (value.length > def.maxLength) diagnoseOverlong(def, value, probing);
    }
    pos += value.length;
    if (value === '') throw new Gs1Error('BAD_LENGTH', `AI (${ai}) has no value`, ai);
    if (validate) validateAiValue(ai, value);
    out.push({ ai, value });
  }
  return out;
}

// A variable-length value longer than its maximum usually swallowed the next
// element strings because the GS was lost: find the longest prefix after which
// the rest parses as valid element strings and name the AI that starts there.
function diagnoseOverlong(def: AiDefinition, value: string, probing: boolean): never {
  if (!probing) {
    for (let p = def.maxLength; p >= Math.max(def.minLength, 1); p--) {
      const next = matchAiPrefix(value, p);
      if (!next) continue;
      try {
        splitUnbracketed(value.slice(p), true, true);
      } catch {
        continue;
      }
      throw new Gs1Error(
        'MISSING_SEPARATOR',
        `AI (${def.ai}) value is longer than ${def.maxLength} characters: the GS separator ` +
          `before AI (${next.ai}) after character ${p} of the value seems to be missing`,
        def.ai,
      );
    }
  }
  throw new Gs1Error(
    'BAD_LENGTH',
    `AI (${def.ai}) value has ${value.length} characters, at most ${def.maxLength} allowed`,
    def.ai,
  );
}

/** The identifier fields a unit or logistic-unit scan carries (DESIGN §3). */
export interface Gs1Parts {
  readonly gtin?: string;
  readonly serial?: string;
  readonly lot?: string;
  /** ISO YYYY-MM-DD. */
  readonly expiry?: string;
  readonly sscc?: string;
}

/** Options for {@link formatElementString}. */
export interface FormatElementStringOptions {
  /** Human-readable "(01)...(21)..." form. Default false. */
  readonly bracketed?: boolean;
  /** Separator written after variable-length values (unbracketed). Default 0x1D. */
  readonly separator?: string;
}

/** Turns parts into AI/value pairs in the order 00, 01, 17, 10, 21 (GTIN normalised to 14). */
export function partsToElements(parts: Gs1Parts): AiValue[] {
  const out: AiValue[] = [];
  if (parts.sscc !== undefined) out.push({ ai: '00', value: parts.sscc });
  if (parts.gtin !== undefined) out.push({ ai: '01', value: normalizeGtin(parts.gtin) });
  if (parts.expiry !== undefined) out.push({ ai: '17', value: isoDateToGs1(parts.expiry) });
  if (parts.lot !== undefined) out.push({ ai: '10', value: parts.lot });
  if (parts.serial !== undefined) out.push({ ai: '21', value: parts.serial });
  return out;
}

/**
 * Formats element strings. Unbracketed: predefined-length AIs first (they need
 * no separator), then the rest with a separator after each variable-length
 * value except the last (§7.8.4). Bracketed: in the given order, "(" in data
 * escaped as "\(".
 * @throws Gs1Error for any invalid value, duplicate or conflicting AI, or EMPTY.
 */
export function formatElementString(
  input: Gs1Parts | readonly AiValue[],
  options: FormatElementStringOptions = {},
): string {
  const elements = checkMessage(Array.isArray(input) ? input : partsToElements(input as Gs1Parts));
  if (elements.length === 0) throw new Gs1Error('EMPTY', 'nothing to format');
  for (const e of elements) validateAiValue(e.ai, e.value);
  if (options.bracketed) {
    return elements.map((e) => `(${e.ai})${e.value.replace(/\(/g, '\\(')}`).join('');
  }
  const sep = options.separator ?? GS;
  const predefined = elements.filter((e) => getAiDefinition(e.ai)!.predefinedLength);
  const rest = elements.filter((e) => !getAiDefinition(e.ai)!.predefinedLength);
  const ordered = [...predefined, ...rest];
  let out = '';
  ordered.forEach((e, i) => {
    out += e.ai + e.value;
    if (i < ordered.length - 1 && !getAiDefinition(e.ai)!.predefinedLength) out += sep;
  });
  return out;
}
