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

/** What a hot standby's WAL receiver says of the server it streams from. */
export interface WalSender {
  host: string | null;
  port: number | null;
}

/**
 * The primary's URL: `replicaUrl` (its user, password, database and options)
 * with the WAL sender's host and port. Null when that cannot be a TCP address
 * (no sender, a Unix socket directory) or `replicaUrl` is not a URL.
 */
export function primaryUrlFrom(sender: WalSender, replicaUrl: string): string | null {
  const { host, port } = sender;
  if (!host || !port || host.startsWith('/')) return null;
  let url: URL;
  try {
    url = new URL(replicaUrl);
  } catch {
    return null;
  }
  url.hostname = host.includes(':') ? `[${host}]` : host;
  url.port = String(port);
  return url.toString();
}

/**
 * The primary a hot standby streams from (pg_stat_wal_receiver), so a verifier
 * given only the standby's DATABASE_URL (DESIGN §7b) knows where its own rows
 * go. Null when the standby does not say: not streaming, or a role that may
 * not read the receiver's details (superuser or pg_read_all_stats).
 */
export async function primaryUrlOf(replica: Database, replicaUrl: string): Promise<string | null> {
  const { rows } = await replica.query<{ host: string | null; port: number | null }>(
    'SELECT sender_host AS host, sender_port AS port FROM pg_stat_wal_receiver',
  );
  return rows[0] ? primaryUrlFrom(rows[0], replicaUrl) : null;
}
