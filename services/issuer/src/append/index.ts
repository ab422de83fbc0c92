// The append pipeline as routes use it (DESIGN §8a POST /v1/records and the
// custodial endpoints): validate (prepare.ts) or sign (custodial.ts), then
// sequence (log/sequencer.ts). Responses carry `{id, subject, seq, receipt}`.
import type { ApiResponse } from '@provenant/core';
import type { Database } from '@provenant/store';
import type { Principal } from '@provenant/server-kit';
import type { Accepted, PendingEntry, Sequencer, SubmitOptions } from '../log/sequencer.js';
import { prepareNotice, prepareRecords, type PrepareOptions } from './prepare.js';

export * from './prepare.js';
export * from './custodial.js';

/** What the append pipeline needs. */
export interface AppendDeps {
  db: Database;
  sequencer: Sequencer;
}

/** DESIGN §8a append response for one record (the shape is @provenant/core api/records.ts). */
export type RecordAppendResult = ApiResponse<'appendResult'>;

/** Append response for one notice. */
export type NoticeAppendResult = ApiResponse<'noticeAppendResult'>;

/** Maps a sequenced record to its response body. */
export function recordResult(a: Accepted): RecordAppendResult {
  return { id: a.id, subject: a.subject!, seq: a.seq!, receipt: a.receipt };
}

/**
 * Appends client-signed record envelopes, all-or-nothing (DESIGN §8
 * batches). Re-sending an envelope already in the log returns its stored
 * result. Errors: see prepareRecords and Sequencer.submit (409 chain
 * conflict naming the current head, 422 reason code, 503 database).
 */
export async function appendRecords(
  deps: AppendDeps,
  envelopes: readonly unknown[],
  principal: Principal,
  opts: PrepareOptions & SubmitOptions = {},
): Promise<RecordAppendResult[]> {
  const pending = await prepareRecords(deps.db, envelopes, principal, opts);
  const accepted = await deps.sequencer.submit(pending, opts);
  return accepted.map(recordResult);
}

/** Appends one client-signed notice envelope (see prepareNotice). */
export async function appendNotice(
  deps: AppendDeps,
  envelope: unknown,
  principal: Principal,
  opts: PrepareOptions & SubmitOptions = {},
): Promise<NoticeAppendResult> {
  const pending = await prepareNotice(deps.db, envelope, principal, opts);
  const [a] = await deps.sequencer.submit([pending], opts);
  return { id: a!.id, receipt: a!.receipt };
}

/**
 * Sequences entries the service signed itself (custodial records, authority
 * notices): they skip the client-facing checks but not the sequencer's.
 */
export async function appendSigned(
  deps: Pick<AppendDeps, 'sequencer'>,
  entries: readonly PendingEntry[],
  opts: SubmitOptions = {},
): Promise<Accepted[]> {
  return deps.sequencer.submit(entries, opts);
}
