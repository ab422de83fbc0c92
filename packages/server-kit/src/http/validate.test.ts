import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { formatPath, parse, MAX_FIELD_ERRORS } from './validate.js';
import { HttpProblem } from './problem.js';

function problemOf(fn: () => unknown): HttpProblem {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HttpProblem);
    return err as HttpProblem;
  }
  throw new Error('expected an HttpProblem');
}

describe('validation at the edge (DESIGN §8)', () => {
  it.each([
    [['items', 3, 'gtin'], 'body.items[3].gtin'],
    [[], 'body'],
    [['a-b', 0], 'body["a-b"][0]'],
  ])('formats the zod path %j as %s', (path, expected) => {
    expect(formatPath('body', path)).toBe(expected);
  });

  it('returns the typed output for valid input', () => {
    expect(parse(z.strictObject({ n: z.coerce.number() }), { n: '3' }, 'query')).toEqual({ n: 3 });
  });

  it('uses a refinement rule name given in params.rule', () => {
    const Gtin = z.string().refine((s) => s.endsWith('2'), {
      message: 'bad check digit',
      params: { rule: 'check-digit' },
    });
    const p = problemOf(() =>
      parse(z.strictObject({ gtin: Gtin }), { gtin: '09506000134351' }, 'body'),
    );
    expect(p.status).toBe(400);
    expect(p.slug).toBe('invalid-request');
    expect(p.errors).toEqual([
      { path: 'body.gtin', rule: 'check-digit', message: 'bad check digit' },
    ]);
    expect(p.detail).toBe('body.gtin: bad check digit');
  });

  it('caps the listed errors for a huge batch and says so', () => {
    const schema = z.array(z.strictObject({ gtin: z.string() }));
    const p = problemOf(() =>
      parse(
        schema,
        Array.from({ length: 500 }, () => ({ gtin: 1 })),
        'body.items',
      ),
    );
    expect(p.errors).toHaveLength(MAX_FIELD_ERRORS);
    expect(p.extra).toEqual({ errorsTruncated: true });
    expect(p.detail).toBe('The request has 500 invalid fields.');
  });
});
