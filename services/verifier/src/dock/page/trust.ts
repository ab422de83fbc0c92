// The trust file a dock pins (written by `provenant trust export`, DESIGN §6,
// §7): what the offline engine is given. Pure, so it is tested without a page.
import type { Trust } from '@provenant/core';

/** Offline default when the trust file sets none: the verifier's own default (one day). */
export const DEFAULT_MAX_AGE_S = 86_400;

/**
 * The engine's trust from a trust file. The file comes from outside: only the
 * known fields are kept, and the witnesses (`{name, publicKey}` or C2SP key
 * strings) and `witnessQuorum` pass through unchanged, so the engine enforces
 * the quorum and refuses a malformed entry (INVALID_TRUST) instead of the page
 * dropping it silently.
 */
export function trustOf(raw: unknown): Trust {
  const t = raw as Record<string, unknown> | null;
  if (!t || typeof t.logKey !== 'string' || typeof t.authorityKey !== 'string')
    throw new Error(
      'The trust file needs "logKey" and "authorityKey" (download it from the service while online).',
    );
  const trust: Trust = { logKey: t.logKey, authorityKey: t.authorityKey };
  if (t.witnesses !== undefined) {
    if (!Array.isArray(t.witnesses))
      throw new Error('The trust file\'s "witnesses" must be a list.');
    trust.witnesses = t.witnesses as NonNullable<Trust['witnesses']>;
  }
  if (t.minWitnesses !== undefined) trust.minWitnesses = t.minWitnesses as number;
  if (t.witnessQuorum !== undefined) trust.witnessQuorum = t.witnessQuorum as number;
  trust.maxCheckpointAgeSeconds =
    typeof t.maxCheckpointAgeSeconds === 'number' ? t.maxCheckpointAgeSeconds : DEFAULT_MAX_AGE_S;
  return trust;
}
