// @provenant/issuer public API: the app factory, its configuration, and the
// HTTP building blocks route modules use.
export { createApp, ISSUER_API_INFO } from './app.js';
export type {
  AppConfig,
  AppDeps,
  CreateAppDeps,
  PingableDb,
  RouteDeps,
  RouteModule,
} from './app.js';
export {
  loadConfig,
  bootstrapAdminToken,
  ConfigError,
  DEFAULT_LOG_ORIGIN,
  MASTER_KEY_FILE,
} from './config.js';
export type { AdminTokenHooks, Config, LoadConfigOptions } from './config.js';
export { seal, unseal, keyAad, SealError, SEAL_VERSION } from './seal.js';
export * from './http/problem.js';
export * from './http/validate.js';
export * from './http/auth.js';
export * from './http/idempotency.js';
export * from './http/logging.js';
export * from './http/openapi.js';
export {
  completeDocument,
  operationIdOf,
  stripRegexFlags,
  PROBLEM_REF,
} from './http/openapi-complete.js';
export { DOCS_CSP, docsBundlePath } from './http/docs.js';
export * from './http/store-adapters.js';
export * from './log/index.js';
export * from './append/index.js';
export { createIssuer } from './issuer.js';
export type { Issuer, IssuerDeps } from './issuer.js';
export { ISSUER_ROUTES } from './routes/index.js';
// The offline bundle builder, reused by the verifier (issue 4) for server-side verification.
export { buildBundle } from './routes/chains.js';
export {
  enqueueLogAlarm,
  EVENT_DATA,
  eventsOfBatch,
  webhookEvent,
  WEBHOOK_EVENT_TYPES,
} from './webhooks/events.js';
export type { EventData, WebhookEventType } from './webhooks/events.js';
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
export { createMetrics, httpMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
export type { Metrics } from './metrics.js';
export {
  formatTraceparent,
  inSpan,
  parseTraceparent,
  startTracing,
  traceDatabase,
  tracing,
} from './tracing.js';
export type { Tracing } from './tracing.js';
