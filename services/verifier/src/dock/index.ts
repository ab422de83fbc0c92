// GET /dock: the receiving-dock page (DESIGN §8a; issue 6), served by the
// verifier. The page signs in with a party token entered in the page (kept in
// sessionStorage, never in a URL) and calls the public API; it also verifies
// offline bundles in the browser with core's engine (noble backend).
// Routes: /dock (HTML), /dock/app.js and /dock/app.css (bundled on first
// request and cached), /dock/sw.js (a service worker keeping that shell for
// reloads while offline), /dock/trust.json (the public trust the engine needs:
// log verifier key and registry authority key, for offline use, and the
// verifier key online receipts are checked with),
// /dock/zxing_reader.wasm (the camera's barcode decoder, from zxing-wasm in
// node_modules: served here so the page never asks a CDN).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Response, Router } from 'express';
import { toBase64, type ApiResponse } from '@provenant/core';
import type { RouteModule } from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';
import { dockAssets } from './assets.js';
import { DOCK_HTML } from './html.js';
import { DOCK_SW_JS } from './sw.js';
import { registerDockPaths } from './openapi.js';

export { buildDockAssets, dockAssets, DockBuildError } from './assets.js';
export type { DockAssets } from './assets.js';
export { DOCK_HTML } from './html.js';
export { registerDockPaths } from './openapi.js';

// Everything from this origin, nothing inline: the page never needs a CDN (closed networks).
// 'wasm-unsafe-eval' lets the camera's decoder compile its WebAssembly, and nothing more
// (no eval, no inline script).
export const DOCK_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CSP = DOCK_CSP;

/** The zxing-wasm reader's WebAssembly, read once per process. */
let wasm: Promise<Buffer> | null = null;
function zxingWasm(): Promise<Buffer> {
  if (!wasm) {
    const path = createRequire(import.meta.url).resolve('zxing-wasm/reader/zxing_reader.wasm');
    wasm = readFile(path);
    wasm.catch(() => {
      wasm = null;
    });
  }
  return wasm;
}

function pageHeaders(res: Response, type: string): void {
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Security-Policy', CSP);
  res.setHeader('Cache-Control', 'no-cache');
}

async function asset(res: Response, kind: 'js' | 'css', deps: VerifierDeps): Promise<void> {
  try {
    const a = await dockAssets();
    pageHeaders(res, kind === 'js' ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8');
    res.send(a[kind]);
  } catch (err) {
    // The cause (esbuild's messages, naming the file) goes to the log, not to the browser.
    deps.logger?.error({ err }, 'dock page bundle failed');
    res.status(503).type('application/problem+json').json({
      type: 'urn:provenant:problem:dock-unavailable',
      title: 'Service Unavailable',
      status: 503,
      detail: 'The dock page could not be built; see the server log.',
    });
  }
}

/**
 * Registers the dock page. Add to the verifier's route list:
 * `VERIFIER_ROUTES = [..., dockRoutes]`.
 */
export const dockRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerDockPaths(deps.openapi);
  router.get('/dock', (_req, res) => {
    // Start bundling now so the script is ready when the browser asks for it.
    dockAssets().catch(() => undefined);
    pageHeaders(res, 'text/html; charset=utf-8');
    res.send(DOCK_HTML);
  });
  router.get('/dock/app.js', (_req, res) => asset(res, 'js', deps));
  // The page shell for reloads while the service is unreachable; scope /dock needs the header.
  router.get('/dock/sw.js', (_req, res) => {
    pageHeaders(res, 'text/javascript; charset=utf-8');
    res.setHeader('Service-Worker-Allowed', '/dock');
    res.send(DOCK_SW_JS);
  });
  router.get('/dock/app.css', (_req, res) => asset(res, 'css', deps));
  router.get('/dock/zxing_reader.wasm', async (_req, res) => {
    try {
      const bytes = await zxingWasm();
      res.setHeader('Content-Type', 'application/wasm');
      res.setHeader('Cache-Control', 'no-cache');
      res.send(bytes);
    } catch (err) {
      deps.logger?.error({ err }, 'dock camera decoder (zxing-wasm) not found');
      res.status(503).type('application/problem+json').json({
        type: 'urn:provenant:problem:dock-unavailable',
        title: 'Service Unavailable',
        status: 503,
        detail: 'The camera decoder is not installed; see the server log.',
      });
    }
  });
  // Public keys only (the same the engine is configured with): what offline verification pins.
  router.get('/dock/trust.json', (_req, res) => {
    res.setHeader('Cache-Control', 'no-cache');
    const trust: ApiResponse<'dockTrust'> = {
      logKey: deps.trust.logKey,
      authorityKey: deps.trust.authorityKey,
      ...(deps.trust.witnesses ? { witnesses: deps.trust.witnesses } : {}),
      ...(deps.trust.minWitnesses !== undefined ? { minWitnesses: deps.trust.minWitnesses } : {}),
      maxCheckpointAgeSeconds: deps.policy.maxBundleAgeSeconds,
      // What `provenant trust export` writes too: the key the page checks receipts with.
      verifierKey: toBase64(deps.verifierKey.publicKey),
    };
    res.json(trust);
  });
};
