// The API description (DESIGN §8): route modules register the same zod
// schemas they validate with, and the OpenAPI 3.1 document at /openapi.json
// and the /docs page are generated from them; completeDocument adds what
// every operation carries (operationId, security, standard statuses, Problem).
import { Router } from 'express';
import { completeDocument } from './openapi-complete.js';
import { docsRouter, registerDocsPaths } from './docs.js';
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  extendZodWithOpenApi,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { strictApi } from '@provenant/core';

// registry.register() and route modules use `.openapi(...)`; `.meta({id})`
// works too. Patching the shared zod once here is idempotent.
extendZodWithOpenApi(z);

export { OpenAPIRegistry };
export type { RouteConfig } from '@asteasolutions/zod-to-openapi';

/** RFC 9457 body as documented; register responses with `problemResponse`. */
export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'urn:provenant:problem:invalid-request' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), rule: z.string(), message: z.string() }))
      .optional(),
    reasons: z
      .array(z.object({ code: z.string(), message: z.string().optional() }).loose())
      .optional(),
  })
  .loose();

/** A response entry for `registerPath`: `{400: problemResponse('Invalid request')}`. */
export function problemResponse(description: string) {
  return { description, content: { 'application/problem+json': { schema: ProblemSchema } } };
}

/**
 * Request headers of a write that honours `Idempotency-Key` (DESIGN §8):
 * `request: { headers: IdempotencyHeaders, ... }`. completeDocument then
 * adds its 409 (same key in flight) and 422 (same key, other body).
 */
export const IdempotencyHeaders = z.object({
  'Idempotency-Key': z.string().optional().meta({
    description:
      'Client-chosen key (kept 24 hours): a retry with the same key and body returns the stored answer',
  }),
});

/** Name of the bearer security scheme; use `security: [{ [BEARER_AUTH]: [] }]` on protected paths. */
export const BEARER_AUTH = 'bearerAuth';

/** A registry with the shared components (Problem, bearer auth) already in it. */
export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.register('Problem', ProblemSchema);
  registry.registerComponent('securitySchemes', BEARER_AUTH, {
    type: 'http',
    scheme: 'bearer',
    description: 'Authorization: Bearer <token> (DESIGN §8)',
  });
  return registry;
}

/** Document metadata. */
export type OpenApiInfo = {
  title: string;
  version: string;
  description?: string;
  license?: { name: string; identifier?: string; url?: string };
};

/** Metadata of the one document `pnpm start` serves (issuer and verifier together). */
export const API_INFO: OpenApiInfo = {
  title: 'Provenant API',
  version: '1',
  description:
    'Registry, signed custody records, the transparency log, verification (DSCSA saleable returns, receiving) and quarantine cases, in one service (DESIGN §8a).',
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
};

/** Relative to the document's own URL: the service that serves /openapi.json answers the API. */
export const API_SERVERS = [{ url: '/', description: 'This service' }];

/** Generates the OpenAPI 3.1 document from everything registered so far, completed by `completeDocument`. */
export function openApiDocument(
  registry: OpenAPIRegistry,
  info: OpenApiInfo = API_INFO,
): Record<string, unknown> {
  const generator = new OpenApiGeneratorV31(registry.definitions);
  const doc = generator.generateDocument({ openapi: '3.1.0', info, servers: API_SERVERS });
  return completeDocument(doc as unknown as Record<string, unknown>);
}

/**
 * Router serving `GET /openapi.json` and the docs page (`GET /docs` and its
 * assets, http/docs.ts). The document is built on first request (after
 * every route module has registered) and cached.
 */
export function openApiRouter(registry: OpenAPIRegistry, info: OpenApiInfo = API_INFO): Router {
  const router = Router();
  let doc: Record<string, unknown> | undefined;
  router.get('/openapi.json', (_req, res) => {
    res.json((doc ??= openApiDocument(registry, info)));
  });
  router.use(docsRouter(info.title));
  return router;
}

const json = (description: string, schema: z.ZodType) => ({
  description,
  content: { 'application/json': { schema } },
});

/** Documents what createApp itself answers: health, readiness, the description and the docs page. */
export function registerFrameworkPaths(o: OpenAPIRegistry): void {
  const Status = o.register('Status', strictApi.health.clone());
  o.registerPath({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers',
    responses: { 200: json('Alive', Status) },
  });
  o.registerPath({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database answers',
    responses: { 200: json('Ready', Status) },
  });
  o.registerPath({
    method: 'get',
    path: '/openapi.json',
    summary: 'This OpenAPI 3.1 document',
    responses: {
      200: json(
        'The API description',
        z.object({ openapi: z.string() }).loose().meta({ description: 'An OpenAPI 3.1 document' }),
      ),
    },
  });
  registerDocsPaths(o);
}
