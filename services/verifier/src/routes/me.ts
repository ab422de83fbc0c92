// GET /v1/me (issue 13): who a token speaks for, so the dock signs in with the
// token alone (no GLN to type). Any valid token: `{party: {gln, name, roles},
// scopes}`, party null for the admin token; 401 otherwise.
import type { Router } from 'express';
import { strictApi, type ApiResponse } from '@provenant/core';
import { getParty } from '@provenant/store';
import {
  BEARER_AUTH,
  principalOf,
  problemResponse,
  type OpenAPIRegistry,
  type RouteModule,
} from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';

/** Registers GET /v1/me in an OpenAPI registry (its answer: core api/verifier.ts `me`). */
export function registerMePaths(o: OpenAPIRegistry): void {
  o.registerPath({
    method: 'get',
    path: '/v1/me',
    summary: 'The party and scopes of the calling token',
    security: [{ [BEARER_AUTH]: [] }],
    responses: {
      200: {
        description: 'Who this token speaks for',
        content: { 'application/json': { schema: o.register('Me', strictApi.me.clone()) } },
      },
      401: problemResponse('No token, or an unknown or revoked one'),
    },
  });
}

export const meRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerMePaths(deps.openapi);
  router.get('/v1/me', async (req, res) => {
    const p = principalOf(req);
    const party = p.gln === null ? null : await getParty(deps.db, p.gln);
    const body: ApiResponse<'me'> = {
      party: party ? { gln: party.gln, name: party.name, roles: [...party.roles] } : null,
      scopes: [...p.scopes],
    };
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });
};
