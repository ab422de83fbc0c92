// The receiving-dock page (issue 6; DESIGN §7, §8a): sign in with a party
// token, scan, see the verdict in plain words, receive a shipment with
// reconciliation, and verify a shipper's bundle offline in this browser with
// core's engine (noble backend). Bundled by esbuild (../assets.ts).
import {
  VerifyError,
  verifyBundle,
  type Reason,
  type TimelineEntry,
  type TolerantVerification,
  type Trust,
  type UnitsSummary,
  type Verdict,
} from '@provenant/core';
import { Gs1Error, parseScan, type ScanResult } from '@provenant/gs1';
import { clerkDate, clerkSentence, glnsIn, VERDICT_TEXT } from './clerk.js';
import { byId, h } from './dom.js';
import './dock.css';

// ---------------------------------------------------------------------------
// Types of what the API answers (the fields the page reads).

interface Product {
  gtin: string;
  serial: string;
  lot: string;
  expiry: string;
  /** the commission's product fields (attacker-controlled strings) */
  details?: Record<string, unknown>;
  name?: string;
}

/**
 * POST /v1/verifications (or the offline engine's result, shaped alike): the
 * shared verification shape (core api-shapes.ts) as a client reads it, with
 * reasons, timeline and units as the engine types them.
 */
type View = Omit<TolerantVerification, 'reasons' | 'custody' | 'units' | 'product'> & {
  reasons: Reason[];
  subject: string;
  status: string;
  custodian: string | null;
  custody: TimelineEntry[];
  units?: UnitsSummary;
  product?: Product | null;
};

interface Shown {
  view: View;
  offline: boolean;
  scanned: string;
  at: Date;
}

interface Session {
  gln: string;
  token: string;
  name: string;
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: { path?: string; rule?: string; message?: string }[];
}

class Unreachable extends Error {}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Problem & Record<string, unknown>,
  ) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
  }
}

// ---------------------------------------------------------------------------
// State.

const SESSION_KEY = 'provenant.dock.session';
const HISTORY_KEY = 'provenant.dock.history';
/** Offline default when the trust file sets none: the verifier's own default (one day). */
const DEFAULT_MAX_AGE_S = 86_400;

type Mode = 'verify' | 'receive' | 'offline';
let mode: Mode = 'verify';
let session: Session | null = loadSession();
const names = new Map<string, string>();
const shown: Shown[] = [];
interface Arrived {
  subject: string;
  verdict?: Verdict;
  /** the verification failed (e.g. the service was unreachable) */
  failed?: boolean;
  /** the shipment it was last shipped in to us, per its chain */
  shipment?: { shipment: string; from: string } | undefined;
}
let arrived: Arrived[] = [];
interface Queued {
  input: string;
  subject: string;
  /** scanned in Receive mode (counts for the shipment) */
  receiving: boolean;
}
const queue: Queued[] = [];
let busy = false;

function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const s = raw ? (JSON.parse(raw) as Session) : null;
    return s && typeof s.token === 'string' && typeof s.gln === 'string' ? s : null;
  } catch {
    return null;
  }
}

function saveSession(s: Session | null): void {
  session = s;
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

// ---------------------------------------------------------------------------
// HTTP.

function randomKey(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

async function api<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  token = session?.token,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    // DESIGN §8: writes take an Idempotency-Key, so a retried click cannot record twice.
    headers['Idempotency-Key'] = randomKey();
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    setNet(false);
    throw new Unreachable('The service is not reachable.');
  }
  setNet(true);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { detail: text.slice(0, 200) };
  }
  if (!res.ok) throw new ApiError(res.status, (json ?? {}) as Problem & Record<string, unknown>);
  return json as T;
}

function problemText(err: unknown): string {
  if (err instanceof Unreachable)
    return 'The service is not reachable. Use Offline (Alt+3) with the bundle file from the shipper.';
  if (err instanceof ApiError) {
    if (err.status === 401) return 'Your token was not accepted. Sign out and sign in again.';
    if (err.status === 403) return `Not allowed: ${err.message}`;
    const fields = (err.body.errors ?? []).map((e) => e.message ?? e.rule).filter(Boolean);
    return fields.length > 0 && !err.message.includes(fields[0]!)
      ? `${err.message} (${fields.join('; ')})`
      : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function setNet(ok: boolean): void {
  const el = byId('net');
  el.hidden = ok;
  if (!ok)
    el.textContent =
      'The service is not reachable. You can still verify a shipper\u2019s bundle file: Offline (Alt+3).';
}

/** Display name of a party: "Name (GLN …)" once known, else the GLN. */
function nameOf(gln: string): string {
  const n = names.get(gln);
  return n ? `${n} (GLN ${gln})` : `GLN ${gln}`;
}

async function loadNames(glns: Iterable<string>): Promise<void> {
  if (!session) return;
  const todo = [...new Set(glns)].filter((g) => !names.has(g));
  await Promise.all(
    todo.map(async (g) => {
      try {
        const p = await api<{ name?: string }>('GET', `/v1/parties/${g}`);
        if (typeof p.name === 'string') names.set(g, p.name);
      } catch {
        // A name is a courtesy: the GLN is shown instead.
      }
    }),
  );
}

// ---------------------------------------------------------------------------
// Sign in.

function showSignedIn(): void {
  const signedIn = session !== null;
  byId('signin').hidden = true;
  byId('work').hidden = false;
  byId('modes').hidden = false;
  byId('signout').hidden = !signedIn;
  byId('who').textContent = session
    ? `Verifying as ${session.name} \u00b7 GLN ${session.gln}`
    : 'Not signed in \u00b7 offline verification only';
  for (const b of modeButtons()) {
    if (b.dataset.mode !== 'offline') b.disabled = !signedIn;
  }
  if (session) byId<HTMLInputElement>('offline-gln').value ||= session.gln;
  setMode(signedIn ? mode : 'offline');
}

async function signIn(e: Event): Promise<void> {
  e.preventDefault();
  const gln = byId<HTMLInputElement>('gln').value.trim();
  const token = byId<HTMLInputElement>('token').value.trim();
  const err = byId('signin-error');
  err.textContent = '';
  if (!/^\d{13}$/.test(gln)) {
    err.textContent = 'The GLN is 13 digits.';
    byId('gln').focus();
    return;
  }
  if (!token) {
    err.textContent = 'Enter the party token.';
    byId('token').focus();
    return;
  }
  try {
    const p = await api<{ gln: string; name: string; status?: string; suspended?: boolean }>(
      'GET',
      `/v1/parties/${gln}`,
      undefined,
      token,
    );
    names.set(gln, p.name);
    saveSession({ gln, token, name: p.name });
    byId<HTMLInputElement>('token').value = '';
    showSignedIn();
  } catch (x) {
    err.textContent =
      x instanceof ApiError && x.status === 404
        ? `No party with GLN ${gln} is registered.`
        : problemText(x);
  }
}

function signOut(): void {
  saveSession(null);
  names.clear();
  location.reload();
}

// ---------------------------------------------------------------------------
// Modes and focus.

function modeButtons(): HTMLButtonElement[] {
  return Array.from(document.querySelectorAll<HTMLButtonElement>('#modes button'));
}

function setMode(m: Mode): void {
  if (m !== 'offline' && !session) m = 'offline';
  mode = m;
  for (const b of modeButtons()) b.setAttribute('aria-pressed', String(b.dataset.mode === m));
  byId('scan-form').hidden = m === 'offline';
  byId('receive').hidden = m !== 'receive';
  byId('offline').hidden = m !== 'offline';
  byId('scan-label').textContent =
    m === 'receive' ? 'Scan what arrived, then Enter' : 'Scan or type a code, then Enter';
  focusScan();
}

function focusScan(): void {
  const scan = byId<HTMLInputElement>('scan');
  if (!byId('work').hidden && mode !== 'offline') scan.focus();
}

/** The scan field keeps the focus unless the clerk deliberately moved it to another control. */
function keepFocus(): void {
  const scan = byId<HTMLInputElement>('scan');
  scan.addEventListener('blur', (e) => {
    const to = (e as FocusEvent).relatedTarget;
    if (to === null) setTimeout(() => document.activeElement === document.body && focusScan(), 0);
  });
  document.addEventListener('keydown', (e) => {
    if (e.altKey && ['1', '2', '3'].includes(e.key)) {
      e.preventDefault();
      setMode((['verify', 'receive', 'offline'] as const)[Number(e.key) - 1]!);
      return;
    }
    // A scanner's first character while nothing is focused goes to the scan field.
    if (document.activeElement === document.body && e.key.length === 1 && !e.ctrlKey && !e.metaKey)
      focusScan();
  });
}

// ---------------------------------------------------------------------------
// Scanning.

/** Parses client-side for an immediate, clear error (the server checks again). */
function parseHere(input: string): ScanResult | string {
  try {
    return parseScan(input);
  } catch (err) {
    if (err instanceof Gs1Error)
      return `That code cannot be read: ${err.message}${err.ai ? ` (AI ${err.ai})` : ''}. [${err.code}]`;
    return `That code cannot be read: ${String(err)}`;
  }
}

/**
 * Enter in the scan field. A scanner can send the next code before the last
 * verdict arrived: each readable code is queued and the field cleared at once,
 * so no scan is lost or glued to the next one.
 */
function onScan(e: Event): void {
  e.preventDefault();
  const field = byId<HTMLInputElement>('scan');
  const input = field.value.trim();
  const err = byId('scan-error');
  err.textContent = '';
  if (input === '') return;
  const parsed = parseHere(input);
  if (typeof parsed === 'string') {
    err.textContent = parsed;
    field.select();
    return;
  }
  field.value = '';
  if (mode === 'receive') {
    if (arrived.some((a) => a.subject === parsed.subject)) {
      err.textContent = `Already scanned for this shipment: ${subjectText(parsed.subject)}`;
      return;
    }
    arrived.push({ subject: parsed.subject });
    renderArrived();
  }
  queue.push({ input, subject: parsed.subject, receiving: mode === 'receive' });
  if (!busy) void drainScans();
}

async function drainScans(): Promise<void> {
  busy = true;
  byId('scan-go').setAttribute('aria-busy', 'true');
  try {
    for (let next = queue.shift(); next; next = queue.shift()) await verifyScan(next);
  } finally {
    busy = false;
    byId('scan-go').removeAttribute('aria-busy');
    focusScan();
  }
}

/** The previous verdict must never stand for the code just scanned: show what is being checked. */
function showPending(subject: string): void {
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

function showNoVerdict(subject: string, why: string): void {
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
}

async function verifyScan(q: Queued): Promise<void> {
  showPending(q.subject);
  try {
    const view = await api<View>('POST', '/v1/verifications', {
      scan: q.input,
      purpose: 'receiving',
    });
    if (session && view.party && view.party !== session.gln) {
      // The token decides who verifies: follow it and say so.
      const typed = session.gln;
      await loadNames([view.party]);
      saveSession({ ...session, gln: view.party, name: names.get(view.party) ?? view.party });
      showSignedIn();
      byId('scan-error').textContent =
        `This token belongs to ${nameOf(view.party)}, not to GLN ${typed}: verifying as ${nameOf(view.party)}.`;
    }
    const a = q.receiving ? arrived.find((x) => x.subject === q.subject) : undefined;
    if (a) {
      a.verdict = view.verdict;
      a.shipment = inboundShipment(view);
    }
    renderArrived();
    await show({ view, offline: false, scanned: q.input, at: new Date() });
    // After show(): the sender's name is known by then.
    if (a) {
      prefillShipment(a.shipment);
      renderArrived();
    }
  } catch (x) {
    const a = q.receiving ? arrived.find((y) => y.subject === q.subject) : undefined;
    if (a) a.failed = true;
    renderArrived();
    const why = problemText(x);
    byId('scan-error').textContent = why;
    showNoVerdict(q.subject, why);
  }
}

/** The shipment this item was last shipped in to the signed-in party (its last ship record), if any. */
function inboundShipment(v: View): { shipment: string; from: string } | undefined {
  const last = v.custody[v.custody.length - 1];
  if (!session || !last || last.type !== 'ship' || last.to !== session.gln || !last.shipment)
    return undefined;
  return { shipment: last.shipment, from: last.actor };
}

/** Fills the shipment and sender from the first scan shipped to us, so the clerk need not type them. */
function prefillShipment(s: { shipment: string; from: string } | undefined): void {
  const shipment = byId<HTMLInputElement>('shipment');
  const from = byId<HTMLInputElement>('from');
  if (!s || shipment.value.trim() || from.value.trim()) return;
  shipment.value = s.shipment;
  from.value = s.from;
  byId('receive-filled').textContent =
    `Filled in from the shipping record of the first scan: shipment ${s.shipment} from ${nameOf(s.from)}. Check it against the delivery note.`;
}

// ---------------------------------------------------------------------------
// The verdict.

const TYPE_WORDS: Record<string, string> = {
  commission: 'Registered (commissioned)',
  pack: 'Packed',
  ship: 'Shipped',
  receive: 'Received',
  unpack: 'Unpacked',
  decommission: 'Taken out of circulation',
  reactivate: 'Reactivated',
  quarantine: 'Put on suspect hold',
  release: 'Released from hold',
};

function timeText(t: string): string {
  const m = /T(\d{2}:\d{2})/.exec(t);
  return `${clerkDate(t)}${m ? ` ${m[1]} UTC` : ''}`;
}

function subjectText(s: string): string {
  const u = /^01\/(\d{14})\/21\/(.+)$/.exec(s);
  if (u) return `pack GTIN ${u[1]} serial ${decodeURIComponent(u[2]!)}`;
  const c = /^00\/(\d{18})$/.exec(s);
  return c ? `pallet/case SSCC ${c[1]}` : s;
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
      : h('p', {}, 'Every unit inside checks out.'),
  );
}

/** The quarantine case a verdict opened at receiving (DESIGN §7), with its details on demand. */
function caseBlock(c: { id: string; status: string }): HTMLElement {
  const details = h('div', { class: 'case-details', 'aria-live': 'polite' });
  return h(
    'div',
    { class: 'case', id: 'case' },
    h(
      'p',
      {},
      `Quarantine case ${c.id} is ${c.status}. Label the goods with this case number and set them aside; your quality team resolves it.`,
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'quiet small',
        onclick: async () => {
          try {
            const k = await api<{
              status: string;
              createdAt: string;
              verdict: string;
              reasons: { code: string }[];
            }>('GET', `/v1/cases/${encodeURIComponent(c.id)}`);
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
    details,
  );
}

/** The product name the manufacturer gave on commission (DESIGN §5 commission `product`). */
function productName(p: Product): string | undefined {
  const name = p.details?.['name'];
  return typeof name === 'string' && name.length > 0 ? name.slice(0, 256) : undefined;
}

async function show(s: Shown, record = true): Promise<void> {
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
    v.case ? caseBlock(v.case) : null,
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

// ---------------------------------------------------------------------------
// History (this tab only).

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

function loadHistory(): void {
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
              'aria-label': `${VERDICT_TEXT[s.view.verdict].title}: ${subjectText(s.view.subject)}, ${s.at.toLocaleTimeString()}${s.offline ? ', offline' : ''}. Show again.`,
            },
            h('span', { class: 'badge' }, VERDICT_TEXT[s.view.verdict].title),
            h('span', { class: 'hs' }, subjectText(s.view.subject)),
            h(
              'span',
              { class: 'ht' },
              `${s.at.toTimeString().slice(0, 8)}${s.offline ? ' \u00b7 offline' : ''}`,
            ),
          ),
        ),
      )
      .reverse(),
  );
}

// ---------------------------------------------------------------------------
// Receive with reconciliation (POST /v1/receipts, DESIGN §7).

function renderArrived(): void {
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

interface Reconciliation {
  shipment: string;
  from: string;
  units: {
    subject: string;
    status: 'scanned' | 'inferred' | 'missing' | 'unexpected';
    parent?: string;
  }[];
  counts: Record<string, number>;
  records?: { id: string; subject: string }[];
}

const STATUS_WORDS = {
  scanned: 'scanned',
  inferred: 'inside a scanned sealed pallet/case',
  missing: 'MISSING: expected, not scanned',
  unexpected: 'UNEXPECTED: scanned, not in this shipment',
} as const;

function renderReconciliation(r: Reconciliation, recorded: boolean): void {
  const c = r.counts;
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
            h('span', { class: 'st' }, STATUS_WORDS[u.status]),
            ' \u2014 ',
            subjectText(u.subject),
            u.parent ? ` (in ${subjectText(u.parent)})` : '',
          ),
        ),
      ),
    ),
  );
}

async function confirmReceipt(): Promise<void> {
  const err = byId('receive-error');
  err.textContent = '';
  const shipment = byId<HTMLInputElement>('shipment').value.trim();
  const from = byId<HTMLInputElement>('from').value.trim();
  const condition = byId<HTMLSelectElement>('condition').value;
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
  if (busy || arrived.some((a) => !a.verdict && !a.failed)) {
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
    const r = await api<Reconciliation>('POST', '/v1/receipts', {
      shipment,
      from,
      scanned: arrived.map((a) => a.subject),
      condition,
    });
    renderReconciliation(r, true);
    arrived = [];
    // The next scan fills in its own shipment; the reconciliation stays on screen.
    byId<HTMLInputElement>('shipment').value = '';
    byId<HTMLInputElement>('from').value = '';
    byId('receive-filled').textContent = '';
    renderArrived();
  } catch (x) {
    // 422 nothing-to-receive still carries the reconciliation: show it.
    if (x instanceof ApiError && Array.isArray(x.body.units) && x.body.counts)
      renderReconciliation(
        {
          shipment,
          from,
          units: x.body.units as Reconciliation['units'],
          counts: x.body.counts as Record<string, number>,
        },
        false,
      );
    err.textContent =
      x instanceof ApiError && x.status === 404
        ? `No shipment ${shipment} from GLN ${from} to you is known. Check the delivery note.`
        : problemText(x);
  } finally {
    btn.disabled = false;
    // The reconciliation is announced (aria-live); the scanner stays ready.
    focusScan();
  }
}

function resetReceive(): void {
  arrived = [];
  renderArrived();
  byId('reconciliation').replaceChildren();
  byId('receive-error').textContent = '';
  byId<HTMLInputElement>('shipment').value = '';
  byId<HTMLInputElement>('from').value = '';
  byId('receive-filled').textContent = '';
  byId('shipment').focus();
}

// ---------------------------------------------------------------------------
// Offline: core's engine in this browser (noble backend), against a trust file.

async function readJson(input: HTMLInputElement, what: string): Promise<unknown> {
  const f = input.files?.[0];
  if (!f) throw new Error(`Choose the ${what}.`);
  if (f.size > 256 * 1024 * 1024) throw new Error(`The ${what} is too large.`);
  try {
    return JSON.parse(await f.text());
  } catch {
    throw new Error(`The ${what} is not JSON.`);
  }
}

function trustOf(raw: unknown): Trust {
  // The trust file comes from outside: take only the known fields, of the right types.
  const t = raw as Record<string, unknown> | null;
  if (!t || typeof t.logKey !== 'string' || typeof t.authorityKey !== 'string')
    throw new Error(
      'The trust file needs "logKey" and "authorityKey" (download it from the service while online).',
    );
  const trust: Trust = { logKey: t.logKey, authorityKey: t.authorityKey };
  if (Array.isArray(t.witnesses) && t.witnesses.every((w) => typeof w === 'string'))
    trust.witnesses = t.witnesses;
  if (typeof t.minWitnesses === 'number') trust.minWitnesses = t.minWitnesses;
  trust.maxCheckpointAgeSeconds =
    typeof t.maxCheckpointAgeSeconds === 'number' ? t.maxCheckpointAgeSeconds : DEFAULT_MAX_AGE_S;
  return trust;
}

const TRUST_KEY = 'provenant.dock.trust';

/** The trust fetched from this service while it was reachable (this tab only). */
function loadTrust(): { trust: unknown; at: string } | null {
  try {
    const raw = sessionStorage.getItem(TRUST_KEY);
    return raw ? (JSON.parse(raw) as { trust: unknown; at: string }) : null;
  } catch {
    return null;
  }
}

/**
 * Keeps this service's public trust (GET /dock/trust.json: the keys the page's
 * own origin serves, no more trusted than the script itself) so that offline
 * the clerk needs only the shipper's bundle file.
 */
async function keepTrust(): Promise<void> {
  try {
    const res = await fetch('/dock/trust.json', { cache: 'no-store' });
    if (!res.ok) return;
    const t: unknown = await res.json();
    trustOf(t); // only keep what the engine can use
    sessionStorage.setItem(TRUST_KEY, JSON.stringify({ trust: t, at: new Date().toISOString() }));
  } catch {
    // Unreachable now: keep what an earlier load stored.
  }
  renderTrustNote();
}

function renderTrustNote(): void {
  const kept = loadTrust();
  byId('trust-kept').textContent = kept
    ? `This page keeps the trust file of ${location.host} (fetched ${timeText(kept.at)}): you only need the bundle file. Choose a trust file only to use another one.`
    : 'Choose the trust file of your Provenant service too.';
}

async function verifyOffline(e: Event): Promise<void> {
  e.preventDefault();
  const err = byId('offline-error');
  err.textContent = '';
  const gln = byId<HTMLInputElement>('offline-gln').value.trim() || session?.gln || '';
  if (!/^\d{13}$/.test(gln)) {
    err.textContent = 'Enter the GLN you receive as (13 digits).';
    byId('offline-gln').focus();
    return;
  }
  const btn = byId<HTMLButtonElement>('offline-go');
  btn.disabled = true;
  btn.textContent = 'Verifying\u2026';
  try {
    const bundle = await readJson(byId<HTMLInputElement>('bundle-file'), 'bundle file');
    const trustInput = byId<HTMLInputElement>('trust-file');
    const kept = loadTrust();
    const trust = trustOf(
      trustInput.files?.[0] || !kept ? await readJson(trustInput, 'trust file') : kept.trust,
    );
    // Let the "Verifying…" state paint before the synchronous engine runs.
    await new Promise((r) => setTimeout(r, 0));
    const result = verifyBundle(bundle, trust, {
      party: gln,
      purpose: 'receiving',
      now: new Date().toISOString(),
    });
    await show({
      view: {
        ...result,
        product: result.product ?? null,
        checkpoint: result.checkpoint ?? null,
      },
      offline: true,
      scanned: '(bundle file)',
      at: new Date(),
    });
    byId('result').focus();
  } catch (x) {
    err.textContent =
      x instanceof VerifyError
        ? `The trust file is not usable: ${x.message}`
        : x instanceof Error
          ? x.message
          : String(x);
  } finally {
    btn.disabled = false;
    btn.textContent = 'Verify offline';
  }
}

// ---------------------------------------------------------------------------
// Wiring.

function init(): void {
  byId('signin-form').addEventListener('submit', (e) => void signIn(e));
  byId('signout').addEventListener('click', signOut);
  byId('offline-only').addEventListener('click', () => {
    showSignedIn();
    setMode('offline');
    byId('bundle-file').focus();
  });
  for (const b of modeButtons()) b.addEventListener('click', () => setMode(b.dataset.mode as Mode));
  byId('scan-form').addEventListener('submit', onScan);
  const scan = byId<HTMLInputElement>('scan');
  scan.addEventListener('keydown', (e) => {
    // Keyboard-wedge scanners send GS (FNC1) as Ctrl+]: keep it as 0x1D.
    if (e.ctrlKey && (e.key === ']' || e.code === 'BracketRight')) {
      e.preventDefault();
      const at = scan.selectionStart ?? scan.value.length;
      scan.setRangeText('\x1d', at, scan.selectionEnd ?? at, 'end');
    } else if (e.key === 'Escape') {
      scan.value = '';
      byId('scan-error').textContent = '';
    }
  });
  for (const id of ['shipment', 'from']) {
    // Enter in a shipment field hands the focus back to the scanner.
    byId(id).addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        focusScan();
      }
    });
    byId(id).addEventListener('input', renderArrived);
  }
  byId('receive-confirm').addEventListener('click', () => void confirmReceipt());
  byId('receive-reset').addEventListener('click', resetReceive);
  byId('offline-form').addEventListener('submit', (e) => void verifyOffline(e));
  byId('reconciliation').tabIndex = -1;
  keepFocus();
  loadHistory();
  void keepTrust();
  // Keeps the page itself for a reload while the service is unreachable (secure contexts only).
  navigator.serviceWorker?.register('/dock/sw.js', { scope: '/dock' }).catch(() => undefined);
  if (session) {
    names.set(session.gln, session.name);
    showSignedIn();
  } else byId('gln').focus();
}

init();
