// Shared pieces of the verifier's routes: the caller's party, scan and subject
// inputs (attacker-controlled: a bad one is a 400 naming the GS1 rule and AI),
// and the response schemas registered in OpenAPI.
import type { Request } from 'express';
import type { z } from 'zod';
import { MAX_SCAN_CHARS, purposeSchema, scanSchema, strictApi } from '@provenant/core';
import {
  Gs1Error,
  formatSubject,
  parseScan,
  parseSubject,
  type ParseScanOptions,
  type ScanResult,
} from '@provenant/gs1';
import { badRequest, forbidden, principalOf, type Principal } from '@provenant/server-kit';

// Request pieces: one source, @provenant/core api/requests.ts (issue 9).
export { MAX_SCAN_CHARS, purposeSchema, scanSchema };

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
 * `options`: the §7.12 reference year (`centuryAt(deps.now())`) and an opted-in
 * scanner profile.
 * @throws HttpProblem 400 naming `path`, the GS1 rule and the AI.
 */
export function scanOf(
  input: z.infer<typeof scanSchema>,
  path: string,
  options: ParseScanOptions,
): ScanResult {
  // DESIGN §3: a canonical subject is accepted wherever a scan is, and so is any
  // other Digital Link path without host (with a lot, say: 01/…/10/…/21/…).
  if (typeof input === 'string' && CANONICAL_PREFIX.test(input)) {
    try {
      return { subject: formatSubject(parseSubject(input)) };
    } catch (err) {
      if (!(err instanceof Gs1Error)) throw err;
      try {
        return parseScan(`https://id.gs1.org/${input}`, options);
      } catch {
        throw gs1Problem(path, err);
      }
    }
  }
  try {
    return parseScan(input as Parameters<typeof parseScan>[0], options);
  } catch (err) {
    if (err instanceof Gs1Error) throw gs1Problem(path, err);
    throw err;
  }
}

// ---------------------------------------------------------------------------
// OpenAPI schemas (the same shapes the routes answer).

// The verification shapes are shared with the SDK and the dock page (core api/verification.ts).
export const ReasonView = strictApi.reason;
export const ReceiptView = strictApi.receipt;
// A copy made here, after @provenant/server-kit extended zod for OpenAPI, so it can be registered.
export const VerificationResponse = strictApi.verification.meta({
  description: 'A verification: verdict, reasons, custody timeline and signed receipt (DESIGN §7)',
});
