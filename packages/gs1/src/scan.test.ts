import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Gs1Error } from './errors.js';
import { centuryAt, resolveCentury } from './date.js';
import { formatSubject, parseScan, parseSubject } from './scan.js';

function codeOf(fn: () => unknown): { code: string; ai: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof Gs1Error) return { code: e.code, ai: e.ai };
    throw e;
  }
  throw new Error('expected a Gs1Error');
}

const UNIT = {
  subject: '01/09506000134352/21/XYZ',
  gtin: '09506000134352',
  serial: 'XYZ',
  lot: 'ABC',
  expiry: '2020-12-31',
};

describe('parseScan', () => {
  it.each([
    ['raw GS1 DataMatrix data', ']d2010950600013435217201231\x1d10ABC\x1d21XYZ'],
    ['raw GS1-128 data', ']C101095060001343521720123110ABC\x1d21XYZ'],
    ['GS1 QR data with a trailing CR LF', ']Q301095060001343521720123110ABC\x1d21XYZ\r\n'],
    ['data without symbology identifier', '010950600013435217201231\x1d21XYZ\x1d10ABC'],
    ['a bracketed element string', '(01)09506000134352(17)201231(10)ABC(21)XYZ'],
    ['a Digital Link', 'https://example.com/01/09506000134352/10/ABC/21/XYZ?17=201231'],
    [
      'a Digital Link in a plain QR code',
      ']Q1https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=201231',
    ],
    [
      'a Digital Link with a GTIN-13',
      '  https://example.com/01/9506000134352/10/ABC/21/XYZ?exp=201231 ',
    ],
  ])('reads %s', (_name, input) => {
    expect(parseScan(input)).toEqual(UNIT);
  });

  describe('when the scanner sends a printable GS stand-in', () => {
    const wedge = ']d201095060001343521720123110ABC<GS>21XYZ';

    it('reads it only under the opted-in keyboard-wedge-gs profile', () => {
      expect(parseScan(wedge, { profile: 'keyboard-wedge-gs' })).toEqual(UNIT);
    });

    it('by default takes only 0x1D as separator and names the rule broken', () => {
      expect(codeOf(() => parseScan(wedge))).toEqual({ code: 'MISSING_SEPARATOR', ai: '10' });
      expect(codeOf(() => parseScan(wedge.replace('<GS>', '|')))).toEqual({
        code: 'ILLEGAL_CHARACTER',
        ai: '10',
      });
      // "<GS>" alone is CSET 82: the serial keeps it, it is not a separator.
      expect(parseScan(']d20109506000134352\x1d21AB<GS>C').serial).toBe('AB<GS>C');
    });
  });

  it('percent-encodes the serial in the subject', () => {
    expect(parseScan('https://example.com/01/09506000134352/10/LOT1/21/SER%2F1?17=270131')).toEqual(
      {
        subject: '01/09506000134352/21/SER%2F1',
        gtin: '09506000134352',
        serial: 'SER/1',
        lot: 'LOT1',
        expiry: '2027-01-31',
      },
    );
  });

  it('reads a logistic unit by SSCC from element strings, Digital Link and EPC URI', () => {
    const want = { subject: '00/106141412345678908', sscc: '106141412345678908' };
    expect(parseScan(']C100106141412345678908')).toEqual(want);
    expect(parseScan('https://id.gs1.org/00/106141412345678908')).toEqual(want);
    expect(parseScan('urn:epc:id:sscc:0614141.1234567890')).toEqual(want);
  });

  it('reads a Digital Link behind a GS1 symbology identifier', () => {
    expect(parseScan(']d2https://example.com/01/09506000134352/10/ABC/21/XYZ?17=201231')).toEqual(
      UNIT,
    );
    expect(parseScan(']Q3https://example.com/01/09506000134352/10/ABC/21/XYZ?17=201231')).toEqual(
      UNIT,
    );
  });

  it('reads {sscc} as a logistic unit', () => {
    expect(parseScan({ sscc: '106141412345678908' })).toEqual({
      subject: '00/106141412345678908',
      sscc: '106141412345678908',
    });
    expect(codeOf(() => parseScan({ sscc: '106141412345678909' }))).toEqual({
      code: 'BAD_CHECK_DIGIT',
      ai: '00',
    });
  });

  it('reports a serial swallowed by the lot (no GS after AI 10) as MISSING_SEPARATOR on AI 10', () => {
    expect(codeOf(() => parseScan(']d2010950600013435210ABC12321XYZ'))).toEqual({
      code: 'MISSING_SEPARATOR',
      ai: '10',
    });
    // Bracketed data needs no separator: there the lot really is ABC21XYZ.
    expect(codeOf(() => parseScan('(01)09506000134352(10)ABC21XYZ'))).toEqual({
      code: 'MISSING_SERIAL',
      ai: '21',
    });
    expect(codeOf(() => parseScan('010950600013435210ABC'))).toEqual({
      code: 'MISSING_SERIAL',
      ai: '21',
    });
  });

  it('reads an SGTIN EPC URI', () => {
    expect(parseScan('urn:epc:id:sgtin:0614141.812345.ABC%2F1')).toEqual({
      subject: '01/80614141123458/21/ABC%2F1',
      gtin: '80614141123458',
      serial: 'ABC/1',
    });
  });

  it('reads {gtin, serial}, normalising the GTIN to 14 digits', () => {
    expect(parseScan({ gtin: '9506000134352', serial: 'ABC/1' })).toEqual({
      subject: '01/09506000134352/21/ABC%2F1',
      gtin: '09506000134352',
      serial: 'ABC/1',
    });
  });

  it.each([
    ['240200', '2024-02-29'],
    ['230200', '2023-02-28'],
    ['000200', '2000-02-29'],
    ['251100', '2025-11-30'],
    ['251200', '2025-12-31'],
    ['250415', '2025-04-15'],
  ])('resolves expiry %s to %s (day 00 is the last day of the month)', (yymmdd, iso) => {
    expect(parseScan(`(01)09506000134352(17)${yymmdd}(21)X`).expiry).toBe(iso);
  });

  describe('the GS1 §7.12 two-digit year', () => {
    // §7.12: YY − (current year mod 100) ≥ 51 → previous century; ≤ −50 → next; else current.
    it.each([
      [99, 2026, 1999], // 73 ≥ 51
      [77, 2026, 1977], // 51: previous century
      [76, 2026, 2076], // 50: current century
      [0, 2026, 2000],
      [75, 2025, 2075],
      [76, 2025, 1976],
      [40, 2090, 2140], // −50: next century
      [41, 2090, 2041], // −49: current century
      [0, 2099, 2100],
      [49, 2099, 2149],
      [50, 2099, 2050],
    ])('reads YY %i in %i as %i', (yy, year, full) => {
      expect(resolveCentury(yy, { referenceYear: year })).toBe(full);
    });

    it('takes the reference year from the clock the caller passes in (UTC)', () => {
      expect(centuryAt(Date.UTC(2026, 11, 6))).toEqual({ referenceYear: 2026 });
      expect(centuryAt(Date.UTC(2026, 11, 31, 23, 59, 59))).toEqual({ referenceYear: 2026 });
      const expiry = (now: number) =>
        parseScan('(01)09506000134352(17)991231(21)X', centuryAt(now)).expiry;
      expect(expiry(Date.UTC(2026, 0, 1))).toBe('1999-12-31');
      expect(expiry(Date.UTC(2060, 0, 1))).toBe('2099-12-31');
    });
  });

  it('applies the GS1 §7.12 century window when given a reference year', () => {
    const exp = (yymmdd: string, referenceYear: number): string | undefined =>
      parseScan(`(01)09506000134352(17)${yymmdd}(21)X`, { referenceYear }).expiry;
    expect(exp('751231', 2025)).toBe('2075-12-31');
    expect(exp('761231', 2025)).toBe('1976-12-31');
    expect(exp('050101', 2090)).toBe('2105-01-01');
    expect(exp('410101', 2090)).toBe('2041-01-01');
    expect(exp('400101', 2090)).toBe('2140-01-01');
    expect(exp('990101', 2001)).toBe('1999-01-01');
  });

  it.each([
    ['', 'EMPTY', undefined],
    [' \r\n', 'EMPTY', undefined],
    ['(01)09506000134352(10)LOT', 'MISSING_SERIAL', '21'],
    ['https://id.gs1.org/01/09506000134352', 'MISSING_SERIAL', '21'],
    ['(10)LOT', 'NO_KEY', undefined],
    ['https://id.gs1.org/414/0614141000005', 'NO_KEY', undefined],
    ['(01)09506000134353(21)X', 'BAD_CHECK_DIGIT', '01'],
    ['(01)09506000134352(21)X Y', 'ILLEGAL_CHARACTER', '21'],
    ['(99)x(01)09506000134352', 'MISSING_SERIAL', '21'],
    ['0109506000134352211234567890123456789017251231', 'MISSING_SEPARATOR', '21'],
    [']Q10109506000134352', 'BAD_SYMBOLOGY', undefined],
    ['urn:epc:id:sgtin:0614141.812345', 'BAD_EPC_URI', '01'],
    ['https://id.gs1.org/01/09506000134352/21/%', 'BAD_DIGITAL_LINK', '21'],
  ])('rejects %j with %s', (input, code, ai) => {
    expect(codeOf(() => parseScan(input))).toEqual({ code, ai });
  });

  it('rejects the brief’s sample whose AI 17 reads YYMMDD 123100 (month 31) with BAD_DATE', () => {
    // "]d2 01 09506000134352 17 123100 10 ABC123 GS 21 XYZ": month 31 does not exist.
    expect(codeOf(() => parseScan(']d201095060001343521712310010ABC123\x1d21XYZ'))).toEqual({
      code: 'BAD_DATE',
      ai: '17',
    });
    expect(parseScan(']d201095060001343521725123110ABC123\x1d21XYZ')).toEqual({
      subject: '01/09506000134352/21/XYZ',
      gtin: '09506000134352',
      serial: 'XYZ',
      lot: 'ABC123',
      expiry: '2025-12-31',
    });
  });

  it('refuses oversized input before parsing it', () => {
    expect(codeOf(() => parseScan('9'.repeat(8193))).code).toBe('BAD_LENGTH');
    expect(codeOf(() => parseScan('https://x.org' + '/01'.repeat(2000))).code).toBe(
      'BAD_QUALIFIER',
    );
  });

  it('rejects non-string, non-object input with a coded error', () => {
    for (const bad of [
      null,
      undefined,
      42,
      true,
      [],
      {},
      { gtin: 1, serial: 'x' },
      { gtin: '09506000134352' },
    ]) {
      expect(() => parseScan(bad as never)).toThrow(Gs1Error);
    }
  });

  const onlyGs1Errors = (input: unknown): void => {
    try {
      parseScan(input as string);
    } catch (e) {
      if (!(e instanceof Gs1Error)) throw e;
    }
  };

  it('never throws anything but Gs1Error on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), onlyGs1Errors), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'binary' }), onlyGs1Errors), { numRuns: 2000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme' }), onlyGs1Errors), { numRuns: 1000 });
    fc.assert(fc.property(fc.anything(), onlyGs1Errors), { numRuns: 1000 });
  });

  it('never throws anything but Gs1Error on mutations of valid scans', () => {
    const valid = [
      ']d2010950600013435217201231\x1d10ABC\x1d21XYZ',
      '(01)09506000134352(17)201231(10)ABC(21)XYZ',
      'https://example.com/01/09506000134352/10/LOT1/21/SER%2F1?17=270131',
      'urn:epc:id:sgtin:0614141.812345.ABC%2F1',
      'urn:epc:id:sscc:0614141.1234567890',
      '0109506000134352211234567890<GS>17251231',
    ];
    const alphabet = fc.constantFrom(
      ...'0123456789()%/?=&#<>]\x1d\u241d~|^ .:aZ\uD800\u00e9',
      '<GS>',
      '%E0',
      '%2F',
    );
    const mutation = fc.tuple(
      fc.nat(),
      fc.nat(3),
      fc.oneof(alphabet, fc.string({ unit: 'binary', maxLength: 3 })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...valid),
        fc.array(mutation, { maxLength: 6 }),
        (base, edits) => {
          let s = base;
          for (const [at, kind, text] of edits) {
            const i = s.length === 0 ? 0 : at % (s.length + 1);
            if (kind === 0) s = s.slice(0, i) + text + s.slice(i);
            else if (kind === 1) s = s.slice(0, i) + s.slice(i + 1);
            else if (kind === 2) s = s.slice(0, i) + text + s.slice(i + text.length);
            else s = s.slice(0, i);
          }
          onlyGs1Errors(s);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('formatSubject and parseSubject', () => {
  it('format the canonical unit and logistic-unit subjects (DESIGN §3)', () => {
    expect(formatSubject({ gtin: '09506000134352', serial: 'ABC/1' })).toBe(
      '01/09506000134352/21/ABC%2F1',
    );
    expect(formatSubject({ gtin: '9506000134352', serial: "A!'()*%" })).toBe(
      '01/09506000134352/21/A%21%27%28%29%2A%25',
    );
    expect(formatSubject({ sscc: '106141412345678908' })).toBe('00/106141412345678908');
  });

  it('parse canonical subjects back to their parts', () => {
    expect(parseSubject('01/09506000134352/21/ABC%2F1')).toEqual({
      gtin: '09506000134352',
      serial: 'ABC/1',
    });
    expect(parseSubject('00/106141412345678908')).toEqual({ sscc: '106141412345678908' });
  });

  it.each([
    ['01/09506000134352/21/ABC%2f1', 'BAD_SUBJECT'],
    ['01/09506000134352/21/A!', 'BAD_SUBJECT'],
    ['01/9506000134352/21/A', 'BAD_SUBJECT'],
    ['01/09506000134352', 'BAD_SUBJECT'],
    ['/01/09506000134352/21/A', 'BAD_SUBJECT'],
    ['https://id.gs1.org/01/09506000134352/21/A', 'BAD_SUBJECT'],
    ['01/09506000134353/21/A', 'BAD_CHECK_DIGIT'],
    ['01/09506000134352/21/%', 'BAD_SUBJECT'],
    ['01/09506000134352/21/A%20B', 'ILLEGAL_CHARACTER'],
    ['00/106141412345678907', 'BAD_CHECK_DIGIT'],
  ])('parseSubject rejects %j with %s', (subject, code) => {
    expect(codeOf(() => parseSubject(subject)).code).toBe(code);
  });

  it('refuses a unit without serial', () => {
    expect(codeOf(() => formatSubject({ gtin: '09506000134352' } as never))).toEqual({
      code: 'MISSING_SERIAL',
      ai: '21',
    });
  });

  it('round-trip every CSET 82 serial', () => {
    const serial = fc.string({
      unit: fc.constantFrom(
        ...'!"%&\'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
      ),
      minLength: 1,
      maxLength: 20,
    });
    fc.assert(
      fc.property(serial, (s) => {
        const subject = formatSubject({ gtin: '09506000134352', serial: s });
        expect(subject).toMatch(/^01\/09506000134352\/21\/[A-Za-z0-9\-._~%]+$/);
        expect(parseSubject(subject)).toEqual({ gtin: '09506000134352', serial: s });
        // A serial "." or ".." is a dot segment in a Digital Link path, which
        // the parser refuses rather than normalise (DESIGN §3 "exact").
        if (s === '.' || s === '..') {
          expect(codeOf(() => parseScan(`https://id.gs1.org/${subject}`)).code).toBe(
            'BAD_DIGITAL_LINK',
          );
        } else {
          expect(parseScan(`https://id.gs1.org/${subject}`).subject).toBe(subject);
        }
      }),
      { examples: [['.'], ['..'], ['.a']] },
    );
  });
});
