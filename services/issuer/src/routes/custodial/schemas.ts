// Request and response schemas of the custodial endpoints (DESIGN §5, §8a):
// the same zod schemas validate at the edge and document /openapi.json.
// Everything here is attacker-controlled input; strict objects, so an
// unknown field is a 400 naming it.
import { z } from 'zod';
import {
  DECOMMISSION_REASONS,
  TRANSACTION_TYPES,
  glnSchema,
  isCalendarDate,
  isCset82Value,
  isValidGtin14,
  RECEIPT_CONDITIONS,
  productSchema,
  strictApi,
  textSchema,
} from '@provenant/core';
import { Gs1Error, centuryAt, gs1DateToIso, validateAiValue } from '@provenant/gs1';
import { MAX_BATCH_SUBJECTS } from '../../log/sequencer.js';
import { scanInputSchema } from './subjects.js';

/** Most subjects (items, children, scans) one custodial call takes (DESIGN §8). */
export const MAX_BATCH = MAX_BATCH_SUBJECTS;
/** A pack writes N unit records plus the container's: N + 1 fits one submission. */
export const MAX_PACK_CHILDREN = MAX_BATCH_SUBJECTS;

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

function cset82(ai: string, name: string) {
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
const expiryInput = z.string().superRefine((v, ctx) => {
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

/**
 * A commission expiry as YYYY-MM-DD: YYMMDD gets its century from the GS1 §7.12
 * window around the year of `now` (the clock the verifier reads scans with).
 * @throws Gs1Error BAD_DATE when the resolved year has no such day (29 Feb).
 */
export function expiryToIso(expiry: string, now: number): string {
  return isCalendarDate(expiry) ? expiry : gs1DateToIso(expiry, centuryAt(now), '17');
}

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
    description: 'units, or sealed containers not inside another (DESIGN §5: containers nest)',
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

// Responses: one source, @provenant/core api/records.ts (issue 9).

export const {
  appendResult: AppendResult,
  recordsResponse: RecordsResponse,
  packResponse: PackResponse,
  shipmentResponse: ShipmentResponse,
  receiptResponse: ReceiptResponse,
  recallResponse: RecallResponse,
} = strictApi;
