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
  z.strictObject({ gtin: z.string().max(14), serial: z.string().max(20) }),
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
  const ai = err.ai ? ` (AI ${err.ai})` : '';
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

/**
 * Parses a scan in any DESIGN §3 form.
 * @throws HttpProblem 400 naming `path`, the GS1 rule and the AI.
 */
export function scanOf(input: z.infer<typeof scanSchema>, path: string): ScanResult {
  try {
    return parseScan(input);
  } catch (err) {
    if (err instanceof Gs1Error) throw gs1Problem(path, err);
    throw err;
  }
}

/**
 * A canonical subject exactly as DESIGN §3 spells it.
 * @throws HttpProblem 400 `canonical-subject`.
 */
export function canonicalSubjectOf(input: string, path: string): string {
  try {
    const s = formatSubject(parseSubject(input));
    if (s === input) return s;
  } catch (err) {
    if (!(err instanceof Gs1Error)) throw err;
    throw gs1Problem(path, err);
  }
  throw badRequest(`${path}: not a canonical subject (01/<gtin>/21/<serial> or 00/<sscc>).`, {
    errors: [
      { path, rule: 'canonical-subject', message: 'expected 01/<gtin>/21/<serial> or 00/<sscc>' },
    ],
  });
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
    .object({ gtin: z.string(), serial: z.string(), lot: z.string(), expiry: z.string() })
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
});
