// `provenant keygen` and `provenant register-key` (DESIGN §4 keys, §8a
// POST /v1/parties/{gln}/keys): the seed is generated here and stays here.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { encodeVerifierKey, fromBase64Url, isValidNoteName } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { generateKey } from '@provenant/sdk';
import { gln, loadKey, withCommon } from '../common.js';
import { CliError, writeNewFile, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

export function registerKeyCommands(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('keygen')
      .description('Generate an Ed25519 signing key into a file readable only by you (mode 0600)')
      .requiredOption('--out <file>', 'key file to create (never overwritten)')
      .option('--name <name>', 'note name, for a witness key (used by `provenant witness`)'),
    'provenant keygen --out key.json',
  ).action(
    action<{ out: string; name?: string }>(io, state, async (ctx, _args, opts) => {
      if (opts.name !== undefined && !isValidNoteName(opts.name))
        throw new CliError(
          `--name ${JSON.stringify(opts.name)} is not a valid note name (no spaces or "+")`,
        );
      const key = generateKey(nodeBackend);
      const file = {
        seed: key.seed,
        publicKey: key.publicKey,
        kid: key.kid,
        ...(opts.name !== undefined ? { name: opts.name } : {}),
      };
      key.seedBytes.fill(0);
      // DESIGN §8: the private key never leaves the machine; only its owner may read the file.
      const path = resolve(opts.out); // reported absolute: the user sees where the key landed
      await writeNewFile(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
      const witnessVkey =
        opts.name !== undefined
          ? encodeVerifierKey(opts.name, fromBase64Url(key.publicKey)!, 'cosignature/v1')
          : undefined;
      ctx.out.result({
        file: path,
        kid: key.kid,
        publicKey: key.publicKey,
        ...(witnessVkey ? { witnessKey: witnessVkey } : {}),
      });
      ctx.out.line(`wrote ${path} (mode 0600)`);
      ctx.out.line(`kid        ${key.kid}`);
      ctx.out.line(`public key ${key.publicKey}`);
      if (witnessVkey) ctx.out.line(`witness verifier key ${witnessVkey}`);
    }),
  );

  withCommon(
    program
      .command('register-key')
      .description(
        "Register your key file's public key for your party (POST /v1/parties/{gln}/keys)",
      )
      .requiredOption('--key <file>', 'key file from `provenant keygen`')
      .requiredOption('--party <gln>', 'your party GLN'),
    'provenant register-key --key key.json --party 0614141000005 --token $PROVENANT_TOKEN',
  ).action(
    action<{ key: string; party: string }>(io, state, async (ctx, _args, opts) => {
      const party = gln(opts.party, '--party');
      const key = await loadKey(opts.key);
      // DESIGN §5: the key proves possession (the SDK signs the proof with the seed locally).
      const res = await ctx.client().registerKey(party, { seed: key.seed });
      ctx.out.result({ party, kid: res.kid, publicKey: res.publicKey });
      ctx.out.line(`registered key ${res.kid} for party ${party}`);
    }),
  );
}
