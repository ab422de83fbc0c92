// Shared state of the dock page: the session, the SDK client that every call
// goes through, party names, the mode, and how failures read to a clerk.
import type { ApiView, Reason, TimelineEntry, UnitsSummary } from '@provenant/core';
import {
  ProvenantClient,
  ProvenantError,
  type Verification,
  type WriteOptions,
} from '@provenant/sdk';
import { byId } from './dom.js';

/** What the service answers (the tolerant shape of core api/verification.ts). */
type Answer = ApiView<'verification'>;

/** The product of a verdict (the commission's fields; details are attacker-controlled strings). */
export type Product = NonNullable<Answer['product']> & { name?: string };

/**
 * A verdict as the page shows it: the service's answer in its tolerant shape
 * (core api/verification.ts, the one source the server documents), which the
 * offline engine's result also reads as, with the fields the page reads made
 * definite and the reasons and custody as the engine types them.
 */
export type View = Omit<
  Answer,
  'reasons' | 'subject' | 'status' | 'custodian' | 'custody' | 'units' | 'product'
> & {
  reasons: Reason[];
  subject: string;
  status: string;
  custodian: string | null;
  custody: TimelineEntry[];
  units?: UnitsSummary;
  product?: Product | null;
};

/** The SDK's answer as a {@link View}; an answer without the fields the page needs is an error. */
export function toView(v: Verification): View {
  if (typeof v.subject !== 'string' || !Array.isArray(v.custody) || typeof v.status !== 'string')
    throw new Error('The service answered without the verdict details this page needs.');
  return v as unknown as View;
}

export interface Shown {
  view: View;
  offline: boolean;
  scanned: string;
  at: Date;
}

export interface Session {
  gln: string;
  token: string;
  name: string;
  roles?: string[];
}

export type Mode = 'verify' | 'receive' | 'offline';

const SESSION_KEY = 'provenant.dock.session';

/** What every module reads and changes. */
export const state: { mode: Mode; session: Session | null } = {
  mode: 'verify',
  session: loadSession(),
};
export const names = new Map<string, string>();

function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    const s = raw ? (JSON.parse(raw) as Session) : null;
    return s && typeof s.token === 'string' && typeof s.gln === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  state.session = s;
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

export const TRUST_KEY = 'provenant.dock.trust';

/** The trust fetched from this service while it was reachable (this tab only). */
export function loadTrust(): { trust: unknown; at: string } | null {
  try {
    const raw = sessionStorage.getItem(TRUST_KEY);
    return raw ? (JSON.parse(raw) as { trust: unknown; at: string }) : null;
  } catch {
    return null;
  }
}

/** The kept trust itself, or null. */
export function keptTrust(): unknown {
  return loadTrust()?.trust ?? null;
}

/** An Idempotency-Key (DESIGN §8) from getRandomValues: randomUUID needs a secure context. */
export function writeKey(): WriteOptions {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return { idempotencyKey: Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') };
}

/** fetch as the page wants it: never cached; tells the clerk when the service is unreachable. */
async function pageFetch(url: string, init: RequestInit): Promise<Response> {
  try {
    const res = await fetch(url, { ...init, cache: 'no-store' });
    setNet(true);
    return res;
  } catch (err) {
    setNet(false);
    throw err;
  }
}

/** The SDK's browser client for this origin, as the signed-in party (or with `token`). */
export function client(token = state.session?.token): ProvenantClient {
  return new ProvenantClient({
    baseUrl: location.origin,
    token,
    fetch: pageFetch,
    // A clerk waits at the dock: one retry of a busy service, then say so.
    retries: 1,
    timeoutMs: 30_000,
  });
}

/** The service did not answer at all (network down, timeout). */
export function unreachable(err: unknown): boolean {
  return err instanceof ProvenantError && err.status === 0 && err.code !== 'invalid-response';
}

export function problemText(err: unknown): string {
  if (unreachable(err))
    return 'The service is not reachable. Use Offline (Alt+3) with the bundle file from the shipper.';
  if (err instanceof ProvenantError) {
    if (err.status === 401) return 'Your token was not accepted. Sign out and sign in again.';
    if (err.status === 403) return `Not allowed: ${err.message}`;
    const fields = (err.errors ?? []).map((e) => e.message ?? e.rule).filter(Boolean);
    return fields.length > 0 && !err.message.includes(fields[0]!)
      ? `${err.message} (${fields.join('; ')})`
      : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function setNet(ok: boolean): void {
  const el = byId('net');
  el.hidden = ok;
  if (!ok)
    el.textContent =
      'The service is not reachable. You can still verify a shipper\u2019s bundle file: Offline (Alt+3).';
}

/** Display name of a party: "Name (GLN …)" once known, else the GLN. */
export function nameOf(gln: string): string {
  const n = names.get(gln);
  return n ? `${n} (GLN ${gln})` : `GLN ${gln}`;
}

export async function loadNames(glns: Iterable<string>): Promise<void> {
  if (!state.session) return;
  const todo = [...new Set(glns)].filter((g) => !names.has(g));
  const api = client();
  await Promise.all(
    todo.map(async (g) => {
      try {
        const p = await api.getParty(g);
        names.set(g, p.name);
      } catch {
        // A name is a courtesy: the GLN is shown instead.
      }
    }),
  );
}
