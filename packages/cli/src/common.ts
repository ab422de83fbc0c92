// What every command shares: --server (env PROVENANT_URL), --token (env
// PROVENANT_TOKEN), --json, the API client, key files and scan parsing.
import { Option, type Command } from 'commander';
import { ProvenantClient, readKeyFile, SigningError } from '@provenant/sdk';
import { centuryAt, Gs1Error, parseScan, type ScanResult } from '@provenant/gs1';
import { isValidGln } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { CliError, EXIT, Output, readJson, type Io } from './io.js';

export const DEFAULT_SERVER = 'http://localhost:8080';

export interface CommonOptions {
  server?: string;
  token?: string;
  json?: boolean;
}

/** Adds --server, --token and --json, and an example to the help. */
export function withCommon(cmd: Command, example: string): Command {
  return cmd
    .addOption(
      new Option('--server <url>', `API base URL (default ${DEFAULT_SERVER})`).env('PROVENANT_URL'),
    )
    .addOption(new Option('--token <token>', 'bearer token of your party').env('PROVENANT_TOKEN'))
    .option('--json', 'print one JSON document for machines instead of text')
    .addHelpText('after', `\nExample:\n  ${example}\n`);
}

/** Runtime of one command: its options, output and (lazily) the API client. */
export class Ctx {
  readonly out: Output;
  private clientInstance: ProvenantClient | undefined;
  constructor(
    readonly io: Io,
    readonly opts: CommonOptions,
  ) {
    this.out = new Output(io, opts.json === true);
  }

  get server(): string {
    return this.opts.server ?? DEFAULT_SERVER;
  }

  /** The API client; fails with a usage error when the URL is malformed. */
  client(needToken = true): ProvenantClient {
    if (needToken && !this.opts.token)
      throw new CliError(
        'a token is needed: pass --token or set PROVENANT_TOKEN',
        EXIT.USAGE,
        'no-token',
      );
    if (!/^https?:\/\/[^/]/i.test(this.server))
      throw new CliError(`--server must be an http(s) URL, got ${JSON.stringify(this.server)}`);
    this.clientInstance ??= new ProvenantClient({ baseUrl: this.server, token: this.opts.token });
    return this.clientInstance;
  }

  /** Progress bars only for people: not under --json, only on a terminal. */
  get showProgress(): boolean {
    return !this.out.json && this.io.stderrIsTty;
  }
}

/** A loaded signing key (the seed never leaves this process). */
export interface LoadedKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  kid: string;
  /** optional `name` in the file (witness keys) */
  name?: string;
}

/** Reads a key file written by `provenant keygen`. */
export async function loadKey(path: string): Promise<LoadedKey> {
  const value = await readJson(path, 'key file');
  try {
    const key = readKeyFile(value, nodeBackend);
    const name = (value as { name?: unknown }).name;
    return typeof name === 'string' ? { ...key, name } : key;
  } catch (err) {
    if (err instanceof SigningError)
      throw new CliError(`${path}: ${err.message}`, EXIT.USAGE, 'invalid-key');
    throw err;
  }
}

/**
 * A subject input as parseScan reads it: a canonical subject (`01/…/21/…`,
 * `00/…`) becomes a Digital Link path and a bare 18-digit SSCC (the label's
 * human-readable line) the element string (00).
 */
export function subjectScan(item: string): string {
  if (/^0[01]\//.test(item)) return `https://id.gs1.org/${item}`;
  if (/^\d{18}$/.test(item)) return `(00)${item}`;
  return item;
}

/**
 * Parses a scan (any DESIGN §3 form; GS is 0x1D, or use the bracketed form); a
 * bad one is a usage error naming the GS1 rule. Two-digit years follow the GS1
 * §7.12 window around the local clock's year, as the service reads them.
 */
export function scanOf(input: string, now: number = Date.now()): ScanResult {
  try {
    return parseScan(input, centuryAt(now));
  } catch (err) {
    if (err instanceof Gs1Error)
      throw new CliError(
        `bad scan: ${err.message} (${err.code}${err.ai ? `, AI ${err.ai}` : ''})`,
        EXIT.USAGE,
        'bad-scan',
        { gs1: { code: err.code, ...(err.ai ? { ai: err.ai } : {}), message: err.message } },
      );
    throw err;
  }
}

/** A GLN option value: 13 digits with a valid GS1 check digit (DESIGN §3). */
export function gln(value: string | undefined, what: string): string {
  if (value === undefined) throw new CliError(`${what} is required (a GLN)`);
  if (!/^\d{13}$/.test(value))
    throw new CliError(`${what} must be a GLN (13 digits), got ${JSON.stringify(value)}`);
  if (!isValidGln(value)) throw new CliError(`${what} ${value} has a bad GS1 check digit`);
  return value;
}
