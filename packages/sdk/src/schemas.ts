// Response schemas of the API (DESIGN §8a), mirroring the issuer's route
// schemas (services/issuer/src/routes/*.ts, log/routes.ts) so every answer is
// checked before a caller sees it: a server (or a proxy in between) is not
// trusted to send what the contract says. Objects are loose: a field a newer
// server adds passes through instead of breaking old clients. Request bodies
// are plain types; the server validates them and answers 400 naming the field.
import { z } from 'zod';
import { tolerantVerificationShapes } from '@provenant/core';

const int = z.number().int();

/** A log receipt (DESIGN §6). */
export const receiptSchema = z.looseObject({
  origin: z.string(),
  index: int.min(0),
  leafHash: z.string(),
  integratedAt: z.string(),
  signature: z.string(),
});
export type LogReceipt = z.infer<typeof receiptSchema>;

/** A DSSE envelope as the API carries it (DESIGN §4). */
export const envelopeViewSchema = z.looseObject({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.looseObject({ keyid: z.string(), sig: z.string() })),
});

/** One appended record: `{id, subject, seq, receipt}` (POST /v1/records and the custodial writes). */
export const appendResultSchema = z.looseObject({
  id: z.string(),
  subject: z.string(),
  seq: int,
  receipt: receiptSchema,
});
export type AppendResult = z.infer<typeof appendResultSchema>;

export const recordsResponseSchema = z.looseObject({ records: z.array(appendResultSchema) });
export type RecordsResponse = z.infer<typeof recordsResponseSchema>;

export const packResponseSchema = z.looseObject({
  parent: z.string(),
  records: z.array(appendResultSchema),
});
export type PackResponse = z.infer<typeof packResponseSchema>;

export const shipmentResponseSchema = z.looseObject({
  shipment: z.string(),
  to: z.string(),
  records: z.array(appendResultSchema),
});
export type ShipmentResponse = z.infer<typeof shipmentResponseSchema>;

export const UNIT_RECEIPT_STATUSES = ['scanned', 'inferred', 'missing', 'unexpected'] as const;

/** POST /v1/receipts: reconciliation per unit (DESIGN §7 "Receiving reconciles"). */
export const receiptResponseSchema = z.looseObject({
  shipment: z.string(),
  from: z.string(),
  condition: z.string(),
  units: z.array(
    z.looseObject({
      subject: z.string(),
      status: z.enum(UNIT_RECEIPT_STATUSES),
      parent: z.string().optional(),
    }),
  ),
  counts: z.looseObject({
    expected: int,
    scanned: int,
    inferred: int,
    missing: int,
    unexpected: int,
    received: int,
  }),
  records: z.array(appendResultSchema),
});
export type ReceiptResponse = z.infer<typeof receiptResponseSchema>;

export const recallResponseSchema = z.looseObject({ id: z.string(), receipt: receiptSchema });
export type RecallResponse = z.infer<typeof recallResponseSchema>;

// Registry.

export const keyViewSchema = z.looseObject({
  kid: z.string(),
  publicKey: z.string(),
  status: z.string(),
  custodial: z.boolean(),
  createdAt: z.string(),
  compromisedAt: z.string().optional(),
  revokedAt: z.string().optional(),
});
export type KeyView = z.infer<typeof keyViewSchema>;

export const partySchema = z.looseObject({
  gln: z.string(),
  name: z.string(),
  roles: z.array(z.string()),
  prefixes: z.array(z.string()),
  status: z.string(),
  keys: z.array(keyViewSchema),
});
export type Party = z.infer<typeof partySchema>;

export const registeredKeySchema = z.looseObject({ kid: z.string(), publicKey: z.string() });
export type RegisteredKey = z.infer<typeof registeredKeySchema>;

export const issuedTokenSchema = z.looseObject({
  id: z.string().optional(),
  token: z.string(),
  scopes: z.array(z.string()),
});
export type IssuedToken = z.infer<typeof issuedTokenSchema>;

export const revokedKeySchema = z.looseObject({
  kid: z.string(),
  status: z.literal('revoked'),
  compromisedAt: z.string(),
});
export type RevokedKey = z.infer<typeof revokedKeySchema>;

// Chains and bundles.

export const chainSchema = z.looseObject({
  subject: z.string(),
  status: z.string(),
  custodian: z.string(),
  records: z.array(
    z.looseObject({
      id: z.string(),
      seq: int,
      type: z.string(),
      actor: z.string(),
      time: z.string(),
      data: z.unknown(),
      envelope: z.unknown(),
      receipt: receiptSchema,
    }),
  ),
});
export type Chain = z.infer<typeof chainSchema>;

const bundleEntryShape = z.looseObject({
  envelope: z.unknown(),
  receipt: z.unknown(),
  proof: z.array(z.unknown()),
});

/**
 * The outline of an offline bundle (core bundle.ts). Only the outline is
 * checked: the verification engine judges the evidence itself, and the
 * client hands back the bundle exactly as received.
 */
export const bundleOutlineSchema = z.looseObject({
  v: z.literal(1),
  subject: z.string(),
  checkpoint: z.string(),
  chains: z.record(z.string(), z.array(bundleEntryShape)),
  notices: z.array(bundleEntryShape),
});

/** An offline bundle (DESIGN §7), structurally core's `Bundle`. */
export interface Bundle {
  v: 1;
  subject: string;
  checkpoint: string;
  chains: Record<string, BundleEntry[]>;
  notices: BundleEntry[];
}
export interface BundleEntry {
  envelope: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] };
  receipt: LogReceipt;
  proof: string[];
}

// The log.

export const logInfoSchema = z.looseObject({
  origin: z.string(),
  keyName: z.string(),
  publicKey: z.string(),
  vkey: z.string(),
  /** Not served yet by every issuer: the registry authority's base64url public key. */
  authorityKey: z.string().optional(),
});
export type LogInfo = z.infer<typeof logInfoSchema>;

/** GET /v1/witnesses (DESIGN §6): the witnesses the admin registered. */
export const witnessListSchema = z.looseObject({
  witnesses: z.array(
    z.looseObject({
      name: z.string(),
      /** the raw 32-byte Ed25519 public key, base64 or base64url */
      publicKey: z.string(),
      keyId: z.string().optional(),
      createdAt: z.string().optional(),
    }),
  ),
});
export type WitnessList = z.infer<typeof witnessListSchema>;

export const logEntriesSchema = z.looseObject({
  start: int,
  end: int,
  size: int,
  entries: z.array(
    z.looseObject({
      index: int,
      leafHash: z.string(),
      kind: z.string(),
      id: z.string(),
      envelope: z.unknown(),
      integratedAt: z.string(),
      receipt: receiptSchema,
    }),
  ),
});
export type LogEntries = z.infer<typeof logEntriesSchema>;

export const logLeavesSchema = z.looseObject({
  start: int,
  end: int,
  size: int,
  leaves: z.array(z.string()),
});
export type LogLeaves = z.infer<typeof logLeavesSchema>;

export const logNoticesSchema = z.looseObject({
  notices: z.array(
    z.looseObject({
      index: int,
      leafHash: z.string(),
      id: z.string(),
      type: z.string(),
      envelope: z.unknown(),
      receipt: receiptSchema,
    }),
  ),
  next: z.string().optional(),
});
export type LogNotices = z.infer<typeof logNoticesSchema>;

export const inclusionProofSchema = z.looseObject({
  index: int,
  size: int,
  proof: z.array(z.string()),
});
export type InclusionProof = z.infer<typeof inclusionProofSchema>;

export const consistencyProofSchema = z.looseObject({
  from: int,
  to: int,
  proof: z.array(z.string()),
});
export type ConsistencyProof = z.infer<typeof consistencyProofSchema>;

export const cosignatureResultSchema = z.looseObject({
  size: int,
  witness: z.string(),
  keyId: z.string(),
  timestamp: int,
  stored: z.boolean(),
});
export type CosignatureResult = z.infer<typeof cosignatureResultSchema>;

// Verification (DESIGN §7): the shapes the verifier documents, from one source
// (@provenant/core api-shapes.ts) in their tolerant form: unknown fields kept,
// new reason codes and statuses accepted as strings.

export const reasonSchema = tolerantVerificationShapes.reason;
export const timelineEntrySchema = tolerantVerificationShapes.timelineEntry;
export const verificationSchema = tolerantVerificationShapes.verification;
export type Verification = z.infer<typeof verificationSchema>;

export const verifierInfoSchema = z.looseObject({
  /** standard base64 of the raw 32-byte Ed25519 key */
  publicKey: z.string(),
  kid: z.string().optional(),
});
export type VerifierInfo = z.infer<typeof verifierInfoSchema>;

/** POST /v1/verifier/audit (admin): the log re-verified from index 0 (DESIGN §7b). */
export const auditReportSchema = z.looseObject({
  size: z.number(),
  elapsedMs: z.number(),
  entriesPerSecond: z.number(),
  findings: z.array(
    z.looseObject({
      index: z.number().nullable(),
      subjects: z.array(z.string()),
      code: z.string(),
      message: z.string(),
    }),
  ),
  differences: z.array(z.looseObject({ subject: z.string(), problem: z.string() })),
  alarmsRaised: z.number(),
});
export type AuditReport = z.infer<typeof auditReportSchema>;

/** GS1 Lightweight Verification Messaging answer (DESIGN §7 VRS). */
export const vrsResponseSchema = z.looseObject({
  verificationTimestamp: z.string(),
  responderGLN: z.string(),
  corrUUID: z.string(),
  data: z.looseObject({
    verified: z.boolean(),
    verificationFailureReason: z.string().optional(),
    additionalInfo: z.string().optional(),
  }),
});
export type VrsResponse = z.infer<typeof vrsResponseSchema>;

export const CASE_OUTCOMES = ['released', 'returned', 'destroyed', 'reported', 'other'] as const;
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];

/** GET /v1/me: who the token speaks for (party null for the admin token). */
export const meSchema = z.looseObject({
  party: z
    .looseObject({ gln: z.string(), name: z.string(), roles: z.array(z.string()) })
    .nullable(),
  scopes: z.array(z.string()),
});
export type Me = z.infer<typeof meSchema>;

/** A quarantine case (services/verifier routes/cases.ts CaseView). */
export const caseSchema = z.looseObject({
  id: z.string(),
  /** short number for labels (Q-YY-NNNNNN); absent from servers before it existed */
  caseNumber: z.string().optional(),
  verificationId: z.string(),
  party: z.string(),
  subject: z.string(),
  verdict: z.enum(['quarantine', 'reject']),
  reasons: z.array(z.looseObject({ code: z.string(), message: z.string().optional() })),
  status: z.enum(['open', 'resolved']),
  outcome: z.enum(CASE_OUTCOMES).nullable(),
  note: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  createdAt: z.string(),
  resolvedAt: z.string().nullable(),
});
export const casesPageSchema = z.looseObject({
  cases: z.array(caseSchema),
  next: z.string().nullable().optional(),
});
export type CasesPage = z.infer<typeof casesPageSchema>;
export type Case = z.infer<typeof caseSchema>;

/** GET /openapi.json: an OpenAPI 3.1 document (only its outline is checked). */
export const openApiSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
export type OpenApiDocument = z.infer<typeof openApiSchema>;

export const healthSchema = z.looseObject({ status: z.string() });
export type Health = z.infer<typeof healthSchema>;
