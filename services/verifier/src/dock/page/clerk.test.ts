// Every reason code of the closed union (DESIGN §7) has a clerk sentence that
// uses the reason's data where it carries any.
import { describe, expect, it } from '@jest/globals';
import { REASON_CODES, REASONS, type Reason, type TimelineEntry } from '@provenant/core';
import {
  CLERK_SENTENCES,
  clerkDate,
  clerkSentence,
  NOT_READ_SENTENCES,
  notReadSentence,
  VERDICT_TEXT,
} from './clerk.js';
import { Gs1Error, parseScan } from '@provenant/gs1';

const names: Record<string, string> = {
  '0614141000005': 'Acme Pharma',
  '0614141000012': 'St. Mary',
};
const name = (g: string) => names[g] ?? `GLN ${g}`;
const entry = (
  type: TimelineEntry['type'],
  actor: string,
  time: string,
  seq = 0,
): TimelineEntry => ({
  subject: '01/09506000134352/21/A1',
  seq,
  type,
  actor,
  time,
  receiptTime: time,
  index: seq,
  id: 'x'.repeat(64),
});

describe('clerk sentences', () => {
  it('cover exactly the codes of core reasons.ts', () => {
    expect(Object.keys(CLERK_SENTENCES).sort()).toEqual([...REASON_CODES].sort());
  });

  it.each(REASON_CODES)('%s reads as one plain sentence that says what to do', (code) => {
    const s = clerkSentence({ code, message: REASONS[code].description });
    expect(s.length).toBeGreaterThan(20);
    expect(s).not.toContain(code);
    const action = REASONS[code].verdict === 'reject' ? /Do not accept it/ : /Set it aside/;
    expect(s).toMatch(action);
  });

  it('says where and when a pack was already dispensed', () => {
    const r: Reason = {
      code: 'DECOMMISSIONED',
      message: '01/09506000134352/21/A1 was decommissioned (dispensed)',
    };
    const s = clerkSentence(r, {
      custody: [entry('decommission', '0614141000012', '2026-11-12T09:30:00.000Z', 4)],
      name,
    });
    expect(s).toBe(
      'This pack was already dispensed at St. Mary on 12 Nov 2026. It should not be in circulation. Set it aside.',
    );
  });

  it('names the lots, dates and parties carried by the message', () => {
    expect(
      clerkSentence({ code: 'LOT_MISMATCH', message: 'scanned lot B7, commissioned lot A1' }),
    ).toContain('(B7)');
    expect(clerkSentence({ code: 'EXPIRED', message: 'x expired on 2025-02-28' })).toContain(
      '28 Feb 2025',
    );
    expect(
      clerkSentence(
        {
          code: 'NOT_SHIPPED_TO_YOU',
          message: 'x: the last shipment is addressed to 0614141000005',
        },
        { name },
      ),
    ).toContain('addressed to Acme Pharma');
    expect(
      clerkSentence({
        code: 'RECALLED',
        message: 'GTIN 09506000134352 lot L9 is recalled: sterility',
      }),
    ).toContain('lot L9 of this product (reason given: sterility)');
  });

  it('keeps the count of a reason aggregated over a pallet', () => {
    const s = clerkSentence({ code: 'EXPIRED', message: '3 of 20 units: x expired on 2025-01-31' });
    expect(s).toMatch(/^3 of 20 units: This item expired on 31 Jan 2025/);
  });

  it('formats dates the same on every screen', () => {
    expect(clerkDate('2026-11-12T23:59:00.000Z')).toBe('12 Nov 2026');
    expect(clerkDate('not a date')).toBe('not a date');
    expect(Object.keys(VERDICT_TEXT)).toEqual(['accept', 'quarantine', 'reject']);
  });
});

describe('not-read sentences', () => {
  const codeOf = (input: string): string => {
    try {
      parseScan(input);
    } catch (e) {
      if (e instanceof Gs1Error) return e.code;
    }
    throw new Error(`${input} parsed`);
  };

  it('give each GS1 error code its own words, and plain words for an unknown code', () => {
    const all = Object.values(NOT_READ_SENTENCES);
    expect(new Set(all).size).toBe(all.length);
    expect(notReadSentence('SOMETHING_NEW')).toBe('The code could not be read.');
  });

  it('name the problem of a bad check digit, a bad date and garbage', () => {
    expect(notReadSentence(codeOf('0109506000134353'))).toMatch(/check digit/);
    expect(notReadSentence(codeOf('010950600013435217131331'))).toMatch(/not a real date/);
    expect(notReadSentence(codeOf('hello, dock!'))).toMatch(/not a product code/);
  });
});
