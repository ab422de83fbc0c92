// Traces (DESIGN §12): a W3C `traceparent` is accepted on every request and
// answered (`traceparent` and `traceresponse` response headers, trace ids in
// the request's log line); OpenTelemetry spans for HTTP, SQL and signing are
// exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set. Without an
// SDK the API's tracer is a no-op, so a request still gets its own span id
// (made here) and the caller's trace id, at no cost beyond two random numbers.
import { randomFillSync } from 'node:crypto';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Context,
  type Span,
  type SpanContext,
} from '@opentelemetry/api';
import type { RequestHandler } from 'express';
import type { Database, Queryable } from '@provenant/store';

/** The tracer every part of the service uses (a no-op until an SDK is registered). */
export const TRACER_NAME = 'provenant';
export const tracer = () => trace.getTracer(TRACER_NAME);

// W3C Trace Context §3.2: version 00, 32-hex trace id, 16-hex parent id, 2-hex flags; all-zero ids invalid.
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

// Trace and span ids of requests nobody traces, from a pool refilled 4 KB at
// a time: a randomBytes call per id took about 4% of a request's CPU. Ids are
// identifiers, not secrets.
const idPool = Buffer.alloc(4096);
let idOffset = idPool.length;

/** `bytes` random bytes as lowercase hex. */
function randomHex(bytes: number): string {
  if (idOffset + bytes > idPool.length) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  idOffset += bytes;
  return idPool.toString('hex', idOffset - bytes, idOffset);
}

/** Parses a `traceparent` header; null when absent or malformed (then a new trace starts). */
export function parseTraceparent(value: unknown): SpanContext | null {
  if (typeof value !== 'string') return null;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & 1, isRemote: true };
}

/** The `traceparent` value of a span context. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types the request through this global namespace
  namespace Express {
    interface Request {
      /** Set by `tracing`: this request's trace and span ids (also in its log line). */
      trace?: { traceId: string; spanId: string };
    }
  }
}

/**
 * Middleware: one SERVER span per request (child of the caller's
 * `traceparent`), active for everything the request does, ended with its
 * status and route template once the response is finished.
 */
export function tracing(): RequestHandler {
  return (req, res, next) => {
    const remote = parseTraceparent(req.headers.traceparent);
    const parent: Context = remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : ROOT_CONTEXT;
    const span = tracer().startSpan(
      `HTTP ${req.method}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    let sc = span.spanContext();
    let active: Span = span;
    if (!span.isRecording()) {
      // No SDK: keep the caller's trace (or start one) with an id of our own, so it is still propagated.
      sc = {
        traceId: remote?.traceId ?? randomHex(16),
        spanId: randomHex(8),
        traceFlags: remote?.traceFlags ?? TraceFlags.NONE,
      };
      active = trace.wrapSpanContext(sc);
    }
    req.trace = { traceId: sc.traceId, spanId: sc.spanId };
    const header = formatTraceparent(sc);
    res.setHeader('traceparent', header);
    res.setHeader('traceresponse', header);
    res.once('finish', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.setAttribute('http.route', `${req.baseUrl}${route}`);
        span.updateName(`HTTP ${req.method} ${req.baseUrl}${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, active), next);
  };
}

/** Runs `fn` in a span named `name` (signing, a batch), recording an exception as an error. */
export async function inSpan<T>(
  name: string,
  attributes: Record<string, string | number>,
  fn: () => Promise<T> | T,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, kind }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The first keyword of a statement (the SQL span's name; never the text or parameters). */
function verbOf(sql: string): string {
  const m = /^\s*(?:WITH\b[\s\S]*?\)\s*)?([A-Za-z]+)/.exec(sql);
  return (m?.[1] ?? 'SQL').toUpperCase();
}

function tracedQueryable(q: Queryable, system: string): Queryable {
  return {
    query: <R>(sql: string, params?: unknown[]) => {
      // Skip the work when nobody listens (the no-op tracer): the common case.
      if (!trace.getSpan(context.active())?.isRecording()) return q.query<R>(sql, params);
      return inSpan(
        `SQL ${verbOf(sql)}`,
        { 'db.system.name': system, 'db.operation.name': verbOf(sql) },
        () => q.query<R>(sql, params),
        SpanKind.CLIENT,
      );
    },
    exec: (sql) => q.exec(sql),
  };
}

/**
 * A Database whose statements are SQL spans (CLIENT, named by their verb;
 * the statement text and parameters are never recorded), children of the
 * active span. Without a recording parent it only forwards.
 */
export function traceDatabase(db: Database): Database {
  const system = db.kind === 'pg' ? 'postgresql' : 'pglite';
  const q = tracedQueryable(db, system);
  return {
    kind: db.kind,
    query: q.query,
    exec: q.exec,
    transaction: (fn, opts) => db.transaction((tx) => fn(tracedQueryable(tx, system)), opts),
    close: () => db.close(),
  };
}

/** A running OpenTelemetry SDK; `shutdown` flushes the exporter. */
export interface Tracing {
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK (AsyncLocalStorage context, W3C
 * propagator) exporting over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, or
 * returns null when it is unset (the API stays a no-op).
 */
export async function startTracing(
  env: Record<string, string | undefined>,
): Promise<Tracing | null> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT) return null;
  const { NodeTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-node');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  // OTLP/HTTP spec: the traces endpoint as given, or the base endpoint + /v1/traces.
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  const exporter = new OTLPTraceExporter({ url });
  const provider = new NodeTracerProvider({
    spanProcessors: [new BatchSpanProcessor(exporter as never)],
  });
  provider.register();
  return { shutdown: () => provider.shutdown() };
}
