// The receiving-dock page (issues 6 and 13; DESIGN §7, §8a): sign in with a
// party token, scan (wedge scanner or camera), see the verdict in plain words
// with a sound, receive a shipment with reconciliation, and verify a shipper's
// bundle offline in this browser with core's engine. Bundled by esbuild
// (../assets.ts). One module per view: signin, scan (+ camera), verdict,
// receive, offline; state holds the session and the SDK client.
import { wireCamera } from './camera.js';
import { byId } from './dom.js';
import { isMuted, setMuted } from './feedback.js';
import { focusScan, keepFocus, modeButtons, setMode } from './modes.js';
import { keepTrust, verifyOffline } from './offline.js';
import { confirmReceipt, renderArrived, resetReceive } from './receive.js';
import { onScan } from './scan.js';
import { showSignedIn, signIn, signOut } from './signin.js';
import { names, state, type Mode } from './state.js';
import { loadHistory } from './verdict.js';
import './dock.css';

/** Keyboard-wedge scanners send GS (FNC1) as Ctrl+]: kept as 0x1D. Esc clears. */
function wireScanField(): void {
  const scan = byId<HTMLInputElement>('scan');
  scan.addEventListener('keydown', (e) => {
    if (e.ctrlKey && (e.key === ']' || e.code === 'BracketRight')) {
      e.preventDefault();
      const at = scan.selectionStart ?? scan.value.length;
      scan.setRangeText('\x1d', at, scan.selectionEnd ?? at, 'end');
    } else if (e.key === 'Escape') {
      scan.value = '';
      byId('scan-error').textContent = '';
    }
  });
}

function wireReceive(): void {
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
  byId('reconciliation').tabIndex = -1;
}

function wireMute(): void {
  const mute = byId<HTMLButtonElement>('mute');
  const render = () => mute.setAttribute('aria-pressed', String(isMuted()));
  mute.addEventListener('click', () => {
    setMuted(!isMuted());
    render();
    focusScan();
  });
  render();
}

function init(): void {
  byId('signin-form').addEventListener('submit', (e) => void signIn(e));
  byId('signout').addEventListener('click', signOut);
  byId('offline-only').addEventListener('click', () => {
    showSignedIn();
    setMode('offline');
    byId('offline-scan').focus();
  });
  for (const b of modeButtons()) b.addEventListener('click', () => setMode(b.dataset.mode as Mode));
  byId('scan-form').addEventListener('submit', onScan);
  byId('offline-form').addEventListener('submit', (e) => void verifyOffline(e));
  wireScanField();
  wireReceive();
  wireMute();
  wireCamera();
  keepFocus();
  loadHistory();
  void keepTrust();
  // Keeps the page itself for a reload while the service is unreachable (secure contexts only).
  navigator.serviceWorker?.register('/dock/sw.js', { scope: '/dock' }).catch(() => undefined);
  if (state.session) {
    names.set(state.session.gln, state.session.name);
    showSignedIn();
  } else byId('token').focus();
}

init();
