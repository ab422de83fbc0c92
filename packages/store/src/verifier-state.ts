// The verifier's own verified state (DESIGN §7b, migration 000010): its cursor
// over the log, the verified state per subject, a logistic unit's children, the
// registry it built from verified notices, and its alarms. The verifier writes
// only these tables (and its verifications and cases); it reads the log.
import {
  decodeVerifiedState,
  decodeVerifiedStatus,
  fromHex,
  toHex,
  type ChainState,
  type VerifiedStatus,
} from '@provenant/core';
import type { Queryable } from './driver.js';
import { StoreMisuseError } from './errors.js';
import { bytes, hexes, iso, isoOrNull, json, num } from './sql.js';

/** Where the monitor stands: entries [0, nextIndex) are verified. */
export interface VerifierCursor {
  nextIndex: number;
  /** compact range of the verified leaf hashes, highest level first */
  frontier: Uint8Array[];
  /** newest checkpoint whose signature and recomputed root matched */
  checkpoint: { size: number; rootHash: Uint8Array; note: string } | null;
  updatedAt: string;
}

/** The cursor row (created by the migration). */
export async function getVerifierCursor(q: Queryable): Promise<VerifierCursor> {
  const { rows } = await q.query(
    `SELECT next_index, frontier, checkpoint_size, checkpoint_root, checkpoint_note, updated_at
     FROM verifier_cursor WHERE id`,
  );
  const r = rows[0]!;
  return {
    nextIndex: num(r.next_index),
    frontier: ((r.frontier as unknown[]) ?? []).map(bytes),
    checkpoint: toVerifiedCheckpoint(r),
    updatedAt: iso(r.updated_at),
  };
}

/** The cursor's checkpoint columns (checkpoint_size, _root, _note) as its checkpoint, or null. */
export function toVerifiedCheckpoint(r: Record<string, unknown>): VerifierCursor['checkpoint'] {
  return r.checkpoint_size === null
    ? null
    : {
        size: num(r.checkpoint_size),
        rootHash: bytes(r.checkpoint_root),
        note: r.checkpoint_note as string,
      };
}

/** One log entry as the monitor reads it: the leaf, its level-0 node, and the row it produced. */
export interface MonitoredLeaf {
  index: number;
  leafHash: Uint8Array;
  /** merkle_nodes (0, index), null when missing */
  nodeHash: Uint8Array | null;
  kind: string;
  entryId: string;
  /** the stored envelope text (the sequencer writes exactly JCS(envelope): the leaf hash covers these bytes) */
  envelopeText: string;
  integratedAt: string;
  receiptSignature: Uint8Array;
  /** the records or notices row stored for this leaf (null when none) */
  row: {
    id: string;
    subject: string | null;
    seq: number | null;
    prev: string | null;
    type: string;
    actor: string;
    kid: string;
    time: string;
    data: unknown;
    payload: Uint8Array;
    /** notices keep their envelope too (records do not since 000002) */
    envelope: unknown;
  } | null;
}

/**
 * A timestamptz column as `iso` writes it (RFC 3339 UTC, milliseconds), formatted by
 * the server: the monitor reads two per entry, and a Date each costs more on this side.
 */
function isoText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Leaves start <= idx < end with their node and record/notice rows, in order.
 * Each joined table carries the range too: without it the planner hashes the
 * whole records and merkle_nodes tables for every batch (cost growing with the log).
 */
export async function getMonitoredLeaves(
  q: Queryable,
  start: number,
  end: number,
): Promise<MonitoredLeaf[]> {
  const { rows } = await q.query(
    `SELECT l.idx, l.leaf_hash, m.hash AS node_hash, l.entry_kind, l.entry_id, l.envelope,
            ${isoText('l.integrated_at')} AS integrated_at, l.receipt_signature,
            coalesce(r.id, n.id) AS row_id, r.subject, r.seq, r.prev,
            coalesce(r.type, n.type) AS row_type, coalesce(r.actor, n.actor) AS row_actor,
            coalesce(r.kid, n.kid) AS row_kid, ${isoText('coalesce(r.time, n.time)')} AS row_time,
            coalesce(r.data, n.data) AS row_data,
            coalesce(r.payload, n.payload) AS row_payload,
            n.envelope AS row_envelope
     FROM log_leaves l
     LEFT JOIN merkle_nodes m ON m.level = 0 AND m.idx = l.idx
       AND m.idx >= $1::bigint AND m.idx < $2::bigint
     LEFT JOIN records r ON r.leaf_idx = l.idx
       AND r.leaf_idx >= $1::bigint AND r.leaf_idx < $2::bigint
     LEFT JOIN notices n ON n.leaf_idx = l.idx
       AND n.leaf_idx >= $1::bigint AND n.leaf_idx < $2::bigint
     WHERE l.idx >= $1::bigint AND l.idx < $2::bigint ORDER BY l.idx`,
    [start, end],
  );
  return rows.map((r) => ({
    index: num(r.idx),
    leafHash: bytes(r.leaf_hash),
    nodeHash: r.node_hash === null ? null : bytes(r.node_hash),
    kind: r.entry_kind as string,
    entryId: r.entry_id as string,
    envelopeText: r.envelope as string,
    integratedAt: r.integrated_at as string,
    receiptSignature: bytes(r.receipt_signature),
    row:
      r.row_id === null
        ? null
        : {
            id: r.row_id as string,
            subject: (r.subject as string | null) ?? null,
            seq: r.seq === null ? null : num(r.seq),
            prev: (r.prev as string | null) ?? null,
            type: r.row_type as string,
            actor: r.row_actor as string,
            kid: r.row_kid as string,
            time: r.row_time as string,
            data: r.row_data,
            payload: bytes(r.row_payload),
            envelope: r.row_envelope ?? null,
          },
  }));
}

/** Signed checkpoints with lo < size <= hi, smallest first. */
export async function getCheckpointsBetween(
  q: Queryable,
  lo: number,
  hi: number,
): Promise<{ size: number; rootHash: Uint8Array; note: string }[]> {
  const { rows } = await q.query(
    `SELECT size, root_hash, note FROM checkpoints
     WHERE size > $1::bigint AND size <= $2::bigint ORDER BY size`,
    [lo, hi],
  );
  return rows.map((r) => ({
    size: num(r.size),
    rootHash: bytes(r.root_hash),
    note: r.note as string,
  }));
}

/**
 * A subject's verified state row (migration 000015: `state` is core's
 * encodeVerifiedState bytes, decoded here). `state` is the ChainState after
 * the verified head, without children (verifier_children); null, with seq 0
 * and headIndex -1, when the subject has no verified record (an alarm only)
 * or its stored bytes do not decode (a corrupt or tampered row: the audit
 * reports it, answers fall back to the full engine).
 */
export interface VerifiedSubject {
  subject: string;
  seq: number;
  headIndex: number;
  state: ChainState | null;
  alarm: number | null;
  /** the stored bytes (null: none), for the audit's exact comparison */
  stored: Uint8Array | null;
}

/**
 * The columns a verified state is read from (with an optional table alias,
 * and a prefix for their output names when a query reads two), for queries
 * that join it: decode each row with toVerifiedSubject (same prefix).
 */
export function verifiedSubjectColumns(alias = '', prefix = ''): string {
  const a = alias ? `${alias}.` : '';
  return ['subject', 'state', 'alarm']
    .map((c) => `${a}${c}${prefix ? ` AS ${prefix}${c}` : ''}`)
    .join(', ');
}

/** A verifier_subjects row (read with verifiedSubjectColumns, same prefix) as a VerifiedSubject. */
export function toVerifiedSubject(r: Record<string, unknown>, prefix = ''): VerifiedSubject {
  const subject = r[`${prefix}subject`] as string;
  const raw = r[`${prefix}state`];
  const stored = raw === null || raw === undefined ? null : bytes(raw);
  const alarm = r[`${prefix}alarm`] === null ? null : num(r[`${prefix}alarm`]);
  if (stored !== null) {
    try {
      const v = decodeVerifiedState(subject, stored);
      return { subject, seq: v.state.seq, headIndex: v.headIndex, state: v.state, alarm, stored };
    } catch {
      // StateCodecError: kept as "no verified state"; the audit compares the bytes.
    }
  }
  return { subject, seq: 0, headIndex: -1, state: null, alarm, stored };
}

/** Verified states of these subjects (one indexed read). */
export async function getVerifiedSubjects(
  q: Queryable,
  subjects: readonly string[],
): Promise<VerifiedSubject[]> {
  if (subjects.length === 0) return [];
  const { rows } = await q.query(
    `SELECT ${verifiedSubjectColumns()} FROM verifier_subjects
     WHERE subject = ANY($1::text[])`,
    [subjects],
  );
  return rows.map((r) => toVerifiedSubject(r));
}

/** Every verified state (for the audit's comparison), in subject order, `limit` at a time. */
export async function getVerifiedSubjectsPage(
  q: Queryable,
  after: string,
  limit: number,
): Promise<VerifiedSubject[]> {
  const { rows } = await q.query(
    `SELECT ${verifiedSubjectColumns()} FROM verifier_subjects
     WHERE subject > $1::text ORDER BY subject LIMIT $2::int`,
    [after, limit],
  );
  return rows.map((r) => toVerifiedSubject(r));
}

/** The units packed in these logistic units, in one query: container -> [{subject, head}]. */
export async function getVerifiedChildren(
  q: Queryable,
  containers: readonly string[],
): Promise<Map<string, { subject: string; head: string }[]>> {
  const out = new Map<string, { subject: string; head: string }[]>();
  if (containers.length === 0) return out;
  const { rows } = await q.query(
    `SELECT container, child, head FROM verifier_children WHERE container = ANY($1::text[])`,
    [containers],
  );
  for (const r of rows) {
    const list = out.get(r.container as string) ?? [];
    list.push({ subject: r.child as string, head: toHex(bytes(r.head)) });
    out.set(r.container as string, list);
  }
  return out;
}

/**
 * verifier_children rows in (container, child) order after `after` (null: from
 * the first), `limit` at a time: the audit compares them with the replay.
 */
export async function getVerifiedChildrenPage(
  q: Queryable,
  after: { container: string; child: string } | null,
  limit: number,
): Promise<{ container: string; child: string; head: string }[]> {
  const { rows } = await q.query(
    `SELECT container, child, head FROM verifier_children
     WHERE ($1::text IS NULL OR (container, child) > ($1::text, $2::text))
     ORDER BY container, child LIMIT $3::int`,
    [after?.container ?? null, after?.child ?? null, limit],
  );
  return rows.map((r) => ({
    container: r.container as string,
    child: r.child as string,
    head: toHex(bytes(r.head)),
  }));
}

/** A key as the verified registry holds it. */
export interface VerifiedKey {
  kid: string;
  gln: string | null;
  publicKey: Uint8Array;
  registeredIndex: number;
  revocations: { index: number; compromisedAt: string }[];
  suspensions: { from: number; to: number | null }[];
}

export interface VerifiedParty {
  gln: string;
  roles: string[];
  prefixes: string[];
  status: 'active' | 'suspended';
}

/** The whole verified registry (parties and keys are few next to records). */
export async function getVerifiedRegistry(
  q: Queryable,
): Promise<{ keys: VerifiedKey[]; parties: VerifiedParty[] }> {
  const k = await q.query(
    `SELECT kid, gln, public_key, registered_index, revocations, suspensions FROM verifier_keys`,
  );
  const p = await q.query(`SELECT gln, roles, prefixes, status FROM verifier_parties`);
  return {
    keys: k.rows.map((r) => ({
      kid: r.kid as string,
      gln: (r.gln as string | null) ?? null,
      publicKey: bytes(r.public_key),
      registeredIndex: num(r.registered_index),
      revocations: r.revocations as VerifiedKey['revocations'],
      suspensions: r.suspensions as VerifiedKey['suspensions'],
    })),
    parties: p.rows.map((r) => ({
      gln: r.gln as string,
      roles: r.roles as string[],
      prefixes: r.prefixes as string[],
      status: r.status as VerifiedParty['status'],
    })),
  };
}

/** Verified keys by kid (for answers: revocations that postdate). */
export async function getVerifiedKeys(
  q: Queryable,
  kids: readonly string[],
): Promise<VerifiedKey[]> {
  if (kids.length === 0) return [];
  const { rows } = await q.query(
    `SELECT kid, gln, public_key, registered_index, revocations, suspensions FROM verifier_keys
     WHERE kid = ANY($1::text[])`,
    [kids],
  );
  return rows.map((r) => ({
    kid: r.kid as string,
    gln: (r.gln as string | null) ?? null,
    publicKey: bytes(r.public_key),
    registeredIndex: num(r.registered_index),
    revocations: r.revocations as VerifiedKey['revocations'],
    suspensions: r.suspensions as VerifiedKey['suspensions'],
  }));
}

/** An alarm to raise: what failed, where. */
export interface NewVerifierAlarm {
  logIndex: number | null;
  subject: string | null;
  code: string;
  message: string;
  foundBy: 'monitor' | 'audit';
}

export interface VerifierAlarm extends NewVerifierAlarm {
  id: number;
  raisedAt: string;
  ackedAt: string | null;
  ackedBy: string | null;
}

/**
 * Raises alarms once each (same index, code and subject: kept once). Returns
 * the ids of those newly raised, in input order, -1 for one already raised.
 */
export async function insertVerifierAlarms(
  q: Queryable,
  alarms: readonly NewVerifierAlarm[],
): Promise<number[]> {
  const out: number[] = [];
  for (const a of alarms) {
    const { rows } = await q.query(
      `INSERT INTO verifier_alarms (log_index, subject, code, message, found_by)
       VALUES ($1::bigint, $2::text, $3::text, $4::text, $5::text)
       ON CONFLICT DO NOTHING RETURNING id`,
      [a.logIndex, a.subject, a.code, a.message, a.foundBy],
    );
    out.push(rows[0] ? num(rows[0].id) : -1);
  }
  return out;
}

function toAlarm(r: Record<string, unknown>): VerifierAlarm {
  return {
    id: num(r.id),
    logIndex: r.log_index === null ? null : num(r.log_index),
    subject: (r.subject as string | null) ?? null,
    code: r.code as string,
    message: r.message as string,
    foundBy: r.found_by as VerifierAlarm['foundBy'],
    raisedAt: iso(r.raised_at),
    ackedAt: isoOrNull(r.acked_at),
    ackedBy: (r.acked_by as string | null) ?? null,
  };
}

const ALARM_COLUMNS = `id, log_index, subject, code, message, found_by, raised_at, acked_at, acked_by`;

/** Where the monitor stands, as GET /v1/verifier shows it (DESIGN §7b). */
export interface VerifierStatus {
  /** entries [0, verifiedSize) are verified */
  verifiedSize: number;
  logSize: number;
  /** when the oldest entry not verified yet was logged; null when caught up */
  oldestUnverifiedAt: string | null;
  /** the cursor's newest verified checkpoint */
  checkpoint: { size: number; rootHash: Uint8Array } | null;
  /** newest first, at most the limit asked */
  alarms: VerifierAlarm[];
}

/**
 * The cursor, the log size, the time the first unverified entry was logged
 * and the newest `limit` alarms, in one statement (one snapshot).
 */
export async function getVerifierStatus(q: Queryable, limit = 100): Promise<VerifierStatus> {
  const { rows } = await q.query(
    `SELECT c.next_index, c.checkpoint_size, c.checkpoint_root, s.size AS log_size,
            (SELECT l.integrated_at FROM log_leaves l
              WHERE l.idx = c.next_index AND c.next_index < s.size) AS oldest_unverified_at,
            (SELECT coalesce(json_agg(a ORDER BY a.id DESC), '[]'::json)
               FROM (SELECT ${ALARM_COLUMNS} FROM verifier_alarms
                     ORDER BY id DESC LIMIT $1::int) a) AS alarms
     FROM verifier_cursor c, log_state s WHERE c.id AND s.id`,
    [limit],
  );
  const r = rows[0]!;
  return {
    verifiedSize: num(r.next_index),
    logSize: num(r.log_size),
    oldestUnverifiedAt: isoOrNull(r.oldest_unverified_at),
    checkpoint:
      r.checkpoint_size === null
        ? null
        : { size: num(r.checkpoint_size), rootHash: bytes(r.checkpoint_root) },
    alarms: (r.alarms as Record<string, unknown>[]).map(toAlarm),
  };
}

/** Unacknowledged alarms (readiness of a standalone verifier). */
export async function countOpenVerifierAlarms(q: Queryable): Promise<number> {
  const { rows } = await q.query(
    `SELECT count(*)::int AS n FROM verifier_alarms WHERE acked_at IS NULL`,
  );
  return num(rows[0]!.n);
}

/** Alarms on these subjects, and alarms on no subject (the log itself), oldest first. */
export async function getSubjectAlarms(
  q: Queryable,
  subjects: readonly string[],
): Promise<VerifierAlarm[]> {
  const { rows } = await q.query(
    `SELECT ${ALARM_COLUMNS} FROM verifier_alarms
     WHERE subject = ANY($1::text[]) OR subject IS NULL ORDER BY id`,
    [subjects],
  );
  return rows.map(toAlarm);
}

/** Acknowledges an alarm; null when there is none with this id. */
export async function ackVerifierAlarm(
  q: Queryable,
  id: number,
  by: string,
): Promise<VerifierAlarm | null> {
  const { rows } = await q.query(
    `UPDATE verifier_alarms SET acked_at = coalesce(acked_at, now()), acked_by = coalesce(acked_by, $2::text)
     WHERE id = $1::bigint RETURNING ${ALARM_COLUMNS}`,
    [id, by],
  );
  return rows[0] ? toAlarm(rows[0]) : null;
}

/** An int4[] parameter as its array literal (the driver would escape every element as text). */
function intArray(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** What one monitor batch writes, together, with its cursor move. */
export interface MonitorBatchWrite {
  /** the cursor the batch started from: the write fails when another monitor moved it */
  expectedNext: number;
  next: number;
  frontier: Uint8Array[];
  checkpoint: { size: number; rootHash: Uint8Array; note: string } | null;
  /** `state`: encodeVerifiedState(state, headIndex) (seq and headIndex are inside it) */
  subjects: { subject: string; seq: number; headIndex: number; state: Uint8Array }[];
  children: { container: string; child: string; head: string }[];
  keys: VerifiedKey[];
  parties: VerifiedParty[];
  /** registry notices verified in the batch */
  notices: VerifiedNotice[];
  /** subjects to mark with an alarm id (the first one sticks) */
  alarmed: { subject: string; alarm: number }[];
}

/**
 * Moves the cursor from `expectedNext` to `next` and writes the batch's state.
 * Call inside a transaction. False (nothing written) when the cursor was not at
 * `expectedNext` (another verifier on this database got there first).
 */
export async function writeMonitorBatch(q: Queryable, b: MonitorBatchWrite): Promise<boolean> {
  const moved = await q.query(
    `UPDATE verifier_cursor SET next_index = $2::bigint,
       frontier = ARRAY(SELECT decode(x, 'hex') FROM unnest($3::text[]) WITH ORDINALITY AS t(x, o) ORDER BY o),
       checkpoint_size = coalesce($4::bigint, checkpoint_size),
       checkpoint_root = coalesce(decode($5::text, 'hex'), checkpoint_root),
       checkpoint_note = coalesce($6::text, checkpoint_note),
       updated_at = now()
     WHERE id AND next_index = $1::bigint`,
    [
      b.expectedNext,
      b.next,
      hexes(b.frontier),
      b.checkpoint?.size ?? null,
      b.checkpoint ? hexes([b.checkpoint.rootHash])[0] : null,
      b.checkpoint?.note ?? null,
    ],
  );
  if (moved.rowCount !== 1) return false;
  if (b.subjects.length > 0) {
    // In key order: concurrent writers lock rows in the same order, and index pages fill further.
    const subjects = [...b.subjects].sort((x, y) =>
      x.subject < y.subject ? -1 : x.subject > y.subject ? 1 : 0,
    );
    // The states travel as one bytea cut by their lengths: no hex text per state (2,000 a batch).
    const lengths = subjects.map((s) => s.state.length);
    const all = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    const starts = subjects.map((s) => {
      all.set(s.state, at);
      at += s.state.length;
      return at - s.state.length;
    });
    await q.query(
      `INSERT INTO verifier_subjects (subject, state)
       SELECT s, substring($2::bytea FROM o + 1 FOR n)
       FROM unnest($1::text[], $3::int4[], $4::int4[]) AS u(s, o, n)
       ON CONFLICT (subject) DO UPDATE SET state = excluded.state`,
      [subjects.map((s) => s.subject), all, intArray(starts), intArray(lengths)],
    );
  }
  if (b.children.length > 0) {
    // In key order too: a pack's children then fill index pages (pack order does not).
    const children = [...b.children].sort((x, y) =>
      x.container !== y.container
        ? x.container < y.container
          ? -1
          : 1
        : x.child < y.child
          ? -1
          : x.child > y.child
            ? 1
            : 0,
    );
    await q.query(
      `INSERT INTO verifier_children (container, child, head)
       SELECT c, k, decode(h, 'hex') FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c, k, h)
       ON CONFLICT DO NOTHING`,
      [
        children.map((c) => c.container),
        children.map((c) => c.child),
        children.map((c) => {
          // pack records carry 64 lowercase hex heads (hex64Schema): anything else is misuse
          if (fromHex(c.head)?.length !== 32)
            throw new StoreMisuseError(`child head is not a record id: ${c.head}`);
          return c.head;
        }),
      ],
    );
  }
  await putVerifiedRegistry(q, b.keys, b.parties);
  await putVerifiedNotices(q, b.notices);
  if (b.alarmed.length > 0)
    await q.query(
      `INSERT INTO verifier_subjects (subject, state, alarm)
       SELECT s, NULL, a FROM unnest($1::text[], $2::bigint[]) AS u(s, a)
       ON CONFLICT (subject) DO UPDATE SET alarm = coalesce(verifier_subjects.alarm, excluded.alarm)`,
      [b.alarmed.map((a) => a.subject), b.alarmed.map((a) => a.alarm)],
    );
  return true;
}

/**
 * Writes keys and parties of the verified registry (each row replaced by the
 * one given) and deletes the rows of `remove`: the monitor's batches, and the
 * audit putting back rows an insider changed, added or deleted (DESIGN §7b).
 */
export async function putVerifiedRegistry(
  q: Queryable,
  keys: readonly VerifiedKey[],
  parties: readonly VerifiedParty[],
  remove: { kids: readonly string[]; glns: readonly string[] } = { kids: [], glns: [] },
): Promise<void> {
  if (remove.kids.length > 0)
    await q.query(`DELETE FROM verifier_keys WHERE kid = ANY($1::text[])`, [remove.kids]);
  if (remove.glns.length > 0)
    await q.query(`DELETE FROM verifier_parties WHERE gln = ANY($1::text[])`, [remove.glns]);
  for (const k of keys)
    await q.query(
      `INSERT INTO verifier_keys (kid, gln, public_key, registered_index, revocations, suspensions)
       VALUES ($1::text, $2::text, decode($3::text, 'hex'), $4::bigint, $5::jsonb, $6::jsonb)
       ON CONFLICT (kid) DO UPDATE SET gln = excluded.gln, public_key = excluded.public_key,
         registered_index = excluded.registered_index, revocations = excluded.revocations,
         suspensions = excluded.suspensions`,
      [
        k.kid,
        k.gln,
        hexes([k.publicKey])[0],
        k.registeredIndex,
        json(k.revocations),
        json(k.suspensions),
      ],
    );
  for (const p of parties)
    await q.query(
      `INSERT INTO verifier_parties (gln, roles, prefixes, status)
       VALUES ($1::text, $2::text[], $3::text[], $4::text)
       ON CONFLICT (gln) DO UPDATE SET roles = excluded.roles, prefixes = excluded.prefixes,
         status = excluded.status`,
      [p.gln, p.roles, p.prefixes, p.status],
    );
}

/** Marks subjects with an alarm found outside a monitor batch (the audit). */
export async function markSubjectsAlarmed(
  q: Queryable,
  alarmed: readonly { subject: string; alarm: number }[],
): Promise<void> {
  if (alarmed.length === 0) return;
  await q.query(
    `INSERT INTO verifier_subjects (subject, state, alarm)
     SELECT s, NULL, a FROM unnest($1::text[], $2::bigint[]) AS u(s, a)
     ON CONFLICT (subject) DO UPDATE SET alarm = coalesce(verifier_subjects.alarm, excluded.alarm)`,
    [alarmed.map((a) => a.subject), alarmed.map((a) => a.alarm)],
  );
}

/** One record of a chain as a verification's timeline needs it (no payload, no children). */
export interface TimelineRow {
  subject: string;
  seq: number;
  type: string;
  actor: string;
  kid: string;
  time: string;
  receiptTime: string;
  index: number;
  id: string;
  to: string | null;
  from: string | null;
  shipment: string | null;
  parent: string | null;
}

/**
 * The columns of a TimelineRow, from records `r` joined to log_leaves `l`
 * (decode with toTimelineRow; timestamps may arrive as Date or as JSON text).
 */
export const TIMELINE_COLUMNS = `r.subject, r.seq, r.type, r.actor, r.kid, r.time, l.integrated_at, r.leaf_idx, r.id,
  r.data ->> 'to' AS "to", r.data ->> 'from' AS "from",
  r.data ->> 'shipment' AS shipment, r.data ->> 'parent' AS parent`;

/** A row read with TIMELINE_COLUMNS (directly, or as JSON) as a TimelineRow. */
export function toTimelineRow(r: Record<string, unknown>): TimelineRow {
  return {
    subject: r.subject as string,
    seq: num(r.seq),
    type: r.type as string,
    actor: r.actor as string,
    kid: r.kid as string,
    time: iso(r.time),
    receiptTime: iso(r.integrated_at),
    index: num(r.leaf_idx),
    id: r.id as string,
    to: (r.to as string | null) ?? null,
    from: (r.from as string | null) ?? null,
    shipment: (r.shipment as string | null) ?? null,
    parent: (r.parent as string | null) ?? null,
  };
}

/**
 * The records of these subjects logged before `below` (the verified size),
 * in log order, with their receipt times: one indexed read (records by
 * subject, log_leaves by index). Reads only the data fields a timeline shows,
 * never a pack's children.
 */
export async function getTimelineRows(
  q: Queryable,
  subjects: readonly string[],
  below: number,
): Promise<TimelineRow[]> {
  if (subjects.length === 0) return [];
  const { rows } = await q.query(
    `SELECT ${TIMELINE_COLUMNS}
     FROM records r JOIN log_leaves l ON l.idx = r.leaf_idx
     WHERE r.subject = ANY($1::text[]) AND r.leaf_idx < $2::bigint
     ORDER BY r.leaf_idx`,
    [subjects, below],
  );
  return rows.map(toTimelineRow);
}

/**
 * Whether the monitor verified a notice of `type` about one of `values` (its
 * `field`) logged before `below`: a recall of one of these GTINs, a
 * suspension of one of these parties. Reads verifier_notices, never the
 * notices table (an insider may delete its rows).
 */
export async function hasNoticeBefore(
  q: Queryable,
  type: 'recall' | 'party-suspend',
  field: 'gtin' | 'gln',
  values: readonly string[],
  below: number,
): Promise<boolean> {
  if (values.length === 0) return false;
  // `field` is a literal in the text, so the lookup uses that column's index.
  const { rows } = await q.query(
    `SELECT 1 FROM verifier_notices WHERE type = $1::text AND ${field} = ANY($2::text[]) AND log_index < $3::bigint LIMIT 1`,
    [type, values, below],
  );
  return rows.length > 0;
}

/** A registry notice the monitor verified: its log index and what it is about. */
export interface VerifiedNotice {
  index: number;
  type: string;
  gln: string | null;
  kid: string | null;
  gtin: string | null;
}

/** Lists verified notices (once each) and deletes those at `remove`: the monitor's batches, the audit's repair. */
export async function putVerifiedNotices(
  q: Queryable,
  notices: readonly VerifiedNotice[],
  remove: readonly number[] = [],
): Promise<void> {
  if (remove.length > 0)
    await q.query(`DELETE FROM verifier_notices WHERE log_index = ANY($1::bigint[])`, [remove]);
  if (notices.length === 0) return;
  await q.query(
    `INSERT INTO verifier_notices (log_index, type, gln, kid, gtin)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[])
     ON CONFLICT (log_index) DO UPDATE SET type = excluded.type, gln = excluded.gln,
       kid = excluded.kid, gtin = excluded.gtin`,
    [
      notices.map((n) => n.index),
      notices.map((n) => n.type),
      notices.map((n) => n.gln),
      notices.map((n) => n.kid),
      notices.map((n) => n.gtin),
    ],
  );
}

/** Every verified notice, in log order (the audit's comparison: notices are few next to records). */
export async function getVerifiedNotices(q: Queryable): Promise<VerifiedNotice[]> {
  const { rows } = await q.query(
    `SELECT log_index, type, gln, kid, gtin FROM verifier_notices ORDER BY log_index`,
  );
  return rows.map((r) => ({
    index: num(r.log_index),
    type: r.type as string,
    gln: (r.gln as string | null) ?? null,
    kid: (r.kid as string | null) ?? null,
    gtin: (r.gtin as string | null) ?? null,
  }));
}

/**
 * Log indexes of the verified notices below `below` that a log bundle about
 * these parties, keys and GTINs must carry (the bundle's notices, as
 * bundles.ts selects them: registrations and suspensions by GLN, key events
 * by kid, recalls by GTIN).
 */
export async function getVerifiedNoticeIndexes(
  q: Queryable,
  about: { glns: readonly string[]; kids: readonly string[]; gtins: readonly string[] },
  below: number,
): Promise<number[]> {
  const { rows } = await q.query(
    `SELECT log_index FROM verifier_notices
     WHERE log_index < $4::bigint AND (
       (type IN ('party', 'party-suspend', 'party-reinstate') AND gln = ANY($1::text[]))
       OR (type IN ('key', 'key-suspend', 'key-reinstate', 'key-revoke') AND kid = ANY($2::text[]))
       OR (type = 'recall' AND gtin = ANY($3::text[])))
     ORDER BY log_index`,
    [about.glns, about.kids, about.gtins, below],
  );
  return rows.map((r) => num(r.log_index));
}

/** Parties by GLN from the verified registry. */
export async function getVerifiedParties(
  q: Queryable,
  glns: readonly string[],
): Promise<VerifiedParty[]> {
  if (glns.length === 0) return [];
  const { rows } = await q.query(
    `SELECT gln, roles, prefixes, status FROM verifier_parties WHERE gln = ANY($1::text[])`,
    [glns],
  );
  return rows.map((r) => ({
    gln: r.gln as string,
    roles: r.roles as string[],
    prefixes: r.prefixes as string[],
    status: r.status as VerifiedParty['status'],
  }));
}

/** The walk of a logistic unit's descendants: `tree (container, child, depth)` from `$1`, `$2` levels deep. */
const DESCENDANTS_CTE = `WITH RECURSIVE tree (container, child, depth) AS (
       SELECT container, child, 1 FROM verifier_children WHERE container = $1::text
       UNION
       SELECT c.container, c.child, t.depth + 1
       FROM verifier_children c JOIN tree t ON c.container = t.child
       WHERE t.depth < $2::int
     )`;

/** A subject packed in a logistic unit, at any level, with its verified state (null: none). */
export interface VerifiedDescendant {
  container: string;
  child: string;
  verified: VerifiedSubject | null;
}

/**
 * Every subject packed in `root`, at every level (a pallet's cases and their
 * units), with its verified state: one recursive query over verifier_children
 * joined to verifier_subjects (DESIGN §7b: a pallet's units in one query).
 * `maxDepth` bounds the walk (containment is a tree; the bound only stops a cycle).
 */
export async function getVerifiedDescendants(
  q: Queryable,
  root: string,
  maxDepth = 16,
): Promise<VerifiedDescendant[]> {
  const { rows } = await q.query(
    `${DESCENDANTS_CTE}
     SELECT t.container, t.child, ${verifiedSubjectColumns('s')}
     FROM tree t LEFT JOIN LATERAL (
       -- Each state by its key (OFFSET 0): with pallets of 10,000 in
       -- verifier_children the planner expects a large tree and would hash
       -- every verified subject.
       SELECT ${verifiedSubjectColumns()} FROM verifier_subjects WHERE subject = t.child OFFSET 0
     ) s ON true`,
    [root, maxDepth],
  );
  // A pallet's 10,000 states decode in slices, so other requests run between them.
  const out: VerifiedDescendant[] = [];
  for (let i = 0; i < rows.length; i++) {
    if (i > 0 && i % DECODE_SLICE === 0) await new Promise((r) => setImmediate(r));
    const r = rows[i]!;
    out.push({
      container: r.container as string,
      child: r.child as string,
      verified: r.subject === null ? null : toVerifiedSubject(r),
    });
  }
  return out;
}

/** Verified states decoded between two turns of the event loop. */
const DECODE_SLICE = 500;

/** A subject packed in a logistic unit, at any level, with what a pallet's answer judges of it. */
export interface PackedStatus {
  container: string;
  child: string;
  /** null when it has no verified state or its stored bytes do not decode */
  status: VerifiedStatus | null;
  /** whether an alarm marks it */
  alarmed: boolean;
}

/**
 * What getVerifiedDescendants reads (the same walk, the same rows), with each
 * state read by core's decodeVerifiedStatus instead of decoded whole: one
 * aggregate row (names as text, states as one bytea), so that a pallet's
 * 10,000 units cost no row objects or buffers each. Null when a name holds the
 * separator (never a canonical subject): read getVerifiedDescendants then.
 */
export async function getPackedStatuses(
  q: Queryable,
  root: string,
  maxDepth = 16,
): Promise<PackedStatus[] | null> {
  // One Agg over one sorted input: the three aggregates list the rows in the same order.
  // Each state by its key (OFFSET 0: never a scan of every verified subject).
  const { rows } = await q.query(
    `${DESCENDANTS_CTE}
     SELECT count(*)::int AS n,
       string_agg(u.container || E'\\n' || u.child, E'\\n') AS names,
       string_agg(coalesce(u.state, ''::bytea), ''::bytea) AS states,
       string_agg(coalesce(octet_length(u.state)::text, '-') || CASE WHEN u.alarm IS NULL THEN '' ELSE '!' END,
         ',') AS sizes
     FROM (
       SELECT t.container, t.child, s.state, s.alarm FROM tree t
       LEFT JOIN LATERAL (
         SELECT state, alarm FROM verifier_subjects WHERE subject = t.child OFFSET 0
       ) s ON true
       ORDER BY t.container, t.child, t.depth
     ) u`,
    [root, maxDepth],
  );
  const r = rows[0]!;
  const n = num(r.n);
  if (n === 0) return [];
  const names = (r.names as string).split('\n');
  const sizes = (r.sizes as string).split(',');
  if (names.length !== 2 * n || sizes.length !== n) return null;
  const states = bytes(r.states);
  const out: PackedStatus[] = [];
  let at = 0;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % DECODE_SLICE === 0) await new Promise((res) => setImmediate(res));
    const size = sizes[i]!;
    const alarmed = size.endsWith('!');
    const len = size.startsWith('-') ? -1 : parseInt(size, 10);
    const child = names[2 * i + 1]!;
    let status: VerifiedStatus | null = null;
    if (len >= 0) {
      try {
        status = decodeVerifiedStatus(child, states.subarray(at, at + len));
      } catch {
        // StateCodecError: no verified state, as toVerifiedSubject keeps it
      }
      at += len;
    }
    out.push({ container: names[2 * i]!, child, status, alarmed });
  }
  return out;
}

/** What a logistic unit's answer asks of all its subjects' records and alarms (getPalletFacts). */
export interface PalletFacts extends ChainFacts {
  /** the root and its distinct descendants, as counted in this read */
  subjects: number;
  /** an alarm on one of them, or an unacknowledged one on the log itself */
  alarmed: boolean;
  /** a party-suspend notice logged before `below` for one of `actors` */
  actorSuspendedBefore: boolean;
}

/**
 * For `root` and every subject packed in it (the walk of getVerifiedDescendants,
 * done again here rather than sent back as 10,000 parameters): their records'
 * chain facts (kids, actors, latest times), whether an alarm marks one of them or an
 * unacknowledged one the log (as getSubjectAlarms), and whether one of their
 * actors was suspended before `below` (as hasNoticeBefore): one statement.
 * `subjects` lets the caller check the walk found what its own read did.
 */
export async function getPalletFacts(
  q: Queryable,
  root: string,
  below: number,
  maxDepth = 16,
): Promise<PalletFacts> {
  const { rows } = await q.query(
    `${DESCENDANTS_CTE},
     subjects AS (SELECT child AS subject FROM tree UNION SELECT $1::text),
     facts AS (
       SELECT array_agg(DISTINCT r.kid) AS kids, array_agg(DISTINCT r.actor) AS actors,
              max(r.time) AS max_time, max(r.integrated_at) AS max_receipt
       FROM subjects s CROSS JOIN LATERAL (
         -- OFFSET 0: each subject's records by its index, never a scan of the whole log
         SELECT r.kid, r.actor, r.time, l.integrated_at
         FROM records r JOIN log_leaves l ON l.idx = r.leaf_idx
         WHERE r.subject = s.subject AND r.leaf_idx < $3::bigint OFFSET 0
       ) r
     )
     SELECT (SELECT count(*)::int FROM subjects) AS n,
       EXISTS (SELECT 1 FROM verifier_alarms a
               WHERE a.subject IN (SELECT subject FROM subjects)
                  OR (a.subject IS NULL AND a.acked_at IS NULL)) AS alarmed,
       EXISTS (SELECT 1 FROM verifier_notices n
               WHERE n.type = 'party-suspend' AND n.gln = ANY(f.actors)
                 AND n.log_index < $3::bigint) AS suspended,
       f.kids, f.actors, f.max_time, f.max_receipt
     FROM facts f`,
    [root, maxDepth, below],
  );
  const r = rows[0]!;
  return {
    subjects: num(r.n),
    alarmed: r.alarmed === true,
    actorSuspendedBefore: r.suspended === true,
    kids: (r.kids as string[] | null) ?? [],
    actors: (r.actors as string[] | null) ?? [],
    maxTime: isoOrNull(r.max_time),
    maxReceiptTime: isoOrNull(r.max_receipt),
  };
}

/** What the records of these subjects logged before `below` have in common: kids, actors, latest times. */
export interface ChainFacts {
  kids: string[];
  actors: string[];
  /** latest claimed time and latest receipt time (null when no records) */
  maxTime: string | null;
  maxReceiptTime: string | null;
}

/**
 * The children of these containers in the order their pack listed them (the
 * pack record's `children`), logged before `below`: container -> subjects.
 * Reads the packs' children arrays: only when an answer must list units in
 * pack order (verifier_children keeps no order).
 */
export async function getPackOrder(
  q: Queryable,
  containers: readonly string[],
  below: number,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (containers.length === 0) return out;
  const { rows } = await q.query(
    `SELECT r.subject, c.elem ->> 'subject' AS child
     FROM records r
     CROSS JOIN LATERAL jsonb_array_elements(
       CASE WHEN jsonb_typeof(r.data -> 'children') = 'array' THEN r.data -> 'children' ELSE '[]'::jsonb END
     ) WITH ORDINALITY AS c(elem, ord)
     WHERE r.subject = ANY($1::text[]) AND r.type = 'pack' AND r.leaf_idx < $2::bigint
     ORDER BY r.leaf_idx, c.ord`,
    [containers, below],
  );
  for (const r of rows) {
    const list = out.get(r.subject as string) ?? [];
    list.push(r.child as string);
    out.set(r.subject as string, list);
  }
  return out;
}

/**
 * The stored tree nodes of `level` with index in [from, to), in index order
 * (the audit's check of the interior nodes that inclusion proofs are made of).
 */
export async function getTreeNodes(
  q: Queryable,
  level: number,
  from: number,
  to: number,
): Promise<{ index: number; hash: Uint8Array }[]> {
  const { rows } = await q.query(
    `SELECT idx, hash FROM merkle_nodes
     WHERE level = $1::smallint AND idx >= $2::bigint AND idx < $3::bigint ORDER BY idx`,
    [level, from, to],
  );
  return rows.map((r) => ({ index: num(r.idx), hash: bytes(r.hash) }));
}
