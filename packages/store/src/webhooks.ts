// webhook_subscriptions, webhook_events (the outbox), webhook_deliveries and
// webhook_attempts (DESIGN §12). Events are inserted inside the transaction of
// their fact; everything else runs in the delivery worker, off the write path.
import type { Queryable } from './driver.js';
import { bytes, bytesOrNull, hexes, iso, isoOrNull, num } from './sql.js';

/** An event to put in the outbox. */
export interface NewWebhookEvent {
  /** The webhook-id of every attempt (msg_...). */
  id: string;
  type: string;
  /** GLNs the event is about (DESIGN §6a); admin subscriptions receive every event. */
  parties: readonly string[];
  /** The exact JSON text to sign and send. */
  payload: string;
}

/**
 * Writes events into the outbox in one statement; call it with the
 * transaction of the fact so both commit or neither does.
 */
export async function insertWebhookEvents(
  q: Queryable,
  events: readonly NewWebhookEvent[],
): Promise<void> {
  if (events.length === 0) return;
  // parties go as JSON text: unnest of a text[][] would flatten the inner arrays.
  await q.query(
    `INSERT INTO webhook_events (id, type, parties, payload)
     SELECT u.id, u.type, ARRAY(SELECT jsonb_array_elements_text(u.parties::jsonb)), u.payload
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, type, parties, payload)`,
    [
      events.map((e) => e.id),
      events.map((e) => e.type),
      events.map((e) => JSON.stringify(e.parties)),
      events.map((e) => e.payload),
    ],
  );
}

export interface WebhookSubscription {
  id: string;
  n: number;
  party: string | null;
  url: string;
  events: string[];
  secretSealed: Uint8Array;
  previousSecretSealed: Uint8Array | null;
  previousUntil: string | null;
  createdAt: string;
}

const SUB_COLUMNS = `id, n, party, url, events, secret_sealed, previous_secret_sealed, previous_until, created_at`;

function toSubscription(r: Record<string, unknown>): WebhookSubscription {
  return {
    id: r.id as string,
    n: num(r.n),
    party: (r.party as string | null) ?? null,
    url: r.url as string,
    events: r.events as string[],
    secretSealed: bytes(r.secret_sealed),
    previousSecretSealed: bytesOrNull(r.previous_secret_sealed),
    previousUntil: isoOrNull(r.previous_until),
    createdAt: iso(r.created_at),
  };
}

/** Stores a new subscription. */
export async function insertWebhookSubscription(
  q: Queryable,
  s: {
    id: string;
    party: string | null;
    url: string;
    events: readonly string[];
    secretSealed: Uint8Array;
  },
): Promise<WebhookSubscription> {
  const { rows } = await q.query(
    `INSERT INTO webhook_subscriptions (id, party, url, events, secret_sealed)
     VALUES ($1::text, $2::text, $3::text, $4::text[], decode($5::text, 'hex'))
     RETURNING ${SUB_COLUMNS}`,
    [s.id, s.party, s.url, [...s.events], hexes([s.secretSealed])[0]],
  );
  return toSubscription(rows[0]!);
}

/** A live (not deleted) subscription, or null. */
export async function getWebhookSubscription(
  q: Queryable,
  id: string,
): Promise<WebhookSubscription | null> {
  const { rows } = await q.query(
    `SELECT ${SUB_COLUMNS} FROM webhook_subscriptions WHERE id = $1::text AND deleted_at IS NULL`,
    [id],
  );
  return rows[0] ? toSubscription(rows[0]) : null;
}

/** Live subscriptions of a party (null: the operator's), or every one when `all`. */
export async function listWebhookSubscriptions(
  q: Queryable,
  opts: { party: string | null; all?: boolean },
): Promise<WebhookSubscription[]> {
  const { rows } = await q.query(
    `SELECT ${SUB_COLUMNS} FROM webhook_subscriptions
     WHERE deleted_at IS NULL AND ($2::boolean OR party IS NOT DISTINCT FROM $1::text) ORDER BY n`,
    [opts.party, opts.all === true],
  );
  return rows.map(toSubscription);
}

/** Deletes a subscription; its pending deliveries end as failed. False when it was not live. */
export async function deleteWebhookSubscription(q: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE webhook_subscriptions SET deleted_at = now() WHERE id = $1::text AND deleted_at IS NULL`,
    [id],
  );
  if (rowCount === 0) return false;
  await q.query(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = 'subscription deleted'
     WHERE subscription_id = $1::text AND status = 'pending'`,
    [id],
  );
  return true;
}

/** Replaces the secret; the previous one keeps signing until `previousUntil`. */
export async function rotateWebhookSecret(
  q: Queryable,
  id: string,
  secretSealed: Uint8Array,
  previousUntil: string,
): Promise<WebhookSubscription | null> {
  const { rows } = await q.query(
    `UPDATE webhook_subscriptions
     SET previous_secret_sealed = secret_sealed, previous_until = $3::timestamptz,
         secret_sealed = decode($2::text, 'hex')
     WHERE id = $1::text AND deleted_at IS NULL RETURNING ${SUB_COLUMNS}`,
    [id, hexes([secretSealed])[0], previousUntil],
  );
  return rows[0] ? toSubscription(rows[0]) : null;
}

/** An outbox event claimed for fan-out. */
export interface PendingWebhookEvent {
  id: string;
  type: string;
  parties: string[];
  payload: string;
  createdAt: string;
}

/**
 * Fans out up to `limit` outbox events in one transaction: `match` names the
 * subscriptions each event goes to; their deliveries are inserted and the
 * events marked done. Rows another replica is fanning out are skipped
 * (FOR UPDATE SKIP LOCKED). Returns how many events were fanned out.
 */
export async function fanOutWebhookEvents(
  tx: Queryable,
  limit: number,
  retryMs: number,
  match: (events: PendingWebhookEvent[]) => Promise<{ eventId: string; subscriptionId: string }[]>,
): Promise<number> {
  const { rows } = await tx.query(
    `SELECT id, type, parties, payload, created_at FROM webhook_events WHERE NOT fanned_out
     ORDER BY n LIMIT $1::integer FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  if (rows.length === 0) return 0;
  const events = rows.map((r) => ({
    id: r.id as string,
    type: r.type as string,
    parties: r.parties as string[],
    payload: r.payload as string,
    createdAt: iso(r.created_at),
  }));
  const pairs = await match(events);
  if (pairs.length > 0)
    await tx.query(
      `INSERT INTO webhook_deliveries (subscription_id, event_id, retry_until)
       SELECT u.s, u.e, now() + $3::bigint * interval '1 millisecond'
       FROM unnest($1::text[], $2::text[]) AS u(s, e)
       ON CONFLICT (subscription_id, event_id) DO NOTHING`,
      [pairs.map((p) => p.subscriptionId), pairs.map((p) => p.eventId), retryMs],
    );
  await tx.query(`UPDATE webhook_events SET fanned_out = true WHERE id = ANY($1::text[])`, [
    events.map((e) => e.id),
  ]);
  return events.length;
}

/**
 * Parties that appear in a chain of any unit of `gtin` (as actor, or as the `to` of a shipment).
 * Its units are the subjects `01/<gtin>/21/...`: a byte-wise range on
 * records_subject_c_idx (migration 000012), not a scan of the whole log.
 */
export async function partiesOfGtin(q: Queryable, gtin: string): Promise<string[]> {
  const from = `01/${gtin}/21/`;
  const { rows } = await q.query(
    `WITH units AS (
       SELECT actor, type, data FROM records
       WHERE subject COLLATE "C" >= $1::text AND subject COLLATE "C" < $2::text
     )
     SELECT DISTINCT p FROM (
       SELECT actor AS p FROM units
       UNION SELECT data ->> 'to' FROM units WHERE type = 'ship'
     ) x WHERE p IS NOT NULL`,
    // '0' is the byte after '/': the range holds exactly the subjects starting with `from`.
    [from, `${from.slice(0, -1)}0`],
  );
  return rows.map((r) => r.p as string);
}

/** The party holding key `kid`, or null (an authority key, or unknown). */
export async function ownerOfKid(q: Queryable, kid: string): Promise<string | null> {
  const { rows } = await q.query(`SELECT gln FROM party_keys WHERE kid = $1::text`, [kid]);
  return (rows[0]?.gln as string | null | undefined) ?? null;
}

/** A delivery claimed for one attempt. */
export interface ClaimedDelivery {
  n: number;
  attempt: number;
  retryUntil: string;
  subscriptionId: string;
  url: string;
  secretSealed: Uint8Array;
  previousSecretSealed: Uint8Array | null;
  previousUntil: string | null;
  eventId: string;
  type: string;
  payload: string;
}

/**
 * Claims up to `limit` due deliveries for one attempt each: SKIP LOCKED, so
 * concurrent workers take disjoint rows, and the claim moves next_attempt_at
 * `leaseMs` ahead so nobody else takes them while the attempt runs (a crash
 * mid-attempt is retried when the lease ends: at-least-once).
 */
export async function claimWebhookDeliveries(
  q: Queryable,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const { rows } = await q.query(
    `WITH due AS (
       SELECT d.n FROM webhook_deliveries d
       WHERE d.status = 'pending' AND d.next_attempt_at <= now()
       ORDER BY d.next_attempt_at LIMIT $1::integer FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d
     SET attempts = d.attempts + 1, next_attempt_at = now() + $2::bigint * interval '1 millisecond'
     FROM due, webhook_subscriptions s, webhook_events e
     WHERE d.n = due.n AND s.id = d.subscription_id AND e.id = d.event_id
     RETURNING d.n, d.attempts, d.retry_until, s.id AS subscription_id, s.url, s.secret_sealed,
       s.previous_secret_sealed, s.previous_until, e.id AS event_id, e.type, e.payload`,
    [limit, leaseMs],
  );
  return rows.map((r) => ({
    n: num(r.n),
    attempt: num(r.attempts),
    retryUntil: iso(r.retry_until),
    subscriptionId: r.subscription_id as string,
    url: r.url as string,
    secretSealed: bytes(r.secret_sealed),
    previousSecretSealed: bytesOrNull(r.previous_secret_sealed),
    previousUntil: isoOrNull(r.previous_until),
    eventId: r.event_id as string,
    type: r.type as string,
    payload: r.payload as string,
  }));
}

/** The outcome of one attempt. */
export interface WebhookAttemptResult {
  n: number;
  attempt: number;
  attemptedAt: string;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** delivered, or: pending with the next attempt at `nextAttemptAt`, or failed. */
  status: 'delivered' | 'pending' | 'failed';
  nextAttemptAt: string | null;
}

/**
 * Records attempts and their deliveries' new states in one statement (each
 * attempt row once). A delivery claimed again since (its lease ended) keeps
 * the newer claim's state: only the attempt row of the stale one is written.
 */
export async function recordWebhookAttempts(
  q: Queryable,
  results: readonly WebhookAttemptResult[],
): Promise<void> {
  if (results.length === 0) return;
  await q.query(
    `WITH r AS (
       SELECT * FROM unnest($1::bigint[], $2::integer[], $3::timestamptz[], $4::integer[], $5::text[],
                            $6::integer[], $7::text[], $8::timestamptz[])
         AS r(n, attempt, at, code, err, ms, status, next)),
     a AS (
       INSERT INTO webhook_attempts (delivery_n, attempt, attempted_at, status_code, error, duration_ms)
       SELECT n, attempt, at, code, err, ms FROM r
       ON CONFLICT DO NOTHING)
     UPDATE webhook_deliveries d SET status = r.status, last_status = r.code, last_error = r.err,
       last_attempt_at = r.at,
       next_attempt_at = COALESCE(r.next, d.next_attempt_at),
       delivered_at = CASE WHEN r.status = 'delivered' THEN now() ELSE d.delivered_at END
     FROM r WHERE d.n = r.n AND d.attempts = r.attempt AND d.status = 'pending'`,
    [
      results.map((r) => r.n),
      results.map((r) => r.attempt),
      results.map((r) => r.attemptedAt),
      results.map((r) => r.statusCode),
      results.map((r) => r.error),
      results.map((r) => Math.round(r.durationMs)),
      results.map((r) => r.status),
      results.map((r) => r.nextAttemptAt),
    ],
  );
}

export interface WebhookDeliveryView {
  id: string;
  n: number;
  eventId: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  deliveredAt: string | null;
  createdAt: string;
}

function toDelivery(r: Record<string, unknown>): WebhookDeliveryView {
  const status = r.status as WebhookDeliveryView['status'];
  return {
    id: String(num(r.n)),
    n: num(r.n),
    eventId: r.event_id as string,
    type: r.type as string,
    status,
    attempts: num(r.attempts),
    lastStatus: r.last_status === null ? null : num(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
    lastAttemptAt: isoOrNull(r.last_attempt_at),
    nextAttemptAt: status === 'pending' ? isoOrNull(r.next_attempt_at) : null,
    deliveredAt: isoOrNull(r.delivered_at),
    createdAt: iso(r.created_at),
  };
}

const DELIVERY_SELECT = `SELECT d.n, d.event_id, e.type, d.status, d.attempts, d.last_status, d.last_error,
  d.last_attempt_at, d.next_attempt_at, d.delivered_at, d.created_at
  FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;

/** A subscription's deliveries, newest first, below position `before` (0: from the newest). */
export async function listWebhookDeliveries(
  q: Queryable,
  subscriptionId: string,
  opts: { before?: number; limit: number },
): Promise<WebhookDeliveryView[]> {
  const { rows } = await q.query(
    `${DELIVERY_SELECT} WHERE d.subscription_id = $1::text AND ($2::bigint = 0 OR d.n < $2::bigint)
     ORDER BY d.n DESC LIMIT $3::integer`,
    [subscriptionId, opts.before ?? 0, opts.limit],
  );
  return rows.map(toDelivery);
}

/**
 * Makes a delivery due now for another attempt (same webhook-id), with a new
 * retry window. Null when the subscription has no such delivery.
 */
export async function redeliverWebhook(
  q: Queryable,
  subscriptionId: string,
  n: number,
  retryMs: number,
): Promise<WebhookDeliveryView | null> {
  const { rowCount } = await q.query(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(),
       retry_until = now() + $3::bigint * interval '1 millisecond'
     WHERE subscription_id = $1::text AND n = $2::bigint`,
    [subscriptionId, n, retryMs],
  );
  if (rowCount === 0) return null;
  const { rows } = await q.query(`${DELIVERY_SELECT} WHERE d.n = $1::bigint`, [n]);
  return rows[0] ? toDelivery(rows[0]) : null;
}

/** Queue depth for metrics: events not fanned out and deliveries pending, and failed deliveries. */
export async function webhookQueueStats(
  q: Queryable,
): Promise<{ events: number; pending: number; failed: number }> {
  const { rows } = await q.query(
    `SELECT (SELECT count(*) FROM webhook_events WHERE NOT fanned_out) AS events,
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'failed') AS failed`,
  );
  const r = rows[0]!;
  return { events: num(r.events), pending: num(r.pending), failed: num(r.failed) };
}

/** Every attempt of a delivery, in order (tests and the deliveries view). */
export async function listWebhookAttempts(
  q: Queryable,
  n: number,
): Promise<{ attempt: number; statusCode: number | null; error: string | null }[]> {
  const { rows } = await q.query(
    `SELECT attempt, status_code, error FROM webhook_attempts WHERE delivery_n = $1::bigint ORDER BY attempt`,
    [n],
  );
  return rows.map((r) => ({
    attempt: num(r.attempt),
    statusCode: r.status_code === null ? null : num(r.status_code),
    error: (r.error as string | null) ?? null,
  }));
}

/** Rows a prune deleted, by table. */
export interface PrunedWebhookRows {
  deliveries: number;
  events: number;
  subscriptions: number;
}

/**
 * Retention (DESIGN §12): deletes finished deliveries (delivered or failed)
 * created before `before`, with their attempts; then fanned-out events
 * created before it with no delivery left; then subscriptions deleted before
 * it with no delivery left. Pending deliveries, and their events, are kept at
 * any age. Each statement deletes at most `batch` rows and commits on its own;
 * rows another replica holds are skipped (FOR UPDATE SKIP LOCKED).
 */
export async function pruneWebhookRows(
  q: Queryable,
  before: Date,
  batch = 1000,
): Promise<PrunedWebhookRows> {
  const at = before.toISOString();
  const drain = async (sql: string): Promise<number> => {
    let total = 0;
    for (;;) {
      const { rowCount } = await q.query(sql, [at, batch]);
      total += rowCount;
      if (rowCount < batch) return total;
    }
  };
  // The attempts go in the same statement: the foreign key is checked at its end.
  const deliveries = await drain(
    `WITH doomed AS (
       SELECT n FROM webhook_deliveries
       WHERE status <> 'pending' AND created_at < $1::timestamptz
       ORDER BY created_at LIMIT $2::integer FOR UPDATE SKIP LOCKED
     ), attempts AS (
       DELETE FROM webhook_attempts a USING doomed WHERE a.delivery_n = doomed.n
     )
     DELETE FROM webhook_deliveries d USING doomed WHERE d.n = doomed.n`,
  );
  const events = await drain(
    `DELETE FROM webhook_events WHERE n IN (
       SELECT e.n FROM webhook_events e
       WHERE e.fanned_out AND e.created_at < $1::timestamptz
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id)
       ORDER BY e.created_at LIMIT $2::integer FOR UPDATE SKIP LOCKED
     )`,
  );
  const subscriptions = await drain(
    `DELETE FROM webhook_subscriptions WHERE n IN (
       SELECT s.n FROM webhook_subscriptions s
       WHERE s.deleted_at < $1::timestamptz
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.subscription_id = s.id)
       ORDER BY s.n LIMIT $2::integer FOR UPDATE SKIP LOCKED
     )`,
  );
  return { deliveries, events, subscriptions };
}
