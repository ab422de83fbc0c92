// GET /v1/verifier as the benches read it (DESIGN §7b): the monitor's
// verified size, the log size and the lag in seconds; null while the route or
// those fields do not exist (no monitor built), so a section can print "not
// available" instead of failing.
import { performance } from 'node:perf_hooks';
import type { HttpClient } from './load.js';

export interface MonitorStatus {
  verifiedSize: number;
  logSize: number;
  lagSeconds: number;
}

/** One GET; once more when the keep-alive socket it reused had just been closed by the server. */
async function getStatus(client: HttpClient): ReturnType<HttpClient['send']> {
  try {
    return await client.send('GET', '/v1/verifier');
  } catch (err) {
    if ((err as { code?: string }).code !== 'ECONNRESET') throw err;
    return client.send('GET', '/v1/verifier');
  }
}

export async function monitorStatus(client: HttpClient): Promise<MonitorStatus | null> {
  const r = await getStatus(client);
  if (r.status !== 200) return null;
  const b = JSON.parse(r.text) as Partial<MonitorStatus>;
  return typeof b.verifiedSize === 'number' &&
    typeof b.logSize === 'number' &&
    typeof b.lagSeconds === 'number'
    ? (b as MonitorStatus)
    : null;
}

/** Waits (at most `timeoutMs`) until the monitor has verified the whole log; false on timeout or no monitor. */
export async function monitorCaughtUp(client: HttpClient, timeoutMs = 120_000): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const s = await monitorStatus(client);
    if (!s) return false;
    if (s.verifiedSize >= s.logSize) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
