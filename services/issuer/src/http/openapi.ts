// The API description (DESIGN §8): route modules register the same zod
// schemas they validate with, and the OpenAPI 3.1 document at /openapi.json
// and the /docs page are generated from them. The docs page is
// self-contained HTML (no CDN: it must work on a closed network).
import { Router } from 'express';
import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  extendZodWithOpenApi,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

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
};

/** Generates the OpenAPI 3.1 document from everything registered so far. */
export function openApiDocument(
  registry: OpenAPIRegistry,
  info: OpenApiInfo,
): Record<string, unknown> {
  const generator = new OpenApiGeneratorV31(registry.definitions);
  return generator.generateDocument({ openapi: '3.1.0', info }) as unknown as Record<
    string,
    unknown
  >;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Renders the document as one self-contained HTML page: paths, methods, and schemas. */
export function renderDocsHtml(doc: Record<string, unknown>): string {
  const info = (doc.info ?? {}) as { title?: string; version?: string; description?: string };
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const schemas = ((doc.components as { schemas?: Record<string, unknown> } | undefined)?.schemas ??
    {}) as Record<string, unknown>;
  const ops: string[] = [];
  for (const [path, item] of Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const summary =
        typeof op.summary === 'string'
          ? op.summary
          : typeof op.description === 'string'
            ? op.description
            : '';
      const responses = Object.keys((op.responses ?? {}) as object).join(', ');
      ops.push(
        `<details><summary><code class="m ${method}">${method.toUpperCase()}</code> <code>${esc(path)}</code> ${esc(summary)}` +
          ` <small>${esc(responses)}</small></summary><pre>${esc(JSON.stringify(op, null, 2))}</pre></details>`,
      );
    }
  }
  const comps = Object.entries(schemas)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(
      ([name, s]) =>
        `<details id="schema-${esc(name)}"><summary><code>${esc(name)}</code></summary><pre>${esc(JSON.stringify(s, null, 2))}</pre></details>`,
    );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title ?? 'API')}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.4 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
details{border-bottom:1px solid #ddd;padding:.3rem 0}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:13px}
.m{display:inline-block;min-width:4.5em;font-weight:bold}.get{color:#06c}.post{color:#080}.delete{color:#b00}</style></head>
<body><h1>${esc(info.title ?? 'API')} <small>${esc(info.version ?? '')}</small></h1>
${info.description ? `<p>${esc(info.description)}</p>` : ''}<p>Machine-readable: <a href="openapi.json">openapi.json</a></p>
<h2>Operations</h2>
${ops.join('\n') || '<p>No operations registered.</p>'}
<h2>Schemas</h2>
${comps.join('\n') || '<p>No schemas registered.</p>'}
</body></html>
`;
}

/**
 * Router serving `GET /openapi.json` and `GET /docs`. The document is built
 * on first request (after every route module has registered) and cached.
 */
export function openApiRouter(registry: OpenAPIRegistry, info: OpenApiInfo): Router {
  const router = Router();
  let doc: Record<string, unknown> | undefined;
  const current = () => (doc ??= openApiDocument(registry, info));
  router.get('/openapi.json', (_req, res) => {
    res.json(current());
  });
  router.get('/docs', (_req, res) => {
    // Inline styles only; no script, nothing fetched from elsewhere.
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(renderDocsHtml(current()));
  });
  return router;
}
