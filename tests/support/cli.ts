// The `provenant` command as the tests drive it: spawned from source through
// tsx (no build needed) for the end-to-end flows, or in this process (the
// same `main` the bin runs) for the secondary checks, and a temp dir of real
// files beside a real server listening on a port.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '@provenant/cli';
import { REPO_ROOT } from './paths.js';

// tsx by absolute URL, so a child may run in another working directory.
const TSX = pathToFileURL(join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const BIN = ['--import', TSX, join(REPO_ROOT, 'packages/cli/src/bin.ts')];

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `provenant args...` as a child process (in the repository root unless
 * `cwd`). PROVENANT_URL and PROVENANT_TOKEN are not inherited unless `env`
 * sets them.
 */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  cwd = REPO_ROOT,
): Promise<Run> {
  // The repository's tsconfig paths (workspace sources, no build needed) from any working directory.
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    TSX_TSCONFIG_PATH: join(REPO_ROOT, 'tsconfig.json'),
    ...env,
  };
  for (const k of ['PROVENANT_URL', 'PROVENANT_TOKEN']) if (!(k in env)) delete childEnv[k];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...BIN, ...args], { cwd, env: childEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Runs the CLI in this process (same program, no spawn, an empty environment),
 * with a clock of the test's choosing: for the secondary checks, so a file
 * stays fast; the end-to-end flows spawn real processes.
 */
export async function inproc(args: string[], now: () => Date = () => new Date()): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'provenant', ...args], {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    stderrIsTty: false,
    env: {},
    now,
  });
  return { code, stdout, stderr };
}

/** A run's --json document; a run that printed something else fails with its output. */
export function json(run: Run): Record<string, unknown> {
  try {
    return JSON.parse(run.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`not JSON (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

/** Listens on a free port of 127.0.0.1; resolves to the server's URL. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** Closes a server with its open connections (nothing to do when it never listened). */
export function close(server: Server | undefined): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

export interface Served {
  server: Server;
  /** The server's URL, http://127.0.0.1:<port>. */
  url: string;
  /** A fresh temp dir for the file's CLI runs. */
  dir: string;
  /** Closes the server (unless closed already) and removes the dir. */
  close(): Promise<void>;
}

/** Serves `app` on a free port of 127.0.0.1, beside a fresh temp dir named after `prefix`. */
export async function serve(app: RequestListener, prefix: string): Promise<Served> {
  const server = createServer(app);
  const url = await listen(server);
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    server,
    url,
    dir,
    async close() {
      await close(server);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
