import { describe, expect, it } from '@jest/globals';
import { formatEpcUri, parseEpcUri } from './epc.js';
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
