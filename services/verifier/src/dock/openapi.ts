// The dock page's routes in the API description (DESIGN §8a: every route the
// service answers is in /openapi.json). Anonymous: the page asks for a token
// itself and sends it only to the API.
import { z } from 'zod';
import type { OpenAPIRegistry } from '@provenant/server-kit';

const DockTrust = z
  .object({
    logKey: z.string().meta({ description: 'C2SP verifier key of the log' }),
    authorityKey: z
      .string()
      .meta({ description: 'base64url Ed25519 key of the registry authority' }),
    witnesses: z.array(z.string()).optional(),
    minWitnesses: z.number().int().optional(),
    maxCheckpointAgeSeconds: z.number().int(),
  })
  .loose();

const text = (description: string, type: string) => ({
  description,
  content: { [type]: { schema: z.string() } },
});

/** Registers GET /dock and its assets. */
export function registerDockPaths(o: OpenAPIRegistry): void {
  o.registerPath({
    method: 'get',
    path: '/dock',
    summary: 'The receiving-dock page (a party token is entered in the page)',
    responses: { 200: text('HTML page', 'text/html') },
  });
  for (const [file, type, what] of [
    ['app.js', 'text/javascript', 'The page’s script (bundled on first request)'],
    ['app.css', 'text/css', 'The page’s stylesheet'],
  ] as const)
    o.registerPath({
      method: 'get',
      path: `/dock/${file}`,
      summary: what,
      responses: {
        200: text(what, type),
        503: { description: 'The page could not be built (the cause is in the server log)' },
      },
    });
  o.registerPath({
    method: 'get',
    path: '/dock/sw.js',
    summary: 'Service worker keeping the page shell for reloads while offline',
    responses: { 200: text('JavaScript', 'text/javascript') },
  });
  o.registerPath({
    method: 'get',
    path: '/dock/trust.json',
    summary: 'The public keys offline verification in the page pins',
    responses: {
      200: {
        description: 'Trust',
        content: { 'application/json': { schema: o.register('DockTrust', DockTrust) } },
      },
    },
  });
}
