// parties: the registry of GLN-identified parties (DESIGN §8a).
import type { Queryable } from './driver.js';
import { iso } from './sql.js';

export type PartyStatus = 'active' | 'suspended';

export interface Party {
  gln: string;
  name: string;
  roles: string[];
  prefixes: string[];
  status: PartyStatus;
  createdAt: string;
  updatedAt: string;
}

export interface NewParty {
  gln: string;
  name: string;
  roles: readonly string[];
  prefixes: readonly string[];
  status?: PartyStatus;
}

const COLUMNS = 'gln, name, roles, prefixes, status, created_at, updated_at';

/** Maps a parties row (COLUMNS shape). */
export function toParty(r: Record<string, unknown>): Party {
  return {
    gln: r.gln as string,
    name: r.name as string,
    roles: r.roles as string[],
    prefixes: r.prefixes as string[],
    status: r.status as PartyStatus,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/**
 * Registers a party.
 * @throws UniqueViolationError (constraint `parties_pkey`) if the GLN exists.
 */
export async function insertParty(q: Queryable, p: NewParty): Promise<Party> {
  const { rows } = await q.query(
    `INSERT INTO parties (gln, name, roles, prefixes, status)
     VALUES ($1::text, $2::text, $3::text[], $4::text[], $5::text)
     RETURNING ${COLUMNS}`,
    [p.gln, p.name, [...p.roles], [...p.prefixes], p.status ?? 'active'],
  );
  return toParty(rows[0]!);
}

/** The party with this GLN, or null. */
export async function getParty(q: Queryable, gln: string): Promise<Party | null> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM parties WHERE gln = $1::text`, [gln]);
  return rows[0] ? toParty(rows[0]) : null;
}

/** The parties among `glns` that exist, keyed by GLN. */
export async function getParties(
  q: Queryable,
  glns: readonly string[],
): Promise<Map<string, Party>> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM parties WHERE gln = ANY($1::text[])`, [
    [...glns],
  ]);
  return new Map(rows.map((r) => [r.gln as string, toParty(r)]));
}

/** Every party, ordered by GLN. */
export async function listParties(q: Queryable): Promise<Party[]> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM parties ORDER BY gln`);
  return rows.map(toParty);
}

/** Parties owning a GS1 company prefix that starts `gtin14` at offset 1 (DESIGN §5 commission rule). */
export async function findPartiesByGtin(q: Queryable, gtin14: string): Promise<Party[]> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM parties
     WHERE EXISTS (SELECT 1 FROM unnest(prefixes) AS p WHERE substr($1::text, 2, length(p)) = p)
     ORDER BY gln`,
    [gtin14],
  );
  return rows.map(toParty);
}

/**
 * Other parties (not `exceptGln`) holding a company prefix that is a prefix of
 * one of `prefixes`, or has one of them as its prefix (DESIGN §5: no
 * registered prefix of one party may be a prefix of another party's).
 */
export async function findPrefixOverlaps(
  q: Queryable,
  prefixes: readonly string[],
  exceptGln: string | null = null,
): Promise<{ gln: string; prefix: string; conflictsWith: string }[]> {
  if (prefixes.length === 0) return [];
  const { rows } = await q.query(
    `SELECT p.gln, theirs AS prefix, mine AS conflicts_with
     FROM parties p, unnest(p.prefixes) AS theirs, unnest($1::text[]) AS mine
     WHERE ($2::text IS NULL OR p.gln <> $2::text)
       AND (starts_with(theirs, mine) OR starts_with(mine, theirs))
     ORDER BY p.gln, theirs`,
    [[...prefixes], exceptGln],
  );
  return rows.map((r) => ({
    gln: r.gln as string,
    prefix: r.prefix as string,
    conflictsWith: r.conflicts_with as string,
  }));
}

/** Suspends or reinstates a party; null if it does not exist. */
export async function setPartyStatus(
  q: Queryable,
  gln: string,
  status: PartyStatus,
): Promise<Party | null> {
  const { rows } = await q.query(
    `UPDATE parties SET status = $2::text, updated_at = now() WHERE gln = $1::text RETURNING ${COLUMNS}`,
    [gln, status],
  );
  return rows[0] ? toParty(rows[0]) : null;
}
