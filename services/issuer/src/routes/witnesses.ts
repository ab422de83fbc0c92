// Registered witnesses (DESIGN §6, issue 10 #6): only witnesses the admin
// registered may cosign checkpoints, so nobody can fill a checkpoint's
// cosignature cap with self-made keys. The list is public: verifiers and the
// trust export read it (`{witnesses: [{name, publicKey, keyId, createdAt}]}`).
import type { Router } from 'express';
import { z } from 'zod';
import {
  apiRequests,
  noteKeyId,
  SIG_TYPE_COSIGNATURE_V1,
  strictApi,
  toBase64Url,
  toHex,
  type ApiResponse,
} from '@provenant/core';
import { insertWitness, listWitnesses, UniqueViolationError, type Witness } from '@provenant/store';
import type { RouteModule } from '@provenant/server-kit';
import { principalOf } from '@provenant/server-kit';
import { BEARER_AUTH, problemResponse } from '@provenant/server-kit';
import { badRequest, conflict, forbidden } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import { decodePublicKeyText, publicKeyProblem } from './registry.js';

// Request shape: one source, @provenant/core api/requests.ts (issue 9).
const WitnessBody = apiRequests.witness;

// Response shape: one source, @provenant/core api/witnesses.ts (issue 9).
type WitnessView = ApiResponse<'witness'>;

function witnessView(w: Witness): WitnessView {
  return {
    name: w.name,
    publicKey: toBase64Url(w.publicKey),
    keyId: toHex(w.keyId),
    createdAt: w.createdAt,
  };
}

/** Registers POST /v1/witnesses (admin) and GET /v1/witnesses (anyone). */
export const witnessRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  const { db } = deps;
  const o = deps.openapi;
  const view = o.register('Witness', strictApi.witness.clone());
  o.registerPath({
    method: 'post',
    path: '/v1/witnesses',
    summary: 'Register a witness (admin); only registered witnesses may cosign checkpoints',
    security: [{ [BEARER_AUTH]: [] }],
    request: { body: { content: { 'application/json': { schema: WitnessBody } } } },
    responses: {
      201: { description: 'Registered', content: { 'application/json': { schema: view } } },
      400: problemResponse('Invalid name or key'),
      401: problemResponse('No token'),
      403: problemResponse('Not an admin'),
      409: problemResponse('A witness with this name is registered'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/witnesses',
    summary: 'The registered witnesses (anyone)',
    responses: {
      200: {
        description: 'The witnesses',
        content: { 'application/json': { schema: z.object({ witnesses: z.array(view) }) } },
      },
    },
  });

  router.post('/v1/witnesses', async (req, res) => {
    if (!principalOf(req).isAdmin)
      throw forbidden('This endpoint needs a token with the "admin" scope.', {
        slug: 'insufficient-scope',
      });
    const b = parse(WitnessBody, req.body, 'body');
    const raw = decodePublicKeyText(b.publicKey);
    const problem = raw ? publicKeyProblem(raw) : { rule: 'base64', message: 'not base64url' };
    if (!raw || problem)
      throw badRequest(`body.publicKey: ${problem!.message}.`, {
        errors: [{ path: 'body.publicKey', ...problem! }],
      });
    try {
      const w = await insertWitness(db, {
        name: b.name,
        publicKey: raw,
        keyId: noteKeyId(b.name, raw, SIG_TYPE_COSIGNATURE_V1),
      });
      res.status(201).json(witnessView(w));
    } catch (err) {
      if (err instanceof UniqueViolationError)
        throw conflict(`A witness named ${b.name} is already registered.`, {
          slug: 'witness-exists',
        });
      throw err;
    }
  });

  router.get('/v1/witnesses', async (_req, res) => {
    res.json({ witnesses: (await listWitnesses(db)).map(witnessView) });
  });
};
