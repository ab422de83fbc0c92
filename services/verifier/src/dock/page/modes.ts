// The three modes (Verify, Receive, Offline) as tap targets and Alt+1..3, and
// the scan field that keeps the focus for a keyboard-wedge scanner.
import { stopCamera } from './camera.js';
import { byId } from './dom.js';
import { state, type Mode } from './state.js';

export function modeButtons(): HTMLButtonElement[] {
  return Array.from(document.querySelectorAll<HTMLButtonElement>('#modes button'));
}

export function setMode(m: Mode): void {
  if (m !== 'offline' && !state.session) m = 'offline';
  // A mode switch closes the camera: it reads for the view that opened it.
  if (m !== state.mode) stopCamera();
  state.mode = m;
  for (const b of modeButtons()) b.setAttribute('aria-pressed', String(b.dataset.mode === m));
  byId('scan-form').hidden = m === 'offline';
  byId('receive').hidden = m !== 'receive';
  byId('offline').hidden = m !== 'offline';
  byId('scan-label').textContent =
    m === 'receive' ? 'Scan what arrived, then Enter' : 'Scan or type a code, then Enter';
  focusScan();
}

export function focusScan(): void {
  const scan = byId<HTMLInputElement>('scan');
  if (!byId('work').hidden && state.mode !== 'offline') scan.focus();
}

/** The scan field keeps the focus unless the clerk deliberately moved it to another control. */
export function keepFocus(): void {
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
