// Receipts bind the question (DESIGN §7, issue 10 finding 2): every online
// answer's receipt is checked against a verifier key the page holds (a trust
// file the clerk chose, this service's kept trust, or GET /v1/verifier), and
// an answer whose receipt does not answer this scan shows no verdict, never
// ACCEPT. The key comes from this page's own origin unless the clerk chose a
// trust file: it is no more trusted than the script, but it is fetched apart
// from the answers, so a replayed or altered answer is caught.
import { verifierKeyBytes, type ReceiptCheckCode } from '@provenant/sdk';

const CHOSEN_KEY = 'provenant.dock.verifierKey';

/** The `verifierKey` of a trust file (or a bare key) when it is a 32-byte key, else null. */
export function verifierKeyOf(raw: unknown): string | null {
  const k = typeof raw === 'string' ? raw : (raw as { verifierKey?: unknown } | null)?.verifierKey;
  return typeof k === 'string' && verifierKeyBytes(k) !== null ? k : null;
}

const WHY: Record<ReceiptCheckCode, string> = {
  RECEIPT_MISSING: 'it carries no receipt',
  RECEIPT_MALFORMED: 'its receipt is malformed',
  KID_MISMATCH: 'its receipt is signed by another key than this service’s verifier',
  SIGNATURE_INVALID: 'its receipt signature is not valid',
  RECEIPT_MISMATCH: 'its receipt does not match the answer shown',
  SUBJECT_MISMATCH: 'its receipt is for another item than the one scanned',
  PARTY_MISMATCH: 'its receipt is for another company',
  PURPOSE_MISMATCH: 'its receipt is for another purpose',
  NONCE_MISMATCH: 'its receipt answers an earlier request, not this scan',
  RECEIPT_STALE: 'its receipt is too old (or this device’s clock is wrong)',
};

/** What the clerk reads instead of a verdict when an answer's receipt does not bind this scan. */
export function unboundText(code: ReceiptCheckCode): string {
  return `The answer cannot be trusted: ${WHY[code] ?? 'its receipt does not check'}. Do not accept the goods on it; scan again, and report it if it repeats. [${code}]`;
}

/** Pins the verifier key of a trust file the clerk chose (this tab only); ignored when it has none. */
export function pinChosenKey(trust: unknown): void {
  const k = verifierKeyOf(trust);
  if (k) sessionStorage.setItem(CHOSEN_KEY, k);
}

/**
 * The key receipts must verify under: a chosen trust file's, else the kept
 * trust's (/dock/trust.json), else GET /v1/verifier's.
 * @throws Error when the service gives no usable key (then no answer can be trusted).
 */
export async function receiptKey(
  keptTrust: () => unknown,
  fetchKey: () => Promise<{ publicKey: string }>,
): Promise<string> {
  const chosen = verifierKeyOf(sessionStorage.getItem(CHOSEN_KEY));
  if (chosen) return chosen;
  const kept = verifierKeyOf(keptTrust());
  if (kept) return kept;
  const fetched = verifierKeyOf((await fetchKey()).publicKey);
  if (!fetched)
    throw new Error('The service gave no usable verifier key: its answers cannot be checked.');
  return fetched;
}
