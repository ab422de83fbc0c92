// The dock checks every online answer's receipt (DESIGN §7): which key it
// checks with, and what the clerk reads when a receipt does not bind the scan.
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ReceiptCheckCode } from '@provenant/sdk';
import { pinChosenKey, receiptKey, unboundText, verifierKeyOf } from './receipt.js';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const KEY_C = Buffer.alloc(32, 3).toString('base64');

/** sessionStorage as the page has it (this tab only). */
class MemoryStorage {
  private readonly m = new Map<string, string>();
  getItem(k: string): string | null {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v);
  }
}

describe('the verifier key the dock checks receipts with', () => {
  beforeEach(() => {
    (globalThis as { sessionStorage?: unknown }).sessionStorage = new MemoryStorage();
  });
  afterEach(() => {
    delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
  });

  it('reads a 32-byte key from a trust file or a bare string, and nothing else', () => {
    expect(verifierKeyOf({ logKey: 'x', verifierKey: KEY_A })).toBe(KEY_A);
    expect(verifierKeyOf(KEY_B)).toBe(KEY_B);
    expect(verifierKeyOf({ verifierKey: Buffer.alloc(31).toString('base64') })).toBeNull();
    expect(verifierKeyOf({ verifierKey: 42 })).toBeNull();
    expect(verifierKeyOf({ logKey: 'x' })).toBeNull();
    expect(verifierKeyOf(null)).toBeNull();
  });

  it('prefers a trust file the clerk chose, then the kept trust, then GET /v1/verifier', async () => {
    let fetched = 0;
    const fetchKey = async () => (fetched++, { publicKey: KEY_C });
    expect(await receiptKey(() => null, fetchKey)).toBe(KEY_C);
    expect(fetched).toBe(1);
    expect(await receiptKey(() => ({ verifierKey: KEY_B }), fetchKey)).toBe(KEY_B);
    pinChosenKey({ logKey: 'x' }); // a trust file without a key pins nothing
    expect(await receiptKey(() => ({ verifierKey: KEY_B }), fetchKey)).toBe(KEY_B);
    pinChosenKey({ verifierKey: KEY_A });
    expect(await receiptKey(() => ({ verifierKey: KEY_B }), fetchKey)).toBe(KEY_A);
    expect(fetched).toBe(1);
  });

  it('refuses to go on without a usable key: no answer is shown unchecked', async () => {
    await expect(
      receiptKey(
        () => null,
        async () => ({ publicKey: 'not a key' }),
      ),
    ).rejects.toThrow(/no usable verifier key/);
  });
});

describe('what the clerk reads when a receipt does not bind the scan', () => {
  const codes: ReceiptCheckCode[] = [
    'RECEIPT_MISSING',
    'RECEIPT_MALFORMED',
    'KID_MISMATCH',
    'SIGNATURE_INVALID',
    'RECEIPT_MISMATCH',
    'SUBJECT_MISMATCH',
    'PARTY_MISMATCH',
    'PURPOSE_MISMATCH',
    'NONCE_MISMATCH',
    'RECEIPT_STALE',
  ];
  it.each(codes)('%s: not to be trusted, do not accept, with its code', (code) => {
    const t = unboundText(code);
    expect(t).toMatch(
      /^The answer cannot be trusted: its receipt|^The answer cannot be trusted: it /,
    );
    expect(t).toContain('Do not accept the goods');
    expect(t.endsWith(`[${code}]`)).toBe(true);
    expect(t).not.toMatch(/ACCEPT\b/);
  });
});
