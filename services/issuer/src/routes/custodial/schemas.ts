// Request and response schemas of the custodial endpoints (DESIGN §5, §8a):
// the same zod schemas validate at the edge and document /openapi.json,
// defined once in @provenant/core api/ for the server and its clients.
import { apiRequests, isCalendarDate, strictApi } from '@provenant/core';
import { centuryAt, gs1DateToIso } from '@provenant/gs1';

// Requests: one source, @provenant/core api/requests.ts (issue 9).
export { gtin14Input, MAX_BATCH, MAX_PACK_CHILDREN } from '@provenant/core';
export const {
  commissionItem: CommissionItem,
  commission: CommissionBody,
  pack: PackBody,
  unpack: UnpackBody,
  shipment: ShipmentBody,
  receipt: ReceiptBody,
  decommission: DecommissionBody,
  reactivation: ReactivationBody,
  recall: RecallBody,
} = apiRequests;

/**
 * A commission expiry as YYYY-MM-DD: YYMMDD gets its century from the GS1 §7.12
 * window around the year of `now` (the clock the verifier reads scans with).
 * @throws Gs1Error BAD_DATE when the resolved year has no such day (29 Feb).
 */
export function expiryToIso(expiry: string, now: number): string {
  return isCalendarDate(expiry) ? expiry : gs1DateToIso(expiry, centuryAt(now), '17');
}

// Responses: one source, @provenant/core api/records.ts (issue 9).

export const {
  appendResult: AppendResult,
  recordsResponse: RecordsResponse,
  packResponse: PackResponse,
  shipmentResponse: ShipmentResponse,
  receiptResponse: ReceiptResponse,
  recallResponse: RecallResponse,
} = strictApi;
