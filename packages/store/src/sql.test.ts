// iso(): PostgreSQL's UTC text is rewritten without a Date, with the same answer as one.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { iso } from './sql.js';

const viaDate = (v: string) => new Date(v).toISOString();

describe('iso', () => {
  it('gives what a Date gives for UTC text with 0 to 6 fraction digits, +00:00 or Z', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1000-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 999 }),
        fc.boolean(),
        (d, digits, micros, zulu) => {
          const base = d.toISOString().slice(0, 19);
          const frac = `${d.toISOString().slice(20, 23)}${String(micros).padStart(3, '0')}`.slice(
            0,
            digits,
          );
          const text = `${base}${digits > 0 ? `.${frac}` : ''}${zulu ? 'Z' : '+00:00'}`;
          expect(iso(text)).toBe(viaDate(text));
        },
      ),
    );
  });

  it('still converts other offsets, Dates and PostgreSQL text forms through a Date', () => {
    expect(iso('2026-12-06T21:04:40.529+02:00')).toBe('2026-12-06T19:04:40.529Z');
    expect(iso('2026-12-06 19:04:40.5+00')).toBe('2026-12-06T19:04:40.500Z');
    expect(iso(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(iso('2026-12-06T19:04:40.529123+00:00')).toBe('2026-12-06T19:04:40.529Z');
  });
});
