// The verification shapes (DESIGN §7): what POST /v1/verifications, GET
// /v1/verifications/{id} and POST /v1/bundles/verify answer, read by the SDK
// and by the dock page (which shows the offline engine's result through the
// same tolerant type). Strict and tolerant forms as shape.ts describes; the
// three verdicts stay closed for clients too (they act on them).
import { z } from 'zod';
import { REASON_CODES } from '../reasons.js';
import { shapeKit, type ShapeMode } from './shape.js';

const VERDICTS = ['accept', 'quarantine', 'reject'] as const;
export const VERIFICATION_PURPOSES = ['receiving', 'saleable_return', 'dispense'] as const;
const STATUSES = ['active', 'inactive', 'in_transit', 'quarantined', 'unknown'] as const;

/** The verification response shapes (POST /v1/verifications, GET /v1/verifications/{id}, POST /v1/bundles/verify). */
export function verificationShapes<M extends ShapeMode>(mode: M) {
  const { strict, obj, sent, oneOf } = shapeKit(mode);
  const int = z.number().int();
  // The three verdicts are the protocol (DESIGN §7): closed for clients too,
  // which act on them (a client cannot do anything right with a fourth).
  const verdict = z.enum(VERDICTS);

  const reason = obj({
    code: oneOf(REASON_CODES as unknown as readonly [string, ...string[]]),
    message: sent(z.string()),
    subject: z.string().optional(),
    seq: int.optional(),
  });
  const checkpoint = obj({ origin: z.string(), size: int, rootHash: z.string() }).nullable();
  const receipt = obj({
    v: z.literal(1),
    id: z.string(),
    subject: z.string(),
    party: z.string(),
    purpose: oneOf(VERIFICATION_PURPOSES),
    verdict,
    reasons: z.array(z.string()),
    checkpoint,
    verifiedAt: z.string(),
    nonce: sent(z.string().nullable()).meta({
      description: "the request's nonce, signed back (null when it carried none)",
    }),
    kid: z.string(),
    signature: z.string().meta({
      description:
        'standard base64 Ed25519 signature by the verifier key (GET /v1/verifier) over the JCS bytes of every other field',
    }),
  }).meta({ description: 'Verification receipt: proves the dock checked' });
  const timelineEntry = obj({
    subject: z.string(),
    seq: int,
    type: z.string(),
    actor: z.string(),
    time: z.string(),
    receiptTime: sent(z.string()),
    index: sent(int),
    id: sent(z.string()),
    to: z.string().optional(),
    from: z.string().optional(),
    shipment: z.string().optional(),
  });
  const product = obj({
    gtin: z.string(),
    serial: z.string(),
    lot: z.string(),
    expiry: z.string(),
    details: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: "the commission's product fields, e.g. name" }),
  });
  const units = obj({
    total: int,
    counts: obj({ accept: int, quarantine: int, reject: int }),
    failing: z
      .array(obj({ subject: z.string(), verdict, reasons: z.array(reason) }))
      .meta({ description: 'the first 100 failing units' }),
    failingOmitted: int.optional().meta({
      description: 'failing units beyond the first 100, left out (counts include them)',
    }),
  }).meta({
    description: 'logistic units: every unit inside, counts per verdict, the failing ones',
  });
  const verification = obj({
    id: sent(z.string()),
    party: sent(z.string()),
    purpose: sent(oneOf(VERIFICATION_PURPOSES)),
    verdict,
    reasons: z.array(reason),
    subject: sent(z.string()),
    product: sent(product.nullable()),
    status: sent(oneOf(STATUSES)),
    custodian: sent(z.string().nullable()),
    custody: sent(z.array(timelineEntry)),
    units: units.optional(),
    checkpoint: sent(checkpoint),
    verifiedAt: sent(z.string()),
    receipt: sent(receipt),
    case: obj({ id: z.string(), status: strict ? z.literal('open') : z.string() }).optional(),
    caseNumber: z
      .string()
      .max(12)
      .optional()
      .meta({ description: 'short number of the case opened, for labels: Q-YY-NNNNNN' }),
    limited: z.literal(true).optional().meta({
      description:
        'the caller is outside the subject’s chain (DESIGN §6a): custody, custodian, failing units and reason messages are withheld',
    }),
  });
  return { reason, timelineEntry, product, units, checkpoint, receipt, verification };
}
