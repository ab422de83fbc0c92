// A real webhook endpoint on 127.0.0.1 for tests (DESIGN §12): records every
// request it gets (headers and raw body), answers 500 to the first `failFirst`
// ones and then 204, or whatever `respond` decides; `waitFor` resolves once a
// predicate over the received requests holds.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** The Host header the request came with. */
  host: string | undefined;
  /** The status this receiver answered (0 while unanswered). */
  status: number;
}

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Set how the next requests are answered (index counts every request so far). */
  respond: (index: number, res: ServerResponse) => void;
  waitFor(pred: (r: Received[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver; by default the first `failFirst` requests get 500, the rest 204. */
export async function startReceiver(failFirst = 0): Promise<Receiver> {
  const received: Received[] = [];
  const waiters = new Set<() => void>();
  const r: Receiver = {
    url: '',
    port: 0,
    received,
    respond: (index, res) => {
      res.statusCode = index < failFirst ? 500 : 204;
      res.end();
    },
    waitFor(pred, what, timeoutMs = 20_000) {
      if (pred(received)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pred(received)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`receiver: no ${what} within ${timeoutMs} ms (${received.length} requests)`),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const index = received.length;
      const entry: Received = { headers: req.headers, body, host: req.headers.host, status: 0 };
      received.push(entry);
      res.on('finish', () => {
        entry.status = res.statusCode;
        for (const w of [...waiters]) w();
      });
      r.respond(index, res);
      for (const w of [...waiters]) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  r.port = (server.address() as AddressInfo).port;
  r.url = `http://127.0.0.1:${r.port}/hook`;
  return r;
}

/**
 * Verifies a received request with the `standardwebhooks` package (the
 * receiver's side of the spec) and returns the parsed body; throws when the
 * signature or timestamp does not verify.
 */
export function verifyReceived(
  secret: string,
  r: Received,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: parsed JSON of any shape
): { type: string; timestamp: string; data: any } {
  const headers = {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  };
  return new Webhook(secret).verify(r.body, headers) as {
    type: string;
    timestamp: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: parsed JSON of any shape
    data: any;
  };
}

/** The parsed bodies of the requests answered 2xx (all when `all`), with their webhook-id. */
export function events(
  received: Received[],
  all = false,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test helper: parsed JSON of any shape
): { id: string; type: string; data: any }[] {
  return received
    .filter((r) => all || (r.status >= 200 && r.status < 300))
    .map((r) => {
      const b = JSON.parse(r.body) as { type: string; data: unknown };
      return { id: String(r.headers['webhook-id']), type: b.type, data: b.data };
    });
}
