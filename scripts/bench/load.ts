// The benches' load generator: keep-alive HTTP/1.1 over node:http (one
// socket per connection, optionally from another loopback source address so
// two clients are two addresses to the server), and a closed loop of N
// connections for a fixed time. The raw floor and the service are driven by
// the same code, so their ratio compares servers, not clients.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class HttpClient {
  private readonly agent: Agent;
  private readonly url: URL;

  /** `localAddress`: e.g. 127.0.0.2, so the server sees another client address. */
  constructor(base: string, opts: { connections?: number; localAddress?: string } = {}) {
    this.url = new URL(base);
    this.agent = new Agent({
      keepAlive: true,
      maxSockets: opts.connections ?? 16,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
    });
  }

  send(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers: {
            ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
            ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}),
            ...opts.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text: Buffer.concat(chunks).toString('utf8'),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** JSON of a 2xx answer; throws with the status and the start of the body otherwise. */
  async json<T = unknown>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<T> {
    const r = await this.send(method, path, opts);
    if (r.status < 200 || r.status >= 300)
      throw new Error(`${method} ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
    return (r.text.length > 0 ? JSON.parse(r.text) : null) as T;
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * A closed loop: `connections` workers each call `one()` back to back until
 * `seconds` have passed or `one` returns false (out of work). Latencies in ms,
 * sorted, and the rate over the wall time.
 */
export async function closedLoop(
  connections: number,
  seconds: number,
  one: () => Promise<boolean>,
): Promise<{ latencies: number[]; perSecond: number; seconds: number }> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        if (!(await one())) return;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  return {
    latencies: latencies.sort((a, b) => a - b),
    perSecond: latencies.length / wall,
    seconds: wall,
  };
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  ]!;
}

/** The machine's 1-minute load average, for the caveat printed beside figures. */
export async function loadAverage(): Promise<string> {
  const { loadavg, cpus } = await import('node:os');
  return `load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores`;
}
