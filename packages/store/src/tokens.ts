// tokens: bearer tokens by SHA-256 only (DESIGN §8); the token itself is never stored.
import type { Queryable } from './driver.js';
import { prepared } from './prepared.js';
import { bytes, hexes, iso, isoOrNull, num } from './sql.js';

export interface Token {
  /** Public id (uuid): lists and revocations name a token by it, never by its secret. */
  id: string;
  tokenHash: Uint8Array;
  /** null = admin/bootstrap token. */
  gln: string | null;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewToken {
  /** SHA-256 of the token (32 bytes). */
  tokenHash: Uint8Array;
  gln: string | null;
  scopes: readonly string[];
}

const COLUMNS = 'id, token_hash, gln, scopes, created_at, revoked_at, last_used_at';

function toToken(r: Record<string, unknown>): Token {
  return {
    id: String(r.id),
    tokenHash: bytes(r.token_hash),
    gln: (r.gln as string | null) ?? null,
    scopes: r.scopes as string[],
    createdAt: iso(r.created_at),
    revokedAt: isoOrNull(r.revoked_at),
    lastUsedAt: isoOrNull(r.last_used_at),
  };
}

/**
 * Stores a token hash.
 * @throws UniqueViolationError (`tokens_pkey`) on a duplicate hash.
 */
export async function insertToken(q: Queryable, t: NewToken): Promise<Token> {
  const { rows } = await q.query(
    `INSERT INTO tokens (token_hash, gln, scopes) VALUES ($1::bytea, $2::text, $3::text[]) RETURNING ${COLUMNS}`,
    [t.tokenHash, t.gln, [...t.scopes]],
  );
  return toToken(rows[0]!);
}

/** The unrevoked token with this hash, or null: the authentication lookup. */
export async function getActiveToken(q: Queryable, tokenHash: Uint8Array): Promise<Token | null> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM tokens WHERE token_hash = $1::bytea AND revoked_at IS NULL`,
    [tokenHash],
  );
  return rows[0] ? toToken(rows[0]) : null;
}

/** Every token of a party (hashes only), oldest first. */
export async function listTokensByParty(q: Queryable, gln: string): Promise<Token[]> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM tokens WHERE gln = $1::text ORDER BY created_at`,
    [gln],
  );
  return rows.map(toToken);
}

/** Whether any admin token (gln null) exists: the bootstrap check. */
export async function hasAdminToken(q: Queryable): Promise<boolean> {
  const { rows } = await q.query(
    `SELECT 1 FROM tokens WHERE gln IS NULL AND revoked_at IS NULL LIMIT 1`,
  );
  return rows.length > 0;
}

/** Revokes a token; false if it was unknown or already revoked. */
export async function revokeToken(q: Queryable, tokenHash: Uint8Array): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE tokens SET revoked_at = now() WHERE token_hash = $1::bytea AND revoked_at IS NULL`,
    [tokenHash],
  );
  return rowCount > 0;
}

/** The token with this public id, or null (a malformed id is simply unknown). */
export async function getTokenById(q: Queryable, id: string): Promise<Token | null> {
  if (!UUID.test(id)) return null;
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM tokens WHERE id = $1::uuid`, [id]);
  return rows[0] ? toToken(rows[0]) : null;
}

/** Revokes the token with this public id; false if it was unknown or already revoked. */
export async function revokeTokenById(q: Queryable, id: string): Promise<boolean> {
  if (!UUID.test(id)) return false;
  const { rowCount } = await q.query(
    `UPDATE tokens SET revoked_at = now() WHERE id = $1::uuid AND revoked_at IS NULL`,
    [id],
  );
  return rowCount > 0;
}

/**
 * Records that a token was used now; at most one write per token and `minGapSeconds`
 * (the authentication path calls it on every request).
 */
export async function touchToken(
  q: Queryable,
  tokenHash: Uint8Array,
  minGapSeconds = 60,
): Promise<void> {
  await q.query(
    `UPDATE tokens SET last_used_at = now()
     WHERE token_hash = $1::bytea
       AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2::integer))`,
    [tokenHash, minGapSeconds],
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What authentication needs of an unrevoked token: its party, scopes and the party's status. */
export interface TokenGrantRow {
  gln: string | null;
  scopes: string[];
  /** The party's status; null for an operator token (gln null) or a party row that is gone. */
  partyStatus: 'active' | 'suspended' | null;
}

/**
 * The unrevoked token with this hash joined with its party's status, in ONE
 * round trip (the per-request authentication lookup); null when unknown or revoked.
 */
export async function getTokenGrant(
  q: Queryable,
  tokenHash: Uint8Array,
): Promise<TokenGrantRow | null> {
  return (await getTokenGrants(q, [tokenHash]))[0]!;
}

const TOKEN_GRANTS = prepared(`SELECT h.ord, t.gln, t.scopes, p.status AS party_status
  FROM unnest($1::text[]) WITH ORDINALITY AS h(hex, ord)
  JOIN tokens t ON t.token_hash = decode(h.hex, 'hex') AND t.revoked_at IS NULL
  LEFT JOIN parties p ON p.gln = t.gln`);

/** getTokenGrant for several hashes in one statement (concurrent requests), in order. */
export async function getTokenGrants(
  q: Queryable,
  tokenHashes: readonly Uint8Array[],
): Promise<(TokenGrantRow | null)[]> {
  if (tokenHashes.length === 0) return [];
  const { rows } = await q.query(TOKEN_GRANTS, [hexes(tokenHashes)]);
  const out: (TokenGrantRow | null)[] = tokenHashes.map(() => null);
  for (const r of rows)
    out[num(r.ord) - 1] = {
      gln: (r.gln as string | null) ?? null,
      scopes: r.scopes as string[],
      partyStatus: (r.party_status as TokenGrantRow['partyStatus']) ?? null,
    };
  return out;
}
