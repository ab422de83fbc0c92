// `provenant bundle` (download an offline bundle, DESIGN §8a GET /v1/bundles)
// and `provenant verify` (DESIGN §7): a bundle file is verified OFFLINE with
// core's engine against the pinned keys of trust.json (no network at all); a
// scan asks the server's POST /v1/verifications, or, when the server has no
// verifier, downloads the bundle and verifies it here (and says so).
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import {
  REASONS,
  isReasonCode,
  verifyBundle,
  VerifyError,
  type Purpose,
  type Trust,
  type VerificationResult,
} from '@provenant/core';
import { nodeBackend, nodeSha256 } from '@provenant/core/node';
import { checkVerificationReceipt, ProvenantError, type Verification } from '@provenant/sdk';
import { gln, scanOf, subjectScan, withCommon, type Ctx } from '../common.js';
import { CliError, EXIT, readJson, writeFileAtomic, type Io } from '../io.js';
import { action, type ExitState } from '../run.js';
import { readTrust } from './trust.js';

const PURPOSES: readonly Purpose[] = ['receiving', 'saleable_return', 'dispense'];

/** Exit code of a verdict (issue 5): 0 accept, 1 quarantine, 2 reject. */
export function exitOfVerdict(verdict: string): number {
  return verdict === 'accept' ? EXIT.OK : verdict === 'quarantine' ? EXIT.QUARANTINE : EXIT.REJECT;
}

/** What both paths print: the verdict, reasons, status, custody timeline. */
interface Shown {
  verdict: string;
  reasons: {
    code: string;
    message?: string | undefined;
    subject?: string | undefined;
    seq?: number | undefined;
  }[];
  subject?: string | undefined;
  status?: string | undefined;
  custodian?: string | null | undefined;
  custody?:
    | {
        subject: string;
        seq: number;
        type: string;
        actor: string;
        time: string;
        to?: string | undefined;
        from?: string | undefined;
        shipment?: string | undefined;
      }[]
    | undefined;
  units?: unknown;
}

function render(ctx: Ctx, r: Shown, how: string): void {
  const out = ctx.out;
  out.line(`verdict    ${r.verdict.toUpperCase()}`);
  if (r.subject) out.line(`subject    ${r.subject}`);
  if (r.status)
    out.line(`status     ${r.status}${r.custodian ? `, custodian ${r.custodian}` : ''}`);
  out.line(`checked    ${how}`);
  if (r.reasons.length > 0) {
    out.line('reasons');
    for (const reason of r.reasons) {
      const info = isReasonCode(reason.code) ? REASONS[reason.code] : undefined;
      const where = reason.subject
        ? ` [${reason.subject}${reason.seq !== undefined ? ` seq ${reason.seq}` : ''}]`
        : '';
      out.line(`  ${reason.code} (${info?.verdict ?? '?'})${where}: ${reason.message ?? ''}`);
    }
  }
  const units = r.units as { total?: number; counts?: Record<string, number> } | undefined;
  if (units?.total !== undefined && units.counts)
    out.line(
      `units      ${units.total}: ${Object.entries(units.counts)
        .map(([k, v]) => `${v} ${k}`)
        .join(', ')}`,
    );
  if (r.custody && r.custody.length > 0) {
    out.line('custody');
    for (const e of r.custody) {
      const hop =
        e.type === 'ship'
          ? ` -> ${e.to ?? '?'}`
          : e.type === 'receive'
            ? ` <- ${e.from ?? '?'}`
            : '';
      const chain = r.subject && e.subject !== r.subject ? ` (in ${e.subject})` : '';
      out.line(
        `  ${e.time}  ${e.type.padEnd(12)} ${e.actor}${hop}${e.shipment ? ` shipment ${e.shipment}` : ''}${chain}`,
      );
    }
  }
}

/** Reads --purpose/--party: receiving and dispense need the verifying party (core refuses otherwise). */
function purposeOf(opts: { purpose?: string; party?: string }): {
  purpose: Purpose;
  party?: string;
} {
  const party = opts.party !== undefined ? gln(opts.party, '--party') : undefined;
  const purpose = (opts.purpose ?? (party ? 'receiving' : 'saleable_return')) as Purpose;
  if (!PURPOSES.includes(purpose))
    throw new CliError(
      `--purpose must be one of ${PURPOSES.join(', ')}, got ${JSON.stringify(opts.purpose)}`,
    );
  if (!party && purpose !== 'saleable_return')
    throw new CliError(`--purpose ${purpose} needs --party <gln> (the party that verifies)`);
  return party ? { purpose, party } : { purpose };
}

/** Verifies a bundle value offline with the engine. Misuse (bad trust) is a usage error. */
export function verifyOffline(
  bundle: unknown,
  trust: Trust,
  p: { purpose: Purpose; party?: string },
  now: Date,
  scan?: { lot?: string; expiry?: string },
): VerificationResult {
  try {
    return verifyBundle(
      bundle,
      trust,
      {
        purpose: p.purpose,
        now: now.toISOString(),
        ...(p.party ? { party: p.party } : {}),
        ...(scan ? { scan } : {}),
      },
      { backend: nodeBackend, sha256: nodeSha256 },
    );
  } catch (err) {
    if (err instanceof VerifyError)
      throw new CliError(`trust or options: ${err.message}`, EXIT.USAGE, err.code.toLowerCase());
    throw err;
  }
}

/** True when the argument names a bundle file rather than a scan. */
function isBundleFile(arg: string): boolean {
  return (
    /\.json$/i.test(arg) ||
    (existsSync(arg) && !/^[\](0-9]/.test(arg) && !/^(https?|urn):/i.test(arg))
  );
}

export function registerVerifyCommands(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('bundle')
      .description(
        'Download the offline verification bundle of a subject (GET /v1/bundles/{subject})',
      )
      .argument(
        '<scan>',
        'any GS1 form: element string, Digital Link, EPC URI, or a subject 01/…/21/… or 00/…',
      )
      .requiredOption('--out <file>', 'where to write the bundle'),
    "provenant bundle '(01)09506000134352(21)ABC123' --out bundle.json --token $PROVENANT_TOKEN",
  ).action(
    action<{ out: string }>(io, state, async (ctx, [scan], opts) => {
      const subject = scanOf(subjectScan(scan!)).subject;
      const bundle = await ctx.client().getBundle(subject);
      const path = resolve(opts.out);
      await writeFileAtomic(path, `${JSON.stringify(bundle)}\n`);
      const chains = Object.keys(bundle.chains).length;
      const entries =
        Object.values(bundle.chains).reduce((n, c) => n + c.length, 0) + bundle.notices.length;
      const size = /\n(\d+)\n/.exec(bundle.checkpoint)?.[1];
      ctx.out.result({
        file: path,
        subject,
        chains,
        entries,
        checkpointSize: size !== undefined ? Number(size) : null,
      });
      ctx.out.line(
        `wrote ${path}: ${subject}, ${chains} chain${chains === 1 ? '' : 's'}, ${entries} entries, checkpoint size ${size ?? '?'}`,
      );
    }),
  );

  withCommon(
    program
      .command('verify')
      .description(
        'Verify a subject: a bundle file offline against trust.json (no network), or a scan via the server. Exit 0 accept, 1 quarantine, 2 reject, 3 error',
      )
      .argument(
        '<scan|bundle.json>',
        'a bundle file from `provenant bundle`, or a scan in any GS1 form',
      )
      .option('--trust <file>', 'trust file from `provenant trust export` (required for bundles)')
      .option('--party <gln>', 'the verifying party (needed for receiving and dispense)')
      .option(
        '--purpose <purpose>',
        'receiving | saleable_return | dispense (default receiving with --party, else saleable_return)',
      )
      .option(
        '--lot <lot>',
        'lot printed on the pack, matched against the commissioned one (bundle mode)',
      )
      .option('--expiry <date>', 'expiry YYYY-MM-DD printed on the pack (bundle mode)'),
    'provenant verify bundle.json --trust trust.json --party 0614141000012 --purpose receiving',
  ).action(
    action<{ trust?: string; party?: string; purpose?: string; lot?: string; expiry?: string }>(
      io,
      state,
      async (ctx, [arg], opts) => {
        const p = purposeOf(opts);
        if (isBundleFile(arg!)) {
          // OFFLINE: this path makes no network call at all (DESIGN §1 docks whose network is down).
          if (!opts.trust)
            throw new CliError('--trust <file> is required to verify a bundle offline');
          const trust = await readTrust(opts.trust);
          const bundle = await readJson(arg!, 'bundle');
          const scan = {
            ...(opts.lot ? { lot: opts.lot } : {}),
            ...(opts.expiry ? { expiry: opts.expiry } : {}),
          };
          const r = verifyOffline(
            bundle,
            trust,
            p,
            ctx.io.now(),
            Object.keys(scan).length > 0 ? scan : undefined,
          );
          ctx.out.result({ mode: 'offline', purpose: p.purpose, ...r });
          render(
            ctx,
            r,
            `offline, bundle ${arg} against ${opts.trust} (${p.purpose}${p.party ? ` as ${p.party}` : ''})`,
          );
          return exitOfVerdict(r.verdict);
        }
        const scanned = scanOf(subjectScan(arg!));
        // Read the pinned keys before asking anyone: a bad trust file is a usage error up front.
        const trust = opts.trust ? await readTrust(opts.trust) : undefined;
        const client = ctx.client();
        let online: Verification | null = null;
        try {
          online = await client.verify({ scan: subjectScan(arg!), purpose: p.purpose });
        } catch (err) {
          if (err instanceof ProvenantError && err.status === 0)
            throw new CliError(
              `${err.detail ?? err.message}; with the network down, verify a bundle file offline: provenant verify bundle.json --trust trust.json`,
              EXIT.USAGE,
              err.code,
            );
          // A server without the verifier answers 404 "No route": fall back to bundle + local engine.
          if (!(
            err instanceof ProvenantError &&
            err.status === 404 &&
            /no route/i.test(err.detail ?? '')
          ))
            throw err;
        }
        if (online) {
          // DESIGN §7: the answer is only as good as its receipt, checked with the PINNED verifier key.
          const check = trust?.verifierKey
            ? checkVerificationReceipt(online, trust.verifierKey, nodeBackend)
            : null;
          if (check && !check.ok)
            throw new CliError(
              `the server's verification receipt is not valid (${check.code}: ${check.detail}); do not rely on its verdict ${online.verdict}`,
              EXIT.REJECT,
              'receipt-invalid',
              { check: check.code, verdict: online.verdict },
            );
          const receipt = check ? 'verified' : 'unchecked';
          ctx.out.result({ mode: 'server', purpose: p.purpose, receiptCheck: receipt, ...online });
          render(
            ctx,
            online as Shown,
            `by the server ${ctx.server} (${p.purpose}); receipt ${check ? `signed by the pinned verifier key ${check.kid}` : `not checked (${trust ? `${opts.trust} has no verifierKey` : 'pass --trust'})`}`,
          );
          return exitOfVerdict(online.verdict);
        }
        if (!trust)
          throw new CliError(
            `${ctx.server} has no verification endpoint; pass --trust <file> to verify its bundle locally`,
          );
        const bundle = await client.getBundle(scanned.subject);
        const scan = {
          ...(scanned.lot ? { lot: scanned.lot } : {}),
          ...(scanned.expiry ? { expiry: scanned.expiry } : {}),
        };
        const r = verifyOffline(bundle, trust, p, ctx.io.now(), scan);
        ctx.out.result({ mode: 'local', purpose: p.purpose, ...r });
        ctx.out.warn(
          `note: ${ctx.server} has no /v1/verifications; downloaded the bundle and verified it locally`,
        );
        render(ctx, r, `locally, bundle from ${ctx.server} against ${opts.trust} (${p.purpose})`);
        return exitOfVerdict(r.verdict);
      },
    ),
  );
}
