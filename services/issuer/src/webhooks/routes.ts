// Webhook subscriptions (DESIGN §8a, §12): subscribe, list, delete, rotate
// the secret, list deliveries, redeliver. A party token manages its party's
// subscriptions; the operator's (admin) subscriptions receive every event.
// Another party's subscription answers 404, as if unknown.
// Decisions where DESIGN is silent: the secret is shown only in the answers
// of subscribe and rotate, so these two ignore Idempotency-Key (like token
// issuance); after a rotation the old secret also signs for 24 hours (a
// second `v1,` signature, as Standard Webhooks allows); deliveries list
// newest first.
import { randomUUID } from 'node:crypto';
import type { Request, Router } from 'express';
import { z } from 'zod';
import { fromBase64Url, fromUtf8, toBase64Url, utf8 } from '@provenant/core';
import {
  deleteWebhookSubscription,
  getWebhookSubscription,
  insertWebhookSubscription,
  listWebhookDeliveries,
  listWebhookSubscriptions,
  redeliverWebhook,
  rotateWebhookSecret,
  type WebhookDeliveryView,
  type WebhookSubscription,
} from '@provenant/store';
import type { RouteModule } from '@provenant/server-kit';
import { principalOf } from '@provenant/server-kit';
import { BEARER_AUTH, problemResponse, type OpenAPIRegistry } from '@provenant/server-kit';
import { badRequest, forbidden, notFound } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import { seal } from '../seal.js';
import { EVENT_DATA, WEBHOOK_EVENT_TYPES } from '@provenant/server-kit';
import { newWebhookSecret } from './send.js';
import { checkWebhookUrl, WebhookUrlError } from './ssrf.js';
import {
  DEFAULT_WEBHOOK_SETTINGS,
  ROTATION_OVERLAP_MS,
  secretAad,
  type WebhookSettings,
} from './worker.js';

export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 500;

const SubscribeBody = z.strictObject({
  url: z.string().min(1).max(2048).describe('https URL of the endpoint (DESIGN §12 SSRF rules)'),
  events: z
    .array(z.enum(WEBHOOK_EVENT_TYPES))
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((e) => new Set(e).size === e.length, 'events must be distinct'),
});
const IdParams = z.strictObject({ id: z.string().min(1).max(64) });
const DeliveryParams = z.strictObject({
  id: z.string().min(1).max(64),
  did: z.string().regex(/^\d{1,15}$/),
});
const PageQuery = z.strictObject({
  after: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE).optional(),
});

const SubscriptionView = z.object({
  id: z.string(),
  party: z.string().nullable().describe('null: an operator subscription (every event)'),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
  createdAt: z.string(),
});
const WithSecret = SubscriptionView.extend({
  secret: z.string().describe('whsec_ secret, shown only in this answer'),
});
const DeliveryView = z.object({
  id: z.string(),
  eventId: z.string().describe('the webhook-id header of every attempt'),
  type: z.enum(WEBHOOK_EVENT_TYPES),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  lastStatus: z.number().int().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});

function subscriptionView(s: WebhookSubscription): z.infer<typeof SubscriptionView> {
  return {
    id: s.id,
    party: s.party,
    url: s.url,
    events: s.events as z.infer<typeof SubscriptionView>['events'],
    createdAt: s.createdAt,
  };
}

function deliveryView(d: WebhookDeliveryView): z.infer<typeof DeliveryView> {
  const { n: _n, ...rest } = d;
  return rest as z.infer<typeof DeliveryView>;
}

// The cursor is opaque to clients (DESIGN §8); inside, the list position.
const cursorOf = (n: number): string => toBase64Url(utf8(`whd:${n}`));
function positionOf(after: string): number {
  const bytes = fromBase64Url(after);
  const m = bytes ? /^whd:(\d{1,15})$/.exec(fromUtf8(bytes) ?? '') : null;
  if (!m)
    throw badRequest('query.after: not a cursor this endpoint returned.', {
      errors: [{ path: 'query.after', rule: 'cursor', message: 'unknown cursor' }],
    });
  return Number(m[1]);
}

/** The settings of a Config (defaults for what it leaves out). */
export function webhookSettingsOf(config: {
  webhooks?: Partial<WebhookSettings>;
}): WebhookSettings {
  return { ...DEFAULT_WEBHOOK_SETTINGS, ...config.webhooks };
}

/** The owner a caller's subscriptions have: its party, or null for the operator. */
function ownerOf(req: Request): string | null {
  const p = principalOf(req);
  if (p.gln !== null) return p.gln;
  if (p.isAdmin) return null;
  throw forbidden('Only a party or the operator may subscribe to webhooks.');
}

async function visible(deps: IssuerDeps, req: Request, id: string): Promise<WebhookSubscription> {
  const p = principalOf(req);
  const s = await getWebhookSubscription(deps.db, id);
  if (!s || (s.party !== p.gln && !p.isAdmin))
    throw notFound(`No webhook ${id}.`, { slug: 'webhook-not-found' });
  return s;
}

function sealSecret(deps: IssuerDeps, id: string, secret: string): Uint8Array {
  return seal(utf8(secret), deps.config.masterKey, secretAad(id));
}

/** Registers the paths and the event payload schemas in the OpenAPI document. */
export function registerWebhookPaths(o: OpenAPIRegistry): void {
  const security = [{ [BEARER_AUTH]: [] }];
  const sub = o.register('WebhookSubscription', SubscriptionView);
  const withSecret = o.register('WebhookSubscriptionWithSecret', WithSecret);
  const delivery = o.register('WebhookDelivery', DeliveryView);
  for (const type of WEBHOOK_EVENT_TYPES) {
    const name = `WebhookEvent_${type.replace('.', '_')}`;
    o.register(
      name,
      z
        .object({ type: z.literal(type), timestamp: z.string(), data: EVENT_DATA[type] })
        .describe(
          `Body of a \`${type}\` webhook (Standard Webhooks: headers webhook-id, webhook-timestamp, webhook-signature v1 HMAC-SHA256)`,
        ),
    );
  }
  const idParams = { params: IdParams };
  o.registerPath({
    method: 'post',
    path: '/v1/webhooks',
    summary:
      'Subscribe an https endpoint to event types (a party: events about its own subjects and cases; the operator: every event). The whsec_ secret is shown only here.',
    security,
    request: { body: { content: { 'application/json': { schema: SubscribeBody } } } },
    responses: {
      201: { description: 'Subscribed', content: { 'application/json': { schema: withSecret } } },
      400: problemResponse('Bad URL (not https, private address) or event type'),
      401: problemResponse('No token'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/webhooks',
    summary: 'The caller’s subscriptions (the operator sees every one)',
    security,
    responses: {
      200: {
        description: 'Subscriptions, oldest first',
        content: { 'application/json': { schema: z.object({ webhooks: z.array(sub) }) } },
      },
      401: problemResponse('No token'),
    },
  });
  o.registerPath({
    method: 'delete',
    path: '/v1/webhooks/{id}',
    summary: 'Delete a subscription; its pending deliveries end as failed',
    security,
    request: idParams,
    responses: {
      204: { description: 'Deleted' },
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/rotate',
    summary:
      'A new secret, shown only here; the previous one also signs for 24 hours (two v1 signatures)',
    security,
    request: idParams,
    responses: {
      200: { description: 'Rotated', content: { 'application/json': { schema: withSecret } } },
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
  o.registerPath({
    method: 'get',
    path: '/v1/webhooks/{id}/deliveries',
    summary: 'Deliveries of a subscription, newest first, paged with ?after= and `next`',
    security,
    request: { params: IdParams, query: PageQuery },
    responses: {
      200: {
        description: 'A page of deliveries',
        content: {
          'application/json': {
            schema: z.object({ deliveries: z.array(delivery), next: z.string().nullable() }),
          },
        },
      },
      400: problemResponse('Bad cursor or limit'),
      401: problemResponse('No token'),
      404: problemResponse('Unknown, or another party’s'),
    },
  });
  o.registerPath({
    method: 'post',
    path: '/v1/webhooks/{id}/deliveries/{did}/redeliver',
    summary: 'Send a delivery again now (same webhook-id, a new 3-day retry window)',
    security,
    request: { params: DeliveryParams },
    responses: {
      202: { description: 'Queued', content: { 'application/json': { schema: delivery } } },
      401: problemResponse('No token'),
      404: problemResponse('Unknown subscription or delivery'),
    },
  });
}

/** Registers the webhook endpoints. */
export const webhookRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  registerWebhookPaths(deps.openapi);
  const { db } = deps;
  const settings = webhookSettingsOf(deps.config);

  router.post('/v1/webhooks', async (req, res) => {
    const party = ownerOf(req);
    const b = parse(SubscribeBody, req.body, 'body');
    try {
      await checkWebhookUrl(b.url, settings.allowHosts);
    } catch (err) {
      if (!(err instanceof WebhookUrlError)) throw err;
      throw badRequest(`body.url: ${err.message}.`, {
        errors: [{ path: 'body.url', rule: err.rule, message: err.message }],
      });
    }
    const id = `wh_${randomUUID().replaceAll('-', '')}`;
    const secret = newWebhookSecret();
    const s = await insertWebhookSubscription(db, {
      id,
      party,
      url: b.url,
      events: b.events,
      secretSealed: sealSecret(deps, id, secret),
    });
    res.status(201).json({ ...subscriptionView(s), secret });
  });

  router.get('/v1/webhooks', async (req, res) => {
    const p = principalOf(req);
    const subs = await listWebhookSubscriptions(db, { party: p.gln, all: p.isAdmin });
    res.json({ webhooks: subs.map(subscriptionView) });
  });

  router.delete('/v1/webhooks/:id', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    await visible(deps, req, id);
    await db.transaction((tx) => deleteWebhookSubscription(tx, id));
    res.status(204).end();
  });

  router.post('/v1/webhooks/:id/rotate', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    await visible(deps, req, id);
    const secret = newWebhookSecret();
    const until = new Date(Date.now() + ROTATION_OVERLAP_MS).toISOString();
    const s = await rotateWebhookSecret(db, id, sealSecret(deps, id, secret), until);
    if (!s) throw notFound(`No webhook ${id}.`, { slug: 'webhook-not-found' });
    res.json({ ...subscriptionView(s), secret });
  });

  router.get('/v1/webhooks/:id/deliveries', async (req, res) => {
    const { id } = parse(IdParams, req.params, 'params');
    const q = parse(PageQuery, req.query, 'query');
    await visible(deps, req, id);
    const limit = q.limit ?? DEFAULT_PAGE;
    const rows = await listWebhookDeliveries(db, id, {
      before: q.after ? positionOf(q.after) : 0,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    res.json({
      deliveries: page.map(deliveryView),
      next: rows.length > limit ? cursorOf(page[page.length - 1]!.n) : null,
    });
  });

  router.post('/v1/webhooks/:id/deliveries/:did/redeliver', async (req, res) => {
    const { id, did } = parse(DeliveryParams, req.params, 'params');
    await visible(deps, req, id);
    const d = await redeliverWebhook(db, id, Number(did), settings.retryWindowMs);
    if (!d) throw notFound(`No delivery ${did} of webhook ${id}.`, { slug: 'delivery-not-found' });
    res.status(202).json(deliveryView(d));
  });
};
