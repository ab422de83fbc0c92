// GS1 Lightweight Verification Messaging (DESIGN §7 `GET /v1/vrs/...`): a
// verdict as the standard's response, with its standard values only.
//
// In the standard, `verificationFailureReason` says which identifiers did not
// match (No_match_GTIN_Serial, ..._Lot, ..._Expiry, ..._Lot_Expiry), and
// `additionalInfo` says why the product is not verified although it matched
// (Expired, Recalled, Suspect, Illegitimate). Each DESIGN §7 code maps to one
// value through core's REASONS[code].vrs.
//
// The most specific failing reason (decision):
//  - verificationFailureReason: No_match_GTIN_Serial when the serial is unknown
//    (no need to compare lot or expiry then); both lot and expiry wrong is the
//    standard's No_match_GTIN_Serial_Lot_Expiry; else the one that failed.
//  - additionalInfo: evidence of forgery first (a reject's value: Illegitimate
//    or Suspect), then Recalled, then Expired, then Suspect.
import {
  REASONS,
  type ApiResponse,
  type Reason,
  type Verdict,
  type VrsReason,
} from '@provenant/core';

/** A GS1 LVM verification response (the shape is @provenant/core api/verifier.ts). */
export type VrsResponse = ApiResponse<'vrsResponse'>;
/** The data member of an LVM response. */
export type VrsData = VrsResponse['data'];

/** The LVM `data` member for a verdict and its reasons (verified only on accept). */
export function vrsData(verdict: Verdict, reasons: readonly Reason[]): VrsData {
  if (verdict === 'accept') return { verified: true };
  const values = (codes: readonly Reason[]): Set<VrsReason> => {
    const out = new Set<VrsReason>();
    for (const r of codes) {
      const v = (REASONS[r.code] as { vrs?: VrsReason }).vrs;
      if (v) out.add(v);
    }
    return out;
  };
  const all = values(reasons);
  const data: VrsData = { verified: false };
  if (all.has('No_match_GTIN_Serial')) data.verificationFailureReason = 'No_match_GTIN_Serial';
  else if (all.has('No_match_GTIN_Serial_Lot') && all.has('No_match_GTIN_Serial_Expiry'))
    data.verificationFailureReason = 'No_match_GTIN_Serial_Lot_Expiry';
  else if (all.has('No_match_GTIN_Serial_Lot'))
    data.verificationFailureReason = 'No_match_GTIN_Serial_Lot';
  else if (all.has('No_match_GTIN_Serial_Expiry'))
    data.verificationFailureReason = 'No_match_GTIN_Serial_Expiry';

  const rejects = values(reasons.filter((r) => REASONS[r.code].verdict === 'reject'));
  const info: VrsReason | undefined = rejects.has('Illegitimate')
    ? 'Illegitimate'
    : rejects.has('Suspect')
      ? 'Suspect'
      : (['Recalled', 'Expired', 'Suspect'] as const).find((v) => all.has(v));
  if (info) data.additionalInfo = info;
  return data;
}
