// Plain sentences for a receiving clerk (issue 6): one per reason code of the
// closed union (DESIGN §7, core reasons.ts), filled with the reason's data —
// dates, parties, lots — where the reason or the custody timeline carries it.
// Pure: no DOM, so it is unit-tested beside the page.
import type { Reason, ReasonCode, TimelineEntry, Verdict } from '@provenant/core';
import type { Gs1ErrorCode } from '@provenant/gs1';

/** What a sentence may draw on besides the reason itself. */
export interface ClerkContext {
  product?: { gtin: string; serial: string; lot: string; expiry: string } | null | undefined;
  custody?: readonly TimelineEntry[] | undefined;
  /** The display name of a party (its GLN when unknown). */
  name?: (gln: string) => string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "2026-11-12" or an RFC 3339 time -> "12 Nov 2026" (UTC; no locale so every screen reads alike). */
export function clerkDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return value;
  const month = MONTHS[Number(m[2]) - 1];
  return month ? `${Number(m[3])} ${month} ${m[1]}` : value;
}

/** What the clerk does, per verdict. */
export const VERDICT_TEXT: Record<Verdict, { title: string; action: string }> = {
  accept: { title: 'ACCEPT', action: 'Everything checks out: take custody and put it away.' },
  quarantine: {
    title: 'QUARANTINE',
    action: 'Set it aside in quarantine. Do not put it into stock until the case is resolved.',
  },
  reject: {
    title: 'REJECT',
    action: 'Do not accept it. Keep it apart as evidence and tell your supervisor.',
  },
};

const DECOMMISSION_WORDS: Record<string, string> = {
  dispensed: 'dispensed',
  destroyed: 'destroyed',
  exported: 'exported',
  stolen: 'reported stolen',
  sample: 'given out as a sample',
  free_sample: 'given out as a free sample',
};

const GLN = /\b(\d{13})\b/;
const KEEP = ' Do not accept it; keep it as evidence.';
const ASIDE = ' Set it aside.';

type Sentence = (r: Reason, c: Required<Pick<ClerkContext, 'name'>> & ClerkContext) => string;

function entryOf(r: Reason, c: ClerkContext): TimelineEntry | undefined {
  if (r.seq === undefined) return undefined;
  return c.custody?.find(
    (e) => e.seq === r.seq && (r.subject === undefined || e.subject === r.subject),
  );
}

function lastOfType(c: ClerkContext, type: string): TimelineEntry | undefined {
  const list = c.custody ?? [];
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.type === type) return list[i];
  return undefined;
}

const atBy = (e: TimelineEntry | undefined, name: (g: string) => string, verb = 'at'): string =>
  e ? ` ${verb} ${name(e.actor)} on ${clerkDate(e.time)}` : '';

/** One sentence per code; `satisfies` keeps the map exhaustive over the closed union. */
export const CLERK_SENTENCES = {
  SIGNATURE_INVALID: () =>
    "A signature on this item's records does not check out: a record was forged or altered." + KEEP,
  KEY_UNKNOWN: () => 'A record was signed with a key that no registered company holds.' + KEEP,
  KEY_NOT_AUTHORIZED: (r, c) => {
    const e = entryOf(r, c);
    return (
      `A record${e ? ` claiming to be from ${c.name(e.actor)}` : ''} was signed with another company's key.` +
      KEEP
    );
  },
  KEY_REVOKED: (r, c) => {
    const e = entryOf(r, c);
    const when = /compromised at (\S+)/.exec(r.message)?.[1];
    return (
      `${e ? `${c.name(e.actor)}'s` : 'A'} signing key was reported stolen${when ? ` on ${clerkDate(when)}` : ''}` +
      `, and a record${e ? ` (${e.type}, ${clerkDate(e.time)})` : ''} was signed with it after that.` +
      KEEP
    );
  },
  CHAIN_BROKEN: () => "This item's history has a gap or a record out of order." + KEEP,
  CHAIN_FORK: () =>
    'Two different histories exist for this same serial number: it is most likely a copy (clone).' +
    KEEP,
  GENESIS_INVALID: () => 'This item was not registered by its manufacturer.' + KEEP,
  CUSTODY_VIOLATION: (r, c) => {
    const e = entryOf(r, c);
    return (
      `${e ? `${c.name(e.actor)}` : 'Someone'} acted on this item without holding it (custody rules broken).` +
      KEEP
    );
  },
  LOG_PROOF_INVALID: () => 'The proof from the public log does not check out.' + KEEP,
  BUNDLE_DIVERGES: () =>
    'The file the shipper handed over differs from what the log holds: its history was changed.' +
    KEEP,
  UNKNOWN_PRODUCT: (_r, c) =>
    `No record exists for this ${c.product ? `GTIN ${c.product.gtin} serial ${c.product.serial}` : 'code'}: it was never registered by a manufacturer.` +
    ASIDE,
  LOT_MISMATCH: (r) => {
    const m = /scanned lot (.+), commissioned lot (.+)$/.exec(r.message);
    return (
      (m
        ? `The lot printed on the pack (${m[1]}) is not the lot it was registered with (${m[2]}).`
        : 'The lot printed on the pack is not the lot it was registered with.') + ASIDE
    );
  },
  EXPIRY_MISMATCH: (r) => {
    const m = /scanned expiry (\S+), commissioned expiry (\S+)/.exec(r.message);
    return (
      (m
        ? `The expiry printed on the pack (${clerkDate(m[1]!)}) is not the expiry it was registered with (${clerkDate(m[2]!)}).`
        : 'The expiry printed on the pack is not the expiry it was registered with.') + ASIDE
    );
  },
  EXPIRED: (r, c) => {
    const d = /expired on (\S+)/.exec(r.message)?.[1] ?? c.product?.expiry;
    return `This item expired${d ? ` on ${clerkDate(d)}` : ''}. Do not put it into stock.` + ASIDE;
  },
  RECALLED: (r, c) => {
    const lot = /lot (\S+) is recalled/.exec(r.message)?.[1];
    const why = /is recalled: (.+)$/.exec(r.message)?.[1];
    const recaller = lastOfType(c, 'commission');
    return (
      `${recaller ? c.name(recaller.actor) : 'The manufacturer'} recalled ${lot ? `lot ${lot} of this product` : 'this product'}` +
      `${why ? ` (reason given: ${why})` : ''}.` +
      ASIDE
    );
  },
  DECOMMISSIONED: (r, c) => {
    const why = /decommissioned \(([a-z_]+)\)/.exec(r.message)?.[1] ?? '';
    const words = DECOMMISSION_WORDS[why] ?? 'taken out of circulation';
    const e = lastOfType(c, 'decommission');
    return (
      `This pack was already ${words}${atBy(e, c.name)}. It should not be in circulation.` + ASIDE
    );
  },
  NOT_SHIPPED_TO_YOU: (r, c) => {
    const to = /addressed to (\d{13})/.exec(r.message)?.[1];
    const held = /held by (\d{13})/.exec(r.message)?.[1];
    return (
      (to
        ? `The last shipment of this item was addressed to ${c.name(to)}, not to you: possible diversion.`
        : held
          ? `This item belongs to ${c.name(held)} and was never shipped to you: possible diversion.`
          : 'This item was not shipped to you: possible diversion.') + ASIDE
    );
  },
  IN_QUARANTINE: (r, c) => {
    const cs = /\(case (.+)\)$/.exec(r.message)?.[1];
    const e = lastOfType(c, 'quarantine');
    return (
      `${e ? c.name(e.actor) : 'Its holder'} put this item on a suspect hold${cs ? ` (case ${cs})` : ''}.` +
      ASIDE
    );
  },
  PARTY_SUSPENDED: (r, c) => {
    const g = /party (\d{13})/.exec(r.message)?.[1];
    return (
      (g
        ? `${c.name(g)}, a company that handled this item, is suspended (vendor-risk hold).`
        : 'A record of this item was made while its company was suspended (vendor-risk hold).') +
      ASIDE
    );
  },
  DUPLICATE_SCAN: (r, c) => {
    const g = /verified by (\d{13}) at (\S+)/.exec(r.message);
    return (
      (g
        ? `${c.name(g[1]!)} already scanned this same serial on ${clerkDate(g[2]!)}, since its last handoff: one of the two may be a copy.`
        : 'Another site already scanned this same serial since its last handoff: one of the two may be a copy.') +
      ASIDE
    );
  },
  TIME_ANOMALY: () =>
    "The dates in this item's records do not add up (a date goes backwards or lies in the future)." +
    ASIDE,
  CHECKPOINT_STALE: (r) => {
    const s = /is (\d+) s old; the policy allows (\d+) s/.exec(r.message);
    const age = (n: string) => {
      const h = Math.round(Number(n) / 3600);
      return h >= 48 ? `${Math.round(h / 24)} days` : `${h} hours`;
    };
    return (
      (s
        ? `The bundle file is ${age(s[1]!)} old; at most ${age(s[2]!)} is allowed.`
        : 'The bundle file is older than allowed.') +
      ' Set it aside until it can be checked online.'
    );
  },
  SUBJECT_MISMATCH: () =>
    'The bundle file is the record of another product than the one you scanned: these are not the goods it vouches for.' +
    KEEP,
} as const satisfies Record<ReasonCode, Sentence>;

/**
 * The clerk's sentence for one reason. A reason aggregated over a pallet's
 * units ("3 of 20 units: ...") keeps its count in front.
 */
export function clerkSentence(reason: Reason, ctx: ClerkContext = {}): string {
  const c = { ...ctx, name: ctx.name ?? ((g: string) => `GLN ${g}`) };
  const f = (CLERK_SENTENCES as Record<string, Sentence>)[reason.code];
  // An unknown code (a newer server): say so plainly instead of guessing.
  if (!f) return `Finding ${reason.code}: ${reason.message}`;
  const agg = /^(\d+) of (\d+) units: (.*)$/.exec(reason.message);
  if (agg) {
    const inner = f({ ...reason, message: agg[3]! }, { ...c, custody: [] });
    return `${agg[1]} of ${agg[2]} units: ${inner}`;
  }
  return f(reason, c);
}

/** A GLN-looking token in a message (for looking up party names). */
export function glnsIn(text: string): string[] {
  const out: string[] = [];
  const re = new RegExp(GLN.source, 'g');
  for (let m = re.exec(text); m; m = re.exec(text)) out.push(m[1]!);
  return out;
}

/**
 * Why a scan could not be read, in a clerk's words, per GS1 error code (the
 * NOT READ / SCAN AGAIN panel). Every code of the closed gs1 union has one.
 */
export const NOT_READ_SENTENCES = {
  EMPTY: 'Nothing was scanned.',
  BAD_INPUT: 'The scanner sent something that is not a code.',
  BAD_CHECK_DIGIT:
    'A number in the code does not add up (wrong check digit): the label is damaged, misprinted or was misread.',
  ILLEGAL_CHARACTER: 'The code holds a character that does not belong there: misread or damaged.',
  UNKNOWN_AI: 'The code holds a field no GS1 barcode uses: it is not a product code.',
  MISSING_SEPARATOR:
    'Two fields of the code ran together: the scanner may not send the separator character.',
  BAD_LENGTH: 'A field of the code is too short or too long: misread or cut off.',
  BAD_DATE:
    'A date in the code is not a real date (the expiry or another date): misread or misprinted.',
  BAD_VALUE: 'A field of the code holds a value GS1 does not allow.',
  DUPLICATE_AI: 'The code holds the same field twice with different values.',
  CONFLICTING_AI: 'The code holds two fields that may not appear together.',
  BAD_SYMBOLOGY: 'This kind of barcode cannot carry a product serial number.',
  BAD_DIGITAL_LINK: 'The web link in this code is not a product link (GS1 Digital Link).',
  BAD_QUALIFIER: 'The product link in this code is malformed (its parts are out of order).',
  BAD_URI_STEM: 'The web address in this code is malformed.',
  BAD_EPC_URI: 'The EPC identifier is malformed.',
  BAD_SUBJECT: 'This is not a product, case or pallet identifier.',
  NO_KEY: 'The code names no product, case or pallet (no GTIN or SSCC): scan the other barcode.',
  MISSING_SERIAL:
    'The code has a product number but no serial number: scan the 2D code (DataMatrix) on the pack.',
} as const satisfies Record<Gs1ErrorCode, string>;

/** The clerk's sentence for an unreadable scan (an unknown code: plain words, never a guess). */
export function notReadSentence(code: string): string {
  return (NOT_READ_SENTENCES as Record<string, string>)[code] ?? 'The code could not be read.';
}
