// BUNDLE_DIVERGES (DESIGN §7, §8a POST /v1/bundles/verify): a bundle handed
// over by a shipper is compared, entry by entry, with what the log holds.
// A difference is any of:
//  - an entry whose envelope, leaf hash, receipt time or receipt signature
//    differs from the log's leaf at its index ("different envelope at an index");
//  - an entry at an index the log does not have ("extra records the log lacks");
//  - a record of one of the bundle's chains that the log has and the bundle
//    lacks, or a revocation, suspension or recall notice about the bundle's
//    parties, keys or GTINs that the log has and the bundle lacks ("missing
//    records the log has": a shipper must not hide a later decommission,
//    a recall or a key compromise by handing over an older bundle).
// Newer registrations (a party's new key) and recalls of lots the bundle does
// not hold are not differences: they cannot change its verdict.
import { canonicalize, toHex, type Bundle, type BundleFrame } from '@provenant/core';
import type { Queryable } from '@provenant/store';
import { entryPayload } from './log-entries.js';

/** Notice types whose absence could turn a verdict into accept. */
const VERDICT_NOTICES = new Set(['key-revoke', 'key-suspend', 'party-suspend', 'recall']);

interface LogLeaf {
  leafHash: string;
  integratedAt: string;
  signature: string;
}

const encoder = new TextEncoder();

function leafHashHex(envelope: unknown, sha256: (b: Uint8Array) => Uint8Array): string | null {
  let json: string;
  try {
    json = canonicalize(envelope);
  } catch {
    return null;
  }
  const body = encoder.encode(json);
  const buf = new Uint8Array(body.length + 1);
  buf[0] = 0x00; // RFC 9162 §2.1.1 leaf prefix (DESIGN §6)
  buf.set(body, 1);
  return toHex(sha256(buf));
}

interface Payload {
  type?: unknown;
  data?: { gtin?: unknown; lot?: unknown };
}

/** The decoded payload of a log entry (the log's own, so well formed), or null. */
function payloadOf(envelope: { payload: string }): Payload | null {
  return entryPayload(envelope) as Payload | null;
}

/** GTIN -> lots commissioned in the log's bundle: a recall of another lot changes nothing. */
function lotsOf(log: Bundle): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const list of Object.values(log.chains)) {
    const p = list[0] ? payloadOf(list[0].envelope) : null;
    if (p?.type !== 'commission') continue;
    const { gtin, lot } = p.data ?? {};
    if (typeof gtin !== 'string' || typeof lot !== 'string') continue;
    const lots = out.get(gtin) ?? new Set<string>();
    lots.add(lot);
    out.set(gtin, lots);
  }
  return out;
}

/** Whether a notice the bundle lacks could change its verdict. */
function decisive(p: Payload | null, lots: Map<string, Set<string>>): boolean {
  if (p === null || typeof p.type !== 'string' || !VERDICT_NOTICES.has(p.type)) return false;
  if (p.type !== 'recall') return true;
  const { gtin, lot } = p.data ?? {};
  const known = typeof gtin === 'string' ? lots.get(gtin) : undefined;
  return known !== undefined && (lot === undefined || (typeof lot === 'string' && known.has(lot)));
}

/** Stored leaves at these indexes (receipt columns only). */
async function leavesAt(q: Queryable, indexes: number[]): Promise<Map<number, LogLeaf>> {
  const out = new Map<number, LogLeaf>();
  if (indexes.length === 0) return out;
  const { rows } = await q.query(
    `SELECT idx, leaf_hash, integrated_at, receipt_signature FROM log_leaves
     WHERE idx = ANY($1::bigint[])`,
    [indexes],
  );
  for (const r of rows) {
    const at =
      r.integrated_at instanceof Date ? r.integrated_at : new Date(String(r.integrated_at));
    out.set(Number(r.idx), {
      leafHash: toHex(r.leaf_hash as Uint8Array),
      integratedAt: at.toISOString(),
      signature: Buffer.from(r.receipt_signature as Uint8Array).toString('base64'),
    });
  }
  return out;
}

/**
 * Compares a presented bundle (its frame already checked by core's
 * checkBundleFrame; envelopes still attacker-controlled) with the log.
 * Returns a message describing the differences, or null when there is none.
 * `log` is the log's own bundle of the same subject at its latest checkpoint.
 */
export async function bundleDivergence(
  q: Queryable,
  frame: BundleFrame,
  log: Bundle | null,
  sha256: (b: Uint8Array) => Uint8Array,
): Promise<string | null> {
  const problems: string[] = [];
  const logLeaves = new Map<number, LogLeaf>();
  if (log) {
    for (const list of Object.values(log.chains))
      for (const e of list) logLeaves.set(e.receipt.index, e.receipt);
    for (const e of log.notices) logLeaves.set(e.receipt.index, e.receipt);
  }

  const presented = [...frame.chains.flatMap(([, list]) => list), ...frame.notices];
  const seen = new Set<number>();
  const unknown = presented.filter((e) => !logLeaves.has(e.receipt.index));
  const more = await leavesAt(q, [...new Set(unknown.map((e) => e.receipt.index))]);
  for (const e of presented) {
    const r = e.receipt;
    seen.add(r.index);
    const stored = logLeaves.get(r.index) ?? more.get(r.index);
    if (!stored) {
      problems.push(`${e.where}: the log has no entry at index ${r.index}`);
      continue;
    }
    const leaf = leafHashHex(e.envelope, sha256);
    if (leaf !== stored.leafHash || r.leafHash !== stored.leafHash)
      problems.push(`${e.where}: the envelope differs from the log's entry at index ${r.index}`);
    else if (r.integratedAt !== stored.integratedAt || r.signature !== stored.signature)
      problems.push(`${e.where}: the receipt differs from the log's receipt at index ${r.index}`);
  }

  if (log) {
    for (const [s, list] of Object.entries(log.chains))
      for (const e of list)
        if (!seen.has(e.receipt.index))
          problems.push(
            `the log has a record of ${s} at index ${e.receipt.index} that the bundle lacks`,
          );
    const lots = lotsOf(log);
    for (const e of log.notices) {
      if (seen.has(e.receipt.index)) continue;
      const p = payloadOf(e.envelope);
      if (decisive(p, lots))
        problems.push(
          `the log has a ${String(p!.type)} notice at index ${e.receipt.index} that the bundle lacks`,
        );
    }
  } else if (presented.length > 0) {
    problems.push(`the log has no chain for ${frame.subject}`);
  }

  if (problems.length === 0) return null;
  const shown = problems.slice(0, 3).join('; ');
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more differences` : shown;
}
