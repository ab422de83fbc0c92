// Starting a service's HTTP servers: the API port and, when METRICS_PORT is
// set, a port of its own for Prometheus (DESIGN §12).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { METRICS_CONTENT_TYPE, type Metrics } from './metrics.js';

/** Listens on `port` (0: any free one) and resolves with the port bound. */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A server answering only GET /metrics, without a token (bind it where only the scraper reaches). */
export function metricsServer(metrics: Metrics): Server {
  return createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.statusCode = 404;
      res.end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => {
        res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
        res.end(text);
      },
      () => {
        res.statusCode = 503;
        res.end();
      },
    );
  });
}
