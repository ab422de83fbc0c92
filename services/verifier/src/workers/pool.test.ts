import { afterAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, sign, verify, type SignatureItem } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { VerifiedSignatures } from './memo.js';
import { INLINE_BELOW, SignaturePool } from './pool.js';

function items(n: number): SignatureItem[] {
  const { seed, publicKey } = generateKeyPair(nodeBackend);
  return Array.from({ length: n }, (_, i) => {
    const message = new TextEncoder().encode(`message ${i}`);
    return { message, publicKey, signature: sign(message, seed, nodeBackend) };
  });
}

function flipped(it: SignatureItem): SignatureItem {
  const message = it.message.slice();
  message[0] ^= 1;
  return { ...it, message };
}

describe('SignaturePool', () => {
  const pools: SignaturePool[] = [];
  const pool = (opts: ConstructorParameters<typeof SignaturePool>[0]) => {
    const p = new SignaturePool(opts);
    pools.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of pools) await p.close();
  });

  it('answers good and bad signatures inline and in the workers alike', async () => {
    const good = items(INLINE_BELOW + 10);
    const batch = good.map((it, i) => (i % 3 === 0 ? flipped(it) : it));
    const want = batch.map((_, i) => i % 3 !== 0);
    expect(await pool({ size: 0 }).check(batch)).toEqual(want);
    expect(await pool({ size: 2 }).check(batch)).toEqual(want);
    // And again with remembering: the same answers, the second time from memory.
    const remembering = pool({ size: 2, verified: new VerifiedSignatures() });
    expect(await remembering.check(batch)).toEqual(want);
    expect(remembering.verified.size).toBe(want.filter(Boolean).length);
    expect(await remembering.check(batch)).toEqual(want);
  });

  it('remembers only triples that verified, and never answers for other bytes', async () => {
    const p = pool({ size: 0, verified: new VerifiedSignatures() });
    const [a, b] = items(2) as [SignatureItem, SignatureItem];
    expect(await p.check([a, flipped(b)])).toEqual([true, false]);
    expect(p.verified.size).toBe(1);
    // The same key and signature over another message is checked afresh and fails.
    expect(await p.check([flipped(a), a])).toEqual([false, true]);
    expect(p.verified.size).toBe(1);
    // Another signature byte under the same key and message fails too.
    const sig = a.signature.slice();
    sig[5] ^= 0x80;
    expect(await p.check([{ ...a, signature: sig }])).toEqual([false]);
  });

  it('checks once without remembering: same answers, nothing kept', async () => {
    const good = items(INLINE_BELOW + 10);
    const batch = good.map((it, i) => (i % 4 === 0 ? flipped(it) : it));
    const want = batch.map((_, i) => i % 4 !== 0);
    const p = pool({ size: 2, verified: new VerifiedSignatures() });
    expect(await p.checkOnce(batch)).toEqual(want);
    expect(await p.checkOnce(batch.slice(0, 5))).toEqual(want.slice(0, 5));
    expect(p.verified.size).toBe(0);
    // With the triples remembered by check, checkOnce still answers the same.
    expect(await p.check(batch)).toEqual(want);
    expect(await p.checkOnce(batch)).toEqual(want);
  });

  it('keeps at most the configured number of triples', async () => {
    const p = pool({ size: 0, verified: new VerifiedSignatures(5) });
    const batch = items(12);
    expect(await p.check(batch)).toEqual(batch.map(() => true));
    expect(p.verified.size).toBe(5);
    expect(await p.check(batch)).toEqual(batch.map(() => true));
  });

  it('shares what it remembers with the backend it wraps for inline checks', async () => {
    const verified = new VerifiedSignatures();
    const backend = verified.backend(nodeBackend);
    const [a] = items(1) as [SignatureItem];
    expect(verify(a.signature, a.message, a.publicKey, backend)).toBe(true);
    expect(verify(a.signature, flipped(a).message, a.publicKey, backend)).toBe(false);
    expect(verified.size).toBe(1);
    expect(await pool({ size: 0, verified }).check([a])).toEqual([true]);
    // The strict policy still runs first: a small-order key never reaches the memory.
    const smallOrder = new Uint8Array(32);
    smallOrder[0] = 1; // the identity point
    expect(verify(a.signature, a.message, smallOrder, backend)).toBe(false);
  });
});
