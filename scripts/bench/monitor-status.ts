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
async function getStatus(client: HttpClient, token?: string): ReturnType<HttpClient['send']> {
  const opts = token ? { token } : {};
  try {
    return await client.send('GET', '/v1/verifier', opts);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ECONNRESET') throw err;
    return client.send('GET', '/v1/verifier', opts);
  }
}

/**
 * `token`: poll as that principal. Anonymous polls share the per-address rate
 * limit (600 a minute): a bench sampling every 25 ms meets it and reads 429 as
 * "no monitor".
 */
export async function monitorStatus(
  client: HttpClient,
  token?: string,
): Promise<MonitorStatus | null> {
  const r = await getStatus(client, token);
  if (r.status === 404) return null;
  if (r.status !== 200)
    throw new Error(`GET /v1/verifier: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  const b = JSON.parse(r.text) as Partial<MonitorStatus>;
  return typeof b.verifiedSize === 'number' &&
    typeof b.logSize === 'number' &&
    typeof b.lagSeconds === 'number'
    ? (b as MonitorStatus)
    : null;
}

/**
 * Waits (at most `timeoutMs`) until the monitor has verified the whole log;
 * false on timeout or no monitor. Polls as `token` (the benches pass the
 * admin's): anonymous polls meet the per-address limit.
 */
export async function monitorCaughtUp(
  client: HttpClient,
  timeoutMs: number,
  token: string,
): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    // An error answer (a 429 to anonymous polls, say) is asked again until the timeout.
    const s = await monitorStatus(client, token).catch(() => undefined);
    if (s === null) return false;
    if (s && s.verifiedSize >= s.logSize) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
