// Request logging (DESIGN §8, §12): one pino line per request with request id,
// party, route, status, duration and trace ids; never a body, a token, a
// cookie, a stack trace or SQL. JSON lines, pretty-printed (pino-pretty) when
// stdout is a terminal; `service` names the part that logged (issuer,
// verifier, dock); 4xx at info, 5xx at error, the start's own seeding at debug.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import pretty from 'pino-pretty';

/** Log levels accepted in LOG_LEVEL. */
export type LogLevel = Level | 'silent';

/** Request header honoured (and echoed) as the request id. */
export const REQUEST_ID_HEADER = 'X-Request-Id';

// A client-supplied id is echoed and logged, so it must be short and inert.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths that must never appear in a log line even if a serializer lets them through. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/** Options of createLogger. */
export interface LoggerOptions {
  /** Human-readable lines (pino-pretty) instead of JSON; default: stdout is a terminal and no stream is given. */
  pretty?: boolean;
}

/**
 * Creates the root logger; `stream` lets tests capture lines. It carries no
 * `service`: each part adds its own with `logger.child({service})` (createApp
 * does), since pino would repeat a key given twice.
 */
export function createLogger(
  level: LogLevel = 'info',
  stream?: DestinationStream,
  opts: LoggerOptions = {},
): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: {},
  };
  const human = opts.pretty ?? (stream === undefined && process.stdout.isTTY === true);
  if (human)
    return pino(
      options,
      pretty({
        colorize: stream === undefined,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'req,res',
        ...(stream ? { destination: stream } : {}),
      }),
    );
  // stdout written asynchronously: lines logged while a write is in flight go
  // out together (one write, not one per request); pino flushes it on exit.
  return pino(options, stream ?? pino.destination({ dest: 1, sync: false }));
}

/**
 * An error as it may appear in a log line: type, code, a truncated message
 * and the first stack frame; never the stack, a query or its parameters.
 */
export function safeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const out: Record<string, unknown> = { type: err.name };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  out.message = err.message.length > 200 ? `${err.message.slice(0, 200)}…` : err.message;
  const frame = err.stack?.split('\n').find((l) => l.trimStart().startsWith('at '));
  if (frame) out.where = frame.trim();
  return out;
}

/** The matched route template (`/v1/parties/:gln`), never the concrete path. */
export function routeOf(req: Request): string | undefined {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? `${req.baseUrl}${path}` : undefined;
}

declare module 'http' {
  interface ServerResponse {
    /** A 5xx cause for the request's log line (problemHandler, /readyz); never sent. */
    err?: unknown;
  }
}

/**
 * Request-log middleware: request id from `X-Request-Id` when sane (else a
 * UUID), echoed back; after the response one line with reqId, req (id,
 * method, url), trace_id, span_id, gln, route, res.statusCode and
 * responseTime. 5xx lines are at error level and carry `err` from `res.err`
 * (set by problemHandler), reduced by `safeError`. The line is built once at
 * the end: pino-http made three child loggers per request, about a tenth of
 * a token-checked POST's CPU (bench verifier).
 */
export function requestLogger(logger: Logger, opts: RequestLoggerOptions = {}): RequestHandler {
  const quiet = opts.quiet ?? (() => false);
  // pino's own `err` serializer would add the stack: ours keeps one frame.
  const serializers = { err: safeError };
  const main = logger.child({ service: opts.service ?? 'issuer' }, { serializers });
  const dock = logger.child({ service: 'dock' }, { serializers });
  return (req, res, next) => {
    const given = req.headers['x-request-id'];
    const id = typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    res.setHeader(REQUEST_ID_HEADER, id);
    const log = req.path.startsWith('/dock') ? dock : main;
    const start = Date.now();
    const done = () => {
      res.removeListener('close', done);
      res.removeListener('finish', done);
      logLine(log, req, res, id, start, quiet(req));
    };
    res.on('close', done);
    res.on('finish', done);
    next();
  };
}

/** The one line of a finished (or closed) request. */
function logLine(
  log: Logger,
  req: Request,
  res: ServerResponse,
  id: string,
  start: number,
  quiet: boolean,
): void {
  const failed = res.err !== undefined || res.statusCode >= 500;
  const level = failed ? 'error' : quiet ? 'debug' : 'info';
  if (!log.isLevelEnabled(level)) return;
  const line: Record<string, unknown> = {
    reqId: id,
    req: { id, method: req.method, url: req.originalUrl ?? req.url },
  };
  if (req.trace) {
    line.trace_id = req.trace.traceId;
    line.span_id = req.trace.spanId;
  }
  if (req.principal) line.gln = req.principal.gln ?? 'operator';
  const route = routeOf(req);
  if (route) line.route = route;
  line.res = { statusCode: res.statusCode };
  if (failed) line.err = res.err ?? new Error(`failed with status code ${res.statusCode}`);
  line.responseTime = Date.now() - start;
  log[level](line, failed ? 'request errored' : 'request completed');
}

/** Options of requestLogger. */
export interface RequestLoggerOptions {
  /** The part these requests belong to (default issuer); paths under /dock log as `dock`. */
  service?: string;
  /** Requests to log at debug instead of info (the start's own seeding requests). */
  quiet?: (req: IncomingMessage) => boolean;
}
