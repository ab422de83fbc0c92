// The verifier's other answers (DESIGN §7, §7b, §8a): its receipt key, who a
// token speaks for, quarantine cases, the GS1 Lightweight Verification
// Messaging answers (VRS) and the trust the dock page pins for offline use.
// The verification itself is verification.ts. Strict and tolerant forms as
// shape.ts describes.
import { z } from 'zod';
import { REASON_CODES } from '../reasons.js';
import { shapeKit, type ShapeMode } from './shape.js';

/** How a quarantine case ends (DESIGN §7). */
export const CASE_OUTCOMES = ['released', 'returned', 'destroyed', 'reported', 'other'] as const;
/** A case is open until resolved. */
export const CASE_STATUSES = ['open', 'resolved'] as const;
/** LVM `verificationFailureReason` values (GS1 Lightweight Verification Messaging). */
export const VRS_FAILURE_REASONS = [
  'No_match_GTIN_Serial',
  'No_match_GTIN_Serial_Lot',
  'No_match_GTIN_Serial_Expiry',
  'No_match_GTIN_Serial_Lot_Expiry',
] as const;
/** LVM `additionalInfo` values. */
export const VRS_ADDITIONAL_INFO = ['Expired', 'Recalled', 'Suspect', 'Illegitimate'] as const;

/** Form 3911 "Classification of notification" boxes (FDA, DSCSA illegitimate product notification). */
export const FORM3911_CLASSIFICATIONS = [
  'counterfeit',
  'diverted',
  'stolen',
  'intentional_adulteration',
  'unfit_for_distribution',
  'fraudulent_transaction',
] as const;

/** The verifier's shapes (verification.ts aside) in one mode. */
export function verifierShapes<M extends ShapeMode>(mode: M) {
  const { obj, sent, oneOf } = shapeKit(mode);
  const verifierInfo = obj({
    publicKey: z.string().meta({ description: 'standard base64 of the raw 32-byte Ed25519 key' }),
    kid: sent(z.string()),
    algorithm: sent(z.literal('Ed25519')),
    receipt: sent(z.string().meta({ description: 'how to check a verification receipt' })),
  });
  const verifierAlarm = obj({
    id: z.number().int(),
    code: z.string().meta({ description: 'the DESIGN §7 reason code of what failed' }),
    logIndex: z.number().int().nullable(),
    foundBy: oneOf(['monitor', 'audit'] as const),
    raisedAt: z.string(),
    ackedAt: z.string().nullable(),
    subject: z
      .string()
      .nullable()
      .optional()
      .meta({ description: 'admin and monitor tokens only' }),
    message: z.string().optional().meta({ description: 'admin and monitor tokens only' }),
  });
  // GET /v1/verifier: the receipt key and where the log monitor stands (DESIGN §7b).
  const verifierStatus = obj({
    ...verifierInfo.shape,
    verifiedSize: sent(
      z
        .number()
        .int()
        .meta({ description: 'log entries [0, verifiedSize) verified by the monitor' }),
    ),
    logSize: sent(z.number().int()),
    lagSeconds: sent(
      z
        .number()
        .meta({ description: 'age of the oldest entry not yet verified (0 when caught up)' }),
    ),
    checkpoint: sent(
      obj({ size: z.number().int(), rootHash: z.string() }).nullable().meta({
        description:
          'the newest checkpoint whose signature and root the monitor verified (rootHash lowercase hex, DESIGN §4)',
      }),
    ),
    alarms: sent(z.array(verifierAlarm).meta({ description: 'newest first, at most 100' })),
  });
  const auditReport = obj({
    size: z.number().int(),
    elapsedMs: z.number(),
    entriesPerSecond: z.number(),
    findings: z.array(
      obj({
        index: z.number().int().nullable(),
        subjects: z.array(z.string()),
        code: z.string(),
        message: z.string(),
      }),
    ),
    differences: z.array(obj({ subject: z.string(), problem: z.string() })),
    alarmsRaised: z.number().int(),
  });
  const me = obj({
    party: obj({ gln: z.string(), name: z.string(), roles: z.array(z.string()) })
      .nullable()
      .meta({ description: 'the party the token belongs to; null for the admin token' }),
    scopes: z.array(z.string()),
  });
  const caseView = obj({
    id: z.string(),
    caseNumber: sent(
      z.string().max(12).meta({ description: 'short number for labels: Q-YY-NNNNNN' }),
    ),
    verificationId: z.string(),
    party: z.string(),
    subject: z.string(),
    verdict: z.enum(['quarantine', 'reject']),
    // The reasons as stored with the verification (their details kept).
    reasons: z.array(z.looseObject({ code: z.string(), message: sent(z.string()) })),
    status: z.enum(CASE_STATUSES),
    outcome: z.enum(CASE_OUTCOMES).nullable(),
    note: z.string().nullable(),
    resolvedBy: z.string().nullable(),
    createdAt: z.string(),
    resolvedAt: z.string().nullable(),
  });
  const casesPage = obj({
    cases: z.array(caseView),
    next: sent(z.string().nullable()),
  });
  const vrsResponse = obj({
    verificationTimestamp: z.string(),
    responderGLN: z.string(),
    corrUUID: z.string(),
    data: obj({
      verified: z.boolean(),
      verificationFailureReason: oneOf(VRS_FAILURE_REASONS).optional(),
      additionalInfo: oneOf(VRS_ADDITIONAL_INFO).optional(),
    }),
  });
  const vrsConnectivity = obj({
    responderGLN: z.string().meta({ description: 'GLN of the party that answers for the GTIN' }),
  });
  /** GET /dock/trust.json: the public keys offline verification pins (core Trust). */
  const dockTrust = obj({
    logKey: z.string().meta({ description: 'C2SP verifier key of the log' }),
    authorityKey: z
      .string()
      .meta({ description: 'base64url Ed25519 key of the registry authority' }),
    witnesses: z
      .array(z.union([z.string(), obj({ name: z.string(), publicKey: z.string() })]))
      .optional()
      .meta({ description: 'trusted witnesses: C2SP verifier keys or {name, publicKey}' }),
    minWitnesses: z.number().int().optional(),
    witnessQuorum: z.number().int().optional(),
    maxCheckpointAgeSeconds: z.number().int(),
    verifierKey: z
      .string()
      .optional()
      .meta({ description: 'base64 Ed25519 key that signs verification receipts' }),
  });
  /** GET /v1/cases/{id}/form3911: FDA Form 3911 prefilled from a case. */
  const form3911 = obj({
    form: z.literal('FDA 3911'),
    notificationType: z
      .literal('initial')
      .meta({ description: 'initial notification (follow-ups are the operator’s)' }),
    determination: oneOf(['illegitimate_product', 'high_risk_of_illegitimacy']).meta({
      description:
        'illegitimate (evidence of forgery: a reject) or high risk of illegitimacy (a quarantine)',
    }),
    dateOfDetermination: z.string().meta({
      description: 'YYYY-MM-DD: the date the company determined the product suspect',
    }),
    classification: z
      .array(oneOf(FORM3911_CLASSIFICATIONS))
      .meta({ description: 'every box that applies, the most telling first' }),
    product: obj({
      name: z.string().nullable(),
      ndc: z
        .string()
        .nullable()
        .meta({ description: '10-digit NDC when the GTIN carries one (GS1 US prefix 03)' }),
      gtin: z.string().nullable(),
      serialNumber: z.string().nullable(),
      lotNumber: z.string().nullable(),
      expirationDate: z.string().nullable(),
      sscc: z
        .string()
        .nullable()
        .meta({ description: 'SSCC of a logistic unit, when the case is about one' }),
      quantity: z.number().int(),
    }),
    description: z.string(),
    reporter: obj({ companyName: z.string().nullable(), gln: z.string() }),
    provenant: obj({
      caseId: z.string(),
      verificationId: z.string(),
      subject: z.string(),
      reasonCodes: z.array(oneOf(REASON_CODES as unknown as readonly [string, ...string[]])),
    }).meta({ description: 'cross-references into Provenant' }),
  });
  return {
    verifierInfo,
    verifierAlarm,
    verifierStatus,
    auditReport,
    me,
    caseView,
    casesPage,
    vrsResponse,
    vrsConnectivity,
    dockTrust,
    form3911,
  };
}
