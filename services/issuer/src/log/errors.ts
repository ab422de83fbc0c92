// Refused appends as RFC 9457 problems (DESIGN §8): 409 for a chain conflict
// (a stale prev or seq; the body names the current head), 422 with a reason
// code for a rule the entry breaks. Built here so the sequencer's verdict
// reaches the client unchanged.
import type { ReasonCode } from '@provenant/core';
import { HttpProblem } from '@provenant/server-kit';

/** Reason codes an append can be refused with (DESIGN §7 codes, plus PARTY_SUSPENDED and TIME_ANOMALY, §5). */
export type AppendRefusalCode = Extract<
  ReasonCode,
  | 'CHAIN_BROKEN'
  | 'GENESIS_INVALID'
  | 'CUSTODY_VIOLATION'
  | 'KEY_UNKNOWN'
  | 'KEY_NOT_AUTHORIZED'
  | 'KEY_REVOKED'
  | 'SIGNATURE_INVALID'
  | 'PARTY_SUSPENDED'
  | 'TIME_ANOMALY'
>;

/** Where in a submission (0-based entry) the refusal arose, and for which subject. */
export interface RefusalLocation {
  entry?: number;
  subject?: string;
}

/** The current head of a chain, as a 409 names it (null head: the chain does not exist). */
export interface CurrentHead {
  subject: string;
  seq: number | null;
  head: string | null;
}

/** An append refused for one reason code; an HttpProblem so routes can throw it as is. */
export class AppendRefusedError extends HttpProblem {
  readonly reason: AppendRefusalCode;

  constructor(
    status: 409 | 422,
    slug: string,
    reason: AppendRefusalCode,
    message: string,
    where: RefusalLocation,
    extra?: Record<string, unknown>,
  ) {
    super(status, slug, message, {
      reasons: [{ code: reason, message, ...where }],
      ...(extra ? { extra } : {}),
    });
    this.reason = reason;
  }
}

/** 409 chain-conflict naming the current head of `current.subject` (DESIGN §8). */
export function chainConflict(
  message: string,
  current: CurrentHead,
  where: RefusalLocation,
): AppendRefusedError {
  return new AppendRefusedError(409, 'chain-conflict', 'CHAIN_BROKEN', message, where, {
    subject: current.subject,
    head: current.head,
    seq: current.seq,
  });
}

/** 422 for a broken rule: slug is the code in kebab case (e.g. custody-violation). */
export function refused(
  code: Exclude<AppendRefusalCode, 'CHAIN_BROKEN'> | 'CHAIN_BROKEN',
  message: string,
  where: RefusalLocation = {},
): AppendRefusedError {
  return new AppendRefusedError(422, code.toLowerCase().replace(/_/g, '-'), code, message, where);
}
