// What the HTTP benches share: the real service (scripts/start.ts) on a fresh
// PostgreSQL database, parties registered through the API (so every party
// and key is an authority notice in the log, as the monitor expects), and
// the floor server of bench/floor-server.ts in its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, keyId, keyRegistrationBody } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import {
  createTestDatabase,
  dropTestDatabase,
  startServiceOnPostgres,
  type ServiceProcess,
} from '../../tests/support/service-process.js';
import { REPO_ROOT } from '../../tests/support/paths.js';
import { HttpClient } from './load.js';

export const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const GTIN = '00614141000418';

export interface World {
  dbUrl: string;
  service: ServiceProcess;
  client: HttpClient;
  admin: string;
  close(): Promise<void>;
}

/** A fresh database and the service on it; `env` adds to the service's environment. */
export async function startWorld(prefix: string, env: Record<string, string> = {}): Promise<World> {
  const dbUrl = await createTestDatabase(BASE_URL, prefix);
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-bench-'));
  const admin = `bench-admin-${randomBytes(12).toString('hex')}`;
  let service: ServiceProcess;
  try {
    service = await startServiceOnPostgres({
      dbUrl,
      dataDir,
      adminToken: admin,
      masterKey: randomBytes(32),
      env,
    });
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    await dropTestDatabase(BASE_URL, dbUrl).catch(() => {});
    throw err;
  }
  const client = new HttpClient(service.url, { connections: 32 });
  return {
    dbUrl,
    service,
    client,
    admin,
    async close() {
      client.close();
      await service.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await dropTestDatabase(BASE_URL, dbUrl).catch(() => {});
    },
  };
}

export interface BenchParty {
  gln: string;
  token: string;
  /** a client-held key (client-signed POST /v1/records), when asked for */
  seed: Uint8Array;
  kid: string;
}

/** A party with a custodial key, a sign+verify token, and a client-held key, all through the API. */
export async function party(
  w: World,
  gln: string,
  roles: string[],
  prefixes: string[] = [],
): Promise<BenchParty> {
  const admin = { token: w.admin };
  await w.client.json('POST', '/v1/parties', {
    ...admin,
    body: { gln, name: `bench ${gln}`, roles, prefixes },
  });
  await w.client.json('POST', `/v1/parties/${gln}/keys`, { ...admin, body: { custodial: true } });
  const pair = generateKeyPair(nodeBackend);
  await w.client.json('POST', `/v1/parties/${gln}/keys`, {
    ...admin,
    body: keyRegistrationBody(
      gln,
      pair.seed,
      pair.publicKey,
      new Date().toISOString(),
      nodeBackend,
    ),
  });
  const t = await w.client.json<{ token: string }>('POST', `/v1/parties/${gln}/tokens`, {
    ...admin,
    body: { scopes: ['sign', 'verify'] },
  });
  return { gln, token: t.token, seed: pair.seed, kid: keyId(pair.publicKey) };
}

/** The floor server (bench/floor-server.ts) on `dbUrl`, in its own process. */
export async function startFloor(
  dbUrl: string,
): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/floor-server.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * The service's own time for a request, from its request log line (LOG_LEVEL
 * info), in ms; waits up to a second for the line (the service writes its log
 * in batches).
 */
export async function serverTimeOf(service: ServiceProcess, requestId: string): Promise<number> {
  for (let waited = 0; waited < 1000; waited += 25) {
    const ms = loggedTimeOf(service, requestId);
    if (!Number.isNaN(ms)) return ms;
    await new Promise((r) => setTimeout(r, 25));
  }
  return NaN;
}

function loggedTimeOf(service: ServiceProcess, requestId: string): number {
  for (const line of service.stdout().split('\n')) {
    if (!line.includes(requestId)) continue;
    try {
      const l = JSON.parse(line) as { req?: { id?: string }; responseTime?: number };
      if (l.req?.id === requestId && typeof l.responseTime === 'number') return l.responseTime;
    } catch {
      // not a log line
    }
  }
  return NaN;
}
