// The webhook delivery worker (DESIGN §12): every `intervalMs` it fans new
// outbox events out to the matching subscriptions, then claims due
// deliveries (FOR UPDATE SKIP LOCKED, with a lease) and sends each once.
// A failed attempt is retried with exponential backoff and full jitter until
// the delivery's retry window (3 days) ends, then it is marked failed. Any
// number of replicas may run one; it never runs on a request's path.
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Logger } from 'pino';
import {
  claimWebhookDeliveries,
  fanOutWebhookEvents,
  listWebhookSubscriptions,
  ownerOfKid,
  partiesOfGtin,
  pruneExpiredIdempotencyEntries,
  pruneExpiredVerificationIdempotencyKeys,
  pruneWebhookRows,
  recordWebhookAttempts,
  type WebhookAttemptResult,
  type ClaimedDelivery,
  type Database,
  type PendingWebhookEvent,
  type PrunedWebhookRows,
  type Queryable,
  type WebhookSubscription,
} from '@provenant/store';
import { unseal } from '../seal.js';
import { sendWebhook, signedHeaders } from './send.js';
import type { Resolver } from './ssrf.js';
import type { Metrics } from '@provenant/server-kit';

/** Delivery settings (environment in loadConfig; shortened in tests). */
export interface WebhookSettings {
  /** Hosts allowed over http and on private addresses (PROVENANT_WEBHOOK_ALLOW_HOSTS). */
  allowHosts: string[];
  /** Poll interval of the worker, ms (default 1,000). */
  intervalMs: number;
  /** First retry delay, ms; doubled each attempt (default 5,000). */
  backoffMs: number;
  /** Longest retry delay, ms (default 6 hours). */
  maxBackoffMs: number;
  /** How long a delivery is retried before it is marked failed, ms (default 3 days). */
  retryWindowMs: number;
  /** Per-attempt timeout, ms (default 10,000). */
  timeoutMs: number;
  /** Deliveries in flight per worker tick (default 32); a full tick is followed at once by another. */
  concurrency: number;
  /** Finished deliveries and their events are deleted this long after they were created, ms (default 30 days). */
  retentionMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowHosts: [],
  intervalMs: 1_000,
  backoffMs: 5_000,
  maxBackoffMs: 6 * 3600_000,
  retryWindowMs: 3 * 24 * 3600_000,
  timeoutMs: 10_000,
  concurrency: 32,
  retentionMs: 30 * 24 * 3600_000,
};

/** How often a worker prunes (on its first tick, then at most this often), ms. */
export const PRUNE_EVERY_MS = 3600_000;

/** How long after the previous rotation the old secret still signs (Standard Webhooks overlap). */
export const ROTATION_OVERLAP_MS = 24 * 3600_000;

/** AAD binding a sealed secret to its subscription. */
export function secretAad(subscriptionId: string): string {
  return `provenant:webhook-secret:${subscriptionId}`;
}

/**
 * Delay before attempt `attempt + 1` after `attempt` failed: exponential
 * (base·2^(attempt-1), capped) with full jitter in [½, 1] of it, so replicas
 * and endpoints recovering at once do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  s: Pick<WebhookSettings, 'backoffMs' | 'maxBackoffMs'>,
  random: () => number = Math.random,
): number {
  const exp = Math.min(s.maxBackoffMs, s.backoffMs * 2 ** Math.min(attempt - 1, 40));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** How long a claim holds a delivery: longer than an attempt may take, so a live one is never sent twice. */
export function leaseMs(s: Pick<WebhookSettings, 'timeoutMs'>): number {
  return 2 * s.timeoutMs + 1_000;
}

/** Counters the metrics module reads. */
export interface WebhookWorkerStats {
  attempts: number;
  delivered: number;
  /** Attempts that failed. */
  attemptFailures: number;
  /** Deliveries given up after the retry window. */
  failed: number;
}

export interface WebhookWorkerOptions {
  db: Database;
  masterKey: Uint8Array;
  settings: WebhookSettings;
  logger?: Logger;
  resolve?: Resolver;
  /** Counts attempts by result (provenant_webhook_attempts_total). */
  metrics?: Pick<Metrics, 'webhookAttempts'>;
}

/** Subscriptions of an event (DESIGN §6a): the operator's get all, a party's those about it. */
function matches(s: WebhookSubscription, e: PendingWebhookEvent, parties: string[]): boolean {
  if (!s.events.includes(e.type)) return false;
  if (Date.parse(s.createdAt) > Date.parse(e.createdAt)) return false;
  return s.party === null || parties.includes(s.party);
}

/** The parties an event is about, with those only the worker resolves (off the write path). */
async function audience(q: Queryable, e: PendingWebhookEvent): Promise<string[]> {
  const data = (JSON.parse(e.payload) as { data: Record<string, unknown> }).data;
  if (e.type === 'recall.issued')
    return [...e.parties, ...(await partiesOfGtin(q, data.gtin as string))];
  if (e.type === 'key.revoked') {
    const owner = await ownerOfKid(q, data.kid as string);
    return owner ? [...e.parties, owner] : e.parties;
  }
  return e.parties;
}

export class WebhookWorker {
  readonly stats: WebhookWorkerStats = { attempts: 0, delivered: 0, attemptFailures: 0, failed: 0 };
  private timer: NodeJS.Timeout | null = null;
  private prunedAt = -Infinity;
  private running: Promise<void> | null = null;
  private stopped = false;
  // Kept-alive connections to endpoints (closed idle after 5 s, and on stop).
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 8, timeout: 5_000 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 8, timeout: 5_000 }),
  };

  constructor(private readonly opts: WebhookWorkerOptions) {}

  /** Starts polling every intervalMs (the first tick after one interval). */
  start(): void {
    if (this.timer || this.stopped) return;
    // Wait an interval when idle. After a full batch, go on after a pause as long as the
    // tick took: the worker takes at most half of the event loop, requests the rest
    // (delivery never slows a write or a verdict for long, DESIGN §12).
    const loop = (delay: number): void => {
      this.timer = setTimeout(() => {
        let next = this.opts.settings.intervalMs;
        const started = performance.now();
        this.running = this.tick()
          .then((n) => {
            if (n >= this.opts.settings.concurrency)
              next = Math.min(next, performance.now() - started);
          })
          .catch((err: unknown) => {
            this.opts.logger?.warn(
              { err: { type: (err as Error).name } },
              'webhook worker tick failed',
            );
          })
          .finally(() => {
            this.running = null;
            if (!this.stopped) loop(next);
          });
      }, delay);
      this.timer.unref();
    };
    loop(this.opts.settings.intervalMs);
  }

  /** Stops polling and waits for the tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** One round: prune (hourly), fan out, then deliver what is due. Returns the attempts made. */
  async tick(): Promise<number> {
    if (Date.now() - this.prunedAt >= PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      // Housekeeping never stops delivery: a failed prune is tried again in an hour.
      await this.prune().catch((err: unknown) => {
        this.opts.logger?.warn({ err: { type: (err as Error).name } }, 'webhook prune failed');
      });
    }
    await this.fanOut();
    const { settings } = this.opts;
    // The lease outlives the attempt's timeout, so a live attempt is never taken twice.
    const claimed = await claimWebhookDeliveries(
      this.opts.db,
      settings.concurrency,
      leaseMs(settings),
    );
    const results = await Promise.all(claimed.map((d) => this.attempt(d)));
    await recordWebhookAttempts(this.opts.db, results);
    return claimed.length;
  }

  /**
   * Deletes webhook rows past the retention (finished deliveries with their
   * attempts, then their events, DESIGN §12) and Idempotency-Keys past their
   * 24 hours, the write path's and the verifications' (DESIGN §8), so all are
   * pruned on time even when no write comes.
   */
  async prune(): Promise<
    PrunedWebhookRows & { idempotencyKeys: number; verificationIdempotencyKeys: number }
  > {
    const { db, settings } = this.opts;
    const rows = await pruneWebhookRows(db, new Date(Date.now() - settings.retentionMs));
    const idempotencyKeys = await pruneExpiredIdempotencyEntries(db);
    const verificationIdempotencyKeys = await pruneExpiredVerificationIdempotencyKeys(db);
    const pruned = { ...rows, idempotencyKeys, verificationIdempotencyKeys };
    this.opts.logger?.debug(pruned, 'webhook and idempotency rows pruned');
    return pruned;
  }

  /** Fans out every waiting outbox event, 200 per transaction. */
  async fanOut(): Promise<void> {
    const { db, settings } = this.opts;
    for (;;) {
      const n = await db.transaction((tx) =>
        fanOutWebhookEvents(tx, 200, settings.retryWindowMs, async (events) => {
          const subs = await listWebhookSubscriptions(tx, { party: null, all: true });
          const pairs: { eventId: string; subscriptionId: string }[] = [];
          for (const e of events) {
            const candidates = subs.filter((s) => s.events.includes(e.type));
            if (candidates.length === 0) continue;
            const parties = candidates.some((s) => s.party !== null) ? await audience(tx, e) : [];
            for (const s of candidates)
              if (matches(s, e, parties)) pairs.push({ eventId: e.id, subscriptionId: s.id });
          }
          return pairs;
        }),
      );
      if (n < 200) return;
    }
  }

  private secrets(d: ClaimedDelivery, now: number): string[] {
    const { masterKey } = this.opts;
    const aad = secretAad(d.subscriptionId);
    const out = [Buffer.from(unseal(d.secretSealed, masterKey, aad)).toString('utf8')];
    if (d.previousSecretSealed && d.previousUntil && Date.parse(d.previousUntil) > now)
      out.push(Buffer.from(unseal(d.previousSecretSealed, masterKey, aad)).toString('utf8'));
    return out;
  }

  private async attempt(d: ClaimedDelivery): Promise<WebhookAttemptResult> {
    const { settings } = this.opts;
    const started = Date.now();
    const at = new Date(started);
    const headers = signedHeaders(d.eventId, d.payload, this.secrets(d, started), at);
    const outcome = await sendWebhook(d.url, headers, d.payload, {
      allowHosts: settings.allowHosts,
      timeoutMs: settings.timeoutMs,
      ...(this.opts.resolve ? { resolve: this.opts.resolve } : {}),
      agents: this.agents,
    });
    const now = Date.now();
    this.stats.attempts++;
    this.opts.metrics?.webhookAttempts.inc({ result: outcome.ok ? 'ok' : 'failed' });
    let status: 'delivered' | 'pending' | 'failed' = 'delivered';
    let next: string | null = null;
    if (outcome.ok) this.stats.delivered++;
    else {
      this.stats.attemptFailures++;
      const retryAt = now + backoffDelay(d.attempt, settings);
      if (retryAt > Date.parse(d.retryUntil)) {
        status = 'failed';
        this.stats.failed++;
      } else {
        status = 'pending';
        next = new Date(retryAt).toISOString();
      }
    }
    this.opts.logger?.debug(
      {
        webhook: d.subscriptionId,
        delivery: d.n,
        attempt: d.attempt,
        status,
        code: outcome.statusCode,
      },
      'webhook attempt',
    );
    return {
      n: d.n,
      attempt: d.attempt,
      attemptedAt: at.toISOString(),
      statusCode: outcome.statusCode,
      error: outcome.error,
      durationMs: now - started,
      status,
      nextAttemptAt: next,
    };
  }
}
