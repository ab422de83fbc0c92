// The offline verification bundle (DESIGN §7, §8a `GET /v1/bundles/{subject}`):
// every envelope the engine needs for one subject, each with its log receipt
// (DESIGN §6) and an RFC 9162 inclusion proof into one signed checkpoint. The
// issuer produces exactly this shape; the verifier, the CLI and the dock page
// check it with verifyBundle (verify.ts).
import { z } from 'zod';
import { fromBase64, utf8 } from './bytes.js';
import { envelopeSchema, type Envelope } from './dsse.js';
import { canonicalize, JCS_VERBATIM as VERBATIM } from './jcs.js';
import { hex64Schema, isCanonicalTime, subjectParts, timestampSchema } from './records.js';

/** A log receipt (DESIGN §6): the log key's signature over JCS({origin, index, leafHash, integratedAt}). */
export interface LogReceipt {
  origin: string;
  index: number;
  /** lowercase hex SHA-256(0x00 ‖ JCS(envelope)) */
  leafHash: string;
  /** RFC 3339 UTC with milliseconds: the time that counts for key validity */
  integratedAt: string;
  /** standard base64 of the 64-byte Ed25519 signature */
  signature: string;
}

/**
 * Builds the JCS bytes of receipt bodies `{origin, index, leafHash,
 * integratedAt}` (DESIGN §6) for one origin, as `canonicalBytes` would, once
 * per entry on hot paths (the sequencer signs them, the monitor checks them):
 * keys in JCS order (index < integratedAt < leafHash < origin), index a safe
 * integer, the two strings verbatim ASCII, the origin serialised once.
 * Anything else goes through canonicalize (and throws as it does).
 */
export function receiptMessageBuilder(
  origin: string,
): (index: number, leafHashHex: string, integratedAt: string) => Uint8Array {
  const tail = `","origin":${canonicalize(origin)}}`;
  return (index, leafHashHex, integratedAt) => {
    if (!Number.isSafeInteger(index) || !VERBATIM.test(integratedAt) || !VERBATIM.test(leafHashHex))
      return utf8(canonicalize({ origin, index, leafHash: leafHashHex, integratedAt }));
    return utf8(
      `{"index":${index},"integratedAt":"${integratedAt}","leafHash":"${leafHashHex}${tail}`,
    );
  };
}

/** One logged envelope with its receipt and its inclusion proof in the bundle's checkpoint. */
export interface BundleEntry {
  envelope: Envelope;
  receipt: LogReceipt;
  /** lowercase hex hashes, leaf to root: RFC 9162 §2.1.3 proof of receipt.index in the checkpoint's tree */
  proof: string[];
}

/**
 * An offline bundle for one subject. `chains` holds, keyed by subject and in
 * seq order: the subject's chain, the chain of every logistic unit it was ever
 * packed in and, for a logistic unit, the chain of every child (and of every
 * container those children were ever in). `notices` holds the party and key
 * registrations, suspensions, reinstatements, key revocations and the recalls
 * for the GTINs involved. All proofs lead to `checkpoint`.
 */
export interface Bundle {
  v: 1;
  subject: string;
  /** C2SP signed note: log signature and optional witness cosignatures */
  checkpoint: string;
  chains: Record<string, BundleEntry[]>;
  notices: BundleEntry[];
}

/** Most chains in one bundle: a 10,000-unit pallet plus the cases its units went through. */
export const MAX_BUNDLE_CHAINS = 20_000;
/** Most records in one chain of a bundle. */
export const MAX_CHAIN_LENGTH = 10_000;
/** Most notices in one bundle. */
export const MAX_BUNDLE_NOTICES = 10_000;
/** Most entries (records and notices) in one bundle. */
export const MAX_BUNDLE_ENTRIES = 250_000;
/** A proof of a tree of at most 2^53 - 1 leaves has at most 53 hashes. */
export const MAX_PROOF_LENGTH = 64;
/** Longest signed checkpoint accepted (a body plus up to 100 signature lines). */
export const MAX_CHECKPOINT_LENGTH = 32_768;
/** Longest log origin accepted. */
export const MAX_ORIGIN_LENGTH = 256;

const ORIGIN_RE = /^[^\u0000-\u001f]+$/;

export const logReceiptSchema = z.strictObject({
  origin: z.string().min(1).max(MAX_ORIGIN_LENGTH).regex(ORIGIN_RE, 'origin must be one line'),
  index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  leafHash: hex64Schema,
  integratedAt: timestampSchema,
  signature: z.string().refine((s) => fromBase64(s)?.length === 64, {
    message: 'signature must be standard base64 of 64 bytes',
  }),
});

export const bundleEntrySchema = z.strictObject({
  envelope: envelopeSchema,
  receipt: logReceiptSchema,
  proof: z.array(hex64Schema).max(MAX_PROOF_LENGTH),
});

const canonicalSubjectSchema = z
  .string()
  .refine(
    (s) => subjectParts(s) !== null,
    'expected a canonical subject 01/<gtin>/21/<serial> or 00/<sscc>',
  );

/**
 * zod schema of a {@link Bundle}, strict and bounded: for the API edge and
 * OpenAPI. {@link verifyBundle} does not require it: it checks the frame with
 * {@link checkBundleFrame} and judges each entry on its own, so one malformed
 * envelope becomes a reason code rather than an unreadable bundle.
 */
export const bundleSchema = z
  .strictObject({
    v: z.literal(1),
    subject: canonicalSubjectSchema,
    checkpoint: z.string().min(1).max(MAX_CHECKPOINT_LENGTH),
    chains: z
      .record(canonicalSubjectSchema, z.array(bundleEntrySchema).max(MAX_CHAIN_LENGTH))
      .refine((c) => Object.keys(c).length <= MAX_BUNDLE_CHAINS, {
        message: `at most ${MAX_BUNDLE_CHAINS} chains`,
      }),
    notices: z.array(bundleEntrySchema).max(MAX_BUNDLE_NOTICES),
  })
  .refine(
    (b) =>
      Object.values(b.chains).reduce((n, c) => n + c.length, 0) + b.notices.length <=
      MAX_BUNDLE_ENTRIES,
    { message: `at most ${MAX_BUNDLE_ENTRIES} entries in all` },
  );

/** The frame of a bundle after {@link checkBundleFrame}: receipts checked, envelopes and proofs still raw. */
export interface BundleFrame {
  subject: string;
  checkpoint: string;
  chains: [subject: string, entries: FrameEntry[]][];
  notices: FrameEntry[];
}

/** An entry whose receipt is well formed; `envelope` and `proof` are attacker-controlled and unchecked. */
export interface FrameEntry {
  envelope: unknown;
  receipt: LogReceipt;
  proof: unknown[];
  /** where in the bundle, for messages: `chains["00/…"][3]` or `notices[0]` */
  where: string;
}

export type FrameResult =
  { ok: true; frame: BundleFrame } | { ok: false; path: string; message: string; subject?: string };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasExactly(o: Record<string, unknown>, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(o, k));
}

const HEX64_RE = /^[0-9a-f]{64}$/;
const FRAME_KEYS = ['v', 'subject', 'checkpoint', 'chains', 'notices'] as const;
const ENTRY_KEYS = ['envelope', 'receipt', 'proof'] as const;
const RECEIPT_KEYS = ['origin', 'index', 'leafHash', 'integratedAt', 'signature'] as const;

function receiptProblem(r: unknown): string | null {
  if (!isPlainObject(r) || !hasExactly(r, RECEIPT_KEYS))
    return 'receipt must have exactly origin, index, leafHash, integratedAt and signature';
  const { origin, index, leafHash, integratedAt, signature } = r;
  if (
    typeof origin !== 'string' ||
    origin.length === 0 ||
    origin.length > MAX_ORIGIN_LENGTH ||
    !ORIGIN_RE.test(origin)
  )
    return 'receipt origin must be one non-empty line';
  if (typeof index !== 'number' || !Number.isSafeInteger(index) || index < 0)
    return 'receipt index must be a non-negative integer';
  if (typeof leafHash !== 'string' || !HEX64_RE.test(leafHash))
    return 'receipt leafHash must be 64 lowercase hex digits';
  if (typeof integratedAt !== 'string' || !isCanonicalTime(integratedAt))
    return 'receipt integratedAt must be RFC 3339 UTC with milliseconds';
  // Decoded (and length-checked) only when the signature is verified.
  if (typeof signature !== 'string' || signature.length !== 88)
    return 'receipt signature must be base64 of 64 bytes';
  return null;
}

function entryFrame(e: unknown, where: string): FrameEntry | string {
  if (!isPlainObject(e) || !hasExactly(e, ENTRY_KEYS))
    return `${where} must have exactly envelope, receipt and proof`;
  const problem = receiptProblem(e['receipt']);
  if (problem) return `${where}: ${problem}`;
  const proof = e['proof'];
  if (!Array.isArray(proof) || proof.length > MAX_PROOF_LENGTH)
    return `${where}: proof must be an array of at most ${MAX_PROOF_LENGTH} hashes`;
  return { envelope: e['envelope'], receipt: e['receipt'] as LogReceipt, proof, where };
}

/**
 * Checks the frame of a bundle: the same rules as {@link bundleSchema} for
 * everything but the envelopes and the proof hashes, which the engine checks
 * one by one as it uses them (a bad one is a reason code on that entry).
 * Hand-written because a pallet bundle has 20,000 entries. The value is
 * attacker-controlled; never throws.
 */
export function checkBundleFrame(value: unknown): FrameResult {
  if (!isPlainObject(value) || !hasExactly(value, FRAME_KEYS))
    return {
      ok: false,
      path: '',
      message: 'a bundle has exactly v, subject, checkpoint, chains and notices',
    };
  const { v, subject, checkpoint, chains, notices } = value;
  const subjectOk = typeof subject === 'string' && subjectParts(subject) !== null;
  const s = subjectOk ? { subject: subject as string } : {};
  if (v !== 1) return { ok: false, path: 'v', message: 'bundle version must be 1', ...s };
  if (!subjectOk) return { ok: false, path: 'subject', message: 'subject is not canonical' };
  if (
    typeof checkpoint !== 'string' ||
    checkpoint.length === 0 ||
    checkpoint.length > MAX_CHECKPOINT_LENGTH
  )
    return { ok: false, path: 'checkpoint', message: 'checkpoint must be a signed note', ...s };
  if (!isPlainObject(chains))
    return { ok: false, path: 'chains', message: 'chains must be an object', ...s };
  const keys = Object.keys(chains);
  if (keys.length > MAX_BUNDLE_CHAINS)
    return { ok: false, path: 'chains', message: `at most ${MAX_BUNDLE_CHAINS} chains`, ...s };
  if (!Array.isArray(notices) || notices.length > MAX_BUNDLE_NOTICES)
    return {
      ok: false,
      path: 'notices',
      message: `notices must be an array of at most ${MAX_BUNDLE_NOTICES}`,
      ...s,
    };
  let total = notices.length;
  const outChains: [string, FrameEntry[]][] = [];
  for (const key of keys) {
    if (subjectParts(key) === null)
      return {
        ok: false,
        path: `chains`,
        message: `chain key ${JSON.stringify(key)} is not a canonical subject`,
        ...s,
      };
    const list = chains[key];
    if (!Array.isArray(list) || list.length > MAX_CHAIN_LENGTH)
      return {
        ok: false,
        path: `chains.${key}`,
        message: `a chain is an array of at most ${MAX_CHAIN_LENGTH} entries`,
        ...s,
      };
    total += list.length;
    if (total > MAX_BUNDLE_ENTRIES)
      return {
        ok: false,
        path: 'chains',
        message: `at most ${MAX_BUNDLE_ENTRIES} entries in all`,
        ...s,
      };
    const out: FrameEntry[] = [];
    for (let i = 0; i < list.length; i++) {
      const where = `chains[${JSON.stringify(key)}][${i}]`;
      const e = entryFrame(list[i], where);
      if (typeof e === 'string') return { ok: false, path: where, message: e, ...s };
      out.push(e);
    }
    outChains.push([key, out]);
  }
  const outNotices: FrameEntry[] = [];
  for (let i = 0; i < notices.length; i++) {
    const where = `notices[${i}]`;
    const e = entryFrame(notices[i], where);
    if (typeof e === 'string') return { ok: false, path: where, message: e, ...s };
    outNotices.push(e);
  }
  return {
    ok: true,
    frame: { subject: subject as string, checkpoint, chains: outChains, notices: outNotices },
  };
}
