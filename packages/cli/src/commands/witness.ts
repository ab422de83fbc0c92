// `provenant witness` (DESIGN §6: "a log never signs two inconsistent
// checkpoints"; C2SP tlog-witness practice): fetch the latest checkpoint,
// verify it with the PINNED log key, prove it consistent with the last
// checkpoint this witness saw, and only then cosign it (tlog-cosignature/v1)
// and post the cosignature. On a bad signature, a shrinking log, a fork or a
// failing consistency proof it refuses, alarms (exit 2) and keeps its state,
// so the evidence (the old checkpoint) is not overwritten.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  bytesEqual,
  cosignCheckpoint,
  encodeVerifierKey,
  fromHex,
  isValidNoteName,
  parseVerifierKey,
  toHex,
  verifyCheckpoint,
  verifyConsistency,
  type Checkpoint,
  type NoteVerifierKey,
} from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { loadKey, withCommon, type Ctx } from '../common.js';
import { CliError, EXIT, readText, writeFileAtomic, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';
import { readTrust } from './trust.js';

const CHECKPOINT_FILE = 'checkpoint';
const LOG_KEY_FILE = 'log.vkey';
const WITNESS_KEY_FILE = 'witness.vkey';

/** The log misbehaved: exit 2, state untouched. */
class Alarm extends CliError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super(`ALARM: ${message}`, EXIT.ALARM, 'alarm', details);
  }
}

function parseLogKey(vkey: string, where: string): NoteVerifierKey {
  try {
    const k = parseVerifierKey(vkey.trim());
    if (k.type !== 'ed25519') throw new Error('not an Ed25519 key');
    return k;
  } catch (err) {
    throw new CliError(`${where}: not a log verifier key (${(err as Error).message})`);
  }
}

/** The pinned log key: the state dir's, else the trust file's / --log-key (then pinned in the state dir). */
async function pinnedLogKey(
  state: string,
  opts: { trust?: string; logKey?: string },
): Promise<{ vkey: string; key: NoteVerifierKey; fresh: boolean }> {
  const given = opts.logKey ?? (opts.trust ? (await readTrust(opts.trust)).logKey : undefined);
  const path = join(state, LOG_KEY_FILE);
  if (existsSync(path)) {
    const vkey = (await readText(path, 'pinned log key')).trim();
    if (given !== undefined && given.trim() !== vkey)
      throw new CliError(
        `the log key given differs from the one pinned in ${path}; refusing to re-pin (remove the state to start over)`,
      );
    return { vkey, key: parseLogKey(vkey, path), fresh: false };
  }
  if (given === undefined)
    throw new CliError(
      'no pinned log key: pass --trust <trust.json> or --log-key <vkey> on the first run',
    );
  return {
    vkey: given.trim(),
    key: parseLogKey(given, opts.logKey ? '--log-key' : 'trust file logKey'),
    fresh: true,
  };
}

/** The last checkpoint this witness verified, if any. */
async function previousCheckpoint(
  state: string,
  key: NoteVerifierKey,
): Promise<{ note: string; cp: Checkpoint } | null> {
  const path = join(state, CHECKPOINT_FILE);
  if (!existsSync(path)) return null;
  const note = await readText(path, 'saved checkpoint');
  const v = verifyCheckpoint(note, key, { backend: nodeBackend });
  if (!v.ok)
    throw new CliError(
      `the saved checkpoint ${path} does not verify (${v.detail}); the state is damaged`,
    );
  return { note, cp: v.checkpoint };
}

async function witness(ctx: Ctx, opts: WitnessOpts): Promise<number> {
  const dir = resolve(opts.state); // reported absolute
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot create state dir ${dir}: ${err.code ?? err.message}`);
  });
  const pinned = await pinnedLogKey(dir, opts);
  const key = await loadKey(opts.key);
  const name = opts.name ?? key.name ?? `provenant-witness-${key.kid.slice(0, 8)}`;
  if (!isValidNoteName(name))
    throw new CliError(`witness name ${JSON.stringify(name)} is not a valid note name`);
  const witnessVkey = encodeVerifierKey(name, key.publicKey, 'cosignature/v1');
  const prev = await previousCheckpoint(dir, pinned.key);
  const client = ctx.client(false);

  // 1. The checkpoint must be signed by the pinned log key (and name the same log).
  const note = await client.getCheckpoint();
  const v = verifyCheckpoint(note, pinned.key, {
    backend: nodeBackend,
    ...(prev ? { origin: prev.cp.origin } : {}),
  });
  if (!v.ok)
    throw new Alarm(
      `the checkpoint from ${ctx.server} does not verify with the pinned log key: ${v.code} (${v.detail})`,
      { check: v.code },
    );
  const cp = v.checkpoint;
  const root = toHex(cp.rootHash);

  // 2. It must extend the last checkpoint seen (RFC 9162 §2.1.4 consistency).
  if (prev) {
    const old = prev.cp;
    if (cp.size < old.size)
      throw new Alarm(`the log shrank from size ${old.size} to ${cp.size}`, {
        previousSize: old.size,
        size: cp.size,
      });
    if (cp.size === old.size) {
      if (!bytesEqual(cp.rootHash, old.rootHash))
        throw new Alarm(
          `two different roots for size ${cp.size}: ${toHex(old.rootHash)} and ${root} (a fork)`,
          {
            size: cp.size,
            previousRoot: toHex(old.rootHash),
            root,
          },
        );
    } else if (old.size > 0) {
      const proof = await client.getConsistencyProof({ from: old.size, to: cp.size });
      const hashes = proof.proof.map((h) => fromHex(h));
      // The proof is server-controlled: its sizes and hashes are checked before use.
      const wellFormed =
        proof.from === old.size &&
        proof.to === cp.size &&
        hashes.every((h): h is Uint8Array => h !== null && h.length === 32);
      const r = wellFormed
        ? verifyConsistency(old.size, cp.size, hashes as Uint8Array[], old.rootHash, cp.rootHash)
        : {
            ok: false as const,
            code: 'MALFORMED_PROOF',
            detail: 'the proof is not for these sizes or holds a bad hash',
          };
      if (!r.ok)
        throw new Alarm(
          `the checkpoint of size ${cp.size} is not consistent with the one of size ${old.size} this witness saw: ${r.code} (${r.detail})`,
          { previousSize: old.size, size: cp.size, previousRoot: toHex(old.rootHash), root },
        );
    }
  }

  // 3. Cosign what the log signed, post it, then remember it.
  const timestamp = Math.floor(ctx.io.now().getTime() / 1000);
  const line = cosignCheckpoint(note, { name, seed: key.seed }, timestamp, nodeBackend);
  const posted = await client.addCosignature({
    witness: witnessVkey,
    cosignature: line,
    size: cp.size,
  });
  if (pinned.fresh) await writeFileAtomic(join(dir, LOG_KEY_FILE), `${pinned.vkey}\n`);
  await writeFileAtomic(join(dir, WITNESS_KEY_FILE), `${witnessVkey}\n`);
  await writeFileAtomic(join(dir, CHECKPOINT_FILE), note);

  ctx.out.result({
    ok: true,
    origin: cp.origin,
    size: cp.size,
    rootHash: toHex(cp.rootHash),
    previousSize: prev?.cp.size ?? null,
    witness: name,
    witnessKey: witnessVkey,
    stored: posted.stored,
    state: dir,
  });
  ctx.out.line(
    `checkpoint ${cp.origin} size ${cp.size} verified${prev ? ` and consistent with size ${prev.cp.size}` : ' (first checkpoint seen: pinned)'}`,
  );
  ctx.out.line(
    `cosigned as ${name}${posted.stored ? '' : ' (cosignature already stored)'}; state saved in ${dir}`,
  );
  return EXIT.OK;
}

interface WitnessOpts {
  state: string;
  key: string;
  name?: string;
  trust?: string;
  logKey?: string;
}

export function registerWitnessCommand(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('witness')
      .description(
        'Check the log never forked: verify the latest checkpoint and its consistency with the last one seen, then cosign it (exit 2 = alarm)',
      )
      .requiredOption('--state <dir>', 'witness state: pinned log key and last checkpoint seen')
      .requiredOption('--key <file>', 'witness key file (`provenant keygen --name <name>`)')
      .option('--name <name>', 'witness name in cosignatures (default: the key file’s name)')
      .option('--trust <file>', 'trust file whose logKey to pin on the first run')
      .option('--log-key <vkey>', 'log verifier key to pin on the first run'),
    'provenant witness --state ./witness --key witness-key.json --trust trust.json',
  ).action(action<WitnessOpts>(io, state, (ctx, _args, opts) => witness(ctx, opts)));
}
