// A PostgreSQL 15 hot standby for tests (DESIGN §10): a streaming replica of
// the primary at PROVENANT_TEST_DATABASE_URL, made with `pg_basebackup -R`
// by Debian's binaries into a temporary directory, started with pg_ctl on
// 127.0.0.1 on a free port. As root (CI) the binaries run as the `postgres`
// OS user. The primary must accept replication connections from 127.0.0.1:
// when its pg_hba has no such line, one (`host replication all 127.0.0.1/32
// trust`, like its other lines) is appended and the configuration reloaded,
// through the file when this process may write it, else as superuser through
// `COPY ... TO PROGRAM`. stop() stops the standby and removes its directory.
import { execFile } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openPg, replicaDatabase, type Database } from '@provenant/store';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 binaries (PROVENANT_PG_BIN overrides). */
export const PG_BIN = process.env.PROVENANT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

const REPLICATION_LINE = 'host replication all 127.0.0.1/32 trust';

export interface Standby {
  port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` */
  urlOf(database: string): string;
  /** Stops WAL replay (the standby still receives WAL): replication lag on demand. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the standby has replayed everything the primary had written when called. */
  catchUp(timeoutMs?: number): Promise<void>;
  /** Stops the standby (immediate) and removes its directory. */
  stop(): Promise<void>;
}

/** One SQL statement on a short-lived connection. */
async function sql<R = Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  const db = await openPg(url, { max: 1 });
  try {
    return (await db.query<R>(text, params)).rows;
  } finally {
    await db.close();
  }
}

/** argv run as the `postgres` OS user when this process is root (PostgreSQL refuses root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0
    ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]]
    : [cmd, args];
}

async function pgBinary(name: string, args: string[], timeout = 120_000): Promise<string> {
  const [cmd, argv] = asPostgres(join(PG_BIN, name), args);
  try {
    const { stdout } = await run(cmd, argv, { timeout });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${name} failed: ${e.stderr || e.message}`, { cause: err });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function allowsLocalReplication(url: string): Promise<boolean> {
  const rows = await sql<{ n: string }>(
    url,
    `SELECT count(*)::text AS n FROM pg_hba_file_rules
     WHERE error IS NULL AND type IN ('host', 'hostnossl') AND 'replication' = ANY(database)
       AND (address IN ('all', 'samehost', '127.0.0.1') OR address IS NULL)`,
  );
  return Number(rows[0]!.n) > 0;
}

/**
 * Makes sure the primary takes replication connections from 127.0.0.1 (see
 * the file comment); a no-op when it already does.
 * @throws Error when it still does not after the change.
 */
export async function ensureReplicationAllowed(primaryUrl: string): Promise<void> {
  if (await allowsLocalReplication(primaryUrl)) return;
  const [{ hba_file: hba }] = await sql<{ hba_file: string }>(primaryUrl, 'SHOW hba_file');
  let writable = true;
  try {
    accessSync(hba!, constants.W_OK);
  } catch {
    writable = false;
  }
  if (writable) appendFileSync(hba!, `\n${REPLICATION_LINE}\n`);
  else {
    if (!/^[\w./-]+$/.test(hba!)) throw new Error(`unexpected hba_file path ${hba}`);
    await sql(
      primaryUrl,
      `COPY (SELECT l FROM (VALUES (1, ''), (2, '${REPLICATION_LINE}')) AS v(i, l) ORDER BY i)
       TO PROGRAM 'cat >> ${hba}'`,
    );
  }
  await sql(primaryUrl, 'SELECT pg_reload_conf()');
  for (let i = 0; i < 50; i++) {
    if (await allowsLocalReplication(primaryUrl)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the primary still refuses replication from 127.0.0.1 after editing ${hba}`);
}

/**
 * Starts a hot standby of the primary server that `primaryUrl` points at
 * (any database on it; the whole cluster is copied).
 * @throws Error when a binary is missing or the standby does not start.
 */
export async function startStandby(primaryUrl: string): Promise<Standby> {
  if (!existsSync(join(PG_BIN, 'pg_basebackup')))
    throw new Error(`no PostgreSQL binaries in ${PG_BIN} (set PROVENANT_PG_BIN)`);
  const primary = new URL(primaryUrl);
  await ensureReplicationAllowed(primaryUrl);

  const dir = await mkdtemp(join(tmpdir(), 'provenant-standby-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const port = await freePort();
  const local = `postgres://postgres@127.0.0.1:${port}`;
  let started = false;
  const stop = async (): Promise<void> => {
    if (started)
      await pgBinary('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop'], 60_000).catch(
        () => {},
      );
    started = false;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // A busy shared server may cut the replication stream (another client's
    // administrator command): a base backup is retried, from scratch, twice.
    for (let attempt = 1; ; attempt++) {
      try {
        await pgBinary('pg_basebackup', [
          '-h',
          primary.hostname,
          '-p',
          primary.port || '5432',
          '-U',
          decodeURIComponent(primary.username) || 'postgres',
          '-D',
          data,
          '-R', // standby.signal and primary_conninfo
          '-X',
          'stream',
          '-c',
          'fast', // do not wait for a spread checkpoint
          '--no-sync',
        ]);
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
        await rm(data, { recursive: true, force: true });
      }
    }
    // Debian keeps postgresql.conf and pg_hba.conf in /etc: the copy has neither.
    // A hot standby needs these limits at least as high as the primary's.
    const limits = await sql<{ name: string; setting: string }>(
      primaryUrl,
      `SELECT name, setting FROM pg_settings WHERE name IN ('max_connections',
        'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
        'max_locks_per_transaction')`,
    );
    await writeFile(
      join(data, 'postgresql.conf'),
      [
        `listen_addresses = '127.0.0.1'`,
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        `hot_standby = on`,
        `shared_buffers = 32MB`,
        `fsync = off`,
        ...limits.map((l) => `${l.name} = ${l.setting}`),
        '',
      ].join('\n'),
    );
    await writeFile(
      join(data, 'pg_hba.conf'),
      'local all all trust\nhost all all 127.0.0.1/32 trust\n',
    );
    await writeFile(join(data, 'pg_ident.conf'), '');
    if (process.getuid?.() === 0) await run('chown', ['-R', 'postgres:postgres', data]);
    started = true;
    await pgBinary('pg_ctl', [
      '-D',
      data,
      '-l',
      join(dir, 'standby.log'),
      '-w',
      '-t',
      '90',
      'start',
    ]);
    const [row] = await sql<{ r: boolean }>(`${local}/postgres`, 'SELECT pg_is_in_recovery() AS r');
    if (!row?.r) throw new Error('the copy is not in recovery: not a standby');
  } catch (err) {
    await stop();
    throw err;
  }

  const onStandby = (text: string) => sql(`${local}/postgres`, text);
  return {
    port,
    urlOf: (database) => `${local}/${database}`,
    async pauseReplay() {
      await onStandby('SELECT pg_wal_replay_pause()');
      for (let i = 0; i < 100; i++) {
        const [s] = await sql<{ s: string }>(
          `${local}/postgres`,
          'SELECT pg_get_wal_replay_pause_state() AS s',
        );
        if (s?.s === 'paused') return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('replay did not pause');
    },
    async resumeReplay() {
      await onStandby('SELECT pg_wal_replay_resume()');
    },
    async catchUp(timeoutMs = 120_000) {
      const [{ lsn }] = await sql<{ lsn: string }>(
        primaryUrl,
        'SELECT pg_current_wal_lsn()::text AS lsn',
      );
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const [r] = await sql<{ ok: boolean }>(
          `${local}/postgres`,
          'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok',
          [lsn],
        );
        if (r?.ok) return;
        if (Date.now() > deadline) throw new Error(`standby did not replay up to ${lsn}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop,
  };
}

/**
 * A Database whose plain reads of the log and registry go to the standby and
 * everything else to the primary (the store's replicaDatabase, which `pnpm
 * start:verifier` uses with PROVENANT_VERIFIER_STATE_URL). close() closes the
 * standby handle only: the primary belongs to the test's issuer.
 */
export function readsFromStandby(primary: Database, standby: Database): Database {
  const routed = replicaDatabase(standby, primary);
  return { ...routed, close: () => standby.close() };
}
