// The real service process (scripts/start.ts through tsx, as `pnpm start`
// runs it) for tests that must kill it: spawned with a clean environment plus
// the given variables, ready once its banner names the URL. Under Jest every
// response fetched from it is checked against the /openapi.json it serves
// (tests/support/contract.ts `watchOrigin`).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openPg } from '@provenant/store';
import { watchOrigin } from './contract.js';
import { REPO_ROOT } from './paths.js';

/** A fresh PGlite initdb takes seconds, more on a loaded machine. */
export const START_TIMEOUT_MS = 90_000;

export interface ServiceProcess {
  child: ChildProcess;
  /** Where to send requests (127.0.0.1). */
  url: string;
  /** The URL as the banner prints it (localhost). */
  printedUrl: string;
  stdout(): string;
  stderr(): string;
  /** SIGKILL (`kill -9`): no shutdown hook runs. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

/** The inherited environment without anything that would configure the service. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(PROVENANT_|DATABASE_URL$|PORT$|LOG_LEVEL$)/.test(k)) env[k] = v;
  return env;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Resolves with the exit code once `child` has exited. */
export async function exitCodeOf(child: ChildProcess): Promise<number | null> {
  await exited(child);
  return child.exitCode;
}

/** Runs a script of scripts/ with tsx (as `pnpm start` / `pnpm demo` do) in a clean environment. */
export function runScript(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join('scripts', script)], {
    cwd: REPO_ROOT,
    env: { ...cleanEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A fresh, empty database on the PostgreSQL server of `serverUrl`, named
 * `<prefix>_<random>`; returns its URL.
 */
export async function createTestDatabase(serverUrl: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = await openPg(serverUrl, { max: 1 });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.close();
  }
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** Drops a database made by createTestDatabase (its connections are ended). */
export async function dropTestDatabase(serverUrl: string, dbUrl: string): Promise<void> {
  const admin = await openPg(serverUrl, { max: 1 });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${new URL(dbUrl).pathname.slice(1)} WITH (FORCE)`);
  } finally {
    await admin.close();
  }
}

/** What a service on PostgreSQL needs, as the benches start it: no demo, silent. */
export interface PostgresServiceOptions {
  dbUrl: string;
  dataDir: string;
  adminToken: string;
  masterKey: Uint8Array;
  /** more environment (log origin, webhook hosts, ...) */
  env?: Record<string, string>;
}

/**
 * The real service (scripts/start.ts) on a PostgreSQL database, with
 * BENCH_SERVICE_NODE_OPTIONS passed on as NODE_OPTIONS when set (profiling).
 */
export function startServiceOnPostgres(o: PostgresServiceOptions): Promise<ServiceProcess> {
  const nodeOptions = process.env.BENCH_SERVICE_NODE_OPTIONS;
  return startServiceProcess({
    DATABASE_URL: o.dbUrl,
    PROVENANT_MASTER_KEY: Buffer.from(o.masterKey).toString('base64'),
    PROVENANT_DATA_DIR: o.dataDir,
    PROVENANT_DEMO: 'off',
    PROVENANT_ADMIN_TOKEN: o.adminToken,
    LOG_LEVEL: 'silent',
    ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
    ...o.env,
  });
}

/** Starts scripts/start.ts with `env` and waits for the end of its banner. */
export function startServiceProcess(env: Record<string, string>): Promise<ServiceProcess> {
  return startScript('start.ts', env, /listening on http:\/\/localhost:(\d+)[\s\S]*pnpm demo/);
}

/**
 * Starts the standalone verifier (scripts/start-verifier.ts, `pnpm
 * start:verifier`) with `env` and nothing else the service reads (no
 * PROVENANT_MASTER_KEY unless `env` has one), once it says where it listens.
 */
export function startVerifierProcess(env: Record<string, string>): Promise<ServiceProcess> {
  return startScript('start-verifier.ts', env, /verifier listening on http:\/\/localhost:(\d+)/);
}

/** Runs a script of scripts/ with `env` until stdout matches `banner`, whose group 1 is the port. */
async function startScript(
  script: string,
  env: Record<string, string>,
  banner: RegExp,
): Promise<ServiceProcess> {
  const child = runScript(script, { PORT: '0', LOG_LEVEL: 'warn', ...env });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no banner within ${START_TIMEOUT_MS} ms; stderr: ${err}`));
    }, START_TIMEOUT_MS);
    // Once found, stop looking: the log keeps growing, and scanning all of it
    // on every chunk would take a core from whatever drives the service.
    const check = (): void => {
      const m = banner.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', check);
    // 'close', not 'exit': by then stderr has been read to its end.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code ?? signal} before the banner; stderr: ${err}`));
    });
  });
  // 127.0.0.1, not localhost: no IPv6-first lookup on every request.
  const url = `http://127.0.0.1:${port}`;
  await watchOrigin(url);
  await watchOrigin(`http://localhost:${port}`);
  return {
    child,
    url,
    printedUrl: `http://localhost:${port}`,
    stdout: () => out,
    stderr: () => err,
    async kill9() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      await exited(child);
      return child.exitCode;
    },
  };
}
