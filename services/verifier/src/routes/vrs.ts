// GET /v1/vrs/01/{gtin}/21/{serial} (DESIGN §7): DSCSA saleable-return
// verification answering the GS1 Lightweight Verification Messaging shape.
// The request is a GS1 Digital Link path with lot (10) and expiry (17) as query
// parameters, plus reqGLN, corrUUID, context and linkType. The verification runs
// as the caller's party for purpose saleable_return and is stored like any other.
// Unknown query parameters are ignored: GS1 resolvers add their own (DESIGN §7).
// GET /v1/vrs/checkConnectivity answers the LVM connectivity check.
import type { Router } from 'express';
import { z } from 'zod';
import { glnSchema, strictApi } from '@provenant/core';
import { Gs1Error, centuryAt, formatSubject, gs1DateToIso, validateAiValue } from '@provenant/gs1';
import { findPartiesByGtin } from '@provenant/store';
import {
  BEARER_AUTH,
  forbidden,
  notFound,
  parse,
  problemResponse,
  requireScope,
  type OpenAPIRegistry,
  type RouteModule,
} from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';
import { runVerification } from '../verification.js';
import { vrsData, type VrsResponse } from '../vrs.js';
import { callerParty, gs1Problem } from './common.js';

/** LVM contexts this responder answers (DSCSA saleable returns). */
export const VRS_CONTEXTS = ['dscsaSaleableReturn'] as const;

const VrsParams = z.strictObject({
  gtin: z.string().regex(/^\d{14}$/, 'expected a GTIN-14 (14 digits)'),
  serial: z.string().min(1).max(20),
});
/** Link types a GS1 resolver forwards to a verification service (GS1 Web Vocabulary). */
export const VRS_LINK_TYPES = ['verificationService', 'gs1:verificationService'] as const;
const linkType = z
  .enum(VRS_LINK_TYPES)
  .optional()
  .meta({ description: 'GS1 link type: the resolver asks for the verification service' });

// Not strict: resolvers and routers add their own parameters, which are ignored.
const VrsQuery = z.object({
  '10': z.string().min(1).max(20).optional().meta({ description: 'lot (AI 10)' }),
  '17': z
    .string()
    .regex(/^\d{6}$/, 'expected YYMMDD')
    .optional()
    .meta({ description: 'expiry (AI 17, YYMMDD)' }),
  reqGLN: glnSchema.optional().meta({ description: 'GLN of the requestor: the caller’s party' }),
  corrUUID: z.string().min(1).max(100).meta({ description: 'correlation id, echoed back' }),
  context: z.enum(VRS_CONTEXTS).optional(),
  linkType,
});

const ConnectivityQuery = z.object({
  gtin: z
    .string()
    .regex(/^\d{14}$/, 'expected a GTIN-14 (14 digits)')
    .meta({ description: 'a GTIN the responder answers for' }),
  reqGLN: glnSchema.meta({ description: 'GLN of the requestor: the caller’s party' }),
  context: z.enum(VRS_CONTEXTS).optional(),
  linkType,
});

// Response shapes: one source, @provenant/core api/verifier.ts (issue 9).
const { vrsConnectivity: ConnectivityResponse, vrsResponse: VrsResponseSchema } = strictApi;

/** Registers this module's paths and schemas in an OpenAPI registry. */
export function registerVrsPaths(o: OpenAPIRegistry): void {
  o.registerPath({
    method: 'get',
    path: '/v1/vrs/01/{gtin}/21/{serial}',
    summary:
      'DSCSA saleable-return verification (GS1 Lightweight Verification Messaging); standard reason values only',
    security: [{ [BEARER_AUTH]: [] }],
    request: { params: VrsParams, query: VrsQuery },
    responses: {
      200: {
        description: 'LVM response',
        content: { 'application/json': { schema: VrsResponseSchema } },
      },
      400: problemResponse('Bad GTIN, serial, lot or expiry (names the GS1 rule and AI)'),
      401: problemResponse('No token'),
      403: problemResponse('No "verify" scope, or reqGLN is not the caller'),
      404: problemResponse('No manufacturer is registered for the GTIN'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/vrs/checkConnectivity',
    summary: 'GS1 Lightweight Verification Messaging connectivity check',
    security: [{ [BEARER_AUTH]: [] }],
    request: { query: ConnectivityQuery },
    responses: {
      200: {
        description: 'The responder for the GTIN',
        content: { 'application/json': { schema: ConnectivityResponse } },
      },
      400: problemResponse('Bad GTIN, reqGLN, context or linkType'),
      401: problemResponse('Unknown requester: no valid token'),
      403: problemResponse('No "verify" scope, or reqGLN is not the caller'),
      404: problemResponse('No manufacturer is registered for the GTIN'),
    },
  });
}

/** 403 unless reqGLN (when given) is the caller's party. */
function assertRequester(reqGLN: string | undefined, gln: string): void {
  if (reqGLN !== undefined && reqGLN !== gln)
    throw forbidden('query.reqGLN must be the GLN of the calling party.', {
      errors: [{ path: 'query.reqGLN', rule: 'caller', message: 'not the caller’s GLN' }],
    });
}

/** The GTIN's manufacturers (registered owners of its company prefix); 404 when none. */
async function ownersOf(deps: VerifierDeps, gtin: string) {
  const owners = await findPartiesByGtin(deps.db, gtin);
  if (owners.length === 0)
    throw notFound(`No manufacturer is registered for GTIN ${gtin}.`, { slug: 'gtin-not-found' });
  return owners;
}

/** Registers the VRS endpoint. */
export const vrsRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerVrsPaths(deps.openapi);
  router.get('/v1/vrs/checkConnectivity', requireScope('verify'), async (req, res) => {
    const { gln } = callerParty(req);
    const q = parse(ConnectivityQuery, req.query, 'query');
    assertRequester(q.reqGLN, gln);
    try {
      validateAiValue('01', q.gtin);
    } catch (err) {
      if (err instanceof Gs1Error) throw gs1Problem('query.gtin', err);
      throw err;
    }
    // The same responder the verification route names when no commission says otherwise.
    const owners = await ownersOf(deps, q.gtin);
    res.json({ responderGLN: owners[0]!.gln });
  });
  router.get('/v1/vrs/01/:gtin/21/:serial', requireScope('verify'), async (req, res) => {
    const { gln } = callerParty(req);
    const params = parse(VrsParams, req.params, 'params');
    const q = parse(VrsQuery, req.query, 'query');
    assertRequester(q.reqGLN, gln);
    let subject: string;
    let expiry: string | undefined;
    try {
      subject = formatSubject({ gtin: params.gtin, serial: params.serial });
    } catch (err) {
      if (err instanceof Gs1Error)
        throw gs1Problem(err.ai === '21' ? 'params.serial' : 'params.gtin', err);
      throw err;
    }
    try {
      if (q['10'] !== undefined) validateAiValue('10', q['10']);
    } catch (err) {
      if (err instanceof Gs1Error) throw gs1Problem('query.10', err);
      throw err;
    }
    try {
      // §7.12: the century from the service's clock, as the issuer reads it.
      if (q['17'] !== undefined) expiry = gs1DateToIso(q['17'], centuryAt(deps.now()), '17');
    } catch (err) {
      if (err instanceof Gs1Error) throw gs1Problem('query.17', err);
      throw err;
    }
    // The responder is the GTIN's manufacturer (registered owner of its company prefix).
    const owners = await ownersOf(deps, params.gtin);
    const view = await runVerification(deps, {
      party: gln,
      purpose: 'saleable_return',
      subject,
      scan: {
        ...(q['10'] !== undefined ? { lot: q['10'] } : {}),
        ...(expiry !== undefined ? { expiry } : {}),
      },
      source: 'vrs',
    });
    const commissioner = view.custody.find((e) => e.type === 'commission' && e.subject === subject);
    const body: VrsResponse = {
      verificationTimestamp: view.verifiedAt,
      responderGLN: commissioner?.actor ?? owners[0]!.gln,
      corrUUID: q.corrUUID,
      data: vrsData(view.verdict, view.reasons),
    };
    res.json(body);
  });
};
