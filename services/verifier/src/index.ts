// @provenant/verifier public API (DESIGN §7, §8a): the route modules, their
// dependencies, the composition helpers, and the pieces an auditor or a test
// needs (receipt checking, VRS mapping, Form 3911).
export {
  createVerifier,
  registerVerifierPaths,
  verifierMount,
  VERIFIER_PREFIXES,
  VERIFIER_ROUTES,
} from './verifier.js';
export type { Verifier, VerifierMountContext } from './verifier.js';
export { createVerifierDeps, DEFAULT_POLICY, verifierKeyOf, VerifierConfigError } from './deps.js';
export type {
  BundleSource,
  CreateVerifierDepsOptions,
  VerifierConfig,
  VerifierDeps,
  VerifierPolicy,
} from './deps.js';
export { receiptMessage, signVerificationReceipt, verifyVerificationReceipt } from './receipt.js';
export type { VerificationReceipt, VerificationReceiptBody, VerifierKey } from './receipt.js';
export {
  capUnits,
  lastHandoff,
  MAX_FAILING_UNITS,
  runVerification,
  verificationCostUnits,
} from './verification.js';
export { DEFAULT_MAX_QUEUED, PartyGate } from './gate.js';
export type { VerificationRequest, VerificationView } from './verification.js';
export { bundleDivergence } from './divergence.js';
export { vrsData } from './vrs.js';
export type { VrsData, VrsResponse } from './vrs.js';
export { form3911, ndcOfGtin } from './form3911.js';
export type { Form3911, Form3911Classification, Form3911Input } from './form3911.js';
export { CASE_OUTCOMES } from './routes/cases.js';
export { VRS_CONTEXTS } from './routes/vrs.js';
export { INLINE_BELOW, SignaturePool } from './workers/pool.js';
export type { SignaturePoolOptions } from './workers/pool.js';
export {
  dockRoutes,
  buildDockAssets,
  dockAssets,
  DockBuildError,
  DOCK_HTML,
} from './dock/index.js';
export type { DockAssets } from './dock/index.js';
export { loadVerifierConfig, readTrustFile, REQUIRED_VERIFIER_ENV } from './config.js';
export type { StandaloneVerifierConfig } from './config.js';
export { EXIT_CONFIG, main, startVerifier } from './main.js';
export type { RunningVerifier, StartVerifierOptions } from './main.js';
export { LogMonitor } from './monitor/monitor.js';
export { auditLog, auditVerifier } from './monitor/audit.js';
export type { AuditReport } from './monitor/audit.js';
export { answerFromState } from './monitor/answer.js';
export type { StateAnswer } from './monitor/answer.js';
