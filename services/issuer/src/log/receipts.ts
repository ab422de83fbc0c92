// Log receipts (DESIGN §6), like CT SCTs: every accepted entry gets
// {origin, index, leafHash, integratedAt, signature}, where signature (base64)
// is Ed25519 by the log key over the JCS bytes of exactly
// {origin, index, leafHash, integratedAt}. The receipt time is the time that
// counts for key validity (a key revoked with compromisedAt = T).
import { canonicalBytes, fromBase64, sign, verify } from '@provenant/core';
import { nodeBackend } from '@provenant/core/node';

/** The signed part of a receipt: leafHash lowercase hex, integratedAt RFC 3339 (ms, UTC). */
export interface ReceiptBody {
  origin: string;
  index: number;
  leafHash: string;
  integratedAt: string;
}

/** A log receipt as served in append responses and chains. */
export interface Receipt extends ReceiptBody {
  /** Standard base64 of the 64-byte Ed25519 signature. */
  signature: string;
}

/** The exact bytes the log key signs: JCS of the four fields, nothing else. */
export function receiptMessage(body: ReceiptBody): Uint8Array {
  return canonicalBytes({
    origin: body.origin,
    index: body.index,
    leafHash: body.leafHash,
    integratedAt: body.integratedAt,
  });
}

/** Raw signature of a receipt body with the log key seed (node:crypto backend). */
export function signReceiptBody(body: ReceiptBody, seed: Uint8Array): Uint8Array {
  return sign(receiptMessage(body), seed, nodeBackend);
}

// The receipt of a stored leaf from its columns (shared with the bundle reader).
export { receiptOf } from '@provenant/store';

/**
 * True when `receipt` is signed by `publicKey` over exactly its four fields.
 * The receipt is attacker-controlled: any malformed field is false, never a throw.
 */
export function verifyReceipt(receipt: unknown, publicKey: Uint8Array): boolean {
  if (typeof receipt !== 'object' || receipt === null) return false;
  const r = receipt as Record<string, unknown>;
  if (
    typeof r.origin !== 'string' ||
    typeof r.index !== 'number' ||
    !Number.isSafeInteger(r.index) ||
    r.index < 0 ||
    typeof r.leafHash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(r.leafHash) ||
    typeof r.integratedAt !== 'string' ||
    typeof r.signature !== 'string'
  )
    return false;
  const sig = fromBase64(r.signature);
  if (!sig || sig.length !== 64) return false;
  try {
    const message = receiptMessage({
      origin: r.origin,
      index: r.index,
      leafHash: r.leafHash,
      integratedAt: r.integratedAt,
    });
    return verify(sig, message, publicKey, nodeBackend);
  } catch {
    return false;
  }
}
