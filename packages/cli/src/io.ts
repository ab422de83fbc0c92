// Exit codes, errors and input/output of the `provenant` command. Human
// output goes to stdout, progress and diagnostics to stderr; --json prints
// exactly one JSON document on stdout (errors included) for machines.
import { chmod, open, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import { ProvenantError } from '@provenant/sdk';

/** Exit codes (issue 5): verdicts for `verify`, alarm for `witness`, 3 for usage and I/O. */
export const EXIT = {
  OK: 0,
  /** verify: quarantine; other commands: the server refused the request. */
  QUARANTINE: 1,
  REFUSED: 1,
  /** verify: reject; witness: the log is inconsistent or its checkpoint is not signed by the pinned key. */
  REJECT: 2,
  ALARM: 2,
  /** Usage error, unreadable or invalid input file, network failure. */
  USAGE: 3,
} as const;

/** An error the CLI reports and exits with. `problem` is printed under --json. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
    readonly code: string = 'usage',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** Where the command writes; injectable so the program can run in-process. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Progress bars only on an interactive stderr. */
  stderrIsTty: boolean;
  env: Record<string, string | undefined>;
  now: () => Date;
}

export function processIo(): Io {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stderrIsTty: process.stderr.isTTY === true,
    env: process.env,
    now: () => new Date(),
  };
}

/** Reads a text file; a missing or unreadable file is a usage error naming it. */
export async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.USAGE,
      'io',
    );
  }
}

/** Reads and parses a JSON file (the contents are untrusted: callers validate them). */
export async function readJson(path: string, what: string): Promise<unknown> {
  const text = await readText(path, what);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(
      `${what} ${path} is not valid JSON: ${(err as Error).message}`,
      EXIT.USAGE,
      'invalid-json',
    );
  }
}

/**
 * Writes a file atomically (temp file + rename in the same directory), so a
 * crash never leaves half a key, bundle or witness state behind.
 */
export async function writeFileAtomic(path: string, data: string, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, mode);
    await rename(tmp, path);
  } catch (err) {
    throw new CliError(
      `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      EXIT.USAGE,
      'io',
    );
  }
}

/** Writes a new file that must not exist yet (keys are never overwritten silently). */
export async function writeNewFile(path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFile(path, data, { mode, flag: 'wx' });
    await chmod(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'EEXIST'
        ? `${path} already exists; refusing to overwrite it`
        : `cannot write ${path}: ${code ?? (err as Error).message}`,
      EXIT.USAGE,
      'io',
    );
  }
}

/** Prints either a JSON document (--json) or human lines. */
export class Output {
  constructor(
    private readonly io: Io,
    readonly json: boolean,
  ) {}

  /** Human text (suppressed under --json). */
  line(text = ''): void {
    if (!this.json) this.io.stdout(`${text}\n`);
  }

  /** The one JSON document of a --json run. */
  result(value: unknown): void {
    if (this.json) this.io.stdout(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A diagnostic on stderr (both modes). */
  warn(text: string): void {
    this.io.stderr(`${text}\n`);
  }
}

/** Renders any failure for people: the problem's title, detail, field errors and reasons. */
export function describeError(err: unknown): {
  message: string;
  exitCode: number;
  json: Record<string, unknown>;
} {
  if (err instanceof CliError)
    return {
      message: err.message,
      exitCode: err.exitCode,
      json: { error: { code: err.code, message: err.message, ...(err.details ?? {}) } },
    };
  if (err instanceof ProvenantError) {
    const lines = [
      err.status === 0
        ? `error: ${err.detail ?? err.title}`
        : `error: the server refused ${err.request ?? 'the request'}: ${err.status} ${err.title}${err.detail ? ` — ${err.detail}` : ''}`,
    ];
    for (const e of err.errors ?? []) lines.push(`  ${e.path}: ${e.message} (${e.rule})`);
    for (const r of err.reasons ?? [])
      lines.push(`  ${r.code}${r.message ? `: ${r.message}` : ''}`);
    if (err.type && err.status !== 0) lines.push(`  (${err.type})`);
    return {
      message: lines.join('\n'),
      // No answer at all (network) is an I/O error; an answer is a refusal.
      exitCode: err.status === 0 ? EXIT.USAGE : EXIT.REFUSED,
      json: { error: { code: err.code, message: err.message, problem: err.problem } },
    };
  }
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    message: `error: ${message}`,
    exitCode: EXIT.USAGE,
    json: { error: { code: typeof code === 'string' ? code : 'error', message } },
  };
}
