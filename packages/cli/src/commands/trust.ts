// `provenant trust export` (DESIGN §7 pinned keys): writes the trust file a
// dock pins — the log's verifier key, the registry authority key, the
// verifier key and optional witnesses — in core's `Trust` shape plus
// `verifierKey`. Fetching it is trust on first use: compare the printed keys
// with the operator's out of band before pinning.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { fromBase64Url, parseVerifierKey, type Trust } from '@provenant/core';
import { ProvenantError, verifierKeyBytes } from '@provenant/sdk';
import { withCommon } from '../common.js';
import { CliError, EXIT, readJson, writeFileAtomic, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

/** A trust file: core's Trust, plus the verifier's receipt key and where it came from. */
export interface TrustFile extends Trust {
  verifierKey?: string;
  origin?: string;
  server?: string;
}

function isB64url32(s: unknown): boolean {
  return typeof s === 'string' && fromBase64Url(s)?.length === 32;
}

function isVkey(s: unknown, type: 'ed25519' | 'cosignature/v1'): boolean {
  try {
    return typeof s === 'string' && parseVerifierKey(s).type === type;
  } catch {
    return false;
  }
}

/**
 * Why a trust value is unusable, or null. The trust file is local
 * configuration, but still checked strictly: a typo must not turn a check off.
 */
export function trustProblem(v: unknown): string | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be a JSON object';
  const t = v as Record<string, unknown>;
  if (!isVkey(t['logKey'], 'ed25519')) return 'logKey must be a C2SP verifier key of type Ed25519';
  if (!isB64url32(t['authorityKey'])) return 'authorityKey must be base64url of a 32-byte key';
  const w = t['witnesses'];
  if (w !== undefined && !(Array.isArray(w) && w.every((k) => isVkey(k, 'cosignature/v1'))))
    return 'witnesses must be C2SP verifier keys of type cosignature/v1';
  const min = t['minWitnesses'];
  if (
    min !== undefined &&
    !(
      Number.isInteger(min) &&
      (min as number) >= 0 &&
      (min as number) <= ((w as unknown[] | undefined)?.length ?? 0)
    )
  )
    return 'minWitnesses must be an integer from 0 to the number of witnesses';
  const age = t['maxCheckpointAgeSeconds'];
  if (age !== undefined && !(typeof age === 'number' && Number.isFinite(age) && age >= 0))
    return 'maxCheckpointAgeSeconds must be a non-negative number';
  if (t['verifierKey'] !== undefined && !verifierKeyBytes(t['verifierKey'] as string))
    return 'verifierKey must be base64 of a 32-byte key';
  for (const k of ['origin', 'server'])
    if (t[k] !== undefined && typeof t[k] !== 'string') return `${k} must be a string`;
  return null;
}

/** Reads and checks a trust file. @throws CliError naming the bad field. */
export async function readTrust(path: string): Promise<TrustFile> {
  const value = await readJson(path, 'trust file');
  const problem = trustProblem(value);
  if (problem) throw new CliError(`trust file ${path}: ${problem}`, EXIT.USAGE, 'invalid-trust');
  return value as TrustFile;
}

export function registerTrustCommands(program: Command, io: Io, state: ExitState): void {
  const trust = program
    .command('trust')
    .description('Trust files: the keys a dock pins for offline verification')
    .addHelpText(
      'after',
      '\nExample:\n  provenant trust export --out trust.json --server https://provenant.example\n',
    );
  withCommon(
    trust
      .command('export')
      .description(
        'Fetch the log, authority and verifier keys into a trust file (compare them out of band)',
      )
      .requiredOption('--out <file>', 'trust file to write')
      .option(
        '--authority-key <base64url>',
        'the registry authority public key, when the server does not publish it',
      )
      .option('--witness <vkey...>', 'trusted witness verifier keys (cosignature/v1)')
      .option(
        '--min-witnesses <n>',
        'witness cosignatures a checkpoint needs (default 1 when witnesses are given)',
      )
      .option(
        '--max-age <seconds>',
        'oldest checkpoint accepted offline (CHECKPOINT_STALE beyond)',
      ),
    'provenant trust export --out trust.json --server https://provenant.example',
  ).action(
    action<{
      out: string;
      authorityKey?: string;
      witness?: string[];
      minWitnesses?: string;
      maxAge?: string;
    }>(io, state, async (ctx, _args, opts) => {
      const client = ctx.client(false);
      const log = await client.getLogInfo();
      const served = log.authorityKey;
      if (served !== undefined && opts.authorityKey !== undefined && served !== opts.authorityKey)
        throw new CliError(
          `--authority-key differs from the key ${ctx.server} publishes (${served}); refusing to pin either`,
        );
      const authorityKey = opts.authorityKey ?? served;
      if (authorityKey === undefined)
        throw new CliError(
          `${ctx.server} does not publish the registry authority key (GET /v1/log has no authorityKey); pass --authority-key <base64url> as given by the operator`,
        );
      let verifierKey: string | undefined;
      try {
        verifierKey = (await client.getVerifierKey()).publicKey;
      } catch (err) {
        // No verifier service behind this URL: the trust file simply has no verifierKey.
        if (!(err instanceof ProvenantError && err.status === 404)) throw err;
      }
      const file: TrustFile = {
        logKey: log.vkey,
        authorityKey,
        ...(opts.witness && opts.witness.length > 0 ? { witnesses: opts.witness } : {}),
        ...(opts.minWitnesses !== undefined ? { minWitnesses: Number(opts.minWitnesses) } : {}),
        ...(opts.maxAge !== undefined ? { maxCheckpointAgeSeconds: Number(opts.maxAge) } : {}),
        ...(verifierKey !== undefined ? { verifierKey } : {}),
        origin: log.origin,
        server: ctx.server,
      };
      const problem = trustProblem(file);
      if (problem) throw new CliError(`cannot pin: ${problem}`);
      const path = resolve(opts.out);
      await writeFileAtomic(path, `${JSON.stringify(file, null, 2)}\n`);
      ctx.out.result({ file: path, trust: file });
      ctx.out.line(`wrote ${path}`);
      ctx.out.line(`log key        ${file.logKey}`);
      ctx.out.line(
        `authority key  ${file.authorityKey}${served === undefined ? ' (from --authority-key)' : ''}`,
      );
      ctx.out.line(`verifier key   ${verifierKey ?? '(no verifier at this server)'}`);
      for (const w of file.witnesses ?? []) ctx.out.line(`witness        ${w}`);
      ctx.out.line('compare these keys with your operator’s before relying on the file');
    }),
  );
}
