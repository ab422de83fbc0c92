// A small worker_threads pool for the engine's `signatureCheck` hook (issue 4
// benchmark: a 10,000-unit pallet in under a second needs both cores).
//
// Policy stays in core: DESIGN §4's strict rules are core `verify` =
// checkPointEncodings (S < L, canonical A and R, not of small order) and then
// the cofactorless equation. The calling thread runs checkPointEncodings on
// every item (cheap byte checks), and the workers run only the equation with
// node:crypto (OpenSSL, exactly nodeBackend.verifyRaw), keys imported as JWK
// and cached (DESIGN §4: ~7 µs instead of ~84 µs for SPKI).
//
// The worker source is inline JavaScript (eval) so the pool works the same
// from TypeScript sources (tests, tsx) and from the built dist.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkPointEncodings, type SignatureItem } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { VerifiedSignatures } from './memo.js';

// Message: one ArrayBuffer of items [u32 message length][64 sig][32 key][message].
// Answer: a Uint8Array of 0/1, one per item.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
function keyOf(raw) {
  const x = Buffer.from(raw).toString('base64url');
  let k = keys.get(x);
  if (k === undefined) {
    if (keys.size >= 10000) keys.delete(keys.keys().next().value);
    k = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
    keys.set(x, k);
  }
  return k;
}
parentPort.on('message', ({ id, buf, count }) => {
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const out = new Uint8Array(count);
  let at = 0;
  for (let i = 0; i < count; i++) {
    const len = view.getUint32(at);
    const sig = bytes.subarray(at + 4, at + 68);
    const key = bytes.subarray(at + 68, at + 100);
    const msg = bytes.subarray(at + 100, at + 100 + len);
    at += 100 + len;
    try { out[i] = verify(null, msg, keyOf(key), sig) ? 1 : 0; } catch { out[i] = 0; }
  }
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

/** Below this many items a batch is checked on the calling thread: messaging costs more. */
export const INLINE_BELOW = 256;
/** Items per worker message at most (~15 ms of checks): the unit the workers are balanced by. */
const JOB_ITEMS = 128;

export interface SignaturePoolOptions {
  /** Worker threads; default os.availableParallelism() (0: check everything inline). */
  size?: number;
  /** Checks already done (shared with the engine's inline backend); default: none kept. */
  verified?: VerifiedSignatures;
}

interface Pending {
  resolve: (out: Uint8Array) => void;
  reject: (err: Error) => void;
  /** items it checks */
  count: number;
}

/**
 * Ed25519 checks spread over worker threads; `check` is an
 * AsyncSignatureCheck for core's verifyBundleAsync. Workers start on first
 * use and do not keep the process alive; call `close` on shutdown.
 */
export class SignaturePool {
  readonly size: number;
  private workers: Worker[] = [];
  /** items sent to each worker and not answered yet */
  private readonly queued = new Map<Worker, number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private closed = false;
  /** Checks already done, by content (see memo.ts). */
  readonly verified: VerifiedSignatures;

  constructor(opts: SignaturePoolOptions = {}) {
    this.size = Math.max(0, Math.floor(opts.size ?? availableParallelism()));
    this.verified = opts.verified ?? new VerifiedSignatures(0);
  }

  /** One boolean per item, in order: core `verify` semantics (DESIGN §4). */
  readonly check = (items: readonly SignatureItem[]): Promise<boolean[]> =>
    this.checkAll(items, true);

  /**
   * {@link check} without the memory of checks done: for checks that never
   * repeat (the log monitor verifies each entry once), where remembering
   * would cost a SHA-256 per item and evict what the engine re-verifies.
   */
  readonly checkOnce = (items: readonly SignatureItem[]): Promise<boolean[]> =>
    this.checkAll(items, false);

  private async checkAll(items: readonly SignatureItem[], remember: boolean): Promise<boolean[]> {
    const results = new Array<boolean>(items.length).fill(false);
    const todo: number[] = [];
    const ids: (string | undefined)[] = new Array<string | undefined>(items.length);
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      // The encoding half of the policy, here; the equation in the workers.
      if (!checkPointEncodings(it.signature, it.publicKey)) continue;
      if (remember) {
        const id = this.verified.idOf(it);
        if (this.verified.has(id)) {
          results[i] = true;
          continue;
        }
        ids[i] = id;
      }
      todo.push(i);
    }
    const learnAll = (): boolean[] => {
      for (const i of todo) if (results[i]) this.verified.add(ids[i]);
      return results;
    };
    if (todo.length < INLINE_BELOW || this.size === 0 || this.closed) {
      for (const i of todo) {
        const it = items[i]!;
        results[i] = nodeBackend.verifyRaw(it.signature, it.message, it.publicKey);
      }
      return learnAll();
    }
    this.start();
    // Jobs of at most JOB_ITEMS, each to the worker with the fewest items queued: a worker
    // that got less CPU (the machine is shared) is not handed the same share again, and
    // the last batch does not end on one worker while the other idles.
    const n = Math.max(
      Math.min(this.workers.length, Math.ceil(todo.length / (INLINE_BELOW / 2))),
      Math.ceil(todo.length / JOB_ITEMS),
    );
    const per = Math.ceil(todo.length / n);
    const jobs: Promise<void>[] = [];
    for (let w = 0; w < n; w++) {
      const slice = todo.slice(w * per, (w + 1) * per);
      if (slice.length === 0) continue;
      jobs.push(
        this.run(this.leastLoaded(), items, slice).then(
          (out) => slice.forEach((i, j) => (results[i] = out[j] === 1)),
          // A worker that died (or a pool closed mid-batch) costs speed, never an answer.
          () => {
            for (const i of slice) {
              const it = items[i]!;
              results[i] = nodeBackend.verifyRaw(it.signature, it.message, it.publicKey);
            }
          },
        ),
      );
    }
    await Promise.all(jobs);
    return learnAll();
  }

  private start(): void {
    if (this.workers.length > 0) return;
    for (let i = 0; i < this.size; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.unref();
      w.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        if (p) this.queued.set(w, (this.queued.get(w) ?? 0) - p.count);
        p?.resolve(out);
      });
      w.on('error', (err) => this.failAll(err));
      w.on('exit', () => {
        this.workers = this.workers.filter((x) => x !== w);
        this.queued.delete(w);
        if (this.workers.length === 0) this.failAll(new Error('signature workers exited'));
      });
      this.workers.push(w);
      this.queued.set(w, 0);
    }
  }

  /** The worker with the fewest items queued. */
  private leastLoaded(): Worker {
    let best = this.workers[0]!;
    for (const w of this.workers) if (this.queued.get(w)! < this.queued.get(best)!) best = w;
    return best;
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const w of this.queued.keys()) this.queued.set(w, 0);
  }

  private run(worker: Worker, items: readonly SignatureItem[], idx: number[]): Promise<Uint8Array> {
    let total = 0;
    for (const i of idx) total += 100 + items[i]!.message.length;
    const buf = new ArrayBuffer(total);
    const bytes = new Uint8Array(buf);
    const view = new DataView(buf);
    let at = 0;
    for (const i of idx) {
      const it = items[i]!;
      view.setUint32(at, it.message.length);
      bytes.set(it.signature, at + 4);
      bytes.set(it.publicKey, at + 68);
      bytes.set(it.message, at + 100);
      at += 100 + it.message.length;
    }
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, count: idx.length });
      this.queued.set(worker, (this.queued.get(worker) ?? 0) + idx.length);
      worker.postMessage({ id, buf, count: idx.length }, [buf]);
    });
  }

  /** Stops the workers; later checks run on the calling thread. */
  async close(): Promise<void> {
    this.closed = true;
    const ws = this.workers;
    this.workers = [];
    this.failAll(new Error('signature pool closed'));
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
