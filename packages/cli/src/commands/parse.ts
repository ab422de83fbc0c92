// `provenant parse <scan>` (DESIGN §3): what a GS1 string contains — its
// Application Identifiers, the canonical subject, lot and expiry — or the rule
// it breaks (Gs1Error code and AI), exit 3. No network.
import type { Command } from 'commander';
import {
  getAiDefinition,
  Gs1Error,
  parseDigitalLink,
  parseElementString,
  parseEpcUri,
  type AiValue,
} from '@provenant/gs1';
import { scanOf, withCommon } from '../common.js';
import type { Io } from '../io.js';
import { action, type ExitState } from '../run.js';

/** The element strings of a scan that parseScan accepted (best effort: [] when the form has none). */
function elementsOf(text: string): AiValue[] {
  const t = text.trim();
  try {
    if (/^https?:\/\//i.test(t)) return parseDigitalLink(t);
    if (/^urn:epc:/i.test(t)) return parseEpcUri(t);
    return parseElementString(t);
  } catch (err) {
    if (err instanceof Gs1Error) return [];
    throw err;
  }
}

export function registerParseCommand(program: Command, io: Io, state: ExitState): void {
  withCommon(
    program
      .command('parse')
      .description(
        'Show what a GS1 scan contains (AIs, subject, lot, expiry), or why it is invalid (exit 3)',
      )
      .argument('<scan>', 'element string (bracketed or raw), Digital Link URI or EPC URI'),
    "provenant parse '(01)09506000134352(17)261130(10)L1(21)ABC123'",
  ).action(
    action<object>(io, state, async (ctx, [scan]) => {
      const r = scanOf(scan!);
      const ais = elementsOf(scan!).map((e) => ({
        ai: e.ai,
        title: getAiDefinition(e.ai)?.title ?? '',
        value: e.value,
      }));
      ctx.out.result({ valid: true, ...r, ais });
      ctx.out.line(`subject  ${r.subject}`);
      if (r.gtin) ctx.out.line(`gtin     ${r.gtin}`);
      if (r.serial) ctx.out.line(`serial   ${r.serial}`);
      if (r.sscc) ctx.out.line(`sscc     ${r.sscc}`);
      if (r.lot) ctx.out.line(`lot      ${r.lot}`);
      if (r.expiry) ctx.out.line(`expiry   ${r.expiry}`);
      if (ais.length > 0) {
        ctx.out.line('AIs');
        for (const a of ais) ctx.out.line(`  (${a.ai}) ${a.value}${a.title ? `  ${a.title}` : ''}`);
      }
    }),
  );
}
