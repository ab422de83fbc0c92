// Verified Ed25519 checks, remembered by content (issue 4 benchmark: a dock
// re-verifies the same registry notices, receipts and older chain records on
// every scan). Verification is a pure function of (key, signature, message),
// so answering a remembered triple is the same check, done once: the address
// is SHA-256 over all three, and another key, signature or message would need
// a SHA-256 collision to hit it. Only successes are kept; a failure is
// always recomputed.
import { createHash } from 'node:crypto';
import type { Ed25519Backend, SignatureItem } from '@provenant/core';

/** Triples remembered by default (~150 bytes each). */
export const DEFAULT_REMEMBERED = 100_000;

export class VerifiedSignatures {
  /** Oldest first (Map order), evicted first. */
  private readonly seen = new Map<string, true>();
  readonly capacity: number;

  constructor(capacity = DEFAULT_REMEMBERED) {
    this.capacity = Math.max(0, Math.floor(capacity));
  }

  get size(): number {
    return this.seen.size;
  }

  /** The content address of one check, or undefined when nothing is remembered. */
  idOf(it: SignatureItem): string | undefined {
    if (this.capacity === 0) return undefined;
    return createHash('sha256')
      .update(it.publicKey)
      .update(it.signature)
      .update(it.message)
      .digest('base64');
  }

  has(id: string | undefined): boolean {
    return id !== undefined && this.seen.has(id);
  }

  /** Records a triple that verified. */
  add(id: string | undefined): void {
    if (id === undefined || this.capacity === 0) return;
    if (this.seen.size >= this.capacity) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(id, true);
  }

  /**
   * `backend` with its raw check remembered here (the policy's encoding checks
   * run before verifyRaw is ever called, in core `verify`).
   */
  backend(backend: Ed25519Backend): Ed25519Backend {
    return {
      name: `${backend.name}+remembered`,
      publicKeyFromSeed: (seed) => backend.publicKeyFromSeed(seed),
      sign: (message, seed) => backend.sign(message, seed),
      randomSeed: () => backend.randomSeed(),
      verifyRaw: (signature, message, publicKey) => {
        const id = this.idOf({ signature, message, publicKey });
        if (this.has(id)) return true;
        const ok = backend.verifyRaw(signature, message, publicKey) === true;
        if (ok) this.add(id);
        return ok;
      },
    };
  }
}
