// FDA Form 3911 ("Drug Notification": illegitimate product and products with
// a high risk of illegitimacy, DSCSA) as JSON, filled from a quarantine case
// (DESIGN §7 cases). The operator still reviews and submits it; this only
// spares retyping what the verification already knows.
import type { ApiResponse, FORM3911_CLASSIFICATIONS, Reason, ReasonCode } from '@provenant/core';

/** Form 3911 "Classification of notification" boxes (core api/verifier.ts). */
export type Form3911Classification = (typeof FORM3911_CLASSIFICATIONS)[number];

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

/** The Form 3911 body (GET /v1/cases/{id}/form3911): one source, core api/verifier.ts. */
export type Form3911 = ApiResponse<'form3911'>;

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
