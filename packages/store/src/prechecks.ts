// The append pipeline's reads before the log lock (issuer append/prepare.ts),
// in ONE round trip: the signing keys, the actors and which entries are
// already in the log. Advisory only: the sequencer re-reads keys, parties and
// leaves under the lock, and only that check is authoritative (DESIGN §6).
import type { Queryable } from './driver.js';
import { toKey, type PartyKey } from './keys.js';
import { toParty, type Party } from './parties.js';

export interface AppendPrechecks {
  keys: Map<string, PartyKey>;
  parties: Map<string, Party>;
  /** Entry ids (records or notices) that already have a log leaf. */
  stored: Set<string>;
}

// json_agg keeps it one statement with one row; bytea travels as hex inside the JSON.
const READ_APPEND_PRECHECKS = `SELECT
  (SELECT coalesce(json_agg(json_build_object('kid', kid, 'gln', gln,
      'public_key', encode(public_key, 'hex'), 'custodial', sealed_private_key IS NOT NULL,
      'status', status, 'created_at', created_at, 'revoked_at', revoked_at,
      'compromised_at', compromised_at, 'revoke_reason', revoke_reason)), '[]')
     FROM party_keys WHERE kid = ANY($1::text[]))::text AS keys,
  (SELECT coalesce(json_agg(json_build_object('gln', gln, 'name', name, 'roles', roles,
      'prefixes', prefixes, 'status', status, 'created_at', created_at, 'updated_at', updated_at)), '[]')
     FROM parties WHERE gln = ANY($2::text[]))::text AS parties,
  (SELECT coalesce(json_agg(entry_id), '[]')
     FROM log_leaves WHERE entry_id = ANY($3::text[]))::text AS stored`;

type Row = Record<string, unknown>;

/**
 * Keys by kid, parties by GLN and the ids among `entryIds` already in the
 * log, in one statement (as getKeys, getParties and getLeavesByEntryIds).
 */
export async function readAppendPrechecks(
  q: Queryable,
  want: { kids: readonly string[]; glns: readonly string[]; entryIds: readonly string[] },
): Promise<AppendPrechecks> {
  const { rows } = await q.query(READ_APPEND_PRECHECKS, [
    [...want.kids],
    [...want.glns],
    [...want.entryIds],
  ]);
  const r = rows[0]!;
  const list = (v: unknown): Row[] => JSON.parse(v as string) as Row[];
  return {
    keys: new Map(
      list(r.keys).map((k) => [
        k.kid as string,
        toKey({ ...k, public_key: new Uint8Array(Buffer.from(k.public_key as string, 'hex')) }),
      ]),
    ),
    parties: new Map(list(r.parties).map((p) => [p.gln as string, toParty(p)])),
    stored: new Set(JSON.parse(r.stored as string) as string[]),
  };
}
