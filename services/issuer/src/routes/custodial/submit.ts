// One custodial write = one sequencer submission (DESIGN §8: batches are
// all-or-nothing), with Idempotency-Key honoured in the same transaction as
// the records (records.ts idempotentWrite: the key is reserved under the log
// lock and filled with the answer, so both commit together or not at all).
import type { Request, Response } from 'express';
import type { IssuerDeps } from '../../deps.js';
import type { Accepted, PendingEntry, SubmitOptions } from '../../log/sequencer.js';
import { idempotentWrite, type ReplayOptions } from '../records.js';

/** What a custodial handler hands over: the signed entries and how to answer once they are in the log. */
export interface SignedWrite {
  entries: PendingEntry[];
  /** The 201 body from the sequenced entries (in the order of `entries`); must be pure. */
  respond(accepted: Accepted[]): unknown;
  /** Runs under the log lock before the entries are written (SubmitOptions.apply). */
  apply?: SubmitOptions['apply'];
  /** The write stores its EPCIS events itself (SubmitOptions.ownEvents). */
  ownEvents?: boolean;
}

/**
 * Runs one custodial write: replays a stored answer for a known
 * Idempotency-Key (422 when the key was used with another request; `build`
 * is then never called), else builds and signs the entries, sequences them as
 * one submission and answers 201.
 * @throws whatever `build` throws (400/403/404/409/422), the sequencer's
 *   refusals (409 stale head, 422 reason code), 503 when the database is down.
 */
export async function signedWrite(
  deps: IssuerDeps,
  req: Request,
  res: Response,
  build: () => Promise<SignedWrite>,
  opts: ReplayOptions = {},
): Promise<void> {
  await idempotentWrite(
    req,
    res,
    deps,
    async () => {
      const write = await build();
      return {
        entries: write.entries,
        ...(write.apply ? { apply: write.apply } : {}),
        ...(write.ownEvents ? { ownEvents: true } : {}),
        answer: (accepted: Accepted[]) => ({ status: 201, body: write.respond(accepted) }),
      };
    },
    opts,
  );
}
