// The scan field: a keyboard-wedge scanner (or the camera, ./camera.ts) types
// a code and Enter. Each scan replaces the verdict area at once; readable
// codes are queued and verified in order through the SDK client.
import { centuryAt, Gs1Error, parseScan, type ScanResult } from '@provenant/gs1';
import { byId } from './dom.js';
import { subjectText } from './format.js';
import { focusScan } from './modes.js';
import { receiptKey, unboundText } from './receipt.js';
import { arrived, inboundShipment, prefillShipment, renderArrived } from './receive.js';
import { client, keptTrust, problemText, state, toView, writeKey } from './state.js';
import { show, showNoVerdict, showNotRead, showPending } from './verdict.js';

interface Queued {
  input: string;
  subject: string;
  /** scanned in Receive mode (counts for the shipment) */
  receiving: boolean;
  /** its place among this page's scans ({@link scanSeq}) */
  ticket: number;
}

const queue: Queued[] = [];

let busy = false;

/**
 * The dock is a keyboard-wedge station: a scanner that cannot type 0x1D may
 * send a printable stand-in such as `<GS>`, so it opts in to that profile (DESIGN §3).
 */
const SCANNER_PROFILE = 'keyboard-wedge-gs';

/** Parses client-side for an immediate, clear answer (the server checks again). */
export function parseHere(input: string): ScanResult | Gs1Error {
  try {
    return parseScan(input, { ...centuryAt(Date.now()), profile: SCANNER_PROFILE });
  } catch (err) {
    if (err instanceof Gs1Error) return err;
    return new Gs1Error('BAD_INPUT', String(err));
  }
}

/**
 * Counts the scans of this page: the verdict area shows only the newest
 * scan's state, so a verdict that arrives after a later scan never stands
 * for it (it still goes into the history and the shipment list).
 */
let scanSeq = 0;

/** Takes the next scan ticket (every scan, readable or not, and every offline check). */
export function nextScan(): number {
  return ++scanSeq;
}

/** Whether `ticket` is still the newest scan (it owns the verdict area). */
export function isNewest(ticket: number): boolean {
  return ticket === scanSeq;
}

/** A scan is being verified (the receipt waits for it). */
export function isBusy(): boolean {
  return busy;
}

/**
 * Enter in the scan field. A scanner can send the next code before the last
 * verdict arrived: each readable code is queued and the field cleared at once,
 * so no scan is lost or glued to the next one. Every scan replaces the verdict
 * area at once: CHECKING for a readable code, NOT READ for anything else.
 */
export function onScan(e: Event): void {
  e.preventDefault();
  const field = byId<HTMLInputElement>('scan');
  const input = field.value.trim();
  const err = byId('scan-error');
  err.textContent = '';
  if (input === '') return;
  const ticket = ++scanSeq;
  const parsed = parseHere(input);
  if (parsed instanceof Gs1Error) {
    err.textContent = `That code cannot be read: ${parsed.message}${parsed.ai ? ` (AI ${parsed.ai})` : ''}. [${parsed.code}]`;
    showNotRead(input, parsed);
    field.select();
    return;
  }
  field.value = '';
  if (state.mode === 'receive') {
    if (arrived.some((a) => a.subject === parsed.subject)) {
      err.textContent = `Already scanned for this shipment: ${subjectText(parsed.subject)}`;
      showNoVerdict(parsed.subject, 'Already scanned for this shipment: scan the next item.');
      return;
    }
    arrived.push({ subject: parsed.subject });
    renderArrived();
  }
  showPending(parsed.subject);
  queue.push({ input, subject: parsed.subject, receiving: state.mode === 'receive', ticket });
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

async function verifyScan(q: Queued): Promise<void> {
  const newest = () => isNewest(q.ticket);
  try {
    const api = client();
    // The receipt must answer this scan (nonce, subject, party, purpose, time): else no verdict.
    const checked = await api.verifyChecked(
      { scan: q.input, purpose: 'receiving', scannerProfile: SCANNER_PROFILE },
      {
        verifierKey: await receiptKey(keptTrust, () => api.getVerifierKey()),
        party: state.session!.gln,
      },
      writeKey(),
    );
    if (!checked.ok) throw new Error(unboundText(checked.code));
    const view = toView(checked.verification);
    const a = q.receiving ? arrived.find((x) => x.subject === q.subject) : undefined;
    if (a) {
      a.verdict = view.verdict;
      a.shipment = inboundShipment(view);
    }
    renderArrived();
    await show({ view, offline: false, scanned: q.input, at: new Date() }, true, newest());
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
    if (!newest()) return;
    byId('scan-error').textContent = why;
    showNoVerdict(q.subject, why);
  }
}
