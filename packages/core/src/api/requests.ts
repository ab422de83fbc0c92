// Request shapes of the API (DESIGN §5, §7, §8, §8a): one source for what the
// server validates at the edge (and documents in /openapi.json) and what a
// client (SDK, CLI, dock page) may send, typed as `ApiRequest<name>`. Every
// value is attacker-controlled on the server: strict objects, so an unknown
// field is a 400 naming it, and refinements that name the GS1 rule broken.
import { z } from 'zod';
import { Gs1Error, SCANNER_PROFILES, validateAiValue } from '@provenant/gs1';
import { companyPrefixSchema, PARTY_ROLES } from '../notices.js';
import { isValidNoteName } from '../note.js';
import { VERIFICATION_NONCE_RE } from '../verification-receipt.js';
import {
  DECOMMISSION_REASONS,
  glnSchema,
  isCalendarDate,
  isCset82Value,
  isValidGtin14,
  kidSchema,
  productSchema,
  textSchema,
  TRANSACTION_TYPES,
} from '../records.js';
import { RECEIPT_CONDITIONS } from './records.js';
import { VERIFICATION_PURPOSES } from './verification.js';
import { CASE_OUTCOMES, CASE_STATUSES } from './verifier.js';

/** Most subjects (items, children, scans) one custodial call takes (DESIGN §8 batches). */
export const MAX_BATCH_SUBJECTS = 10_000;
/** Most subjects (items, children, scans) one custodial call takes. */
export const MAX_BATCH = MAX_BATCH_SUBJECTS;
/** A pack writes N unit records plus the container's: N + 1 fits one submission. */
export const MAX_PACK_CHILDREN = MAX_BATCH_SUBJECTS;

/** Longest scan accepted (no GS1 carrier holds more; parseScan refuses longer too). */
export const MAX_SCAN_CHARS = 8192;

/** One subject input (DESIGN §3): a string in any §3 form, or `{gtin, serial}`. */
export const scanInputSchema = z.union([
  z.string().min(1).max(MAX_SCAN_CHARS),
  z.strictObject({ gtin: z.string().max(14), serial: z.string().max(20) }),
]);

// ---------------------------------------------------------------------------
// Custodial writes (DESIGN §5, §8a).

/**
 * GTIN-14 only (DESIGN §3: the record carries GTIN-14): GTIN-8/12/13 are not
 * padded silently, the error says how to spell them.
 */
export const gtin14Input = z.string().superRefine((v, ctx) => {
  if (!/^\d{14}$/.test(v))
    ctx.addIssue({
      code: 'custom',
      message: 'expected a GTIN-14: exactly 14 digits (left-pad a GTIN-8, -12 or -13 with zeros)',
      params: { rule: 'gtin-14' },
    });
  else if (!isValidGtin14(v))
    ctx.addIssue({
      code: 'custom',
      message: `GTIN ${v} has a bad GS1 check digit`,
      params: { rule: 'check-digit' },
    });
});

export function cset82(ai: string, name: string) {
  return z.string().refine(isCset82Value, {
    message: `${name} (AI ${ai}) must be 1-20 characters of GS1 character set 82`,
    params: { rule: 'cset82' },
  });
}

/**
 * Expiry as the record carries it (YYYY-MM-DD), or as the label prints it
 * (DESIGN §3, AI 17: YYMMDD, day 00 = the last day of the month). A YYMMDD is
 * checked here and kept as is: its century follows the GS1 §7.12 sliding window
 * of the service's clock, so the route converts it (`expiryToIso`).
 */
export const expiryInput = z.string().superRefine((v, ctx) => {
  if (isCalendarDate(v)) return;
  if (/^\d{6}$/.test(v)) {
    try {
      validateAiValue('17', v);
      return;
    } catch (err) {
      if (!(err instanceof Gs1Error)) throw err;
    }
  }
  ctx.addIssue({
    code: 'custom',
    message: 'expected a calendar date YYYY-MM-DD, or YYMMDD as in AI 17 (day 00: end of month)',
    params: { rule: 'date' },
  });
});

const shipmentId = textSchema(64).meta({
  description: 'the shipment id (e.g. the ASN / DESADV number)',
});

export const CommissionItem = z.strictObject({
  gtin: gtin14Input,
  serial: cset82('21', 'serial'),
  lot: cset82('10', 'lot'),
  expiry: expiryInput,
  product: productSchema.optional(),
});

export const CommissionBody = z.strictObject({
  items: z.array(CommissionItem).min(1).max(MAX_BATCH),
});

const subjects = (max: number) => z.array(scanInputSchema).min(1).max(max);

export const PackBody = z.strictObject({
  parent: scanInputSchema.meta({
    description:
      'the container: a new logistic unit (SSCC, 18 digits, subject 00/<sscc> or any scan form) or a commissioned serialized case (GTIN + serial)',
  }),
  children: subjects(MAX_PACK_CHILDREN).meta({
    description:
      'units, or closed containers (packed, not inside another) (DESIGN §5: containers nest)',
  }),
});

export const UnpackBody = z.strictObject({
  parent: scanInputSchema.meta({
    description: 'the container to open: an SSCC or a packed serialized case',
  }),
});

export const ShipmentBody = z.strictObject({
  subjects: subjects(MAX_BATCH),
  to: glnSchema,
  shipment: shipmentId,
  transactions: z
    .array(z.strictObject({ type: z.enum(TRANSACTION_TYPES), id: textSchema(64) }))
    .max(100)
    .optional(),
});

export const ReceiptBody = z.strictObject({
  shipment: shipmentId,
  from: glnSchema,
  scanned: subjects(MAX_BATCH),
  condition: z.enum(RECEIPT_CONDITIONS),
});

export const DecommissionBody = z.strictObject({
  subjects: subjects(MAX_BATCH),
  reason: z.enum(DECOMMISSION_REASONS),
});

export const ReactivationBody = z.strictObject({ subjects: subjects(MAX_BATCH) });

export const RecallBody = z.strictObject({
  gtin: gtin14Input,
  lot: cset82('10', 'lot').optional(),
  reason: textSchema(500),
});

// ---------------------------------------------------------------------------
// The registry (DESIGN §5, §8a).

/** Token scopes (DESIGN §8 Auth); `admin` is the operator's alone. */
export const SCOPES = ['sign', 'verify', 'keys', 'monitor', 'admin'] as const;

const glnField = z.string().refine((s) => glnSchema.safeParse(s).success, {
  message: 'expected a GLN: 13 digits with a valid GS1 check digit',
  params: { rule: 'check-digit' },
});

export const GlnParams = z.object({ gln: glnField });
export const KidParams = z.object({ kid: kidSchema });
export const TokenParams = z.object({
  id: z
    .string()
    .regex(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      'expected a token id (uuid)',
    ),
});

export const PartyBody = z.strictObject({
  gln: glnField,
  name: textSchema(200),
  roles: z
    .array(z.enum(PARTY_ROLES))
    .min(1)
    .max(PARTY_ROLES.length)
    .refine((r) => new Set(r).size === r.length, 'roles must be distinct'),
  // Optional: a distributor or dispenser owns no company prefix (decision: absent means none).
  prefixes: z
    .array(companyPrefixSchema)
    .max(100)
    .refine((p) => new Set(p).size === p.length, 'prefixes must be distinct')
    .default([]),
});

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

export const KeyBody = z.union([
  z.strictObject({
    publicKey: z
      .string()
      .meta({ description: 'base64url (no padding) of the raw 32-byte Ed25519 key' }),
    time: z
      .string()
      .regex(RFC3339, 'expected an RFC 3339 date-time')
      .refine((t) => Number.isFinite(Date.parse(t.toUpperCase())), 'not a real instant')
      .meta({ description: 'RFC 3339, within 5 minutes of the server clock' }),
    proof: z
      .string()
      .regex(/^[A-Za-z0-9_-]{86}(==)?$/, 'expected base64url of 64 bytes')
      .meta({
        description:
          'base64url Ed25519 signature by the key over JCS({gln, publicKey, purpose: "provenant-key-registration", time})',
      }),
  }),
  z.strictObject({ custodial: z.literal(true) }),
]);

export const TokenBody = z.strictObject({
  scopes: z
    .array(z.enum(SCOPES))
    .min(1)
    .max(SCOPES.length)
    .refine((s) => new Set(s).size === s.length, 'scopes must be distinct'),
});

export const StatusBody = z.strictObject({ reason: textSchema(500).optional() });

export const RevokeBody = z.strictObject({
  compromisedAt: z
    .string()
    .regex(RFC3339, 'expected an RFC 3339 date-time, e.g. 2026-11-28T12:00:00Z')
    .refine((s) => Number.isFinite(Date.parse(s.toUpperCase())), 'not a real instant'),
  reason: textSchema(500),
});

// ---------------------------------------------------------------------------
// The log and its witnesses (DESIGN §6).

export const WitnessBody = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(255)
    .refine(isValidNoteName, 'a signed-note key name: printable ASCII, no spaces or "+"')
    .meta({ description: 'the witness key name, as in its cosignature lines' }),
  publicKey: z
    .string()
    .max(64)
    .meta({ description: 'base64url or standard base64 of the raw 32-byte Ed25519 key' }),
});

export const CosignatureBody = z.strictObject({
  /** C2SP verifier key of the witness: `<name>+<hex id>+<base64(0x04 || key)>`. */
  witness: z.string().min(1).max(1024),
  /** The tlog-cosignature line `— <name> <base64(keyID || timestamp || sig)>`. */
  cosignature: z.string().min(1).max(1024),
  /** Size of the cosigned checkpoint; default: the checkpoint given, else the latest. */
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** The cosigned checkpoint (body or signed note), to name its size. */
  checkpoint: z.string().min(1).max(65536).optional(),
});

// ---------------------------------------------------------------------------
// Verification and cases (DESIGN §7).

export const purposeSchema = z.enum(VERIFICATION_PURPOSES);

/** A scan as the verifier takes it: fields optional so a missing one is named by its GS1 rule. */
export const scanSchema = z.union([
  z.string().min(1).max(MAX_SCAN_CHARS),
  z.strictObject({ gtin: z.string().max(14).optional(), serial: z.string().max(20).optional() }),
]);

// DESIGN §7 "receipts bind the question": the nonce is signed back in the receipt.
export const nonceSchema = z
  .string()
  .regex(VERIFICATION_NONCE_RE, 'nonce must be 1-64 URL-safe characters [A-Za-z0-9_-]')
  .meta({
    description:
      'a fresh random value of the caller, signed back in the receipt so that a receipt for another question cannot be replayed',
  });

export const ResolveBody = z.strictObject({
  outcome: z.enum(CASE_OUTCOMES),
  note: z.string().max(2000).optional(),
});

export const VerificationBody = z
  .strictObject({
    scan: scanSchema.optional(),
    // DESIGN §3: "inputs accepted anywhere a subject is expected": every scan form too.
    subject: scanSchema.optional(),
    purpose: purposeSchema,
    nonce: nonceSchema.optional(),
    scannerProfile: z.enum(SCANNER_PROFILES).optional().meta({
      description:
        'Opt in to the printable GS stand-ins of a named scanner profile (DESIGN §3). `keyboard-wedge-gs`: a keyboard-wedge scanner that sends `<GS>`, `{GS}`, `[GS]`, `<FNC1>`, `^FNC1`, U+241D, `\\x1d`, or a single `|` `^` `~` before an AI, or `~1`, for GS. Without it only 0x1D (FNC1) separates: `<` and `>` are legal serial characters.',
    }),
  })
  .superRefine((b, ctx) => {
    if ((b.scan === undefined) === (b.subject === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of scan or subject',
        params: { rule: 'scan-or-subject' },
      });
  });

export const BundleVerifyBody = z.strictObject({
  bundle: z.record(z.string(), z.unknown()).meta({
    description: 'An offline bundle (GET /v1/bundles/{subject}) handed over by a shipper',
  }),
  purpose: purposeSchema,
  // DESIGN §7: what the dock scanned; a bundle for anything else is SUBJECT_MISMATCH.
  scan: scanSchema
    .optional()
    .meta({ description: 'the code scanned on the goods; the bundle must be for it' }),
  nonce: nonceSchema.optional(),
});

export { CASE_STATUSES };
