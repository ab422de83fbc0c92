import { describe, expect, it } from '@jest/globals';
import {
  applyRecord,
  claimedTimeProblem,
  CustodyError,
  effectiveCustody,
  MemoryCustody,
  REACTIVATE_WINDOW_MS,
  referencedSubjects,
  timeAnomaly,
} from './custody.js';
import type { ApplyResult, ChainState, PartyInfo } from './custody.js';
import {
  encodeRecord,
  parseRecordPayload,
  recordId,
  unitSubject,
  containerSubject,
} from './records.js';
import type { CustodyRecord, RecordType } from './records.js';

// GS1 mod-10 check digit, computed independently of records.ts.
function withCheckDigit(body: string): string {
  let sum = 0;
  [...body].reverse().forEach((d, i) => (sum += Number(d) * (i % 2 === 0 ? 3 : 1)));
  return body + ((10 - (sum % 10)) % 10);
}

const MFR = withCheckDigit('061414100000');
const DIST = withCheckDigit('086000000000');
const PHARM = withCheckDigit('050000000001');
const THIEF = withCheckDigit('099999999999');
const OTHER_MFR = withCheckDigit('077777700000');
const KID = '0123456789abcdef0123456789abcdef';

const PARTIES: PartyInfo[] = [
  { gln: MFR, roles: ['manufacturer'], prefixes: ['0614141'], status: 'active' },
  { gln: DIST, roles: ['distributor'], prefixes: [], status: 'active' },
  { gln: PHARM, roles: ['dispenser'], prefixes: [], status: 'active' },
  { gln: THIEF, roles: ['distributor'], prefixes: ['0614141'], status: 'active' },
  { gln: OTHER_MFR, roles: ['manufacturer'], prefixes: ['0777777'], status: 'active' },
];

const GTIN = withCheckDigit('0061414112345');
const SSCC = containerSubject(withCheckDigit('10614141000000001'));
const SSCC2 = containerSubject(withCheckDigit('10614141000000002'));

type Data = Record<string, unknown>;

/** A supply chain in memory: builds records linked to the current heads and applies them. */
class World {
  readonly custody = new MemoryCustody(PARTIES);
  private clock = Date.parse('2026-11-28T12:00:00.000Z');

  /** Advances the clock and returns its time. */
  tick(ms = 60_000): string {
    this.clock += ms;
    return new Date(this.clock).toISOString();
  }

  /** A record on top of `subject`'s current head, schema-checked through its own payload bytes. */
  build(
    subject: string,
    type: RecordType,
    actor: string,
    data: Data,
    over: Partial<CustodyRecord> = {},
  ): CustodyRecord {
    const s = this.custody.state(subject);
    const record = {
      v: 1,
      subject,
      seq: s ? s.seq + 1 : 0,
      prev: s ? s.head : null,
      type,
      actor,
      kid: KID,
      time: this.tick(),
      data,
      ...over,
    } as CustodyRecord;
    const parsed = parseRecordPayload(encodeRecord(record));
    if (!parsed.ok)
      throw new Error(`test built a malformed record: ${JSON.stringify(parsed.errors)}`);
    return parsed.record;
  }

  apply(record: CustodyRecord): ApplyResult {
    return this.custody.apply(record);
  }

  /** Builds and applies; fails the test when the record is refused. Returns the record id. */
  do(
    subject: string,
    type: RecordType,
    actor: string,
    data: Data,
    over: Partial<CustodyRecord> = {},
  ): string {
    const record = this.build(subject, type, actor, data, over);
    const r = this.apply(record);
    if (!r.ok) throw new Error(`${type} on ${subject} refused: ${r.code} ${r.message}`);
    return recordId(record);
  }

  /** Expects `type` to be refused with `code`, leaving the state unchanged. */
  refuse(
    code: string,
    subject: string,
    type: RecordType,
    actor: string,
    data: Data,
    over: Partial<CustodyRecord> = {},
  ): void {
    const before = this.custody.state(subject);
    const r = this.apply(this.build(subject, type, actor, data, over));
    expect(r.ok ? 'accepted' : r.code).toBe(code);
    expect(this.custody.state(subject)).toBe(before);
  }

  state(subject: string): ChainState {
    const s = this.custody.state(subject);
    if (!s) throw new Error(`no chain for ${subject}`);
    return s;
  }

  commission(serial: string, actor = MFR, gtin = GTIN): string {
    const subject = unitSubject(gtin, serial);
    this.do(subject, 'commission', actor, { gtin, serial, lot: 'L1', expiry: '2028-12-31' });
    return subject;
  }

  /** Unit packs first, then the container pack listing each unit at its pack record (custody.ts header). */
  pack(sscc: string, units: string[], actor = MFR): string {
    const children = units.map((u) => ({
      subject: u,
      head: this.do(u, 'pack', actor, { parent: sscc }),
    }));
    return this.do(sscc, 'pack', actor, { children });
  }

  /** Container unpack first, then each unit's unpack naming it. */
  unpack(sscc: string, units: string[], actor: string): void {
    const parentHead = this.do(sscc, 'unpack', actor, { children: units });
    for (const u of units) this.do(u, 'unpack', actor, { parent: sscc, parentHead });
  }

  ship(subject: string, from: string, to: string, shipment = 'SH-1'): string {
    return this.do(subject, 'ship', from, { to, shipment });
  }

  receive(subject: string, by: string, from: string, shipment = 'SH-1'): string {
    return this.do(subject, 'receive', by, { from, shipment, condition: 'ok' });
  }
}

describe('an honest life', () => {
  it('accepts commission, pack, ship, receive, unpack, ship, receive, dispense and reactivate', () => {
    const w = new World();
    const units = ['A1', 'A2', 'A3'].map((s) => w.commission(s));
    expect(w.state(units[0]!)).toMatchObject({
      kind: 'unit',
      seq: 0,
      active: true,
      custodian: MFR,
      containedIn: null,
    });
    expect(w.state(units[0]!).product).toEqual({
      gtin: GTIN,
      serial: 'A1',
      lot: 'L1',
      expiry: '2028-12-31',
    });

    w.pack(SSCC, units);
    expect(w.state(SSCC)).toMatchObject({
      kind: 'container',
      seq: 0,
      custodian: MFR,
      lastType: 'pack',
    });
    expect(w.state(units[1]!)).toMatchObject({ seq: 1, lastType: 'pack', containedIn: SSCC });
    expect(w.custody.effective(units[1]!)).toEqual({
      custodian: MFR,
      inTransit: null,
      quarantined: null,
      via: SSCC,
      containers: [SSCC],
    });

    const shipId = w.ship(SSCC, MFR, DIST);
    // Shipping the container moves every unit inside it, with no per-unit record (DESIGN §5).
    expect(w.custody.effective(units[2]!)).toEqual({
      custodian: MFR,
      inTransit: { from: MFR, to: DIST, shipment: 'SH-1', id: shipId },
      quarantined: null,
      via: SSCC,
      containers: [SSCC],
    });
    expect(w.state(units[2]!).seq).toBe(1);

    w.receive(SSCC, DIST, MFR);
    expect(w.custody.effective(units[0]!)).toMatchObject({
      custodian: DIST,
      inTransit: null,
      via: SSCC,
      containers: [SSCC],
    });

    w.unpack(SSCC, units, DIST);
    expect(w.state(SSCC).unpacked).toEqual({ id: w.state(SSCC).head });
    expect(w.state(units[0]!)).toMatchObject({ seq: 2, custodian: DIST, containedIn: null });
    expect(w.custody.effective(units[0]!)).toMatchObject({ custodian: DIST, via: null });

    w.ship(units[0]!, DIST, PHARM, 'SH-2');
    w.receive(units[0]!, PHARM, DIST, 'SH-2');
    expect(w.state(units[0]!)).toMatchObject({ seq: 4, custodian: PHARM, inTransit: null });

    const dec = w.do(units[0]!, 'decommission', PHARM, { reason: 'dispensed' });
    expect(w.state(units[0]!)).toMatchObject({
      active: false,
      decommission: { id: dec, reason: 'dispensed', actor: PHARM },
    });

    w.tick(3 * 24 * 3600_000);
    w.do(units[0]!, 'reactivate', PHARM, { undo: dec });
    expect(w.state(units[0]!)).toMatchObject({
      seq: 6,
      active: true,
      decommission: null,
      custodian: PHARM,
    });

    // The other units carry on from the distributor.
    w.ship(units[1]!, DIST, PHARM, 'SH-3');
    w.receive(units[1]!, PHARM, DIST, 'SH-3');
  });

  it('quarantines and releases a unit, and a container hold covers the units inside', () => {
    const w = new World();
    const u = w.commission('Q1');
    w.do(u, 'quarantine', MFR, { case: 'C-1', reason: 'label damaged' });
    w.refuse('CUSTODY_VIOLATION', u, 'ship', MFR, { to: DIST, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', u, 'quarantine', MFR, { case: 'C-2', reason: 'again' });
    w.refuse('CUSTODY_VIOLATION', u, 'release', MFR, { case: 'C-2', reason: 'wrong case' });
    w.do(u, 'release', MFR, { case: 'C-1', reason: 'cleared' });
    w.ship(u, MFR, DIST);

    const v = w.commission('Q2');
    w.pack(SSCC, [v]);
    w.do(SSCC, 'quarantine', MFR, { case: 'C-3', reason: 'seal broken' });
    expect(w.custody.effective(v)?.quarantined).toMatchObject({ case: 'C-3' });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'ship', MFR, { to: DIST, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', MFR, { children: [v] });
  });

  it('destroys a quarantined unit, but will not dispense it', () => {
    const w = new World();
    const u = w.commission('Q3');
    w.do(u, 'quarantine', MFR, { case: 'C-1', reason: 'suspect' });
    w.refuse('CUSTODY_VIOLATION', u, 'decommission', MFR, { reason: 'dispensed' });
    w.do(u, 'decommission', MFR, { reason: 'destroyed' });
  });
});

describe('chain links', () => {
  it('rejects a wrong prev with CHAIN_BROKEN', () => {
    const w = new World();
    const u = w.commission('C1');
    w.refuse('CHAIN_BROKEN', u, 'ship', MFR, { to: DIST, shipment: 'S' }, { prev: 'f'.repeat(64) });
  });

  it('rejects a skipped seq with CHAIN_BROKEN', () => {
    const w = new World();
    const u = w.commission('C2');
    w.refuse('CHAIN_BROKEN', u, 'ship', MFR, { to: DIST, shipment: 'S' }, { seq: 2 });
  });

  it('rejects a second record for a seq already taken (fork-like) with CHAIN_BROKEN', () => {
    const w = new World();
    const u = w.commission('C3');
    const head = w.state(u).head;
    w.ship(u, MFR, DIST);
    w.refuse('CHAIN_BROKEN', u, 'ship', MFR, { to: PHARM, shipment: 'S' }, { seq: 1, prev: head });
    // A second genesis for a subject that already has a chain.
    w.refuse(
      'CHAIN_BROKEN',
      u,
      'commission',
      MFR,
      { gtin: GTIN, serial: 'C3', lot: 'L1', expiry: '2028-12-31' },
      { seq: 0, prev: null },
    );
  });

  it('rejects a first record that is not seq 0 with CHAIN_BROKEN', () => {
    const w = new World();
    const u = unitSubject(GTIN, 'C4');
    w.refuse(
      'CHAIN_BROKEN',
      u,
      'ship',
      MFR,
      { to: DIST, shipment: 'S' },
      { seq: 1, prev: 'a'.repeat(64) },
    );
  });

  it('throws a coded CustodyError when given the state of another subject', () => {
    const w = new World();
    const a = w.commission('C5');
    const b = w.commission('C6');
    const record = w.build(b, 'ship', MFR, { to: DIST, shipment: 'S' });
    expect(() => applyRecord(w.state(a), record, recordId(record), w.custody)).toThrow(
      CustodyError,
    );
    expect(() => applyRecord(w.state(a), record, recordId(record), w.custody)).toThrow(
      expect.objectContaining({ code: 'STATE_SUBJECT_MISMATCH' }),
    );
  });
});

describe('genesis', () => {
  it('rejects a commission by a party that is not a manufacturer', () => {
    const w = new World();
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G1'), 'commission', THIEF, {
      gtin: GTIN,
      serial: 'G1',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });

  it('rejects a commission by a manufacturer that does not own the GTIN prefix', () => {
    const w = new World();
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G2'), 'commission', OTHER_MFR, {
      gtin: GTIN,
      serial: 'G2',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });

  it('rejects a commission by an unregistered party', () => {
    const w = new World();
    const nobody = withCheckDigit('012345678901');
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G3'), 'commission', nobody, {
      gtin: GTIN,
      serial: 'G3',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });

  it('reads the company prefix after the GTIN-14 indicator digit', () => {
    const w = new World();
    const indicator = withCheckDigit('5061414112345');
    w.commission('G4', MFR, indicator);
    // '0061414' is not a prefix of '061414112345x' read after the indicator.
    w.custody.setParty({
      gln: OTHER_MFR,
      roles: ['manufacturer'],
      prefixes: ['0061414'],
      status: 'active',
    });
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G5'), 'commission', OTHER_MFR, {
      gtin: GTIN,
      serial: 'G5',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });

  it('accepts a commission by a repackager under its own prefix', () => {
    const w = new World();
    w.custody.setParty({
      gln: DIST,
      roles: ['distributor', 'repackager'],
      prefixes: ['0614141'],
      status: 'active',
    });
    w.commission('G6', DIST);
  });

  it('rejects a commission whose gtin or serial differ from the subject', () => {
    const w = new World();
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G7'), 'commission', MFR, {
      gtin: GTIN,
      serial: 'G8',
      lot: 'L',
      expiry: '2028-01-31',
    });
    const gtin2 = withCheckDigit('0061414199999');
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G7'), 'commission', MFR, {
      gtin: gtin2,
      serial: 'G7',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });

  it('rejects a unit chain that starts with anything but commission', () => {
    const w = new World();
    w.refuse('GENESIS_INVALID', unitSubject(GTIN, 'G9'), 'pack', MFR, { parent: SSCC });
  });

  it('rejects a container chain that starts with anything but its pack', () => {
    const w = new World();
    w.refuse('GENESIS_INVALID', SSCC, 'ship', MFR, { to: DIST, shipment: 'S' });
  });

  it('rejects a commission after seq 0 as a custody violation', () => {
    const w = new World();
    const u = w.commission('G10');
    w.refuse('CUSTODY_VIOLATION', u, 'commission', MFR, {
      gtin: GTIN,
      serial: 'G10',
      lot: 'L',
      expiry: '2028-01-31',
    });
  });
});

describe('shipping and receiving', () => {
  it('rejects a ship by a party that is not the custodian', () => {
    const w = new World();
    const u = w.commission('S1');
    w.refuse('CUSTODY_VIOLATION', u, 'ship', THIEF, { to: PHARM, shipment: 'S' });
  });

  it('rejects a receive by a party the shipment was not addressed to', () => {
    const w = new World();
    const u = w.commission('S2');
    w.ship(u, MFR, DIST);
    w.refuse('CUSTODY_VIOLATION', u, 'receive', THIEF, {
      from: MFR,
      shipment: 'SH-1',
      condition: 'ok',
    });
  });

  it('rejects a receive naming another shipper or shipment', () => {
    const w = new World();
    const u = w.commission('S3');
    w.ship(u, MFR, DIST);
    w.refuse('CUSTODY_VIOLATION', u, 'receive', DIST, {
      from: PHARM,
      shipment: 'SH-1',
      condition: 'ok',
    });
    w.refuse('CUSTODY_VIOLATION', u, 'receive', DIST, {
      from: MFR,
      shipment: 'SH-9',
      condition: 'ok',
    });
  });

  it('rejects a second receive of the same shipment', () => {
    const w = new World();
    const u = w.commission('S4');
    w.ship(u, MFR, DIST);
    w.receive(u, DIST, MFR);
    w.refuse('CUSTODY_VIOLATION', u, 'receive', DIST, {
      from: MFR,
      shipment: 'SH-1',
      condition: 'ok',
    });
  });

  it('rejects a receive with no shipment under way', () => {
    const w = new World();
    const u = w.commission('S5');
    w.refuse('CUSTODY_VIOLATION', u, 'receive', MFR, {
      from: MFR,
      shipment: 'SH-1',
      condition: 'ok',
    });
  });

  it('rejects a ship while in transit, by the shipper or the addressee', () => {
    const w = new World();
    const u = w.commission('S6');
    w.ship(u, MFR, DIST);
    w.refuse('CUSTODY_VIOLATION', u, 'ship', MFR, { to: PHARM, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', u, 'ship', DIST, { to: PHARM, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', u, 'decommission', MFR, { reason: 'destroyed' });
  });

  it('rejects a ship of a unit while it is packed, by the packer or the container holder', () => {
    const w = new World();
    const u = w.commission('S7');
    w.pack(SSCC, [u]);
    w.refuse('CUSTODY_VIOLATION', u, 'ship', MFR, { to: DIST, shipment: 'S' });
    w.ship(SSCC, MFR, DIST);
    w.receive(SSCC, DIST, MFR);
    w.refuse('CUSTODY_VIOLATION', u, 'ship', DIST, { to: PHARM, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', u, 'decommission', DIST, { reason: 'dispensed' });
  });

  it('rejects a ship after decommission', () => {
    const w = new World();
    const u = w.commission('S8');
    w.do(u, 'decommission', MFR, { reason: 'exported' });
    w.refuse('CUSTODY_VIOLATION', u, 'ship', MFR, { to: DIST, shipment: 'S' });
  });

  it('rejects a ship to oneself', () => {
    const w = new World();
    const u = w.commission('S9');
    w.refuse('CUSTODY_VIOLATION', u, 'ship', MFR, { to: MFR, shipment: 'S' });
  });

  it('keeps the shipper as custodian until the receive', () => {
    const w = new World();
    const u = w.commission('S10');
    w.ship(u, MFR, DIST);
    expect(w.state(u)).toMatchObject({ custodian: MFR, inTransit: { to: DIST, from: MFR } });
    w.receive(u, DIST, MFR);
    expect(w.state(u)).toMatchObject({ custodian: DIST, inTransit: null });
  });
});

describe('packing', () => {
  it('rejects a container pack listing a child at a stale head', () => {
    const w = new World();
    const u = w.commission('P1');
    const commissionId = w.state(u).head;
    w.do(u, 'pack', MFR, { parent: SSCC });
    w.refuse('CHAIN_BROKEN', SSCC, 'pack', MFR, { children: [{ subject: u, head: commissionId }] });
  });

  it('rejects a container pack listing a unit that was not packed into it', () => {
    const w = new World();
    const u = w.commission('P2');
    const v = w.commission('P3');
    const vHead = w.state(v).head;
    const uPack = w.do(u, 'pack', MFR, { parent: SSCC2 });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'pack', MFR, { children: [{ subject: u, head: uPack }] });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'pack', MFR, { children: [{ subject: v, head: vHead }] });
  });

  it('rejects a container pack listing a unit with no chain', () => {
    const w = new World();
    w.refuse('CUSTODY_VIOLATION', SSCC, 'pack', MFR, {
      children: [{ subject: unitSubject(GTIN, 'nobody'), head: 'a'.repeat(64) }],
    });
  });

  it('rejects a pack by a party that is not the custodian', () => {
    const w = new World();
    const u = w.commission('P4');
    w.refuse('CUSTODY_VIOLATION', u, 'pack', THIEF, { parent: SSCC });
    const packId = w.do(u, 'pack', MFR, { parent: SSCC });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'pack', THIEF, {
      children: [{ subject: u, head: packId }],
    });
  });

  it('rejects packing a unit twice or into a container already sealed', () => {
    const w = new World();
    const u = w.commission('P5');
    const v = w.commission('P6');
    w.pack(SSCC, [u]);
    w.refuse('CUSTODY_VIOLATION', u, 'pack', MFR, { parent: SSCC2 });
    w.refuse('CUSTODY_VIOLATION', v, 'pack', MFR, { parent: SSCC });
  });

  it('rejects a second pack of a container as a broken chain', () => {
    const w = new World();
    const u = w.commission('P7');
    w.pack(SSCC, [u]);
    w.refuse(
      'CHAIN_BROKEN',
      SSCC,
      'pack',
      MFR,
      { children: [{ subject: u, head: w.state(u).head }] },
      { seq: 0, prev: null },
    );
    w.refuse(
      'CUSTODY_VIOLATION',
      SSCC,
      'pack',
      MFR,
      { children: [{ subject: u, head: w.state(u).head }] },
      { seq: 1, prev: w.state(SSCC).head },
    );
  });

  it('rejects an unpack of a container in transit, by either party', () => {
    const w = new World();
    const u = w.commission('P8');
    w.pack(SSCC, [u]);
    w.ship(SSCC, MFR, DIST);
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', DIST, { children: [u] });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', MFR, { children: [u] });
  });
});

describe('unpacking', () => {
  function packedAndDelivered(w: World, serials: string[]): string[] {
    const units = serials.map((s) => w.commission(s));
    w.pack(SSCC, units);
    w.ship(SSCC, MFR, DIST);
    w.receive(SSCC, DIST, MFR);
    return units;
  }

  it('rejects a container unpack by a party that is not the custodian', () => {
    const w = new World();
    const units = packedAndDelivered(w, ['U1']);
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', MFR, { children: units });
  });

  it('rejects a container unpack that does not list exactly the packed children', () => {
    const w = new World();
    const units = packedAndDelivered(w, ['U2', 'U3']);
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', DIST, { children: [units[0]!] });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'unpack', DIST, {
      children: [units[0]!, unitSubject(GTIN, 'X')],
    });
  });

  it('rejects a unit unpack before its container is opened', () => {
    const w = new World();
    const [u] = packedAndDelivered(w, ['U4']);
    w.refuse('CUSTODY_VIOLATION', u!, 'unpack', DIST, {
      parent: SSCC,
      parentHead: w.state(SSCC).head,
    });
  });

  it('rejects a unit unpack naming the wrong parent head with CHAIN_BROKEN', () => {
    const w = new World();
    const [u] = packedAndDelivered(w, ['U5']);
    w.do(SSCC, 'unpack', DIST, { children: [u] });
    w.refuse('CHAIN_BROKEN', u!, 'unpack', DIST, { parent: SSCC, parentHead: 'b'.repeat(64) });
  });

  it('rejects a unit unpack by another party or from another parent, and a second unpack', () => {
    const w = new World();
    const [u] = packedAndDelivered(w, ['U6']);
    const parentHead = w.do(SSCC, 'unpack', DIST, { children: [u] });
    w.refuse('CUSTODY_VIOLATION', u!, 'unpack', MFR, { parent: SSCC, parentHead });
    w.refuse('CUSTODY_VIOLATION', u!, 'unpack', DIST, { parent: SSCC2, parentHead });
    w.do(u!, 'unpack', DIST, { parent: SSCC, parentHead });
    w.refuse('CUSTODY_VIOLATION', u!, 'unpack', DIST, { parent: SSCC, parentHead });
  });

  it('takes no more records on an opened container', () => {
    const w = new World();
    const [u] = packedAndDelivered(w, ['U7']);
    w.do(SSCC, 'unpack', DIST, { children: [u] });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'ship', DIST, { to: PHARM, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', SSCC, 'quarantine', DIST, { case: 'C', reason: 'r' });
  });
});

describe('decommission and reactivate', () => {
  it('rejects a decommission by a party that is not the custodian', () => {
    const w = new World();
    const u = w.commission('D1');
    w.refuse('CUSTODY_VIOLATION', u, 'decommission', THIEF, { reason: 'dispensed' });
  });

  it('rejects a second decommission', () => {
    const w = new World();
    const u = w.commission('D2');
    w.do(u, 'decommission', MFR, { reason: 'sample' });
    w.refuse('CUSTODY_VIOLATION', u, 'decommission', MFR, { reason: 'dispensed' });
  });

  it('accepts a reactivate exactly 10 days after the decommission and rejects one after 11 days', () => {
    const w = new World();
    const u = w.commission('D3');
    const dec = w.do(u, 'decommission', MFR, { reason: 'dispensed' });
    const decTime = w.state(u).lastTime;
    const at = (ms: number) => new Date(Date.parse(decTime) + ms).toISOString();
    w.refuse(
      'CUSTODY_VIOLATION',
      u,
      'reactivate',
      MFR,
      { undo: dec },
      { time: at(11 * 24 * 3600_000) },
    );
    w.refuse(
      'CUSTODY_VIOLATION',
      u,
      'reactivate',
      MFR,
      { undo: dec },
      { time: at(REACTIVATE_WINDOW_MS + 1) },
    );
    w.do(u, 'reactivate', MFR, { undo: dec }, { time: at(REACTIVATE_WINDOW_MS) });
  });

  it.each(['destroyed', 'stolen'])(
    'rejects a reactivate of a unit decommissioned as %s',
    (reason) => {
      const w = new World();
      const u = w.commission('D4');
      const dec = w.do(u, 'decommission', MFR, { reason });
      w.refuse('CUSTODY_VIOLATION', u, 'reactivate', MFR, { undo: dec });
    },
  );

  it('rejects a reactivate by another party, of another record, or of an active unit', () => {
    const w = new World();
    const u = w.commission('D5');
    w.refuse('CUSTODY_VIOLATION', u, 'reactivate', MFR, { undo: w.state(u).head });
    const dec = w.do(u, 'decommission', MFR, { reason: 'free_sample' });
    w.refuse('CUSTODY_VIOLATION', u, 'reactivate', DIST, { undo: dec });
    w.refuse('CUSTODY_VIOLATION', u, 'reactivate', MFR, { undo: 'c'.repeat(64) });
    w.refuse('CUSTODY_VIOLATION', u, 'quarantine', MFR, { case: 'C', reason: 'r' });
  });
});

describe('the reactivation window on receipt times (issue 10 #1)', () => {
  const DAY = 24 * 3600_000;

  it('refuses a reactivate logged 20 days after the decommission, whatever time it claims', () => {
    const w = new World();
    const u = w.commission('RT1');
    const decRecord = w.build(u, 'decommission', MFR, { reason: 'dispensed' });
    const loggedAt = (ms: number) => new Date(Date.parse(decRecord.time) + ms).toISOString();
    const dec = applyRecord(w.state(u), decRecord, recordId(decRecord), w.custody, loggedAt(1000));
    expect(dec.ok).toBe(true);
    if (!dec.ok) return;
    expect(dec.state.decommission!.integratedAt).toBe(loggedAt(1000));
    const undo = recordId(decRecord);
    // Claimed 5 days after the decommission, logged 20 days after it.
    const re = { ...decRecord, seq: 2, prev: undo, type: 'reactivate', data: { undo } };
    const claimed = { ...re, time: loggedAt(5 * DAY) } as CustodyRecord;
    const late = applyRecord(dec.state, claimed, recordId(claimed), w.custody, loggedAt(20 * DAY));
    expect(late.ok ? 'accepted' : late.code).toBe('CUSTODY_VIOLATION');
    const inTime = applyRecord(dec.state, claimed, recordId(claimed), w.custody, loggedAt(9 * DAY));
    expect(inTime.ok).toBe(true);
  });
});

describe('SSCCs under the packer prefix (issue 10 #4)', () => {
  it('refuses GENESIS_INVALID for a container packed under another company prefix', () => {
    const w = new World();
    const u = w.commission('SP1');
    w.ship(u, MFR, DIST);
    w.receive(u, DIST, MFR);
    const head = w.do(u, 'pack', DIST, { parent: SSCC });
    w.refuse('GENESIS_INVALID', SSCC, 'pack', DIST, { children: [{ subject: u, head }] });
  });
});

describe('claimedTimeProblem (DESIGN §5 time rules)', () => {
  const at = '2026-12-01T00:00:00.000Z';
  const off = (ms: number) => new Date(Date.parse(at) + ms).toISOString();

  it('allows 5 minutes ahead of the receipt, 72 hours behind, and not before the previous time', () => {
    expect(claimedTimeProblem(off(5 * 60_000), at, null)).toBeNull();
    expect(claimedTimeProblem(off(5 * 60_000 + 1), at, null)?.rule).toBe('after-receipt');
    expect(claimedTimeProblem(off(-72 * 3600_000), at, null)).toBeNull();
    expect(claimedTimeProblem(off(-72 * 3600_000 - 1), at, null)?.rule).toBe('backdated');
    expect(claimedTimeProblem(off(-1), at, off(0))?.rule).toBe('before-previous');
    expect(claimedTimeProblem(off(0), at, off(0))).toBeNull();
    expect(claimedTimeProblem(off(-4 * 24 * 3600_000), at, null, 5 * 24 * 3600_000)).toBeNull();
  });
});

describe('effectiveCustody', () => {
  it("reads a contained unit's custody from its container", () => {
    const w = new World();
    const u = w.commission('E1');
    w.do(u, 'pack', MFR, { parent: SSCC });
    // Before the container's own pack, the unit keeps its own custody.
    expect(effectiveCustody(w.state(u), w.custody)).toEqual({
      custodian: MFR,
      inTransit: null,
      quarantined: null,
      via: null,
      containers: [],
    });
    w.do(SSCC, 'pack', MFR, { children: [{ subject: u, head: w.state(u).head }] });
    expect(effectiveCustody(w.state(u), w.custody).via).toBe(SSCC);
  });
});

describe('containers inside containers (DESIGN §5)', () => {
  const CASE_GTIN = withCheckDigit('0061414199999');
  const PALLET = containerSubject(withCheckDigit('10614141000000900'));
  const PALLET2 = containerSubject(withCheckDigit('10614141000000901'));
  const C1 = containerSubject(withCheckDigit('10614141000000910'));
  const C2 = containerSubject(withCheckDigit('10614141000000911'));

  /** Two SSCC cases of two units each, packed into one pallet: 4 + 1 + 2 + 1 + 2 + 1 records. */
  function palletOfCases(w: World): { units: string[]; palletPack: string } {
    const units = ['N1', 'N2', 'N3', 'N4'].map((s) => w.commission(s));
    w.pack(C1, units.slice(0, 2));
    w.pack(C2, units.slice(2));
    w.pack(PALLET, [C1, C2]);
    return { units, palletPack: w.state(PALLET).head };
  }

  /** A commissioned serialized case holding `units`: its pack of children after its commission. */
  function serializedCase(w: World, serial: string, units: string[], actor = MFR): string {
    const kase = w.commission(serial, actor, CASE_GTIN);
    const children = units.map((u) => ({
      subject: u,
      head: w.do(u, 'pack', actor, { parent: kase }),
    }));
    w.do(kase, 'pack', actor, { children });
    return kase;
  }

  it('packs a pallet of SSCC cases and reads custody from the pallet two levels down', () => {
    const w = new World();
    const { units } = palletOfCases(w);
    const u = units[0]!;
    expect(w.state(C1)).toMatchObject({ containedIn: PALLET, seq: 1, lastType: 'pack' });
    expect(w.state(PALLET).children.map((c) => c.subject)).toEqual([C1, C2]);
    expect(w.custody.effective(u)).toEqual({
      custodian: MFR,
      inTransit: null,
      quarantined: null,
      via: PALLET,
      containers: [C1, PALLET],
    });
    w.ship(PALLET, MFR, DIST);
    expect(w.custody.effective(u)?.inTransit?.to).toBe(DIST);
    expect(w.custody.effective(C2)?.inTransit?.to).toBe(DIST);
    w.receive(PALLET, DIST, MFR);
    // Receiving the pallet moves custody of its cases and of their units.
    for (const s of [C1, C2, ...units]) expect(w.custody.effective(s)?.custodian).toBe(DIST);
    // Their own chains were not touched: one receive, signed once.
    expect(w.state(u).custodian).toBe(MFR);
    expect(w.state(C1).custodian).toBe(MFR);
  });

  it('unpacks level by level: pallet, then a case, then its units, and ships a unit on', () => {
    const w = new World();
    const { units } = palletOfCases(w);
    w.ship(PALLET, MFR, DIST);
    w.receive(PALLET, DIST, MFR);
    w.unpack(PALLET, [C1, C2], DIST);
    expect(w.state(C1)).toMatchObject({ containedIn: null, custodian: DIST });
    // The units are still sealed in their case: its custody now, not the opened pallet's.
    expect(w.custody.effective(units[0]!)).toMatchObject({
      custodian: DIST,
      via: C1,
      containers: [C1],
    });
    // A free case travels on its own, its units with it.
    w.ship(C2, DIST, PHARM, 'SH-2');
    expect(w.custody.effective(units[3]!)?.inTransit?.to).toBe(PHARM);
    w.receive(C2, PHARM, DIST, 'SH-2');
    expect(w.custody.effective(units[3]!)?.custodian).toBe(PHARM);
    w.unpack(C1, units.slice(0, 2), DIST);
    w.ship(units[0]!, DIST, PHARM, 'SH-3');
    w.receive(units[0]!, PHARM, DIST, 'SH-3');
    expect(w.state(units[0]!).custodian).toBe(PHARM);
  });

  it('holds on the pallet cover every case and unit inside it', () => {
    const w = new World();
    const { units } = palletOfCases(w);
    w.do(PALLET, 'quarantine', MFR, { case: 'Q-1', reason: 'temperature' });
    expect(w.custody.effective(units[2]!)?.quarantined?.case).toBe('Q-1');
    w.refuse('CUSTODY_VIOLATION', PALLET, 'ship', MFR, { to: DIST, shipment: 'S' });
  });

  it('packs a serialized GTIN case after its commission and nests it in a pallet', () => {
    const w = new World();
    const units = ['G1', 'G2'].map((s) => w.commission(s));
    const kase = serializedCase(w, 'CASE-1', units);
    expect(w.state(kase)).toMatchObject({ kind: 'unit', seq: 1, lastType: 'pack', active: true });
    expect(w.state(kase).product?.gtin).toBe(CASE_GTIN);
    expect(w.custody.effective(units[0]!)?.via).toBe(kase);
    w.pack(PALLET, [kase]);
    expect(w.custody.effective(units[1]!)?.containers).toEqual([kase, PALLET]);
    w.ship(PALLET, MFR, DIST);
    w.receive(PALLET, DIST, MFR);
    expect(w.custody.effective(units[1]!)?.custodian).toBe(DIST);
    w.unpack(PALLET, [kase], DIST);
    w.unpack(kase, units, DIST);
    expect(w.state(units[0]!)).toMatchObject({ containedIn: null, custodian: DIST });
    // An opened case takes no more records.
    w.refuse('CUSTODY_VIOLATION', kase, 'ship', DIST, { to: PHARM, shipment: 'S' });
  });

  it('refuses decommissioning a serialized case that holds units, which would seal them in for good', () => {
    const w = new World();
    const units = ['DC1'].map((s) => w.commission(s));
    const kase = serializedCase(w, 'DC-CASE', units);
    w.refuse('CUSTODY_VIOLATION', kase, 'decommission', MFR, { reason: 'destroyed' });
    w.unpack(kase, units, MFR);
    // Opened, it takes no more records at all.
    w.refuse('CUSTODY_VIOLATION', kase, 'decommission', MFR, { reason: 'destroyed' });
    w.do(units[0]!, 'decommission', MFR, { reason: 'destroyed' });
  });

  it('refuses a cycle A -> B -> A, sealed or not', () => {
    const w = new World();
    const a = w.commission('CYC-A', MFR, CASE_GTIN);
    const b = w.commission('CYC-B', MFR, CASE_GTIN);
    w.do(a, 'pack', MFR, { parent: b });
    // B cannot go into A: A is (provisionally) inside B.
    w.refuse('CUSTODY_VIOLATION', b, 'pack', MFR, { parent: a });
    // Sealed: B holds A; A, being contained, takes nothing but its unpack.
    w.do(b, 'pack', MFR, { children: [{ subject: a, head: w.state(a).head }] });
    w.refuse('CUSTODY_VIOLATION', a, 'pack', MFR, { parent: b });
    w.refuse('CUSTODY_VIOLATION', b, 'pack', MFR, { parent: a });
    // And an SSCC that holds a case cannot be packed into that case.
    const units = ['CYC-U'].map((s) => w.commission(s));
    const c = serializedCase(w, 'CYC-C', units);
    w.pack(C1, [c]);
    w.refuse('CUSTODY_VIOLATION', C1, 'pack', MFR, { parent: c });
  });

  it('refuses packing a container the actor does not hold', () => {
    const w = new World();
    const units = ['H1'].map((s) => w.commission(s));
    w.pack(C1, units);
    w.refuse('CUSTODY_VIOLATION', C1, 'pack', THIEF, { parent: PALLET });
    // Listing a case the thief packed but does not hold is refused at the pallet too.
    const head = w.do(C1, 'pack', MFR, { parent: PALLET });
    w.refuse('CUSTODY_VIOLATION', PALLET, 'pack', THIEF, { children: [{ subject: C1, head }] });
    // In transit, not even the shipper may pack it.
    const w2 = new World();
    w2.pack(
      C2,
      ['H2'].map((s) => w2.commission(s)),
    );
    w2.ship(C2, MFR, DIST);
    w2.refuse('CUSTODY_VIOLATION', C2, 'pack', MFR, { parent: PALLET });
    w2.refuse('CUSTODY_VIOLATION', C2, 'pack', DIST, { parent: PALLET });
  });

  it('refuses packing into a case the actor does not hold, has not commissioned, or sealed', () => {
    const w = new World();
    const u = w.commission('K1');
    const foreign = w.commission('K-CASE', OTHER_MFR, withCheckDigit('0077777700001'));
    w.refuse('CUSTODY_VIOLATION', u, 'pack', MFR, { parent: foreign });
    w.refuse('CUSTODY_VIOLATION', u, 'pack', MFR, {
      parent: unitSubject(CASE_GTIN, 'never-commissioned'),
    });
    const kase = serializedCase(w, 'K-SEALED', [w.commission('K2')]);
    w.refuse('CUSTODY_VIOLATION', u, 'pack', MFR, { parent: kase });
    // A case seals once.
    w.refuse('CUSTODY_VIOLATION', kase, 'pack', MFR, {
      children: [{ subject: u, head: w.state(u).head }],
    });
    // An SSCC seals only at its genesis.
    w.pack(C1, [w.commission('K3')]);
    w.refuse('CUSTODY_VIOLATION', C1, 'pack', MFR, {
      children: [{ subject: u, head: w.state(u).head }],
    });
  });

  it('refuses packing a case that is itself contained, and a pallet listing it', () => {
    const w = new World();
    palletOfCases(w);
    w.refuse('CUSTODY_VIOLATION', C1, 'pack', MFR, { parent: PALLET2 });
    w.refuse('CUSTODY_VIOLATION', PALLET2, 'pack', MFR, {
      children: [{ subject: C1, head: w.state(C1).head }],
    });
    // A case inside a pallet takes no new children either.
    const kase = w.commission('INNER', MFR, CASE_GTIN);
    w.do(kase, 'pack', MFR, { parent: PALLET2 });
    w.refuse('CUSTODY_VIOLATION', w.commission('INNER-U'), 'pack', MFR, { parent: kase });
  });

  it('refuses shipping, unpacking or decommissioning a case out of a pallet without unpacking it', () => {
    const w = new World();
    const { units } = palletOfCases(w);
    w.refuse('CUSTODY_VIOLATION', C1, 'ship', MFR, { to: DIST, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', units[0]!, 'ship', MFR, { to: DIST, shipment: 'S' });
    w.refuse('CUSTODY_VIOLATION', C1, 'unpack', MFR, { children: units.slice(0, 2) });
    w.refuse('CUSTODY_VIOLATION', C1, 'unpack', MFR, {
      parent: PALLET,
      parentHead: w.state(PALLET).head,
    });
    w.refuse('CUSTODY_VIOLATION', C1, 'quarantine', MFR, { case: 'X', reason: 'r' });
    w.ship(PALLET, MFR, DIST);
    w.receive(PALLET, DIST, MFR);
    // The receiver of the pallet may not ship the case alone either.
    w.refuse('CUSTODY_VIOLATION', C1, 'ship', DIST, { to: PHARM, shipment: 'S' });
    const parentHead = w.do(PALLET, 'unpack', DIST, { children: [C1, C2] });
    // Only the pallet's custodian takes the case out.
    w.refuse('CUSTODY_VIOLATION', C1, 'unpack', MFR, { parent: PALLET, parentHead });
    w.do(C1, 'unpack', DIST, { parent: PALLET, parentHead });
    w.do(C1, 'ship', DIST, { to: PHARM, shipment: 'S' });
  });

  it('costs N+1 signed records to pack N children, at every level', () => {
    const w = new World();
    palletOfCases(w);
    // Each case: seq 0 pack of children, seq 1 its pack into the pallet.
    expect(w.state(C1).seq).toBe(1);
    expect(w.state(PALLET).seq).toBe(0);
  });
});

describe('referencedSubjects', () => {
  it('names the parent of a unit pack or unpack and the children of a container pack', () => {
    const w = new World();
    const u = w.commission('R1');
    const unitPack = w.build(u, 'pack', MFR, { parent: SSCC });
    expect(referencedSubjects(unitPack)).toEqual([SSCC]);
    w.apply(unitPack);
    const containerPack = w.build(SSCC, 'pack', MFR, {
      children: [{ subject: u, head: w.state(u).head }],
    });
    expect(referencedSubjects(containerPack)).toEqual([u]);
    w.apply(containerPack);
    expect(referencedSubjects(w.build(SSCC, 'unpack', MFR, { children: [u] }))).toEqual([]);
    expect(
      referencedSubjects(w.build(u, 'unpack', MFR, { parent: SSCC, parentHead: 'a'.repeat(64) })),
    ).toEqual([SSCC]);
    expect(referencedSubjects(w.build(SSCC, 'ship', MFR, { to: DIST, shipment: 'S' }))).toEqual([]);
  });
});

describe('timeAnomaly', () => {
  it('flags times that go backwards or lie in the future', () => {
    expect(timeAnomaly('2026-11-28T12:00:00.000Z', '2026-11-28T11:59:59.999Z')).toBe('backwards');
    expect(timeAnomaly('2026-11-28T12:00:00.000Z', '2026-11-28T12:00:00.000Z')).toBeNull();
    expect(timeAnomaly(null, '2026-11-28T12:00:00.000Z')).toBeNull();
    const now = Date.parse('2026-11-28T12:00:00.000Z');
    expect(timeAnomaly(null, '2026-11-28T12:05:00.000Z', now)).toBeNull();
    expect(timeAnomaly(null, '2026-11-28T12:05:00.001Z', now)).toBe('future');
    expect(timeAnomaly(null, '2026-11-28T12:00:01.000Z', now, 0)).toBe('future');
  });
});

describe('performance', () => {
  it('replays a 10,000-unit pallet through pack, ship, receive and unpack quickly, sharing the children array', () => {
    const custody = new MemoryCustody(PARTIES);
    const time = '2026-11-28T12:00:00.000Z';
    const base = { v: 1 as const, actor: MFR, kid: KID, time };
    const n = 10_000;
    const units: string[] = [];
    const started = performance.now();
    const applyOk = (record: CustodyRecord) => {
      const r = custody.apply(record);
      if (!r.ok) throw new Error(`${r.code}: ${r.message}`);
      return recordId(record);
    };
    const heads: string[] = [];
    for (let i = 0; i < n; i++) {
      const serial = `N${i}`;
      const subject = unitSubject(GTIN, serial);
      units.push(subject);
      const c = applyOk({
        ...base,
        subject,
        seq: 0,
        prev: null,
        type: 'commission',
        data: { gtin: GTIN, serial, lot: 'L1', expiry: '2028-12-31' },
      });
      heads.push(
        applyOk({ ...base, subject, seq: 1, prev: c, type: 'pack', data: { parent: SSCC } }),
      );
    }
    const children = units.map((subject, i) => ({ subject, head: heads[i]! }));
    const p = applyOk({
      ...base,
      subject: SSCC,
      seq: 0,
      prev: null,
      type: 'pack',
      data: { children },
    });
    const s = applyOk({
      ...base,
      subject: SSCC,
      seq: 1,
      prev: p,
      type: 'ship',
      data: { to: DIST, shipment: 'S' },
    });
    const r = applyOk({
      ...base,
      actor: DIST,
      subject: SSCC,
      seq: 2,
      prev: s,
      type: 'receive',
      data: { from: MFR, shipment: 'S', condition: 'ok' },
    });
    const un = applyOk({
      ...base,
      actor: DIST,
      subject: SSCC,
      seq: 3,
      prev: r,
      type: 'unpack',
      data: { children: units },
    });
    for (let i = 0; i < n; i++) {
      applyOk({
        ...base,
        actor: DIST,
        subject: units[i]!,
        seq: 2,
        prev: heads[i]!,
        type: 'unpack',
        data: { parent: SSCC, parentHead: un },
      });
    }
    const elapsed = performance.now() - started;
    expect(custody.state(SSCC)!.children).toBe(children);
    expect(custody.effective(units[n - 1]!)).toMatchObject({ custodian: DIST, via: null });
    // ~30k records including ~30k record hashes; generous bound for a loaded CI box.
    expect(elapsed).toBeLessThan(10_000);
  });
});
