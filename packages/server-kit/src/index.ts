// @provenant/server-kit public API (DESIGN §2, §8, §12): what the issuer and
// the verifier share to serve HTTP — the app factory and route-module types,
// problem+json, auth and token lookup, strict JSON validation, idempotency,
// logging, rate limits, the OpenAPI registry and docs page, metrics, tracing
// and the webhook event catalogue (outbox rows written by either service).
// No signing keys: key derivation stays with the issuer (DESIGN §7b).
export { createApp } from './app.js';
export type {
  AppConfig,
  AppDeps,
  CreateAppDeps,
  PingableDb,
  RouteDeps,
  RouteModule,
} from './app.js';
export * from './http/problem.js';
export * from './http/validate.js';
export * from './http/auth.js';
export * from './http/idempotency.js';
export * from './http/logging.js';
export * from './http/openapi.js';
export * from './http/access.js';
export {
  DatabaseRateLimitStore,
  DEFAULT_RATE_LIMIT,
  rateLimits,
  refusedTokenLimit,
} from './http/rate-limit.js';
export type { RateLimitConfig, RateLimitDb } from './http/rate-limit.js';
export {
  completeDocument,
  operationIdOf,
  stripRegexFlags,
  PROBLEM_REF,
} from './http/openapi-complete.js';
export { DOCS_CSP, docsBundlePath } from './http/docs.js';
export * from './http/store-adapters.js';
export {
  enqueueLogAlarm,
  EVENT_DATA,
  eventsOfBatch,
  MAX_EVENT_SUBJECTS,
  webhookEvent,
  WEBHOOK_EVENT_TYPES,
} from './events.js';
export type { EventData, SequencedNotice, SequencedRecord, WebhookEventType } from './events.js';
export { createMetrics, httpMetrics, METRICS_CONTENT_TYPE } from './metrics.js';
export { listen, metricsServer } from './listen.js';
export type { Metrics } from './metrics.js';
export {
  formatTraceparent,
  inSpan,
  parseTraceparent,
  startTracing,
  traceDatabase,
  tracer,
  tracing,
  TRACER_NAME,
} from './tracing.js';
export type { Tracing } from './tracing.js';
export {
  ConfigError,
  envReader,
  parseDurationMs,
  parseKey32,
  readServerSettings,
  SERVER_MESSAGES,
  SERVER_SCHEMAS,
} from './config.js';
export type { Env, ServerSettings } from './config.js';
