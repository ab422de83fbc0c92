// Coalescer: concurrent calls share statements, each gets its own result, a
// call never joins a statement that started before it, failures stay local.
import { describe, expect, it } from '@jest/globals';
import { Coalescer } from './coalesce.js';

/** A statement runner that records its batches and finishes them on demand. */
function runner() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const run = (items: number[]) =>
    new Promise<number[]>((resolve, reject) => {
      batches.push(items);
      pending.push(() =>
        items.includes(-1) ? reject(new Error('bad batch')) : resolve(items.map((i) => i * 10)),
      );
    });
  const finishAll = async () => {
    while (pending.length > 0) {
      pending.shift()!();
      await new Promise((r) => setImmediate(r));
    }
  };
  return { run, batches, finishAll };
}

describe('Coalescer', () => {
  it('starts at once with a free lane, and puts the calls made meanwhile in the next statement', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { lanes: 1 });
    const first = c.call(1);
    await new Promise((res) => setImmediate(res));
    const rest = [2, 3, 4].map((i) => c.call(i));
    await new Promise((res) => setImmediate(res));
    // 2..4 arrived while [1] ran: they wait for it, then go together.
    expect(r.batches).toEqual([[1]]);
    await r.finishAll();
    expect(await first).toBe(10);
    expect(await Promise.all(rest)).toEqual([20, 30, 40]);
    expect(r.batches).toEqual([[1], [2, 3, 4]]);
  });

  it('groups the calls of one tick, up to max per statement, over its lanes', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { lanes: 2, max: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => c.call(i));
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    await r.finishAll();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('fails only the calls of a failed statement', async () => {
    const r = runner();
    const c = new Coalescer(r.run, { lanes: 1 });
    const a = c.call(-1);
    await new Promise((res) => setImmediate(res));
    const b = c.call(7);
    const failed = expect(a).rejects.toThrow('bad batch');
    await r.finishAll();
    await failed;
    expect(await b).toBe(70);
  });

  it('refuses a statement that answers a different number of results', async () => {
    const c = new Coalescer(async (items: number[]) => items.slice(1));
    await expect(Promise.all([c.call(1), c.call(2)])).rejects.toThrow('answered 1 of 2');
  });
});
