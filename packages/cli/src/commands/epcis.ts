// `provenant epcis capture` and `provenant epcis events` (DESIGN §11): send an
// EPCISDocument as a capture job and follow it to the end (progress on
// stderr, a per-event error report, non-zero exit on any error), and export
// every page of a query into one document.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type {
  CaptureJob,
  EpcFormat,
  EpcisEventJson,
  EpcisEventsParams,
  EpcisQueryDocument,
} from '@provenant/sdk';
import { withCommon } from '../common.js';
import { CliError, EXIT, readJson, writeFileAtomic, type Io } from '../io.js';
import { progress, type Progress } from '../progress.js';
import { action, type ExitState } from '../run.js';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The number of events of an EPCISDocument (or EPCISQueryDocument) read from `file`. */
function eventCount(doc: unknown, file: string): number {
  const body = isObject(doc) ? doc['epcisBody'] : undefined;
  const results = isObject(body) ? body['queryResults'] : undefined;
  const list = isObject(body)
    ? Array.isArray(body['eventList'])
      ? body['eventList']
      : isObject(results) && isObject(results['resultsBody'])
        ? results['resultsBody']['eventList']
        : undefined
    : undefined;
  if (!isObject(doc) || !Array.isArray(list)) {
    throw new CliError(`${file} is not an EPCIS document (no epcisBody.eventList)`);
  }
  return list.length;
}

/**
 * Moves `bar` along a polled job: to its processedCount while it runs (a
 * server that reports none leaves the bar until the end), to `total` once it
 * finished. Never moves back.
 */
export function captureProgress(bar: Progress, total: number): (job: CaptureJob) => void {
  let shown = 0;
  return (job) => {
    const processed = typeof job.processedCount === 'number' ? job.processedCount : 0;
    const done = job.running ? Math.min(total, processed) : total;
    if (done <= shown) return;
    bar.increment(done - shown);
    shown = done;
  };
}

/** Lines of the per-event error report of a finished job. */
export function captureReport(job: CaptureJob): string[] {
  return job.errors.map((e) => {
    const reasons = (e.reasons ?? [])
      .map((r) => `${r.code}${typeof r['field'] === 'string' ? ` at ${r['field']}` : ''}`)
      .join(', ');
    const id = e.eventID ? ` ${e.eventID}` : '';
    const type = e.type.replace(/^urn:provenant:problem:/, '');
    return `  event ${e.eventIndex}${id}: ${type}: ${e.detail}${reasons ? ` [${reasons}]` : ''}`;
  });
}

const list = (value: string, previous: string[] = []) => [...previous, value];

interface EventsOptions {
  epc?: string[];
  parent?: string[];
  anyEpc?: string[];
  eventType?: string[];
  bizStep?: string[];
  from?: string;
  to?: string;
  perPage?: string;
  format?: EpcFormat;
  forCapture?: boolean;
  out?: string;
}

function paramsOf(opts: EventsOptions): EpcisEventsParams {
  const p: EpcisEventsParams = {};
  if (opts.epc) p.MATCH_epc = opts.epc;
  if (opts.parent) p.MATCH_parentID = opts.parent;
  if (opts.anyEpc) p.MATCH_anyEPC = opts.anyEpc;
  if (opts.eventType) p.eventType = opts.eventType;
  if (opts.bizStep) p.EQ_bizStep = opts.bizStep;
  if (opts.from) p.GE_eventTime = opts.from;
  if (opts.to) p.LT_eventTime = opts.to;
  const perPage = opts.perPage ?? '1000';
  if (!/^\d+$/.test(perPage)) throw new CliError(`--per-page must be a number, got ${perPage}`);
  p.perPage = Number(perPage);
  return p;
}

/**
 * The export: one EPCISQueryDocument holding every page's events and
 * records, or, with `forCapture`, an EPCISDocument another instance captures
 * (its events keep their eventIDs; provenant:records rides along).
 */
export function exportDocument(
  first: EpcisQueryDocument | undefined,
  events: EpcisEventJson[],
  records: Record<string, string[]>,
  creationDate: string,
  forCapture: boolean,
): Record<string, unknown> {
  const context = first?.['@context'] ?? [
    'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld',
  ];
  const head = {
    '@context': context,
    type: forCapture ? 'EPCISDocument' : 'EPCISQueryDocument',
    schemaVersion: '2.0',
    creationDate,
    'provenant:records': records,
  };
  return forCapture
    ? { ...head, epcisBody: { eventList: events } }
    : {
        ...head,
        epcisBody: {
          queryResults: { queryName: 'SimpleEventQuery', resultsBody: { eventList: events } },
        },
      };
}

export function registerEpcisCommands(program: Command, io: Io, state: ExitState): void {
  const epcis = program
    .command('epcis')
    .description('EPCIS 2.0: capture documents and export events (DESIGN §11)');

  withCommon(
    epcis
      .command('capture')
      .description(
        'Capture an EPCISDocument as a job (POST /epcis/capture) and follow it; exits 1 if any event fails',
      )
      .argument('<file>', 'an EPCISDocument (JSON-LD)')
      .addOption(
        new Option(
          '--error-behaviour <b>',
          'rollback: all or nothing; proceed: keep the good events',
        )
          .choices(['rollback', 'proceed'])
          .default('rollback'),
      )
      .option('--interval <ms>', 'how often to poll the job', '250'),
    'provenant epcis capture shipment.jsonld --token $PROVENANT_TOKEN',
  ).action(
    action<{ errorBehaviour: 'rollback' | 'proceed'; interval: string }>(
      io,
      state,
      async (ctx, [file], opts) => {
        const doc = await readJson(file!, 'EPCIS document');
        const total = eventCount(doc, file!);
        const interval = Number(opts.interval);
        if (!Number.isFinite(interval) || interval < 10)
          throw new CliError('--interval is at least 10 ms');
        const client = ctx.client();
        const { captureID } = await client.epcis.capture(doc, {
          errorBehaviour: opts.errorBehaviour,
        });
        ctx.out.line(`capture job ${captureID}: ${total} events (${opts.errorBehaviour})`);
        const bar = progress(ctx.showProgress, 'capture', total);
        let job: CaptureJob;
        try {
          job = await client.epcis.waitForJob(captureID, {
            intervalMs: interval,
            onPoll: captureProgress(bar, total),
          });
        } finally {
          bar.stop();
        }
        ctx.out.result(job);
        const failed = job.success !== true || job.errors.length > 0;
        if (!failed) {
          ctx.out.line(`captured ${total} events`);
          return EXIT.OK;
        }
        const kept =
          opts.errorBehaviour === 'proceed'
            ? `${total - job.errors.length} captured, `
            : 'nothing captured, ';
        ctx.out.line(`capture failed: ${kept}${job.errors.length} event(s) refused`);
        for (const line of captureReport(job)) ctx.out.line(line);
        return EXIT.REFUSED;
      },
    ),
  );

  withCommon(
    epcis
      .command('events')
      .description(
        'Export the events you may see (GET /epcis/events, every page) into one document',
      )
      .option(
        '--epc <epc>',
        'MATCH_epc: an EPC (URN or Digital Link) or urn:epc:idpat:sgtin:…*; repeatable',
        list,
      )
      .option('--parent <epc>', 'MATCH_parentID; repeatable', list)
      .option('--any-epc <epc>', 'MATCH_anyEPC; repeatable', list)
      .option('--event-type <type>', 'eventType; repeatable', list)
      .option('--biz-step <step>', 'EQ_bizStep; repeatable', list)
      .option('--from <time>', 'GE_eventTime (dateTime with zone)')
      .option('--to <time>', 'LT_eventTime')
      .option('--per-page <n>', 'events per request (1 to 1000)', '1000')
      .addOption(
        new Option('--format <f>', 'GS1-EPC-Format').choices([
          'No_Preference',
          'Always_GS1_Digital_Link',
          'Always_EPC_URN',
          'Never_Translates',
        ]),
      )
      .option('--for-capture', 'write an EPCISDocument that another instance can capture')
      .option('--out <file>', 'write the document to this file instead of stdout'),
    'provenant epcis events --epc urn:epc:id:sgtin:0614141.107346.2018 --out events.jsonld',
  ).action(
    action<EventsOptions>(io, state, async (ctx, _args, opts) => {
      const client = ctx.client();
      const events: EpcisEventJson[] = [];
      const records: Record<string, string[]> = {};
      let first: EpcisQueryDocument | undefined;
      let pages = 0;
      for await (const page of client.epcis.pages(
        paramsOf(opts),
        opts.format ? { epcFormat: opts.format } : {},
      )) {
        first ??= page.document;
        pages++;
        events.push(...page.events);
        for (const [id, ids] of Object.entries(page.records)) (records[id] ??= []).push(...ids);
      }
      const doc = exportDocument(
        first,
        events,
        records,
        ctx.io.now().toISOString(),
        opts.forCapture === true,
      );
      const text = `${JSON.stringify(doc, null, 2)}\n`;
      if (opts.out) {
        const path = resolve(opts.out);
        await writeFileAtomic(path, text);
        ctx.out.result({ file: path, events: events.length, pages });
        ctx.out.line(`wrote ${events.length} events (${pages} pages) to ${path}`);
      } else if (ctx.out.json) ctx.out.result(doc);
      else io.stdout(text);
    }),
  );
}
