// witnesses: the witnesses the admin registered (DESIGN §6); only they may cosign.
import type { Queryable } from './driver.js';
import { bytes, iso } from './sql.js';

export interface Witness {
  name: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /** C2SP tlog-cosignature key id (4 bytes). */
  keyId: Uint8Array;
  createdAt: string;
}

export interface NewWitness {
  name: string;
  publicKey: Uint8Array;
  keyId: Uint8Array;
}

const COLUMNS = 'name, public_key, key_id, created_at';

function toWitness(r: Record<string, unknown>): Witness {
  return {
    name: r.name as string,
    publicKey: bytes(r.public_key),
    keyId: bytes(r.key_id),
    createdAt: iso(r.created_at),
  };
}

/**
 * Registers a witness.
 * @throws UniqueViolationError (`witnesses_pkey`) when the name is taken.
 */
export async function insertWitness(q: Queryable, w: NewWitness): Promise<Witness> {
  const { rows } = await q.query(
    `INSERT INTO witnesses (name, public_key, key_id) VALUES ($1::text, $2::bytea, $3::bytea)
     RETURNING ${COLUMNS}`,
    [w.name, w.publicKey, w.keyId],
  );
  return toWitness(rows[0]!);
}

/** The registered witness with this name, or null. */
export async function getWitness(q: Queryable, name: string): Promise<Witness | null> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM witnesses WHERE name = $1::text`, [name]);
  return rows[0] ? toWitness(rows[0]) : null;
}

/** Every registered witness, oldest first. */
export async function listWitnesses(q: Queryable): Promise<Witness[]> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM witnesses ORDER BY created_at, name`);
  return rows.map(toWitness);
}
