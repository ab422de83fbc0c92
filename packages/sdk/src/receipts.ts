// Checking a verification receipt (DESIGN §7: "a verification receipt signed
// by the verifier key, so an auditor can prove the dock checked"). The answer
// of POST /v1/verifications is server-controlled: its receipt is verified
// with a PINNED verifier key (a trust file's verifierKey), never with a key
// fetched alongside it, and must say what the answer says. DESIGN §7
// "receipts bind the question": it must also answer THIS request (subject,
// party, purpose and a fresh nonce) and be fresh (verifiedAt within 5 minutes),
// or a genuine receipt for another unit, party or day could be replayed.
import {
  verificationReceiptMessage,
  fromBase64,
  fromBase64Url,
  keyId,
  nobleBackend,
  RECEIPT_FRESHNESS_MS,
  toBase64Url,
  verify,
  type Ed25519Backend,
  type VerificationReceiptBody,
} from '@provenant/core';

export type ReceiptCheckCode =
  | 'RECEIPT_MISSING'
  | 'RECEIPT_MALFORMED'
  | 'KID_MISMATCH'
  | 'SIGNATURE_INVALID'
  | 'RECEIPT_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'PARTY_MISMATCH'
  | 'PURPOSE_MISMATCH'
  | 'NONCE_MISMATCH'
  | 'RECEIPT_STALE';

/** The question a receipt must answer: what the caller asked, and when it checks. */
export interface ReceiptQuestion {
  /** canonical subject of what was scanned */
  subject: string;
  /** GLN of the verifying party (the caller's token) */
  party: string;
  purpose: string;
  /** the nonce the request carried */
  nonce: string;
  /** the checker's clock, ms since the epoch (default Date.now()) */
  now?: number;
}

/** A fresh random nonce (DESIGN §7): 128 bits, base64url (22 characters). */
export function freshNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return toBase64Url(bytes);
}

/** A bad receipt is a return value, not an exception (the answer is evidence). */
export type ReceiptCheck =
  { ok: true; kid: string } | { ok: false; code: ReceiptCheckCode; detail: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A raw 32-byte Ed25519 key from standard base64 (as GET /v1/verifier serves it) or base64url. */
export function verifierKeyBytes(key: string | Uint8Array): Uint8Array | null {
  if (key instanceof Uint8Array) return key.length === 32 ? key : null;
  if (typeof key !== 'string') return null;
  const bytes = fromBase64(key) ?? fromBase64Url(key);
  return bytes && bytes.length === 32 ? bytes : null;
}

/**
 * Checks the `receipt` of a verification answer against the pinned verifier
 * public key: its kid is the key's (DESIGN §4), its Ed25519 signature covers
 * the JCS bytes of exactly `{v, id, subject, party, purpose, verdict,
 * reasons, checkpoint, verifiedAt, nonce, kid}`, and it names the answer's id,
 * subject, purpose, verdict and reason codes (in order). With `question`, it
 * must also answer that question: same subject, party, purpose and nonce, and
 * verifiedAt within 5 minutes of `question.now` (DESIGN §7).
 * @throws {TypeError} when `verifierKey` is not a 32-byte key (misuse).
 */
export function checkVerificationReceipt(
  verification: unknown,
  verifierKey: string | Uint8Array,
  backend: Ed25519Backend = nobleBackend,
  question?: ReceiptQuestion,
): ReceiptCheck {
  const pub = verifierKeyBytes(verifierKey);
  if (!pub) throw new TypeError('verifierKey must be a 32-byte Ed25519 public key');
  if (!isObject(verification) || !isObject(verification['receipt']))
    return { ok: false, code: 'RECEIPT_MISSING', detail: 'the answer carries no receipt' };
  const r = verification['receipt'];
  const str = (k: string) => typeof r[k] === 'string';
  const cp = r['checkpoint'];
  if (
    r['v'] !== 1 ||
    !['id', 'subject', 'party', 'purpose', 'verdict', 'verifiedAt', 'kid', 'signature'].every(
      str,
    ) ||
    !Array.isArray(r['reasons']) ||
    !r['reasons'].every((c) => typeof c === 'string') ||
    !(cp === null || isObject(cp)) ||
    !(r['nonce'] === undefined || r['nonce'] === null || typeof r['nonce'] === 'string')
  )
    return {
      ok: false,
      code: 'RECEIPT_MALFORMED',
      detail: 'the receipt lacks a field or has a wrong type',
    };
  const kid = keyId(pub);
  if (r['kid'] !== kid)
    return {
      ok: false,
      code: 'KID_MISMATCH',
      detail: `the receipt is by kid ${String(r['kid'])}, the pinned verifier key is ${kid}`,
    };
  const sig = fromBase64(r['signature'] as string);
  let message: Uint8Array;
  try {
    message = verificationReceiptMessage({ ...(r as unknown as VerificationReceiptBody), kid });
  } catch {
    return { ok: false, code: 'RECEIPT_MALFORMED', detail: 'the receipt is not JCS-representable' };
  }
  if (!sig || !verify(sig, message, pub, backend))
    return {
      ok: false,
      code: 'SIGNATURE_INVALID',
      detail: 'the receipt signature does not verify with the pinned verifier key',
    };
  // The signature covers the receipt; the receipt must cover the answer shown.
  const codes = Array.isArray(verification['reasons'])
    ? verification['reasons'].map((x) => (isObject(x) ? x['code'] : undefined))
    : [];
  const same = (k: string) => verification[k] === undefined || verification[k] === r[k];
  if (
    !same('id') ||
    !same('subject') ||
    !same('purpose') ||
    verification['verdict'] !== r['verdict'] ||
    JSON.stringify(codes) !== JSON.stringify(r['reasons'])
  )
    return {
      ok: false,
      code: 'RECEIPT_MISMATCH',
      detail: `the signed receipt (${String(r['verdict'])}: ${(r['reasons'] as string[]).join(', ') || 'no reasons'}) does not match the answer`,
    };
  return question ? answersQuestion(r, question, kid) : { ok: true, kid };
}

/** The signed receipt answers this question, now (DESIGN §7 "receipts bind the question"). */
function answersQuestion(
  r: Record<string, unknown>,
  q: ReceiptQuestion,
  kid: string,
): ReceiptCheck {
  const fields = [
    ['subject', 'SUBJECT_MISMATCH'],
    ['party', 'PARTY_MISMATCH'],
    ['purpose', 'PURPOSE_MISMATCH'],
    ['nonce', 'NONCE_MISMATCH'],
  ] as const;
  for (const [k, code] of fields)
    if (r[k] !== q[k])
      return {
        ok: false,
        code,
        detail: `the receipt is for ${k} ${JSON.stringify(r[k] ?? null)}, the request was for ${JSON.stringify(q[k])}`,
      };
  const at = Date.parse(r['verifiedAt'] as string);
  const now = q.now ?? Date.now();
  if (!Number.isFinite(at) || Math.abs(now - at) > RECEIPT_FRESHNESS_MS)
    return {
      ok: false,
      code: 'RECEIPT_STALE',
      detail: `the receipt was signed at ${String(r['verifiedAt'])}, more than ${RECEIPT_FRESHNESS_MS / 60_000} minutes from this clock (${new Date(now).toISOString()})`,
    };
  return { ok: true, kid };
}
