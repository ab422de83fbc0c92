// Custodial (service-signed) writes (DESIGN §5, §7, §8, §8a): commission,
// pack, unpack, ship, receive with reconciliation, decommission, reactivate
// and recall. The caller's party token (scope `sign`) asks; the service signs
// each record with the party's active custodial key and sequences the whole
// call as ONE submission (all-or-nothing, up to 10,000 subjects). The custody
// state machine is dry-run first (plan.ts) so a refusal lists every broken
// rule; the sequencer's run under the log lock is the authoritative one.
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import {
  COMMISSIONING_ROLES,
  isContainerState,
  isContainerSubject,
  unitSubject,
} from '@provenant/core';
import { Gs1Error } from '@provenant/gs1';
import { findPartiesByGtin, getHeadChildren, getParty } from '@provenant/store';
import type { RouteDeps, RouteModule } from '@provenant/server-kit';
import { recordResult } from '../append/index.js';
import type { UnsignedNotice } from '../append/custodial.js';
import { principalOf, requireScope } from '@provenant/server-kit';
import { BEARER_AUTH, IdempotencyHeaders, problemResponse } from '@provenant/server-kit';
import {
  badRequest,
  conflict,
  forbidden,
  notFound,
  unprocessable,
  type FieldError,
} from '@provenant/server-kit';
import { MAX_FIELD_ERRORS, parse } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import type { Accepted, PendingRecord } from '../log/sequencer.js';
import { CustodyPlan } from './custodial/plan.js';
import { findShipmentLines, reconcile, type ShippedSubject } from './custodial/reconcile.js';
import {
  AppendResult,
  CommissionBody,
  DecommissionBody,
  expiryToIso,
  PackBody,
  PackResponse,
  ReactivationBody,
  RecallBody,
  RecallResponse,
  ReceiptBody,
  ReceiptResponse,
  RecordsResponse,
  ShipmentBody,
  ShipmentResponse,
  UnpackBody,
} from './custodial/schemas.js';
import { resolveOne, resolveSubjects } from './custodial/subjects.js';
import { signedWrite } from './custodial/submit.js';

type Deps = RouteDeps<IssuerDeps>;
type UnsignedRecord = Parameters<IssuerDeps['signer']['signRecords']>[2][number];

/** The caller's party: custodial records are signed as it, so an operator token (no party) is refused. */
function callerOf(req: Request): string {
  const p = principalOf(req);
  if (p.gln === null)
    throw forbidden('Custodial writes sign as the caller’s party; this token belongs to no party.');
  return p.gln;
}

/**
 * Signs `records` with the caller's custodial key and applies each to the
 * plan (`indexes[i]` is the request item of records[i]); throws the plan's
 * refusal when any breaks a rule.
 */
async function signAll(
  deps: Deps,
  plan: CustodyPlan,
  records: readonly (UnsignedRecord | null)[],
  indexes?: readonly (number | undefined)[],
): Promise<PendingRecord[]> {
  plan.assertClean();
  const signed = await deps.signer.signRecords(deps.db, plan.actor, records as UnsignedRecord[]);
  signed.forEach((p, i) => plan.apply(p, indexes ? indexes[i] : i));
  plan.assertClean();
  return signed;
}

const results = (accepted: Accepted[]) => accepted.map(recordResult);

// Each item's expiry as YYYY-MM-DD (a label's YYMMDD by the §7.12 window of `now`);
// 400 naming every item whose resolved date does not exist.
function commissionExpiries(items: readonly { expiry: string }[], now: number): string[] {
  const errors: FieldError[] = [];
  const out = items.map((it, i) => {
    try {
      return expiryToIso(it.expiry, now);
    } catch (err) {
      if (!(err instanceof Gs1Error)) throw err;
      errors.push({ path: `body.items[${i}].expiry`, rule: 'date', message: err.message });
      return '';
    }
  });
  if (errors.length > 0)
    throw badRequest(`${errors[0]!.path}: ${errors[0]!.message}`, {
      errors: errors.slice(0, MAX_FIELD_ERRORS),
    });
  return out;
}

// POST /v1/commissions: seq 0 of each unit (DESIGN §5 commission).
async function commissions(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(CommissionBody, req.body, 'body');
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const subjects = body.items.map((it) => unitSubject(it.gtin, it.serial));
    const errors: FieldError[] = [];
    const seen = new Map<string, number>();
    subjects.forEach((s, i) => {
      const first = seen.get(s);
      if (first === undefined) seen.set(s, i);
      else
        errors.push({
          path: `body.items[${i}]`,
          rule: 'duplicate',
          message: `${s} is already listed at body.items[${first}]`,
        });
    });
    if (errors.length > 0)
      throw badRequest(`${errors[0]!.path}: ${errors[0]!.message}`, {
        errors: errors.slice(0, MAX_FIELD_ERRORS),
      });
    const plan = await CustodyPlan.load(deps.db, gln, subjects);
    subjects.forEach((s, i) => {
      const st = plan.state(s);
      // A second seq 0 would fork the chain (DESIGN §9: 409 naming the head).
      if (st)
        plan.refuse('CHAIN_BROKEN', `${s} is already commissioned (head at seq ${st.seq})`, s, i);
    });
    const expiries = commissionExpiries(body.items, deps.now());
    const records = body.items.map((it, i) =>
      plan.genesis(subjects[i]!, 'commission', {
        gtin: it.gtin,
        serial: it.serial,
        lot: it.lot,
        expiry: expiries[i]!,
        ...(it.product ? { product: it.product } : {}),
      }),
    );
    const entries = await signAll(deps, plan, records);
    return { entries, respond: (a) => ({ records: results(a) }) };
  });
}

// POST /v1/packs: each child's pack {parent}, then the parent's pack
// {children: [{subject, head}]} (core custody.ts: N + 1 records). Containers
// nest (DESIGN §5): a child may be a sealed SSCC or serialized case, and the
// parent an SSCC (its genesis) or a commissioned serialized GTIN case.
async function packs(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(PackBody, req.body, 'body');
  const parent = resolveOne(body.parent, 'body.parent');
  const children = resolveSubjects(body.children, 'body.children');
  const self = children.indexOf(parent);
  if (self >= 0)
    throw badRequest(`body.children[${self}]: a container cannot contain itself`, {
      errors: [
        {
          path: `body.children[${self}]`,
          rule: 'not-the-parent',
          message: 'a container cannot contain itself',
        },
      ],
    });
  const sscc = isContainerSubject(parent);
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const plan = await CustodyPlan.load(deps.db, gln, [parent, ...children]);
    const existing = plan.state(parent);
    if (existing && sscc)
      plan.refuse(
        'CHAIN_BROKEN',
        `${parent} already has a chain (head at seq ${existing.seq})`,
        parent,
      );
    const units = await signAll(
      deps,
      plan,
      children.map((c, i) => plan.next(c, 'pack', { parent }, i)),
    );
    const data = { children: units.map((u) => ({ subject: u.record.subject, head: u.id })) };
    const container = await signAll(
      deps,
      plan,
      // A serialized case is packed after its commission: without a chain, plan.next refuses it.
      [sscc ? plan.genesis(parent, 'pack', data) : plan.next(parent, 'pack', data)],
      [undefined],
    );
    return {
      entries: [...units, ...container],
      respond: (a) => ({ parent, records: results(a) }),
    };
  });
}

// POST /v1/unpacks: the container's unpack {children}, then each unit's
// unpack {parent, parentHead} (core custody.ts).
async function unpacks(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(UnpackBody, req.body, 'body');
  const parent = resolveOne(body.parent, 'body.parent');
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const plan = await CustodyPlan.load(deps.db, gln, [parent]);
    const st = plan.state(parent);
    // An SSCC, or a serialized case once packed (DESIGN §5: containers nest).
    if (!st || !isContainerState(st)) throw notFound(`No container ${parent} is known.`);
    const children = st.children.map((c) => c.subject);
    await plan.include(deps.db, children);
    const [opened] = await signAll(
      deps,
      plan,
      [plan.next(parent, 'unpack', { children })],
      [undefined],
    );
    const units = await signAll(
      deps,
      plan,
      children.map((c) => plan.next(c, 'unpack', { parent, parentHead: opened!.id })),
      children.map(() => undefined),
    );
    return {
      entries: [opened!, ...units],
      respond: (a) => ({ parent, records: results(a) }),
    };
  });
}

// POST /v1/shipments: one ship record per listed subject; a container carries its contents.
async function shipments(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(ShipmentBody, req.body, 'body');
  const subjects = resolveSubjects(body.subjects, 'body.subjects');
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    // DESIGN §5: ship.to must be a registered party that is not suspended (the
    // sequencer re-checks under the lock; this answers before any signing).
    const to = await getParty(deps.db, body.to);
    if (!to || to.status === 'suspended') {
      const message = to
        ? `ship.to ${body.to} is suspended.`
        : `ship.to ${body.to} is not a registered party.`;
      throw unprocessable(message, {
        slug: 'custody-violation',
        reasons: [{ code: 'CUSTODY_VIOLATION', message }],
        errors: [
          {
            path: 'body.to',
            rule: to ? 'active-party' : 'registered-party',
            message: to ? 'the party is suspended' : 'not a registered party',
          },
        ],
      });
    }
    const plan = await CustodyPlan.load(deps.db, gln, subjects);
    const data = {
      to: body.to,
      shipment: body.shipment,
      ...(body.transactions ? { transactions: body.transactions } : {}),
    };
    const entries = await signAll(
      deps,
      plan,
      subjects.map((s, i) => plan.next(s, 'ship', data, i)),
    );
    return {
      entries,
      respond: (a) => ({ shipment: body.shipment, to: body.to, records: results(a) }),
    };
  });
}

// POST /v1/receipts: receive with reconciliation (DESIGN §7; decisions in reconcile.ts).
async function receipts(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(ReceiptBody, req.body, 'body');
  // A dock may scan the same label twice: duplicates are ignored, not refused.
  const scanned = [...new Set(resolveSubjects(body.scanned, 'body.scanned', { unique: false }))];
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const lines = await findShipmentLines(deps.db, body.shipment, body.from, gln);
    if (lines.length === 0)
      throw notFound(`No shipment ${body.shipment} from ${body.from} to ${gln} is known.`);
    const plan = await CustodyPlan.load(
      deps.db,
      gln,
      lines.map((l) => l.subject),
    );
    const shipped: ShippedSubject[] = [];
    for (const l of lines) {
      const state = plan.state(l.subject);
      // Still in transit under THIS ship record: not yet received by an earlier receipt.
      if (state?.inTransit?.id === l.id) shipped.push({ subject: l.subject, state });
    }
    if (shipped.length === 0)
      throw conflict(`Shipment ${body.shipment} from ${body.from} was received already.`, {
        slug: 'shipment-received',
      });
    // Containers nest (DESIGN §5): what the containers inside hold, level by level.
    const inner = new Map<string, string[]>();
    const loaded = new Set(shipped.map((x) => x.subject));
    let level = shipped.flatMap((x) => x.state.children.map((c) => c.subject));
    while (level.length > 0) {
      level = level.filter((c) => !loaded.has(c));
      for (const c of level) loaded.add(c);
      const found = await getHeadChildren(deps.db, level);
      for (const [s, kids] of found) inner.set(s, kids);
      level = [...found.values()].flat();
    }
    const { units, counts, receive } = reconcile(shipped, scanned, body.condition, (c) =>
      inner.get(c),
    );
    if (receive.length === 0)
      throw unprocessable(
        `Nothing scanned belongs to shipment ${body.shipment}: nothing to receive.`,
        {
          slug: 'nothing-to-receive',
          extra: { shipment: body.shipment, from: body.from, units, counts },
        },
      );
    const entries = await signAll(
      deps,
      plan,
      receive.map((r) =>
        plan.next(r.subject, 'receive', {
          from: body.from,
          shipment: body.shipment,
          condition: body.condition,
          ...(r.discrepancies.length > 0 ? { discrepancies: r.discrepancies } : {}),
        }),
      ),
      receive.map(() => undefined),
    );
    return {
      entries,
      respond: (a) => ({
        shipment: body.shipment,
        from: body.from,
        condition: body.condition,
        units,
        counts: { ...counts, received: a.length },
        records: results(a),
      }),
    };
  });
}

// POST /v1/decommissions.
async function decommissions(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(DecommissionBody, req.body, 'body');
  const subjects = resolveSubjects(body.subjects, 'body.subjects', { kind: 'unit' });
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const plan = await CustodyPlan.load(deps.db, gln, subjects);
    const entries = await signAll(
      deps,
      plan,
      subjects.map((s, i) => plan.next(s, 'decommission', { reason: body.reason }, i)),
    );
    return { entries, respond: (a) => ({ records: results(a) }) };
  });
}

// POST /v1/reactivations: undo each unit's current decommission (DESIGN §5 reactivate).
async function reactivations(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(ReactivationBody, req.body, 'body');
  const subjects = resolveSubjects(body.subjects, 'body.subjects', { kind: 'unit' });
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const plan = await CustodyPlan.load(deps.db, gln, subjects);
    const records = subjects.map((s, i) => {
      const st = plan.state(s);
      if (!st) return plan.next(s, 'reactivate', { undo: '' }, i); // notes "no chain"
      if (!st.decommission) {
        plan.refuse('CUSTODY_VIOLATION', `${s} is not decommissioned`, s, i);
        return null;
      }
      return plan.next(s, 'reactivate', { undo: st.decommission.id }, i);
    });
    const entries = await signAll(deps, plan, records);
    return { entries, respond: (a) => ({ records: results(a) }) };
  });
}

// POST /v1/recalls: a `recall` notice signed by the GTIN's manufacturer (DESIGN §5 notices).
async function recalls(deps: Deps, req: Request, res: Response): Promise<void> {
  const body = parse(RecallBody, req.body, 'body');
  const gln = callerOf(req);
  await signedWrite(deps, req, res, async () => {
    const owners = await findPartiesByGtin(deps.db, body.gtin);
    const owns = owners.some(
      (p) => p.gln === gln && p.roles.some((r) => COMMISSIONING_ROLES.has(r)),
    );
    if (!owns) throw forbidden(`${gln} is not the manufacturer of GTIN ${body.gtin}.`);
    const notice = {
      v: 1,
      type: 'recall',
      actor: gln,
      time: new Date().toISOString(),
      data: {
        gtin: body.gtin,
        ...(body.lot !== undefined ? { lot: body.lot } : {}),
        reason: body.reason,
      },
    } as UnsignedNotice;
    const entry = await deps.signer.signNotice(deps.db, gln, notice);
    return { entries: [entry], respond: ([a]) => ({ id: a!.id, receipt: a!.receipt }) };
  });
}

/** OpenAPI entries of the custodial endpoints. */
function document(deps: Deps): void {
  const o = deps.openapi;
  o.register('CustodialAppendResult', AppendResult.clone());
  const ops: [string, string, z.ZodType, string, z.ZodType][] = [
    [
      '/v1/commissions',
      'Commission units (custodial)',
      CommissionBody,
      'CustodialRecords',
      RecordsResponse,
    ],
    [
      '/v1/packs',
      'Pack units or containers into a container: an SSCC or a serialized case (custodial, N + 1 records)',
      PackBody,
      'CustodialPack',
      PackResponse,
    ],
    [
      '/v1/unpacks',
      'Unpack a container, one level (custodial)',
      UnpackBody,
      'CustodialPack',
      PackResponse,
    ],
    [
      '/v1/shipments',
      'Ship subjects to a party (custodial)',
      ShipmentBody,
      'CustodialShipment',
      ShipmentResponse,
    ],
    [
      '/v1/receipts',
      'Receive a shipment with reconciliation (custodial)',
      ReceiptBody,
      'CustodialReceipt',
      ReceiptResponse,
    ],
    [
      '/v1/decommissions',
      'Decommission units (custodial)',
      DecommissionBody,
      'CustodialRecords',
      RecordsResponse,
    ],
    [
      '/v1/reactivations',
      'Undo decommissions (custodial)',
      ReactivationBody,
      'CustodialRecords',
      RecordsResponse,
    ],
    [
      '/v1/recalls',
      'Recall a GTIN or lot (custodial notice)',
      RecallBody,
      'CustodialRecall',
      RecallResponse,
    ],
  ];
  const registered = new Map<string, z.ZodType>();
  for (const [path, summary, request, responseName, response] of ops) {
    const name = `${path.slice(4, 5).toUpperCase()}${path.slice(5)}Request`;
    let res = registered.get(responseName);
    if (!res) {
      res = o.register(responseName, response.clone());
      registered.set(responseName, res);
    }
    o.registerPath({
      method: 'post',
      path,
      summary,
      security: [{ [BEARER_AUTH]: [] }],
      request: {
        headers: IdempotencyHeaders,
        body: { content: { 'application/json': { schema: o.register(name, request.clone()) } } },
      },
      responses: {
        201: {
          description: 'Signed and in the log',
          content: { 'application/json': { schema: res } },
        },
        400: problemResponse('Invalid request: the field and the rule are named'),
        401: problemResponse('No or bad token'),
        403: problemResponse('Token lacks the sign scope, or acts for another party'),
        404: problemResponse('Unknown shipment or logistic unit'),
        409: problemResponse('Chain conflict (names the current head) or Idempotency-Key in use'),
        413: problemResponse('Too many subjects'),
        422: problemResponse('A custody rule is broken (reason codes), or Idempotency-Key reused'),
        503: problemResponse('Database unavailable'),
      },
    });
  }
}

/** Route module of the custodial endpoints (DESIGN §8a). */
export const custodialRoutes: RouteModule<IssuerDeps> = (router: Router, deps: Deps) => {
  document(deps);
  const sign = requireScope('sign');
  const route =
    (fn: (deps: Deps, req: Request, res: Response) => Promise<void>) =>
    (req: Request, res: Response) =>
      fn(deps, req, res);
  router.post('/v1/commissions', sign, route(commissions));
  router.post('/v1/packs', sign, route(packs));
  router.post('/v1/unpacks', sign, route(unpacks));
  router.post('/v1/shipments', sign, route(shipments));
  router.post('/v1/receipts', sign, route(receipts));
  router.post('/v1/decommissions', sign, route(decommissions));
  router.post('/v1/reactivations', sign, route(reactivations));
  router.post('/v1/recalls', sign, route(recalls));
};
