// One source for each shape of the API (issue 9, DESIGN §8): every response
// the services answer is defined once here, by area, and built in two forms
// (shape.ts): `strictApi` is what the server registers in /openapi.json and
// the contract test checks; `tolerantApi` is what the SDK and the dock page
// parse answers with. Pure zod, browser-safe (no node: imports).
//
// A new route: define its answer in the area's file (or a new one, added to
// `apiShapes`), register `strictApi.<name>` in the route module's OpenAPI
// (copied with `.meta({...})` or `.clone()` there: zod-to-openapi can
// register only schemas made after it extended zod), answer a value of
// `z.infer<typeof strictApi.<name>>`, and read it in the SDK with
// `tolerantApi.<name>`.
import type { z } from 'zod';
import * as requests from './requests.js';
import { chainShapes } from './chains.js';
import { epcisShapes } from './epcis.js';
import { frameworkShapes } from './framework.js';
import { logShapes } from './log.js';
import { recordShapes } from './records.js';
import { registryShapes } from './registry.js';
import type { ShapeMode } from './shape.js';
import { verificationShapes } from './verification.js';
import { verifierShapes } from './verifier.js';
import { witnessShapes } from './witnesses.js';

export {
  cset82,
  expiryInput,
  GlnParams,
  gtin14Input,
  KidParams,
  MAX_BATCH,
  MAX_BATCH_SUBJECTS,
  MAX_PACK_CHILDREN,
  MAX_SCAN_CHARS,
  nonceSchema,
  purposeSchema,
  scanInputSchema,
  scanSchema,
  SCOPES,
  TokenParams,
} from './requests.js';
export { shapeKit, type Choice, type Sent, type ShapeMode } from './shape.js';
export { CHAIN_STATUSES } from './chains.js';
export { RECEIPT_CONDITIONS, UNIT_RECEIPT_STATUSES } from './records.js';
export {
  CASE_OUTCOMES,
  CASE_STATUSES,
  FORM3911_CLASSIFICATIONS,
  VRS_ADDITIONAL_INFO,
  VRS_FAILURE_REASONS,
} from './verifier.js';
export { VERIFICATION_PURPOSES, verificationShapes } from './verification.js';

/** Every response shape of the API in one mode. */
export function apiShapes<M extends ShapeMode>(mode: M) {
  return {
    ...frameworkShapes(mode),
    ...logShapes(mode),
    ...recordShapes(mode),
    ...registryShapes(mode),
    ...chainShapes(mode),
    ...witnessShapes(mode),
    ...verificationShapes(mode),
    ...verifierShapes(mode),
    ...epcisShapes(mode),
  };
}

/** What the server answers and documents (closed objects and enums). */
export const strictApi = apiShapes('strict');
/** What clients accept (unknown fields kept, open enums, fields older servers omit optional). */
export const tolerantApi = apiShapes('tolerant');

/** The answer a server sends for shape `K`. */
export type ApiResponse<K extends keyof typeof strictApi> = z.infer<(typeof strictApi)[K]>;
/** The answer a client reads for shape `K`. */
export type ApiView<K extends keyof typeof tolerantApi> = z.infer<(typeof tolerantApi)[K]>;

/** The verification shapes the verifier answers (the same instances as in `strictApi`). */
export const strictVerificationShapes = strictApi;
/** The verification shapes clients read (the same instances as in `tolerantApi`). */
export const tolerantVerificationShapes = tolerantApi;
/** A verification as the server sends it. */
export type VerificationResponse = ApiResponse<'verification'>;
/** A verification as a client reads it: unknown fields kept, most fields optional. */
export type TolerantVerification = ApiView<'verification'>;

/**
 * Every request body of the API, strict (an unknown field is a 400 naming
 * it): the server parses with these and registers them in /openapi.json;
 * a client types what it sends as `ApiRequest<name>`.
 */
export const apiRequests = {
  party: requests.PartyBody,
  key: requests.KeyBody,
  token: requests.TokenBody,
  partyStatus: requests.StatusBody,
  revokeKey: requests.RevokeBody,
  witness: requests.WitnessBody,
  cosignature: requests.CosignatureBody,
  commissionItem: requests.CommissionItem,
  commission: requests.CommissionBody,
  pack: requests.PackBody,
  unpack: requests.UnpackBody,
  shipment: requests.ShipmentBody,
  receipt: requests.ReceiptBody,
  decommission: requests.DecommissionBody,
  reactivation: requests.ReactivationBody,
  recall: requests.RecallBody,
  resolveCase: requests.ResolveBody,
  verification: requests.VerificationBody,
  verifyBundle: requests.BundleVerifyBody,
};
/** What a client sends as request `K` (defaults may be left out). */
export type ApiRequest<K extends keyof typeof apiRequests> = z.input<(typeof apiRequests)[K]>;
/** Request `K` as the server holds it once parsed. */
export type ParsedRequest<K extends keyof typeof apiRequests> = z.output<(typeof apiRequests)[K]>;
