// `provenant trust export` (DESIGN §7 pinned keys): writes the trust file a
// dock pins — the log's verifier key, the registry authority key, the
// verifier key, the registered witnesses (GET /v1/witnesses) with the
// `witnessQuorum` a checkpoint needs, and `maxCheckpointAgeSeconds` — in
// core's `Trust` shape plus `verifierKey`. Fetching it is trust on first use:
// compare the printed keys with the operator's out of band before pinning.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_MAX_CHECKPOINT_AGE_SECONDS,
  isVerifierKeyOf as isVkey,
  parseVerifierKey,
  rawKey32 as key32,
  toBase64Url,
  trustProblem,
  withTrustDefaults,
  type TrustFile,
  type TrustWitness,
} from '@provenant/core';
import { ProvenantError } from '@provenant/sdk';
import { withCommon } from '../common.js';
import { CliError, EXIT, readJson, writeFileAtomic, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

// The trust file's shape and checks are core's (trust-file.ts): the verifier reads the same file.
export { DEFAULT_MAX_CHECKPOINT_AGE_SECONDS, trustProblem, withTrustDefaults, type TrustFile };

/** `{name, publicKey}` of a witness as the server lists it or as a `--witness` vkey names it. */
function witnessEntry(w: { name: string; publicKey: string } | string): TrustWitness {
  if (typeof w === 'string') {
    const k = parseVerifierKey(w);
    return { name: k.name, publicKey: toBase64Url(k.publicKey) };
  }
  if (key32(w.publicKey) === null) {
    // A registry that serves the C2SP vkey form: keep just the raw key.
    try {
      return { name: w.name, publicKey: toBase64Url(parseVerifierKey(w.publicKey).publicKey) };
    } catch {
      // left as served: trustProblem names it
    }
  }
  return { name: w.name, publicKey: w.publicKey };
}

/** Reads and checks a trust file, with defaults for absent fields. @throws CliError naming the bad field. */
export async function readTrust(path: string): Promise<TrustFile> {
  const value = await readJson(path, 'trust file');
  const problem = trustProblem(value);
  if (problem) throw new CliError(`trust file ${path}: ${problem}`, EXIT.USAGE, 'invalid-trust');
  return withTrustDefaults(value as TrustFile);
}

/** A non-negative integer option, or its default. @throws CliError naming the flag. */
function count(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value))
    throw new CliError(`${flag} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(value);
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
      .option(
        '--witness <vkey...>',
        'more trusted witness verifier keys (cosignature/v1), besides those the server registered',
      )
      .option(
        '--witness-quorum <n>',
        'distinct trusted witnesses that must cosign a bundle checkpoint offline (default 0)',
      )
      .option(
        '--max-age <seconds>',
        'oldest checkpoint accepted offline, CHECKPOINT_STALE beyond (default 86400)',
      ),
    'provenant trust export --out trust.json --server https://provenant.example',
  ).action(
    action<{
      out: string;
      authorityKey?: string;
      witness?: string[];
      witnessQuorum?: string;
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
      let registered: { name: string; publicKey: string }[] = [];
      try {
        registered = (await client.getWitnesses()).witnesses;
      } catch (err) {
        // A server without the witness registry: no witnesses to pin.
        if (!(err instanceof ProvenantError && err.status === 404)) throw err;
      }
      const given = opts.witness ?? [];
      if (!given.every((k) => isVkey(k, 'cosignature/v1')))
        throw new CliError('--witness must be C2SP verifier keys of type cosignature/v1');
      const file: TrustFile = {
        logKey: log.vkey,
        authorityKey,
        witnesses: [...registered, ...given].map(witnessEntry),
        witnessQuorum: count(opts.witnessQuorum, '--witness-quorum', 0),
        maxCheckpointAgeSeconds: count(
          opts.maxAge,
          '--max-age',
          DEFAULT_MAX_CHECKPOINT_AGE_SECONDS,
        ),
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
      for (const w of file.witnesses ?? [])
        ctx.out.line(`witness        ${typeof w === 'string' ? w : `${w.name} ${w.publicKey}`}`);
      ctx.out.line(
        `witness quorum ${file.witnessQuorum}; bundles older than ${file.maxCheckpointAgeSeconds} s are stale`,
      );
      ctx.out.line('compare these keys with your operator’s before relying on the file');
    }),
  );
}
