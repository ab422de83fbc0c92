import { describe, it, expect } from '@jest/globals';
import { toHex } from '@provenant/core';
import { hashToken, newToken, parseBearer, withAdminToken } from './auth.js';

describe('bearer tokens (DESIGN §8)', () => {
  it('generates pvn_ tokens of 32 random bytes whose hash is the SHA-256 of the text', () => {
    const a = newToken();
    const b = newToken();
    expect(a.token).toMatch(/^pvn_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(toHex(a.hash)).toBe(toHex(hashToken(a.token)));
    expect(a.hash.length).toBe(32);
  });

  it.each([
    [undefined, undefined],
    ['Bearer pvn_abcdefghijklmnopqrstuvwxyz', 'pvn_abcdefghijklmnopqrstuvwxyz'],
    ['bearer pvn_abcdefghijklmnopqrstuvwxyz', 'pvn_abcdefghijklmnopqrstuvwxyz'],
    ['Basic dXNlcjpwYXNzd29yZA==', null],
    ['Bearer short', null],
    ['Bearer has space in it and more', null],
    ['Bearer ' + 'a'.repeat(600), null],
  ])('parses the Authorization header %j as %j', (header, expected) => {
    expect(parseBearer(header)).toBe(expected);
  });

  it('checks the operator token before the stored tokens', async () => {
    const admin = newToken();
    const party = newToken();
    const lookup = withAdminToken(admin.hash, async (h) =>
      toHex(h) === toHex(party.hash) ? { gln: '0614141000005', scopes: ['sign'] } : null,
    );
    expect(await lookup(admin.hash)).toEqual({ gln: null, scopes: ['admin'] });
    expect(await lookup(party.hash)).toEqual({ gln: '0614141000005', scopes: ['sign'] });
    expect(await lookup(newToken().hash)).toBeNull();
  });
});
