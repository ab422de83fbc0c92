import { describe, expect, it } from '@jest/globals';
import { formatElementString, GS, parseElementString } from './element-string.js';
import { Gs1Error } from './errors.js';

const UNIT = [
  { ai: '01', value: '09506000134352' },
  { ai: '17', value: '251231' },
  { ai: '10', value: 'ABC123' },
  { ai: '21', value: 'XYZ' },
];

function codeOf(fn: () => unknown): { code: string; ai: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof Gs1Error) return { code: e.code, ai: e.ai };
    throw e;
  }
  throw new Error('expected a Gs1Error');
}

describe('parseElementString', () => {
  it('splits unbracketed data: no separator after predefined-length AIs, GS after variable ones', () => {
    expect(parseElementString(`01095060001343521725123110ABC123${GS}21XYZ`)).toEqual(UNIT);
  });

  it.each([']C1', ']e0', ']d2', ']Q3', ']J1'])('accepts the GS1 symbology identifier %s', (id) => {
    expect(parseElementString(`${id}01095060001343521725123110ABC123${GS}21XYZ`)).toEqual(UNIT);
  });

  it('ignores a leading GS (FNC1 in first position) and a trailing one', () => {
    expect(parseElementString(`]d2${GS}01095060001343521725123110ABC123${GS}21XYZ${GS}`)).toEqual(
      UNIT,
    );
  });

  it.each([']d1', ']Q1', ']C0', ']E0', ']A0'])(
    'rejects the non-GS1 symbology identifier %s',
    (id) => {
      expect(codeOf(() => parseElementString(`${id}0109506000134352`)).code).toBe('BAD_SYMBOLOGY');
    },
  );

  const WEDGE = { profile: 'keyboard-wedge-gs' } as const;

  // Every documented GS stand-in of the keyboard-wedge-gs profile (element-string.ts).
  const STAND_INS: [string, string][] = [
    ['U+241D', '\u241d'],
    ['<GS>', '<GS>'],
    ['<gs>', '<gs>'],
    ['{GS}', '{GS}'],
    ['[GS]', '[GS]'],
    ['<FNC1>', '<FNC1>'],
    ['literal \\x1d', '\\x1d'],
    ['literal \\u001d', '\\u001d'],
    ['|', '|'],
    ['^', '^'],
    ['~', '~'],
    ['^FNC1', '^FNC1'],
    ['~1', '~1'],
  ];

  it('treats 0x1D as the GS separator by default', () => {
    expect(parseElementString(`01095060001343521725123110ABC123${GS}21XYZ`)).toEqual(UNIT);
  });

  it.each(STAND_INS)(
    'treats %s as the GS separator under the keyboard-wedge-gs profile',
    (_name, sep) => {
      expect(parseElementString(`01095060001343521725123110ABC123${sep}21XYZ`, WEDGE)).toEqual(
        UNIT,
      );
    },
  );

  describe('without a scanner profile', () => {
    it.each(STAND_INS)('never reads %s as a separator', (_name, sep) => {
      let got: unknown;
      try {
        got = parseElementString(`01095060001343521725123110ABC123${sep}21XYZ`);
      } catch (e) {
        got = e;
      }
      // Either data of AI 10 (CSET 82 characters such as <GS>) or an error naming AI 10.
      if (got instanceof Gs1Error) expect(got.ai).toBe('10');
      else expect(got).toContainEqual({ ai: '10', value: `ABC123${sep}21XYZ` });
    });

    it('keeps "<GS>" as serial characters: < and > are CSET 82', () => {
      expect(parseElementString(`0109506000134352${GS}21A<GS>B`)).toEqual([
        { ai: '01', value: '09506000134352' },
        { ai: '21', value: 'A<GS>B' },
      ]);
      expect(parseElementString(`0109506000134352${GS}21A<GS>10B`, WEDGE)).toEqual([
        { ai: '01', value: '09506000134352' },
        { ai: '21', value: 'A' },
        { ai: '10', value: 'B' },
      ]);
    });

    it('refuses an unknown profile name', () => {
      expect(
        codeOf(() => parseElementString('0109506000134352', { profile: 'wedge' as never })).code,
      ).toBe('BAD_INPUT');
    });
  });

  it.each([
    ['^FNC1', '^FNC1'],
    ['~1', '~1'],
  ])('treats %s before an AI starting with 1 as the GS separator (profile)', (_name, sep) => {
    expect(parseElementString(`01095060001343521725123110ABC123${sep}21XYZ`, WEDGE)).toEqual(UNIT);
    expect(parseElementString(`010950600013435221XYZ${sep}10ABC123`, WEDGE)).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '21', value: 'XYZ' },
      { ai: '10', value: 'ABC123' },
    ]);
  });

  it('reads "~" then an AI starting with 1 as GS + AI before trying "~1" as FNC1', () => {
    expect(parseElementString('010950600013435221XYZ~10ABC123', WEDGE)).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '21', value: 'XYZ' },
      { ai: '10', value: 'ABC123' },
    ]);
  });

  it.each([
    ['(01)09506000134352(21)A~B'],
    ['(01)09506000134352(21)AB|'],
    ['010950600013435221AB^C'],
    ['010950600013435221ABC~'],
  ])('reports a single | ^ ~ that no AI follows as ILLEGAL_CHARACTER: %j', (input) => {
    expect(codeOf(() => parseElementString(input, WEDGE))).toEqual({
      code: 'ILLEGAL_CHARACTER',
      ai: '21',
    });
  });

  it('parses the bracketed form, with \\( as an escaped parenthesis in data', () => {
    expect(parseElementString('(01)09506000134352(17)251231(10)ABC123(21)XYZ')).toEqual(UNIT);
    expect(parseElementString('(01)09506000134352(21)A\\(B)C')).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '21', value: 'A(B)C' },
    ]);
  });

  it('reports a lost separator as MISSING_SEPARATOR on the variable-length AI', () => {
    // Serial 12345678901234567890 ran into (17)251231.
    expect(
      codeOf(() => parseElementString('0109506000134352211234567890123456789017251231')),
    ).toEqual({
      code: 'MISSING_SEPARATOR',
      ai: '21',
    });
  });

  it('reports a value that is simply too long as BAD_LENGTH', () => {
    expect(codeOf(() => parseElementString('010950600013435221ABCDEFGHIJKLMNOPQRSTUVWXY'))).toEqual(
      {
        code: 'BAD_LENGTH',
        ai: '21',
      },
    );
  });

  it.each([
    ['', 'EMPTY', undefined],
    [GS, 'EMPTY', undefined],
    ['0109506000134353', 'BAD_CHECK_DIGIT', '01'],
    ['01095060001343', 'BAD_LENGTH', '01'],
    ['(01)09506000134352(21)AB CD', 'ILLEGAL_CHARACTER', '21'],
    ['(01)09506000134352(17)251340', 'BAD_DATE', '17'],
    ['(01)09506000134352(21)A(21)B', 'DUPLICATE_AI', '21'],
    ['(01)09506000134352(02)09506000134352(37)5', 'CONFLICTING_AI', '01'],
    ['(49)1234', 'UNKNOWN_AI', '49'],
    ['(01)09506000134352(21)', 'BAD_LENGTH', '21'],
    ['01(09506000134352', 'ILLEGAL_CHARACTER', '01'],
    ['hello', 'UNKNOWN_AI', undefined],
  ])('rejects %j with %s', (input, code, ai) => {
    expect(codeOf(() => parseElementString(input))).toEqual({ code, ai });
  });

  it('drops an identical repeat of an element string', () => {
    expect(parseElementString('(01)09506000134352(21)A(21)A')).toHaveLength(2);
  });

  it('only splits when validation is off', () => {
    expect(parseElementString('(01)05412345000013(15)ABCDEF', { validate: false })).toEqual([
      { ai: '01', value: '05412345000013' },
      { ai: '15', value: 'ABCDEF' },
    ]);
  });
});

describe('formatElementString', () => {
  it('puts predefined-length AIs first and a GS after each variable-length value but the last', () => {
    const out = formatElementString([
      { ai: '21', value: 'XYZ' },
      { ai: '10', value: 'ABC123' },
      { ai: '01', value: '09506000134352' },
      { ai: '17', value: '251231' },
    ]);
    expect(out).toBe(`010950600013435217251231` + `21XYZ${GS}10ABC123`);
  });

  it('writes a separator after fixed-length AIs that are not predefined (8006)', () => {
    expect(
      formatElementString(
        [
          { ai: '8006', value: '054123450000130201' },
          { ai: '10', value: 'L' },
        ],
        { separator: '<GS>' },
      ),
    ).toBe('8006054123450000130201<GS>10L');
  });

  it('formats parts, normalising the GTIN and the ISO expiry', () => {
    const parts = { gtin: '5412345000013', serial: 'S/1', lot: 'L1', expiry: '2029-03-31' };
    expect(formatElementString(parts, { bracketed: true })).toBe(
      '(01)05412345000013(17)290331(10)L1(21)S/1',
    );
    expect(parseElementString(formatElementString(parts))).toEqual(
      parseElementString('(01)05412345000013(17)290331(10)L1(21)S/1'),
    );
  });

  it('escapes "(" in bracketed output so it parses back', () => {
    const list = [
      { ai: '01', value: '09506000134352' },
      { ai: '21', value: 'A(21)B' },
    ];
    const text = formatElementString(list, { bracketed: true });
    expect(text).toBe('(01)09506000134352(21)A\\(21)B');
    expect(parseElementString(text)).toEqual(list);
  });

  it('refuses invalid data and empty input with a coded error', () => {
    expect(codeOf(() => formatElementString([{ ai: '01', value: '1' }])).code).toBe('BAD_LENGTH');
    expect(codeOf(() => formatElementString([])).code).toBe('EMPTY');
  });
});
