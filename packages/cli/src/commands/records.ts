// `provenant sign` and `provenant submit` (DESIGN §4 envelopes, §8 non-custodial
// signing, §8a POST /v1/records): records are signed on this machine and only
// the envelopes travel.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { envelopeSchema, type Envelope } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';
import { envelopeRecordId, signRecord, SigningError, type AppendResult } from '@provenant/sdk';
import { loadKey, withCommon } from '../common.js';
import { CliError, EXIT, readJson, writeFileAtomic, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';

/** Most envelopes one POST /v1/records takes (DESIGN §8 batch limit). */
export const MAX_RECORDS_PER_CALL = 10_000;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Signs one record value with a loaded key; SigningError becomes a usage error naming each rule. */
export function signOrExplain(record: unknown, seed: Uint8Array, where: string): Envelope {
  try {
    return signRecord(record, seed, nodeBackend);
  } catch (err) {
    if (err instanceof SigningError)
      throw new CliError(
        `${where}: ${err.message}`,
        EXIT.USAGE,
        err.code.toLowerCase().replace(/_/g, '-'),
        {
          issues: err.issues,
        },
      );
    throw err;
  }
}

/** The envelopes in one file: an envelope, an array of them, or `{envelopes: [...]}`. */
function envelopesIn(value: unknown, file: string): Envelope[] {
  const list = Array.isArray(value)
    ? value
    : isObject(value) && Array.isArray(value['envelopes'])
      ? value['envelopes']
      : [value];
  return list.map((e, i) => {
    const r = envelopeSchema.safeParse(e);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new CliError(
        `${file}${list.length > 1 ? `[${i}]` : ''} is not a DSSE envelope: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
        EXIT.USAGE,
        'invalid-envelope',
      );
    }
    return r.data as Envelope;
  });
}

export function registerRecordCommands(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('sign')
      .description(
        'Sign a record (JSON, DESIGN §5) into a DSSE envelope with your key; kid and time are filled in when absent',
      )
      .argument(
        '<record.json>',
        'the record: {v, subject, seq, prev, type, actor, data} (kid, time optional)',
      )
      .requiredOption('--key <file>', 'key file from `provenant keygen`')
      .option('--out <file>', 'write the envelope to this file instead of stdout'),
    'provenant sign ship.json --key key.json > ship.envelope.json',
  ).action(
    action<{ key: string; out?: string }>(io, state, async (ctx, [file], opts) => {
      const record = await readJson(file!, 'record');
      if (!isObject(record)) throw new CliError(`${file} must hold a JSON object (one record)`);
      const key = await loadKey(opts.key);
      // Conveniences, then the full schema check in signRecord: v, kid and time default sensibly.
      const filled = {
        v: 1,
        ...record,
        kid: record['kid'] ?? key.kid,
        time: record['time'] ?? ctx.io.now().toISOString(),
      };
      const envelope = signOrExplain(filled, key.seed, file!);
      const id = envelopeRecordId(envelope);
      const text = `${JSON.stringify(envelope, null, 2)}\n`;
      if (opts.out) {
        const path = resolve(opts.out);
        await writeFileAtomic(path, text);
        ctx.out.result({ id, file: path, envelope });
        ctx.out.line(`signed record ${id} -> ${path}`);
      } else if (ctx.out.json) ctx.out.result({ id, envelope });
      else {
        // The envelope is the product: stdout carries exactly it, the id goes to stderr.
        io.stdout(text);
        io.stderr(`record id ${id}\n`);
      }
    }),
  );

  withCommon(
    program
      .command('submit')
      .description('Submit signed envelopes to the log (POST /v1/records, all-or-nothing)')
      .argument(
        '<envelope.json...>',
        'files holding an envelope, an array of them or {envelopes: [...]}',
      ),
    'provenant submit commission.envelope.json ship.envelope.json --token $PROVENANT_TOKEN',
  ).action(
    action<object>(io, state, async (ctx, files) => {
      const envelopes: Envelope[] = [];
      for (const f of files) envelopes.push(...envelopesIn(await readJson(f, 'envelope file'), f));
      if (envelopes.length === 0) throw new CliError('no envelopes to submit');
      if (envelopes.length > MAX_RECORDS_PER_CALL)
        throw new CliError(
          `${envelopes.length} envelopes: at most ${MAX_RECORDS_PER_CALL} per submission (split them, or use the bulk commands)`,
        );
      const client = ctx.client();
      const records: AppendResult[] =
        envelopes.length === 1
          ? [await client.submitRecord(envelopes[0])]
          : (await client.submitRecords(envelopes)).records;
      ctx.out.result({ records });
      for (const r of records)
        ctx.out.line(
          `accepted ${r.subject} seq ${r.seq}  id ${r.id}  log index ${r.receipt.index}`,
        );
    }),
  );
}
