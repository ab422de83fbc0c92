// POST /v1/verifications, GET /v1/verifications/{id} and POST /v1/bundles/verify
// (DESIGN §7, §8a); GET /v1/verifier is in monitor/routes.ts.
import type { Request, Router } from 'express';
import { z } from 'zod';
import { checkBundleFrame, VERIFICATION_NONCE_RE } from '@provenant/core';
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
import { runVerification, verificationCostUnits } from '../verification.js';
import { centuryAt, SCANNER_PROFILES } from '@provenant/gs1';
import { callerParty, purposeSchema, scanOf, scanSchema, VerificationResponse } from './common.js';

// DESIGN §7 "receipts bind the question": the nonce is signed back in the receipt.
const nonceSchema = z
  .string()
  .regex(VERIFICATION_NONCE_RE, 'nonce must be 1-64 URL-safe characters [A-Za-z0-9_-]')
  .meta({
    description:
      'a fresh random value of the caller, signed back in the receipt so that a receipt for another question cannot be replayed',
  });

const VerificationBody = z
  .strictObject({
    scan: scanSchema.optional(),
    // DESIGN §3: "inputs accepted anywhere a subject is expected": every scan form too.
    subject: scanSchema.optional(),
    purpose: purposeSchema,
    nonce: nonceSchema.optional(),
    scannerProfile: z.enum(SCANNER_PROFILES).optional().meta({
      description:
        'Opt in to the printable GS stand-ins of a named scanner profile (DESIGN §3). `keyboard-wedge-gs`: a keyboard-wedge scanner that sends `<GS>`, `{GS}`, `[GS]`, `<FNC1>`, `^FNC1`, U+241D, `\\x1d`, or a single `|` `^` `~` before an AI, or `~1`, for GS. Without it only 0x1D (FNC1) separates: `<` and `>` are legal serial characters.',
    }),
  })
  .superRefine((b, ctx) => {
    if ((b.scan === undefined) === (b.subject === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: 'give exactly one of scan or subject',
        params: { rule: 'scan-or-subject' },
      });
  });

const BundleVerifyBody = z.strictObject({
  bundle: z.record(z.string(), z.unknown()).meta({
    description: 'An offline bundle (GET /v1/bundles/{subject}) handed over by a shipper',
  }),
  purpose: purposeSchema,
  // DESIGN §7: what the dock scanned; a bundle for anything else is SUBJECT_MISMATCH.
  scan: scanSchema
    .optional()
    .meta({ description: 'the code scanned on the goods; the bundle must be for it' }),
  nonce: nonceSchema.optional(),
});

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

/** Registers the verification endpoints. */
export const verificationRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerVerificationPaths(deps.openapi);
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
    const view = await deps.gate.run(gln, () =>
      runVerification(deps, {
        party: gln,
        purpose: b.purpose,
        subject,
        ...(Object.keys(scan).length > 0 ? { scan } : {}),
        source: b.scan !== undefined ? 'scan' : 'subject',
        ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
        ...idempotencyOf(req),
      }),
    );
    res.locals.costUnits = verificationCostUnits(view);
    res.status(201).location(`/v1/verifications/${view.id}`).json(view);
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
    const view = await deps.gate.run(gln, () =>
      runVerification(deps, {
        party: gln,
        purpose: b.purpose,
        subject: '',
        source: 'bundle',
        presented: b.bundle,
        ...(s ? { scannedSubject: s.subject } : {}),
        ...(Object.keys(scan).length > 0 ? { scan } : {}),
        ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
        ...idempotencyOf(req),
      }),
    );
    res.locals.costUnits = verificationCostUnits(view);
    res.status(201).location(`/v1/verifications/${view.id}`).json(view);
  });
};
