import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MemoryCustody } from './custody.js';
import type { ChainState, PartyInfo } from './custody.js';
import { canonicalize } from './jcs.js';
import {
  containerSubject,
  DECOMMISSION_REASONS,
  encodeRecord,
  parseRecordPayload,
  RECORD_TYPES,
  recordId,
  unitSubject,
} from './records.js';
import type { CustodyRecord, RecordType } from './records.js';
import {
  decodeVerifiedState,
  decodeVerifiedStatus,
  encodeVerifiedState,
  StateCodecError,
  VERIFIED_STATE_VERSION,
} from './state-codec.js';

// GS1 mod-10 check digit, computed independently of the codec.
function withCheckDigit(body: string): string {
  let sum = 0;
  [...body].reverse().forEach((d, i) => (sum += Number(d) * (i % 2 === 0 ? 3 : 1)));
  return body + ((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('086000000000');
const PHARM = withCheckDigit('050000000001');
const GLNS = [MFR, DIST, PHARM];
const KID = '0123456789abcdef0123456789abcdef';
const PARTIES: PartyInfo[] = [
  { gln: MFR, roles: ['manufacturer'], prefixes: ['0614141'], status: 'active' },
  { gln: DIST, roles: ['distributor'], prefixes: ['0860000'], status: 'active' },
  { gln: PHARM, roles: ['dispenser'], prefixes: [], status: 'active' },
];
const GTIN = withCheckDigit('0061414112345');
const CASE_GTIN = withCheckDigit('5061414112345');

/** Encode, decode: the same state (children aside), and the same bytes again. */
function expectRoundTrip(state: ChainState, headIndex: number): Uint8Array {
  const bytes = encodeVerifiedState(state, headIndex);
  const back = decodeVerifiedState(state.subject, bytes);
  const want = { ...state, children: [] };
  const again = encodeVerifiedState(back.state, headIndex);
  // Cheap checks first (thousands of states per run); jest's diff only on a mismatch.
  if (
    bytes[0] !== VERIFIED_STATE_VERSION ||
    back.headIndex !== headIndex ||
    canonicalize({ ...back.state }) !== canonicalize(want) ||
    again.length !== bytes.length ||
    again.some((b, i) => b !== bytes[i])
  ) {
    expect(bytes[0]).toBe(VERIFIED_STATE_VERSION);
    expect(back.headIndex).toBe(headIndex);
    expect(back.state).toEqual(want);
    expect(again).toEqual(bytes);
  }
  expectSameStatus(state.subject, bytes);
  return bytes;
}

/** The lean status read of `bytes` is the full decode's fields, or both refuse them. */
function expectSameStatus(subject: string, bytes: Uint8Array): void {
  const read = <T>(f: () => T): T | 'refused' => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof StateCodecError)) throw e;
      return 'refused';
    }
  };
  const full = read(() => decodeVerifiedState(subject, bytes));
  const lean = read(() => decodeVerifiedStatus(subject, bytes));
  const want =
    full === 'refused'
      ? full
      : {
          headIndex: full.headIndex,
          active: full.state.active,
          containedIn: full.state.containedIn,
          unpacked: full.state.unpacked !== null,
          quarantineCase: full.state.quarantined?.case ?? null,
          decommissionReason: full.state.decommission?.reason ?? null,
          product: full.state.product && {
            gtin: full.state.product.gtin,
            expiry: full.state.product.expiry,
          },
        };
  if (canonicalize(lean) !== canonicalize(want)) expect([subject, lean]).toEqual([subject, want]);
}

/** A supply chain in memory driven by random steps; records go through the record schema. */
class World {
  readonly custody = new MemoryCustody(PARTIES);
  private clock = Date.parse('2026-11-28T12:00:00.000Z');
  private ssccs = 0;
  readonly subjects: string[] = [];
  /** every state applied, in order (each one is checked, not only the last of a chain) */
  readonly applied: ChainState[] = [];

  build(subject: string, type: RecordType, actor: string, data: Record<string, unknown>) {
    const s = this.custody.state(subject);
    this.clock += 61_001;
    const record = {
      v: 1,
      subject,
      seq: s ? s.seq + 1 : 0,
      prev: s ? s.head : null,
      type,
      actor,
      kid: KID,
      time: new Date(this.clock).toISOString(),
      data,
    } as CustodyRecord;
    const parsed = parseRecordPayload(encodeRecord(record));
    // A step the record schema refuses (a unit-only type on an SSCC, say) is skipped.
    return parsed.ok ? parsed.record : null;
  }

  /** Applies when the state machine accepts; returns the id or null. */
  try(subject: string, type: RecordType, actor: string, data: Record<string, unknown>) {
    const record = this.build(subject, type, actor, data);
    if (record === null) return null;
    const r = this.custody.apply(
      record,
      recordId(record),
      new Date(this.clock + 900).toISOString(),
    );
    if (!r.ok) return null;
    this.applied.push(r.state);
    if (!this.subjects.includes(subject)) this.subjects.push(subject);
    return recordId(record);
  }

  nextSscc(): string {
    return containerSubject(withCheckDigit(`1061414100${String(++this.ssccs).padStart(7, '0')}`));
  }

  /** Packs free subjects held by their custodian into a new SSCC or an existing unit case. */
  pack(members: string[], caseSubject: string | null): void {
    const first = this.custody.state(members[0]!);
    if (!first) return;
    const actor = first.custodian;
    const parent = caseSubject ?? this.nextSscc();
    const children: { subject: string; head: string }[] = [];
    for (const m of members) {
      if (m === parent) continue;
      const head = this.try(m, 'pack', actor, { parent });
      if (head) children.push({ subject: m, head });
    }
    if (children.length > 0) this.try(parent, 'pack', actor, { children });
  }

  unpack(container: string): void {
    const s = this.custody.state(container);
    if (!s || s.children.length === 0) return;
    const parentHead = this.try(container, 'unpack', s.custodian, {
      children: s.children.map((c) => c.subject),
    });
    if (!parentHead) return;
    for (const c of s.children)
      this.try(c.subject, 'unpack', s.custodian, { parent: container, parentHead });
  }
}

const cset82 = fc.stringMatching(/^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/);

// Free text as records allow it (no control characters), with some non-ASCII.
const safeText = fc.stringMatching(/^[ -~\u00e9\u4e2d]{1,12}$/);

const step = fc.oneof(
  fc.record({
    op: fc.constant('commission' as const),
    serial: cset82,
    lot: cset82,
    // expiry beyond 2149 takes the raw form
    expiry: fc.constantFrom('2028-12-31', '2030-01-31', '1999-02-28', '2200-06-30'),
    details: fc.option(
      fc.dictionary(
        fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,8}$/),
        fc.string({ maxLength: 12 }),
        {
          minKeys: 1,
          maxKeys: 3,
        },
      ),
      { nil: undefined },
    ),
    asCase: fc.boolean(),
  }),
  fc.record({
    op: fc.constantFrom(
      'ship' as const,
      'receive' as const,
      'decommission' as const,
      'reactivate' as const,
      'quarantine' as const,
      'release' as const,
      'unpack' as const,
    ),
    pick: fc.nat(),
    to: fc.nat(),
    text: safeText,
  }),
  fc.record({
    op: fc.constant('pack' as const),
    picks: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
    intoCase: fc.option(fc.nat(), { nil: null }),
  }),
);

type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

function run(steps: Step[]): World {
  const w = new World();
  let serials = 0;
  for (const st of steps) {
    const pick = (n: number) => w.subjects[n % Math.max(1, w.subjects.length)];
    if (st.op === 'commission') {
      const gtin = st.asCase ? CASE_GTIN : GTIN;
      const serial = `${st.serial.slice(0, 16)}${serials++}`;
      w.try(unitSubject(gtin, serial), 'commission', MFR, {
        gtin,
        serial,
        lot: st.lot,
        expiry: st.expiry,
        ...(st.details ? { product: st.details } : {}),
      });
      continue;
    }
    if (st.op === 'pack') {
      const members = [...new Set(st.picks.map(pick).filter((s): s is string => !!s))];
      const cases = w.subjects.filter((s) => s.includes(`/${CASE_GTIN}/`));
      const into =
        st.intoCase === null || cases.length === 0 ? null : cases[st.intoCase % cases.length]!;
      if (members.length > 0) w.pack(members, into);
      continue;
    }
    // Steps that undo one (receive, reactivate, release) pick among subjects they apply to.
    const want = (x: ChainState): boolean =>
      st.op === 'receive'
        ? x.inTransit !== null
        : st.op === 'reactivate'
          ? x.decommission !== null
          : st.op === 'release'
            ? x.quarantined !== null
            : true;
    const candidates = w.subjects.filter((x) => want(w.custody.state(x)!));
    const subject = candidates[st.pick % Math.max(1, candidates.length)];
    const s = subject ? w.custody.state(subject) : undefined;
    if (!subject || !s) continue;
    const to = GLNS[st.to % GLNS.length]!;
    switch (st.op) {
      case 'ship':
        w.try(subject, 'ship', s.custodian, { to, shipment: st.text });
        break;
      case 'receive':
        if (s.inTransit)
          w.try(subject, 'receive', s.inTransit.to, {
            from: s.inTransit.from,
            shipment: s.inTransit.shipment,
            condition: 'ok',
          });
        break;
      case 'decommission':
        w.try(subject, 'decommission', s.custodian, {
          reason: DECOMMISSION_REASONS[st.to % DECOMMISSION_REASONS.length],
        });
        break;
      case 'reactivate':
        if (s.decommission)
          w.try(subject, 'reactivate', s.decommission.actor, { undo: s.decommission.id });
        break;
      case 'quarantine':
        w.try(subject, 'quarantine', s.custodian, { case: st.text, reason: 'suspect' });
        break;
      case 'release':
        if (s.quarantined)
          w.try(subject, 'release', s.custodian, { case: s.quarantined.case, reason: 'cleared' });
        break;
      case 'unpack':
        w.unpack(subject);
        break;
    }
  }
  return w;
}

describe('the verified state encoding', () => {
  it('gives back every state applyRecord builds over random chains (units, cases, pallets, holds, handoffs)', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 30, maxLength: 60 }),
        fc.nat({ max: 2 ** 40 }),
        (steps, base) => {
          const w = run(steps);
          let i = 0;
          for (const s of w.applied) {
            expectRoundTrip(s, base + i++);
            seen.add(s.lastType);
            if (s.inTransit) seen.add('inTransit');
            if (s.containedIn) seen.add('containedIn');
            if (s.unpacked) seen.add('unpacked');
            if (s.quarantined) seen.add('quarantined');
            if (s.decommission) seen.add('decommission');
            if (s.product?.details) seen.add('details');
            if (s.kind === 'container') seen.add('container');
            if (s.kind === 'unit' && s.children.length > 0) seen.add('case');
          }
        },
      ),
      { numRuns: 150 },
    );
    // The walk reached every shape of state (else the property says little).
    expect([...seen].sort()).toEqual(
      [
        ...RECORD_TYPES,
        'inTransit',
        'containedIn',
        'unpacked',
        'quarantined',
        'details',
        'container',
        'case',
      ].sort(),
    );
  });

  it('gives back states with fields outside their compact forms (raw strings), exactly', () => {
    const text = fc.string({ maxLength: 70 });
    const id = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text);
    fc.assert(
      fc.property(
        fc.record({
          subject: fc.oneof(
            fc.constant(unitSubject(GTIN, 'A%1')),
            fc.constant(containerSubject(withCheckDigit('10614141000000001'))),
            text,
          ),
          kind: fc.constantFrom('unit' as const, 'container' as const),
          seq: fc.nat(),
          head: id,
          lastType: fc.constantFrom<RecordType>('commission', 'pack', 'ship', 'release'),
          lastTime: fc.oneof(fc.constant('2026-11-28T12:00:00.000Z'), text),
          lastActor: fc.oneof(fc.constantFrom(...GLNS), text),
          originator: fc.oneof(fc.constantFrom(...GLNS), text),
          active: fc.boolean(),
          custodian: fc.oneof(fc.constantFrom(...GLNS), text),
          inTransit: fc.option(
            fc.record({ from: text, to: fc.constantFrom(...GLNS), shipment: text, id }),
            { nil: null },
          ),
          containedIn: fc.option(text, { nil: null }),
          children: fc.constant([]),
          unpacked: fc.option(fc.record({ id }), { nil: null }),
          quarantined: fc.option(fc.record({ case: text, id }), { nil: null }),
          decommission: fc.option(
            fc.record(
              {
                id,
                reason: fc.constantFrom(...DECOMMISSION_REASONS, 'lost' as never),
                actor: text,
                time: text,
                integratedAt: fc.constant('2026-11-28T12:00:00.000Z'),
              },
              { requiredKeys: ['id', 'reason', 'actor', 'time'] },
            ),
            { nil: null },
          ),
          product: fc.option(
            fc.record(
              {
                gtin: text,
                serial: text,
                lot: text,
                expiry: fc.oneof(fc.constant('2030-01-31'), text),
                details: fc.dictionary(text, text, { maxKeys: 3 }),
              },
              { requiredKeys: ['gtin', 'serial', 'lot', 'expiry'] },
            ),
            { nil: null },
          ),
        }),
        fc.nat(),
        (state, headIndex) => {
          expectRoundTrip(state as ChainState, headIndex);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a commissioned unit in 51 bytes (issue 15: the row with its index within ~200 B)', () => {
    const w = new World();
    w.try(unitSubject(GTIN, 'M19999'), 'commission', MFR, {
      gtin: GTIN,
      serial: 'M19999',
      lot: 'L1',
      expiry: '2030-01-31',
    });
    const s = w.custody.state(unitSubject(GTIN, 'M19999'))!;
    expect(expectRoundTrip(s, 20_005).length).toBe(51);
  });

  it('writes every expiry day from 1970 to 2149 and any time to 2109 as toISOString does', () => {
    const w = new World();
    const subject = unitSubject(GTIN, 'D1');
    w.try(subject, 'commission', MFR, { gtin: GTIN, serial: 'D1', lot: 'L', expiry: '2030-01-31' });
    const s = w.custody.state(subject)!;
    for (let day = 0; day < 2 ** 16; day++) {
      const expiry = new Date(day * 86_400_000).toISOString().slice(0, 10);
      const st = { ...s, product: { ...s.product!, expiry } };
      const bytes = encodeVerifiedState(st, 1);
      if (decodeVerifiedState(subject, bytes).state.product?.expiry !== expiry || bytes.length > 50)
        throw new Error(`expiry ${expiry} does not round-trip in its compact form`);
    }
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 42 - 1 }), (ms) => {
        const lastTime = new Date(ms).toISOString();
        const bytes = encodeVerifiedState({ ...s, lastTime }, 1);
        expect(decodeVerifiedState(subject, bytes).state.lastTime).toBe(lastTime);
        expect(bytes.length).toBeLessThanOrEqual(50);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives back times and expiry dates that only look like toISOString output, exactly', () => {
    const w = new World();
    const subject = unitSubject(GTIN, 'N1');
    w.try(subject, 'commission', MFR, { gtin: GTIN, serial: 'N1', lot: 'L', expiry: '2030-01-31' });
    const s = w.custody.state(subject)!;
    const roundTrips = (lastTime: string, expiry: string) => {
      const st = { ...s, lastTime, product: { ...s.product!, expiry } };
      const back = decodeVerifiedState(subject, encodeVerifiedState(st, 1)).state;
      if (back.lastTime !== lastTime || back.product?.expiry !== expiry)
        throw new Error(
          `${lastTime} / ${expiry} came back as ${back.lastTime} / ${back.product?.expiry}`,
        );
    };
    const nearMisses: [string, string][] = [
      ['2021-04-31T00:00:00.000Z', '2021-04-31'],
      ['2021-02-29T12:00:00.000Z', '2021-02-29'],
      ['1900-02-29T12:00:00.000Z', '2100-02-29'],
      ['2024-02-30T12:00:00.000Z', '2024-02-30'],
      ['2024-13-01T00:00:00.000Z', '2024-00-10'],
      ['2024-01-01T24:00:00.000Z', '2024-01-00'],
      ['2024-01-01T23:60:00.000Z', '1969-12-31'],
      ['2024-01-01T23:59:60.000Z', '2024-1-01'],
      ['1969-12-31T23:59:59.999Z', '2024-01-01T'],
      ['2110-01-01T00:00:00.000Z', '2150-01-01'],
      ['2024-01-01T00:00:00.000z', '2024/01/01'],
      ['2024-01-01T00:00:00Z', '+02024-01-01'],
    ];
    for (const [t, d] of nearMisses) roundTrips(t, d);
    // The shape toISOString writes with any digits: mostly no real time or date, some real.
    fc.assert(
      fc.property(
        fc.stringMatching(/^[12]\d{3}-[01]\d-[0-3]\dT[0-2]\d:[0-6]\d:[0-6]\d\.\d{3}Z$/),
        (t) => roundTrips(t, t.slice(0, 10)),
      ),
      { numRuns: 20_000 },
    );
  });

  it('refuses bytes it did not write: another version, truncation, trailing bytes', () => {
    const w = new World();
    const subject = unitSubject(GTIN, 'X1');
    w.try(subject, 'commission', MFR, { gtin: GTIN, serial: 'X1', lot: 'L', expiry: '2030-01-31' });
    const bytes = encodeVerifiedState(w.custody.state(subject)!, 7);
    const bad = [
      Uint8Array.of(2, ...bytes.subarray(1)),
      bytes.subarray(0, bytes.length - 1),
      Uint8Array.of(...bytes, 0),
      new Uint8Array(0),
    ];
    for (const b of bad) expect(() => decodeVerifiedState(subject, b)).toThrow(StateCodecError);
  });

  it('reads the status of a unit in a pallet exactly as the full decode does, and refuses the same bytes', () => {
    // Every bit flip, truncation and extension of stored states (most still decode to something).
    const w = run(fc.sample(step, { numRuns: 40, seed: 15 }));
    // A GLN near the top of its 40 bits: a flip of a low bit takes it out of range.
    const top = withCheckDigit('999999999999');
    const states = [...w.applied, { ...w.applied[0]!, lastActor: top, custodian: top }];
    let refused = 0;
    let read = 0;
    for (const [i, s] of states.entries()) {
      const bytes = encodeVerifiedState(s, 1000 + i);
      const mutants = [bytes.subarray(0, bytes.length - 1), Uint8Array.of(...bytes, 0)];
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const m = Uint8Array.from(bytes);
        m[bit >> 3]! ^= 0x80 >> (bit & 7);
        mutants.push(m);
      }
      for (const m of mutants) {
        expectSameStatus(s.subject, m);
        try {
          decodeVerifiedState(s.subject, m);
          read++;
        } catch {
          refused++;
        }
      }
    }
    // Both outcomes were exercised (else the comparison says little).
    expect([read > 1000, refused > 1000]).toEqual([true, true]);
  });

  it('throws only StateCodecError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (bytes, v1) => {
        if (v1 && bytes.length > 0) bytes[0] = VERIFIED_STATE_VERSION;
        try {
          decodeVerifiedState(unitSubject(GTIN, 'X1'), bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(StateCodecError);
        }
        expectSameStatus(unitSubject(GTIN, 'X1'), bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
