// The log's own bundle of a subject against what the monitor verified (DESIGN
// §7b). The bundle is read from the notices table, which a database insider
// can edit: a key-revoke notice row deleted (its log leaf kept) leaves the
// bundle without it, and the engine would judge the key valid. The verified
// registry keeps each key event with its log index, so every event of a key
// that signed an entry of the bundle, logged below the bundle's size, must be
// in it; each one missing is a finding that makes the subject reject.
import type { Bundle, Reason } from '@provenant/core';
import { getVerifiedKeys, type Queryable } from '@provenant/store';

/** The tree size a signed note names (its second line), or null. */
function sizeOf(note: string): number | null {
  const line = note.split('\n', 3)[1];
  return line !== undefined && /^\d{1,15}$/.test(line) ? Number(line) : null;
}

/**
 * LOG_PROOF_INVALID findings for the key events (revocations, suspensions and
 * their ends) the monitor verified that `bundle`, the log's own bundle of
 * `subject`, leaves out. Only for bundles the service built (trusted shape).
 */
export async function verifiedNoticesMissing(
  db: Queryable,
  subject: string,
  bundle: Bundle,
): Promise<Reason[]> {
  const size = sizeOf(bundle.checkpoint);
  if (size === null) return [];
  const kids = new Set<string>();
  for (const list of [...Object.values(bundle.chains), bundle.notices])
    for (const e of list) {
      const kid = e.envelope.signatures[0]?.keyid;
      if (kid !== undefined) kids.add(kid);
    }
  const logged = new Set(bundle.notices.map((n) => n.receipt.index));
  const out: Reason[] = [];
  for (const k of await getVerifiedKeys(db, [...kids])) {
    const events = [
      ...k.revocations.map((r) => r.index),
      ...k.suspensions.flatMap((s) => (s.to === null ? [s.from] : [s.from, s.to])),
    ];
    for (const index of events)
      if (index < size && !logged.has(index))
        out.push({
          code: 'LOG_PROOF_INVALID',
          message: `the log's records leave out the notice at index ${index} about key ${k.kid}, which the monitor verified: its stored row was changed or deleted`,
          subject,
        });
  }
  return out;
}
