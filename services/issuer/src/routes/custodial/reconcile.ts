// Receiving reconciliation (DESIGN §7): the dock posts what it scanned for a
// shipment; each expected subject is `scanned`, `inferred` (inside a scanned
// sealed container), `missing`, or `unexpected`, and the receive records
// carry the discrepancies. The classification is a pure function here; the
// shipment lookup is the one query it needs.
import { isContainerState, type ChainState } from '@provenant/core';
import type { Queryable } from '@provenant/store';

/** How one subject of a receipt was accounted for. */
export type UnitStatus = 'scanned' | 'inferred' | 'missing' | 'unexpected';

/** One line of the reconciliation answer; `parent` for a subject inside a shipped container (its direct parent). */
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
 * scanned (duplicates ignored); `childrenOf` gives what each container inside
 * them holds (undefined: nothing), so a pallet of cases is reconciled at every
 * level (DESIGN §5: containers nest); without it only the top level's children
 * are known.
 *
 * Decisions where DESIGN §7 is silent:
 * - A container is received when it was scanned or any unit inside it was
 *   (its label may be unreadable); then it is `inferred` when not scanned
 *   itself, and its units not scanned are `inferred` if it was scanned, else
 *   `missing`. A container with nothing of it scanned is `missing`, as are its
 *   units; it stays in transit, like a missing loose unit.
 * - Nested: a subject inside is `scanned` when scanned, `inferred` when a
 *   container above it was scanned or (a case) when something inside it was,
 *   else `missing`. Only the top-level subject gets a receive record: custody
 *   of everything inside moves with it.
 * - Each receive record lists the discrepancies about its own subject (its
 *   missing units at every level; `damaged` for itself when the condition is damaged); the
 *   shipment-level ones (missing top-level subjects, unexpected scans) go on
 *   the first receive record of the receipt, so they are recorded once.
 */
export function reconcile(
  shipped: readonly ShippedSubject[],
  scanned: readonly string[],
  condition: 'ok' | 'damaged',
  childrenOf: (subject: string) => readonly string[] | undefined = () => undefined,
): Reconciliation {
  const seen = new Set(scanned);
  const expected = new Set<string>();
  const units: UnitLine[] = [];
  const receive: ToReceive[] = [];
  const shipmentLevel: Discrepancy[] = [];

  for (const { subject, state } of shipped) {
    expected.add(subject);
    if (!isContainerState(state)) {
      const got = seen.has(subject);
      units.push({ subject, status: got ? 'scanned' : 'missing' });
      if (got) receive.push({ subject, discrepancies: damaged(subject, condition) });
      else shipmentLevel.push({ subject, status: 'missing' });
      continue;
    }
    const inside = tree(
      subject,
      state.children.map((c) => c.subject),
      childrenOf,
    );
    for (const n of inside) expected.add(n.subject);
    const sealedScan = seen.has(subject);
    const anyChild = inside.some((n) => seen.has(n.subject));
    if (!sealedScan && !anyChild) {
      units.push({ subject, status: 'missing' });
      for (const n of inside)
        units.push({ subject: n.subject, status: 'missing', parent: n.parent });
      shipmentLevel.push({ subject, status: 'missing' });
      continue;
    }
    units.push({ subject, status: sealedScan ? 'scanned' : 'inferred' });
    const own = damaged(subject, condition);
    // A container counts as present when its label or anything inside it was scanned.
    const present = new Set<string>();
    for (let i = inside.length - 1; i >= 0; i--) {
      const n = inside[i]!;
      if (seen.has(n.subject) || present.has(n.subject)) present.add(n.parent);
    }
    const labelled = new Set<string>(sealedScan ? [subject] : []);
    for (const n of inside) {
      const above = labelled.has(n.parent);
      if (seen.has(n.subject) || above) labelled.add(n.subject);
      const status: UnitStatus = seen.has(n.subject)
        ? 'scanned'
        : above || present.has(n.subject)
          ? 'inferred'
          : 'missing';
      units.push({ subject: n.subject, status, parent: n.parent });
      if (status === 'missing') own.push({ subject: n.subject, status: 'missing' });
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

/**
 * Everything inside a container, parents before children, each with its direct parent.
 * Visited-checked, so a corrupt state cannot loop.
 */
function tree(
  root: string,
  children: readonly string[],
  childrenOf: (subject: string) => readonly string[] | undefined,
): { subject: string; parent: string }[] {
  const out: { subject: string; parent: string }[] = [];
  const seen = new Set([root]);
  const visit = (parent: string, list: readonly string[]) => {
    for (const c of list) {
      if (seen.has(c)) continue;
      seen.add(c);
      out.push({ subject: c, parent });
      const inner = childrenOf(c);
      if (inner && inner.length > 0) visit(c, inner);
    }
  };
  visit(root, children);
  return out;
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
