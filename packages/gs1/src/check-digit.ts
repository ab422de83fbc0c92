// GS1 mod-10 check digits (GS1 General Specifications §7.9.1) and the
// csumalpha check character pair (§7.9.5) used by AI 8013 (GMN).

import { Gs1Error } from './errors.js';

const DIGITS = /^[0-9]+$/;

/**
 * Computes the GS1 mod-10 check digit for `digits` (the data without its check
 * digit): weights 3,1,3,1,... from the rightmost data digit (§7.9.1).
 * @throws Gs1Error ILLEGAL_CHARACTER when `digits` is empty or not all digits.
 */
export function gs1CheckDigit(digits: string): string {
  if (typeof digits !== 'string' || !DIGITS.test(digits)) {
    throw new Gs1Error('ILLEGAL_CHARACTER', 'a check digit needs a non-empty string of digits');
  }
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = 4 - w) {
    sum += (digits.charCodeAt(i) - 48) * w;
  }
  return String((10 - (sum % 10)) % 10);
}

/**
 * True when `code` is all digits, of a GS1 key length (GTIN-8/12/13/14, GLN 13,
 * GSIN 17, SSCC 18) and its last digit is the mod-10 check digit of the rest.
 */
export function isValidCheckDigit(code: string): boolean {
  if (typeof code !== 'string' || !DIGITS.test(code)) return false;
  if (![8, 12, 13, 14, 17, 18].includes(code.length)) return false;
  return gs1CheckDigit(code.slice(0, -1)) === code.slice(-1);
}

/** True when `digits` (2+ digits, any length) ends with its mod-10 check digit. */
export function hasValidMod10(digits: string): boolean {
  return (
    digits.length >= 2 &&
    DIGITS.test(digits) &&
    gs1CheckDigit(digits.slice(0, -1)) === digits.slice(-1)
  );
}

/**
 * Left-pads a GTIN-8/12/13/14 with zeros to GTIN-14 (§3.3.2: GTINs are handled
 * as 14 digits) after checking its check digit.
 * @throws Gs1Error BAD_LENGTH / ILLEGAL_CHARACTER / BAD_CHECK_DIGIT (ai '01').
 */
export function normalizeGtin(gtin: string): string {
  if (typeof gtin !== 'string') throw new Gs1Error('BAD_INPUT', 'GTIN must be a string', '01');
  if (!DIGITS.test(gtin)) throw new Gs1Error('ILLEGAL_CHARACTER', 'GTIN must be digits only', '01');
  if (![8, 12, 13, 14].includes(gtin.length)) {
    throw new Gs1Error(
      'BAD_LENGTH',
      `GTIN must have 8, 12, 13 or 14 digits, got ${gtin.length}`,
      '01',
    );
  }
  if (!hasValidMod10(gtin)) {
    throw new Gs1Error('BAD_CHECK_DIGIT', `GTIN ${gtin} has a bad check digit`, '01');
  }
  return gtin.padStart(14, '0');
}

// GS1 AI encodable character set 82 in the order of §7.11 figure 7.11-1; the
// index of a character is its value in the csumalpha computation (§7.9.5).
export const CSET82 =
  '!"%&\'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
// Check characters of a csumalpha pair (§7.9.5, CSET 32).
const CSET32 = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
// Weights of §7.9.5: ascending primes, the smallest on the rightmost data character.
const PRIMES: number[] = [];
for (let n = 2; PRIMES.length < 97; n++) if (PRIMES.every((p) => n % p !== 0)) PRIMES.push(n);

/**
 * True when the last two characters of `value` are its csumalpha check pair
 * (§7.9.5): data values are CSET 82 indexes, weighted, summed mod 1021 and
 * split into two 5-bit CSET 32 characters.
 */
export function isValidCsumAlpha(value: string): boolean {
  const len = value.length - 2;
  if (len < 0 || len > PRIMES.length) return false;
  let sum = 0;
  for (let i = 0; i < len; i++) {
    const v = CSET82.indexOf(value[i]!);
    if (v < 0) return false;
    sum += v * PRIMES[len - 1 - i]!;
  }
  sum %= 1021;
  return value[len] === CSET32[sum >> 5] && value[len + 1] === CSET32[sum & 31];
}
