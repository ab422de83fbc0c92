import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { utf8 } from './bytes.js';
import { sha256Hex } from './hash.js';
import { canonicalize } from './jcs.js';
import {
  containerSubject,
  encodeRecord,
  encodeSerial,
  gtinOfSubject,
  isCanonicalTime,
  isContainerSubject,
  isUnitSubject,
  isValidGln,
  isValidGtin14,
  isValidSscc,
  parseRecordPayload,
  recordId,
  recordIdFromPayload,
  recordSchema,
  SubjectError,
  subjectParts,
  textSchema,
  unitSubject,
} from './records.js';
import type { CustodyRecord } from './records.js';

// Examples from the GS1 General Specifications and DESIGN §3/§5.
const GTIN = '09506000134352';
const SSCC = '106141412345678908';
const GLN = '0614141000005';
const GLN2 = '0614141000012';
const HEAD = 'a'.repeat(64);
const KID = '0123456789abcdef0123456789abcdef';
const TIME = '2026-11-28T12:00:00.000Z';

function ship(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    subject: `01/${GTIN}/21/ABC%2F1`,
    seq: 3,
    prev: HEAD,
    type: 'ship',
    actor: GLN,
    kid: KID,
    time: TIME,
    data: { to: GLN2, shipment: 'SH-1', transactions: [{ type: 'po', id: 'PO-9' }] },
    ...overrides,
  };
}

function commission(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    subject: `01/${GTIN}/21/ABC123`,
    seq: 0,
    prev: null,
    type: 'commission',
    actor: GLN,
    kid: KID,
    time: TIME,
    data: { gtin: GTIN, serial: 'ABC123', lot: 'L1', expiry: '2028-02-29' },
    ...overrides,
  };
}

function issuesOf(value: unknown): string[] {
  const r = recordSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('identifiers', () => {
  it('accepts the GS1 example GTIN, SSCC and GLN and rejects a wrong check digit', () => {
    expect(isValidGtin14(GTIN)).toBe(true);
    expect(isValidSscc(SSCC)).toBe(true);
    expect(isValidGln(GLN)).toBe(true);
    expect(isValidGtin14('09506000134353')).toBe(false);
    expect(isValidSscc('106141412345678907')).toBe(false);
    expect(isValidGln('0614141000006')).toBe(false);
    expect(isValidGtin14('9506000134352')).toBe(false);
  });

  it('builds canonical subjects and escapes every reserved character of the serial', () => {
    expect(unitSubject(GTIN, 'ABC/1')).toBe(`01/${GTIN}/21/ABC%2F1`);
    expect(unitSubject(GTIN, "a!'()*%")).toBe(`01/${GTIN}/21/a%21%27%28%29%2A%25`);
    expect(containerSubject(SSCC)).toBe(`00/${SSCC}`);
    expect(encodeSerial('-._')).toBe('-._');
  });

  it('throws a coded SubjectError when asked to build a subject from bad parts', () => {
    expect(() => unitSubject('09506000134353', 'X')).toThrow(SubjectError);
    expect(() => unitSubject(GTIN, '')).toThrow(SubjectError);
    expect(() => unitSubject(GTIN, 'é')).toThrow(SubjectError);
    expect(() => containerSubject('1')).toThrow(
      expect.objectContaining({ code: 'INVALID_SUBJECT' }),
    );
  });

  it.each([
    ['lower-case percent escape', `01/${GTIN}/21/ABC%2f1`],
    ['unescaped reserved character', `01/${GTIN}/21/ABC!1`],
    ['escaped unreserved character', `01/${GTIN}/21/%41BC`],
    ['malformed escape', `01/${GTIN}/21/AB%ZZ`],
    ['character outside set 82', `01/${GTIN}/21/%C3%A9`],
    ['tilde (unreserved but not set 82)', `01/${GTIN}/21/A~B`],
    ['serial longer than 20', `01/${GTIN}/21/${'A'.repeat(21)}`],
    ['empty serial', `01/${GTIN}/21/`],
    ['bad GTIN check digit', `01/09506000134353/21/A`],
    ['GTIN-13', `01/9506000134352/21/A`],
    ['bad SSCC check digit', '00/106141412345678907'],
    ['host prefix', `https://id.gs1.org/01/${GTIN}/21/A`],
    ['leading slash', `/01/${GTIN}/21/A`],
  ])('rejects a non-canonical subject: %s', (_name, subject) => {
    expect(subjectParts(subject)).toBeNull();
  });

  it('splits subjects into their parts', () => {
    expect(subjectParts(`01/${GTIN}/21/ABC%2F1`)).toEqual({
      kind: 'unit',
      gtin: GTIN,
      serial: 'ABC/1',
    });
    expect(subjectParts(`00/${SSCC}`)).toEqual({ kind: 'container', sscc: SSCC });
    expect(isUnitSubject(`01/${GTIN}/21/X`)).toBe(true);
    expect(isContainerSubject(`01/${GTIN}/21/X`)).toBe(false);
    expect(isContainerSubject(`00/${SSCC}`)).toBe(true);
    expect(gtinOfSubject(`01/${GTIN}/21/X`)).toBe(GTIN);
    expect(gtinOfSubject(`00/${SSCC}`)).toBeNull();
  });

  it('round-trips every set-82 serial through unitSubject and subjectParts', () => {
    const set82 = [
      ...'!"%&\'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz',
    ];
    expect(set82).toHaveLength(82);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...set82), { minLength: 1, maxLength: 20 }), (chars) => {
        const serial = chars.join('');
        const parts = subjectParts(unitSubject(GTIN, serial));
        expect(parts).toEqual({ kind: 'unit', gtin: GTIN, serial });
      }),
    );
  });
});

describe('time fields', () => {
  it.each([
    ['2026-11-28T12:00:00.000Z', true],
    ['2028-02-29T23:59:59.999Z', true],
    ['2026-02-29T12:00:00.000Z', false],
    ['2026-11-31T12:00:00.000Z', false],
    ['2026-11-28T24:00:00.000Z', false],
    ['2026-11-28T12:00:60.000Z', false],
    ['2026-11-28T12:00:00Z', false],
    ['2026-11-28T12:00:00.000+00:00', false],
    ['2026-11-28t12:00:00.000z', false],
    ['2026-11-28 12:00:00.000Z', false],
    ['2026-11-28T12:00:00.0000Z', false],
  ])('isCanonicalTime(%s) is %s', (value, expected) => {
    expect(isCanonicalTime(value)).toBe(expected);
  });
});

describe('recordSchema', () => {
  it('accepts the DESIGN §5 ship example and a commission', () => {
    expect(issuesOf(ship())).toEqual([]);
    expect(issuesOf(commission())).toEqual([]);
    expect(
      issuesOf(
        commission({
          data: {
            gtin: GTIN,
            serial: 'ABC123',
            lot: 'L1',
            expiry: '2028-02-29',
            product: { name: 'Amoxicillin 500 mg', ndc: '0093-3109' },
          },
        }),
      ),
    ).toEqual([]);
  });

  it('rejects unknown fields at the top level and inside data', () => {
    expect(issuesOf(ship({ extra: 1 }))).not.toEqual([]);
    expect(issuesOf(ship({ data: { to: GLN2, shipment: 'S', note: 'x' } }))).not.toEqual([]);
    expect(
      issuesOf(
        ship({ data: { to: GLN2, shipment: 'S', transactions: [{ type: 'po', id: '1', x: 1 }] } }),
      ),
    ).not.toEqual([]);
  });

  it.each([
    ['v 2', { v: 2 }],
    ['seq negative', { seq: -1 }],
    ['seq fractional', { seq: 1.5 }],
    ['seq as string', { seq: '3' }],
    ['seq beyond the safe integers', { seq: 2 ** 53 }],
    ['prev upper-case hex', { prev: 'A'.repeat(64) }],
    ['prev too short', { prev: 'a'.repeat(63) }],
    ['prev null after seq 0', { prev: null }],
    ['actor with a bad check digit', { actor: '0614141000006' }],
    ['kid upper-case', { kid: KID.toUpperCase() }],
    ['time without milliseconds', { time: '2026-11-28T12:00:00Z' }],
    ['time with an offset', { time: '2026-11-28T13:00:00.000+01:00' }],
    ['impossible date', { time: '2026-02-30T12:00:00.000Z' }],
    ['unknown type', { type: 'teleport' }],
    ['ship to a bad GLN', { data: { to: '123', shipment: 'S' } }],
    ['empty shipment id', { data: { to: GLN2, shipment: '' } }],
    ['shipment id of 65 chars', { data: { to: GLN2, shipment: 'x'.repeat(65) } }],
    ['control character in shipment id', { data: { to: GLN2, shipment: 'a\nb' } }],
    [
      'unknown transaction type',
      { data: { to: GLN2, shipment: 'S', transactions: [{ type: 'bol', id: '1' }] } },
    ],
    ['non-canonical subject encoding', { subject: `01/${GTIN}/21/ABC%2f1` }],
  ])('rejects a record with %s', (_name, overrides) => {
    expect(issuesOf(ship(overrides as Record<string, unknown>))).not.toEqual([]);
  });

  it('requires prev null exactly at seq 0', () => {
    expect(issuesOf(commission({ prev: HEAD }))).toEqual(['prev: prev must be null at seq 0']);
    expect(issuesOf(commission({ seq: 1 }))).toEqual([
      'prev: prev must be a record id after seq 0',
    ]);
  });

  it.each([
    ['a lot outside set 82', { lot: 'lot é' }],
    ['a lot of 21 characters', { lot: 'L'.repeat(21) }],
    ['an expiry with day 00 (scan form, not a date)', { expiry: '2028-02-00' }],
    ['an expiry of YYMMDD', { expiry: '280229' }],
    ['a GTIN-13', { gtin: '9506000134352' }],
    ['a product field with a bad name', { product: { 'bad key': 'x' } }],
    ['a product value too long', { product: { name: 'x'.repeat(257) } }],
  ])('rejects commission data with %s', (_name, overrides) => {
    const data = { gtin: GTIN, serial: 'ABC123', lot: 'L1', expiry: '2028-02-29', ...overrides };
    expect(issuesOf(commission({ data }))).not.toEqual([]);
  });

  it('takes both pack and unpack forms on units and logistic units (containers nest, DESIGN §5)', () => {
    const unit = `01/${GTIN}/21/ABC123`;
    const kase = `01/${GTIN}/21/CASE1`;
    const sscc = `00/${SSCC}`;
    const base = { seq: 1, prev: HEAD };
    const ok = [
      { ...base, subject: unit, type: 'pack', data: { parent: sscc } },
      { ...base, subject: unit, type: 'pack', data: { parent: kase } },
      { ...base, subject: sscc, type: 'pack', data: { parent: '00/106141410000000026' } },
      {
        seq: 0,
        prev: null,
        subject: sscc,
        type: 'pack',
        data: { children: [{ subject: unit, head: HEAD }] },
      },
      {
        seq: 0,
        prev: null,
        subject: sscc,
        type: 'pack',
        data: { children: [{ subject: kase, head: HEAD }] },
      },
      { ...base, subject: kase, type: 'pack', data: { children: [{ subject: unit, head: HEAD }] } },
      { ...base, subject: sscc, type: 'unpack', data: { children: [unit] } },
      { ...base, subject: kase, type: 'unpack', data: { children: [unit] } },
      { ...base, subject: unit, type: 'unpack', data: { parent: sscc, parentHead: HEAD } },
      { ...base, subject: sscc, type: 'unpack', data: { parent: kase, parentHead: HEAD } },
    ];
    for (const r of ok)
      expect([r.subject, r.type, issuesOf(ship(r))]).toEqual([r.subject, r.type, []]);
  });

  it('refuses a unit chain starting with a pack of children, an SSCC chain that does not, and self-containment', () => {
    const unit = `01/${GTIN}/21/ABC123`;
    const sscc = `00/${SSCC}`;
    const base = { seq: 1, prev: HEAD };
    const bad = [
      {
        seq: 0,
        prev: null,
        subject: unit,
        type: 'pack',
        data: { children: [{ subject: `01/${GTIN}/21/X`, head: HEAD }] },
      },
      { seq: 0, prev: null, subject: sscc, type: 'pack', data: { parent: `01/${GTIN}/21/X` } },
      { ...base, subject: unit, type: 'pack', data: { parent: unit } },
      { ...base, subject: sscc, type: 'pack', data: { parent: sscc } },
      {
        seq: 0,
        prev: null,
        subject: sscc,
        type: 'pack',
        data: { children: [{ subject: sscc, head: HEAD }] },
      },
      { ...base, subject: unit, type: 'pack', data: { children: [{ subject: unit, head: HEAD }] } },
      { ...base, subject: sscc, type: 'unpack', data: { children: [sscc] } },
      { ...base, subject: unit, type: 'unpack', data: { parent: unit, parentHead: HEAD } },
      { ...base, subject: unit, type: 'unpack', data: { parent: sscc } },
    ];
    for (const r of bad)
      expect([r.subject, r.type, issuesOf(ship(r))]).not.toEqual([r.subject, r.type, []]);
  });

  it('rejects duplicate and empty children', () => {
    const unit = `01/${GTIN}/21/ABC123`;
    const sscc = `00/${SSCC}`;
    const pack = (children: unknown) =>
      ship({ seq: 0, prev: null, subject: sscc, type: 'pack', data: { children } });
    expect(issuesOf(pack([]))).not.toEqual([]);
    expect(
      issuesOf(
        pack([
          { subject: unit, head: HEAD },
          { subject: unit, head: HEAD },
        ]),
      ),
    ).not.toEqual([]);
  });

  it('keeps commission, decommission and reactivate to units', () => {
    const sscc = `00/${SSCC}`;
    expect(
      issuesOf(ship({ subject: sscc, type: 'decommission', data: { reason: 'destroyed' } })),
    ).not.toEqual([]);
    expect(issuesOf(ship({ type: 'decommission', data: { reason: 'destroyed' } }))).toEqual([]);
    expect(issuesOf(ship({ type: 'decommission', data: { reason: 'lost' } }))).not.toEqual([]);
    expect(issuesOf(ship({ type: 'reactivate', data: { undo: HEAD } }))).toEqual([]);
    expect(
      issuesOf(ship({ type: 'quarantine', data: { case: 'C-1', reason: 'label smudged' } })),
    ).toEqual([]);
    expect(
      issuesOf(
        ship({
          type: 'receive',
          data: {
            from: GLN,
            shipment: 'S',
            condition: 'ok',
            discrepancies: [{ subject: `00/${SSCC}`, status: 'missing' }],
          },
        }),
      ),
    ).toEqual([]);
    expect(
      issuesOf(ship({ type: 'receive', data: { from: GLN, shipment: 'S', condition: 'wet' } })),
    ).not.toEqual([]);
  });
});

describe('record encoding and ids', () => {
  const record = recordSchema.parse(ship()) as CustodyRecord;

  it('encodes as JCS and the id is the SHA-256 of those bytes', () => {
    const bytes = encodeRecord(record);
    expect(new TextDecoder().decode(bytes)).toBe(canonicalize(ship()));
    expect(recordId(record)).toBe(sha256Hex(bytes));
    expect(recordIdFromPayload(bytes)).toBe(recordId(record));
  });

  it('parses its own payload back to the same record and id', () => {
    const r = parseRecordPayload(encodeRecord(record));
    expect(r).toEqual({ ok: true, record, id: recordId(record) });
  });

  it.each([
    ['whitespace', () => JSON.stringify(ship(), null, 1)],
    ['keys out of order', () => JSON.stringify(ship())],
    ['a byte order mark', () => '\uFEFF' + canonicalize(ship())],
    ['an escaped ASCII character', () => canonicalize(ship()).replace('"ship"', '"\\u0073hip"')],
    ['a trailing newline', () => canonicalize(ship()) + '\n'],
    ['a number spelled 3.0', () => canonicalize(ship()).replace('"seq":3', '"seq":3.0')],
  ])('rejects payload bytes with %s (not the canonical JCS encoding)', (_name, text) => {
    const r = parseRecordPayload(utf8(text()));
    expect(r).toEqual({
      ok: false,
      errors: [{ path: '', message: 'payload is not in RFC 8785 canonical form' }],
    });
  });

  it('rejects duplicate keys, invalid UTF-8 and non-JSON without throwing', () => {
    const dup = canonicalize(ship()).replace('{"actor"', `{"actor":"${GLN2}","actor"`);
    expect(parseRecordPayload(utf8(dup)).ok).toBe(false);
    expect(parseRecordPayload(new Uint8Array([0x7b, 0xff, 0x7d])).ok).toBe(false);
    expect(parseRecordPayload(utf8('not json')).ok).toBe(false);
    expect(parseRecordPayload(utf8('"\\ud800"')).ok).toBe(false);
    expect(parseRecordPayload(utf8('['.repeat(5000))).ok).toBe(false);
    expect(parseRecordPayload(new Uint8Array()).ok).toBe(false);
    expect(parseRecordPayload('text' as unknown as Uint8Array).ok).toBe(false);
  });

  it('names the offending field path in its errors', () => {
    const r = parseRecordPayload(utf8(canonicalize(ship({ data: { to: '123', shipment: 'S' } }))));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('data.to');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(parseRecordPayload(bytes).ok).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on arbitrary JSON values, and accepts only what re-encodes to the same bytes', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const r = parseRecordPayload(utf8(JSON.stringify(value)));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on mutated valid payloads', () => {
    const text = canonicalize(ship());
    fc.assert(
      fc.property(
        fc.nat(text.length - 1),
        fc.string({ maxLength: 3 }),
        fc.nat(3),
        (at, insert, del) => {
          const mutated = text.slice(0, at) + insert + text.slice(at + del);
          const r = parseRecordPayload(utf8(mutated));
          if (r.ok) expect(canonicalize(r.record)).toBe(mutated);
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('free text (textSchema)', () => {
  // The rule as first written with Unicode property escapes, which need the `u` flag.
  const unicodeRule = /^[^\p{Cc}\p{Cs}]*$/u;
  const text = textSchema(10_000);
  const accepts = (s: string) => text.safeParse(s).success;

  it('refuses control characters and lone surrogates, keeps surrogate pairs', () => {
    for (const bad of ['a\nb', '\u0000', 'x\u007f', '\u0085', '\u009f', '\ud800', 'a\udc00b'])
      expect(accepts(bad)).toBe(false);
    for (const good of ['Acme Pharma', 'é', '\u00a0', '\ud83d\udc8a', '\ufffd', 'a\u2028b'])
      expect(accepts(good)).toBe(true);
  });

  it('decides like the \\p{Cc}\\p{Cs} rule on any string, without needing the u flag', () => {
    const schemaPattern = text.toJSONSchema().pattern as string;
    expect(() => new RegExp(schemaPattern)).not.toThrow();
    const noFlag = new RegExp(schemaPattern);
    const withU = new RegExp(schemaPattern, 'u');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (s) => {
        const expected = unicodeRule.test(s);
        expect(noFlag.test(s)).toBe(expected);
        expect(withU.test(s)).toBe(expected);
        if (s.length > 0) expect(accepts(s)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
