// GET /docs (DESIGN §8a): the API reference rendered in the browser by a kept
// library, Scalar API Reference (@scalar/api-reference), from /openapi.json.
// Its standalone browser bundle is served from node_modules by this service:
// nothing is fetched from another origin (closed networks), which the page's
// Content-Security-Policy enforces. The page is static; a small script of
// ours starts the reference with fonts, telemetry, the request proxy and the
// AI agent turned off (each would call a Scalar host).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Router } from 'express';
import type { Response } from 'express';
import { z } from 'zod';

/** Where the docs page loads its scripts from. */
export const DOCS_ASSETS = '/docs/assets';

/** The Scalar bundle file as served (the library's dist/browser/standalone.js). */
export const DOCS_BUNDLE = 'api-reference.js';
/** Our start-up script. */
export const DOCS_INIT = 'init.js';

/**
 * Same origin only. Styles: the bundle injects <style> elements and sets
 * style attributes at run time, so inline styles are allowed; inline scripts,
 * eval and every other origin are not.
 */
export const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Absolute path of the library's standalone browser bundle. */
export function docsBundlePath(): string {
  // The package exports no path to the bundle; its exported stylesheet sits in the same dist/.
  const css = createRequire(import.meta.url).resolve('@scalar/api-reference/style.css');
  return join(dirname(css), 'browser', 'standalone.js');
}

const esc = (text: string): string =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** The page: a mount point (not `#api-reference`, which the bundle would mount on its own with defaults) and two same-origin scripts. */
export function docsHtml(title: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
</head>
<body>
<noscript>This page needs JavaScript; the machine-readable description is at <a href="openapi.json">openapi.json</a>.</noscript>
<div id="docs"></div>
<script src="/docs/assets/${DOCS_INIT}"></script>
<script src="/docs/assets/${DOCS_BUNDLE}"></script>
</body>
</html>
`;
}

/**
 * Runs before the bundle: zod (inside it) is told not to probe for eval,
 * which the CSP refuses; once the page is parsed, the reference starts on
 * /openapi.json with everything that would call a Scalar host turned off.
 */
export const DOCS_INIT_JS = `// Provenant: Scalar API Reference on this service's /openapi.json, nothing from elsewhere.
(function () {
  var here = document.currentScript.src;
  globalThis.__zod_globalConfig = Object.assign(globalThis.__zod_globalConfig || {}, { jitless: true });
  document.addEventListener('DOMContentLoaded', function () {
    window.Scalar.createApiReference('#docs', {
      url: new URL('../../openapi.json', here).href,
      withDefaultFonts: false,
      telemetry: false,
      proxyUrl: '',
      agent: { disabled: true },
      showOperationId: true,
      showDeveloperTools: 'never',
      persistAuth: false,
    });
  });
})();
`;

function pageHeaders(res: Response, type: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Security-Policy', DOCS_CSP);
}

/** GET /docs, GET /docs/assets/api-reference.js and GET /docs/assets/init.js. */
export function docsRouter(title: string): Router {
  const router = Router();
  router.get('/docs', (_req, res) => {
    pageHeaders(res, 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(docsHtml(title));
  });
  router.get(`${DOCS_ASSETS}/${DOCS_INIT}`, (_req, res) => {
    pageHeaders(res, 'text/javascript; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache');
    res.send(DOCS_INIT_JS);
  });
  let bundle: string | undefined;
  router.get(`${DOCS_ASSETS}/${DOCS_BUNDLE}`, (_req, res, next) => {
    bundle ??= docsBundlePath();
    res.sendFile(
      bundle,
      {
        maxAge: '1d',
        // The pnpm store path has a dot segment (node_modules/.pnpm/...).
        dotfiles: 'allow',
        headers: {
          'Content-Type': 'text/javascript; charset=utf-8',
          'Content-Security-Policy': DOCS_CSP,
        },
      },
      (err) => {
        if (err) next(err);
      },
    );
  });
  return router;
}

/** Documents the docs page and its two scripts. */
export function registerDocsPaths(o: OpenAPIRegistry): void {
  const text = (description: string, type: string) => ({
    description,
    content: { [type]: { schema: z.string() } },
  });
  o.registerPath({
    method: 'get',
    path: '/docs',
    summary: 'The API reference (Scalar API Reference, served by this service)',
    responses: { 200: text('HTML page', 'text/html') },
  });
  for (const [file, summary] of [
    [DOCS_BUNDLE, 'The API reference library (Scalar standalone bundle)'],
    [DOCS_INIT, 'The docs page’s start-up script'],
  ] as const)
    o.registerPath({
      method: 'get',
      path: `${DOCS_ASSETS}/${file}`,
      summary,
      responses: { 200: text('JavaScript', 'text/javascript') },
    });
}
