// Prometheus metrics (DESIGN §12) with prom-client, one registry per service
// (never prom-client's global one: tests build several apps in one process).
// Served at GET /metrics to the admin and `monitor` tokens, or on METRICS_PORT.
// Series: HTTP requests and durations by route template and status, verdicts
// and reason codes, sequencer batch sizes and commit times, log size, monitor
// lag (0 until the log monitor of DESIGN §7b exists), webhook queue depth and
// failures. Gauges read from the database are computed at scrape time.
import type { RequestHandler } from 'express';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { getLogSize, webhookQueueStats, type Queryable } from '@provenant/store';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  verdicts: Counter<'verdict'>;
  reasons: Counter<'code'>;
  batchEntries: Histogram;
  batchCommit: Histogram;
  monitorLag: Gauge;
  webhookAttempts: Counter<'result'>;
  /** Counts one verdict and each of its reason codes. */
  observeVerdict(verdict: string, codes: readonly string[]): void;
  /** One committed sequencer batch. */
  observeBatch(entries: number, ms: number): void;
}

/** The Prometheus text content type (exposition format 0.0.4). */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Metrics of one service on database `db` (read at scrape time for the gauges). */
export function createMetrics(db: Queryable): Metrics {
  const registry = new Registry();
  const httpRequests = new Counter({
    name: 'provenant_http_requests_total',
    help: 'HTTP requests by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'provenant_http_request_duration_seconds',
    help: 'HTTP request durations by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const verdicts = new Counter({
    name: 'provenant_verdicts_total',
    help: 'Verification verdicts (accept, quarantine, reject)',
    labelNames: ['verdict'] as const,
    registers: [registry],
  });
  const reasons = new Counter({
    name: 'provenant_verdict_reasons_total',
    help: 'Reason codes found by verifications (DESIGN §7)',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const batchEntries = new Histogram({
    name: 'provenant_sequencer_batch_entries',
    help: 'Log entries per sequencer batch (group commit)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 256, 1024, 10001, 20000],
    registers: [registry],
  });
  const batchCommit = new Histogram({
    name: 'provenant_sequencer_commit_seconds',
    help: 'Time of one sequencer batch transaction, lock to commit',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  new Gauge({
    name: 'provenant_log_size',
    help: 'Entries in the transparency log',
    registers: [registry],
    async collect() {
      this.set(await getLogSize(db));
    },
  });
  const monitorLag = new Gauge({
    name: 'provenant_monitor_lag_seconds',
    help: 'How far the log monitor (DESIGN §7b) is behind the log; 0 until the monitor exists',
    registers: [registry],
  });
  monitorLag.set(0);
  new Gauge({
    name: 'provenant_webhook_queue_depth',
    help: 'Webhook events waiting for fan-out (queue="events") and deliveries pending (queue="deliveries")',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      const s = await webhookQueueStats(db);
      this.set({ queue: 'events' }, s.events);
      this.set({ queue: 'deliveries' }, s.pending);
    },
  });
  new Gauge({
    name: 'provenant_webhook_deliveries_failed',
    help: 'Webhook deliveries given up after their 3-day retry window',
    registers: [registry],
    async collect() {
      this.set((await webhookQueueStats(db)).failed);
    },
  });
  const webhookAttempts = new Counter({
    name: 'provenant_webhook_attempts_total',
    help: 'Webhook delivery attempts by this process (result="ok" or "failed")',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  return {
    registry,
    httpRequests,
    httpDuration,
    verdicts,
    reasons,
    batchEntries,
    batchCommit,
    monitorLag,
    webhookAttempts,
    observeVerdict(verdict, codes) {
      verdicts.inc({ verdict });
      for (const code of codes) reasons.inc({ code });
    },
    observeBatch(entries, ms) {
      batchEntries.observe(entries);
      batchCommit.observe(ms / 1000);
    },
  };
}

/** The route label of a request: its template, never the concrete path (bounded cardinality). */
function routeLabel(req: Parameters<RequestHandler>[0], status: number): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  if (typeof path === 'string') return `${req.baseUrl}${path}`;
  if (req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics') return req.path;
  return status === 404 ? 'unmatched' : 'other';
}

/** Middleware: counts and times every request once its response is finished. */
export function httpMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const labels = {
        method: req.method,
        route: routeLabel(req, res.statusCode),
        status: String(res.statusCode),
      };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}
