import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalize } from '@provenant/core';
import { jsonEqual } from './check.js';

// The monitor compares a stored row's data with the logged payload's (DESIGN §7b step 1):
// jsonEqual must answer exactly as comparing their JCS forms.
describe('jsonEqual', () => {
  const json = fc.jsonValue({ maxDepth: 3 });

  it('agrees with comparing JCS forms, for any two JSON values', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(jsonEqual(a, b)).toBe(canonicalize(a) === canonicalize(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a value equal to a copy with its keys in another order, and JCS agrees', () => {
    const reordered = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reordered)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reordered(x)]),
            )
          : v;
    fc.assert(
      fc.property(json, (a) => {
        const b = reordered(a);
        expect([jsonEqual(a, b), canonicalize(a) === canonicalize(b)]).toEqual([true, true]);
      }),
    );
  });

  it('tells apart what JCS tells apart', () => {
    expect(jsonEqual({ to: 'a', n: 1 }, { n: 1, to: 'a' })).toBe(true);
    expect(jsonEqual({ to: 'a' }, { to: 'b' })).toBe(false);
    expect(jsonEqual({ to: 'a' }, { to: 'a', extra: null })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual(0, -0)).toBe(canonicalize(0) === canonicalize(-0));
  });
});
