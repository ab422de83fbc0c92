// party_keys: Ed25519 public keys by kid, and sealed custodial private keys (DESIGN §4, §8).
import type { Queryable } from './driver.js';
import { bytes, iso, isoOrNull, tsParam, tsParamOrNull } from './sql.js';

export type KeyStatus = 'active' | 'revoked';

/** A key as the service may show it: the sealed private key is deliberately absent. */
export interface PartyKey {
  kid: string;
  gln: string | null;
  publicKey: Uint8Array;
  custodial: boolean;
  status: KeyStatus;
  createdAt: string;
  revokedAt: string | null;
  compromisedAt: string | null;
  revokeReason: string | null;
}

export interface NewPartyKey {
  kid: string;
  /** null = the registry authority's key. */
  gln: string | null;
  publicKey: Uint8Array;
  /** AES-256-GCM sealed private key (custodial keys only). */
  sealedPrivateKey?: Uint8Array | null;
}

const COLUMNS = `kid, gln, public_key, sealed_private_key IS NOT NULL AS custodial, status, created_at,
  revoked_at, compromised_at, revoke_reason`;

/** Maps a party_keys row (COLUMNS shape). */
export function toKey(r: Record<string, unknown>): PartyKey {
  return {
    kid: r.kid as string,
    gln: (r.gln as string | null) ?? null,
    publicKey: bytes(r.public_key),
    custodial: r.custodial as boolean,
    status: r.status as KeyStatus,
    createdAt: iso(r.created_at),
    revokedAt: isoOrNull(r.revoked_at),
    compromisedAt: isoOrNull(r.compromised_at),
    revokeReason: (r.revoke_reason as string | null) ?? null,
  };
}

/**
 * Stores a key.
 * @throws UniqueViolationError (`party_keys_pkey`) if the kid exists.
 */
export async function insertKey(q: Queryable, k: NewPartyKey): Promise<PartyKey> {
  const { rows } = await q.query(
    `INSERT INTO party_keys (kid, gln, public_key, sealed_private_key)
     VALUES ($1::text, $2::text, $3::bytea, $4::bytea)
     RETURNING ${COLUMNS}`,
    [k.kid, k.gln, k.publicKey, k.sealedPrivateKey ?? null],
  );
  return toKey(rows[0]!);
}

/** The key with this kid (any status), or null. */
export async function getKey(q: Queryable, kid: string): Promise<PartyKey | null> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM party_keys WHERE kid = $1::text`, [kid]);
  return rows[0] ? toKey(rows[0]) : null;
}

/** The keys among `kids` that exist, keyed by kid. */
export async function getKeys(
  q: Queryable,
  kids: readonly string[],
): Promise<Map<string, PartyKey>> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM party_keys WHERE kid = ANY($1::text[])`, [
    [...kids],
  ]);
  return new Map(rows.map((r) => [r.kid as string, toKey(r)]));
}

/** Every key of the given parties (all statuses), oldest first. */
export async function listKeysByParties(
  q: Queryable,
  glns: readonly string[],
): Promise<PartyKey[]> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM party_keys WHERE gln = ANY($1::text[]) ORDER BY created_at, kid`,
    [[...glns]],
  );
  return rows.map(toKey);
}

/** Every key of one party, oldest first. */
export function listKeysByParty(q: Queryable, gln: string): Promise<PartyKey[]> {
  return listKeysByParties(q, [gln]);
}

/** The authority keys (gln null), oldest first. */
export async function listAuthorityKeys(q: Queryable): Promise<PartyKey[]> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM party_keys WHERE gln IS NULL ORDER BY created_at, kid`,
  );
  return rows.map(toKey);
}

/** The sealed private key of an active custodial key, or null (non-custodial, revoked or unknown). */
export async function getSealedPrivateKey(q: Queryable, kid: string): Promise<Uint8Array | null> {
  const { rows } = await q.query(
    `SELECT sealed_private_key FROM party_keys
     WHERE kid = $1::text AND status = 'active' AND sealed_private_key IS NOT NULL`,
    [kid],
  );
  return rows[0] ? bytes(rows[0].sealed_private_key) : null;
}

export interface KeyRevocation {
  compromisedAt: string | Date | null;
  reason: string | null;
  /** Default: the transaction's now(). */
  revokedAt?: string | Date;
}

/**
 * Revokes an active key. Returns the revoked key, or null if it is unknown or
 * already revoked (the first revocation stands).
 */
export async function revokeKey(
  q: Queryable,
  kid: string,
  r: KeyRevocation,
): Promise<PartyKey | null> {
  const { rows } = await q.query(
    `UPDATE party_keys
     SET status = 'revoked', revoked_at = coalesce($2::timestamptz, now()),
         compromised_at = $3::timestamptz, revoke_reason = $4::text
     WHERE kid = $1::text AND status = 'active'
     RETURNING ${COLUMNS}`,
    [
      kid,
      r.revokedAt === undefined ? null : tsParam(r.revokedAt),
      tsParamOrNull(r.compromisedAt),
      r.reason,
    ],
  );
  return rows[0] ? toKey(rows[0]) : null;
}

/**
 * The receipt time (`integratedAt`) of the `key` notice that registered `kid`,
 * else the key row's creation time (a key inserted without a notice, e.g. the
 * authority's); null when the key is unknown. DESIGN §5: compromisedAt may not
 * lie before it.
 */
export async function keyRegisteredAt(q: Queryable, kid: string): Promise<string | null> {
  const { rows } = await q.query(
    `SELECT coalesce(
       (SELECT min(l.integrated_at) FROM notices n JOIN log_leaves l ON l.idx = n.leaf_idx
        WHERE n.type = 'key' AND (n.data ->> 'kid') = $1::text),
       (SELECT created_at FROM party_keys WHERE kid = $1::text)) AS at`,
    [kid],
  );
  const at = rows[0]?.at;
  return at === null || at === undefined ? null : iso(at);
}
