// The verifier's tables (db/migrations/000003_verifier.sql): verifications, an
// append-only audit of every verdict, and quarantine cases. The only tables
// the verifier writes (STYLE rule 8). Parameterised SQL with explicit casts.
import type { Queryable } from '@provenant/store';

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

/** Stores one verification. */
export async function insertVerification(q: Queryable, v: NewVerification): Promise<void> {
  await q.query(
    `INSERT INTO verifications (id, party, purpose, source, subject, verdict, reasons, result, receipt, created_at)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb, $8::jsonb, $9::jsonb, $10::timestamptz)`,
    [
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
    ],
  );
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

/**
 * Parties other than `party` that verified any of `subjects` after `since` (exclusive;
 * null: ever), with their first such time. DUPLICATE_SCAN (DESIGN §7).
 */
export async function otherVerifiers(
  q: Queryable,
  subjects: readonly string[],
  party: string,
  since: string | null,
): Promise<{ party: string; at: string }[]> {
  const { rows } = await q.query(
    `SELECT party, min(created_at) AS at FROM verifications
     WHERE subject = ANY($1::text[]) AND party <> $2::text
       AND ($3::timestamptz IS NULL OR created_at > $3::timestamptz)
     GROUP BY party ORDER BY min(created_at)`,
    [subjects, party, since],
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
}

export interface StoredCase {
  id: string;
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

const CASE_COLUMNS = `id, n, verification_id, party, subject, verdict, reasons, status, outcome, note,
  resolved_by, created_at, resolved_at`;

function toCase(r: Record<string, unknown>): StoredCase {
  return {
    id: r.id as string,
    n: Number(r.n),
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

/** Opens a case. */
export async function insertCase(q: Queryable, c: NewCase): Promise<StoredCase> {
  const { rows } = await q.query(
    `INSERT INTO cases (id, verification_id, party, subject, verdict, reasons, created_at)
     VALUES ($1::text, $2::text, $3::text, $4::text, $5::text, $6::jsonb, $7::timestamptz)
     RETURNING ${CASE_COLUMNS}`,
    [c.id, c.verificationId, c.party, c.subject, c.verdict, js(c.reasons), c.createdAt],
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
