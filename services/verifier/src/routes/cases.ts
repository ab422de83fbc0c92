// Quarantine cases (DESIGN §7, §8a): opened by quarantine and reject verdicts
// at receiving; listed per party with an opaque cursor (DESIGN §8), resolved
// with an outcome, exported as the fields of an FDA Form 3911 notification.
// Another party's case answers 404, like one that does not exist.
import type { Request, Router } from 'express';
import { z } from 'zod';
import {
  apiRequests,
  CASE_OUTCOMES,
  CASE_STATUSES,
  fromBase64Url,
  fromUtf8,
  strictApi,
  toBase64Url,
  utf8,
  type ApiResponse,
  type Reason,
} from '@provenant/core';
import { getChain, getParty, insertWebhookEvents } from '@provenant/store';
import {
  BEARER_AUTH,
  badRequest,
  conflict,
  idempotency,
  IdempotencyHeaders,
  idempotencyStoreFor,
  notFound,
  parse,
  principalOf,
  problemResponse,
  type OpenAPIRegistry,
  type RouteModule,
  webhookEvent,
} from '@provenant/server-kit';
import type { VerifierDeps } from '../deps.js';
import { form3911 } from '../form3911.js';
import { getCase, getVerification, listCases, resolveCase, type StoredCase } from '../store.js';
import type { VerificationView } from '../verification.js';

/** Case outcomes (decision): what the dock did with the goods (one source: @provenant/core api/verifier.ts). */
export { CASE_OUTCOMES };

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

// Response shape: one source, @provenant/core api/verifier.ts (issue 9).
type CaseView = ApiResponse<'caseView'>;

const ListQuery = z.strictObject({
  status: z.enum(CASE_STATUSES).optional(),
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
});
const IdParams = z.strictObject({ id: z.string().min(1).max(64) });
// Request shape: one source, @provenant/core api/requests.ts (issue 9).
const ResolveBody = apiRequests.resolveCase;

function view(c: StoredCase): CaseView {
  return {
    id: c.id,
    caseNumber: c.caseNumber,
    verificationId: c.verificationId,
    party: c.party,
    subject: c.subject,
    verdict: c.verdict,
    reasons: c.reasons as CaseView['reasons'],
    status: c.status,
    outcome: c.outcome as CaseView['outcome'],
    note: c.note,
    resolvedBy: c.resolvedBy,
    createdAt: c.createdAt,
    resolvedAt: c.resolvedAt,
  };
}

// The cursor is opaque to clients (DESIGN §8); inside, the list position.
const cursorOf = (n: number): string => toBase64Url(utf8(`case:${n}`));
function positionOf(after: string): number {
  const bytes = fromBase64Url(after);
  const m = bytes ? /^case:(\d{1,15})$/.exec(fromUtf8(bytes) ?? '') : null;
  if (!m)
    throw badRequest('query.after: not a cursor this endpoint returned.', {
      errors: [{ path: 'query.after', rule: 'cursor', message: 'unknown cursor' }],
    });
  return Number(m[1]);
}

/** The case, if the caller may see it (its party, or an admin). */
async function visibleCase(deps: VerifierDeps, req: Request, id: string): Promise<StoredCase> {
  const p = principalOf(req);
  const c = await getCase(deps.db, id);
  if (!c || (c.party !== p.gln && !p.isAdmin))
    throw notFound(`No case ${id}.`, { slug: 'case-not-found' });
  return c;
}

/** Registers this module's paths and schemas in an OpenAPI registry. */
export function registerCasePaths(o: OpenAPIRegistry): void {
  const security = [{ [BEARER_AUTH]: [] }];
  const caseSchema = o.register('Case', strictApi.caseView.clone());
  o.registerPath({
    method: 'get',
    path: '/v1/cases',
    summary: 'The caller party’s quarantine cases, oldest first (an admin sees every party’s)',
    security,
    request: { query: ListQuery },
    responses: {
      200: {
        description: 'A page of cases; `next` is the cursor of the following page, or null',
        content: {
          'application/json': {
            schema: z.strictObject({ cases: z.array(caseSchema), next: z.string().nullable() }),
          },
        },
      },
      400: problemResponse('Bad status, limit or cursor'),
      401: problemResponse('No token'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/cases/{id}',
    summary: 'One case',
    security,
    request: { params: IdParams },
    responses: {
      200: { description: 'The case', content: { 'application/json': { schema: caseSchema } } },
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/cases/{id}/resolve',
    summary:
      'Resolve an open case with an outcome (released, returned, destroyed, reported, other)',
    security,
    request: {
      params: IdParams,
      headers: IdempotencyHeaders,
      body: { content: { 'application/json': { schema: ResolveBody } } },
    },
    responses: {
      200: { description: 'Resolved', content: { 'application/json': { schema: caseSchema } } },
      400: problemResponse('Bad outcome or note'),
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
      409: problemResponse('Already resolved'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/cases/{id}/form3911',
    summary: 'The fields of an FDA Form 3911 drug notification, filled from the case',
    security,
    request: { params: IdParams },
    responses: {
      200: {
        description: 'Form 3911 fields as JSON',
        content: {
          'application/json': { schema: o.register('Form3911', strictApi.form3911.clone()) },
        },
      },
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
}

/** Registers the case endpoints. */
export const caseRoutes: RouteModule<VerifierDeps> = (router: Router, deps) => {
  registerCasePaths(deps.openapi);
  const { db } = deps;

  router.get('/v1/cases', async (req, res) => {
    const p = principalOf(req);
    const q = parse(ListQuery, req.query, 'query');
    if (p.gln === null && !p.isAdmin) throw notFound('No cases.', { slug: 'case-not-found' });
    const limit = q.limit ?? DEFAULT_PAGE;
    const rows = await listCases(db, p.gln, {
      ...(q.status ? { status: q.status } : {}),
      after: q.after ? positionOf(q.after) : 0,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    res.json({
      cases: page.map(view),
      next: rows.length > limit ? cursorOf(page[page.length - 1]!.n) : null,
    });
  });

  router.get('/v1/cases/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    res.json(view(await visibleCase(deps, req, id)));
  });

  router.post('/v1/cases/:id/resolve', idempotency(idempotencyStoreFor(db)), async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    const b = parse(ResolveBody, req.body, 'body');
    const c = await visibleCase(deps, req, id);
    const at = new Date(deps.now());
    // The resolution and its case.resolved event commit together (DESIGN §12 outbox).
    const resolved = await db.transaction(async (tx) => {
      const r = await resolveCase(tx, c.id, {
        outcome: b.outcome,
        note: b.note ?? null,
        by: principalOf(req).gln,
        at: at.toISOString(),
      });
      if (r)
        await insertWebhookEvents(tx, [
          webhookEvent(
            'case.resolved',
            [r.party],
            {
              caseId: r.id,
              party: r.party,
              subject: r.subject,
              outcome: r.outcome ?? b.outcome,
              resolvedBy: r.resolvedBy,
              resolvedAt: r.resolvedAt ?? at.toISOString(),
            },
            at,
          ),
        ]);
      return r;
    });
    if (!resolved)
      throw conflict(`Case ${id} is already resolved.`, {
        slug: 'case-resolved',
        extra: { status: 'resolved' },
      });
    res.json(view(resolved));
  });

  router.get('/v1/cases/:id/form3911', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    const c = await visibleCase(deps, req, id);
    const v = await getVerification(db, c.verificationId);
    const result = (v?.result ?? null) as VerificationView | null;
    const product = result?.product ?? null;
    let productName: string | null = null;
    if (product) {
      // The commission record may carry a product description (DESIGN §5 `product?`).
      const [genesis] = await getChain(db, c.subject);
      const p = (genesis?.data as { product?: Record<string, string> } | undefined)?.product;
      productName = p?.name ?? p?.productName ?? null;
    }
    const party = await getParty(db, c.party);
    res.json(
      form3911({
        caseId: c.id,
        verificationId: c.verificationId,
        subject: c.subject,
        verdict: c.verdict,
        reasons: c.reasons as Reason[],
        createdAt: c.createdAt,
        product,
        productName,
        quantity: result?.units?.total ?? 1,
        reporter: { companyName: party?.name ?? null, gln: c.party },
      }),
    );
  });
};
