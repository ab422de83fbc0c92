// Composition of the verifier (DESIGN §2: "each service exports createApp(deps);
// one process can mount both"). Three ways to run it:
//  - in the issuer's app: createApp({...issuerDeps, ...verifierDeps,
//    routes: [...ISSUER_ROUTES, ...VERIFIER_ROUTES]}) — one OpenAPI document;
//  - as a Mount of the issuer's main (`verifierMount`): its own Express app
//    on the same server and database, its paths registered in the issuer's
//    OpenAPI registry so /openapi.json documents both; it gets only the
//    issuer's handoff (public trust and its own key, DESIGN §7b);
//  - alone: createVerifier({db, config, trust, verifierSeed}) (main.ts,
//    `pnpm start:verifier`).
import type { Express, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { Database } from '@provenant/store';
import type { Trust } from '@provenant/core';
import {
  createApp,
  type Metrics,
  type OpenAPIRegistry,
  type RouteModule,
} from '@provenant/server-kit';
import {
  createVerifierDeps,
  type CreateVerifierDepsOptions,
  type VerifierConfig,
  type VerifierDeps,
} from './deps.js';
import { caseRoutes, registerCasePaths } from './routes/cases.js';
import { meRoutes, registerMePaths } from './routes/me.js';
import { registerVerificationPaths, verificationRoutes } from './routes/verifications.js';
import { registerVrsPaths, vrsRoutes } from './routes/vrs.js';
import { dockRoutes, registerDockPaths } from './dock/index.js';
import { assertMonitoring, monitorRoutes, registerMonitorPaths } from './monitor/routes.js';

/** Every verifier route module, in registration order. */
export const VERIFIER_ROUTES: RouteModule<VerifierDeps>[] = [
  monitorRoutes,
  verificationRoutes,
  vrsRoutes,
  caseRoutes,
  meRoutes,
  dockRoutes,
];

/** Path prefixes the verifier answers (for a mount in front of the issuer). */
export const VERIFIER_PREFIXES = [
  '/v1/verifications',
  '/v1/bundles/verify',
  '/v1/verifier',
  '/v1/vrs',
  '/v1/cases',
  '/v1/me',
  '/dock',
] as const;

export interface Verifier {
  app: Express;
  deps: VerifierDeps;
  /** Stops the signature workers; the caller closes the database. */
  close(): Promise<void>;
}

/**
 * A verifier app of its own on a migrated database (the issuer's tables must
 * exist: it reads the log). `openapi`: register the paths in this registry
 * too (e.g. the issuer's, `issuerApp.locals.openapi`), before its first request.
 */
export function createVerifier(
  opts: CreateVerifierDepsOptions & {
    openapi?: OpenAPIRegistry;
    metrics?: Metrics;
    /**
     * Follow the log in the background (DESIGN §7b; the process entry points set it).
     * Without it the monitor runs in the time of the requests that wait on it.
     */
    follow?: boolean;
    /**
     * A standalone verifier: /readyz is 503 while a monitor alarm is unacknowledged,
     * and while its monitor does not follow the log (state bound to another log key).
     */
    standalone?: boolean;
  },
): Verifier {
  const deps: VerifierDeps = {
    ...createVerifierDeps(opts),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  };
  const app = createApp({
    ...deps,
    service: 'verifier',
    routes: VERIFIER_ROUTES,
    ...(opts.standalone ? { readiness: () => assertMonitoring(deps) } : {}),
  });
  if (opts.openapi) registerVerifierPaths(opts.openapi);
  if (opts.follow) deps.monitor.start();
  return {
    app,
    deps,
    close: async () => {
      await deps.monitor.stop();
      await deps.pool.close();
    },
  };
}

/** Registers every verifier path and schema in an OpenAPI registry (e.g. the issuer's). */
export function registerVerifierPaths(o: OpenAPIRegistry): void {
  registerMonitorPaths(o);
  registerVerificationPaths(o);
  registerVrsPaths(o);
  registerCasePaths(o);
  registerMePaths(o);
  registerDockPaths(o);
}

/** The part of the issuer main's MountContext the verifier uses. */
export interface VerifierMountContext {
  db: Database;
  logger: Logger;
  /** The issuer app's registry, so its /openapi.json documents the verifier's paths too. */
  openapi: OpenAPIRegistry;
  metrics?: Metrics;
  /** Public trust, the verifier's own key seed and settings: nothing that signs as the log. */
  verifier: { config: VerifierConfig; trust: Trust; origin?: string; verifierSeed: Uint8Array };
}

/**
 * A `MountFactory` of the issuer's main: the verifier on the same HTTP server and database
 * as the issuer, answering VERIFIER_PREFIXES, documented in the issuer's
 * /openapi.json. Usage (scripts/start.ts): `main({ mounts: [verifierMount] })`.
 */
export function verifierMount(ctx: VerifierMountContext): {
  name: string;
  handles(path: string): boolean;
  handler: Express | RequestHandler;
  close(): Promise<void>;
} {
  const v = createVerifier({
    db: ctx.db,
    config: ctx.verifier.config,
    trust: ctx.verifier.trust,
    ...(ctx.verifier.origin !== undefined ? { origin: ctx.verifier.origin } : {}),
    verifierSeed: ctx.verifier.verifierSeed,
    logger: ctx.logger,
    openapi: ctx.openapi,
    follow: true,
    // One registry for the process: /metrics (served by the issuer app) counts both.
    ...(ctx.metrics ? { metrics: ctx.metrics } : {}),
  });
  return {
    name: 'verifier',
    handler: v.app,
    handles: (path) => VERIFIER_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`)),
    close: () => v.close(),
  };
}
