import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { toBase64Url, utf8 } from './bytes.js';
import { sha256Hex } from './hash.js';
import { canonicalize } from './jcs.js';
import { encodeNotice, noticeId, noticeSchema, parseNoticePayload } from './notices.js';
import type { Notice } from './notices.js';

const GLN = '0614141000005';
const KID = '0123456789abcdef0123456789abcdef';
const TIME = '2026-11-28T12:00:00.000Z';
const PUBLIC_KEY = new Uint8Array(32).map((_, i) => i + 1);
const PUBLIC_KEY_B64 = toBase64Url(PUBLIC_KEY);
const PUBLIC_KID = sha256Hex(PUBLIC_KEY).slice(0, 32);

function notice(type: string, data: unknown, actor = 'authority'): Record<string, unknown> {
  return { v: 1, type, actor, kid: KID, time: TIME, data };
}

function issuesOf(value: unknown): string[] {
  const r = noticeSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('noticeSchema', () => {
  it.each([
    [
      'party',
      notice('party', {
        gln: GLN,
        name: 'Acme Pharma',
        roles: ['manufacturer'],
        prefixes: ['0614141'],
      }),
    ],
    [
      'party with no prefixes',
      notice('party', { gln: GLN, name: 'Dock', roles: ['dispenser', '3pl'], prefixes: [] }),
    ],
    ['party-suspend', notice('party-suspend', { gln: GLN, reason: 'vendor risk' })],
    ['party-reinstate', notice('party-reinstate', { gln: GLN })],
    ['key', notice('key', { gln: GLN, kid: PUBLIC_KID, publicKey: PUBLIC_KEY_B64 })],
    ['key-suspend', notice('key-suspend', { kid: PUBLIC_KID })],
    ['key-reinstate', notice('key-reinstate', { kid: PUBLIC_KID, reason: 'found' })],
    [
      'key-revoke by the party',
      notice('key-revoke', { kid: PUBLIC_KID, compromisedAt: TIME, reason: 'laptop stolen' }, GLN),
    ],
    [
      'key-revoke by the authority',
      notice('key-revoke', { kid: PUBLIC_KID, compromisedAt: TIME, reason: 'x' }),
    ],
    [
      'recall of a lot',
      notice('recall', { gtin: '09506000134352', lot: 'L1', reason: 'contamination' }, GLN),
    ],
    [
      'recall of a GTIN',
      notice('recall', { gtin: '09506000134352', reason: 'contamination' }, GLN),
    ],
  ])('accepts a %s notice', (_name, value) => {
    expect(issuesOf(value)).toEqual([]);
  });

  it.each([
    ['an unknown role', notice('party', { gln: GLN, name: 'A', roles: ['broker'], prefixes: [] })],
    ['no roles', notice('party', { gln: GLN, name: 'A', roles: [], prefixes: [] })],
    [
      'a repeated role',
      notice('party', { gln: GLN, name: 'A', roles: ['3pl', '3pl'], prefixes: [] }),
    ],
    [
      'a 5-digit prefix',
      notice('party', { gln: GLN, name: 'A', roles: ['manufacturer'], prefixes: ['12345'] }),
    ],
    [
      'a 13-digit prefix',
      notice('party', {
        gln: GLN,
        name: 'A',
        roles: ['manufacturer'],
        prefixes: ['1234567890123'],
      }),
    ],
    [
      'a party signed by a party',
      notice('party', { gln: GLN, name: 'A', roles: ['3pl'], prefixes: [] }, GLN),
    ],
    [
      'a key whose kid is not its key id',
      notice('key', { gln: GLN, kid: KID, publicKey: PUBLIC_KEY_B64 }),
    ],
    [
      'a key of 31 bytes',
      notice('key', { gln: GLN, kid: PUBLIC_KID, publicKey: toBase64Url(PUBLIC_KEY.slice(1)) }),
    ],
    [
      'a padded base64url key',
      notice('key', { gln: GLN, kid: PUBLIC_KID, publicKey: PUBLIC_KEY_B64 + '=' }),
    ],
    ['a recall signed by the authority', notice('recall', { gtin: '09506000134352', reason: 'x' })],
    ['a recall with a bad GTIN', notice('recall', { gtin: '09506000134353', reason: 'x' }, GLN)],
    ['a recall without a reason', notice('recall', { gtin: '09506000134352' }, GLN)],
    ['a revoke without compromisedAt', notice('key-revoke', { kid: PUBLIC_KID, reason: 'x' }, GLN)],
    [
      'a revoke with a loose time',
      notice(
        'key-revoke',
        { kid: PUBLIC_KID, compromisedAt: '2026-11-28T12:00:00Z', reason: 'x' },
        GLN,
      ),
    ],
    ['an unknown field', { ...notice('party-suspend', { gln: GLN }), extra: true }],
    ['an unknown data field', notice('party-suspend', { gln: GLN, until: TIME })],
    ['an unknown type', notice('party-delete', { gln: GLN })],
    [
      'an actor that is neither a GLN nor the authority',
      notice('party-suspend', { gln: GLN }, 'admin'),
    ],
  ])('rejects %s', (_name, value) => {
    expect(issuesOf(value)).not.toEqual([]);
  });
});

describe('notice encoding', () => {
  const n = noticeSchema.parse(
    notice('recall', { gtin: '09506000134352', lot: 'L1', reason: 'contamination' }, GLN),
  ) as Notice;

  it('encodes as JCS, hashes to its id and parses back', () => {
    const bytes = encodeNotice(n);
    expect(new TextDecoder().decode(bytes)).toBe(canonicalize(n));
    expect(noticeId(n)).toBe(sha256Hex(bytes));
    expect(parseNoticePayload(bytes)).toEqual({ ok: true, notice: n, id: noticeId(n) });
  });

  it('rejects payload bytes that are not the canonical encoding', () => {
    expect(parseNoticePayload(utf8(JSON.stringify(n))).ok).toBe(false);
    expect(parseNoticePayload(utf8(canonicalize(n) + ' ')).ok).toBe(false);
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(parseNoticePayload(bytes).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
