// Who may capture an event (DESIGN §11): the capturing party must be the
// event's actor, and may name only EPCs within its rights. Pure checks on the
// event and the party's registration; the custody state machine judges the
// rest (custodian, in transit, contained) when the records are planned.
import { cbvTerm, epcisGlnOf } from './index-fields.js';
import type { RecordDraft } from './mapping.js';

/** The registration facts of the capturing party the checks need. */
export interface CapturingParty {
  readonly gln: string;
  /** Its GS1 company prefixes. */
  readonly prefixes: readonly string[];
}

/** Why a party may not capture an event. */
export type EpcisCaptureCode =
  /** The event states actors (owning/possessing party, bizLocation), none of them the caller. */
  | 'ACTOR_MISMATCH'
  /** An EPC the caller has no right to create (a GTIN or SSCC outside its company prefixes). */
  | 'EPC_NOT_OWNED';

export interface EpcisCaptureError {
  readonly code: EpcisCaptureCode;
  readonly field: string;
  readonly detail: string;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** A GLN is the party's own: its GLN, or a location GLN allocated from one of its prefixes. */
function isOwnGln(gln: string, party: CapturingParty): boolean {
  return gln === party.gln || party.prefixes.some((p) => gln.startsWith(p));
}

const ACTING_TYPES = new Set(['owning_party', 'possessing_party']);

/**
 * The parties an event states as its actor, with the field that states each:
 * the owning or possessing party of sourceList (shipping: the sender) or
 * destinationList (receiving: the receiver), and the party of bizLocation.
 */
export function epcisStatedActors(event: Json): { field: string; gln: string | undefined }[] {
  const out: { field: string; gln: string | undefined }[] = [];
  const bizStep = cbvTerm(event['bizStep']);
  const list =
    bizStep === 'receiving' ? 'destinationList' : bizStep === 'shipping' ? 'sourceList' : null;
  if (list !== null && Array.isArray(event[list])) {
    const key = list === 'sourceList' ? 'source' : 'destination';
    (event[list] as unknown[]).forEach((e, i) => {
      if (isObject(e) && ACTING_TYPES.has(cbvTerm(e['type']) ?? '')) {
        out.push({ field: `${list}.${i}.${key}`, gln: epcisGlnOf(e[key]) });
      }
    });
  }
  const loc = event['bizLocation'];
  if (isObject(loc) && loc['id'] !== undefined) {
    out.push({ field: 'bizLocation.id', gln: epcisGlnOf(loc['id']) });
  }
  return out;
}

/**
 * ACTOR_MISMATCH when the event states actors and none of them is the
 * capturing party (its GLN, or a location GLN under one of its prefixes). An
 * event that states no actor is the capturing party's own statement.
 */
export function epcisActorProblem(event: Json, party: CapturingParty): EpcisCaptureError | null {
  const stated = epcisStatedActors(event);
  if (stated.length === 0) return null;
  if (stated.some((a) => a.gln !== undefined && isOwnGln(a.gln, party))) return null;
  const first = stated[0]!;
  return {
    code: 'ACTOR_MISMATCH',
    field: first.field,
    detail: `the event's actor ${first.gln ?? '(no GLN)'} is not the capturing party ${party.gln}`,
  };
}

/**
 * EPC_NOT_OWNED for an EPC the records would create outside the caller's
 * company prefixes (DESIGN §5: a GTIN belongs to the party whose prefix it
 * starts with; an SSCC a pack creates starts with one of the packer's).
 * `fields[i]` is the event field of drafts[i]; `hasChain` tells whether a
 * subject already exists (a pack into an existing container creates nothing).
 */
export function epcisOwnershipProblem(
  drafts: readonly RecordDraft[],
  fields: readonly string[],
  party: CapturingParty,
  hasChain: (subject: string) => boolean,
): EpcisCaptureError | null {
  for (let i = 0; i < drafts.length; i++) {
    const d = drafts[i]!;
    let key: string | undefined;
    if (d.type === 'commission') key = String(d.data['gtin']).slice(1);
    else if (d.type === 'pack' && 'children' in d.data && d.subject.startsWith('00/')) {
      if (hasChain(d.subject)) continue;
      key = d.subject.slice(4);
    }
    if (key !== undefined && !party.prefixes.some((p) => p.length > 0 && key.startsWith(p))) {
      return {
        code: 'EPC_NOT_OWNED',
        field: fields[i]!,
        detail: `${d.subject} is outside the company prefixes of ${party.gln}`,
      };
    }
  }
  return null;
}
