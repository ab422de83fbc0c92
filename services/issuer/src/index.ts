// @provenant/issuer public API: the issuer's composition, configuration,
// keys and sealing, the log and append paths, its route modules and webhook
// delivery. The HTTP building blocks live in @provenant/server-kit.
export {
  loadConfig,
  bootstrapAdminToken,
  ConfigError,
  DEFAULT_LOG_ORIGIN,
  MASTER_KEY_FILE,
} from './config.js';
export type { AdminTokenHooks, Config, LoadConfigOptions } from './config.js';
export { seal, unseal, keyAad, SealError, SEAL_VERSION } from './seal.js';
export * from './log/index.js';
export * from './append/index.js';
export { createIssuer } from './issuer.js';
export type { Issuer } from './issuer.js';
export type { IssuerDeps } from './deps.js';
export { verifierHandoff } from './handoff.js';
export type { VerifierHandoff } from './handoff.js';
export { ISSUER_ROUTES } from './routes/index.js';
export { newWebhookSecret, sendWebhook, signedHeaders } from './webhooks/send.js';
export {
  checkWebhookUrl,
  isPublicAddress,
  parseAllowHosts,
  WebhookUrlError,
} from './webhooks/ssrf.js';
export { backoffDelay, DEFAULT_WEBHOOK_SETTINGS, WebhookWorker } from './webhooks/worker.js';
export type { WebhookSettings, WebhookWorkerStats } from './webhooks/worker.js';
export { webhookSettingsOf } from './webhooks/routes.js';
export {
  HEARTBEAT_MS,
  interruptedError,
  PROCESS_RUNNER,
  STALE_AFTER_MS,
  startJobSweeper,
  sweepInterruptedJobs,
} from './epcis/jobs.js';
