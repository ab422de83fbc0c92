// PartyGate: one verification at a time per party, parties independent, a bounded queue.
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
  it('runs one party’s verifications one at a time, in arrival order', async () => {
    const gate = new PartyGate();
    const log: string[] = [];
    const a1 = task(log, 'a1');
    const a2 = task(log, 'a2');
    const p1 = gate.run('A', a1.run);
    const p2 = gate.run('A', a2.run);
    await tick();
    expect(log).toEqual(['start a1']);
    expect(gate.inFlight('A')).toBe(2);
    a1.finish();
    await tick();
    expect(log).toEqual(['start a1', 'end a1', 'start a2']);
    a2.finish();
    expect(await Promise.all([p1, p2])).toEqual(['a1', 'a2']);
    expect(gate.inFlight('A')).toBe(0);
  });

  it('does not make another party wait', async () => {
    const gate = new PartyGate();
    const log: string[] = [];
    const flood = task(log, 'flood');
    const honest = task(log, 'honest');
    const f = gate.run('flooder', flood.run);
    gate.run('flooder', task(log, 'flood2').run).catch(() => undefined);
    const h = gate.run('honest', honest.run);
    await tick();
    expect(log).toEqual(['start flood', 'start honest']);
    honest.finish();
    expect(await h).toBe('honest');
    flood.finish();
    await f;
  });

  it('answers 429 with Retry-After past the queue bound, and frees the slot after a failure', async () => {
    const gate = new PartyGate(1);
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
