// What the writes answer (DESIGN §5, §7, §8a): POST /v1/records and the
// custodial endpoints (commissions, packs, shipments, receipts with
// reconciliation, decommissions, reactivations, recalls). Strict and
// tolerant forms as shape.ts describes.
import { z } from 'zod';
import { logShapes } from './log.js';
import { shapeKit, type ShapeMode } from './shape.js';

/** Per-unit outcome of a receipt with reconciliation (DESIGN §7 "Receiving reconciles"). */
export const UNIT_RECEIPT_STATUSES = ['scanned', 'inferred', 'missing', 'unexpected'] as const;
/** The condition a receiver reports goods in. */
export const RECEIPT_CONDITIONS = ['ok', 'damaged'] as const;

/** The write answers in one mode. */
export function recordShapes<M extends ShapeMode>(mode: M) {
  const { obj, oneOf, int } = shapeKit(mode);
  const { logReceipt } = logShapes(mode);
  /** One appended record: `{id, subject, seq, receipt}`. */
  const appendResult = obj({ id: z.string(), subject: z.string(), seq: int, receipt: logReceipt });
  /** A notice (recall, key-revoke) has no chain: `{id, receipt}`. */
  const noticeAppendResult = obj({ id: z.string(), receipt: logReceipt });
  const recordsResponse = obj({ records: z.array(appendResult) });
  const packResponse = obj({ parent: z.string(), records: z.array(appendResult) });
  const shipmentResponse = obj({
    shipment: z.string(),
    to: z.string(),
    records: z.array(appendResult),
  });
  const receiptResponse = obj({
    shipment: z.string(),
    from: z.string(),
    condition: oneOf(RECEIPT_CONDITIONS),
    units: z.array(
      obj({
        subject: z.string(),
        status: oneOf(UNIT_RECEIPT_STATUSES),
        parent: z.string().optional(),
      }),
    ),
    counts: obj({
      expected: int,
      scanned: int,
      inferred: int,
      missing: int,
      unexpected: int,
      received: int,
    }),
    records: z.array(appendResult),
  });
  const recallResponse = noticeAppendResult;
  return {
    appendResult,
    noticeAppendResult,
    recordsResponse,
    packResponse,
    shipmentResponse,
    receiptResponse,
    recallResponse,
  };
}
