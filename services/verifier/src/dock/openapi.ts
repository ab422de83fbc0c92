// The dock page's routes in the API description (DESIGN §8a: every route the
// service answers is in /openapi.json). Anonymous: the page asks for a token
// itself and sends it only to the API.
import { z } from 'zod';
import { strictApi } from '@provenant/core';
import { problemResponse, type OpenAPIRegistry } from '@provenant/server-kit';

const text = (description: string, type: string) => ({
  description,
  content: { [type]: { schema: z.string() } },
});

// Express answers a conditional GET whose ETag still matches with 304 and no body.
const notModified = { 304: { description: 'Not modified since the copy the browser holds' } };
const unavailable = (what: string) => ({
  503: problemResponse(`${what} could not be served (the cause is in the server log)`),
});

/** Registers GET /dock and its assets. */
export function registerDockPaths(o: OpenAPIRegistry): void {
  o.registerPath({
    method: 'get',
    path: '/dock',
    summary: 'The receiving-dock page (a party token is entered in the page)',
    responses: { 200: text('HTML page', 'text/html'), ...notModified },
  });
  for (const [file, type, what] of [
    ['app.js', 'text/javascript', 'The page’s script (bundled on first request)'],
    ['app.css', 'text/css', 'The page’s stylesheet'],
  ] as const)
    o.registerPath({
      method: 'get',
      path: `/dock/${file}`,
      summary: what,
      responses: { 200: text(what, type), ...notModified, ...unavailable('The page') },
    });
  o.registerPath({
    method: 'get',
    path: '/dock/zxing_reader.wasm',
    summary: 'The camera’s barcode decoder (zxing-wasm), served by this service (no CDN)',
    responses: {
      200: {
        description: 'WebAssembly',
        content: { 'application/wasm': { schema: z.string().meta({ format: 'binary' }) } },
      },
      ...notModified,
      ...unavailable('The decoder'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/dock/sw.js',
    summary: 'Service worker keeping the page shell for reloads while offline',
    responses: { 200: text('JavaScript', 'text/javascript'), ...notModified },
  });
  o.registerPath({
    method: 'get',
    path: '/dock/trust.json',
    summary: 'The public keys offline verification in the page pins',
    responses: {
      200: {
        description: 'Trust',
        content: {
          'application/json': { schema: o.register('DockTrust', strictApi.dockTrust.clone()) },
        },
      },
      ...notModified,
    },
  });
}
