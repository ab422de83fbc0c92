// The log's own bundle of a subject against what the monitor verified (DESIGN
// §7b). The bundle's notices are read from the notices table, which a
// database insider can edit: a key-revoke, recall or suspension row deleted
// (its log leaf kept) leaves the bundle without it, and the engine would
// judge the key valid, the lot not recalled, the party active. The monitor
// lists every notice it verified (verifier_notices), so every one a bundle
// about the same parties, keys and GTINs must carry, logged below its size,
// is looked for in it; each one missing is a finding that makes the subject reject.
import { fromDsseBase64, fromUtf8, gtinOfSubject, type Bundle, type Reason } from '@provenant/core';
import { getVerifiedNoticeIndexes, type Queryable } from '@provenant/store';

/** The tree size a signed note names (its second line), or null. */
function sizeOf(note: string): number | null {
  const line = note.split('\n', 3)[1];
  return line !== undefined && /^\d{1,15}$/.test(line) ? Number(line) : null;
}

/** The signer of a logged entry: its payload's actor and the envelope's key id. */
function signerOf(e: Bundle['notices'][number]): { actor: string | null; kid: string | null } {
  const kid = e.envelope.signatures[0]?.keyid ?? null;
  const bytes = fromDsseBase64(e.envelope.payload);
  const text = bytes ? fromUtf8(bytes) : null;
  try {
    const actor = text === null ? null : (JSON.parse(text) as { actor?: unknown }).actor;
    return { actor: typeof actor === 'string' ? actor : null, kid };
  } catch {
    return { actor: null, kid };
  }
}

/**
 * LOG_PROOF_INVALID findings for the notices the monitor verified that
 * `bundle`, the log's own bundle of `subject`, leaves out: registrations and
 * suspensions of its actors (and of the parties that signed its notices),
 * events of its keys, recalls of its GTINs. Only for bundles the service
 * built (their shape is trusted).
 */
export async function verifiedNoticesMissing(
  db: Queryable,
  subject: string,
  bundle: Bundle,
): Promise<Reason[]> {
  const size = sizeOf(bundle.checkpoint);
  if (size === null) return [];
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
