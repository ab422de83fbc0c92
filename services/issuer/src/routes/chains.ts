// Chains and offline bundles (DESIGN §5, §7, §8a): GET /v1/chains/{subject}
// serves one subject's records with envelopes and receipts, its status and
// effective custodian; GET /v1/bundles/{subject} serves the offline bundle of
// packages/core/src/bundle.ts (everything verifyBundle needs, every entry
// proved into ONE checkpoint). Reads only.
//
// Subjects appear in Digital Link path form with their slashes
// (`/v1/chains/01/{gtin}/21/{serial}`, `/v1/chains/00/{sscc}`), so the routes
// name each segment; a serial may be percent-encoded (`ABC%2F1`). A subject
// percent-encoded into one segment is accepted too.
//
// Chain status (decision; DESIGN §5 states, most severe first):
//   decommissioned  the unit was decommissioned, or the logistic unit was
//                   opened (unpacked: it takes no more records)
//   quarantined     a hold on the subject, or on the container it is in
//   in_transit      shipped and not yet received (itself or its container)
//   contained       packed in a logistic unit
//   active          otherwise
import type { Router } from 'express';
import { z } from 'zod';
import { effectiveCustody, strictApi, type ChainState, type CustodyContext } from '@provenant/core';
import { formatSubject, Gs1Error } from '@provenant/gs1';
import { buildBundle, getChain, getHead, isChainParty, type Queryable } from '@provenant/store';
import type { RouteDeps, RouteModule } from '@provenant/server-kit';
import { principalOf, type Principal } from '@provenant/server-kit';
import { BEARER_AUTH, problemResponse } from '@provenant/server-kit';
import { badRequest, notFound } from '@provenant/server-kit';
import { receiptOf, type Receipt } from '../log/receipts.js';
import type { IssuerDeps } from '../deps.js';
import { resolveSubject, SubjectInputError } from './custodial/subjects.js';

/** Chain status as GET /v1/chains answers it (see the table at the top of this file). */
export type ChainStatus = 'active' | 'in_transit' | 'contained' | 'decommissioned' | 'quarantined';

// ---------------------------------------------------------------------------
// Subjects from path segments (attacker-controlled).

/** The canonical subject of `01/{gtin}/21/{serial}`; Express has already percent-decoded the serial. */
function unitFromParams(params: Record<string, string | string[] | undefined>): string {
  const gtin = params.gtin;
  const serial = params.serial;
  if (typeof gtin !== 'string' || !/^\d{14}$/.test(gtin))
    throw badRequest('params.gtin: expected a GTIN-14 (14 digits).', {
      errors: [{ path: 'params.gtin', rule: 'gtin', message: 'expected 14 digits' }],
    });
  try {
    return formatSubject({ gtin, serial: typeof serial === 'string' ? serial : '' });
  } catch (err) {
    if (!(err instanceof Gs1Error)) throw err;
    const path = err.ai === '21' ? 'params.serial' : 'params.gtin';
    throw badRequest(`${path}: ${err.message}.`, {
      errors: [{ path, rule: err.code.toLowerCase().replace(/_/g, '-'), message: err.message }],
    });
  }
}

function containerFromParams(params: Record<string, string | string[] | undefined>): string {
  const sscc = params.sscc;
  try {
    if (typeof sscc !== 'string' || !/^\d{18}$/.test(sscc))
      throw new Gs1Error('BAD_SUBJECT', 'expected an SSCC (18 digits)', '00');
    return formatSubject({ sscc });
  } catch (err) {
    if (!(err instanceof Gs1Error)) throw err;
    throw badRequest(`params.sscc: ${err.message}.`, {
      errors: [
        {
          path: 'params.sscc',
          rule: err.code.toLowerCase().replace(/_/g, '-'),
          message: err.message,
        },
      ],
    });
  }
}

/**
 * A subject sent as ONE path segment (`/v1/chains/01%2F…%2F21%2FABC%252F1`,
 * what a client gets from encodeURIComponent(subject)), or any other DESIGN §3
 * form that fits in a segment; Express has decoded it once.
 */
function subjectFromParam(params: Record<string, string | string[] | undefined>): string {
  const text = params.subject;
  try {
    if (typeof text !== 'string') throw new SubjectInputError('subject', 'expected a subject');
    return resolveSubject(text);
  } catch (err) {
    if (!(err instanceof SubjectInputError)) throw err;
    throw badRequest(`params.subject: ${err.message}.`, {
      errors: [{ path: 'params.subject', rule: err.rule, message: err.message }],
    });
  }
}

// ---------------------------------------------------------------------------
// GET /v1/chains/{subject}

/** The status of a chain head (see the table at the top of this file). */
export function chainStatus(state: ChainState, ctx: CustodyContext): ChainStatus {
  if (!state.active || state.unpacked) return 'decommissioned';
  const eff = effectiveCustody(state, ctx);
  if (eff.quarantined) return 'quarantined';
  if (eff.inTransit) return 'in_transit';
  if (state.containedIn !== null) return 'contained';
  return 'active';
}

interface ChainView {
  subject: string;
  status: ChainStatus;
  custodian: string;
  records: {
    id: string;
    seq: number;
    type: string;
    actor: string;
    time: string;
    data: unknown;
    envelope: unknown;
    receipt: Receipt;
  }[];
}

async function chainView(q: Queryable, origin: string, subject: string): Promise<ChainView> {
  // Head first: a head commits with its records, so every record up to head.seq is readable after it.
  const head = await getHead(q, subject);
  const records = head ? await getChain(q, subject) : [];
  if (records.length === 0 || !head) throw chainNotFound(subject);
  const state = head.state as ChainState;
  // Its containers, every level up (DESIGN §5: containers nest): custody is the outermost's.
  const states = new Map<string, ChainState>([[subject, state]]);
  for (let up = state.containedIn; up !== null && !states.has(up);) {
    const ps = (await getHead(q, up))?.state as ChainState | undefined;
    if (!ps) break;
    states.set(up, ps);
    up = ps.containedIn;
  }
  const ctx: CustodyContext = { party: () => undefined, state: (s) => states.get(s) };
  // Records appended after the head was read wait for the next request.
  const shown = records.filter((r) => r.seq <= head.seq);
  return {
    subject,
    status: chainStatus(state, ctx),
    custodian: effectiveCustody(state, ctx).custodian,
    records: shown.map((r) => ({
      id: r.id,
      seq: r.seq,
      type: r.type,
      actor: r.actor,
      time: r.time,
      data: r.data,
      envelope: r.envelope,
      receipt: receiptOf(origin, r.receipt),
    })),
  };
}

// ---------------------------------------------------------------------------
// GET /v1/bundles/{subject}

// ---------------------------------------------------------------------------
// OpenAPI and routes.

function register(deps: RouteDeps<IssuerDeps>): void {
  const o = deps.openapi;
  // Response shapes: one source, @provenant/core api/chains.ts (issue 9).
  const chain = o.register('Chain', strictApi.chain.clone());
  const bundle = o.register('Bundle', strictApi.bundle.clone());
  const security = [{ [BEARER_AUTH]: [] }];
  const forms = [
    { suffix: '01/{gtin}/21/{serial}', params: z.object({ gtin: z.string(), serial: z.string() }) },
    { suffix: '00/{sscc}', params: z.object({ sscc: z.string() }) },
    {
      suffix: '{subject}',
      params: z.object({
        subject: z.string().meta({
          description:
            'The subject as one percent-encoded segment, e.g. 01%2F09506000134352%2F21%2FABC',
        }),
      }),
    },
  ];
  for (const f of forms) {
    o.registerPath({
      method: 'get',
      path: `/v1/chains/${f.suffix}`,
      summary:
        'A subject’s records with envelopes and receipts, its status and effective custodian',
      security,
      request: { params: f.params },
      responses: {
        200: { description: 'The chain', content: { 'application/json': { schema: chain } } },
        400: problemResponse('Bad GTIN, serial or SSCC'),
        401: problemResponse('No token'),
        404: problemResponse('No chain for the subject'),
      },
    });
    o.registerPath({
      method: 'get',
      path: `/v1/bundles/${f.suffix}`,
      summary: 'Offline verification bundle: every entry proved into the latest checkpoint',
      security,
      request: { params: f.params },
      responses: {
        200: { description: 'The bundle', content: { 'application/json': { schema: bundle } } },
        400: problemResponse('Bad GTIN, serial or SSCC'),
        401: problemResponse('No token'),
        404: problemResponse('No chain for the subject'),
      },
    });
  }
}

/**
 * DESIGN §6a: a chain is read by the parties in it (or in its container's
 * chain) as actor or `to`, the admin and monitors; anyone else gets exactly
 * the 404 of an unknown subject.
 */
async function mayRead(q: Queryable, subject: string, p: Principal): Promise<boolean> {
  if (p.isAdmin || p.scopes.includes('monitor')) return true;
  return p.gln !== null && (await isChainParty(q, subject, p.gln));
}

const chainNotFound = (subject: string) =>
  notFound(`No chain for ${subject}.`, { slug: 'chain-not-found' });
const bundleNotFound = (subject: string) =>
  notFound(`No chain for ${subject} in the latest checkpoint.`, { slug: 'chain-not-found' });

/** Registers GET /v1/chains/{subject} and GET /v1/bundles/{subject}. */
export const chainRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  const { db, logKeys } = deps;
  register(deps);

  const chain = async (p: Principal, subject: string) => {
    if (!(await mayRead(db, subject, p))) throw chainNotFound(subject);
    return chainView(db, logKeys.origin, subject);
  };
  router.get('/v1/chains/01/:gtin/21/:serial', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, unitFromParams(req.params)));
  });
  router.get('/v1/chains/00/:sscc', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, containerFromParams(req.params)));
  });
  router.get('/v1/chains/:subject', async (req, res) => {
    const p = principalOf(req);
    res.json(await chain(p, subjectFromParam(req.params)));
  });

  const bundle = async (p: Principal, subject: string) => {
    if (!(await mayRead(db, subject, p))) throw bundleNotFound(subject);
    const b = await buildBundle(db, logKeys.origin, subject);
    if (!b) throw bundleNotFound(subject);
    return b;
  };
  router.get('/v1/bundles/01/:gtin/21/:serial', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, unitFromParams(req.params)));
  });
  router.get('/v1/bundles/00/:sscc', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, containerFromParams(req.params)));
  });
  router.get('/v1/bundles/:subject', async (req, res) => {
    const p = principalOf(req);
    res.json(await bundle(p, subjectFromParam(req.params)));
  });
};
