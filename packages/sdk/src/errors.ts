// The one error class of the SDK (DESIGN §8): every failed call throws a
// ProvenantError carrying the server's RFC 9457 problem+json, or a synthetic
// problem of the same shape for failures that never reached a server answer
// (network down, timeout, an answer that is not what the API documents).

/** Prefix of every problem `type` (DESIGN §8). */
export const PROBLEM_TYPE_PREFIX = 'urn:provenant:problem:';

/** One field-level violation: where (`body.items[3].gtin`), which rule, and why. */
export interface ProblemFieldError {
  path: string;
  rule: string;
  message: string;
}

/** One coded reason (a DESIGN §7 reason code on a 422, say). */
export interface ProblemReason {
  code: string;
  message?: string;
  [key: string]: unknown;
}

/** An RFC 9457 problem as the services answer it. Extension members (e.g. `head` on a 409) are kept. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: ProblemFieldError[];
  reasons?: ProblemReason[];
  [extension: string]: unknown;
}

/** Slugs of the problems the SDK makes up itself (status 0 when no HTTP answer came). */
export type ClientProblemSlug =
  'network-error' | 'timeout' | 'invalid-response' | 'invalid-argument';

/**
 * A failed API call. `status` is the HTTP status (0 when the request never got
 * an answer), `type` the problem type URN, `problem` the whole problem body.
 * `code` is the slug of `type` (`party-not-found`, `network-error`...) so
 * callers can switch on it like any coded error.
 */
export class ProvenantError extends Error {
  override readonly name = 'ProvenantError';
  readonly type: string;
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: ProblemFieldError[] | undefined;
  readonly reasons: ProblemReason[] | undefined;
  readonly problem: Problem;
  /** Method and path of the call, for messages. */
  readonly request: string | undefined;

  constructor(problem: Problem, request?: string, options?: { cause?: unknown }) {
    super(problem.detail ?? problem.title, options);
    this.problem = problem;
    this.type = problem.type;
    this.code = problem.type.startsWith(PROBLEM_TYPE_PREFIX)
      ? problem.type.slice(PROBLEM_TYPE_PREFIX.length)
      : problem.type;
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = problem.errors;
    this.reasons = problem.reasons;
    this.request = request;
  }
}

/** A problem the client makes up (no usable server answer). */
export function clientProblem(
  slug: ClientProblemSlug,
  status: number,
  title: string,
  detail: string,
): Problem {
  return { type: `${PROBLEM_TYPE_PREFIX}${slug}`, title, status, detail };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads an error answer as a problem. The body is server-controlled: anything
 * that is not a problem object becomes a generic problem with the HTTP status.
 */
export function problemFrom(status: number, statusText: string, body: unknown): Problem {
  if (isObject(body) && typeof body['type'] === 'string' && typeof body['title'] === 'string') {
    const p: Problem = { ...body, type: body['type'], title: body['title'], status };
    if (typeof body['detail'] !== 'string') delete p.detail;
    if (!Array.isArray(body['errors'])) delete p.errors;
    if (!Array.isArray(body['reasons'])) delete p.reasons;
    return p;
  }
  return {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    ...(typeof body === 'string' && body.length > 0 ? { detail: body.slice(0, 500) } : {}),
  };
}
