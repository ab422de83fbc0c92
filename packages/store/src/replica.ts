// A verifier on a streaming replica (DESIGN §7b, §10): it follows the log and
// registry from the replica, while its own rows (verifications, cases,
// rate-limit counts, its monitor state) live where writes go, the primary.
import type { Database } from './driver.js';

const READ_ONLY = /^\s*(SELECT|WITH)\b/i;
const WRITES =
  /\b(INSERT|UPDATE|DELETE|FOR\s+(NO\s+KEY\s+)?UPDATE|FOR\s+(KEY\s+)?SHARE|nextval|pg_advisory\w*)\b/i;
/** The verifier's own tables: read where they are written, never from the lagging copy. */
const OWN_TABLES =
  /\b(verifier_\w+|verifications|verification_idempotency|cases|case_numbers|rate_limits|idempotency_keys|webhook_\w+)\b/i;

/** True for a statement the replica may answer: one plain read of the log or registry. */
export function readsFromReplica(text: string): boolean {
  return READ_ONLY.test(text) && !WRITES.test(text) && !OWN_TABLES.test(text);
}

/**
 * A Database whose plain reads of the log and registry (one SELECT, outside a
 * transaction) go to `replica`, and everything else (writes, transactions,
 * scripts, reads of the verifier's own tables) to `writable`. close() closes both.
 */
export function replicaDatabase(replica: Database, writable: Database): Database {
  return {
    kind: 'pg',
    query: (text, params) => (readsFromReplica(text) ? replica : writable).query(text, params),
    exec: (text) => writable.exec(text),
    transaction: (fn, opts) => writable.transaction(fn, opts),
    close: async () => {
      await replica.close();
      await writable.close();
    },
  };
}

/** True when the database is a hot standby (it takes no writes). */
export async function isReadReplica(db: Database): Promise<boolean> {
  const { rows } = await db.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
  return rows[0]?.r === true;
}
