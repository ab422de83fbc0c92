// What a unit's verification needs of the verifier's verified state and of
// the log, in one statement (DESIGN §7b: "a few indexed reads"): the log's
// size and the monitor's cursor in the same snapshot, the unit's verified
// state and records below the verified checkpoint, the containers it was
// packed in with their records, and the yes/no facts that send a unit to the
// full engine (alarms, key events, a party not active, a recall) or that need
// a closer look (another party's verification since its handoffs, for
// DUPLICATE_SCAN). One round trip instead of a dozen: the round trips, not
// the checks, bound a verification's cost.
import type { Queryable } from './driver.js';
import { prepared } from './prepared.js';
import { num } from './sql.js';
import {
  TIMELINE_COLUMNS,
  toTimelineRow,
  toVerifiedCheckpoint,
  toVerifiedSubject,
  verifiedSubjectColumns,
  type TimelineRow,
  type VerifiedSubject,
} from './verifier-state.js';

/** The facts of one unit, as of the verified checkpoint read with them. */
export interface UnitFacts {
  /** the log's size (log_state) in the statement's snapshot */
  logSize: number;
  /** entries [0, verifiedNext) are verified by the monitor (verifier_cursor) */
  verifiedNext: number;
  checkpoint: { size: number; rootHash: Uint8Array; note: string } | null;
  /** the unit's verified state, null when the monitor has none */
  verified: VerifiedSubject | null;
  /** the unit's records logged below the checkpoint, in log order */
  own: TimelineRow[];
  /** the records of every container it was packed in, below the checkpoint, in log order */
  containers: TimelineRow[];
  /** the container of its latest pack (null: none, or an unpack came later) and that container's verified state */
  container: { subject: string; verified: VerifiedSubject | null; listsUnit: boolean } | null;
  /** an alarm on the unit or a container of it, or an unacknowledged one on the log */
  alarmed: boolean;
  /** a key that signed one of those records was revoked or suspended (at any time) */
  keyEvents: boolean;
  /** an actor of those records is not active in the verified registry, or was suspended before */
  partyInactive: boolean;
  /** a recall notice for `gtin` was logged below the checkpoint */
  recalled: boolean;
  /**
   * A party of the chain other than the caller verified the unit or a
   * container of it (clone-revealing purpose, not a presented bundle) after the
   * unit's own last handoff: DUPLICATE_SCAN needs the exact check.
   */
  duplicateCandidates: boolean;
  /** the caller is an actor or recipient of a record of the unit or of a container it was ever in (DESIGN §6a) */
  chainParty: boolean;
}

/** Which unit, for whom. */
export interface UnitKey {
  subject: string;
  /** the unit's GTIN (from its subject), for recalls */
  gtin: string;
  /** the verifying party */
  party: string;
}

export interface UnitFactsQuery extends UnitKey {
  /** purposes whose verifications count for DUPLICATE_SCAN */
  purposes: readonly string[];
}

const SQL = prepared(`
SELECT q.ord, f.* FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(subject, gtin, party, ord),
LATERAL (
WITH RECURSIVE cur AS (
  SELECT next_index, checkpoint_size, checkpoint_root, checkpoint_note,
         coalesce(checkpoint_size, 0) AS below
  FROM verifier_cursor WHERE id
),
own AS (
  SELECT ${TIMELINE_COLUMNS}
  FROM cur, records r JOIN log_leaves l ON l.idx = r.leaf_idx
  WHERE r.subject = q.subject AND r.leaf_idx < cur.below
),
parents AS (SELECT DISTINCT parent AS subject FROM own WHERE type = 'pack' AND parent IS NOT NULL),
cont AS (
  SELECT ${TIMELINE_COLUMNS}
  FROM cur, records r JOIN log_leaves l ON l.idx = r.leaf_idx
  WHERE r.subject IN (SELECT subject FROM parents) AND r.leaf_idx < cur.below
),
chain AS (SELECT actor, "to", kid FROM own UNION ALL SELECT actor, "to", kid FROM cont),
latest AS (
  SELECT CASE WHEN type = 'pack' THEN parent END AS container
  FROM own WHERE type IN ('pack', 'unpack') ORDER BY leaf_idx DESC LIMIT 1
),
scope(subject) AS (
  SELECT q.subject
  UNION
  -- Every container it was ever in, every level up (DESIGN §5), at any index (isChainParty).
  SELECT r.data ->> 'parent' FROM records r JOIN scope s ON r.subject = s.subject
   WHERE r.type IN ('pack', 'unpack') AND r.data ? 'parent'
)
SELECT
  (SELECT size FROM log_state WHERE id) AS log_size,
  cur.next_index, cur.checkpoint_size, cur.checkpoint_root, cur.checkpoint_note,
  ${verifiedSubjectColumns('vs', 'u_')},
  (SELECT container FROM latest) AS container,
  ${verifiedSubjectColumns('cs', 'c_')},
  EXISTS (SELECT 1 FROM verifier_children vc
          WHERE vc.container = (SELECT container FROM latest) AND vc.child = q.subject) AS lists_unit,
  (SELECT json_agg(own ORDER BY leaf_idx) FROM own) AS own,
  (SELECT json_agg(cont ORDER BY leaf_idx) FROM cont) AS cont,
  -- Each EXISTS on its own index (an OR of them would scan the table).
  EXISTS (SELECT 1 FROM verifier_alarms a
          WHERE a.subject = ANY (ARRAY(SELECT subject FROM parents) || q.subject))
  OR EXISTS (SELECT 1 FROM verifier_alarms a WHERE a.subject IS NULL AND a.acked_at IS NULL) AS alarmed,
  EXISTS (SELECT 1 FROM verifier_keys k
          WHERE k.kid IN (SELECT kid FROM chain)
            AND (jsonb_array_length(k.revocations) > 0 OR jsonb_array_length(k.suspensions) > 0)) AS key_events,
  -- Suspended now, or ever before the checkpoint (a record may have been logged
  -- while its actor was: the engine tells PARTY_SUSPENDED then).
  EXISTS (SELECT 1 FROM verifier_parties p
          WHERE p.gln IN (SELECT actor FROM chain) AND p.status <> 'active')
  -- From the notices the monitor verified (verifier_notices), never the notices
  -- table, whose rows an insider may delete.
  OR EXISTS (SELECT 1 FROM verifier_notices n
          WHERE n.type = 'party-suspend' AND n.gln IN (SELECT actor FROM chain)
            AND n.log_index < cur.below) AS party_inactive,
  EXISTS (SELECT 1 FROM verifier_notices n
          WHERE n.type = 'recall' AND n.gtin = q.gtin AND n.log_index < cur.below) AS recalled,
  EXISTS (SELECT 1 FROM verifications v
          WHERE v.subject = ANY (ARRAY(SELECT subject FROM parents) || q.subject)
            AND v.party <> q.party
            AND (v.party IN (SELECT actor FROM chain) OR v.party IN (SELECT "to" FROM chain))
            AND v.source <> 'bundle' AND v.purpose = ANY($4::text[])
            AND v.created_at > coalesce(
              (SELECT max(integrated_at) FROM own WHERE type IN ('ship', 'receive')), '-infinity')
         ) AS duplicate_candidates,
  EXISTS (SELECT 1 FROM records r JOIN scope s ON r.subject = s.subject
          WHERE r.actor = q.party OR r.data ->> 'to' = q.party) AS chain_party
FROM cur
LEFT JOIN verifier_subjects vs ON vs.subject = q.subject
LEFT JOIN verifier_subjects cs ON cs.subject = (SELECT container FROM latest)
) f
ORDER BY q.ord`);

/** Everything a unit's verification from verified state reads, in one statement. */
export async function getUnitFacts(q: Queryable, f: UnitFactsQuery): Promise<UnitFacts> {
  return (await getUnitFactsMany(q, [f.subject], [f.gtin], [f.party], f.purposes))[0]!;
}

/**
 * The facts of several units (each with its own caller) in one statement,
 * in order; `purposes` is the same for all (see Coalescer).
 */
export async function getUnitFactsMany(
  q: Queryable,
  subjects: readonly string[],
  gtins: readonly string[],
  parties: readonly string[],
  purposes: readonly string[],
): Promise<UnitFacts[]> {
  if (subjects.length === 0) return [];
  const { rows } = await q.query(SQL, [subjects, gtins, parties, purposes]);
  return rows.map(toUnitFacts);
}

function toUnitFacts(r: Record<string, unknown>): UnitFacts {
  const timeline = (v: unknown) =>
    ((v as Record<string, unknown>[] | null) ?? []).map(toTimelineRow);
  const container = r.container as string | null;
  return {
    logSize: num(r.log_size),
    verifiedNext: num(r.next_index),
    checkpoint: toVerifiedCheckpoint(r),
    verified: r.u_subject === null ? null : toVerifiedSubject(r, 'u_'),
    own: timeline(r.own),
    containers: timeline(r.cont),
    container:
      container === null
        ? null
        : {
            subject: container,
            verified: r.c_subject === null ? null : toVerifiedSubject(r, 'c_'),
            listsUnit: r.lists_unit === true,
          },
    alarmed: r.alarmed === true,
    keyEvents: r.key_events === true,
    partyInactive: r.party_inactive === true,
    recalled: r.recalled === true,
    duplicateCandidates: r.duplicate_candidates === true,
    chainParty: r.chain_party === true,
  };
}
