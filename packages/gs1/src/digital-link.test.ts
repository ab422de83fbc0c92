import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatDigitalLink, normalizeUriStem, parseDigitalLink } from './digital-link.js';
import { Gs1Error } from './errors.js';

function codeOf(fn: () => unknown): { code: string; ai: string | undefined } {
  try {
    fn();
  } catch (e) {
    if (e instanceof Gs1Error) return { code: e.code, ai: e.ai };
    throw e;
  }
  throw new Error('expected a Gs1Error');
}

describe('parseDigitalLink', () => {
  it('reads key, qualifiers and query attributes on any host, percent-decoding values', () => {
    expect(
      parseDigitalLink('https://example.com/01/09506000134352/10/LOT1/21/SER%2F1?17=270131'),
    ).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '10', value: 'LOT1' },
      { ai: '21', value: 'SER/1' },
      { ai: '17', value: '270131' },
    ]);
  });

  it('skips a resolver path stem, a fragment and non-GS1 query parameters', () => {
    expect(
      parseDigitalLink(
        'HTTP://Resolver.Example:8080/a/b/01/9506000134352/21/X?linkType=gs1:pip&10=L#frag',
      ),
    ).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '21', value: 'X' },
      { ai: '10', value: 'L' },
    ]);
  });

  it('accepts short names in the path and the query', () => {
    expect(
      parseDigitalLink('https://id.gs1.org/gtin/09506000134352/lot/L/ser/S?exp=251200'),
    ).toEqual([
      { ai: '01', value: '09506000134352' },
      { ai: '10', value: 'L' },
      { ai: '21', value: 'S' },
      { ai: '17', value: '251200' },
    ]);
  });

  it('reads SSCC and GLN keys', () => {
    expect(parseDigitalLink('https://x.org/00/106141412345678908')).toEqual([
      { ai: '00', value: '106141412345678908' },
    ]);
    expect(parseDigitalLink('https://x.org/414/0614141000005/254/A1')).toEqual([
      { ai: '414', value: '0614141000005' },
      { ai: '254', value: 'A1' },
    ]);
  });

  it.each([
    ['https://x.org/01/09506000134352/21/S/10/L', 'BAD_QUALIFIER', '10'],
    ['https://x.org/01/09506000134352/254/S', 'BAD_QUALIFIER', '254'],
    ['https://x.org/00/106141412345678908/21/S', 'BAD_QUALIFIER', '21'],
    ['https://x.org/01/09506000134353/21/S', 'BAD_CHECK_DIGIT', '01'],
    ['https://x.org/01/09506000134352/21/S%20T', 'ILLEGAL_CHARACTER', '21'],
    ['https://x.org/01/09506000134352/21/S%E0', 'BAD_DIGITAL_LINK', '21'],
    ['https://x.org/01/09506000134352?21=S', 'BAD_DIGITAL_LINK', '21'],
    ['https://x.org/01/09506000134352/21/S?21=T', 'BAD_DIGITAL_LINK', '21'],
    ['https://x.org/01/09506000134352/10/L?10=M', 'DUPLICATE_AI', '10'],
    ['https://x.org/01/09506000134352?17=251301', 'BAD_DATE', '17'],
    ['https://x.org/10/L', 'NO_KEY', undefined],
    ['https://x.org/', 'NO_KEY', undefined],
    ['ftp://x.org/01/09506000134352', 'BAD_DIGITAL_LINK', undefined],
    ['https:///01/09506000134352', 'BAD_DIGITAL_LINK', undefined],
    ['https://x.org/01/09506000134352/21/', 'BAD_DIGITAL_LINK', undefined],
  ])('rejects %s with %s', (uri, code, ai) => {
    expect(codeOf(() => parseDigitalLink(uri))).toEqual({ code, ai });
  });

  describe('when the path has a dot segment or an empty segment (DESIGN §3)', () => {
    it.each([
      ['https://x.org/01/09506000134352/21/.', '"."'],
      ['https://x.org/01/09506000134352/21/..', '".."'],
      ['https://x.org/a/../01/09506000134352/21/X', '".."'],
      ['https://x.org/./01/09506000134352/21/X', '"."'],
      ['https://x.org/01/09506000134352/21/%2E', '"%2E"'],
      ['https://x.org/01/09506000134352/21/%2e%2E', '"%2e%2E"'],
      ['https://x.org/01/09506000134352/21/.%2e', '".%2e"'],
    ])('refuses %s naming the dot segment', (uri, named) => {
      expect(codeOf(() => parseDigitalLink(uri)).code).toBe('BAD_DIGITAL_LINK');
      expect(() => parseDigitalLink(uri)).toThrow(`dot segment ${named}`);
    });

    it.each([
      'https://x.org/01/09506000134352//21/X',
      'https://x.org//01/09506000134352/21/X',
      'https://x.org/01/09506000134352/21/X/',
      'https://x.org/stem//01/09506000134352/21/X',
    ])('refuses the empty segment in %s', (uri) => {
      expect(() => parseDigitalLink(uri)).toThrow(/empty segment in the Digital Link path/);
      expect(codeOf(() => parseDigitalLink(uri)).code).toBe('BAD_DIGITAL_LINK');
    });

    it('still takes a serial that merely contains dots', () => {
      expect(parseDigitalLink('https://x.org/01/09506000134352/21/.X.')).toContainEqual({
        ai: '21',
        value: '.X.',
      });
    });
  });
});

describe('parseDigitalLink on hostile paths', () => {
  it('finds the key in linear time even when every segment looks like an AI', () => {
    const started = performance.now();
    expect(codeOf(() => parseDigitalLink('https://x.org' + '/01'.repeat(100_000))).code).toBe(
      'BAD_QUALIFIER',
    );
    expect(codeOf(() => parseDigitalLink('https://x.org' + '/21'.repeat(100_000))).code).toBe(
      'NO_KEY',
    );
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('formatDigitalLink', () => {
  it('puts the key and qualifiers in dlpkey order in the path and 17 in the query', () => {
    expect(
      formatDigitalLink({
        gtin: '9506000134352',
        serial: 'ABC/1',
        lot: 'L 1'.replace(' ', '-'),
        expiry: '2027-01-31',
      }),
    ).toBe('https://id.gs1.org/01/09506000134352/10/L-1/21/ABC%2F1?17=270131');
  });

  it('normalises the stem and can use short names', () => {
    expect(
      formatDigitalLink({ gtin: '09506000134352', serial: 'S' }, 'HTTPS://Example.COM:443/r/', {
        shortNames: true,
      }),
    ).toBe('https://example.com/r/gtin/09506000134352/ser/S');
    expect(formatDigitalLink({ sscc: '106141412345678908' }, 'http://localhost:8080')).toBe(
      'http://localhost:8080/00/106141412345678908',
    );
  });

  it.each(['https:+www.acme.org', 'https://www.acme.org:99999', 'https://a b', 'ftp://x.org', ''])(
    'rejects the URI stem %j',
    (stem) => {
      expect(codeOf(() => normalizeUriStem(stem)).code).toBe('BAD_URI_STEM');
    },
  );

  it('needs a primary key and refuses AIs that cannot be expressed', () => {
    expect(codeOf(() => formatDigitalLink([{ ai: '10', value: 'L' }])).code).toBe('NO_KEY');
    expect(
      codeOf(() =>
        formatDigitalLink([
          { ai: '00', value: '106141412345678908' },
          { ai: '21', value: 'S' },
        ]),
      ),
    ).toEqual({ code: 'BAD_DIGITAL_LINK', ai: '21' });
  });

  it('refuses a serial or lot "." or ".." that would be a dot segment of the path', () => {
    for (const v of ['.', '..']) {
      expect(codeOf(() => formatDigitalLink({ gtin: '09506000134352', serial: v }))).toEqual({
        code: 'BAD_DIGITAL_LINK',
        ai: '21',
      });
      expect(
        codeOf(() => formatDigitalLink({ gtin: '09506000134352', serial: 'S', lot: v })),
      ).toEqual({ code: 'BAD_DIGITAL_LINK', ai: '10' });
    }
  });

  it('round-trips any CSET 82 serial and lot (but "." and "..") through parseDigitalLink', () => {
    const cset82 = fc.string({
      unit: fc.constantFrom(...'!"%&\'()*+,-./0123456789:;<=>?ABCZ_az'),
      minLength: 1,
      maxLength: 20,
    });
    const notDots = cset82.filter((v) => v !== '.' && v !== '..');
    fc.assert(
      fc.property(notDots, notDots, (serial, lot) => {
        const uri = formatDigitalLink({ gtin: '09506000134352', serial, lot });
        expect(parseDigitalLink(uri)).toEqual([
          { ai: '01', value: '09506000134352' },
          { ai: '10', value: lot },
          { ai: '21', value: serial },
        ]);
      }),
    );
  });
});
