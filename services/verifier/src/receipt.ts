// Verification receipts (DESIGN §7: "a verification receipt signed by the
// verifier key, so an auditor can prove the dock checked"). Shaped like the
// log receipt of DESIGN §6: the verifier key signs the JCS bytes of exactly
// the body fields below, and `signature` (standard base64) is added next to them.
//
//   {v: 1, id, subject, party, purpose, verdict, reasons: [codes], checkpoint:
//    {origin, size, rootHash} | null, verifiedAt, nonce, kid}
//
// To check one: drop `signature`, JCS the rest, Ed25519-verify with the
// public key of GET /v1/verifier (whose kid must equal `kid`).
import {
  verificationReceiptMessage,
  fromBase64,
  keyId,
  sign,
  toBase64,
  verify,
  type Ed25519Backend,
  type VerificationReceipt,
  type VerificationReceiptBody,
} from '@provenant/core';

export type { VerificationReceipt, VerificationReceiptBody };

/** The verifier's key pair (seed is secret: never logged or returned). */
export interface VerifierKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
  kid: string;
}

/** The exact bytes a receipt signature covers (core's verificationReceiptMessage). */
export const receiptMessage = verificationReceiptMessage;

/** Signs a receipt body with the verifier key. */
export function signVerificationReceipt(
  body: Omit<VerificationReceiptBody, 'kid' | 'v'>,
  key: VerifierKey,
  backend?: Ed25519Backend,
): VerificationReceipt {
  const full: VerificationReceiptBody = { v: 1, ...body, kid: key.kid };
  const signature = sign(receiptMessage(full), key.seed, backend);
  return { ...full, signature: toBase64(signature) };
}

/**
 * Checks a receipt against the verifier's public key (raw 32 bytes). False for
 * anything malformed, a kid of another key, or a signature that does not verify.
 */
export function verifyVerificationReceipt(
  receipt: unknown,
  publicKey: Uint8Array,
  backend?: Ed25519Backend,
): boolean {
  if (typeof receipt !== 'object' || receipt === null) return false;
  const r = receipt as Partial<VerificationReceipt>;
  if (typeof r.signature !== 'string' || r.kid !== keyId(publicKey)) return false;
  const sig = fromBase64(r.signature);
  if (sig === null || sig.length !== 64) return false;
  try {
    return verify(sig, receiptMessage(r as VerificationReceiptBody), publicKey, backend);
  } catch {
    // a body JCS cannot represent is no receipt
    return false;
  }
}
