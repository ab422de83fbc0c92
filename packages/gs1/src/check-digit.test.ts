import { describe, expect, it } from '@jest/globals';
import {
  gs1CheckDigit,
  isValidCheckDigit,
  isValidCsumAlpha,
  normalizeGtin,
} from './check-digit.js';
import { Gs1Error } from './errors.js';

describe('gs1CheckDigit', () => {
  it.each([
    ['GTIN-14', '0950600013435', '2'],
    ['SSCC', '10614141234567890', '8'],
    ['GLN', '061414100000', '5'],
    ['GTIN-13', '540364000013', '6'],
    ['GTIN-8', '9638507', '4'],
    ['GTIN-12', '03600029145', '2'],
  ])('computes the mod-10 check digit of a %s', (_kind, data, digit) => {
    expect(gs1CheckDigit(data)).toBe(digit);
  });

  it('throws a coded error for non-digits', () => {
    expect(() => gs1CheckDigit('12a')).toThrow(Gs1Error);
    expect(() => gs1CheckDigit('')).toThrow(Gs1Error);
  });
});

describe('isValidCheckDigit', () => {
  it.each([
    '09506000134352',
    '106141412345678908',
    '0614141000005',
    '96385074',
    '036000291452',
    '5403640000136',
  ])('accepts %s', (code) => expect(isValidCheckDigit(code)).toBe(true));

  it.each([
    '09506000134353',
    '106141412345678907',
    '0614141000006',
    '0950600013435',
    'ABCDEFGHIJKLM',
    '',
  ])('rejects %s', (code) => expect(isValidCheckDigit(code)).toBe(false));
});

describe('normalizeGtin', () => {
  it('left-pads GTIN-8, -12 and -13 to GTIN-14', () => {
    expect(normalizeGtin('96385074')).toBe('00000096385074');
    expect(normalizeGtin('036000291452')).toBe('00036000291452');
    expect(normalizeGtin('5412345000013')).toBe('05412345000013');
    expect(normalizeGtin('09506000134352')).toBe('09506000134352');
  });

  it.each([
    ['09506000134', 'BAD_LENGTH'],
    ['09506000134353', 'BAD_CHECK_DIGIT'],
    ['0950600013435X', 'ILLEGAL_CHARACTER'],
  ])('rejects %s with %s', (gtin, code) => {
    expect(() => normalizeGtin(gtin)).toThrow(expect.objectContaining({ code, ai: '01' }));
  });
});

describe('isValidCsumAlpha (AI 8013 check character pair)', () => {
  // Valid values from GS1's reference linter tests and the DL vectors.
  it.each([
    '22',
    '!22',
    '1987654Ad4X4bL5ttr2310c2K',
    '12345678901234567890123NT',
    '12345678901234MS',
    '5060917511473062B98T',
  ])('accepts %s', (v) => expect(isValidCsumAlpha(v)).toBe(true));

  it.each(['12345678901234MT', '1987654Ad4X4bL5ttr2310c2L', '2', 'ab~cd22'])('rejects %s', (v) =>
    expect(isValidCsumAlpha(v)).toBe(false),
  );
});
