// The trust file (DESIGN §6, §7, §7b) that `provenant trust export` writes, a
// dock pins and a standalone verifier reads (PROVENANT_TRUST_FILE): core's
// Trust plus the verifier's receipt key and where it came from. Pure checks,
// so the CLI, the dock and the verifier read it the same way.
import { fromBase64, fromBase64Url, toBase64Url } from './bytes.js';
import { isValidNoteName, parseVerifierKey } from './note.js';
import type { Trust } from './verify.js';

/** A trust file: core's Trust, plus the verifier's receipt key and where it came from. */
export interface TrustFile extends Trust {
  verifierKey?: string;
  origin?: string;
  server?: string;
}

/** DESIGN §7: bundles older than a day answer CHECKPOINT_STALE unless the trust file says otherwise. */
export const DEFAULT_MAX_CHECKPOINT_AGE_SECONDS = 86_400;

/** A raw 32-byte key from base64 or base64url, or null. */
export function rawKey32(s: unknown): Uint8Array | null {
  if (typeof s !== 'string') return null;
  const b = fromBase64(s) ?? fromBase64Url(s);
  return b && b.length === 32 ? b : null;
}

function isWitness(w: unknown): boolean {
  if (typeof w === 'string') return isVerifierKeyOf(w, 'cosignature/v1'); // trust files before issue 10
  if (typeof w !== 'object' || w === null || Array.isArray(w)) return false;
  const o = w as Record<string, unknown>;
  return (
    typeof o['name'] === 'string' && isValidNoteName(o['name']) && rawKey32(o['publicKey']) !== null
  );
}

/** Distinct witness public keys (core counts one per key). */
function distinctWitnesses(list: readonly unknown[]): number {
  const keys = new Set<string>();
  for (const w of list) {
    const pub =
      typeof w === 'string'
        ? parseVerifierKey(w).publicKey
        : rawKey32((w as Record<string, unknown>)['publicKey'])!;
    keys.add(toBase64Url(pub));
  }
  return keys.size;
}

function isB64url32(s: unknown): boolean {
  return typeof s === 'string' && fromBase64Url(s)?.length === 32;
}

/** True when `s` is a C2SP verifier key string of `type`. */
export function isVerifierKeyOf(s: unknown, type: 'ed25519' | 'cosignature/v1'): boolean {
  try {
    return typeof s === 'string' && parseVerifierKey(s).type === type;
  } catch {
    return false;
  }
}

/**
 * Why a trust value is unusable, or null. The trust file is local
 * configuration, but still checked strictly: a typo must not turn a check off.
 */
export function trustProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be a JSON object';
  const t = v as Record<string, unknown>;
  if (!isVerifierKeyOf(t['logKey'], 'ed25519'))
    return 'logKey must be a C2SP verifier key of type Ed25519';
  if (!isB64url32(t['authorityKey'])) return 'authorityKey must be base64url of a 32-byte key';
  const w = t['witnesses'];
  if (w !== undefined && !(Array.isArray(w) && w.every(isWitness)))
    return 'witnesses must be [{name, publicKey}] (a note name and base64 of a 32-byte key) or C2SP verifier keys of type cosignature/v1';
  const n = Array.isArray(w) ? distinctWitnesses(w) : 0;
  for (const k of ['minWitnesses', 'witnessQuorum']) {
    const q = t[k];
    if (q !== undefined && !(Number.isInteger(q) && (q as number) >= 0 && (q as number) <= n))
      return `${k} must be an integer from 0 to the number of distinct witnesses (${n})`;
  }
  const age = t['maxCheckpointAgeSeconds'];
  if (age !== undefined && !(typeof age === 'number' && Number.isFinite(age) && age >= 0))
    return 'maxCheckpointAgeSeconds must be a non-negative number';
  if (t['verifierKey'] !== undefined && rawKey32(t['verifierKey']) === null)
    return 'verifierKey must be base64 of a 32-byte key';
  for (const k of ['origin', 'server'])
    if (t[k] !== undefined && typeof t[k] !== 'string') return `${k} must be a string`;
  return null;
}

/**
 * A checked trust value with the defaults of fields that older trust files lack:
 * `maxCheckpointAgeSeconds` 86,400, `witnesses` [] and `witnessQuorum` 0 (except
 * that a pre-issue-10 file listing witness vkeys without `minWitnesses` keeps
 * core's default of one cosignature: loading an old file never weakens it).
 */
export function withTrustDefaults(t: TrustFile): TrustFile {
  const legacyQuorum =
    t.witnessQuorum === undefined && t.minWitnesses === undefined && (t.witnesses?.length ?? 0) > 0;
  return {
    ...t,
    witnesses: t.witnesses ?? [],
    ...(legacyQuorum ? {} : { witnessQuorum: t.witnessQuorum ?? 0 }),
    maxCheckpointAgeSeconds: t.maxCheckpointAgeSeconds ?? DEFAULT_MAX_CHECKPOINT_AGE_SECONDS,
  };
}
