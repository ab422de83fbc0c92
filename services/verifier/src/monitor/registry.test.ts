import { describe, expect, it } from '@jest/globals';
import type { Notice } from '@provenant/core';
import { Registry } from './registry.js';

// The monitor applies a notice as soon as it reads it, while the records logged
// before it still wait for their signatures: a record is judged by the parties
// as of its own entry (DESIGN §5, as the engine replays the log).
describe('a registry read as of a log index', () => {
  const GLN = '0614141000005';
  const common = { v: 1, actor: 'authority', kid: 'a'.repeat(32), time: '2026-01-01T00:00:00Z' };
  const party = (roles: string[], prefixes: string[]) =>
    ({ ...common, type: 'party', data: { gln: GLN, name: 'Acme', roles, prefixes } }) as Notice;
  const status = (type: 'party-suspend' | 'party-reinstate') =>
    ({ ...common, type, data: { gln: GLN } }) as Notice;

  it('gives each index the party the notices before it made, and the latest to party()', () => {
    const r = new Registry();
    r.apply(party(['manufacturer'], ['0614141']), 10);
    r.apply(party(['distributor'], []), 20);
    r.apply(status('party-suspend'), 30);
    expect(r.partyAt(GLN, 10)).toBeUndefined();
    expect(r.partyAt(GLN, 11)).toMatchObject({ roles: ['manufacturer'], status: 'active' });
    expect(r.partyAt(GLN, 20)).toMatchObject({ roles: ['manufacturer'], prefixes: ['0614141'] });
    expect(r.partyAt(GLN, 21)).toMatchObject({ roles: ['distributor'], status: 'active' });
    expect(r.partyAt(GLN, 31)).toMatchObject({ roles: ['distributor'], status: 'suspended' });
    expect(r.party(GLN)).toEqual(r.partyAt(GLN, Infinity));
    expect(r.partyAt('0614141000012', 31)).toBeUndefined();
  });

  it('forgets only the changes before the index it is settled at', () => {
    const r = new Registry();
    r.apply(party(['manufacturer'], ['0614141']), 10);
    r.apply(party(['distributor'], []), 20);
    r.settle(20);
    expect(r.partyAt(GLN, 20)).toMatchObject({ roles: ['manufacturer'] });
    expect(r.partyAt(GLN, 21)).toMatchObject({ roles: ['distributor'] });
    r.settle(21);
    expect(r.partyAt(GLN, 21)).toMatchObject({ roles: ['distributor'] });
  });
});
