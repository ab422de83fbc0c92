// The services' Express app (DESIGN §2, §8): createApp(deps) wires the
// framework (request ids and logging, security headers, auth, JSON at the
// edge, OpenAPI, problem+json errors); route modules plug in through
// `deps.routes`. Nothing here holds a global pool: the database is passed in.
import express, { Router } from 'express';
import type { Express, RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { authBeforeBody, pathGuard } from './http/access.js';
import { authenticate, withAdminToken } from './http/auth.js';
import type { TokenLookup } from './http/auth.js';
import { createLogger, requestLogger, type LogLevel } from './http/logging.js';
import {
  API_INFO,
  createOpenApiRegistry,
  openApiRouter,
  registerFrameworkPaths,
} from './http/openapi.js';
import type { OpenAPIRegistry } from './http/openapi.js';
import {
  notFoundHandler,
  problemHandler,
  toProblem,
  unavailable,
  RETRY_AFTER_SECONDS,
} from './http/problem.js';
import { rateLimits, refusedTokenLimit, type RateLimitConfig } from './http/rate-limit.js';
import { jsonBody } from './http/validate.js';
import { forbidden } from './http/problem.js';
import { principalOf } from './http/auth.js';
import { httpMetrics, METRICS_CONTENT_TYPE, type Metrics } from './metrics.js';
import { tracing } from './tracing.js';

/** The least the framework needs of a database: a query for readiness. */
export interface PingableDb {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Settings the framework reads; the issuer's and the verifier's configs satisfy it. */
export interface AppConfig {
  /** JSON body limit in bytes. */
  bodyLimit: number;
  /** SHA-256 of PROVENANT_ADMIN_TOKEN, or null when unset. */
  adminTokenHash: Uint8Array | null;
  /** Default silent (a hand-built config in a test stays quiet). */
  logLevel?: LogLevel;
  /** Rate limits (DESIGN §8 abuse); absent: none. */
  rateLimit?: RateLimitConfig;
}

/** Everything createApp needs; route modules receive it back, extended. */
export interface AppDeps<Db extends PingableDb = PingableDb> {
  db: Db;
  config: AppConfig;
  /** Defaults to a pino logger at `config.logLevel` (silent when unset). */
  logger?: Logger;
  /** Stored-token lookup by SHA-256 (the tokens table); the admin env token is checked first. */
  tokens?: TokenLookup;
  /** Readiness probe timeout in ms (default 2000). */
  readyTimeoutMs?: number;
  /** Prometheus metrics (DESIGN §12); without it no request is counted and /metrics is 404. */
  metrics?: Metrics;
  /** The `service` of this app's log lines (default issuer; DESIGN §12). */
  service?: string;
  /** Requests logged at debug (the start's own seeding, DESIGN §12). */
  quietRequest?: (req: IncomingMessage) => boolean;
  /** More readiness than the database (a standalone verifier's open alarms, DESIGN §7b): throws an HttpProblem when not ready. */
  readiness?: () => Promise<void>;
}

/** What a route module receives: the app deps plus the shared OpenAPI registry and logger. */
export type RouteDeps<D extends AppDeps = AppDeps> = D & {
  openapi: OpenAPIRegistry;
  logger: Logger;
};

/** createApp's argument: the deps (extended as route modules need) and the route modules. */
export type CreateAppDeps<D extends AppDeps> = D & {
  /** Route modules, registered in order. */
  routes?: RouteModule<D>[];
};

/**
 * A route module (a service's routes/*.ts): registers its handlers on
 * `router` (full paths, e.g. `/v1/parties`) and its schemas/paths in
 * `deps.openapi`. Handlers may be async; Express 5 forwards rejections.
 */
export type RouteModule<D extends AppDeps = AppDeps> = (router: Router, deps: RouteDeps<D>) => void;

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  next();
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`no answer within ${ms} ms`);
      err.name = 'DatabaseUnavailableError';
      reject(err);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds a service's app. Order: security headers, request id + log line,
 * health/readiness, OpenAPI, auth (optional globally; routes demand it with
 * requireScope), JSON body parsing, route modules, 404, problem handler.
 */
export function createApp<D extends AppDeps>(deps: CreateAppDeps<D>): Express {
  // loadConfig always sets logLevel (silent under Jest); a hand-built config in a test stays quiet.
  const root = deps.logger ?? createLogger(deps.config.logLevel ?? 'silent');
  const service = deps.service ?? 'issuer';
  const logger = root.child({ service });
  const openapi = createOpenApiRegistry();
  registerFrameworkPaths(openapi);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');

  app.use(tracing());
  app.use(securityHeaders);
  if (deps.metrics) app.use(httpMetrics(deps.metrics));
  app.use(
    requestLogger(root, {
      service,
      ...(deps.quietRequest ? { quiet: deps.quietRequest } : {}),
    }),
  );
  app.use(pathGuard());

  // Liveness and readiness (DESIGN §8a): readiness includes the database.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      await withTimeout(deps.db.query('select 1'), deps.readyTimeoutMs ?? 2000);
    } catch (err) {
      const p = toProblem(err);
      // Whatever broke, the answer is "not ready"; the cause goes to the log line.
      res.err = err as Error;
      throw p.status === 503
        ? p
        : unavailable('The database is not answering.', {
            slug: 'database-unavailable',
            headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
          });
    }
    if (deps.readiness) await deps.readiness();
    res.json({ status: 'ok' });
  });

  app.use(openApiRouter(openapi, API_INFO));

  // Health probes and the API description are not limited; everything after is
  // (when configured: loadConfig always sets the limits, with generous defaults).
  if (deps.config.rateLimit)
    for (const limit of rateLimits(deps.db, deps.config.rateLimit)) app.use(limit);
  app.use(
    authenticate(withAdminToken(deps.config.adminTokenHash, deps.tokens ?? null), {
      optional: true,
    }),
  );
  if (deps.config.rateLimit) app.use(refusedTokenLimit(deps.db, deps.config.rateLimit));
  app.use(authBeforeBody());
  const metrics = deps.metrics;
  if (metrics)
    // DESIGN §8a: admin or a `monitor` token (or METRICS_PORT, served by main.ts).
    app.get('/metrics', async (req, res) => {
      const p = principalOf(req);
      if (!p.isAdmin && !p.scopes.includes('monitor'))
        throw forbidden('Metrics need an admin or monitor token.', { slug: 'insufficient-scope' });
      const text = await metrics.registry.metrics();
      res.type(METRICS_CONTENT_TYPE).send(text);
    });
  app.use(jsonBody({ limit: deps.config.bodyLimit }));

  const router = Router();
  const routeDeps = { ...deps, openapi, logger } as RouteDeps<D>;
  for (const register of deps.routes ?? []) register(router, routeDeps);
  app.use(router);

  app.use(notFoundHandler());
  app.use(problemHandler());
  app.locals.openapi = openapi;
  return app;
}
