// PartyGate: a party's unit verifications share a few slots, a logistic unit runs alone,
// in arrival order; parties independent; a bounded queue.
import { describe, expect, it } from '@jest/globals';
import { PartyGate } from './gate.js';

/** A task that records its start and finishes when released. */
function task(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  return {
    run: async () => {
      log.push(`start ${name}`);
      await done;
      log.push(`end ${name}`);
      return name;
    },
    finish,
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PartyGate', () => {
  it('runs a party’s unit verifications side by side up to its slots, the rest in arrival order', async () => {
    const gate = new PartyGate(16, 2);
    const log: string[] = [];
    const [a1, a2, a3, a4] = ['a1', 'a2', 'a3', 'a4'].map((n) => task(log, n));
    const ps = [a1, a2, a3, a4].map((t) => gate.run('A', t!.run));
    await tick();
    expect(log).toEqual(['start a1', 'start a2']);
    expect(gate.inFlight('A')).toBe(4);
    a2!.finish();
    await tick();
    expect(log).toEqual(['start a1', 'start a2', 'end a2', 'start a3']);
    a1!.finish();
    a3!.finish();
    a4!.finish();
    expect(await Promise.all(ps)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(gate.inFlight('A')).toBe(0);
  });

  it('runs an exclusive verification (a pallet) alone, and nobody overtakes it', async () => {
    const gate = new PartyGate(16, 4);
    const log: string[] = [];
    const u1 = task(log, 'u1');
    const pallet = task(log, 'pallet');
    const u2 = task(log, 'u2');
    const p1 = gate.run('A', u1.run);
    const pp = gate.run('A', pallet.run, true);
    const p2 = gate.run('A', u2.run);
    await tick();
    // u2 would fit beside u1, but the pallet came first.
    expect(log).toEqual(['start u1']);
    u1.finish();
    await tick();
    expect(log).toEqual(['start u1', 'end u1', 'start pallet']);
    pallet.finish();
    await tick();
    expect(log).toEqual(['start u1', 'end u1', 'start pallet', 'end pallet', 'start u2']);
    u2.finish();
    expect(await Promise.all([p1, pp, p2])).toEqual(['u1', 'pallet', 'u2']);
  });

  it('does not make another party wait', async () => {
    const gate = new PartyGate();
    const log: string[] = [];
    const flood = task(log, 'flood');
    const honest = task(log, 'honest');
    const f = gate.run('flooder', flood.run, true);
    gate.run('flooder', task(log, 'flood2').run, true).catch(() => undefined);
    const h = gate.run('honest', honest.run);
    await tick();
    expect(log).toEqual(['start flood', 'start honest']);
    honest.finish();
    expect(await h).toBe('honest');
    flood.finish();
    await f;
  });

  it('answers 429 with Retry-After past the queue bound, and frees the slot after a failure', async () => {
    const gate = new PartyGate(1, 1);
    const log: string[] = [];
    const first = task(log, 'first');
    const p1 = gate.run('A', first.run);
    const p2 = gate.run('A', async () => 'second');
    await expect(gate.run('A', async () => 'third')).rejects.toMatchObject({
      status: 429,
      slug: 'verification-queue-full',
      headers: { 'Retry-After': '1' },
    });
    first.finish();
    expect(await Promise.all([p1, p2])).toEqual(['first', 'second']);
    await expect(gate.run('A', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run('A', async () => 'after')).toBe('after');
  });
});
