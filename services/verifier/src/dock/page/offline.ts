// Offline verification: core's engine in this browser (noble backend) over a
// shipper's bundle file, against this service's trust (kept while online) or
// a trust file, compared with the code scanned (SUBJECT_MISMATCH) and aged by
// the trust's maxCheckpointAgeSeconds (CHECKPOINT_STALE), DESIGN §7.
import { VerifyError, verifyBundle } from '@provenant/core';
import { Gs1Error } from '@provenant/gs1';
import { byId } from './dom.js';
import { timeText } from './format.js';
import { isNewest, nextScan, parseHere } from './scan.js';
import { loadTrust, state, TRUST_KEY } from './state.js';
import { pinChosenKey } from './receipt.js';
import { DEFAULT_MAX_AGE_S, trustOf } from './trust.js';
import { show, showNoVerdict, showNotRead, showPending } from './verdict.js';

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

/**
 * Keeps this service's public trust (GET /dock/trust.json: the keys the page's
 * own origin serves, no more trusted than the script itself) so that offline
 * the clerk needs only the shipper's bundle file.
 */
export async function keepTrust(): Promise<void> {
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

export async function verifyOffline(e: Event): Promise<void> {
  e.preventDefault();
  const err = byId('offline-error');
  err.textContent = '';
  const scanField = byId<HTMLInputElement>('offline-scan');
  const input = scanField.value.trim();
  if (!input) {
    err.textContent = 'Scan the item first: the bundle is checked against its code.';
    scanField.focus();
    return;
  }
  const scanned = parseHere(input);
  if (scanned instanceof Gs1Error) {
    nextScan();
    err.textContent = `That code cannot be read: ${scanned.message}. [${scanned.code}]`;
    showNotRead(input, scanned);
    scanField.select();
    return;
  }
  const gln = byId<HTMLInputElement>('offline-gln').value.trim() || state.session?.gln || '';
  if (!/^\d{13}$/.test(gln)) {
    err.textContent = 'Enter the GLN you receive as (13 digits).';
    byId('offline-gln').focus();
    return;
  }
  const ticket = nextScan();
  showPending(scanned.subject);
  const btn = byId<HTMLButtonElement>('offline-go');
  btn.disabled = true;
  btn.textContent = 'Verifying\u2026';
  try {
    const bundle = await readJson(byId<HTMLInputElement>('bundle-file'), 'bundle file');
    const trustInput = byId<HTMLInputElement>('trust-file');
    const kept = loadTrust();
    const chosen = trustInput.files?.[0] || !kept;
    const raw = chosen ? await readJson(trustInput, 'trust file') : kept.trust;
    const trust = trustOf(raw);
    // A trust file the clerk chose pins the verifier key online answers are checked with.
    if (chosen) pinChosenKey(raw);
    // Let the "Verifying…" state paint before the synchronous engine runs.
    await new Promise((r) => setTimeout(r, 0));
    const scan: { lot?: string; expiry?: string } = {};
    if (scanned.lot !== undefined) scan.lot = scanned.lot;
    if (scanned.expiry !== undefined) scan.expiry = scanned.expiry;
    const result = verifyBundle(
      bundle,
      trust,
      { party: gln, purpose: 'receiving', now: new Date().toISOString(), scan },
      {
        scannedSubject: scanned.subject,
        maxCheckpointAgeSeconds: trust.maxCheckpointAgeSeconds ?? DEFAULT_MAX_AGE_S,
      },
    );
    await show(
      {
        view: {
          ...result,
          product: result.product ?? null,
          checkpoint: result.checkpoint ?? null,
        },
        offline: true,
        scanned: input,
        at: new Date(),
      },
      true,
      isNewest(ticket),
    );
    scanField.value = '';
    byId('result').focus();
  } catch (x) {
    err.textContent =
      x instanceof VerifyError
        ? `The trust file is not usable: ${x.message}`
        : x instanceof Error
          ? x.message
          : String(x);
    if (isNewest(ticket)) showNoVerdict(scanned.subject, err.textContent);
  } finally {
    btn.disabled = false;
    btn.textContent = 'Verify offline';
  }
}
