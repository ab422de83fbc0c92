// FDA Form 3911 ("Drug Notification": illegitimate product and products with
// a high risk of illegitimacy, DSCSA) as JSON, filled from a quarantine case
// (DESIGN §7 cases). The operator still reviews and submits it; this only
// spares retyping what the verification already knows.
import { z } from 'zod';
import type { Reason, ReasonCode } from '@provenant/core';

/** Form 3911 "Classification of notification" boxes. */
export type Form3911Classification =
  | 'counterfeit'
  | 'diverted'
  | 'stolen'
  | 'intentional_adulteration'
  | 'unfit_for_distribution'
  | 'fraudulent_transaction';

/** Which box each finding points to (decision; the operator may correct it). */
const CLASSIFICATION: Partial<Record<ReasonCode, Form3911Classification>> = {
  SIGNATURE_INVALID: 'counterfeit',
  KEY_UNKNOWN: 'counterfeit',
  KEY_NOT_AUTHORIZED: 'counterfeit',
  CHAIN_BROKEN: 'counterfeit',
  CHAIN_FORK: 'counterfeit',
  GENESIS_INVALID: 'counterfeit',
  LOG_PROOF_INVALID: 'counterfeit',
  BUNDLE_DIVERGES: 'counterfeit',
  UNKNOWN_PRODUCT: 'counterfeit',
  LOT_MISMATCH: 'counterfeit',
  EXPIRY_MISMATCH: 'counterfeit',
  DUPLICATE_SCAN: 'counterfeit',
  CUSTODY_VIOLATION: 'diverted',
  NOT_SHIPPED_TO_YOU: 'diverted',
  DECOMMISSIONED: 'diverted',
  EXPIRED: 'unfit_for_distribution',
  RECALLED: 'unfit_for_distribution',
  IN_QUARANTINE: 'unfit_for_distribution',
  KEY_REVOKED: 'fraudulent_transaction',
  PARTY_SUSPENDED: 'fraudulent_transaction',
  TIME_ANOMALY: 'fraudulent_transaction',
};

/** The Form 3911 body as documented in /openapi.json (GET /v1/cases/{id}/form3911). */
export const Form3911Schema = z.object({
  form: z.literal('FDA 3911'),
  notificationType: z.literal('initial'),
  determination: z.enum(['illegitimate_product', 'high_risk_of_illegitimacy']),
  dateOfDetermination: z.string().meta({ description: 'YYYY-MM-DD' }),
  classification: z.array(
    z.enum([
      'counterfeit',
      'diverted',
      'stolen',
      'intentional_adulteration',
      'unfit_for_distribution',
      'fraudulent_transaction',
    ]),
  ),
  product: z.object({
    name: z.string().nullable(),
    ndc: z.string().nullable(),
    gtin: z.string().nullable(),
    serialNumber: z.string().nullable(),
    lotNumber: z.string().nullable(),
    expirationDate: z.string().nullable(),
    sscc: z.string().nullable(),
    quantity: z.number().int(),
  }),
  description: z.string(),
  reporter: z.object({ companyName: z.string().nullable(), gln: z.string() }),
  provenant: z.object({
    caseId: z.string(),
    verificationId: z.string(),
    subject: z.string(),
    reasonCodes: z.array(z.string()),
  }),
});

export interface Form3911 {
  form: 'FDA 3911';
  /** initial notification (follow-ups are the operator's) */
  notificationType: 'initial';
  /** illegitimate (evidence of forgery: a reject) or high risk of illegitimacy (a quarantine) */
  determination: 'illegitimate_product' | 'high_risk_of_illegitimacy';
  /** date the company determined the product suspect: the verification date (YYYY-MM-DD) */
  dateOfDetermination: string;
  /** every box that applies, the most telling first */
  classification: Form3911Classification[];
  product: {
    name: string | null;
    /** 10-digit NDC when the GTIN carries one (GS1 US prefix 03), else null */
    ndc: string | null;
    gtin: string | null;
    serialNumber: string | null;
    lotNumber: string | null;
    expirationDate: string | null;
    /** SSCC of a logistic unit, when the case is about one */
    sscc: string | null;
    quantity: number;
  };
  description: string;
  reporter: { companyName: string | null; gln: string };
  /** cross-references into Provenant */
  provenant: { caseId: string; verificationId: string; subject: string; reasonCodes: ReasonCode[] };
}

export interface Form3911Input {
  caseId: string;
  verificationId: string;
  subject: string;
  verdict: 'quarantine' | 'reject';
  reasons: Reason[];
  createdAt: string;
  product: { gtin: string; serial: string; lot: string; expiry: string } | null;
  productName: string | null;
  /** units of a logistic unit (1 for a unit) */
  quantity: number;
  reporter: { companyName: string | null; gln: string };
}

/** NDC-10 inside a GTIN-14 (indicator 0, GS1 US prefix 03, NDC, check digit), else null. */
export function ndcOfGtin(gtin: string): string | null {
  return /^003\d{11}$/.test(gtin) ? gtin.slice(3, 13) : null;
}

/** Fills Form 3911 from a case. Pure. */
export function form3911(input: Form3911Input): Form3911 {
  const classes: Form3911Classification[] = [];
  for (const r of input.reasons) {
    let c = CLASSIFICATION[r.code];
    if (r.code === 'DECOMMISSIONED' && /\bstolen\b/.test(r.message)) c = 'stolen';
    if (c && !classes.includes(c)) classes.push(c);
  }
  const sscc = input.subject.startsWith('00/') ? input.subject.slice(3) : null;
  const p = input.product;
  return {
    form: 'FDA 3911',
    notificationType: 'initial',
    determination:
      input.verdict === 'reject' ? 'illegitimate_product' : 'high_risk_of_illegitimacy',
    dateOfDetermination: input.createdAt.slice(0, 10),
    classification: classes,
    product: {
      name: input.productName,
      ndc: p ? ndcOfGtin(p.gtin) : null,
      gtin: p?.gtin ?? null,
      serialNumber: p?.serial ?? null,
      lotNumber: p?.lot ?? null,
      expirationDate: p?.expiry ?? null,
      sscc,
      quantity: input.quantity,
    },
    description: [
      `Verification ${input.verificationId} of ${input.subject} on ${input.createdAt}: ${input.verdict}.`,
      ...input.reasons.map((r) => `${r.code}: ${r.message}`),
    ].join('\n'),
    reporter: input.reporter,
    provenant: {
      caseId: input.caseId,
      verificationId: input.verificationId,
      subject: input.subject,
      reasonCodes: input.reasons.map((r) => r.code),
    },
  };
}
