import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalBytes, canonicalize, JcsError, JCS_MAX_DEPTH, parseJsonStrict } from './jcs.js';
import { vectorPath } from '../../../tests/support/paths.js';

const JCS_DIR = vectorPath('jcs');

function jcsCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof JcsError) return e.code;
    throw e;
  }
  return undefined;
}

describe('canonicalize against the RFC 8785 reference vectors', () => {
  const names = readdirSync(path.join(JCS_DIR, 'input')).filter((n) => n.endsWith('.json'));

  it('finds the six reference files', () => {
    expect(names.sort()).toEqual([
      'arrays.json',
      'french.json',
      'structures.json',
      'unicode.json',
      'values.json',
      'weird.json',
    ]);
  });

  it.each(names)('canonicalizes jcs/input/%s to the exact bytes of jcs/output', (name) => {
    const input = readFileSync(path.join(JCS_DIR, 'input', name), 'utf8');
    const expected = readFileSync(path.join(JCS_DIR, 'output', name));
    const hex = readFileSync(path.join(JCS_DIR, 'outhex', name.replace(/\.json$/, '.txt')), 'utf8');
    // values.json holds 1E30: RFC 8785's vectors are not I-JSON, so round as JSON.parse does.
    const bytes = canonicalBytes(parseJsonStrict(input, { unsafeIntegers: 'round' }));
    expect(Buffer.from(bytes).toString('hex')).toBe(expected.toString('hex'));
    expect(Buffer.from(bytes).toString('hex')).toBe(hex.replace(/\s+/g, ''));
  });
});

describe('canonicalize', () => {
  it('serializes numbers as ES6 Number-to-String, with -0 as 0', () => {
    expect(canonicalize(-0)).toBe('0');
    // eslint-disable-next-line no-loss-of-precision -- RFC 8785's own sample: the rounding is the point
    expect(canonicalize([1e21, 1e-7, 333333333.33333329, 4.5, 0.002, 1e30, -1.5e-300])).toBe(
      '[1e+21,1e-7,333333333.3333333,4.5,0.002,1e+30,-1.5e-300]',
    );
    expect(canonicalize(Number.MAX_SAFE_INTEGER + 2)).toBe('9007199254740992');
  });

  it('sorts keys by UTF-16 code units, not by code points or locale', () => {
    // U+1F600 is stored as D83D DE00, which sorts before U+FB01 (FB01) by code unit.
    expect(canonicalize({ '\uFB01': 1, '\u{1F600}': 2, a: 3, B: 4, '': 5 })).toBe(
      '{"":5,"B":4,"a":3,"\u{1F600}":2,"\uFB01":1}',
    );
  });

  it('escapes strings as RFC 8785 §3.2.2.2 says', () => {
    expect(canonicalize('\u0000\u0008\t\n\f\r\u001f"\\/\u007f\u2028</script>')).toBe(
      '"\\u0000\\b\\t\\n\\f\\r\\u001f\\"\\\\/\u007f\u2028</script>"',
    );
  });

  it('rejects non-finite numbers with NON_FINITE_NUMBER', () => {
    expect(jcsCode(() => canonicalize(NaN))).toBe('NON_FINITE_NUMBER');
    expect(jcsCode(() => canonicalize({ a: [Infinity] }))).toBe('NON_FINITE_NUMBER');
    expect(jcsCode(() => canonicalize(-Infinity))).toBe('NON_FINITE_NUMBER');
  });

  it('rejects lone surrogates in values and keys with LONE_SURROGATE', () => {
    expect(jcsCode(() => canonicalize('a\uD800'))).toBe('LONE_SURROGATE');
    expect(jcsCode(() => canonicalize('\uDC00b'))).toBe('LONE_SURROGATE');
    expect(jcsCode(() => canonicalize({ ['\uDFFF']: 1 }))).toBe('LONE_SURROGATE');
    expect(canonicalize('\uD83D\uDE00')).toBe('"\u{1F600}"');
  });

  it('rejects values JSON has no form for with UNSUPPORTED_TYPE and names the path', () => {
    const cases: unknown[] = [
      undefined,
      () => 1,
      10n,
      Symbol('s'),
      new Date(0),
      new Map(),
      new Uint8Array(1),
      { a: { b: [1, undefined] } },
      { a: undefined },
      new (class Foo {})(),
    ];
    for (const c of cases) expect(jcsCode(() => canonicalize(c))).toBe('UNSUPPORTED_TYPE');
    try {
      canonicalize({ a: { 'b c': [1, undefined] } });
    } catch (e) {
      expect((e as JcsError).path).toBe('$.a["b c"][1]');
      expect((e as JcsError).message).toBe('undefined has no JSON form at $.a["b c"][1]');
    }
  });

  it('accepts objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o['b'] = 1;
    o['a'] = 2;
    expect(canonicalize(o)).toBe('{"a":2,"b":1}');
  });

  it('rejects cycles and excessive nesting with NESTING_TOO_DEEP', () => {
    const cyc: Record<string, unknown> = {};
    cyc['self'] = cyc;
    expect(jcsCode(() => canonicalize(cyc))).toBe('NESTING_TOO_DEEP');
    let ok: unknown = 0;
    for (let i = 0; i < JCS_MAX_DEPTH; i++) ok = [ok];
    expect(canonicalize(ok)).toBe('['.repeat(JCS_MAX_DEPTH) + '0' + ']'.repeat(JCS_MAX_DEPTH));
    expect(jcsCode(() => canonicalize([ok]))).toBe('NESTING_TOO_DEEP');
  });

  it('is idempotent: canonicalizing the parse of canonical text gives the same text', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalize(v);
        expect(canonicalize(JSON.parse(c))).toBe(c);
        if (hasUnsafeInteger(v)) expect(jcsCode(() => parseJsonStrict(c))).toBe('UNSAFE_INTEGER');
        else expect(canonicalize(parseJsonStrict(c))).toBe(c);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order in which keys were inserted', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 2 })), {
          selector: ([k]) => k,
          maxLength: 12,
        }),
        fc.func(fc.integer()),
        (entries, rank) => {
          const shuffled = [...entries].sort((a, b) => rank(a[0]) - rank(b[0]));
          const a = Object.fromEntries(entries);
          const b = Object.fromEntries(shuffled);
          expect(canonicalize(b)).toBe(canonicalize(a));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with a sort-keys JSON.stringify oracle on JSON values', () => {
    // Built as text: Object.fromEntries would move integer-like keys first.
    const oracle = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(oracle).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${oracle((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalize(v)).toBe(oracle(v));
      }),
      { numRuns: 300 },
    );
  });

  it('sorts integer-like keys as strings, unlike JavaScript property order', () => {
    expect(canonicalize({ '10': 0, '9': 1, '': 2, a: 3 })).toBe('{"":2,"10":0,"9":1,"a":3}');
  });
});

// An integer JSON cannot carry exactly (I-JSON, RFC 7493 §2.2) anywhere in a value.
function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (Array.isArray(v)) return v.some(hasUnsafeInteger);
  if (v !== null && typeof v === 'object') return Object.values(v).some(hasUnsafeInteger);
  return false;
}

describe('parseJsonStrict', () => {
  describe('when an integer is beyond ±(2^53−1) (I-JSON)', () => {
    it.each([
      ['9007199254740992', '$'],
      ['-9007199254740992', '$'],
      ['{"n": 9007199254740993}', '$.n'],
      ['{"a": [1, {"b c": 123456789012345678901234567890}]}', '$.a[1]["b c"]'],
      ['[0, 9.007199254740993e15]', '$[1]'],
      ['[1e300]', '$[0]'],
      ['[1E+16]', '$[0]'],
      ['[12345678901234567890.000]', '$[0]'],
      ['{"x": {"y": [-1e400]}}', '$.x.y[0]'],
    ])('refuses %s and names the path %s, never rounding it', (text, path) => {
      let err: unknown;
      try {
        parseJsonStrict(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(JcsError);
      expect(err).toMatchObject({ code: 'UNSAFE_INTEGER', path });
      expect((err as JcsError).message).toContain(`at ${path}`);
    });

    it.each([
      ['9007199254740991'],
      ['-9007199254740991'],
      ['9.007199254740991e15'],
      ['900719925474099.1e1'],
      ['0.5'],
      ['9007199254740993.5'],
      ['1e-400'],
      ['0e999'],
      ['-0.0e1000'],
    ])('takes %s (safe, or not an integer)', (text) => {
      expect(parseJsonStrict(text)).toBe(JSON.parse(text));
    });

    it('agrees with a BigInt oracle on integer tokens', () => {
      fc.assert(
        fc.property(fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.nat(3), (n, zeros) => {
          const text = String(n) + (zeros > 0 ? '.' + '0'.repeat(zeros) : '');
          const unsafe = n > 9007199254740991n || n < -9007199254740991n;
          if (unsafe) expect(jcsCode(() => parseJsonStrict(text))).toBe('UNSAFE_INTEGER');
          else expect(parseJsonStrict(text)).toBe(Number(n));
        }),
        { numRuns: 500 },
      );
    });

    it('rounds like JSON.parse only when the caller asks for it', () => {
      expect(parseJsonStrict('[1E30]', { unsafeIntegers: 'round' })).toEqual([1e30]);
    });
  });

  it('agrees with JSON.parse on any JSON text', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const loose = JSON.parse(text) as unknown;
        if (hasUnsafeInteger(loose))
          expect(jcsCode(() => parseJsonStrict(text))).toBe('UNSAFE_INTEGER');
        else expect(parseJsonStrict(text)).toStrictEqual(loose);
      }),
      { numRuns: 1000 },
    );
  });

  it('agrees with JSON.parse on whitespace, escapes and number forms', () => {
    const texts = [
      ' \t\r\n{ "a" : [ 1 , -0 , 0.5e-3 , 1E+2 , -12.25E2 , 1e-400 , 9007199254740991 , -9.007199254740991e15 ] , "b" : "\\u00e9\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\"\\\\" } \n',
      '"\u{1F600}"',
      '[]',
      '{}',
      'null',
      'true',
      '[false,null,{"":""}]',
      '1234567890.1234567890123456789',
    ];
    for (const t of texts) expect(parseJsonStrict(t)).toStrictEqual(JSON.parse(t));
  });

  it('names the path of a duplicate key', () => {
    expect(() => parseJsonStrict('{"a":[0,{"b":{"k":1,"k":2}}]}')).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_KEY', key: 'k', path: '$.a[1].b.k' }),
    );
  });

  it('rejects duplicate keys at any depth and names the key', () => {
    expect(jcsCode(() => parseJsonStrict('{"a":1,"a":2}'))).toBe('DUPLICATE_KEY');
    expect(jcsCode(() => parseJsonStrict('[{"x":{"k":1,"b":0,"k":1}}]'))).toBe('DUPLICATE_KEY');
    // Escapes are decoded before comparing, so "\u0061" duplicates "a".
    expect(jcsCode(() => parseJsonStrict('{"a":1,"\\u0061":2}'))).toBe('DUPLICATE_KEY');
    expect(jcsCode(() => parseJsonStrict('{"toString":1,"toString":2}'))).toBe('DUPLICATE_KEY');
    try {
      parseJsonStrict('{"id":1, "id":2}');
    } catch (e) {
      expect(e).toBeInstanceOf(JcsError);
      expect((e as JcsError).key).toBe('id');
      expect((e as JcsError).position).toBe(9);
      expect((e as JcsError).message).toContain('"id"');
    }
    // Keys inherited from Object.prototype are not duplicates.
    expect(parseJsonStrict('{"toString":1,"constructor":2}')).toEqual({
      toString: 1,
      constructor: 2,
    });
  });

  it('rejects lone surrogates, escaped or raw, but accepts pairs', () => {
    expect(jcsCode(() => parseJsonStrict('"\\ud800"'))).toBe('LONE_SURROGATE');
    expect(jcsCode(() => parseJsonStrict('"\\udc00\\ud800"'))).toBe('LONE_SURROGATE');
    expect(jcsCode(() => parseJsonStrict('{"\\ud800":1}'))).toBe('LONE_SURROGATE');
    expect(jcsCode(() => parseJsonStrict('"a\uD800"'))).toBe('LONE_SURROGATE');
    expect(parseJsonStrict('"\\ud83d\\ude00"')).toBe('\u{1F600}');
    expect(parseJsonStrict('"\\ud83d\uDE00"')).toBe('\u{1F600}');
  });

  it('rejects everything JSON.parse rejects, with INVALID_JSON and a position', () => {
    const bad = [
      '',
      ' ',
      '{',
      '}',
      '[1,]',
      '[,1]',
      '{"a":1,}',
      '{"a" 1}',
      '{a:1}',
      "{'a':1}",
      '01',
      '-',
      '1.',
      '.5',
      '1e',
      '1e+',
      '+1',
      '0x10',
      'NaN',
      'Infinity',
      'tru',
      'nul',
      'true false',
      '"abc',
      '"\\x41"',
      '"\\u12"',
      '"\\u12g4"',
      '"a\nb"',
      '"\t"',
      '\uFEFF{}',
      '[1]\u00a0',
      '{"a":1}x',
      '1 2',
    ];
    for (const t of bad) {
      expect(() => JSON.parse(t)).toThrow();
      let err: unknown;
      try {
        parseJsonStrict(t);
      } catch (e) {
        err = e;
      }
      expect([t, err instanceof JcsError && err.code]).toEqual([t, 'INVALID_JSON']);
      expect(typeof (err as JcsError).position).toBe('number');
    }
  });

  it('keeps "__proto__" as an own property and never touches the prototype', () => {
    const v = parseJsonStrict('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((v as { polluted?: unknown }).polluted).toBeUndefined();
    expect(v).toStrictEqual(JSON.parse('{"__proto__":{"polluted":true},"a":1}'));
    expect(canonicalize(v)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(jcsCode(() => parseJsonStrict('{"__proto__":1,"__proto__":2}'))).toBe('DUPLICATE_KEY');
  });

  it('limits nesting depth with NESTING_TOO_DEEP instead of overflowing the stack', () => {
    const ok = '['.repeat(JCS_MAX_DEPTH) + ']'.repeat(JCS_MAX_DEPTH);
    expect(jcsCode(() => parseJsonStrict(ok))).toBeUndefined();
    const deep = '['.repeat(JCS_MAX_DEPTH + 1) + ']'.repeat(JCS_MAX_DEPTH + 1);
    expect(jcsCode(() => parseJsonStrict(deep))).toBe('NESTING_TOO_DEEP');
    expect(jcsCode(() => parseJsonStrict('{"a":'.repeat(100000)))).toBe('NESTING_TOO_DEEP');
  });

  it('throws only JcsError on arbitrary strings', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.json().map((j) => j.slice(1)),
        ),
        (s) => {
          try {
            parseJsonStrict(s);
          } catch (e) {
            expect(e).toBeInstanceOf(JcsError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
