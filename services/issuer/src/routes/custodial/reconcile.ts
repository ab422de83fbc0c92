// Receiving reconciliation (DESIGN §7): the dock posts what it scanned for a
// shipment; each expected subject is `scanned`, `inferred` (inside a scanned
// sealed container), `missing`, or `unexpected`, and the receive records
// carry the discrepancies. The classification is a pure function here; the
// shipment lookup is the one query it needs.
import type { ChainState } from '@provenant/core';
import type { Queryable } from '@provenant/store';

/** How one subject of a receipt was accounted for. */
export type UnitStatus = 'scanned' | 'inferred' | 'missing' | 'unexpected';

/** One line of the reconciliation answer; `parent` for a unit inside a shipped container. */
export interface UnitLine {
  subject: string;
  status: UnitStatus;
  parent?: string;
}

/** A discrepancy as the receive record carries it (DESIGN §5 receive data). */
export interface Discrepancy {
  subject: string;
  status: 'missing' | 'unexpected' | 'damaged';
}

/** A subject shipped under the shipment and still in transit to the receiver. */
export interface ShippedSubject {
  subject: string;
  /** Its state now: in transit, opened by the ship record of this shipment. */
  state: ChainState;
}

/** A top-level subject to receive, and the discrepancies its receive record carries. */
export interface ToReceive {
  subject: string;
  discrepancies: Discrepancy[];
}

export interface Reconciliation {
  units: UnitLine[];
  counts: Record<UnitStatus | 'expected', number>;
  receive: ToReceive[];
}

/**
 * Classifies a receipt. `shipped` are the shipment's top-level subjects still
 * in transit (in shipment order); `scanned` the canonical subjects the dock
 * scanned (duplicates ignored).
 *
 * Decisions where DESIGN §7 is silent:
 * - A container is received when it was scanned or any unit inside it was
 *   (its label may be unreadable); then it is `inferred` when not scanned
 *   itself, and its units not scanned are `inferred` if it was scanned, else
 *   `missing`. A container with nothing of it scanned is `missing`, as are its
 *   units; it stays in transit, like a missing loose unit.
 * - Each receive record lists the discrepancies about its own subject (its
 *   missing units; `damaged` for itself when the condition is damaged); the
 *   shipment-level ones (missing top-level subjects, unexpected scans) go on
 *   the first receive record of the receipt, so they are recorded once.
 */
export function reconcile(
  shipped: readonly ShippedSubject[],
  scanned: readonly string[],
  condition: 'ok' | 'damaged',
): Reconciliation {
  const seen = new Set(scanned);
  const expected = new Set<string>();
  const units: UnitLine[] = [];
  const receive: ToReceive[] = [];
  const shipmentLevel: Discrepancy[] = [];

  for (const { subject, state } of shipped) {
    expected.add(subject);
    if (state.kind !== 'container') {
      const got = seen.has(subject);
      units.push({ subject, status: got ? 'scanned' : 'missing' });
      if (got) receive.push({ subject, discrepancies: damaged(subject, condition) });
      else shipmentLevel.push({ subject, status: 'missing' });
      continue;
    }
    const sealedScan = seen.has(subject);
    const children = state.children.map((c) => c.subject);
    for (const c of children) expected.add(c);
    const anyChild = children.some((c) => seen.has(c));
    if (!sealedScan && !anyChild) {
      units.push({ subject, status: 'missing' });
      for (const c of children) units.push({ subject: c, status: 'missing', parent: subject });
      shipmentLevel.push({ subject, status: 'missing' });
      continue;
    }
    units.push({ subject, status: sealedScan ? 'scanned' : 'inferred' });
    const own = damaged(subject, condition);
    for (const c of children) {
      const status: UnitStatus = seen.has(c) ? 'scanned' : sealedScan ? 'inferred' : 'missing';
      units.push({ subject: c, status, parent: subject });
      if (status === 'missing') own.push({ subject: c, status: 'missing' });
    }
    receive.push({ subject, discrepancies: own });
  }

  for (const s of seen) {
    if (expected.has(s)) continue;
    units.push({ subject: s, status: 'unexpected' });
    shipmentLevel.push({ subject: s, status: 'unexpected' });
  }
  if (receive.length > 0 && shipmentLevel.length > 0)
    receive[0]!.discrepancies.push(...shipmentLevel);

  const counts = { expected: 0, scanned: 0, inferred: 0, missing: 0, unexpected: 0 };
  for (const u of units) {
    counts[u.status]++;
    if (u.status !== 'unexpected') counts.expected++;
  }
  return { units, counts, receive };
}

function damaged(subject: string, condition: 'ok' | 'damaged'): Discrepancy[] {
  return condition === 'damaged' ? [{ subject, status: 'damaged' }] : [];
}

/** A ship record of a shipment: its id and subject, in log order. */
export interface ShipmentLine {
  id: string;
  subject: string;
}

/**
 * The ship records of shipment `shipment` by `from` addressed to `to`, in log
 * order (records_shipment_idx serves the shipment filter).
 */
export async function findShipmentLines(
  q: Queryable,
  shipment: string,
  from: string,
  to: string,
): Promise<ShipmentLine[]> {
  const { rows } = await q.query<{ id: string; subject: string }>(
    `SELECT r.id, r.subject FROM records r
     WHERE (r.data ->> 'shipment') = $1::text AND r.type = 'ship'
       AND r.actor = $2::text AND (r.data ->> 'to') = $3::text
     ORDER BY r.leaf_idx`,
    [shipment, from, to],
  );
  return rows;
}
