// One webhook attempt (Standard Webhooks): `webhook-id`, `webhook-timestamp`
// and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`,
// signed with the `standardwebhooks` package. The request connects to the
// address the SSRF guard checked (DESIGN §12), follows no redirect, and gives
// up after a timeout; the response body is read only to drain the socket.
import { randomBytes } from 'node:crypto';
import { type Agent as HttpAgent, request as httpRequest } from 'node:http';
import { type Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { checkWebhookUrl, WebhookUrlError, type Resolver } from './ssrf.js';

/** A fresh endpoint secret: `whsec_` + base64 of 32 random bytes (Standard Webhooks). */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The headers of one attempt; `secrets` each add a `v1,` signature (rotation overlap). */
export function signedHeaders(
  id: string,
  payload: string,
  secrets: readonly string[],
  at: Date,
): Record<string, string> {
  const signatures = secrets.map((s) => new Webhook(s).sign(id, at, payload));
  return {
    'content-type': 'application/json',
    'user-agent': 'Provenant-Webhooks/1',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signatures.join(' '),
  };
}

/** What became of an attempt: an HTTP status, or an error and no status. */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

export interface SendOptions {
  allowHosts: readonly string[];
  timeoutMs: number;
  resolve?: Resolver;
  /** Keep-alive agents (http, https); default: a new connection per attempt. */
  agents?: { http: HttpAgent; https: HttpsAgent };
}

/**
 * POSTs `payload` to `url` with the signed headers. 2xx is success; any other
 * status (a 3xx included: redirects are not followed), a refused address, a
 * connection error or the timeout is a failure. Never throws.
 */
export async function sendWebhook(
  url: string,
  headers: Record<string, string>,
  payload: string,
  opts: SendOptions,
): Promise<AttemptOutcome> {
  let checked;
  try {
    checked = await checkWebhookUrl(url, opts.allowHosts, opts.resolve);
  } catch (err) {
    const message = err instanceof WebhookUrlError ? err.message : 'the URL was refused';
    return { ok: false, statusCode: null, error: message };
  }
  const { address, family } = checked;
  // Connect to the checked address whatever the name resolves to now; SNI and Host keep the name.
  const pinned: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) cb(null, [{ address, family }] as never, family);
    else cb(null, address, family);
  };
  const tls = checked.url.protocol === 'https:';
  const send = tls ? httpsRequest : httpRequest;
  // A kept-alive connection was opened to an address this guard checked for the same host.
  const agent = opts.agents ? (tls ? opts.agents.https : opts.agents.http) : false;
  const body = Buffer.from(payload, 'utf8');
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    const done = (o: AttemptOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(o);
    };
    const req = send(
      checked.url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(body.length) },
        lookup: pinned,
        agent,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('error', () => {});
        const ok = status >= 200 && status < 300;
        done({ ok, statusCode: status, error: ok ? null : `HTTP ${status}` });
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      done({ ok: false, statusCode: null, error: `no answer within ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      done({ ok: false, statusCode: null, error: err.code ?? 'connection failed' });
    });
    req.end(body);
  });
}
