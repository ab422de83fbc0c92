// Bulk custody operations (DESIGN §8 batch endpoints, all-or-nothing per
// call): `provenant commission`, `ship` and `receive`. Input is checked in
// full before the first call; then batches go one at a time, each either
// entirely in the log or not at all. A refused batch is reported with its
// problem and the command stops: earlier batches stay (they are committed and
// idempotent to re-run past), nothing of the refused batch is written.
//
// Two ways to sign (DESIGN §8): by default the service signs with the party's
// custodial key (POST /v1/commissions, /v1/shipments, /v1/receipts); with
// --key the records are signed here and posted as envelopes (POST /v1/records).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  isCalendarDate,
  isCset82Value,
  isValidGtin14,
  sha256Hex,
  unitSubject,
  type Envelope,
} from '@provenant/core';
import { centuryAt, gs1DateToIso, Gs1Error } from '@provenant/gs1';
import {
  ProvenantError,
  type AppendResult,
  type Chain,
  type ProvenantClient,
} from '@provenant/sdk';
import {
  gln,
  loadKey,
  scanOf,
  subjectScan,
  withCommon,
  type Ctx,
  type LoadedKey,
} from '../common.js';
import { CliError, describeError, EXIT, readText, type Io } from '../io.js';
import { progress } from '../progress.js';
import { action, type ExitState } from '../run.js';
import { MAX_RECORDS_PER_CALL, signOrExplain } from './records.js';

export const DEFAULT_BATCH_SIZE = 1000;

// ---------------------------------------------------------------------------
// Input.

/** Splits one CSV line (RFC 4180 quotes: a serial may hold a comma, CSET 82 allows it). */
export function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((f) => f.trim());
}

export interface CommissionLine {
  line: number;
  gtin: string;
  serial: string;
  lot: string;
  expiry: string;
}

/**
 * Parses units.csv: columns gtin,serial,lot,expiry (a header row naming them
 * may reorder them); expiry YYYY-MM-DD or GS1 YYMMDD (day 00 = month end).
 * Every line is checked before anything is sent; the first bad one is a
 * usage error naming its line and field.
 */
export function parseCommissionCsv(text: string, file: string): CommissionLine[] {
  const lines = text.split(/\r?\n/);
  let cols = { gtin: 0, serial: 1, lot: 2, expiry: 3 };
  let start = 0;
  const first = lines.findIndex((l) => l.trim() !== '');
  if (first >= 0 && /gtin/i.test(lines[first]!)) {
    const names = csvFields(lines[first]!).map((n) => n.toLowerCase());
    const idx = (n: string) => {
      const i = names.indexOf(n);
      if (i < 0) throw new CliError(`${file}: the header row has no "${n}" column`);
      return i;
    };
    cols = { gtin: idx('gtin'), serial: idx('serial'), lot: idx('lot'), expiry: idx('expiry') };
    start = first + 1;
  }
  const out: CommissionLine[] = [];
  const seen = new Map<string, number>();
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const n = i + 1;
    const f = csvFields(raw);
    const bad = (field: string, why: string): never => {
      throw new CliError(`${file}:${n}: ${field} ${why}`, EXIT.USAGE, 'invalid-csv', {
        line: n,
        field,
      });
    };
    const gtin = f[cols.gtin] ?? '';
    const serial = f[cols.serial] ?? '';
    const lot = f[cols.lot] ?? '';
    let expiry = f[cols.expiry] ?? '';
    if (!/^\d{14}$/.test(gtin)) bad('gtin', `${JSON.stringify(gtin)} is not a GTIN-14 (14 digits)`);
    if (!isValidGtin14(gtin)) bad('gtin', `${gtin} has a bad GS1 check digit`);
    if (!isCset82Value(serial))
      bad('serial', `${JSON.stringify(serial)} is not 1-20 characters of GS1 set 82 (AI 21)`);
    if (!isCset82Value(lot))
      bad('lot', `${JSON.stringify(lot)} is not 1-20 characters of GS1 set 82 (AI 10)`);
    if (/^\d{6}$/.test(expiry)) {
      try {
        // GS1 §7.12: the century from the local clock, as the service reads labels.
        expiry = gs1DateToIso(expiry, centuryAt(Date.now()), '17');
      } catch (err) {
        if (err instanceof Gs1Error) bad('expiry', `${expiry}: ${err.message}`);
        throw err;
      }
    }
    if (!isCalendarDate(expiry))
      bad('expiry', `${JSON.stringify(expiry)} is not a date YYYY-MM-DD or YYMMDD`);
    const subject = unitSubject(gtin, serial);
    const dup = seen.get(subject);
    if (dup !== undefined) bad('serial', `${subject} is already on line ${dup}`);
    seen.set(subject, n);
    out.push({ line: n, gtin, serial, lot, expiry });
  }
  if (out.length === 0) throw new CliError(`${file} has no units`);
  return out;
}

/**
 * Subjects from a file (one scan per line, any DESIGN §3 form) or a
 * comma-separated list; each resolved to its canonical subject here, so a bad
 * scan stops the command before anything is sent.
 */
export async function readSubjects(spec: string, what: string): Promise<string[]> {
  const fromFile = existsSync(spec);
  const items = fromFile
    ? (await readText(spec, `${what} file`))
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '')
    : spec
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
  if (items.length === 0) throw new CliError(`${what}: no subjects in ${JSON.stringify(spec)}`);
  const seen = new Set<string>();
  const out: string[] = [];
  items.forEach((item, i) => {
    let subject: string;
    try {
      subject = scanOf(subjectScan(item)).subject;
    } catch (err) {
      if (err instanceof CliError)
        throw new CliError(
          `${what} ${fromFile ? `${spec}:${i + 1}` : `item ${i + 1}`}: ${err.message}`,
          err.exitCode,
          err.code,
          err.details,
        );
      throw err;
    }
    if (!seen.has(subject)) out.push(subject);
    seen.add(subject);
  });
  return out;
}

function batchSizeOf(value: string | undefined, max = MAX_RECORDS_PER_CALL): number {
  if (value === undefined) return DEFAULT_BATCH_SIZE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new CliError(
      `--batch-size must be an integer from 1 to ${max}, got ${JSON.stringify(value)}`,
    );
  return n;
}

// ---------------------------------------------------------------------------
// Batches.

export interface BatchRun<T> {
  ctx: Ctx;
  /** present participle for the bar, past tense for the summary: ['commissioning', 'commissioned'] */
  verbs: [string, string];
  noun: string;
  items: T[];
  batchSize: number;
  /** where item i came from, for messages (a CSV line, a subject) */
  describe: (item: T) => string;
  send: (batch: T[]) => Promise<AppendResult[]>;
  /** extra fields of the JSON summary and lines of the human one */
  extra?: () => { json: Record<string, unknown>; lines: string[] };
  /** what to tell the user to do after a refused batch */
  rerunHint?: string;
}

/** Sends `items` batch by batch; stops at the first refused batch and reports it. */
export async function runBatches<T>(run: BatchRun<T>): Promise<number> {
  const { ctx, items, batchSize } = run;
  const total = items.length;
  const batches = Math.ceil(total / batchSize);
  const bar = progress(ctx.showProgress, run.verbs[0], total);
  const started = Date.now();
  const records: AppendResult[] = [];
  for (let b = 0; b < batches; b++) {
    const batch = items.slice(b * batchSize, (b + 1) * batchSize);
    try {
      records.push(...(await run.send(batch)));
    } catch (err) {
      bar.stop();
      const d = describeError(err);
      const range = `${run.describe(batch[0]!)} .. ${run.describe(batch[batch.length - 1]!)}`;
      const done = b * batchSize;
      const failed = {
        batch: b + 1,
        of: batches,
        first: run.describe(batch[0]!),
        last: run.describe(batch[batch.length - 1]!),
        ...d.json,
      };
      ctx.out.result({
        ok: false,
        [run.verbs[1]]: done,
        records: records.length,
        batches: b,
        failed,
      });
      if (!ctx.out.json) {
        ctx.out.warn(`error: batch ${b + 1} of ${batches} (${range}) failed:`);
        ctx.out.warn(d.message.replace(/^error: /, '  '));
        ctx.out.warn(
          `${done} ${run.noun} of ${b} earlier batch${b === 1 ? '' : 'es'} are in the log; nothing of batch ${b + 1} or later was written.`,
        );
        if (run.rerunHint && b > 0) ctx.out.warn(run.rerunHint);
      }
      return d.exitCode;
    }
    bar.increment(batch.length);
  }
  bar.stop();
  const seconds = (Date.now() - started) / 1000;
  const extra = run.extra?.() ?? { json: {}, lines: [] };
  ctx.out.result({
    ok: true,
    [run.verbs[1]]: total,
    records: records.length,
    batches,
    seconds,
    ...extra.json,
  });
  ctx.out.line(
    `${run.verbs[1]} ${total} ${run.noun} in ${batches} batch${batches === 1 ? '' : 'es'} of up to ${batchSize} (${records.length} records, ${seconds.toFixed(1)} s)`,
  );
  for (const l of extra.lines) ctx.out.line(l);
  return EXIT.OK;
}

// ---------------------------------------------------------------------------
// Non-custodial helpers: the next record of each chain, signed here.

/** Runs `fn` over `items` with at most `limit` in flight, results in order. */
async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface Head {
  seq: number;
  id: string;
  type: string;
  data: unknown;
}

/** The head (last record) of each subject's chain, from GET /v1/chains/{subject}. */
async function headsOf(client: ProvenantClient, subjects: readonly string[]): Promise<Head[]> {
  return mapLimit(subjects, 8, async (s) => {
    let chain: Chain;
    try {
      chain = await client.getChain(s);
    } catch (err) {
      if (err instanceof ProvenantError && err.status === 404)
        throw new CliError(
          `${s} has no chain (not commissioned?)`,
          EXIT.REFUSED,
          'chain-not-found',
        );
      throw err;
    }
    const head = chain.records.reduce((a, r) => (r.seq > a.seq ? r : a), chain.records[0]!);
    if (!head) throw new CliError(`${s} has an empty chain`, EXIT.REFUSED, 'chain-not-found');
    return { seq: head.seq, id: head.id, type: head.type, data: head.data };
  });
}

function signNext(
  key: LoadedKey,
  actor: string,
  time: string,
  subject: string,
  head: Head,
  type: 'ship' | 'receive',
  data: Record<string, unknown>,
): Envelope {
  return signOrExplain(
    { v: 1, subject, seq: head.seq + 1, prev: head.id, type, actor, kid: key.kid, time, data },
    key.seed,
    subject,
  );
}

// ---------------------------------------------------------------------------
// Commands.

interface KeyOpts {
  key?: string;
  party?: string;
  batchSize?: string;
}

export function registerBulkCommands(program: Command, io: Io, state: ExitState): void {
  const signingOptions = (cmd: Command) =>
    cmd
      .option(
        '--key <file>',
        'sign here with this key file (non-custodial) instead of the service’s custodial key',
      )
      .option('--party <gln>', 'your party GLN (the actor; needed with --key)')
      .option(
        '--batch-size <n>',
        `subjects per call, all-or-nothing (default ${DEFAULT_BATCH_SIZE}, at most ${MAX_RECORDS_PER_CALL})`,
      );

  const signer = async (opts: KeyOpts): Promise<{ key: LoadedKey; actor: string } | null> => {
    if (opts.key === undefined) return null;
    return { key: await loadKey(opts.key), actor: gln(opts.party, '--party (with --key)') };
  };

  withCommon(
    signingOptions(
      program
        .command('commission')
        .description(
          'Commission serialized units from a CSV file (columns gtin,serial,lot,expiry) in batches',
        )
        .requiredOption(
          '--csv <file>',
          'units.csv: gtin,serial,lot,expiry (header row optional; expiry YYYY-MM-DD or YYMMDD)',
        ),
    ),
    'provenant commission --csv units.csv --token $PROVENANT_TOKEN',
  ).action(
    action<KeyOpts & { csv: string }>(io, state, async (ctx, _args, opts) => {
      const units = parseCommissionCsv(await readText(opts.csv, 'CSV file'), opts.csv);
      const batchSize = batchSizeOf(opts.batchSize);
      const local = await signer(opts);
      const client = ctx.client();
      return runBatches({
        ctx,
        verbs: ['commissioning', 'commissioned'],
        noun: 'units',
        items: units,
        batchSize,
        describe: (u) => `line ${u.line}`,
        rerunHint: local
          ? 'Fix the line and re-run with only the lines after the batches in the log.'
          : 'Fix the line and re-run the same command: the batches in the log are answered from their stored result, not written twice.',
        send: async (batch) => {
          if (!local) {
            const items = batch.map(({ gtin, serial, lot, expiry }) => ({
              gtin,
              serial,
              lot,
              expiry,
            }));
            // The key is the batch's own digest, so a re-run after a failure (or a lost answer)
            // replays the batches already committed (DESIGN §8 Idempotency-Key) instead of
            // refusing them as already commissioned. Safe: a unit is commissioned only once.
            const body = { items };
            const idempotencyKey = `provenant-commission-${sha256Hex(JSON.stringify(body))}`;
            return (await client.commission(body, { idempotencyKey })).records;
          }
          const time = ctx.io.now().toISOString();
          const envelopes = batch.map((u) =>
            signOrExplain(
              {
                v: 1,
                subject: unitSubject(u.gtin, u.serial),
                seq: 0,
                prev: null,
                type: 'commission',
                actor: local.actor,
                kid: local.key.kid,
                time,
                data: { gtin: u.gtin, serial: u.serial, lot: u.lot, expiry: u.expiry },
              },
              local.key.seed,
              `${opts.csv}:${u.line}`,
            ),
          );
          return (await client.submitRecords(envelopes)).records;
        },
      });
    }),
  );

  withCommon(
    signingOptions(
      program
        .command('ship')
        .description('Ship subjects (units or SSCCs) to a party under a shipment id, in batches')
        .requiredOption(
          '--subjects <file|list>',
          'a file with one scan per line, or a comma-separated list',
        )
        .requiredOption('--to <gln>', 'the receiving party')
        .requiredOption('--shipment <id>', 'shipment id (ASN / DESADV number)'),
    ),
    'provenant ship --subjects pallet.txt --to 0614141000012 --shipment ASN-1001 --token $PROVENANT_TOKEN',
  ).action(
    action<KeyOpts & { subjects: string; to: string; shipment: string }>(
      io,
      state,
      async (ctx, _args, opts) => {
        const to = gln(opts.to, '--to');
        const subjects = await readSubjects(opts.subjects, '--subjects');
        const batchSize = batchSizeOf(opts.batchSize);
        const local = await signer(opts);
        const client = ctx.client();
        return runBatches({
          ctx,
          verbs: ['shipping', 'shipped'],
          noun: 'subjects',
          items: subjects,
          batchSize,
          describe: (s) => s,
          send: async (batch) => {
            if (!local)
              return (await client.ship({ subjects: batch, to, shipment: opts.shipment })).records;
            const heads = await headsOf(client, batch);
            const time = ctx.io.now().toISOString();
            const envelopes = batch.map((s, i) =>
              signNext(local.key, local.actor, time, s, heads[i]!, 'ship', {
                to,
                shipment: opts.shipment,
              }),
            );
            return (await client.submitRecords(envelopes)).records;
          },
          extra: () => ({
            json: { shipment: opts.shipment, to },
            lines: [`shipment ${opts.shipment} to ${to}`],
          }),
        });
      },
    ),
  );

  withCommon(
    signingOptions(
      program
        .command('receive')
        .description(
          'Receive a shipment: the scanned subjects, reconciled against what was shipped',
        )
        .requiredOption('--shipment <id>', 'shipment id')
        .requiredOption('--from <gln>', 'the shipping party')
        .requiredOption(
          '--scanned <file|list>',
          'a file with one scan per line, or a comma-separated list',
        )
        .option('--condition <ok|damaged>', 'condition of the goods', 'ok'),
    ),
    'provenant receive --shipment ASN-1001 --from 0614141000005 --scanned scans.txt --token $PROVENANT_TOKEN',
  ).action(
    action<KeyOpts & { shipment: string; from: string; scanned: string; condition: string }>(
      io,
      state,
      async (ctx, _args, opts) => {
        const from = gln(opts.from, '--from');
        if (opts.condition !== 'ok' && opts.condition !== 'damaged')
          throw new CliError(
            `--condition must be ok or damaged, got ${JSON.stringify(opts.condition)}`,
          );
        const condition = opts.condition;
        const scanned = await readSubjects(opts.scanned, '--scanned');
        const local = await signer(opts);
        // Custodial receipts reconcile the whole shipment per call (DESIGN §7), so one call
        // takes every scan unless the shipment is over the batch limit.
        const batchSize = local
          ? batchSizeOf(opts.batchSize)
          : batchSizeOf(opts.batchSize ?? String(MAX_RECORDS_PER_CALL));
        if (!local && scanned.length > batchSize)
          ctx.out.warn(
            `warning: ${scanned.length} scans in batches of ${batchSize}: each batch is reconciled on its own (missing counts are per batch)`,
          );
        const client = ctx.client();
        const counts = { scanned: 0, inferred: 0, missing: 0, unexpected: 0, received: 0 };
        const problems: { subject: string; status: string }[] = [];
        return runBatches({
          ctx,
          verbs: ['receiving', 'received'],
          noun: 'scans',
          items: scanned,
          batchSize,
          describe: (s) => s,
          send: async (batch) => {
            if (!local) {
              const r = await client.receive({
                shipment: opts.shipment,
                from,
                scanned: batch,
                condition,
              });
              for (const k of Object.keys(counts) as (keyof typeof counts)[])
                counts[k] += r.counts[k];
              for (const u of r.units)
                if (u.status === 'missing' || u.status === 'unexpected')
                  problems.push({ subject: u.subject, status: u.status });
              return r.records;
            }
            const heads = await headsOf(client, batch);
            batch.forEach((s, i) => {
              const h = heads[i]!;
              const d = h.data as { to?: unknown; shipment?: unknown } | null;
              if (h.type !== 'ship' || d?.shipment !== opts.shipment)
                throw new CliError(
                  `${s}: its last record is ${h.type}${h.type === 'ship' ? ` of shipment ${String(d?.shipment)}` : ''}, not the ship of ${opts.shipment}`,
                  EXIT.REFUSED,
                  'not-shipped',
                );
            });
            const time = ctx.io.now().toISOString();
            const envelopes = batch.map((s, i) =>
              signNext(local.key, local.actor, time, s, heads[i]!, 'receive', {
                from,
                shipment: opts.shipment,
                condition,
              }),
            );
            const records = (await client.submitRecords(envelopes)).records;
            counts.scanned += batch.length;
            counts.received += records.length;
            return records;
          },
          extra: () => ({
            json: { shipment: opts.shipment, from, counts, discrepancies: problems },
            lines: [
              `shipment ${opts.shipment} from ${from}: ${counts.received} received, ${counts.scanned} scanned, ${counts.inferred} inferred, ${counts.missing} missing, ${counts.unexpected} unexpected`,
              ...problems.slice(0, 20).map((p) => `  ${p.status}: ${p.subject}`),
              ...(problems.length > 20
                ? [`  … and ${problems.length - 20} more (see --json)`]
                : []),
            ],
          }),
        });
      },
    ),
  );
}
