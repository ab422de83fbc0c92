// GS1 dates (General Specifications §7.12): YYMMDD with a sliding century
// window, and day 00 meaning the last day of the month (AIs 11-17).

import { daysInMonth } from './ai.js';
import { Gs1Error } from './errors.js';

/** How to pick the century of a two-digit year. */
export interface CenturyOptions {
  /**
   * The current year (e.g. 2025), for the §7.12 sliding window: a YY more than
   * 50 years ahead of it belongs to the previous century, one 50 or more years
   * behind it to the next. The package never reads the clock; without this
   * option every YY is taken as 20YY.
   */
  readonly referenceYear?: number;
}

/**
 * The §7.12 options for the UTC year of `epochMs`: callers pass their clock
 * (issuer and verifier the same one), the package never reads it.
 */
export function centuryAt(epochMs: number): CenturyOptions {
  return { referenceYear: new Date(epochMs).getUTCFullYear() };
}

/** Full year for a two-digit `yy` (§7.12; 2000 + yy when no referenceYear is given). */
export function resolveCentury(yy: number, options: CenturyOptions = {}): number {
  const ref = options.referenceYear;
  if (ref === undefined || !Number.isInteger(ref)) return 2000 + yy;
  const century = ref - (ref % 100);
  const diff = yy - (ref % 100);
  if (diff >= 51) return century - 100 + yy;
  if (diff <= -50) return century + 100 + yy;
  return century + yy;
}

/**
 * Converts a GS1 YYMMDD date to ISO `YYYY-MM-DD`; day 00 becomes the last day
 * of the month (leap years included).
 * @throws Gs1Error BAD_DATE (with `ai`) for anything else.
 */
export function gs1DateToIso(yymmdd: string, options: CenturyOptions = {}, ai = '17'): string {
  const m = /^(\d\d)(\d\d)(\d\d)$/.exec(yymmdd);
  if (!m) throw new Gs1Error('BAD_DATE', `AI (${ai}) date must be YYMMDD`, ai);
  const year = resolveCentury(Number(m[1]), options);
  const month = Number(m[2]);
  let day = Number(m[3]);
  if (month < 1 || month > 12) throw new Gs1Error('BAD_DATE', `AI (${ai}) has month ${m[2]}`, ai);
  const last = daysInMonth(year, month);
  if (day === 0) day = last;
  if (day > last)
    throw new Gs1Error('BAD_DATE', `AI (${ai}) has day ${m[3]} in ${year}-${m[2]}`, ai);
  return `${year}-${m[2]}-${String(day).padStart(2, '0')}`;
}

/**
 * Converts ISO `YYYY-MM-DD` to GS1 YYMMDD (the day is kept as is, never 00).
 * @throws Gs1Error BAD_DATE when `iso` is not a valid calendar date.
 */
export function isoDateToGs1(iso: string, ai = '17'): string {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(iso);
  if (!m) throw new Gs1Error('BAD_DATE', `AI (${ai}) date must be YYYY-MM-DD`, ai);
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new Gs1Error('BAD_DATE', `${iso} is not a calendar date`, ai);
  }
  return m[1]!.slice(2) + m[2] + m[3];
}
