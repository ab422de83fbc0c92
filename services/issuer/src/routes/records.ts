// POST /v1/records (DESIGN §8, §8a): client-signed record envelopes, one or a
// batch of up to 10,000, all-or-nothing. The envelope is attacker-controlled:
// prepareRecords parses and verifies it before anything reaches the
// sequencer, which re-runs the custody rules under the log lock.
// Client-signed notices (DESIGN §5: a `recall` by the GTIN's manufacturer, a
// `key-revoke` signed with another of the party's keys) are accepted here too
// (payloadType application/vnd.provenant.notice+json), so a party that holds
// only its own keys can recall and revoke; a key-revoke also revokes the key
// in the registry, in the same transaction.
//
// Answers: 201 with `{id, subject, seq, receipt}` per record, `{id, receipt}`
// per notice (single) or `{records: [...]}` (batch). Re-sending envelopes that are all already in the log answers 200
// with their stored results (decision: nothing was created, so not 201).
// Idempotency-Key (DESIGN §8): the answer is stored in the sequencing
// transaction itself (reserved in `apply`, filled in `after`), so a replay
// after a lost response returns exactly what was committed.
import type { Request, Response, Router } from 'express';
import { z } from 'zod';
import { NOTICE_PAYLOAD_TYPE, strictApi } from '@provenant/core';
import {
  getLeavesByEntryIds,
  IDEMPOTENCY_TTL_HOURS,
  revokeKey,
  type Database,
  type Queryable,
} from '@provenant/store';
import type { RouteModule } from '@provenant/server-kit';
import {
  prepareNotice,
  prepareRecords,
  recordResult,
  type NoticeAppendResult,
  type RecordAppendResult,
} from '../append/index.js';
import { BEARER_AUTH, IdempotencyHeaders, problemResponse } from '@provenant/server-kit';
import { principalOf, requireScope, type Principal } from '@provenant/server-kit';
import {
  checkIdempotency,
  idempotencyContext,
  replay as replayStored,
  type IdempotencyContext,
  type StoredResponse,
} from '@provenant/server-kit';
import { conflict, forbidden, unprocessable } from '@provenant/server-kit';
import { idempotencyStoreFor, pruneIdempotencySometimes } from '@provenant/server-kit';
import { parse } from '@provenant/server-kit';
import type { IssuerDeps } from '../deps.js';
import {
  MAX_SUBMISSION_ENTRIES,
  type Accepted,
  type PendingEntry,
  type PendingNotice,
  type SubmitOptions,
} from '../log/sequencer.js';

// ---------------------------------------------------------------------------
// Idempotent submissions, shared with the registry routes.

/** Thrown from the `apply` hook when a twin request with the same key committed first. */
class IdempotentReplay extends Error {
  override readonly name = 'IdempotentReplay';
  constructor(readonly stored: StoredResponse) {
    super('idempotent replay');
  }
}

/** Reserves (scope, key) inside the sequencing transaction; a committed twin becomes a replay. */
async function reserveKey(tx: Queryable, ctx: IdempotencyContext): Promise<void> {
  const { rows } = await tx.query(
    `INSERT INTO idempotency_keys (gln, key, request_hash, status, response)
     VALUES ($1::text, $2::text, $3::text, 0, NULL)
     ON CONFLICT (gln, key) DO UPDATE SET request_hash = excluded.request_hash, status = 0,
       response = NULL, created_at = now()
       -- DESIGN §8: a key older than 24 hours is expired; the new request takes it over.
       WHERE idempotency_keys.created_at <= now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'
     RETURNING 1 AS reserved`,
    [ctx.scope, ctx.key, ctx.requestHash],
  );
  if (rows.length > 0) return;
  const { rows: found } = await tx.query<{
    request_hash: string;
    status: number;
    response: unknown;
  }>(
    `SELECT request_hash, status, response FROM idempotency_keys WHERE gln = $1::text AND key = $2::text`,
    [ctx.scope, ctx.key],
  );
  const row = found[0];
  if (!row || row.request_hash !== ctx.requestHash)
    throw unprocessable('This Idempotency-Key was already used with a different request.', {
      slug: 'idempotency-key-reused',
    });
  // Status 0 is a reservation of a twin still in this transaction's batch.
  if (Number(row.status) === 0)
    throw conflict('A request with this Idempotency-Key is in progress; retry shortly.', {
      slug: 'idempotency-key-in-progress',
    });
  throw new IdempotentReplay({
    requestHash: row.request_hash,
    status: Number(row.status),
    response: row.response,
  });
}

async function fillKey(
  tx: Queryable,
  ctx: IdempotencyContext,
  status: number,
  body: unknown,
): Promise<void> {
  await tx.query(
    `UPDATE idempotency_keys SET status = $4::integer, response = $5::jsonb
     WHERE gln = $1::text AND key = $2::text AND request_hash = $3::text`,
    [ctx.scope, ctx.key, ctx.requestHash, status, JSON.stringify(body)],
  );
}

/** What an idempotent write answers, computed from the sequenced entries. */
export interface WriteAnswer {
  status: number;
  body: unknown;
}

/** A write to sequence: its entries, the answer, and an optional `apply` hook. */
export interface PlannedWrite {
  entries: readonly PendingEntry[];
  /** Must be pure: it runs in the transaction (to store the answer) and for the response. */
  answer: (accepted: Accepted[]) => WriteAnswer;
  /** Runs under the log lock before the entries are written (e.g. insert the row a notice announces). */
  apply?: SubmitOptions['apply'];
  /** The write stores its EPCIS events itself (see SubmitOptions.ownEvents). */
  ownEvents?: boolean;
}

/** How a replayed answer is completed. */
export interface ReplayOptions {
  /** The Location header the first answer carried, derived from its stored body. */
  locationOf?: (body: unknown) => string | undefined;
}

/**
 * Runs a sequenced write honouring Idempotency-Key (DESIGN §8): a stored
 * answer for the same key and request is replayed (header
 * `Idempotent-Replayed: true`) before `plan` runs, the same key with another
 * request is 422, and the first answer is stored in the same transaction as
 * the entries. `plan` validates and builds the write, or answers at once
 * (a no-op write: nothing is sequenced or stored).
 */
export async function idempotentWrite(
  req: Request,
  res: Response,
  deps: Pick<IssuerDeps, 'db' | 'sequencer'>,
  plan: () => Promise<PlannedWrite | WriteAnswer>,
  opts: ReplayOptions = {},
): Promise<void> {
  const replay = (r: Response, stored: StoredResponse): void => {
    // A replay answers as the first did, headers the body implies included (e.g. Location).
    const location = opts.locationOf?.(stored.response);
    if (location !== undefined) r.location(location);
    replayStored(r, stored);
  };
  const ctx = idempotencyContext(req);
  if (ctx) {
    await pruneIdempotencySometimes(deps.db);
    const stored = await checkIdempotency(idempotencyStoreFor(deps.db), ctx);
    if (stored) {
      replay(res, stored);
      return;
    }
  }
  const write = await plan();
  if (!('entries' in write)) {
    res.status(write.status).json(write.body);
    return;
  }
  const { apply, answer } = write;
  const submit: SubmitOptions = write.ownEvents ? { ownEvents: true } : {};
  if (ctx || apply)
    submit.apply = async (tx, integratedAt) => {
      if (ctx) await reserveKey(tx, ctx);
      if (apply) await apply(tx, integratedAt);
    };
  if (ctx)
    submit.after = async (tx, accepted) => {
      const a = answer(accepted);
      await fillKey(tx, ctx, a.status, a.body);
    };
  let accepted: Accepted[];
  try {
    accepted = await deps.sequencer.submit(write.entries, submit);
  } catch (err) {
    if (err instanceof IdempotentReplay) {
      replay(res, err.stored);
      return;
    }
    throw err;
  }
  const a = answer(accepted);
  res.status(a.status).json(a.body);
}

// ---------------------------------------------------------------------------
// POST /v1/records

const BatchBody = z.strictObject({
  envelopes: z.array(z.unknown()).min(1).max(MAX_SUBMISSION_ENTRIES),
});

function register(deps: Parameters<RouteModule<IssuerDeps>>[1]): void {
  const o = deps.openapi;
  // Response shapes: one source, @provenant/core api/ (issue 9).
  const envelope = o.register('DsseEnvelope', strictApi.envelope.clone());
  const result = o.register('RecordAppendResult', strictApi.appendResult.clone());
  const notice = o.register('NoticeAppendResult', strictApi.noticeAppendResult.clone());
  const item = z.union([result, notice]);
  const answer = z.union([item, z.object({ records: z.array(item) })]);
  o.registerPath({
    method: 'post',
    path: '/v1/records',
    summary:
      'Append client-signed envelopes (one, or {envelopes} up to 10,000, all-or-nothing): records, and the party-signed notices recall and key-revoke',
    security: [{ [BEARER_AUTH]: [] }],
    request: {
      headers: IdempotencyHeaders,
      body: {
        content: {
          'application/json': {
            schema: z.union([envelope, z.object({ envelopes: z.array(envelope) })]),
          },
        },
      },
    },
    responses: {
      201: {
        description: 'Appended: {id, subject, seq, receipt} per record, {id, receipt} per notice',
        content: { 'application/json': { schema: answer } },
      },
      200: {
        description: 'Every envelope was already in the log: the stored results',
        content: { 'application/json': { schema: answer } },
      },
      400: problemResponse('Bad envelope shape, base64 or payload (names the field)'),
      401: problemResponse('No token'),
      403: problemResponse('Missing sign scope, suspended, or a record of another party'),
      409: problemResponse(
        'Stale prev or seq: names the current head; or the key is already revoked',
      ),
      413: problemResponse('Too large'),
      422: problemResponse(
        'Refused: SIGNATURE_INVALID, KEY_UNKNOWN, KEY_NOT_AUTHORIZED, KEY_REVOKED, CUSTODY_VIOLATION, GENESIS_INVALID, PARTY_SUSPENDED; or Idempotency-Key reused',
      ),
    },
  });
}

function isBatch(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && 'envelopes' in body;
}

/** A posted envelope that declares the notice payload type (its shape is checked by prepareNotice). */
function isNoticeEnvelope(raw: unknown): boolean {
  return (
    typeof raw === 'object' &&
    raw !== null &&
    (raw as { payloadType?: unknown }).payloadType === NOTICE_PAYLOAD_TYPE
  );
}

/**
 * Prepares the posted envelopes in request order: records through
 * prepareRecords, notices through prepareNotice (only the party-signed kinds,
 * recall and key-revoke; registry notices are the registry endpoints' own).
 */
async function prepareEntries(
  db: Database,
  envelopes: readonly unknown[],
  principal: Principal,
  batch: boolean,
): Promise<{ entries: PendingEntry[]; revocations: PendingNotice[] }> {
  const where = batch ? 'body.envelopes' : 'body';
  const recordAt: number[] = [];
  const noticeAt: number[] = [];
  envelopes.forEach((e, i) => (isNoticeEnvelope(e) ? noticeAt : recordAt).push(i));
  const entries: PendingEntry[] = new Array<PendingEntry>(envelopes.length);
  if (recordAt.length > 0) {
    const records = await prepareRecords(
      db,
      recordAt.map((i) => envelopes[i]),
      principal,
      { where, positions: recordAt },
    );
    records.forEach((r, j) => (entries[recordAt[j]!] = r));
  }
  const revocations: PendingNotice[] = [];
  for (const i of noticeAt) {
    const n = await prepareNotice(db, envelopes[i], principal, {
      where: batch ? `${where}[${i}]` : where,
      ...(batch ? { positions: [i] } : {}),
    });
    if (n.notice.actor === 'authority')
      throw forbidden('Registry notices are written by the registry endpoints only.');
    if (n.notice.type === 'key-revoke') revocations.push(n);
    entries[i] = n;
  }
  return { entries, revocations };
}

/**
 * The registry side of client-signed key revocations, run under the log lock:
 * the key row is revoked with the notice's compromisedAt (DESIGN §6: receipt
 * time against compromisedAt). A notice already in the log changes nothing (it
 * is answered with its stored result); a key already revoked is 409.
 */
function revokeKeysOf(revocations: readonly PendingNotice[]) {
  return async (tx: Queryable): Promise<void> => {
    const stored = await getLeavesByEntryIds(
      tx,
      revocations.map((n) => n.id),
    );
    const done = new Set<string>();
    for (const n of revocations) {
      if (stored.has(n.id) || done.has(n.id) || n.notice.type !== 'key-revoke') continue;
      done.add(n.id);
      const { kid, compromisedAt, reason } = n.notice.data;
      if (!(await revokeKey(tx, kid, { compromisedAt, reason })))
        throw conflict(`Key ${kid} is already revoked.`, {
          slug: 'key-already-revoked',
          extra: { kid },
        });
    }
  };
}

/** The append answer of one entry: `{id, subject, seq, receipt}` for a record, `{id, receipt}` for a notice. */
function entryResult(a: Accepted): RecordAppendResult | NoticeAppendResult {
  return a.kind === 'record' ? recordResult(a) : { id: a.id, receipt: a.receipt };
}

/** Registers POST /v1/records. */
export const recordRoutes: RouteModule<IssuerDeps> = (router: Router, deps) => {
  register(deps);

  router.post('/v1/records', requireScope('sign'), async (req, res) => {
    const principal = principalOf(req);
    const batch = isBatch(req.body);
    const envelopes: unknown[] = batch ? parse(BatchBody, req.body, 'body').envelopes : [req.body];
    let revoked: PendingNotice[] = [];
    try {
      await idempotentWrite(req, res, deps, async () => {
        // Parsed, key-checked and signature-verified before the lock (append/prepare.ts).
        const { entries, revocations } = await prepareEntries(deps.db, envelopes, principal, batch);
        revoked = revocations;
        return {
          entries,
          ...(revocations.length > 0 ? { apply: revokeKeysOf(revocations) } : {}),
          answer: (accepted) => {
            const results = accepted.map(entryResult);
            const status = accepted.every((a) => a.duplicate) ? 200 : 201;
            return { status, body: batch ? { records: results } : results[0] };
          },
        };
      });
    } finally {
      // Drop any unsealed custodial seed of a party whose key was revoked (DESIGN §8).
      for (const n of revoked) deps.signer.forget(n.notice.actor);
    }
  });
};
