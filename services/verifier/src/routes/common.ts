// Shared pieces of the verifier's routes: the caller's party, scan and subject
// inputs (attacker-controlled: a bad one is a 400 naming the GS1 rule and AI),
// and the response schemas registered in OpenAPI.
import type { Request } from 'express';
import { z } from 'zod';
import { REASON_CODES } from '@provenant/core';
import { Gs1Error, formatSubject, parseScan, parseSubject, type ScanResult } from '@provenant/gs1';
import { badRequest, forbidden, principalOf, type Principal } from '@provenant/issuer';

export const PURPOSES = ['receiving', 'saleable_return', 'dispense'] as const;
export const purposeSchema = z.enum(PURPOSES);

/** Longest scan accepted (no GS1 carrier holds more). */
export const MAX_SCAN_CHARS = 8192;

export const scanSchema = z.union([
  z.string().min(1).max(MAX_SCAN_CHARS),
  // Fields optional here so that a missing one is named by its GS1 rule (parseScan).
  z.strictObject({ gtin: z.string().max(14).optional(), serial: z.string().max(20).optional() }),
]);

/** The caller's party: verification always acts as a party (DESIGN §7). */
export function callerParty(req: Request): { principal: Principal; gln: string } {
  const principal = principalOf(req);
  if (principal.gln === null)
    throw forbidden('Verification acts as a party: use a party token with the "verify" scope.', {
      slug: 'party-required',
    });
  return { principal, gln: principal.gln };
}

/** GS1 error code as a field-error rule: BAD_CHECK_DIGIT -> bad-check-digit. */
export function gs1Rule(err: Gs1Error): string {
  return err.code.toLowerCase().replace(/_/g, '-');
}

/** A 400 naming the field, the GS1 rule and the AI. */
export function gs1Problem(path: string, err: Gs1Error) {
  const ai = err.ai && !err.message.includes(`AI ${err.ai}`) ? ` (AI ${err.ai})` : '';
  return badRequest(`${path}: ${err.message}${ai}.`, {
    errors: [
      {
        path,
        rule: gs1Rule(err),
        message: `${err.message}${ai}`,
        ...(err.ai ? { ai: err.ai } : {}),
      },
    ],
  });
}

/** A Digital Link path without host: the canonical subject form (DESIGN §3). */
const CANONICAL_PREFIX = /^0[01]\//;

/**
 * Parses a scan or a subject in any DESIGN §3 form, canonical subjects included.
 * @throws HttpProblem 400 naming `path`, the GS1 rule and the AI.
 */
export function scanOf(input: z.infer<typeof scanSchema>, path: string): ScanResult {
  // DESIGN §3: a canonical subject is accepted wherever a scan is, and so is any
  // other Digital Link path without host (with a lot, say: 01/…/10/…/21/…).
  if (typeof input === 'string' && CANONICAL_PREFIX.test(input)) {
    try {
      return { subject: formatSubject(parseSubject(input)) };
    } catch (err) {
      if (!(err instanceof Gs1Error)) throw err;
      try {
        return parseScan(`https://id.gs1.org/${input}`);
      } catch {
        throw gs1Problem(path, err);
      }
    }
  }
  try {
    return parseScan(input as Parameters<typeof parseScan>[0]);
  } catch (err) {
    if (err instanceof Gs1Error) throw gs1Problem(path, err);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// OpenAPI schemas (the same shapes the routes answer).

export const ReasonView = z.object({
  code: z.enum(REASON_CODES as [string, ...string[]]),
  message: z.string(),
  subject: z.string().optional(),
  seq: z.number().int().optional(),
});

export const ReceiptView = z
  .object({
    v: z.literal(1),
    id: z.string(),
    subject: z.string(),
    party: z.string(),
    purpose: purposeSchema,
    verdict: z.enum(['accept', 'quarantine', 'reject']),
    reasons: z.array(z.string()),
    checkpoint: z
      .object({ origin: z.string(), size: z.number().int(), rootHash: z.string() })
      .nullable(),
    verifiedAt: z.string(),
    kid: z.string(),
    signature: z.string().meta({
      description:
        'standard base64 Ed25519 signature by the verifier key (GET /v1/verifier) over the JCS bytes of every other field',
    }),
  })
  .meta({ description: 'Verification receipt: proves the dock checked' });

export const VerificationResponse = z.object({
  id: z.string(),
  party: z.string(),
  purpose: purposeSchema,
  verdict: z.enum(['accept', 'quarantine', 'reject']),
  reasons: z.array(ReasonView),
  subject: z.string(),
  product: z
    .object({
      gtin: z.string(),
      serial: z.string(),
      lot: z.string(),
      expiry: z.string(),
      details: z
        .record(z.string(), z.string())
        .optional()
        .meta({ description: "the commission's product fields, e.g. name" }),
    })
    .nullable(),
  status: z.enum(['active', 'inactive', 'in_transit', 'quarantined', 'unknown']),
  custodian: z.string().nullable(),
  custody: z.array(
    z.object({
      subject: z.string(),
      seq: z.number().int(),
      type: z.string(),
      actor: z.string(),
      time: z.string(),
      receiptTime: z.string(),
      index: z.number().int(),
      id: z.string(),
      to: z.string().optional(),
      from: z.string().optional(),
      shipment: z.string().optional(),
    }),
  ),
  units: z
    .object({
      total: z.number().int(),
      counts: z.object({
        accept: z.number().int(),
        quarantine: z.number().int(),
        reject: z.number().int(),
      }),
      failing: z.array(
        z.object({
          subject: z.string(),
          verdict: z.enum(['accept', 'quarantine', 'reject']),
          reasons: z.array(ReasonView),
        }),
      ),
    })
    .optional()
    .meta({
      description: 'logistic units: every unit inside, counts per verdict, the failing ones',
    }),
  checkpoint: z
    .object({ origin: z.string(), size: z.number().int(), rootHash: z.string() })
    .nullable(),
  verifiedAt: z.string(),
  receipt: ReceiptView,
  case: z.object({ id: z.string(), status: z.literal('open') }).optional(),
  limited: z.literal(true).optional().meta({
    description:
      'the caller is outside the subject’s chain (DESIGN §6a): custody, custodian, failing units and reason messages are withheld',
  }),
});
