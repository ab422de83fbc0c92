// POST /v1/verifications, GET /v1/verifications/{id} and POST /v1/bundles/verify
// (DESIGN §7, §8a); GET /v1/verifier is in monitor/routes.ts.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { apiRequests, checkBundleFrame, isContainerSubject } from '@provenant/core';
import {
  BEARER_AUTH,
  badRequest,
  idempotency,
  idempotencyContext,
  IdempotencyHeaders,
  idempotencyStoreFor,
  notFound,
  parse,
  principalOf,
  problemResponse,
  requireScope,
  type OpenAPIRegistry,
  type RouteModule,
} from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';
import { getVerification } from '../store.js';
import {
  runVerification,
  verificationCostUnits,
  type VerificationRequest,
  type VerificationView,
} from '../verification.js';
import { centuryAt } from '@provenant/gs1';
import { callerParty, scanOf, VerificationResponse } from './common.js';

// Request shapes: one source, @provenant/core api/requests.ts (issue 9).
const { verification: VerificationBody, verifyBundle: BundleVerifyBody } = apiRequests;

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

/** Registers this module's paths and schemas in an OpenAPI registry. */
export function registerVerificationPaths(o: OpenAPIRegistry): void {
  const security = [{ [BEARER_AUTH]: [] }];
  const verification = o.register('Verification', VerificationResponse);
  const common = {
    401: problemResponse('No token'),
    403: problemResponse('No "verify" scope, or not a party token'),
  };
  o.registerPath({
    method: 'post',
    path: '/v1/verifications',
    summary:
      'Verify a scanned unit or logistic unit as the caller’s party: accept, quarantine or reject with reason codes, the custody timeline and a signed verification receipt. Quarantine and reject at receiving open a case.',
    security,
    request: {
      headers: IdempotencyHeaders,
      body: { content: { 'application/json': { schema: VerificationBody } } },
    },
    responses: {
      201: {
        description: 'Verified and stored (also for UNKNOWN_PRODUCT)',
        content: { 'application/json': { schema: verification } },
      },
      400: problemResponse('Bad scan (names the GS1 rule and AI), subject or purpose'),
      ...common,
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/verifications/{id}',
    summary: 'A stored verification (its party or an admin only)',
    security,
    request: { params: IdParams },
    responses: {
      200: {
        description: 'The verification',
        content: { 'application/json': { schema: verification } },
      },
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/bundles/verify',
    summary:
      'Verify an offline bundle handed over by a shipper, on its own and against the log (BUNDLE_DIVERGES when they differ)',
    security,
    request: {
      headers: IdempotencyHeaders,
      body: { content: { 'application/json': { schema: BundleVerifyBody } } },
    },
    responses: {
      201: {
        description: 'Verified and stored',
        content: { 'application/json': { schema: verification } },
      },
      400: problemResponse(
        'Not a bundle (its frame does not parse): no verdict, no case. Evidence that parses and fails is a verdict.',
      ),
      ...common,
      413: problemResponse('Too large'),
    },
  });
}

/** The request's Idempotency-Key and fingerprint, stored with its verification (one per key across replicas). */
function idempotencyOf(req: Request): { idempotency?: { key: string; requestHash: string } } {
  const ctx = idempotencyContext(req);
  return ctx ? { idempotency: { key: ctx.key, requestHash: ctx.requestHash } } : {};
}

/** 201 with the verification and its Location; its cost in units counts against the token (DESIGN §8). */
function sendVerification(res: Response, view: VerificationView): void {
  res.locals.costUnits = verificationCostUnits(view);
  res.status(201).location(`/v1/verifications/${view.id}`).json(view);
}

/** Registers the verification endpoints. */
export const verificationRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerVerificationPaths(deps.openapi);
  /** `party`'s verification in its turn among the party's (gate.ts), with the request's Idempotency-Key. */
  const verifyInTurn = (
    req: Request,
    party: string,
    question: Omit<VerificationRequest, 'party' | 'idempotency'>,
    alone: boolean,
  ): Promise<VerificationView> =>
    deps.gate.run(
      party,
      () => runVerification(deps, { party, ...question, ...idempotencyOf(req) }),
      alone,
    );
  const verify = requireScope('verify');
  const idem = idempotency(idempotencyStoreFor(deps.db));

  router.post('/v1/verifications', verify, idem, async (req, res) => {
    const { gln } = callerParty(req);
    const b = parse(VerificationBody, req.body, 'body');
    // A scan (or a subject given in a scan form) that carries lot and expiry passes them on (§3).
    // The §7.12 century from the service's clock; stand-ins only when the caller opts in.
    const opts = { ...centuryAt(deps.now()), profile: b.scannerProfile };
    const s =
      b.scan !== undefined
        ? scanOf(b.scan, 'body.scan', opts)
        : scanOf(b.subject!, 'body.subject', opts);
    const subject = s.subject;
    const scan = {
      ...(s.lot !== undefined ? { lot: s.lot } : {}),
      ...(s.expiry !== undefined ? { expiry: s.expiry } : {}),
    };
    const view = await verifyInTurn(
      req,
      gln,
      {
        purpose: b.purpose,
        subject,
        ...(Object.keys(scan).length > 0 ? { scan } : {}),
        source: b.scan !== undefined ? 'scan' : 'subject',
        ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
      },
      // A logistic unit (up to a pallet's work) runs alone among its party's verifications.
      isContainerSubject(subject),
    );
    sendVerification(res, view);
  });

  router.get('/v1/verifications/:id', async (req, res) => {
    const p = principalOf(req);
    const { id } = parse(IdParams, req.params, 'params');
    const v = await getVerification(deps.db, id);
    // Another party's verification does not exist for the caller (no existence oracle).
    if (!v || (v.party !== p.gln && !p.isAdmin))
      throw notFound(`No verification ${id}.`, { slug: 'verification-not-found' });
    res.json(v.result);
  });

  router.post('/v1/bundles/verify', verify, idem, async (req, res) => {
    const { gln } = callerParty(req);
    const b = parse(BundleVerifyBody, req.body, 'body');
    // DESIGN §7: a bundle that does not even parse is 400: no verdict, no case.
    const frame = checkBundleFrame(b.bundle);
    if (!frame.ok) {
      const path = frame.path === '' ? 'body.bundle' : `body.bundle.${frame.path}`;
      throw badRequest(`${path}: ${frame.message}.`, {
        slug: 'invalid-bundle',
        errors: [{ path, rule: 'bundle', message: frame.message }],
      });
    }
    const s = b.scan !== undefined ? scanOf(b.scan, 'body.scan', centuryAt(deps.now())) : null;
    const scan = {
      ...(s?.lot !== undefined ? { lot: s.lot } : {}),
      ...(s?.expiry !== undefined ? { expiry: s.expiry } : {}),
    };
    const view = await verifyInTurn(
      req,
      gln,
      {
        purpose: b.purpose,
        subject: '',
        source: 'bundle',
        presented: b.bundle,
        ...(s ? { scannedSubject: s.subject } : {}),
        ...(Object.keys(scan).length > 0 ? { scan } : {}),
        ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
      },
      true, // a presented bundle is attacker-sized work: alone
    );
    sendVerification(res, view);
  });
};
