import { describe, expect, it } from '@jest/globals';
import { strictApi, tolerantApi } from './index.js';

const receipt = {
  origin: 'test.provenant/log',
  index: 3,
  leafHash: 'ab'.repeat(32),
  integratedAt: '2026-11-28T12:00:00.000Z',
  signature: 'c2ln',
};
const party = {
  gln: '0614141000005',
  name: 'Acme',
  roles: ['manufacturer'],
  prefixes: ['0614141'],
  status: 'active',
  keys: [],
};

describe('one definition, two forms (api/shape.ts)', () => {
  it('takes what the server sends in both forms', () => {
    for (const [name, value] of [
      ['logReceipt', receipt],
      ['party', party],
    ] as const) {
      expect(strictApi[name].parse(value)).toEqual(value);
      expect(tolerantApi[name].parse(value)).toEqual(value);
    }
  });

  describe('when the server adds a field', () => {
    it('the strict form refuses it: the description is closed and the contract test notices', () => {
      expect(strictApi.party.safeParse({ ...party, since: 2026 }).success).toBe(false);
      expect(strictApi.logReceipt.safeParse({ ...receipt, extra: 1 }).success).toBe(false);
    });

    it('the tolerant form keeps it: an older client does not break', () => {
      const newer = { ...party, since: 2026, keys: [] };
      expect(tolerantApi.party.parse(newer)).toEqual(newer);
    });
  });

  it('closes an enum on the server and opens it for clients', () => {
    expect(strictApi.party.safeParse({ ...party, status: 'archived' }).success).toBe(false);
    expect(tolerantApi.party.parse({ ...party, status: 'archived' }).status).toBe('archived');
  });

  it('requires a field the server always sends, and lets a client read an answer without it', () => {
    const token = { token: 'pvn_x', scopes: ['sign'] };
    expect(strictApi.issuedToken.safeParse(token).success).toBe(false);
    expect(tolerantApi.issuedToken.parse(token)).toEqual(token);
  });

  it('keeps the fields every answer needs required for clients too', () => {
    const { gln: _gln, ...noGln } = party;
    expect(tolerantApi.party.safeParse(noGln).success).toBe(false);
  });
});
