import { describe, expect, it } from '@jest/globals';
import {
  companyPrefixLengthIn,
  digitalLinkToEpc,
  epcToDigitalLink,
  formatEpcUri,
  parseEpcUri,
} from './epc.js';
import { Gs1Error } from './errors.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof Gs1Error) return e.code;
    throw e;
  }
  throw new Error('expected a Gs1Error');
}

describe('parseEpcUri', () => {
  // Examples of the EPC Tag Data Standard §6.3.
  it('rebuilds the GTIN of an SGTIN from indicator, company prefix and item reference', () => {
    expect(parseEpcUri('urn:epc:id:sgtin:0614141.812345.6789')).toEqual([
      { ai: '01', value: '80614141123458' },
      { ai: '21', value: '6789' },
    ]);
  });

  it('unescapes the serial of an SGTIN', () => {
    expect(parseEpcUri('urn:epc:id:sgtin:0614141.812345.ABC%2F1%25')[1]).toEqual({
      ai: '21',
      value: 'ABC/1%',
    });
  });

  it('keeps a "." inside an SGTIN serial (TDS GS3A3 allows it literally)', () => {
    expect(parseEpcUri('urn:epc:id:sgtin:0614141.812345.A.B.1')).toEqual([
      { ai: '01', value: '80614141123458' },
      { ai: '21', value: 'A.B.1' },
    ]);
    expect(parseEpcUri(formatEpcUri({ gtin: '80614141123458', serial: 'x.y' }, 7))[1]).toEqual({
      ai: '21',
      value: 'x.y',
    });
  });

  it('still refuses an SGTIN whose numeric fields do not add up to 13 digits', () => {
    expect(codeOf(() => parseEpcUri('urn:epc:id:sgtin:0614141.8123.45.6789'))).toBe('BAD_EPC_URI');
    expect(codeOf(() => parseEpcUri('urn:epc:id:sscc:0614141.12345.67890'))).toBe('BAD_EPC_URI');
  });

  it('rebuilds the SSCC from extension digit, company prefix and serial reference', () => {
    expect(parseEpcUri('urn:epc:id:sscc:0614141.1234567890')).toEqual([
      { ai: '00', value: '106141412345678908' },
    ]);
  });

  it('reads SGLN with and without extension', () => {
    expect(parseEpcUri('urn:epc:id:sgln:0614141.12345.400')).toEqual([
      { ai: '414', value: '0614141123452' },
      { ai: '254', value: '400' },
    ]);
    expect(parseEpcUri('urn:epc:id:sgln:0614141.00000.0')).toEqual([
      { ai: '414', value: '0614141000005' },
    ]);
  });

  it.each([
    ['urn:epc:id:sgtin:0614141.81234.6789', 'BAD_EPC_URI'],
    ['urn:epc:id:sgtin:06141.81234567.6789', 'BAD_EPC_URI'],
    ['urn:epc:id:sgtin:0614141.812345', 'BAD_EPC_URI'],
    ['urn:epc:id:sgtin:0614141.812345.AB/C', 'BAD_EPC_URI'],
    ['urn:epc:id:sgtin:0614141.812345.A%ZZ', 'BAD_EPC_URI'],
    ['urn:epc:id:sgtin:0614141.812345.A%20B', 'ILLEGAL_CHARACTER'],
    ['urn:epc:id:sgtin:0614141.812345.123456789012345678901', 'BAD_LENGTH'],
    ['urn:epc:id:sscc:0614141.123456789', 'BAD_EPC_URI'],
    ['urn:epc:id:giai:0614141.1', 'BAD_EPC_URI'],
    ['urn:epc:tag:sgtin-96:0.0614141.812345.6789', 'BAD_EPC_URI'],
  ])('rejects %s with %s', (uri, code) => {
    expect(codeOf(() => parseEpcUri(uri))).toBe(code);
  });
});

describe('formatEpcUri', () => {
  it('formats SGTIN and SSCC URIs that parse back', () => {
    const sgtin = formatEpcUri({ gtin: '80614141123458', serial: 'A/1' }, 7);
    expect(sgtin).toBe('urn:epc:id:sgtin:0614141.812345.A%2F1');
    expect(parseEpcUri(sgtin)).toEqual([
      { ai: '01', value: '80614141123458' },
      { ai: '21', value: 'A/1' },
    ]);
    expect(formatEpcUri({ sscc: '106141412345678908' }, 7)).toBe(
      'urn:epc:id:sscc:0614141.1234567890',
    );
  });

  it('needs a company prefix length of 6 to 12', () => {
    expect(codeOf(() => formatEpcUri({ sscc: '106141412345678908' }, 5))).toBe('BAD_INPUT');
  });
});

describe('parseEpcUri with a PGLN', () => {
  it('rebuilds the party GLN (417) with its check digit', () => {
    expect(parseEpcUri('urn:epc:id:pgln:4000001.00000')).toEqual([
      { ai: '417', value: '4000001000005' },
    ]);
  });

  it('refuses a PGLN whose fields do not make 12 digits', () => {
    expect(codeOf(() => parseEpcUri('urn:epc:id:pgln:4000001.000'))).toBe('BAD_EPC_URI');
  });
});

describe('epcToDigitalLink', () => {
  // TDS §6/§7 examples and the EPCIS event hash vectors (epclist_normalisation).
  const cases: [string, string][] = [
    ['urn:epc:id:sgtin:0614141.812345.6789', '/01/80614141123458/21/6789'],
    ['urn:epc:id:sgtin:415056789012.0.987654', '/01/04150567890128/21/987654'],
    ['urn:epc:id:sgtin:4012345.011111.98%22', '/01/04012345111118/21/98%22'],
    [
      'urn:epc:id:sgtin:0614141.812345.6789%2F%26%25%22!%3F()',
      '/01/80614141123458/21/6789%2F%26%25%22%21%3F%28%29',
    ],
    ['urn:epc:id:sscc:4012345.3111111111', '/00/340123451111111111'],
    ['urn:epc:id:sgln:4012345.00005.122', '/414/4012345000054/254/122'],
    ['urn:epc:id:sgln:4012345.00005.0', '/414/4012345000054'],
    ['urn:epc:id:pgln:4000001.00000', '/417/4000001000005'],
    ['urn:epc:id:pgln:999999999999.', '/417/9999999999994'],
    ['urn:epc:id:grai:4012345.00022.334455', '/8003/04012345000221334455'],
    ['urn:epc:id:giai:4012345.ABC345', '/8004/4012345ABC345'],
    ['urn:epc:id:gsrn:4012345.0000006765', '/8018/401234500000067657'],
    ['urn:epc:id:gsrnp:4012345.0000000007', '/8017/401234500000000074'],
    ['urn:epc:id:gdti:4012345.00009.PO-4711', '/253/4012345000092PO-4711'],
    ['urn:epc:id:gdti:987659999999..9', '/253/98765999999929'],
    [
      'urn:epc:id:cpi:0614141.11111111111111-A%23%2F.1234',
      '/8010/061414111111111111111-A%23%2F/8011/1234',
    ],
    ['urn:epc:id:sgcn:4012345.99999.44', '/255/401234599999044'],
    ['urn:epc:id:ginc:0614141.xyz47%2F11', '/401/0614141xyz47%2F11'],
    ['urn:epc:id:gsin:4012345.222333444', '/402/40123452223334442'],
    ['urn:epc:id:itip:4012345.011111.01.02.987', '/8006/040123451111180102/21/987'],
    [
      "urn:epc:id:upui:1234567.098765.51qIgY)%3C%26Jp3*j7'SDB",
      "/01/01234567987651/235/51qIgY%29%3C%26Jp3%2Aj7'SDB",
    ],
    ['urn:epc:class:lgtin:4012345.012345.Lot987', '/01/04012345123456/10/Lot987'],
    ['urn:epc:idpat:sgtin:4012345.066666.*', '/01/04012345666663'],
    ['urn:epc:idpat:grai:4012345.66666.*', '/8003/04012345666663'],
    ['urn:epc:idpat:gdti:4012345.55555.*', '/253/4012345555554'],
    ['urn:epc:idpat:sgcn:4012345.99999.*', '/255/4012345999990'],
    ['urn:epc:idpat:cpi:4012345.ABC.*', '/8010/4012345ABC'],
    ['urn:epc:idpat:itip:4012345.012345.01.02.*', '/8006/040123451234560102'],
  ];
  for (const [uri, path] of cases) {
    it(`converts ${uri}`, () => {
      expect(epcToDigitalLink(uri)).toBe(`https://id.gs1.org${path}`);
    });
  }

  it('refuses fields that do not make the key length', () => {
    expect(codeOf(() => epcToDigitalLink('urn:epc:id:sgtin:0614141.81234.6789'))).toBe(
      'BAD_EPC_URI',
    );
  });

  it('refuses schemes without a Digital Link form and text that is no EPC URI', () => {
    expect(codeOf(() => epcToDigitalLink('urn:epc:idpat:sscc:4012345.*'))).toBe('BAD_EPC_URI');
    expect(codeOf(() => epcToDigitalLink('urn:epc:id:sgtin'))).toBe('BAD_EPC_URI');
    expect(codeOf(() => epcToDigitalLink('OBSERVE'))).toBe('BAD_EPC_URI');
  });
});

describe('companyPrefixLengthIn', () => {
  it('takes the longest registered prefix that begins the key after its indicator', () => {
    expect(companyPrefixLengthIn(['061414', '0614141'], '01', '10614141000012')).toBe(7);
    expect(companyPrefixLengthIn(['0614141'], '00', '106141412345678908')).toBe(7);
    expect(companyPrefixLengthIn(['0614141'], '414', '0614141123452')).toBe(7);
  });

  it('knows no length when no prefix matches or the AI has no company prefix zone here', () => {
    expect(companyPrefixLengthIn(['0999999'], '01', '10614141000012')).toBeUndefined();
    expect(companyPrefixLengthIn(['0614141'], '8004', '0614141123')).toBeUndefined();
    expect(companyPrefixLengthIn(['06141'], '01', '10614141000012')).toBeUndefined();
  });
});

describe('digitalLinkToEpc', () => {
  const seven = () => 7;
  const cases: [string, string][] = [
    ['https://id.gs1.org/01/80614141123458/21/6789', 'urn:epc:id:sgtin:0614141.812345.6789'],
    ['https://example.com/01/80614141123458/21/ABC%2F1', 'urn:epc:id:sgtin:0614141.812345.ABC%2F1'],
    ['https://id.gs1.org/00/106141412345678908', 'urn:epc:id:sscc:0614141.1234567890'],
    ['https://id.gs1.org/414/0614141123452', 'urn:epc:id:sgln:0614141.12345.0'],
    ['https://id.gs1.org/414/0614141123452/254/400', 'urn:epc:id:sgln:0614141.12345.400'],
    ['https://id.gs1.org/417/0614141000005', 'urn:epc:id:pgln:0614141.00000'],
    ['https://id.gs1.org/01/80614141123458/10/L%261', 'urn:epc:class:lgtin:0614141.812345.L%261'],
    ['https://id.gs1.org/01/80614141123458', 'urn:epc:idpat:sgtin:0614141.812345.*'],
  ];
  for (const [dl, urn] of cases) {
    it(`converts ${dl}`, () => {
      expect(digitalLinkToEpc(dl, seven)).toBe(urn);
    });
  }

  it('round-trips with epcToDigitalLink for pure identities', () => {
    for (const [, urn] of cases.slice(0, 6)) {
      expect(digitalLinkToEpc(epcToDigitalLink(urn), seven)).toBe(urn);
    }
  });

  it('refuses a key whose company prefix length is unknown', () => {
    expect(
      codeOf(() => digitalLinkToEpc('https://id.gs1.org/01/80614141123458/21/1', () => undefined)),
    ).toBe('BAD_INPUT');
  });

  it('refuses keys without an EPC URN form here and text that is no Digital Link', () => {
    expect(codeOf(() => digitalLinkToEpc('https://id.gs1.org/8004/0614141123', seven))).toBe(
      'BAD_INPUT',
    );
    expect(codeOf(() => digitalLinkToEpc('urn:epc:id:sgtin:0614141.812345.6789', seven))).toBe(
      'BAD_DIGITAL_LINK',
    );
  });
});
