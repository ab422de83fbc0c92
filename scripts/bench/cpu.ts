// CPU time of the processes a bench drives, from /proc (Linux): the service,
// the PostgreSQL backends serving a database, the bench itself. Wall-clock
// rates swing with the machine's load; CPU per operation says where it went.
import { readFileSync } from 'node:fs';
import { openPg } from '@provenant/store';

/** CPU milliseconds (user + system) a process has used, from /proc; NaN where there is none. */
export function processCpuMs(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

/** CPU ms of every PostgreSQL backend connected to `dbUrl`'s database now, by pid (the snapshot's own excluded). */
export async function backendCpuMs(dbUrl: string): Promise<Map<number, number>> {
  const db = await openPg(dbUrl, { max: 1 });
  try {
    const { rows } = await db.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return new Map(rows.map((r) => [r.pid, processCpuMs(r.pid)]));
  } finally {
    await db.close();
  }
}

/** CPU ms the backends used between two snapshots (a backend that appeared counts from zero). */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, t] of after) if (Number.isFinite(t)) ms += t - (before.get(pid) ?? 0);
  return ms;
}

/** CPU ms this process (the bench, its load generator) has used. */
export function ownCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
