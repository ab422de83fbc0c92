// Sign in with the party token alone: the service says whose it is (GET
// /v1/me through the SDK client), so there is no GLN to type. The token stays
// in this tab's sessionStorage, never in a URL.
import { byId } from './dom.js';
import { modeButtons, setMode } from './modes.js';
import { client, names, problemText, saveSession, state } from './state.js';

export function showSignedIn(): void {
  const session = state.session;
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
  setMode(signedIn ? state.mode : 'offline');
}

export async function signIn(e: Event): Promise<void> {
  e.preventDefault();
  const token = byId<HTMLInputElement>('token').value.trim();
  const err = byId('signin-error');
  err.textContent = '';
  if (!token) {
    err.textContent = 'Enter the party token.';
    byId('token').focus();
    return;
  }
  const btn = byId<HTMLButtonElement>('signin-go');
  btn.disabled = true;
  try {
    const me = await client(token).me();
    if (!me.party) {
      err.textContent =
        'This is an administrator token: sign in with the party token of your site.';
      byId('token').focus();
      return;
    }
    names.set(me.party.gln, me.party.name);
    saveSession({ gln: me.party.gln, token, name: me.party.name, roles: me.party.roles });
    byId<HTMLInputElement>('token').value = '';
    showSignedIn();
  } catch (x) {
    err.textContent = problemText(x);
    byId('token').focus();
  } finally {
    btn.disabled = false;
  }
}

export function signOut(): void {
  saveSession(null);
  names.clear();
  location.reload();
}
