// ProvenantClient: a typed client for every endpoint of DESIGN §8a. fetch
// only (Node 20+ and browsers). Writes carry an Idempotency-Key (DESIGN §8),
// one per logical call, reused by its retries, so a retried write is applied
// once. Only 429 and 503 are retried (the two answers that mean "not now"),
// with exponential backoff and jitter, honouring Retry-After; anything else
// is returned or thrown at once.
import {
  keyRegistrationBody,
  publicKeyFromSeed,
  subjectParts,
  VERIFICATION_NONCE_RE,
  type ApiRequest,
  type Ed25519Backend,
  type VERIFICATION_PURPOSES,
} from '@provenant/core';
import { Gs1Error, parseScan } from '@provenant/gs1';
import type { z } from 'zod';
import { EpcisApi } from './epcis.js';
import { clientProblem, problemFrom, ProvenantError } from './errors.js';
import { checkVerificationReceipt, freshNonce, type ReceiptCheckCode } from './receipts.js';
import {
  appendResultSchema,
  bundleOutlineSchema,
  casesPageSchema,
  caseSchema,
  chainSchema,
  consistencyProofSchema,
  cosignatureResultSchema,
  healthSchema,
  inclusionProofSchema,
  issuedTokenSchema,
  logEntriesSchema,
  logLeavesSchema,
  logNoticesSchema,
  logInfoSchema,
  meSchema,
  openApiSchema,
  packResponseSchema,
  partySchema,
  recallResponseSchema,
  receiptResponseSchema,
  recordsResponseSchema,
  registeredKeySchema,
  revokedKeySchema,
  shipmentResponseSchema,
  verificationSchema,
  verifierInfoSchema,
  auditReportSchema,
  type AuditReport,
  vrsResponseSchema,
  witnessListSchema,
  type AppendResult,
  type Bundle,
  type Case,
  type CasesPage,
  type Me,
  type Chain,
  type ConsistencyProof,
  type CosignatureResult,
  type Health,
  type InclusionProof,
  type IssuedToken,
  type LogEntries,
  type LogLeaves,
  type LogNotices,
  type LogInfo,
  type OpenApiDocument,
  type PackResponse,
  type Party,
  type RecallResponse,
  type ReceiptResponse,
  type RecordsResponse,
  type RegisteredKey,
  type RevokedKey,
  type ShipmentResponse,
  type Verification,
  type VerifierInfo,
  type VrsResponse,
  type WitnessList,
} from './schemas.js';

/** The fetch the client calls (the global one by default; inject one for tests or proxies). */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** e.g. `http://localhost:8080` (a trailing slash is fine). */
  baseUrl: string;
  /** Bearer token (DESIGN §8 Auth); omit for the public endpoints. */
  token?: string | undefined;
  fetch?: FetchLike;
  /** Retries of a call answered 429 or 503 (default 3; 0 disables). */
  retries?: number;
  /** First backoff delay in ms (default 250), doubled per retry, with jitter. */
  retryBaseDelayMs?: number;
  /** Longest wait between retries in ms, Retry-After included (default 30,000). */
  maxRetryDelayMs?: number;
  /** Per-attempt timeout in ms (default 120,000; 0 disables). */
  timeoutMs?: number;
  /** Extra headers on every request (e.g. a user agent). */
  headers?: Record<string, string>;
  /** Waits between retries (injectable for tests). */
  sleep?: (ms: number) => Promise<void>;
  /** Random in [0, 1) for jitter (injectable for tests). */
  random?: () => number;
}

/** Per-call options of a write. */
export interface WriteOptions {
  /** Idempotency-Key to send; default a fresh random UUID per call (DESIGN §8). */
  idempotencyKey?: string;
}

/** Subject form in paths (DESIGN §8a): a canonical subject `01/<gtin>/21/<serial>` or `00/<sscc>`. */
export type SubjectPath = string;

// Request types: one source, the schemas the server validates with (@provenant/core api/requests.ts).
export type PartyRole = ApiRequest<'party'>['roles'][number];
export type Scope = ApiRequest<'token'>['scopes'][number];
export type Purpose = (typeof VERIFICATION_PURPOSES)[number];
/** A subject as the custodial endpoints take it: any DESIGN §3 form, or `{gtin, serial}`. */
export type SubjectInput = ApiRequest<'unpack'>['parent'];

export type NewParty = ApiRequest<'party'>;
export type CommissionItem = ApiRequest<'commissionItem'>;
export type ShipmentRequest = ApiRequest<'shipment'>;
export type Transaction = NonNullable<ShipmentRequest['transactions']>[number];
export type ReceiptRequest = ApiRequest<'receipt'>;
export type DecommissionReason = ApiRequest<'decommission'>['reason'];
/**
 * Exactly one of `scan` (any DESIGN §3 form) or `subject` (canonical), the purpose,
 * optionally a `nonce` (1–64 URL-safe characters) the server signs back in the receipt.
 * `scannerProfile: 'keyboard-wedge-gs'` opts in to printable GS stand-ins such as
 * `<GS>` in the scan (otherwise only 0x1D separates).
 */
export type VerificationRequest = (
  | { scan: string | { gtin: string; serial: string }; subject?: never }
  | { subject: string; scan?: never }
) &
  Omit<ApiRequest<'verification'>, 'scan' | 'subject'>;

/** How {@link ProvenantClient.verifyChecked} checks the answer. */
export interface ReceiptPolicy {
  /** the PINNED verifier key (a trust file's verifierKey), never one fetched with the answer */
  verifierKey: string | Uint8Array;
  /** GLN of the caller's party: the receipt must be for it */
  party: string;
  /** the local clock, ms since the epoch (default Date.now) */
  now?: () => number;
  /** Ed25519 backend for the receipt signature (default noble) */
  backend?: Ed25519Backend;
}

/**
 * A verification whose receipt was checked: `ok` only when the receipt verifies
 * under the pinned key and answers this request (DESIGN §7). Otherwise the
 * answer must not be relied on, whatever its verdict says.
 */
export type CheckedVerification =
  | { ok: true; verification: Verification; kid: string; nonce: string }
  | {
      ok: false;
      code: ReceiptCheckCode;
      detail: string;
      verification: Verification;
      nonce: string;
    };
export interface VrsQuery {
  gtin: string;
  serial: string;
  lot?: string;
  /** YYMMDD as on the pack */
  expiry?: string;
  reqGLN: string;
  corrUUID: string;
  context?: string;
}
export type CosignatureRequest = ApiRequest<'cosignature'>;

const DEFAULTS = {
  retries: 3,
  retryBaseDelayMs: 250,
  maxRetryDelayMs: 30_000,
  timeoutMs: 120_000,
};

/** One call of the transport (shared with the EPCIS client, epcis.ts). */
export interface CallSpec<T> {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string | number | undefined> | undefined;
  body?: unknown;
  /** Extra request headers of this call (e.g. GS1-EPC-Format). */
  headers?: Record<string, string> | undefined;
  /** Content-Type of the body (default application/json). */
  contentType?: string;
  /** Sees the response headers of a successful answer (Location, Link). */
  onHeaders?: (headers: Headers) => void;
  /** A successful answer may have no body (then undefined). */
  emptyOk?: boolean;
  /** zod schema of a JSON answer, or 'text' for text/plain. */
  schema: z.ZodType<T> | 'text';
  write?: WriteOptions | undefined;
  /** Return the body exactly as received once it passed `schema` (bundles: evidence is not reshaped). */
  raw?: boolean;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function misuse(detail: string): ProvenantError {
  return new ProvenantError(clientProblem('invalid-argument', 0, 'Invalid argument', detail));
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/** The path segment of a canonical subject (its serial is already RFC 3986-encoded). */
function subjectPath(subject: SubjectPath): string {
  if (typeof subject !== 'string' || subjectParts(subject) === null)
    throw misuse(
      `subject must be canonical: 01/<gtin14>/21/<serial> or 00/<sscc>, got ${JSON.stringify(subject)}`,
    );
  return subject;
}

/**
 * The canonical subject (DESIGN §3) of a scan or subject input, as the verifier
 * derives it: the receipt of a checked verification must name exactly this.
 */
function canonicalSubjectOf(input: unknown, profile?: 'keyboard-wedge-gs'): string {
  if (typeof input === 'string' && subjectParts(input) !== null) return input;
  try {
    // The scanner profile the server is told (a printable GS stand-in) reads the scan here too.
    return parseScan(input as Parameters<typeof parseScan>[0], profile ? { profile } : {}).subject;
  } catch (err) {
    if (err instanceof Gs1Error) throw misuse(`bad scan: ${err.message} (${err.code})`);
    throw misuse('scan or subject must be a DESIGN §3 form');
  }
}

function seg(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw misuse(`${what} must be a non-empty string`);
  return encodeURIComponent(value);
}

/**
 * A typed client of the Provenant API (DESIGN §8a).
 *
 * Every method resolves to the checked answer or throws {@link ProvenantError}
 * (the server's problem+json; `status` 0 for network errors and timeouts).
 */
export class ProvenantClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly fetchFn: FetchLike;
  private readonly opts: typeof DEFAULTS;
  private readonly headers: Record<string, string>;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** The EPCIS 2.0 interface (DESIGN §11): capture, capture jobs, queries. */
  readonly epcis: EpcisApi;

  constructor(options: ClientOptions) {
    if (!options || typeof options.baseUrl !== 'string' || !/^https?:\/\//i.test(options.baseUrl))
      throw misuse('baseUrl must be an http(s) URL');
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token || undefined;
    const f = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
    if (!f) throw misuse('no fetch available: pass options.fetch');
    this.fetchFn = options.fetch ? f : f.bind(globalThis);
    this.opts = {
      retries: options.retries ?? DEFAULTS.retries,
      retryBaseDelayMs: options.retryBaseDelayMs ?? DEFAULTS.retryBaseDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULTS.maxRetryDelayMs,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    };
    if (!Number.isInteger(this.opts.retries) || this.opts.retries < 0)
      throw misuse('retries must be a non-negative integer');
    this.headers = { ...(options.headers ?? {}) };
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.epcis = new EpcisApi((spec) => this.call(spec));
  }

  // -------------------------------------------------------------------------
  // Transport.

  private url(path: string, query?: Record<string, string | number | undefined>): string {
    let url = `${this.baseUrl}${path}`;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  /** Backoff before retry `n` (0-based): Retry-After when given, else base·2ⁿ with jitter; capped. */
  private delay(n: number, retryAfter: number | null): number {
    const cap = this.opts.maxRetryDelayMs;
    if (retryAfter !== null) return Math.min(cap, retryAfter);
    const exp = Math.min(cap, this.opts.retryBaseDelayMs * 2 ** n);
    // "Equal jitter": half fixed, half random, so concurrent clients spread out.
    return Math.round(exp / 2 + (exp / 2) * this.random());
  }

  private async call<T>(spec: CallSpec<T>): Promise<T> {
    const url = this.url(spec.path, spec.query);
    const label = `${spec.method} ${spec.path}`;
    const headers: Record<string, string> = {
      Accept:
        spec.schema === 'text'
          ? 'text/plain, application/problem+json'
          : 'application/json, application/problem+json',
      ...this.headers,
    };
    if (this.token) headers['Authorization'] = `Bearer ${this.token}`;
    Object.assign(headers, spec.headers);
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      body = JSON.stringify(spec.body);
    }
    // DESIGN §8: one key per logical write, the same on every retry of it.
    if (spec.method === 'POST')
      headers['Idempotency-Key'] = spec.write?.idempotencyKey ?? crypto.randomUUID();

    for (let attempt = 0; ; attempt++) {
      const res = await this.attempt(url, label, {
        method: spec.method,
        headers,
        ...(body !== undefined ? { body } : {}),
      });
      if ((res.status === 429 || res.status === 503) && attempt < this.opts.retries) {
        // Drain the body so the connection can be reused.
        await res.text().catch(() => undefined);
        await this.sleep(this.delay(attempt, retryAfterMs(res.headers.get('retry-after'))));
        continue;
      }
      return this.read(res, spec, label);
    }
  }

  private async attempt(url: string, label: string, init: RequestInit): Promise<Response> {
    const timeout = this.opts.timeoutMs;
    const controller = timeout > 0 ? new AbortController() : null;
    const timer = controller ? setTimeout(() => controller.abort(), timeout) : undefined;
    try {
      return await this.fetchFn(url, controller ? { ...init, signal: controller.signal } : init);
    } catch (err) {
      const timedOut = controller?.signal.aborted === true;
      throw new ProvenantError(
        timedOut
          ? clientProblem(
              'timeout',
              0,
              'Timeout',
              `${label}: no answer from ${this.baseUrl} within ${timeout} ms`,
            )
          : clientProblem(
              'network-error',
              0,
              'Network error',
              `${label}: cannot reach ${this.baseUrl} (${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)})`,
            ),
        label,
        { cause: err },
      );
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  private async read<T>(res: Response, spec: CallSpec<T>, label: string): Promise<T> {
    const type = res.headers.get('content-type') ?? '';
    const text = await res.text();
    const isJson = /[/+]json\b/i.test(type);
    let parsed: unknown = text;
    if (isJson && text.length > 0) {
      try {
        parsed = JSON.parse(text) as unknown;
      } catch {
        parsed = undefined;
        if (res.ok) throw this.invalid(res.status, label, 'the answer is not valid JSON');
      }
    }
    if (!res.ok) throw new ProvenantError(problemFrom(res.status, res.statusText, parsed), label);
    spec.onHeaders?.(res.headers);
    if (spec.emptyOk && text.length === 0) return undefined as T;
    if (spec.schema === 'text') {
      if (isJson) throw this.invalid(res.status, label, `expected text/plain, got ${type}`);
      return text as T;
    }
    if (!isJson)
      throw this.invalid(res.status, label, `expected JSON, got ${type || 'no content type'}`);
    const checked = spec.schema.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue && issue.path.length > 0 ? issue.path.join('.') : '(root)';
      throw this.invalid(res.status, label, `${where}: ${issue?.message ?? 'unexpected shape'}`);
    }
    return spec.raw ? (parsed as T) : checked.data;
  }

  private invalid(status: number, label: string, detail: string): ProvenantError {
    return new ProvenantError(
      clientProblem('invalid-response', status, 'Invalid response', `${label}: ${detail}`),
      label,
    );
  }

  // -------------------------------------------------------------------------
  // Health.

  /** GET /healthz: liveness. */
  async healthz(): Promise<Health> {
    return this.call({ method: 'GET', path: '/healthz', schema: healthSchema });
  }

  /** GET /readyz: readiness (includes the database); 503 throws after retries. */
  async readyz(): Promise<Health> {
    return this.call({ method: 'GET', path: '/readyz', schema: healthSchema });
  }

  /** GET /openapi.json: the API description (OpenAPI 3.1). The HTML pages are at {@link docsUrl} and {@link dockUrl}. */
  async getOpenApi(): Promise<OpenApiDocument> {
    return this.call({ method: 'GET', path: '/openapi.json', schema: openApiSchema, raw: true });
  }

  /** URL of GET /docs (HTML API documentation, for a browser). */
  get docsUrl(): string {
    return `${this.baseUrl}/docs`;
  }

  /** URL of GET /dock (the receiving-dock page, for a browser; the token is entered in the page). */
  get dockUrl(): string {
    return `${this.baseUrl}/dock`;
  }

  // -------------------------------------------------------------------------
  // Registry.

  /** POST /v1/parties (admin). */
  async createParty(party: NewParty, write?: WriteOptions): Promise<Party> {
    return this.call({
      method: 'POST',
      path: '/v1/parties',
      body: party,
      schema: partySchema,
      write,
    });
  }

  /** GET /v1/parties/{gln}: the party, its keys (public parts) and status. */
  async getParty(gln: string): Promise<Party> {
    return this.call({
      method: 'GET',
      path: `/v1/parties/${seg(gln, 'gln')}`,
      schema: partySchema,
    });
  }

  /**
   * POST /v1/parties/{gln}/keys: registers a client-held key, proving
   * possession (DESIGN §5): pass `{seed}` (the 32-byte seed; it signs the
   * proof here and never leaves this process), or a ready
   * `{publicKey, time, proof}` body; or `{custodial: true}`.
   */
  async registerKey(
    gln: string,
    key: { seed: Uint8Array } | ApiRequest<'key'>,
    write?: WriteOptions,
  ): Promise<RegisteredKey> {
    const body =
      'seed' in key
        ? keyRegistrationBody(gln, key.seed, publicKeyFromSeed(key.seed), new Date().toISOString())
        : key;
    return this.call({
      method: 'POST',
      path: `/v1/parties/${seg(gln, 'gln')}/keys`,
      body,
      schema: registeredKeySchema,
      write,
    });
  }

  /** POST /v1/parties/{gln}/tokens (admin): the token is shown only in this answer. */
  async createToken(
    gln: string,
    body: ApiRequest<'token'>,
    write?: WriteOptions,
  ): Promise<IssuedToken> {
    return this.call({
      method: 'POST',
      path: `/v1/parties/${seg(gln, 'gln')}/tokens`,
      body,
      schema: issuedTokenSchema,
      write,
    });
  }

  /** POST /v1/parties/{gln}/suspend (admin). */
  async suspendParty(
    gln: string,
    body: ApiRequest<'partyStatus'> = {},
    write?: WriteOptions,
  ): Promise<Party> {
    return this.call({
      method: 'POST',
      path: `/v1/parties/${seg(gln, 'gln')}/suspend`,
      body,
      schema: partySchema,
      write,
    });
  }

  /** POST /v1/parties/{gln}/reinstate (admin). */
  async reinstateParty(
    gln: string,
    body: ApiRequest<'partyStatus'> = {},
    write?: WriteOptions,
  ): Promise<Party> {
    return this.call({
      method: 'POST',
      path: `/v1/parties/${seg(gln, 'gln')}/reinstate`,
      body,
      schema: partySchema,
      write,
    });
  }

  /** POST /v1/keys/{kid}/revoke: `{compromisedAt (RFC 3339), reason}`. */
  async revokeKey(
    kid: string,
    body: ApiRequest<'revokeKey'>,
    write?: WriteOptions,
  ): Promise<RevokedKey> {
    return this.call({
      method: 'POST',
      path: `/v1/keys/${seg(kid, 'kid')}/revoke`,
      body,
      schema: revokedKeySchema,
      write,
    });
  }

  // -------------------------------------------------------------------------
  // Records (non-custodial) and custodial writes.

  /** POST /v1/records with one client-signed envelope. */
  async submitRecord(envelope: unknown, write?: WriteOptions): Promise<AppendResult> {
    return this.call({
      method: 'POST',
      path: '/v1/records',
      body: envelope,
      schema: appendResultSchema,
      write,
    });
  }

  /** POST /v1/records `{envelopes}`: up to 10,000, all-or-nothing. */
  async submitRecords(
    envelopes: readonly unknown[],
    write?: WriteOptions,
  ): Promise<RecordsResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/records',
      body: { envelopes },
      schema: recordsResponseSchema,
      write,
    });
  }

  /** POST /v1/commissions (custodial). */
  async commission(body: ApiRequest<'commission'>, write?: WriteOptions): Promise<RecordsResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/commissions',
      body,
      schema: recordsResponseSchema,
      write,
    });
  }

  /** POST /v1/packs (custodial): N unit records plus the container's. */
  async pack(body: ApiRequest<'pack'>, write?: WriteOptions): Promise<PackResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/packs',
      body,
      schema: packResponseSchema,
      write,
    });
  }

  /** POST /v1/unpacks (custodial). */
  async unpack(body: ApiRequest<'unpack'>, write?: WriteOptions): Promise<PackResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/unpacks',
      body,
      schema: packResponseSchema,
      write,
    });
  }

  /** POST /v1/shipments (custodial). */
  async ship(body: ShipmentRequest, write?: WriteOptions): Promise<ShipmentResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/shipments',
      body,
      schema: shipmentResponseSchema,
      write,
    });
  }

  /** POST /v1/receipts (custodial receive with reconciliation). */
  async receive(body: ReceiptRequest, write?: WriteOptions): Promise<ReceiptResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/receipts',
      body,
      schema: receiptResponseSchema,
      write,
    });
  }

  /** POST /v1/decommissions (custodial). */
  async decommission(
    body: ApiRequest<'decommission'>,
    write?: WriteOptions,
  ): Promise<RecordsResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/decommissions',
      body,
      schema: recordsResponseSchema,
      write,
    });
  }

  /** POST /v1/reactivations (custodial). */
  async reactivate(
    body: ApiRequest<'reactivation'>,
    write?: WriteOptions,
  ): Promise<RecordsResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/reactivations',
      body,
      schema: recordsResponseSchema,
      write,
    });
  }

  /** POST /v1/recalls (manufacturer). */
  async recall(body: ApiRequest<'recall'>, write?: WriteOptions): Promise<RecallResponse> {
    return this.call({
      method: 'POST',
      path: '/v1/recalls',
      body,
      schema: recallResponseSchema,
      write,
    });
  }

  // -------------------------------------------------------------------------
  // Chains and bundles.

  /** GET /v1/chains/{subject}: records with envelopes and receipts, status, custodian. */
  async getChain(subject: SubjectPath): Promise<Chain> {
    return this.call({
      method: 'GET',
      path: `/v1/chains/${subjectPath(subject)}`,
      schema: chainSchema,
    });
  }

  /**
   * GET /v1/bundles/{subject}: the offline bundle, returned exactly as received
   * (only its outline is checked; verify it with core's verifyBundle).
   */
  async getBundle(subject: SubjectPath): Promise<Bundle> {
    return this.call({
      method: 'GET',
      path: `/v1/bundles/${subjectPath(subject)}`,
      schema: bundleOutlineSchema as unknown as z.ZodType<Bundle>,
      raw: true,
    });
  }

  // -------------------------------------------------------------------------
  // The log.

  /** GET /v1/log: origin, key name, public key and C2SP verifier key of the log. */
  async getLogInfo(): Promise<LogInfo> {
    return this.call({ method: 'GET', path: '/v1/log', schema: logInfoSchema });
  }

  /** GET /v1/witnesses: the registered witnesses (public, DESIGN §6a). */
  async getWitnesses(): Promise<WitnessList> {
    return this.call({ method: 'GET', path: '/v1/witnesses', schema: witnessListSchema });
  }

  /** GET /v1/log/checkpoint: the latest signed checkpoint (signed note text). Verify it before use. */
  async getCheckpoint(): Promise<string> {
    return this.call({ method: 'GET', path: '/v1/log/checkpoint', schema: 'text' });
  }

  /**
   * GET /v1/log/entries?start=&end=: entries with their envelopes start..end, both
   * inclusive (RFC 6962 get-entries), in order (a page of at most 1,000).
   * Admin or a `monitor` token only (DESIGN §6a); anyone may read getLogLeaves.
   */
  async getLogEntries(query: { start: number; end?: number }): Promise<LogEntries> {
    return this.call({ method: 'GET', path: '/v1/log/entries', query, schema: logEntriesSchema });
  }

  /** GET /v1/log/leaves?start=&end=: hex leaf hashes start..end, both inclusive (at most 1,000); anyone. */
  async getLogLeaves(query: { start: number; end?: number }): Promise<LogLeaves> {
    return this.call({ method: 'GET', path: '/v1/log/leaves', query, schema: logLeavesSchema });
  }

  /** GET /v1/log/notices?after=: the public registry notices in log order; page on with `next`. */
  async getLogNotices(query: { after?: string; limit?: number } = {}): Promise<LogNotices> {
    return this.call({ method: 'GET', path: '/v1/log/notices', query, schema: logNoticesSchema });
  }

  /** GET /v1/log/proofs/inclusion?index=&size= (or ?leafHash=<hex> instead of index). */
  async getInclusionProof(
    query: { index: number; size?: number } | { leafHash: string; size?: number },
  ): Promise<InclusionProof> {
    return this.call({
      method: 'GET',
      path: '/v1/log/proofs/inclusion',
      query,
      schema: inclusionProofSchema,
    });
  }

  /** GET /v1/log/proofs/consistency?from=&to= (from ≥ 1, DESIGN §6). */
  async getConsistencyProof(query: { from: number; to?: number }): Promise<ConsistencyProof> {
    return this.call({
      method: 'GET',
      path: '/v1/log/proofs/consistency',
      query,
      schema: consistencyProofSchema,
    });
  }

  /** POST /v1/log/cosignatures: a witness's tlog-cosignature line. */
  async addCosignature(body: CosignatureRequest, write?: WriteOptions): Promise<CosignatureResult> {
    return this.call({
      method: 'POST',
      path: '/v1/log/cosignatures',
      body,
      schema: cosignatureResultSchema,
      write,
    });
  }

  // -------------------------------------------------------------------------
  // Verification (the verifier service).

  /** POST /v1/verifications: `{scan}` or `{subject}` with a purpose, as the caller's party. */
  async verify(body: VerificationRequest, write?: WriteOptions): Promise<Verification> {
    return this.call({
      method: 'POST',
      path: '/v1/verifications',
      body,
      schema: verificationSchema,
      write,
    });
  }

  /**
   * POST /v1/verifications with a fresh nonce, answered only when the receipt verifies
   * under the pinned verifier key AND its subject (canonical, of the scan), party,
   * purpose and nonce equal the request AND its verifiedAt is within 5 minutes of the
   * local clock (DESIGN §7 "receipts bind the question"). A failed check is a return
   * value (`ok: false` with a code), not an exception: the answer is evidence.
   * @throws {ProvenantError} for transport and problem answers, and for a scan that
   * does not parse (`invalid-argument`).
   */
  async verifyChecked(
    body: VerificationRequest,
    policy: ReceiptPolicy,
    write?: WriteOptions,
  ): Promise<CheckedVerification> {
    const subject = canonicalSubjectOf(body.scan ?? body.subject, body.scannerProfile);
    if (body.nonce !== undefined && !VERIFICATION_NONCE_RE.test(body.nonce))
      throw misuse('nonce must be 1-64 URL-safe characters [A-Za-z0-9_-]');
    const nonce = body.nonce ?? freshNonce();
    const verification = await this.verify({ ...body, nonce } as VerificationRequest, write);
    const check = checkVerificationReceipt(verification, policy.verifierKey, policy.backend, {
      subject,
      party: policy.party,
      purpose: body.purpose,
      nonce,
      now: (policy.now ?? Date.now)(),
    });
    return check.ok
      ? { ok: true, verification, kid: check.kid, nonce }
      : { ok: false, code: check.code, detail: check.detail, verification, nonce };
  }

  /** GET /v1/verifications/{id}: a stored verdict and its receipt. */
  async getVerification(id: string): Promise<Verification> {
    return this.call({
      method: 'GET',
      path: `/v1/verifications/${seg(id, 'id')}`,
      schema: verificationSchema,
    });
  }

  /** POST /v1/bundles/verify: verify a bundle presented by a shipper, cross-checked against the log. */
  async verifyBundle(
    // Any bundle as received (getBundle's answer included): the server judges it.
    body: Omit<ApiRequest<'verifyBundle'>, 'bundle'> & { bundle: unknown },
    write?: WriteOptions,
  ): Promise<Verification> {
    return this.call({
      method: 'POST',
      path: '/v1/bundles/verify',
      body,
      schema: verificationSchema,
      write,
    });
  }

  /** GET /v1/verifier: the public key that signs verification receipts. */
  async getVerifierKey(): Promise<VerifierInfo> {
    return this.call({ method: 'GET', path: '/v1/verifier', schema: verifierInfoSchema });
  }

  /** POST /v1/verifier/audit (admin): re-verify the whole log from index 0 (DESIGN §7b). */
  async audit(): Promise<AuditReport> {
    return this.call({
      method: 'POST',
      path: '/v1/verifier/audit',
      body: {},
      schema: auditReportSchema,
    });
  }

  /** GET /v1/vrs/01/{gtin}/21/{serial}: DSCSA saleable-return verification (DESIGN §7). */
  async vrs(q: VrsQuery): Promise<VrsResponse> {
    return this.call({
      method: 'GET',
      path: `/v1/vrs/01/${seg(q.gtin, 'gtin')}/21/${seg(q.serial, 'serial')}`,
      query: {
        '10': q.lot,
        '17': q.expiry,
        reqGLN: q.reqGLN,
        corrUUID: q.corrUUID,
        context: q.context ?? 'dscsaSaleableReturn',
      },
      schema: vrsResponseSchema,
    });
  }

  /** GET /v1/me: the party (gln, name, roles) and scopes of this client's token; 401 without one. */
  async me(): Promise<Me> {
    return this.call({ method: 'GET', path: '/v1/me', schema: meSchema });
  }

  /** GET /v1/cases/{id}: one case of the caller's party (404 for another party's). */
  async getCase(id: string): Promise<Case> {
    return this.call({ method: 'GET', path: `/v1/cases/${seg(id, 'id')}`, schema: caseSchema });
  }

  /** GET /v1/cases: quarantine cases of the caller's party (opaque cursor `after`, then `next`). */
  async listCases(
    query: { status?: 'open' | 'resolved'; after?: string; limit?: number } = {},
  ): Promise<CasesPage> {
    return this.call({ method: 'GET', path: '/v1/cases', query, schema: casesPageSchema });
  }

  /** POST /v1/cases/{id}/resolve: `{outcome, note?}`; 409 when already resolved. */
  async resolveCase(
    id: string,
    body: ApiRequest<'resolveCase'>,
    write?: WriteOptions,
  ): Promise<Case> {
    return this.call({
      method: 'POST',
      path: `/v1/cases/${seg(id, 'id')}/resolve`,
      body,
      schema: caseSchema,
      write,
    });
  }
}
