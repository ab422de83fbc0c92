// Row <-> domain helpers shared by the repository modules.
import { toHex } from '@provenant/core';
import { StoreMisuseError } from './errors.js';

// A timestamptz as PostgreSQL writes it in JSON in a UTC session
// (2026-12-06T19:04:40.529123+00:00): rewritten as text, since the Date round
// trip of every timeline time was 2% of a verification's CPU.
const UTC_TEXT = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(?:\+00:00|Z)$/;

/** A timestamptz column as an RFC 3339 string in UTC with milliseconds (sub-milliseconds cut, as Date does). */
export function iso(value: unknown): string {
  if (typeof value === 'string') {
    const m = UTC_TEXT.exec(value);
    if (m) return `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}Z`;
  }
  const d = value instanceof Date ? value : new Date(String(value));
  return d.toISOString();
}

/** Like `iso`, passing null through. */
export function isoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : iso(value);
}

/** An int8/int4 column as a JS number; bigint beyond 2^53 is refused, not rounded. */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' && value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return num(BigInt(value));
  throw new StoreMisuseError('integer column out of the safe range');
}

/** A bytea column as Uint8Array (both drivers already return one). */
export function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value as ArrayLike<number>);
}

export function bytesOrNull(value: unknown): Uint8Array | null {
  return value === null || value === undefined ? null : bytes(value);
}

/** bytea[] parameters go over the wire as hex text[] and `decode(x, 'hex')`: identical on both drivers. */
export function hexes(values: readonly Uint8Array[]): string[] {
  return values.map((v) => toHex(v));
}

/** jsonb parameters go as text and `::jsonb`, so arrays are not turned into SQL arrays. */
export function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** A timestamp parameter as ISO text (`::timestamptz`). */
export function tsParam(value: string | Date): string {
  return value instanceof Date ? value.toISOString() : value;
}

export function tsParamOrNull(value: string | Date | null | undefined): string | null {
  return value === null || value === undefined ? null : tsParam(value);
}

/** Guards batch helpers: every column array of an unnest must have the same length. */
export function assertSafeIndex(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new StoreMisuseError(`${what} must be a non-negative integer`);
}
