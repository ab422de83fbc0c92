// Key revocation bounds shared by every route that revokes (DESIGN §5):
// POST /v1/keys/{kid}/revoke and client-signed key-revoke notices on POST /v1/records.
import { keyRegisteredAt, type Queryable } from '@provenant/store';
import { unprocessable } from '@provenant/server-kit';

/** Allowed clock skew for a compromisedAt slightly ahead of ours (ms). */
export const COMPROMISED_AT_SKEW_MS = 5 * 60 * 1000;

/**
 * DESIGN §5 (issue 10 #7): compromisedAt lies between the key's registration
 * receipt time and now plus 5 minutes, on every route that revokes; from the
 * year 2000 it would turn every past record reject, from 2099 it would keep a
 * stolen key valid. `path` names the field in the problem.
 * @throws HttpProblem 422 `compromised-at-out-of-range`.
 */
export async function assertCompromisedAtInRange(
  q: Queryable,
  kid: string,
  compromisedAtMs: number,
  path: string,
): Promise<void> {
  const registered = await keyRegisteredAt(q, kid);
  const notBefore = registered === null ? null : Date.parse(registered);
  const late = compromisedAtMs > Date.now() + COMPROMISED_AT_SKEW_MS;
  if (!late && (notBefore === null || compromisedAtMs >= notBefore)) return;
  const message = late
    ? 'must not lie more than 5 minutes in the future'
    : `must not lie before the key was registered (${registered})`;
  throw unprocessable(`${path}: ${message}.`, {
    slug: 'compromised-at-out-of-range',
    errors: [{ path, rule: late ? 'not-future' : 'after-registration', message }],
  });
}
