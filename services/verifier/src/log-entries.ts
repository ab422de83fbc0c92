// Reading the log's own bundle (built by the service, so its shape is trusted):
// an entry's payload and a checkpoint's size, null where they do not decode.
import { fromDsseBase64, fromUtf8 } from '@provenant/core';

/** The JSON object a log entry's envelope carries, or null when it does not decode to one. */
export function entryPayload(envelope: { payload: string }): Record<string, unknown> | null {
  const bytes = fromDsseBase64(envelope.payload);
  const text = bytes ? fromUtf8(bytes) : null;
  if (text === null) return null;
  try {
    const p: unknown = JSON.parse(text);
    return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The tree size a signed checkpoint note names (its second line), or null. */
export function noteSize(note: string): number | null {
  const lines = note.split('\n', 3);
  return lines.length === 3 && /^\d{1,15}$/.test(lines[1]!) ? Number(lines[1]) : null;
}
