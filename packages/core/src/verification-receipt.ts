// Verification receipts (DESIGN §7: "a verification receipt signed by the
// verifier key, so an auditor can prove the dock checked"). Shaped like the
// log receipt of DESIGN §6: the verifier key signs the JCS bytes of exactly
// the body fields below, and `signature` (standard base64) is added next to
// them. The signer (services/verifier) and every checker (SDK, CLI, dock)
// build the signed bytes here, so they cannot drift apart.
import { canonicalBytes } from './jcs.js';
import type { ReasonCode, Verdict } from './reasons.js';
import type { Purpose } from './verify.js';

/**
 * A request nonce (DESIGN §7 "receipts bind the question"): 1–64 URL-safe
 * characters. The SDK and the CLI send a fresh one and accept only a receipt
 * that signs it back, so a genuine receipt for another question cannot be replayed.
 */
export const VERIFICATION_NONCE_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** How far a receipt's verifiedAt may lie from the checker's clock (DESIGN §7: 5 minutes). */
export const RECEIPT_FRESHNESS_MS = 5 * 60 * 1000;

/** The signed fields of a verification receipt. */
export interface VerificationReceiptBody {
  v: 1;
  /** the stored verification's id (GET /v1/verifications/{id}) */
  id: string;
  subject: string;
  /** GLN of the verifying party */
  party: string;
  purpose: Purpose;
  verdict: Verdict;
  /** the reason codes, in the order of the answer */
  reasons: ReasonCode[];
  /** the log checkpoint the evidence was proved against; null when there was none (UNKNOWN_PRODUCT) */
  checkpoint: { origin: string; size: number; rootHash: string } | null;
  /** RFC 3339 UTC with milliseconds */
  verifiedAt: string;
  /** the request's nonce, signed back; null when the request carried none */
  nonce: string | null;
  /** kid of the verifier key (DESIGN §4) */
  kid: string;
}

export interface VerificationReceipt extends VerificationReceiptBody {
  /** standard base64 Ed25519 signature over JCS(body) */
  signature: string;
}

/**
 * The exact bytes a verification receipt's signature covers: JCS of the body
 * fields only (anything else in the object, `signature` included, is not signed).
 * @throws JcsError when a field holds a value JCS cannot represent.
 */
export function verificationReceiptMessage(body: VerificationReceiptBody): Uint8Array {
  const { v, id, subject, party, purpose, verdict, reasons, checkpoint, verifiedAt, nonce, kid } =
    body;
  return canonicalBytes({
    v,
    id,
    subject,
    party,
    purpose,
    verdict,
    reasons,
    checkpoint,
    verifiedAt,
    // A missing nonce is signed as null: a receipt cannot be stripped of it and still verify.
    nonce: nonce ?? null,
    kid,
  });
}
