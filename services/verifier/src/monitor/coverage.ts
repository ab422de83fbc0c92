// The log's own bundle of a subject against what the monitor verified (DESIGN
// §7b). The bundle is read from the records and notices tables, which a
// database insider can edit: a decommission record row, a key-revoke, recall
// or suspension notice row deleted (its log leaf kept) leaves the bundle
// without it, and the engine would judge the unit active, the key valid, the
// lot not recalled, the party active. The monitor keeps each subject's
// verified head (verifier_subjects) and lists every notice it verified
// (verifier_notices): each chain of the bundle must reach its verified head,
// and every notice a bundle about the same parties, keys and GTINs must
// carry, logged below its size, must be in it; each gap is a finding that
// makes the subject reject.
import { gtinOfSubject, type Bundle, type Reason } from '@provenant/core';
import { getVerifiedNoticeIndexes, getVerifiedSubjects, type Queryable } from '@provenant/store';
import { entryPayload, noteSize } from '../log-entries.js';

/** The signer of a logged entry: its payload's actor and the envelope's key id. */
function signerOf(e: Bundle['notices'][number]): { actor: string | null; kid: string | null } {
  const actor = entryPayload(e.envelope)?.actor;
  return {
    actor: typeof actor === 'string' ? actor : null,
    kid: e.envelope.signatures[0]?.keyid ?? null,
  };
}

/**
 * The notices the monitor verified below `size` that `bundle` leaves out:
 * registrations and suspensions of its actors (and of the parties that signed
 * its notices), events of its keys, recalls of its GTINs.
 */
async function noticesMissing(
  db: Queryable,
  subject: string,
  bundle: Bundle,
  size: number,
): Promise<Reason[]> {
  const glns = new Set<string>();
  const kids = new Set<string>();
  const gtins = new Set<string>();
  for (const [s, list] of Object.entries(bundle.chains)) {
    const gtin = gtinOfSubject(s);
    if (gtin) gtins.add(gtin);
    for (const e of list) {
      const { actor, kid } = signerOf(e);
      if (actor) glns.add(actor);
      if (kid) kids.add(kid);
    }
  }
  for (const n of bundle.notices) {
    const { actor, kid } = signerOf(n);
    if (actor && actor !== 'authority') {
      glns.add(actor);
      if (kid) kids.add(kid);
    }
  }
  const logged = new Set(bundle.notices.map((n) => n.receipt.index));
  const required = await getVerifiedNoticeIndexes(
    db,
    { glns: [...glns], kids: [...kids], gtins: [...gtins] },
    size,
  );
  return required
    .filter((index) => !logged.has(index))
    .map((index) => ({
      code: 'LOG_PROOF_INVALID' as const,
      message: `the log's bundle leaves out the notice at index ${index}, which the monitor verified: its stored row was changed or deleted`,
      subject,
    }));
}

/** The chains of `bundle` that stop short of a head the monitor verified below `size` (a record row deleted). */
async function recordsMissing(
  db: Queryable,
  subject: string,
  bundle: Bundle,
  size: number,
): Promise<Reason[]> {
  const out: Reason[] = [];
  for (const v of await getVerifiedSubjects(db, Object.keys(bundle.chains))) {
    if (v.headIndex < 0 || v.headIndex >= size) continue;
    if ((bundle.chains[v.subject] ?? []).some((e) => e.receipt.index === v.headIndex)) continue;
    out.push({
      code: 'LOG_PROOF_INVALID',
      message: `the log's records of ${v.subject} leave out entry ${v.headIndex}, which the monitor verified: its stored row was changed or deleted`,
      subject,
    });
  }
  return out;
}

/**
 * What the monitor verified that `bundle`, the log's own bundle of `subject`
 * (built by the service: its shape is trusted), leaves out: chains that stop
 * short of their verified head, verified notices it should carry. Each is a
 * LOG_PROOF_INVALID finding on `subject`.
 */
export async function logBundleGaps(
  db: Queryable,
  subject: string,
  bundle: Bundle,
): Promise<Reason[]> {
  const size = noteSize(bundle.checkpoint);
  if (size === null) return [];
  return [
    ...(await recordsMissing(db, subject, bundle, size)),
    ...(await noticesMissing(db, subject, bundle, size)),
  ];
}
