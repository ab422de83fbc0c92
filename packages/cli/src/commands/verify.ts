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
import { freshNonce, ProvenantError, type ReceiptCheck, type Verification } from '@provenant/sdk';
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

/**
 * Verifies a bundle value offline with the engine, for the subject physically scanned
 * (`scannedSubject`: a bundle about anything else is SUBJECT_MISMATCH, DESIGN §7).
 * Misuse (bad trust) is a usage error.
 */
export function verifyOffline(
  bundle: unknown,
  trust: Trust,
  p: { purpose: Purpose; party?: string },
  now: Date,
  scannedSubject: string,
  scan?: { lot?: string; expiry?: string },
): VerificationResult {
  try {
    return verifyBundle(
      bundle,
      trust,
      {
        purpose: p.purpose,
        now: now.toISOString(),
        scannedSubject,
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
      .option(
        '--scan <code>',
        'bundle mode: what was physically scanned, in any GS1 form (required; a bundle for anything else is SUBJECT_MISMATCH)',
      )
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
    "provenant verify bundle.json --scan '(01)09506000134352(21)ABC123' --trust trust.json --party 0614141000012 --purpose receiving",
  ).action(
    action<{
      trust?: string;
      scan?: string;
      party?: string;
      purpose?: string;
      lot?: string;
      expiry?: string;
    }>(io, state, async (ctx, [arg], opts) => {
      const p = purposeOf(opts);
      if (isBundleFile(arg!)) {
        // OFFLINE: this path makes no network call at all (DESIGN §1 docks whose network is down).
        if (!opts.trust)
          throw new CliError('--trust <file> is required to verify a bundle offline');
        // DESIGN §7: a bundle proves something only about the goods in hand; old or
        // borrowed evidence for another serial must not verify them.
        if (!opts.scan)
          throw new CliError(
            "--scan '<code>' is required to verify a bundle offline: the bundle must be for what you scanned",
          );
        const scanned = scanOf(subjectScan(opts.scan));
        const trust = await readTrust(opts.trust);
        const bundle = await readJson(arg!, 'bundle');
        // Lot and expiry: printed on the pack (--lot, --expiry), else carried by the scan.
        const lot = opts.lot ?? scanned.lot;
        const expiry = opts.expiry ?? scanned.expiry;
        const scan = { ...(lot ? { lot } : {}), ...(expiry ? { expiry } : {}) };
        const r = verifyOffline(
          bundle,
          trust,
          p,
          ctx.io.now(),
          scanned.subject,
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
      if (opts.scan !== undefined)
        throw new CliError('--scan is for a bundle file; here the argument is the scan');
      const scanned = scanOf(subjectScan(arg!));
      // Read the pinned keys before asking anyone: a bad trust file is a usage error up front.
      const trust = opts.trust ? await readTrust(opts.trust) : undefined;
      const client = ctx.client();
      // DESIGN §7: with a pinned verifier key, the receipt must answer THIS request
      // (subject, party, purpose, a fresh nonce) and be fresh; that needs our party.
      const pinned = trust?.verifierKey;
      if (pinned && !p.party)
        throw new CliError(
          `--party <gln> is required with ${opts.trust}: the verifier's receipt must be for your party`,
        );
      let online: Verification | null = null;
      let check: ReceiptCheck | null = null;
      try {
        const body = { scan: subjectScan(arg!), purpose: p.purpose };
        if (pinned) {
          const r = await client.verifyChecked(body, {
            verifierKey: pinned,
            party: p.party!,
            now: () => ctx.io.now().getTime(),
            backend: nodeBackend,
          });
          online = r.verification;
          check = r.ok ? { ok: true, kid: r.kid } : { ok: false, code: r.code, detail: r.detail };
        } else online = await client.verify({ ...body, nonce: freshNonce() });
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
        // ...unless a verifier is pinned: anyone on the path can answer 404, and the fallback
        // would trade a fresh, signed answer for a bundle up to a day old (a downgrade).
        if (pinned)
          throw new CliError(
            `${ctx.server} has no /v1/verifications, but ${opts.trust} pins a verifier key: point --server at the verifier, or verify a bundle file offline`,
            EXIT.USAGE,
            'no-verifier',
          );
      }
      if (online) {
        // DESIGN §7: the answer is only as good as its receipt, checked with the PINNED verifier key.
        if (check && !check.ok) {
          if (!ctx.out.json) ctx.out.line('verdict    REJECT');
          throw new CliError(
            `REJECT: the server's verification receipt is not valid for this request (${check.code}: ${check.detail}); do not rely on its verdict ${online.verdict}`,
            EXIT.REJECT,
            'receipt-invalid',
            { check: check.code, verdict: 'reject', serverVerdict: online.verdict },
          );
        }
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
      const r = verifyOffline(bundle, trust, p, ctx.io.now(), scanned.subject, scan);
      ctx.out.result({ mode: 'local', purpose: p.purpose, ...r });
      ctx.out.warn(
        `note: ${ctx.server} has no /v1/verifications; downloaded the bundle and verified it locally`,
      );
      render(ctx, r, `locally, bundle from ${ctx.server} against ${opts.trust} (${p.purpose})`);
      return exitOfVerdict(r.verdict);
    }),
  );
}
