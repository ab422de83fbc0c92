// The verifier's tables (db/migrations/000003_verifier.sql): verifications, an
// append-only audit of every verdict, their Idempotency-Keys (000013: kept 24
// hours, pruned by packages/store idempotency.ts), and quarantine cases. The
// only tables the verifier writes (STYLE rule 8). Parameterised SQL with
// explicit casts.
import { IDEMPOTENCY_TTL_HOURS, prepared, type Queryable } from '@provenant/store';

export interface NewVerification {
  id: string;
  party: string;
  purpose: string;
  source: 'scan' | 'subject' | 'bundle' | 'vrs';
  subject: string;
  verdict: string;
  reasons: unknown;
  result: unknown;
  receipt: unknown;
  /** RFC 3339: the verifier's clock at the verification */
  createdAt: string;
}

export type StoredVerification = NewVerification;

function iso(v: unknown): string {
  return (v instanceof Date ? v : new Date(String(v))).toISOString();
}

function isoOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : iso(v);
}

// jsonb goes over the wire as text: identical on pg and PGlite, and arrays stay JSON arrays.
const js = (v: unknown): string => JSON.stringify(v ?? null);

/** The Idempotency-Key a verification was requested with (DESIGN §8). */
export interface VerificationIdempotency {
  key: string;
  /** Fingerprint of the request (idempotency.ts requestHashOf) */
  requestHash: string;
}

// A key is fresh for 24 hours on the database's clock (DESIGN §8), as idempotency_keys.
const FRESH_KEY = `created_at > now() - interval '${IDEMPOTENCY_TTL_HOURS} hours'`;

const INSERT_VERIFICATION = `INSERT INTO verifications (id, party, purpose, source, subject, verdict,
    reasons, result, receipt, created_at, idempotency_key, request_hash)`;
const VERIFICATION_VALUES = `$1::text, $2::text, $3::text, $4::text, $5::text, $6::text,
    $7::jsonb, $8::jsonb, $9::jsonb, $10::timestamptz, $11::text, $12::text`;

const INSERT_VERIFICATIONS = prepared(
  `${INSERT_VERIFICATION}
     SELECT u.id, u.party, u.purpose, u.source, u.subject, u.verdict, u.reasons::jsonb,
            u.result::jsonb, u.receipt::jsonb, u.created_at::timestamptz, NULL, NULL
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[])
       AS u(id, party, purpose, source, subject, verdict, reasons, result, receipt, created_at)`,
);

/**
 * Stores verifications without an idempotency key in one statement
 * (concurrent requests' audit rows: one round trip and one commit for all).
 */
export async function insertVerifications(
  q: Queryable,
  vs: readonly NewVerification[],
): Promise<void> {
  if (vs.length === 0) return;
  const col = <K extends keyof NewVerification>(k: K) => vs.map((v) => v[k]);
  await q.query(INSERT_VERIFICATIONS, [
    col('id'),
    col('party'),
    col('purpose'),
    col('source'),
    col('subject'),
    col('verdict'),
    vs.map((v) => js(v.reasons)),
    vs.map((v) => js(v.result)),
    vs.map((v) => js(v.receipt)),
    col('createdAt'),
  ]);
}

/**
 * Stores one verification. With an idempotency key, it first takes the key
 * in verification_idempotency, in the same statement: when a verification
 * younger than 24 hours already holds (party, key) (a replica's concurrent
 * twin, or a retry), nothing is written and false is returned. An expired
 * key is taken over, so the new verification holds it.
 */
export async function insertVerification(
  q: Queryable,
  v: NewVerification,
  idem?: VerificationIdempotency,
): Promise<boolean> {
  const sql = idem
    ? `WITH claim AS (
         INSERT INTO verification_idempotency AS k (party, key, request_hash, verification_id)
         VALUES ($2::text, $11::text, $12::text, $1::text)
         ON CONFLICT (party, key) DO UPDATE SET request_hash = excluded.request_hash,
           verification_id = excluded.verification_id, created_at = now()
           WHERE NOT (k.${FRESH_KEY})
         RETURNING 1)
       ${INSERT_VERIFICATION}
       SELECT ${VERIFICATION_VALUES} WHERE EXISTS (SELECT 1 FROM claim)
       RETURNING id`
    : `${INSERT_VERIFICATION} VALUES (${VERIFICATION_VALUES}) RETURNING id`;
  const { rows } = await q.query(sql, [
    v.id,
    v.party,
    v.purpose,
    v.source,
    v.subject,
    v.verdict,
    js(v.reasons),
    js(v.result),
    js(v.receipt),
    v.createdAt,
    idem?.key ?? null,
    idem?.requestHash ?? null,
  ]);
  return rows.length === 1;
}

/** The answer and request fingerprint of the verification holding (party, key) for 24 hours, or null. */
export async function verificationByIdempotencyKey(
  q: Queryable,
  party: string,
  key: string,
): Promise<{ requestHash: string; result: unknown } | null> {
  const { rows } = await q.query(
    `SELECT k.request_hash, v.result FROM verification_idempotency k
     JOIN verifications v ON v.id = k.verification_id
     WHERE k.party = $1::text AND k.key = $2::text AND k.${FRESH_KEY}`,
    [party, key],
  );
  const r = rows[0];
  return r ? { requestHash: r.request_hash as string, result: r.result } : null;
}

/** A stored verification, or null. */
export async function getVerification(
  q: Queryable,
  id: string,
): Promise<StoredVerification | null> {
  const { rows } = await q.query(
    `SELECT id, party, purpose, source, subject, verdict, reasons, result, receipt, created_at
     FROM verifications WHERE id = $1::text`,
    [id],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    id: r.id as string,
    party: r.party as string,
    purpose: r.purpose as string,
    source: r.source as NewVerification['source'],
    subject: r.subject as string,
    verdict: r.verdict as string,
    reasons: r.reasons,
    result: r.result,
    receipt: r.receipt,
    createdAt: iso(r.created_at),
  };
}

/** Purposes whose verification can reveal a clone (DESIGN §7 DUPLICATE_SCAN). */
export const CLONE_REVEALING_PURPOSES = ['receiving', 'dispense', 'saleable_return'] as const;

/**
 * Parties among `eligible`, other than `party`, that verified any of `subjects` after
 * `since` (exclusive; null: ever) from a scan, a subject or VRS (never a presented
 * bundle) with a clone-revealing purpose, with their first such time. DUPLICATE_SCAN
 * (DESIGN §7): everyone else's verifications are kept for audit, never counted.
 */
export async function otherVerifiers(
  q: Queryable,
  subjects: readonly string[],
  party: string,
  since: string | null,
  eligible: readonly string[],
): Promise<{ party: string; at: string }[]> {
  const { rows } = await q.query(
    `SELECT party, min(created_at) AS at FROM verifications
     WHERE subject = ANY($1::text[]) AND party <> $2::text
       AND ($3::timestamptz IS NULL OR created_at > $3::timestamptz)
       AND party = ANY($4::text[])
       AND source <> 'bundle'
       AND purpose = ANY($5::text[])
     GROUP BY party ORDER BY min(created_at)`,
    [subjects, party, since, eligible, CLONE_REVEALING_PURPOSES],
  );
  return rows.map((r) => ({ party: r.party as string, at: iso(r.at) }));
}

// ---------------------------------------------------------------------------
// Cases.

export type CaseStatus = 'open' | 'resolved';

export interface NewCase {
  id: string;
  verificationId: string;
  party: string;
  subject: string;
  verdict: 'quarantine' | 'reject';
  reasons: unknown;
  createdAt: string;
  /** from {@link nextCaseNumber} */
  caseNumber: string;
}

export interface StoredCase {
  id: string;
  /** short number for labels and phone calls, e.g. Q-26-004817 (at most 12 characters) */
  caseNumber: string;
  /** position in the list: the `?after=` cursor */
  n: number;
  verificationId: string;
  party: string;
  subject: string;
  verdict: 'quarantine' | 'reject';
  reasons: unknown;
  status: CaseStatus;
  outcome: string | null;
  note: string | null;
  resolvedBy: string | null;
  createdAt: string;
  resolvedAt: string | null;
}

const CASE_COLUMNS = `id, n, case_number, verification_id, party, subject, verdict, reasons, status, outcome, note,
  resolved_by, created_at, resolved_at`;

function toCase(r: Record<string, unknown>): StoredCase {
  return {
    id: r.id as string,
    n: Number(r.n),
    caseNumber: r.case_number as string,
    verificationId: r.verification_id as string,
    party: r.party as string,
    subject: r.subject as string,
    verdict: r.verdict as StoredCase['verdict'],
    reasons: r.reasons,
    status: r.status as CaseStatus,
    outcome: (r.outcome as string | null) ?? null,
    note: (r.note as string | null) ?? null,
    resolvedBy: (r.resolved_by as string | null) ?? null,
    createdAt: iso(r.created_at),
    resolvedAt: isoOrNull(r.resolved_at),
  };
}

/** A fresh short case number (Q-YY-NNNNNN; migration 000009), YY the UTC year of `at`. */
export async function nextCaseNumber(q: Queryable, at: string): Promise<string> {
  const { rows } = await q.query(`SELECT provenant_case_number($1::timestamptz) AS n`, [at]);
  return rows[0]!.n as string;
}

/** Opens a case. */
export async function insertCase(q: Queryable, c: NewCase): Promise<StoredCase> {
  const { rows } = await q.query(
    `INSERT INTO cases (id, verification_id, party, subject, verdict, reasons, created_at, case_number)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::timestamptz, $8::text)
     RETURNING ${CASE_COLUMNS}`,
    [
      c.id,
      c.verificationId,
      c.party,
      c.subject,
      c.verdict,
      js(c.reasons),
      c.createdAt,
      c.caseNumber,
    ],
  );
  return toCase(rows[0]!);
}

/** A case, or null. */
export async function getCase(q: Queryable, id: string): Promise<StoredCase | null> {
  const { rows } = await q.query(`SELECT ${CASE_COLUMNS} FROM cases WHERE id = $1::text`, [id]);
  return rows[0] ? toCase(rows[0]) : null;
}

/** The open case of a verification, if it opened one. */
export async function getCaseOfVerification(
  q: Queryable,
  verificationId: string,
): Promise<StoredCase | null> {
  const { rows } = await q.query(
    `SELECT ${CASE_COLUMNS} FROM cases WHERE verification_id = $1::text`,
    [verificationId],
  );
  return rows[0] ? toCase(rows[0]) : null;
}

/** A party's cases in opening order, after position `after`, at most `limit`. */
export async function listCases(
  q: Queryable,
  party: string | null,
  opts: { status?: CaseStatus; after?: number; limit: number },
): Promise<StoredCase[]> {
  const { rows } = await q.query(
    `SELECT ${CASE_COLUMNS} FROM cases
     WHERE ($1::text IS NULL OR party = $1::text)
       AND ($2::text IS NULL OR status = $2::text)
       AND n > $3::bigint
     ORDER BY n LIMIT $4::integer`,
    [party, opts.status ?? null, opts.after ?? 0, opts.limit],
  );
  return rows.map(toCase);
}

/**
 * Resolves an open case. Returns the resolved case, or null when it was not
 * open (already resolved, or unknown): the UPDATE is the check, so two racing
 * resolutions cannot both win.
 */
export async function resolveCase(
  q: Queryable,
  id: string,
  r: { outcome: string; note: string | null; by: string | null; at: string },
): Promise<StoredCase | null> {
  const { rows } = await q.query(
    `UPDATE cases SET status = 'resolved', outcome = $2::text, note = $3::text,
       resolved_by = $4::text, resolved_at = $5::timestamptz
     WHERE id = $1::text AND status = 'open'
     RETURNING ${CASE_COLUMNS}`,
    [id, r.outcome, r.note, r.by, r.at],
  );
  return rows[0] ? toCase(rows[0]) : null;
}
