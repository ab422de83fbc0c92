// Receive mode with reconciliation (POST /v1/receipts, DESIGN §7): the scans
// of one shipment, prefilled from the first scan's ship record, confirmed in
// one signed receipt.
import type { Verdict } from '@provenant/core';
import { ProvenantError, type ReceiptResponse } from '@provenant/sdk';
import { VERDICT_TEXT } from './clerk.js';
import { byId, h } from './dom.js';
import { subjectText } from './format.js';
import { focusScan } from './modes.js';
import { isBusy } from './scan.js';
import { client, loadNames, nameOf, problemText, state, writeKey, type View } from './state.js';

export interface Arrived {
  subject: string;
  verdict?: Verdict;
  /** the verification failed (e.g. the service was unreachable) */
  failed?: boolean;
  /** the shipment it was last shipped in to us, per its chain */
  shipment?: { shipment: string; from: string } | undefined;
}

/** The items scanned for the current shipment (emptied in place, never replaced). */
export const arrived: Arrived[] = [];

/** The shipment this item was last shipped in to the signed-in party (its last ship record), if any. */
export function inboundShipment(v: View): { shipment: string; from: string } | undefined {
  const last = v.custody[v.custody.length - 1];
  const session = state.session;
  if (!session || !last || last.type !== 'ship' || last.to !== session.gln || !last.shipment)
    return undefined;
  return { shipment: last.shipment, from: last.actor };
}

/** Fills the shipment and sender from the first scan shipped to us, so the clerk need not type them. */
export function prefillShipment(s: { shipment: string; from: string } | undefined): void {
  const shipment = byId<HTMLInputElement>('shipment');
  const from = byId<HTMLInputElement>('from');
  if (!s || shipment.value.trim() || from.value.trim()) return;
  shipment.value = s.shipment;
  from.value = s.from;
  byId('receive-filled').textContent =
    `Filled in from the shipping record of the first scan: shipment ${s.shipment} from ${nameOf(s.from)}. Check it against the delivery note.`;
}

export function renderArrived(): void {
  byId('arrived-count').textContent = String(arrived.length);
  byId('arrived').replaceChildren(
    ...arrived.map((a, i) =>
      h(
        'li',
        {},
        a.verdict
          ? h('span', { class: `badge b-${a.verdict}` }, VERDICT_TEXT[a.verdict].title)
          : h('span', { class: 'badge' }, a.failed ? 'NOT CHECKED' : 'CHECKING\u2026'),
        ' ',
        subjectText(a.subject),
        arrivedNote(a),
        ' ',
        h(
          'button',
          {
            type: 'button',
            class: 'quiet small',
            'aria-label': `Remove ${subjectText(a.subject)} from this shipment`,
            onclick: () => {
              arrived.splice(i, 1);
              renderArrived();
              focusScan();
            },
          },
          'Remove',
        ),
      ),
    ),
  );
}

/** What the clerk should know about one scanned item before confirming. */
function arrivedNote(a: Arrived): string {
  if (a.failed) return ' \u2014 could not be verified: scan it again or remove it';
  if (a.verdict === 'reject')
    return ' \u2014 rejected: remove it and keep it apart, do not receive it';
  const want = byId<HTMLInputElement>('shipment').value.trim();
  if (a.verdict && want && a.shipment && a.shipment.shipment !== want)
    return ` \u2014 came in shipment ${a.shipment.shipment}, not ${want}`;
  if (a.verdict && !a.shipment) return ' \u2014 not in transit to you';
  return '';
}

/**
 * What the page shows of a receipt: the SDK's POST /v1/receipts answer, or the
 * reconciliation a 422 (nothing to receive) still carries.
 */
type Reconciliation = Pick<ReceiptResponse, 'shipment' | 'from' | 'units'> & {
  counts: Partial<Record<string, unknown>>;
};

const STATUS_WORDS: Record<string, string> = {
  scanned: 'scanned',
  inferred: 'inside a scanned sealed pallet/case',
  missing: 'MISSING: expected, not scanned',
  unexpected: 'UNEXPECTED: scanned, not in this shipment',
};

function renderReconciliation(r: Reconciliation, recorded: boolean): void {
  // The counts that are numbers (the schema keeps unknown members of a newer server).
  const c: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.counts)) if (typeof v === 'number') c[k] = v;
  const problems = (c.missing ?? 0) + (c.unexpected ?? 0);
  byId('reconciliation').replaceChildren(
    h(
      'section',
      {
        class: `recon ${problems ? 'recon-bad' : 'recon-ok'}`,
        id: 'recon',
        'aria-label': 'Reconciliation',
      },
      h(
        'h3',
        {},
        recorded
          ? `Receipt recorded for shipment ${r.shipment} from ${nameOf(r.from)}`
          : `Nothing recorded for shipment ${r.shipment}`,
      ),
      h(
        'ul',
        { class: 'counts' },
        (['expected', 'scanned', 'inferred', 'missing', 'unexpected', 'received'] as const)
          .filter((k) => c[k] !== undefined)
          .map((k) =>
            h(
              'li',
              { class: `k-${k}` },
              h('strong', {}, String(c[k])),
              // `received` counts receive records: one per loose unit or pallet/case.
              k === 'received' ? ' received (signed records)' : ` ${k}`,
            ),
          ),
      ),
      problems
        ? h(
            'p',
            {},
            [
              recorded
                ? 'Discrepancies are written into the signed receive record.'
                : 'Nothing was received.',
              c.missing ? ' Report the missing goods to the sender.' : '',
              c.unexpected
                ? ' Set unexpected goods aside: they are not part of this shipment to you.'
                : '',
            ].join(''),
          )
        : h('p', {}, 'Everything expected arrived.'),
      h(
        'ul',
        { class: 'recon-units' },
        r.units.map((u) =>
          h(
            'li',
            { class: `u-${u.status}` },
            // A status a newer service adds reads as itself.
            h('span', { class: 'st' }, STATUS_WORDS[u.status] ?? u.status),
            ' \u2014 ',
            subjectText(u.subject),
            u.parent ? ` (in ${subjectText(u.parent)})` : '',
          ),
        ),
      ),
    ),
  );
}

export async function confirmReceipt(): Promise<void> {
  const err = byId('receive-error');
  err.textContent = '';
  const shipment = byId<HTMLInputElement>('shipment').value.trim();
  const from = byId<HTMLInputElement>('from').value.trim();
  const condition = byId<HTMLSelectElement>('condition').value === 'damaged' ? 'damaged' : 'ok';
  if (!shipment) {
    err.textContent = 'Enter the shipment id (the ASN number on the delivery note).';
    byId('shipment').focus();
    return;
  }
  if (!/^\d{13}$/.test(from)) {
    err.textContent = 'The sender GLN is 13 digits.';
    byId('from').focus();
    return;
  }
  if (arrived.length === 0) {
    err.textContent = 'Scan what arrived first.';
    focusScan();
    return;
  }
  if (isBusy() || arrived.some((a) => !a.verdict && !a.failed)) {
    err.textContent = 'Wait until every scan has its verdict, then confirm.';
    return;
  }
  const unchecked = arrived.filter((a) => a.failed);
  if (unchecked.length > 0) {
    err.textContent = `Not verified yet: ${unchecked.map((a) => subjectText(a.subject)).join('; ')}. Scan it again or remove it.`;
    return;
  }
  // REJECT means "do not accept it": the page never takes custody of rejected goods.
  const rejected = arrived.filter((a) => a.verdict === 'reject');
  if (rejected.length > 0) {
    err.textContent = `Rejected goods cannot be received: ${rejected.map((a) => subjectText(a.subject)).join('; ')}. Remove them from this shipment and keep them apart as evidence; they will be recorded as missing.`;
    return;
  }
  const btn = byId<HTMLButtonElement>('receive-confirm');
  btn.disabled = true;
  try {
    await loadNames([from]);
    const r = await client().receive(
      { shipment, from, scanned: arrived.map((a) => a.subject), condition },
      writeKey(),
    );
    renderReconciliation(r, true);
    arrived.length = 0;
    // The next scan fills in its own shipment; the reconciliation stays on screen.
    byId<HTMLInputElement>('shipment').value = '';
    byId<HTMLInputElement>('from').value = '';
    byId('receive-filled').textContent = '';
    renderArrived();
  } catch (x) {
    // 422 nothing-to-receive still carries the reconciliation: show it.
    const body = x instanceof ProvenantError ? x.problem : null;
    if (body && Array.isArray(body.units) && body.counts)
      renderReconciliation(
        {
          shipment,
          from,
          units: body.units as Reconciliation['units'],
          counts: body.counts as Record<string, number>,
        },
        false,
      );
    err.textContent =
      x instanceof ProvenantError && x.status === 404
        ? `No shipment ${shipment} from GLN ${from} to you is known. Check the delivery note.`
        : problemText(x);
  } finally {
    btn.disabled = false;
    // The reconciliation is announced (aria-live); the scanner stays ready.
    focusScan();
  }
}

export function resetReceive(): void {
  arrived.length = 0;
  renderArrived();
  byId('reconciliation').replaceChildren();
  byId('receive-error').textContent = '';
  byId<HTMLInputElement>('shipment').value = '';
  byId<HTMLInputElement>('from').value = '';
  byId('receive-filled').textContent = '';
  byId('shipment').focus();
}
