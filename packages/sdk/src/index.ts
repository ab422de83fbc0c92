// @provenant/sdk public API: a typed HTTP client of DESIGN §8a and local
// (non-custodial) signing. Runs in Node 20+ and browsers (fetch, no node: imports).
export { ProvenantClient, retryAfterMs } from './client.js';
export type {
  CheckedVerification,
  ClientOptions,
  CommissionItem,
  CosignatureRequest,
  DecommissionReason,
  FetchLike,
  NewParty,
  PartyRole,
  Purpose,
  ReceiptPolicy,
  ReceiptRequest,
  Scope,
  ShipmentRequest,
  SubjectInput,
  SubjectPath,
  Transaction,
  VerificationRequest,
  VrsQuery,
  WriteOptions,
} from './client.js';
export { EpcisApi } from './epcis.js';
export type {
  CaptureErrorBehaviour,
  CaptureJob,
  CaptureJobError,
  EpcFormat,
  EpcisEventJson,
  EpcisEventsParams,
  EpcisPage,
  EpcisQueryDocument,
  EpcisReadOptions,
} from './epcis.js';
export { ProvenantError, PROBLEM_TYPE_PREFIX, problemFrom, clientProblem } from './errors.js';
export type { ClientProblemSlug, Problem, ProblemFieldError, ProblemReason } from './errors.js';
export * from './schemas.js';
export { envelopeRecordId, generateKey, readKeyFile, signRecord, SigningError } from './signing.js';
export type { KeyFile, SigningErrorCode } from './signing.js';
export { checkVerificationReceipt, freshNonce, verifierKeyBytes } from './receipts.js';
export type { ReceiptCheck, ReceiptCheckCode, ReceiptQuestion } from './receipts.js';
