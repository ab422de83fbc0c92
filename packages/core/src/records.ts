// Custody records (DESIGN §5): one hash chain per subject. The schemas here are
// the only gate between attacker-controlled payload bytes and the custody state
// machine, so every field is checked for exactly one canonical spelling: the
// record id is the hash of the payload bytes (DESIGN §4), and two spellings of
// one record would give one fact two ids.
import { z } from 'zod';
import { bytesEqual, fromBase64Url, fromUtf8, toHex } from './bytes.js';
import { sha256Hex } from './hash.js';
import { canonicalBytes, canonicalize, parseJsonStrict } from './jcs.js';

// ---------------------------------------------------------------------------
// Identifiers (DESIGN §3), validated locally: the record schema checks only check digits and
// lengths, and stays free of the AI tables (gs1 is used by the EPCIS mapping only).

/** GS1 mod-10 check digit over all digits but the last (GS1 General Specifications §7.9.1). */
function mod10Valid(digits: string): boolean {
  let sum = 0;
  // Weights alternate 3,1,... starting from the digit left of the check digit.
  for (let i = digits.length - 2, w = 3; i >= 0; i--, w = 4 - w) {
    sum += (digits.charCodeAt(i) - 48) * w;
  }
  return (10 - (sum % 10)) % 10 === digits.charCodeAt(digits.length - 1) - 48;
}

const GTIN_RE = /^\d{14}$/;
const SSCC_RE = /^\d{18}$/;
const GLN_RE = /^\d{13}$/;

/** True for a GTIN-14: 14 digits with a valid check digit. */
export function isValidGtin14(value: string): boolean {
  return GTIN_RE.test(value) && mod10Valid(value);
}

/** True for an SSCC: 18 digits with a valid check digit. */
export function isValidSscc(value: string): boolean {
  return SSCC_RE.test(value) && mod10Valid(value);
}

/** True for a GLN: 13 digits with a valid check digit. */
export function isValidGln(value: string): boolean {
  return GLN_RE.test(value) && mod10Valid(value);
}

// GS1 AI encodable character set 82 (GS1 General Specifications §7.11, figure 7.11-1).
const CSET82_RE = /^[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$/;

/** True when `value` is 1–20 characters of GS1 character set 82 (AI 10 lot, AI 21 serial). */
export function isCset82Value(value: string): boolean {
  return CSET82_RE.test(value);
}

/**
 * Canonical percent-encoding of a serial in a subject (DESIGN §3): every byte
 * outside the RFC 3986 unreserved set is %XX (upper-case hex). encodeURIComponent
 * leaves !'()* alone, so those are escaped here.
 */
export function encodeSerial(serial: string): string {
  return encodeURIComponent(serial).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

/** The parts of a canonical subject. */
export type SubjectParts =
  { kind: 'unit'; gtin: string; serial: string } | { kind: 'container'; sscc: string };

const UNIT_SUBJECT_RE = /^01\/(\d{14})\/21\/([A-Za-z0-9%\-._~]{1,60})$/;
const CONTAINER_SUBJECT_RE = /^00\/(\d{18})$/;

/**
 * Splits a canonical subject (DESIGN §3) into its parts; null when `subject`
 * is not exactly the canonical form (bad check digit, bad serial, or a serial
 * encoded any other way than {@link encodeSerial}).
 */
export function subjectParts(subject: string): SubjectParts | null {
  if (typeof subject !== 'string') return null;
  const c = CONTAINER_SUBJECT_RE.exec(subject);
  if (c) return mod10Valid(c[1]!) ? { kind: 'container', sscc: c[1]! } : null;
  const u = UNIT_SUBJECT_RE.exec(subject);
  if (!u || !mod10Valid(u[1]!)) return null;
  const encoded = u[2]!;
  // Fast path: without escapes the regex above admits only unreserved characters.
  if (!encoded.includes('%'))
    return CSET82_RE.test(encoded) ? { kind: 'unit', gtin: u[1]!, serial: encoded } : null;
  let serial: string;
  try {
    serial = decodeURIComponent(encoded);
  } catch {
    return null; // malformed %-escape
  }
  if (!CSET82_RE.test(serial) || encodeSerial(serial) !== encoded) return null;
  return { kind: 'unit', gtin: u[1]!, serial };
}

/** True for a canonical unit subject `01/<GTIN-14>/21/<serial>`. */
export function isUnitSubject(subject: string): boolean {
  return subjectParts(subject)?.kind === 'unit';
}

/** True for a canonical logistic-unit subject `00/<SSCC>`. */
export function isContainerSubject(subject: string): boolean {
  return subjectParts(subject)?.kind === 'container';
}

/** Misuse of a subject builder: the inputs are not a valid GTIN-14/serial or SSCC. */
export class SubjectError extends Error {
  override readonly name = 'SubjectError';
  readonly code = 'INVALID_SUBJECT' as const;
}

/**
 * The canonical unit subject for a GTIN-14 and serial (DESIGN §3).
 * @throws {SubjectError} when the GTIN or serial is invalid.
 */
export function unitSubject(gtin: string, serial: string): string {
  if (!isValidGtin14(gtin))
    throw new SubjectError(`not a GTIN-14 with a valid check digit: ${gtin}`);
  if (!isCset82Value(serial))
    throw new SubjectError('serial must be 1-20 characters of GS1 set 82');
  return `01/${gtin}/21/${encodeSerial(serial)}`;
}

/**
 * The canonical logistic-unit subject for an SSCC (DESIGN §3).
 * @throws {SubjectError} when the SSCC is invalid.
 */
export function containerSubject(sscc: string): string {
  if (!isValidSscc(sscc)) throw new SubjectError(`not an SSCC with a valid check digit: ${sscc}`);
  return `00/${sscc}`;
}

/** The GTIN-14 of a canonical unit subject, or null for a container or a malformed subject. */
export function gtinOfSubject(subject: string): string | null {
  const parts = subjectParts(subject);
  return parts?.kind === 'unit' ? parts.gtin : null;
}

// ---------------------------------------------------------------------------
// Field schemas.

// RFC 3339 UTC with milliseconds, the one spelling Provenant writes (DESIGN §5).
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.\d{3}Z$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function validYmd(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = m === 2 ? (leap ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
  return d <= days;
}

/** True for `YYYY-MM-DDTHH:mm:ss.sssZ` naming a real instant (no Feb 30, no hour 24, no leap second 60). */
export function isCanonicalTime(value: string): boolean {
  const m = typeof value === 'string' ? TIME_RE.exec(value) : null;
  return (
    m !== null && validYmd(+m[1]!, +m[2]!, +m[3]!) && +m[4]! < 24 && +m[5]! < 60 && +m[6]! < 60
  );
}

/** True for a real calendar date `YYYY-MM-DD`. */
export function isCalendarDate(value: string): boolean {
  const m = typeof value === 'string' ? DATE_RE.exec(value) : null;
  return m !== null && validYmd(+m[1]!, +m[2]!, +m[3]!);
}

// Free text: no control characters (Unicode Cc: U+0000-U+001F, U+007F-U+009F),
// no lone surrogates (JCS could not encode them); surrogate pairs are fine.
// Written without the `u` flag so the pattern means the same in the OpenAPI
// document, where JSON Schema validators read it with or without `u`.
const TEXT_RE = /^(?:[^\u0000-\u001F\u007F-\u009F\uD800-\uDFFF]|[\uD800-\uDBFF][\uDC00-\uDFFF])*$/;

/** Strings of 1..max characters without control characters. */
export function textSchema(max: number) {
  return z.string().min(1).max(max).regex(TEXT_RE, 'control characters are not allowed');
}

export const hex64Schema = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
export const kidSchema = z.string().regex(/^[0-9a-f]{32}$/, 'expected 32 lowercase hex digits');
export const glnSchema = z
  .string()
  .refine(isValidGln, 'expected a GLN: 13 digits with a valid check digit');
export const gtinSchema = z
  .string()
  .refine(isValidGtin14, 'expected a GTIN-14: 14 digits with a valid check digit');
export const cset82Schema = z
  .string()
  .refine(isCset82Value, 'expected 1-20 characters of GS1 character set 82');
export const timestampSchema = z
  .string()
  .refine(isCanonicalTime, 'expected RFC 3339 UTC time YYYY-MM-DDTHH:mm:ss.sssZ');
export const dateSchema = z.string().refine(isCalendarDate, 'expected a calendar date YYYY-MM-DD');
export const subjectSchema = z
  .string()
  .refine(
    (s) => subjectParts(s) !== null,
    'expected a canonical subject 01/<gtin>/21/<serial> or 00/<sscc>',
  );
export const unitSubjectSchema = z
  .string()
  .refine(isUnitSubject, 'expected a canonical unit subject 01/<gtin>/21/<serial>');
export const containerSubjectSchema = z
  .string()
  .refine(isContainerSubject, 'expected a canonical logistic unit subject 00/<sscc>');
/** Base64url (no padding) of a raw 32-byte Ed25519 public key (DESIGN §8a). */
export const publicKeySchema = z
  .string()
  .refine(
    (s) => s.length === 43 && fromBase64Url(s)?.length === 32,
    'expected base64url of 32 bytes',
  );

const shipmentIdSchema = textSchema(64);

/** Most subjects one record may list (DESIGN §8: batches of up to 10,000). */
export const MAX_CHILDREN = 10_000;

// ---------------------------------------------------------------------------
// Data per record type (DESIGN §5 table).

export const RECORD_TYPES = [
  'commission',
  'pack',
  'ship',
  'receive',
  'unpack',
  'decommission',
  'reactivate',
  'quarantine',
  'release',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export const recordTypeSchema = z.enum(RECORD_TYPES);

/** Optional product description on commission: at most 16 short named strings. */
export const productSchema = z
  .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/), textSchema(256))
  .refine((p) => Object.keys(p).length <= 16, 'at most 16 product fields');

export const commissionDataSchema = z.strictObject({
  gtin: gtinSchema,
  serial: cset82Schema,
  lot: cset82Schema,
  expiry: dateSchema,
  product: productSchema.optional(),
});

/**
 * Parents (DESIGN §5 "containers nest"): an SSCC, or a commissioned serialized
 * GTIN (a case with its own serial). Which of them may take children is a
 * custody rule (custody.ts), not a schema one.
 */
export const parentSubjectSchema = subjectSchema;

/** Unit form: a subject (a unit, or a container not itself contained) goes into a parent. */
export const unitPackDataSchema = z.strictObject({ parent: parentSubjectSchema });
/**
 * Container form: seq 0 of an SSCC, or a record after the commission of a
 * serialized GTIN case; lists each child (a unit or a container) at its pack record.
 */
export const containerPackDataSchema = z.strictObject({
  children: z
    .array(z.strictObject({ subject: subjectSchema, head: hex64Schema }))
    .min(1)
    .max(MAX_CHILDREN)
    .refine((c) => allDistinct(c.map((x) => x.subject)), 'children must be distinct subjects'),
});
export const packDataSchema = z.union([unitPackDataSchema, containerPackDataSchema]);

export const TRANSACTION_TYPES = ['po', 'inv', 'desadv'] as const;
export const shipDataSchema = z.strictObject({
  to: glnSchema,
  shipment: shipmentIdSchema,
  transactions: z
    .array(z.strictObject({ type: z.enum(TRANSACTION_TYPES), id: textSchema(64) }))
    .max(100)
    .optional(),
});

export const DISCREPANCY_STATUSES = ['missing', 'unexpected', 'damaged'] as const;
export const receiveDataSchema = z.strictObject({
  from: glnSchema,
  shipment: shipmentIdSchema,
  condition: z.enum(['ok', 'damaged']),
  discrepancies: z
    .array(
      z.strictObject({
        subject: subjectSchema,
        status: z.enum(DISCREPANCY_STATUSES),
        note: textSchema(500).optional(),
      }),
    )
    .max(MAX_CHILDREN)
    .optional(),
});

/** Container form: the container is opened; lists every child it held. */
export const containerUnpackDataSchema = z.strictObject({
  children: z
    .array(subjectSchema)
    .min(1)
    .max(MAX_CHILDREN)
    .refine(allDistinct, 'children must be distinct subjects'),
});
/** Unit form: the subject leaves its opened parent; parentHead is the parent's unpack record id. */
export const unitUnpackDataSchema = z.strictObject({
  parent: parentSubjectSchema,
  parentHead: hex64Schema,
});
export const unpackDataSchema = z.union([unitUnpackDataSchema, containerUnpackDataSchema]);

export const DECOMMISSION_REASONS = [
  'dispensed',
  'destroyed',
  'exported',
  'stolen',
  'sample',
  'free_sample',
] as const;
export type DecommissionReason = (typeof DECOMMISSION_REASONS)[number];
export const decommissionDataSchema = z.strictObject({ reason: z.enum(DECOMMISSION_REASONS) });
export const reactivateDataSchema = z.strictObject({ undo: hex64Schema });
export const holdDataSchema = z.strictObject({ case: textSchema(64), reason: textSchema(500) });

function allDistinct(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

// ---------------------------------------------------------------------------
// The record.

const common = {
  v: z.literal(1),
  subject: subjectSchema,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  prev: hex64Schema.nullable(),
  actor: glnSchema,
  kid: kidSchema,
  time: timestampSchema,
};

const recordUnion = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('commission'), data: commissionDataSchema }),
  z.strictObject({ ...common, type: z.literal('pack'), data: packDataSchema }),
  z.strictObject({ ...common, type: z.literal('ship'), data: shipDataSchema }),
  z.strictObject({ ...common, type: z.literal('receive'), data: receiveDataSchema }),
  z.strictObject({ ...common, type: z.literal('unpack'), data: unpackDataSchema }),
  z.strictObject({ ...common, type: z.literal('decommission'), data: decommissionDataSchema }),
  z.strictObject({ ...common, type: z.literal('reactivate'), data: reactivateDataSchema }),
  z.strictObject({ ...common, type: z.literal('quarantine'), data: holdDataSchema }),
  z.strictObject({ ...common, type: z.literal('release'), data: holdDataSchema }),
]);

// Record types that only make sense for a unit (a logistic unit is never a product).
const UNIT_ONLY: ReadonlySet<string> = new Set(['commission', 'decommission', 'reactivate']);

/**
 * Schema of a record payload (DESIGN §5). Besides each field, it enforces the
 * structural rules that need no other state: `prev` is null exactly at seq 0;
 * an SSCC chain starts with the container form `pack {children}` and a unit
 * chain never does (a serialized case takes it after its commission); no
 * subject is its own parent or child; commission, decommission and reactivate
 * apply to units only. Custody rules live in the state machine (custody.ts).
 */
export const recordSchema = recordUnion.superRefine((r, ctx) => {
  if ((r.seq === 0) !== (r.prev === null)) {
    ctx.addIssue({
      code: 'custom',
      path: ['prev'],
      message: r.seq === 0 ? 'prev must be null at seq 0' : 'prev must be a record id after seq 0',
    });
  }
  const unit = r.subject.startsWith('01/');
  if (UNIT_ONLY.has(r.type) && !unit) {
    ctx.addIssue({
      code: 'custom',
      path: ['type'],
      message: `${r.type} applies to unit subjects only`,
    });
  }
  if (r.type === 'pack' && r.seq === 0 && unit === 'children' in r.data) {
    ctx.addIssue({
      code: 'custom',
      path: ['data'],
      message: unit
        ? 'a serialized case is packed as a container after its commission, not at seq 0'
        : 'a logistic unit chain starts with a pack of its children {children}',
    });
  }
  if (r.type === 'pack' || r.type === 'unpack') {
    const d = r.data;
    const self =
      'parent' in d
        ? d.parent === r.subject
        : d.children.some((c) => (typeof c === 'string' ? c : c.subject) === r.subject);
    if (self)
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `${r.subject} cannot contain itself`,
      });
  }
});

/** A well-formed custody record (the JSON payload of a record envelope). */
export type CustodyRecord = z.infer<typeof recordSchema>;
/** The record variant of one type, e.g. `RecordOf<'ship'>`. */
export type RecordOf<T extends RecordType> = Extract<CustodyRecord, { type: T }>;

/**
 * The payload bytes of a record: its RFC 8785 canonical JSON (DESIGN §4).
 * Does not validate; sign only records that passed {@link recordSchema}.
 * @throws {JcsError} for values JCS cannot represent.
 */
export function encodeRecord(record: CustodyRecord): Uint8Array {
  return canonicalBytes(record);
}

/** The record id: lowercase hex SHA-256 of the payload bytes (DESIGN §4). */
export function recordId(record: CustodyRecord): string {
  return sha256Hex(encodeRecord(record));
}

/** The record id of payload bytes as received (hash only; no validation). */
export function recordIdFromPayload(payload: Uint8Array): string {
  return sha256Hex(payload);
}

/** One schema complaint: a field path (`data.children.3.head`) and what is wrong. */
export interface PayloadIssue {
  path: string;
  message: string;
}

export type ParsePayloadResult<T> =
  { ok: true; value: T; id: string } | { ok: false; errors: PayloadIssue[] };

/** Options for the payload parsers: servers inject a faster SHA-256 (same bytes out). */
export interface PayloadOptions {
  sha256?: (bytes: Uint8Array) => Uint8Array;
}

/**
 * Shared by records and notices: UTF-8 → strict JSON → schema, and the bytes
 * must be exactly the JCS encoding of what they decode to. Never throws: the
 * bytes are attacker-controlled.
 */
export function parseCanonicalPayload<T>(
  payload: Uint8Array,
  schema: z.ZodType<T>,
  options: PayloadOptions = {},
): ParsePayloadResult<T> {
  if (!(payload instanceof Uint8Array)) {
    return { ok: false, errors: [{ path: '', message: 'payload must be bytes' }] };
  }
  const idOf = (bytes: Uint8Array) =>
    options.sha256 ? toHex(options.sha256(bytes)) : sha256Hex(bytes);
  // Fast path for well-formed payloads: JSON.parse, then "the text is its own
  // canonical form", which also rules out duplicate keys (a re-serialization
  // keeps one) and lone surrogates (canonicalize throws). A BOM is excluded
  // up front because the UTF-8 decoder strips it. Anything else falls through
  // to the strict parser, which decides and words the error.
  const text = payload[0] === 0xef ? null : fromUtf8(payload);
  if (text !== null) {
    let canonical: boolean;
    let json: unknown;
    try {
      json = JSON.parse(text);
      canonical = canonicalize(json) === text;
    } catch {
      canonical = false;
    }
    if (canonical) {
      const parsed = schema.safeParse(json);
      return parsed.success
        ? { ok: true, value: parsed.data, id: idOf(payload) }
        : { ok: false, errors: schemaIssues(parsed.error) };
    }
  }
  return parseStrict(payload, schema, idOf);
}

function schemaIssues(error: z.ZodError): PayloadIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function parseStrict<T>(
  payload: Uint8Array,
  schema: z.ZodType<T>,
  idOf: (bytes: Uint8Array) => string,
): ParsePayloadResult<T> {
  const text = fromUtf8(payload);
  if (text === null)
    return { ok: false, errors: [{ path: '', message: 'payload is not valid UTF-8' }] };
  let json: unknown;
  try {
    json = parseJsonStrict(text);
  } catch (err) {
    return {
      ok: false,
      errors: [{ path: '', message: `payload is not strict JSON: ${errorMessage(err)}` }],
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, errors: schemaIssues(parsed.error) };
  // One record, one id: a second spelling (spaces, key order, escapes, BOM) is refused.
  let canonical: Uint8Array;
  try {
    canonical = canonicalBytes(json);
  } catch (err) {
    return {
      ok: false,
      errors: [{ path: '', message: `payload cannot be canonicalized: ${errorMessage(err)}` }],
    };
  }
  if (!bytesEqual(canonical, payload)) {
    return {
      ok: false,
      errors: [{ path: '', message: 'payload is not in RFC 8785 canonical form' }],
    };
  }
  return { ok: true, value: parsed.data, id: idOf(payload) };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type ParseRecordResult =
  { ok: true; record: CustodyRecord; id: string } | { ok: false; errors: PayloadIssue[] };

/**
 * Parses record payload bytes from an envelope: UTF-8, strict JSON (no
 * duplicate keys), {@link recordSchema}, and the bytes must be the canonical
 * JCS encoding so the id is unique. Never throws for bad bytes.
 */
export function parseRecordPayload(
  payload: Uint8Array,
  options?: PayloadOptions,
): ParseRecordResult {
  const r = parseCanonicalPayload(payload, recordSchema, options);
  return r.ok ? { ok: true, record: r.value, id: r.id } : r;
}
