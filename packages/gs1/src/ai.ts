// Application Identifier lookup and value validation against the generated
// dictionary table (GS1 General Specifications §3, §7.8; Barcode Syntax
// Dictionary components and linters).

import { AI_DEFINITIONS } from './ai-table.js';
import { CSET82, hasValidMod10, isValidCsumAlpha } from './check-digit.js';
import type { AiComponent, AiDefinition } from './dictionary.js';
import { Gs1Error } from './errors.js';

/** One element string: an AI and its (unescaped) value. */
export interface AiValue {
  readonly ai: string;
  readonly value: string;
}

const TABLE: ReadonlyMap<string, AiDefinition> = new Map(AI_DEFINITIONS.map((d) => [d.ai, d]));

/** The dictionary entry for `ai`, or undefined when the AI is unknown. */
export function getAiDefinition(ai: string): AiDefinition | undefined {
  return TABLE.get(ai);
}

/**
 * The AI at the start of unbracketed element-string data: AIs are prefix-free
 * (§3.2), so the first 2-, 3- or 4-digit prefix found in the table is the AI.
 */
export function matchAiPrefix(data: string, offset = 0): AiDefinition | undefined {
  for (let len = 2; len <= 4; len++) {
    const candidate = data.slice(offset, offset + len);
    if (candidate.length < len || !/^\d+$/.test(candidate)) return undefined;
    const def = TABLE.get(candidate);
    if (def) return def;
  }
  return undefined;
}

const CSET82_CHARS = new Set(CSET82);
const CSET39_CHARS = new Set('#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ');
const CSET64_CHARS = new Set('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

/** True when every character of `value` is in the GS1 AI encodable character set 82 (§7.11). */
export function isCset82(value: string): boolean {
  for (const ch of value) if (!CSET82_CHARS.has(ch)) return false;
  return true;
}

/** True when every character of `value` is in GS1 character set 39 (§7.11 figure 7.11-2). */
export function isCset39(value: string): boolean {
  for (const ch of value) if (!CSET39_CHARS.has(ch)) return false;
  return true;
}

function charsetOk(type: AiComponent['type'], value: string): string | undefined {
  for (const ch of value) {
    const ok =
      type === 'N'
        ? ch >= '0' && ch <= '9'
        : type === 'X'
          ? CSET82_CHARS.has(ch)
          : type === 'Y'
            ? CSET39_CHARS.has(ch)
            : CSET64_CHARS.has(ch) || ch === '=';
    if (!ok) return ch;
  }
  return undefined;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1-12) of `year` (Gregorian). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return DAYS_IN_MONTH[month - 1]!;
}

function validDate(year: number, mm: string, dd: string, dayZero: boolean): boolean {
  const month = Number(mm);
  const day = Number(dd);
  if (month < 1 || month > 12) return false;
  if (day === 0) return dayZero;
  return day <= daysInMonth(year, month);
}

type Rule = [code: 'BAD_DATE' | 'BAD_VALUE' | 'BAD_CHECK_DIGIT', ok: (v: string) => boolean];

// Linters of the dictionary that we enforce. Others (gcppos*, iso3166*, iso4217,
// iban, importeridx, packagetype, coupon*, mediatype, iso5218, posinseqslash)
// need external code lists and are accepted unchecked; so is pieceoftotal,
// because the GS1 Digital Link vectors use ITIP "...0201" (piece 2 of 1).
const LINTERS: Record<string, Rule> = {
  csum: ['BAD_CHECK_DIGIT', hasValidMod10],
  csumalpha: ['BAD_CHECK_DIGIT', isValidCsumAlpha],
  // YY alone: leap when YY % 4 == 0 (exact for 1901-2099); gs1DateToIso rechecks
  // the day once the century is resolved.
  yymmd0: [
    'BAD_DATE',
    (v) => validDate(Number(v.slice(0, 2)) || 2000, v.slice(2, 4), v.slice(4, 6), true),
  ],
  yymmdd: [
    'BAD_DATE',
    (v) => validDate(Number(v.slice(0, 2)) || 2000, v.slice(2, 4), v.slice(4, 6), false),
  ],
  yyyymmdd: [
    'BAD_DATE',
    (v) => validDate(Number(v.slice(0, 4)), v.slice(4, 6), v.slice(6, 8), false),
  ],
  hhmi: ['BAD_DATE', (v) => Number(v.slice(0, 2)) <= 23 && Number(v.slice(2, 4)) <= 59],
  hh: ['BAD_DATE', (v) => Number(v) <= 23],
  mi: ['BAD_DATE', (v) => Number(v) <= 59],
  ss: ['BAD_DATE', (v) => Number(v) <= 59],
  zero: ['BAD_VALUE', (v) => v === '0'],
  nonzero: ['BAD_VALUE', (v) => /[1-9]/.test(v)],
  yesno: ['BAD_VALUE', (v) => v === '0' || v === '1'],
  winding: ['BAD_VALUE', (v) => v === '0' || v === '1' || v === '9'],
  hyphen: ['BAD_VALUE', (v) => /^-*$/.test(v)],
  nozeroprefix: ['BAD_VALUE', (v) => v.length === 1 || v[0] !== '0'],
  hasnondigit: ['BAD_VALUE', (v) => /\D/.test(v)],
  pcenc: ['BAD_VALUE', (v) => !/%(?![0-9A-Fa-f]{2})/.test(v)],
};

/**
 * Checks `value` against the components and linters of `ai` (dictionary
 * "Specification"): length, character set, check digits, dates.
 * @throws Gs1Error UNKNOWN_AI, BAD_LENGTH, ILLEGAL_CHARACTER, BAD_CHECK_DIGIT,
 * BAD_DATE or BAD_VALUE, with `ai` set.
 */
export function validateAiValue(ai: string, value: string): void {
  const def = TABLE.get(ai);
  if (!def) throw new Gs1Error('UNKNOWN_AI', `unknown application identifier (${ai})`, ai);
  if (value.length < def.minLength || value.length > def.maxLength) {
    const want =
      def.minLength === def.maxLength ? `${def.minLength}` : `${def.minLength}..${def.maxLength}`;
    throw new Gs1Error(
      'BAD_LENGTH',
      `the value of AI (${ai}) must have ${want} characters, got ${value.length}`,
      ai,
    );
  }
  let pos = 0;
  for (const c of def.components) {
    if (pos >= value.length && c.optional) break;
    const part = value.slice(pos, pos + c.max);
    if (part.length < c.min) {
      throw new Gs1Error('BAD_LENGTH', `the value of AI (${ai}) is too short`, ai);
    }
    pos += part.length;
    const bad = charsetOk(c.type, part);
    if (bad !== undefined) {
      const set = {
        N: 'digits',
        X: 'GS1 character set 82',
        Y: 'GS1 character set 39',
        Z: 'base64url',
      }[c.type];
      throw new Gs1Error(
        'ILLEGAL_CHARACTER',
        `the value ${JSON.stringify(value)} is invalid for AI (${ai}): ${JSON.stringify(bad)} is not in ${set}`,
        ai,
      );
    }
    for (const linter of c.linters) {
      const rule = LINTERS[linter];
      if (rule && !rule[1](part)) {
        const what =
          rule[0] === 'BAD_CHECK_DIGIT'
            ? 'check digit'
            : rule[0] === 'BAD_DATE'
              ? 'date/time'
              : linter;
        throw new Gs1Error(
          rule[0],
          `the value ${JSON.stringify(value)} is invalid for AI (${ai}): bad ${what}`,
          ai,
        );
      }
    }
  }
  if (pos < value.length) {
    throw new Gs1Error('BAD_LENGTH', `the value of AI (${ai}) is too long`, ai);
  }
}

function matchesPattern(ai: string, pattern: string): boolean {
  return ai.length === pattern.length && [...pattern].every((p, i) => p === 'n' || p === ai[i]);
}

/**
 * Checks a whole message: identical repeats are dropped, a repeated AI with a
 * different value and dictionary `ex=` pairs are rejected (§4.14). `req=`
 * associations are not enforced: real labels (and the GS1 vectors) carry
 * partial data, and verification needs only the key.
 * @throws Gs1Error DUPLICATE_AI or CONFLICTING_AI.
 */
export function checkMessage(elements: readonly AiValue[]): AiValue[] {
  const seen = new Map<string, string>();
  const out: AiValue[] = [];
  for (const e of elements) {
    const prev = seen.get(e.ai);
    if (prev !== undefined) {
      if (prev !== e.value) {
        throw new Gs1Error(
          'DUPLICATE_AI',
          `AI (${e.ai}) appears twice with different values`,
          e.ai,
        );
      }
      continue;
    }
    seen.set(e.ai, e.value);
    out.push(e);
  }
  for (const e of out) {
    const def = TABLE.get(e.ai);
    for (const pattern of def?.ex ?? []) {
      const other = out.find((o) => o.ai !== e.ai && matchesPattern(o.ai, pattern));
      if (other) {
        throw new Gs1Error(
          'CONFLICTING_AI',
          `AI (${e.ai}) must not appear together with AI (${other.ai})`,
          e.ai,
        );
      }
    }
  }
  return out;
}
