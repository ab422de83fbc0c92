// Response schemas of the API (DESIGN §8a): the tolerant form of the shapes
// the services document in /openapi.json, from their one source
// (@provenant/core api/, issue 9), so every answer is checked before a caller
// sees it: a server (or a proxy in between) is not trusted to send what the
// contract says. Objects are loose: a field a newer server adds passes
// through instead of breaking old clients; open enums (statuses, reason
// codes) read as strings. Request bodies are plain types; the server
// validates them and answers 400 naming the field.
import { z } from 'zod';
import {
  CASE_OUTCOMES,
  tolerantApi,
  UNIT_RECEIPT_STATUSES,
  type ApiView,
  type Bundle as CoreBundle,
  type BundleEntry as CoreBundleEntry,
} from '@provenant/core';

export { CASE_OUTCOMES, UNIT_RECEIPT_STATUSES };
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];

/** A log receipt (DESIGN §6). */
export const receiptSchema = tolerantApi.logReceipt;
export type LogReceipt = ApiView<'logReceipt'>;

/** A DSSE envelope as the API carries it (DESIGN §4). */
export const envelopeViewSchema = tolerantApi.envelope;

/** One appended record: `{id, subject, seq, receipt}` (POST /v1/records and the custodial writes). */
export const appendResultSchema = tolerantApi.appendResult;
export type AppendResult = ApiView<'appendResult'>;

export const recordsResponseSchema = tolerantApi.recordsResponse;
export type RecordsResponse = ApiView<'recordsResponse'>;

export const packResponseSchema = tolerantApi.packResponse;
export type PackResponse = ApiView<'packResponse'>;

export const shipmentResponseSchema = tolerantApi.shipmentResponse;
export type ShipmentResponse = ApiView<'shipmentResponse'>;

/** POST /v1/receipts: reconciliation per unit (DESIGN §7 "Receiving reconciles"). */
export const receiptResponseSchema = tolerantApi.receiptResponse;
export type ReceiptResponse = ApiView<'receiptResponse'>;

export const recallResponseSchema = tolerantApi.recallResponse;
export type RecallResponse = ApiView<'recallResponse'>;

// Registry.

export const keyViewSchema = tolerantApi.keyView;
export type KeyView = ApiView<'keyView'>;

export const partySchema = tolerantApi.party;
export type Party = ApiView<'party'>;

export const registeredKeySchema = tolerantApi.registeredKey;
export type RegisteredKey = ApiView<'registeredKey'>;

export const issuedTokenSchema = tolerantApi.issuedToken;
export type IssuedToken = ApiView<'issuedToken'>;

export const revokedKeySchema = tolerantApi.revokedKey;
export type RevokedKey = ApiView<'revokedKey'>;

// Chains and bundles.

export const chainSchema = tolerantApi.chain;
export type Chain = ApiView<'chain'>;

/**
 * An offline bundle (core bundle.ts). Only its outline is checked: the
 * verification engine judges the evidence itself, and the client hands back
 * the bundle exactly as received.
 */
export const bundleOutlineSchema = tolerantApi.bundle;
/** An offline bundle (DESIGN §7): core's `Bundle`. */
export type Bundle = CoreBundle;
export type BundleEntry = CoreBundleEntry;

// The log.

export const logInfoSchema = tolerantApi.logInfo;
export type LogInfo = ApiView<'logInfo'>;

/** GET /v1/witnesses (DESIGN §6): the witnesses the admin registered. */
export const witnessListSchema = tolerantApi.witnessList;
export type WitnessList = ApiView<'witnessList'>;

export const logEntriesSchema = tolerantApi.logEntries;
export type LogEntries = ApiView<'logEntries'>;

export const logLeavesSchema = tolerantApi.logLeaves;
export type LogLeaves = ApiView<'logLeaves'>;

export const logNoticesSchema = tolerantApi.logNotices;
export type LogNotices = ApiView<'logNotices'>;

export const inclusionProofSchema = tolerantApi.inclusionProof;
export type InclusionProof = ApiView<'inclusionProof'>;

export const consistencyProofSchema = tolerantApi.consistencyProof;
export type ConsistencyProof = ApiView<'consistencyProof'>;

export const cosignatureResultSchema = tolerantApi.cosignatureResult;
export type CosignatureResult = ApiView<'cosignatureResult'>;

// Verification (DESIGN §7): unknown fields kept, new reason codes and
// statuses accepted as strings (the three verdicts stay closed).

export const reasonSchema = tolerantApi.reason;
export const timelineEntrySchema = tolerantApi.timelineEntry;
export const verificationSchema = tolerantApi.verification;
export type Verification = ApiView<'verification'>;

export const verifierInfoSchema = tolerantApi.verifierInfo;
export type VerifierInfo = ApiView<'verifierInfo'>;

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
export const vrsResponseSchema = tolerantApi.vrsResponse;
export type VrsResponse = ApiView<'vrsResponse'>;

/** GET /v1/me: who the token speaks for (party null for the admin token). */
export const meSchema = tolerantApi.me;
export type Me = ApiView<'me'>;

/** A quarantine case. */
export const caseSchema = tolerantApi.caseView;
export const casesPageSchema = tolerantApi.casesPage;
export type CasesPage = ApiView<'casesPage'>;
export type Case = ApiView<'caseView'>;

// The framework's own answers.

/** GET /openapi.json: an OpenAPI 3.1 document (only its outline is checked). */
export const openApiSchema = z.looseObject({
  openapi: z.string(),
  info: z.looseObject({ title: z.string(), version: z.string() }),
  paths: z.record(z.string(), z.unknown()),
});
export type OpenApiDocument = z.infer<typeof openApiSchema>;

export const healthSchema = tolerantApi.health;
export type Health = ApiView<'health'>;
