// Receipts (DESIGN §6): Ed25519 by the log key over JCS of exactly four fields.
import { describe, expect, it } from '@jest/globals';
import { canonicalize, fromBase64, generateKeyPair, verify } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { receiptMessage, receiptOf, signReceiptBody, verifyReceipt } from './receipts.js';

const { seed, publicKey } = generateKeyPair(nodeBackend);
const body = {
  origin: 'example.com/log',
  index: 7,
  leafHash: 'ab'.repeat(32),
  integratedAt: '2026-11-28T12:00:00.000Z',
};

describe('receipts', () => {
  it('sign the JCS bytes of exactly origin, index, leafHash and integratedAt', () => {
    expect(new TextDecoder().decode(receiptMessage({ ...body, extra: 1 } as typeof body))).toBe(
      canonicalize(body),
    );
    const sig = signReceiptBody(body, seed);
    expect(verify(sig, receiptMessage(body), publicKey)).toBe(true);
  });

  it('verify when untouched and fail when any field changes', () => {
    const signature = signReceiptBody(body, seed);
    const r = receiptOf(body.origin, {
      index: body.index,
      leafHash: Uint8Array.from({ length: 32 }, () => 0xab),
      integratedAt: body.integratedAt,
      signature,
    });
    expect(r).toEqual({ ...body, signature: Buffer.from(signature).toString('base64') });
    expect(verifyReceipt(r, publicKey)).toBe(true);
    expect(verifyReceipt({ ...r, index: 8 }, publicKey)).toBe(false);
    expect(verifyReceipt({ ...r, origin: 'other' }, publicKey)).toBe(false);
    expect(verifyReceipt({ ...r, integratedAt: '2026-11-28T12:00:00.001Z' }, publicKey)).toBe(
      false,
    );
    expect(verifyReceipt({ ...r, leafHash: 'AB'.repeat(32) }, publicKey)).toBe(false);
    expect(verifyReceipt({ ...r, signature: 'x' }, publicKey)).toBe(false);
    expect(verifyReceipt(null, publicKey)).toBe(false);
    expect(fromBase64(r.signature)?.length).toBe(64);
  });
});
