// Webhook event types and payloads (DESIGN §12). A payload is the Standard
// Webhooks body `{type, timestamp, data}`; `parties` names the GLNs an event
// is about (DESIGN §6a: a party receives only events about its own subjects
// and cases; the operator's subscriptions receive every event).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { insertWebhookEvents, type NewWebhookEvent, type Queryable } from '@provenant/store';

export const WEBHOOK_EVENT_TYPES = [
  'verification.quarantined',
  'verification.rejected',
  'case.opened',
  'case.resolved',
  'shipment.received',
  'recall.issued',
  'key.revoked',
  'party.suspended',
  'log.alarm',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Most subjects a shipment.received payload lists (the count is always there). */
export const MAX_EVENT_SUBJECTS = 1_000;

const reasonCodes = z.array(z.string()).describe('reason codes (the closed list of DESIGN §7)');

/** The `data` of each event type, as documented in the OpenAPI. */
export const EVENT_DATA = {
  'verification.quarantined': z.object({
    verificationId: z.string(),
    party: z.string(),
    subject: z.string(),
    purpose: z.string(),
    verdict: z.literal('quarantine'),
    reasons: reasonCodes,
    caseId: z.string().nullable(),
    verifiedAt: z.string(),
  }),
  'verification.rejected': z.object({
    verificationId: z.string(),
    party: z.string(),
    subject: z.string(),
    purpose: z.string(),
    verdict: z.literal('reject'),
    reasons: reasonCodes,
    caseId: z.string().nullable(),
    verifiedAt: z.string(),
  }),
  'case.opened': z.object({
    caseId: z.string(),
    verificationId: z.string(),
    party: z.string(),
    subject: z.string(),
    verdict: z.enum(['quarantine', 'reject']),
    reasons: reasonCodes,
    openedAt: z.string(),
  }),
  'case.resolved': z.object({
    caseId: z.string(),
    party: z.string(),
    subject: z.string(),
    outcome: z.string(),
    resolvedBy: z.string().nullable(),
    resolvedAt: z.string(),
  }),
  'shipment.received': z.object({
    shipment: z.string(),
    from: z.string().describe('GLN of the shipper'),
    receiver: z.string().describe('GLN of the receiving party'),
    condition: z.enum(['ok', 'damaged']),
    count: z.number().int().describe('receive records written'),
    subjects: z.array(z.string()).describe(`the received subjects (at most ${MAX_EVENT_SUBJECTS})`),
    discrepancies: z.number().int().describe('units reported missing, unexpected or damaged'),
    logIndex: z.number().int().describe('log index of the first receive record'),
    receivedAt: z.string(),
  }),
  'recall.issued': z.object({
    noticeId: z.string(),
    manufacturer: z.string(),
    gtin: z.string(),
    lot: z.string().nullable(),
    reason: z.string(),
    logIndex: z.number().int(),
    issuedAt: z.string(),
  }),
  'key.revoked': z.object({
    noticeId: z.string(),
    kid: z.string(),
    compromisedAt: z.string(),
    reason: z.string(),
    logIndex: z.number().int(),
    revokedAt: z.string(),
  }),
  'party.suspended': z.object({
    noticeId: z.string(),
    gln: z.string(),
    reason: z.string().nullable(),
    logIndex: z.number().int(),
    suspendedAt: z.string(),
  }),
  'log.alarm': z.object({
    kind: z
      .string()
      .describe('what the monitor found, e.g. a split view or an inconsistent checkpoint'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    raisedAt: z.string(),
  }),
} satisfies Record<WebhookEventType, z.ZodType>;

export type EventData<T extends WebhookEventType> = z.infer<(typeof EVENT_DATA)[T]>;

/** A new outbox row for event `type` about `parties`. */
export function webhookEvent<T extends WebhookEventType>(
  type: T,
  parties: readonly string[],
  data: EventData<T>,
  at: Date = new Date(),
): NewWebhookEvent {
  const id = `msg_${randomUUID().replaceAll('-', '')}`;
  return {
    id,
    type,
    parties: [...new Set(parties)],
    payload: JSON.stringify({ type, timestamp: at.toISOString(), data }),
  };
}

/**
 * Enqueues a `log.alarm` (for the log monitor, DESIGN §7b): only operator
 * subscriptions receive it. Call it with the transaction that records the alarm.
 */
export async function enqueueLogAlarm(
  q: Queryable,
  alarm: { kind: string; message: string; details?: Record<string, unknown> },
  at: Date = new Date(),
): Promise<void> {
  await insertWebhookEvents(q, [
    webhookEvent('log.alarm', [], { ...alarm, raisedAt: at.toISOString() }, at),
  ]);
}

/** A sequenced entry as the sequencer wrote it. */
export interface SequencedRecord {
  subject: string;
  type: string;
  actor: string;
  data: unknown;
  leafIdx: number;
}
export interface SequencedNotice {
  id: string;
  type: string;
  actor: string;
  data: unknown;
  leafIdx: number;
}

/**
 * The events of one sequencing batch: a shipment.received per (receiver,
 * shipment) among the receive records, and recall.issued, key.revoked and
 * party.suspended per notice. Runs under the log lock: pure and cheap.
 */
export function eventsOfBatch(
  records: readonly SequencedRecord[],
  notices: readonly SequencedNotice[],
  integratedAt: string,
): NewWebhookEvent[] {
  const at = new Date(integratedAt);
  const out: NewWebhookEvent[] = [];
  const receipts = new Map<
    string,
    { r: SequencedRecord; subjects: string[]; discrepancies: number }
  >();
  for (const r of records) {
    if (r.type !== 'receive') continue;
    const d = r.data as { shipment: string; from: string; discrepancies?: unknown[] };
    const key = `${r.actor}\u0000${d.shipment}\u0000${d.from}`;
    const g = receipts.get(key) ?? { r, subjects: [], discrepancies: 0 };
    g.subjects.push(r.subject);
    g.discrepancies += d.discrepancies?.length ?? 0;
    receipts.set(key, g);
  }
  for (const { r, subjects, discrepancies } of receipts.values()) {
    const d = r.data as { shipment: string; from: string; condition: 'ok' | 'damaged' };
    out.push(
      webhookEvent(
        'shipment.received',
        [r.actor, d.from],
        {
          shipment: d.shipment,
          from: d.from,
          receiver: r.actor,
          condition: d.condition,
          count: subjects.length,
          subjects: subjects.slice(0, MAX_EVENT_SUBJECTS),
          discrepancies,
          logIndex: r.leafIdx,
          receivedAt: integratedAt,
        },
        at,
      ),
    );
  }
  for (const n of notices) {
    const e = noticeEvent(n, integratedAt, at);
    if (e) out.push(e);
  }
  return out;
}

function noticeEvent(n: SequencedNotice, integratedAt: string, at: Date): NewWebhookEvent | null {
  if (n.type === 'recall') {
    const d = n.data as { gtin: string; lot?: string; reason: string };
    // The worker adds every party in a chain of the GTIN when it fans out (off the write path).
    return webhookEvent(
      'recall.issued',
      [n.actor],
      {
        noticeId: n.id,
        manufacturer: n.actor,
        gtin: d.gtin,
        lot: d.lot ?? null,
        reason: d.reason,
        logIndex: n.leafIdx,
        issuedAt: integratedAt,
      },
      at,
    );
  }
  if (n.type === 'key-revoke') {
    const d = n.data as { kid: string; compromisedAt: string; reason: string };
    // The key's owner is added at fan-out (an authority-signed revocation names only the kid).
    return webhookEvent(
      'key.revoked',
      n.actor === 'authority' ? [] : [n.actor],
      {
        noticeId: n.id,
        kid: d.kid,
        compromisedAt: d.compromisedAt,
        reason: d.reason,
        logIndex: n.leafIdx,
        revokedAt: integratedAt,
      },
      at,
    );
  }
  if (n.type === 'party-suspend') {
    const d = n.data as { gln: string; reason?: string };
    return webhookEvent(
      'party.suspended',
      [d.gln],
      {
        noticeId: n.id,
        gln: d.gln,
        reason: d.reason ?? null,
        logIndex: n.leafIdx,
        suspendedAt: integratedAt,
      },
      at,
    );
  }
  return null;
}
