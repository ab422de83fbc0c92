// The verdict area and this session's history: every scan replaces the area
// at once (CHECKING, NOT READ, NO VERDICT or the verdict); a verdict shows its
// reasons in plain words, the case number (large, printable as a label), the
// product, the units of a pallet and the custody timeline.
import { REASONS, type Reason } from '@provenant/core';
import { Gs1Error } from '@provenant/gs1';
import { clerkDate, clerkSentence, glnsIn, notReadSentence, VERDICT_TEXT } from './clerk.js';
import { byId, h } from './dom.js';
import { feedback } from './feedback.js';
import { subjectText, timeText, TYPE_WORDS } from './format.js';
import { parseHere } from './scan.js';
import {
  client,
  loadNames,
  nameOf,
  problemText,
  type Product,
  type Shown,
  type View,
} from './state.js';

const HISTORY_KEY = 'provenant.dock.history';
const shown: Shown[] = [];

/** The previous verdict must never stand for the code just scanned: show what is being checked. */
export function showPending(subject: string): void {
  const out = byId('result');
  out.className = 'result v-pending';
  out.setAttribute('aria-busy', 'true');
  out.replaceChildren(
    h(
      'div',
      { class: 'banner' },
      h('p', { class: 'verdict', id: 'verdict' }, 'CHECKING\u2026'),
      h('p', { class: 'subject' }, subjectText(subject)),
    ),
  );
}

export function showNoVerdict(subject: string, why: string): void {
  const out = byId('result');
  out.className = 'result v-none';
  out.removeAttribute('aria-busy');
  out.replaceChildren(
    h(
      'div',
      { class: 'banner' },
      h('p', { class: 'verdict', id: 'verdict' }, 'NO VERDICT'),
      h('p', { class: 'action' }, why),
      h('p', { class: 'subject' }, subjectText(subject)),
    ),
  );
  // No verdict is not an accept: the clerk hears the scan-again tone.
  feedback('notread');
}

/** An unreadable scan: a large grey NOT READ / SCAN AGAIN panel, never the previous verdict. */
export function showNotRead(input: string, err: Gs1Error): void {
  const out = byId('result');
  out.className = 'result v-notread';
  out.removeAttribute('aria-busy');
  out.replaceChildren(
    h(
      'div',
      { class: 'banner', role: 'group', 'aria-label': 'Not read: scan again' },
      h('p', { class: 'verdict', id: 'verdict' }, 'NOT READ'),
      h('p', { class: 'again' }, 'SCAN AGAIN'),
      h('p', { class: 'action', id: 'notread-why' }, notReadSentence(err.code)),
      h(
        'p',
        { class: 'subject' },
        'Scanned: ',
        h('code', {}, input.replace(/\x1d/g, '<GS>').slice(0, 120)),
        ' ',
        h('code', { class: 'code' }, err.code),
      ),
    ),
  );
  feedback('notread');
}

function timeline(v: View): HTMLElement {
  const list = v.custody;
  if (list.length === 0) return h('p', { class: 'hint' }, 'No custody records.');
  return h(
    'ol',
    { class: 'timeline', 'aria-label': 'Custody timeline, oldest first' },
    list.map((e, i) => {
      let what = `${TYPE_WORDS[e.type] ?? e.type} by ${nameOf(e.actor)}`;
      if (e.type === 'ship' && e.to) what += ` to ${nameOf(e.to)}`;
      if (e.type === 'receive' && e.from) what += ` from ${nameOf(e.from)}`;
      if (e.shipment) what += `, shipment ${e.shipment}`;
      let signed = `signed by ${nameOf(e.actor)}`;
      if (e.type === 'receive') {
        const ship = list
          .slice(0, i)
          .reverse()
          .find((x) => x.type === 'ship' && x.shipment === e.shipment);
        if (ship)
          signed = `handoff signed by both sides: ${nameOf(ship.actor)} and ${nameOf(e.actor)}`;
      } else if (
        e.type === 'ship' &&
        !list.slice(i + 1).some((x) => x.type === 'receive' && x.shipment === e.shipment)
      )
        signed += '; in transit, awaiting the receiver\u2019s signature';
      return h(
        'li',
        { class: `t-${e.type}` },
        h('span', { class: 'when' }, timeText(e.time)),
        h('span', { class: 'what' }, what),
        e.subject !== v.subject
          ? h('span', { class: 'via' }, ` (as part of ${subjectText(e.subject)})`)
          : null,
        h('span', { class: 'sig' }, `\u2713 ${signed}`),
      );
    }),
  );
}

function reasonList(reasons: readonly Reason[], v: View, label: string): HTMLElement {
  return h(
    'ul',
    { class: 'reasons', 'aria-label': label },
    reasons.map((r) =>
      h(
        'li',
        {},
        h(
          'span',
          { class: 'sentence' },
          clerkSentence(r, { product: v.product, custody: v.custody, name: nameOf }),
        ),
        ' ',
        h('code', { class: 'code', title: r.message }, r.code),
      ),
    ),
  );
}

function productBlock(v: View): HTMLElement | null {
  const p = v.product;
  if (!p) return null;
  const row = (k: string, val: string) => [h('dt', {}, k), h('dd', {}, val)];
  return h(
    'section',
    { class: 'product', 'aria-label': 'Product' },
    h('h3', {}, 'Product'),
    h(
      'dl',
      {},
      row('Name', p.name ?? '\u2014 (not given by the manufacturer)'),
      row('GTIN', p.gtin),
      row('Serial', p.serial),
      row('Lot', p.lot),
      row('Expiry', clerkDate(p.expiry)),
    ),
  );
}

function unitsBlock(v: View): HTMLElement | null {
  const u = v.units;
  if (!u) return null;
  return h(
    'section',
    { class: 'units', 'aria-label': 'Units in this pallet or case' },
    h('h3', {}, `Units inside: ${u.total}`),
    h(
      'ul',
      { class: 'counts' },
      (['accept', 'quarantine', 'reject'] as const).map((k) =>
        h(
          'li',
          { class: `c-${k}` },
          h('strong', {}, String(u.counts[k])),
          ` ${VERDICT_TEXT[k].title.toLowerCase()}`,
        ),
      ),
    ),
    u.failing.length > 0
      ? h(
          'details',
          { open: true },
          h('summary', {}, `Failing units (${u.failing.length})`),
          h(
            'ul',
            { class: 'failing' },
            u.failing.map((f) =>
              h(
                'li',
                { class: `f-${f.verdict}` },
                h('span', { class: 'badge' }, VERDICT_TEXT[f.verdict].title),
                ' ',
                subjectText(f.subject),
                reasonList(
                  f.reasons,
                  { ...v, product: null, custody: [] },
                  `Reasons for ${f.subject}`,
                ),
              ),
            ),
          ),
        )
      : v.verdict === 'accept'
        ? h('p', {}, 'Every unit inside checks out.')
        : h(
            'p',
            {},
            'No unit inside has a finding of its own: the verdict comes from the findings above.',
          ),
  );
}

/** What the label says the goods are: the product's name and identifiers, or the pallet/case. */
function productLine(v: View): string {
  const p = v.product;
  if (!p) return subjectText(v.subject);
  const name = p.name ?? productName(p);
  return `${name ? `${name} \u00b7 ` : ''}GTIN ${p.gtin} \u00b7 serial ${p.serial} \u00b7 lot ${p.lot} \u00b7 expiry ${clerkDate(p.expiry)}`;
}

/** The label printed for the goods (print stylesheet): case number, product, reason, date. */
function printLabel(v: View, number: string): HTMLElement {
  const first = v.reasons[0];
  const row = (k: string, val: string) => [h('dt', {}, k), h('dd', {}, val)];
  return h(
    'section',
    { class: 'print-label', id: 'label', 'aria-label': 'Label to print' },
    h(
      'p',
      { class: 'label-title' },
      v.verdict === 'reject' ? 'REJECTED \u2014 DO NOT USE' : 'QUARANTINE \u2014 DO NOT USE',
    ),
    h('p', { class: 'label-number' }, number),
    h(
      'dl',
      {},
      row('Product', productLine(v)),
      row(
        'Reason',
        first
          ? `${v.reasons.map((r) => r.code).join(', ')} \u2014 ${REASONS[first.code]?.description ?? first.message}`
          : VERDICT_TEXT[v.verdict].title,
      ),
      row('Date', timeText(v.verifiedAt ?? new Date().toISOString())),
    ),
  );
}

/**
 * The quarantine case a verdict opened at receiving (DESIGN §7): its short
 * number large, to write on the goods or print as a label; details on demand.
 */
function caseBlock(v: View, c: { id: string; status: string }): HTMLElement {
  const number = v.caseNumber ?? c.id;
  const details = h('div', { class: 'case-details', 'aria-live': 'polite' });
  return h(
    'div',
    { class: 'case', id: 'case' },
    h('p', { class: 'casenum-label' }, 'Case number'),
    h('p', { class: 'casenum', id: 'case-number' }, number),
    h(
      'p',
      {},
      `Quarantine case ${number} is ${c.status}. Write this number on the goods or print the label, and set them aside; your quality team resolves it.`,
    ),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', id: 'print-label', onclick: () => window.print() },
        'Print label',
      ),
      h(
        'button',
        {
          type: 'button',
          id: 'case-details-go',
          class: 'quiet',
          onclick: async () => {
            try {
              const k = await client().getCase(c.id);
              details.replaceChildren(
                h(
                  'p',
                  {},
                  `Opened ${timeText(k.createdAt)} for a ${k.verdict} verdict (${k.reasons.map((r) => r.code).join(', ')}); status: ${k.status}.`,
                ),
              );
            } catch (x) {
              details.replaceChildren(h('p', { class: 'error' }, problemText(x)));
            }
          },
        },
        'Show case details',
      ),
    ),
    details,
    printLabel(v, number),
  );
}

/** The product name the manufacturer gave on commission (DESIGN §5 commission `product`). */
function productName(p: Product): string | undefined {
  const name = p.details?.['name'];
  return typeof name === 'string' && name.length > 0 ? name.slice(0, 256) : undefined;
}

/** Offline, a bundle for another product: name both, the one in hand and the one in the file. */
function mismatchNote(s: Shown): HTMLElement | null {
  if (!s.view.reasons.some((r) => r.code === 'SUBJECT_MISMATCH')) return null;
  const scanned = parseHere(s.scanned);
  return h(
    'p',
    { class: 'mismatch', id: 'mismatch' },
    `You scanned ${scanned instanceof Gs1Error ? s.scanned : subjectText(scanned.subject)}; the bundle file is for ${subjectText(s.view.subject)}.`,
  );
}

/** Shows a verdict; `display` false only records it (a newer scan owns the verdict area). */
export async function show(s: Shown, record = true, display = true): Promise<void> {
  const v = s.view;
  if (v.product && v.product.name === undefined) {
    const name = productName(v.product);
    if (name) v.product = { ...v.product, name };
  }
  if (!s.offline) {
    const glns = new Set<string>();
    for (const e of v.custody) {
      glns.add(e.actor);
      if (e.to) glns.add(e.to);
      if (e.from) glns.add(e.from);
    }
    for (const r of [...v.reasons, ...(v.units?.failing.flatMap((f) => f.reasons) ?? [])])
      for (const g of glnsIn(r.message)) glns.add(g);
    await loadNames(glns);
  }
  if (record) feedback(v.verdict);
  if (!display) {
    if (record) addHistory(s);
    return;
  }
  const t = VERDICT_TEXT[v.verdict];
  const out = byId('result');
  out.className = `result v-${v.verdict}`;
  out.removeAttribute('aria-busy');
  const parts: (HTMLElement | null)[] = [
    h(
      'div',
      { class: 'banner', role: 'group', 'aria-label': `Verdict: ${t.title}` },
      h('p', { class: 'verdict', id: 'verdict' }, t.title),
      h('p', { class: 'action' }, t.action),
      h('p', { class: 'subject' }, subjectText(v.subject)),
      s.offline ? mismatchNote(s) : null,
      s.offline
        ? h(
            'p',
            { class: 'offline-note', id: 'offline-note' },
            `Verified offline in this browser from the bundle file${
              v.checkpoint ? ` (log checkpoint of ${v.checkpoint.size} entries)` : ''
            }. Not checked against the live service: recheck online when you can.`,
          )
        : null,
    ),
    v.case ? caseBlock(v, v.case) : null,
    v.reasons.length > 0
      ? h(
          'section',
          { 'aria-label': 'Reasons' },
          h('h3', {}, 'Why'),
          reasonList(v.reasons, v, 'Reasons'),
        )
      : h(
          'p',
          { class: 'allgood' },
          'No findings: signatures, custody chain, log proof and product status all check out.',
        ),
    unitsBlock(v),
    productBlock(v),
    h('section', { 'aria-label': 'Custody' }, h('h3', {}, 'Custody: who held it'), timeline(v)),
    h(
      'p',
      { class: 'meta' },
      `Status: ${v.status.replace('_', ' ')}; custodian: ${v.custodian ? nameOf(v.custodian) : '\u2014'}.`,
      v.receipt
        ? ` Verification ${v.id ?? ''} at ${timeText(v.receipt.verifiedAt)}, receipt signed by verifier key ${v.receipt.kid}.`
        : '',
    ),
  ];
  out.replaceChildren(...parts.filter((p): p is HTMLElement => p !== null));
  if (record) addHistory(s);
}

function addHistory(s: Shown): void {
  shown.push(s);
  saveHistory();
  renderHistory();
}

/** Keeps the history across a reload of this tab: the newest verdicts in full, as many as fit. */
function saveHistory(): void {
  const all = shown.map((x) => ({ ...x, at: x.at.toISOString() }));
  for (const keep of [50, 10, 1]) {
    try {
      sessionStorage.setItem(HISTORY_KEY, JSON.stringify(all.slice(-keep)));
      return;
    } catch {
      // Over the storage quota (a large pallet): keep fewer.
    }
  }
}

export function loadHistory(): void {
  try {
    const raw = JSON.parse(sessionStorage.getItem(HISTORY_KEY) ?? '[]') as unknown;
    if (!Array.isArray(raw)) return;
    for (const x of raw as { at?: unknown; offline?: unknown; scanned?: unknown; view?: View }[]) {
      const v = x.view;
      if (
        !v ||
        !(v.verdict in VERDICT_TEXT) ||
        typeof v.subject !== 'string' ||
        !Array.isArray(v.reasons) ||
        !Array.isArray(v.custody) ||
        typeof x.at !== 'string'
      )
        continue;
      shown.push({
        view: v,
        offline: x.offline === true,
        scanned: String(x.scanned ?? ''),
        at: new Date(x.at),
      });
    }
  } catch {
    // A damaged history starts afresh.
  }
  renderHistory();
}

function renderHistory(): void {
  byId('history-empty').hidden = shown.length > 0;
  byId('history').replaceChildren(
    ...shown
      .map((s, i) =>
        h(
          'li',
          { class: `h-${s.view.verdict}` },
          h(
            'button',
            {
              type: 'button',
              class: 'hist',
              onclick: () => void show(shown[i]!, false),
            },
            h('span', { class: 'badge' }, VERDICT_TEXT[s.view.verdict].title),
            h('span', { class: 'hs' }, subjectText(s.view.subject)),
            h(
              'span',
              { class: 'ht' },
              `${s.at.toTimeString().slice(0, 8)}${s.offline ? ' \u00b7 offline' : ''}`,
            ),
            // The visible words are the name's start (WCAG 2.5.3); the rest says what a tap does.
            h('span', { class: 'sr-only' }, '. Show again.'),
          ),
        ),
      )
      .reverse(),
  );
}
