// The contract check (issue 9): every response an integration test receives
// is validated against what the API description declares for its path,
// method and status (ajv, JSON Schema draft 2020-12, the document's own
// schemas). An undeclared path, method or status is a violation too.
//
// `watchContract(app)` hooks an app built by createApp (the shared helpers
// startTestIssuer and startTestWorld do it): every response the app sends,
// to supertest, fetch, the SDK or the CLI alike, is checked against the
// document that same app serves at /openapi.json. Violations are collected
// and tests/support/contract-setup.ts fails the test they happened in.
//
// A spawned service (tests/support/service-process.ts) is outside this
// process: `watchOrigin(url)` fetches the document it serves, and the global
// fetch that contract-setup.ts wraps (`checkFetchedResponses`) checks every
// response from that origin against it, whoever made the request (a test,
// the SDK, a helper).
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument, type createApp, type OpenAPIRegistry } from '@provenant/server-kit';

type App = ReturnType<typeof createApp>;
type Json = Record<string, unknown>;

// ajv-formats is CommonJS: its default export is the plugin, wrapped once more under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'trace'];

/** One response as the contract sees it. */
export interface Exchange {
  method: string;
  /** Request target as sent: path and query. */
  url: string;
  status: number;
  /** Content-Type header of the response, if any. */
  contentType?: string | undefined;
  /** The raw response body. */
  body: string;
}

interface PathMatcher {
  template: string;
  regex: RegExp;
  literal: number;
}

/** Escapes a JSON Pointer token (RFC 6901). */
const pointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A compiled API description: checks exchanges against it. */
export class Contract {
  private readonly ajv: Ajv2020;
  private readonly paths: PathMatcher[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly doc: Json) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(doc, 'openapi.json');
    this.paths = Object.keys((doc.paths ?? {}) as Json)
      .map((template) => ({
        template,
        regex: new RegExp(
          '^' +
            template
              .split(/(\{[^}]+\})/)
              .map((part) =>
                /^\{.+\}$/.test(part) ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
              )
              .join('') +
            '$',
        ),
        literal: template.replace(/\{[^}]+\}/g, '').length,
      }))
      // A concrete path wins over a templated one (OpenAPI 3.1 §4.8.8).
      .sort((a, b) => b.literal - a.literal);
  }

  /** The path template a request path falls under, or undefined. */
  template(path: string): string | undefined {
    return this.paths.find((p) => p.regex.test(path))?.template;
  }

  /** What is wrong with an exchange, or null when the description declares it exactly. */
  check(x: Exchange): string | null {
    const path = x.url.split('?')[0]!;
    const method = x.method.toLowerCase() === 'head' ? 'get' : x.method.toLowerCase();
    const where = `${x.method.toUpperCase()} ${path} → ${x.status}`;
    const template = this.template(path);
    if (!template) return `${where}: no path of the API description matches ${path}`;
    const item = (this.doc.paths as Record<string, Json>)[template]!;
    const op = item[method] as { responses?: Record<string, Json> } | undefined;
    if (!op || !METHODS.includes(method))
      return `${where}: ${template} declares no ${method.toUpperCase()} operation`;
    const responses = op.responses ?? {};
    const status = String(x.status);
    const key = [status, `${status[0]}XX`, 'default'].find((k) => responses[k] !== undefined);
    if (!key)
      return `${where}: status ${status} is not declared for ${method.toUpperCase()} ${template} (declared: ${Object.keys(responses).join(', ')})`;
    if (x.method.toLowerCase() === 'head' || x.status === 204 || x.status === 304) return null;
    return this.checkBody(where, template, method, key, responses[key]!, x);
  }

  private checkBody(
    where: string,
    template: string,
    method: string,
    key: string,
    response: Json,
    x: Exchange,
  ): string | null {
    const content = response.content as Record<string, Json> | undefined;
    if (!content) {
      return x.body.length === 0
        ? null
        : `${where}: the description declares no body, the response has one (${x.contentType ?? 'no Content-Type'})`;
    }
    const type = (x.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    const media = Object.keys(content).find((m) => m.toLowerCase() === type);
    if (!media)
      return `${where}: Content-Type ${type || '(none)'} is not declared (declared: ${Object.keys(content).join(', ')})`;
    if (!/[/+]json$/.test(media) || content[media]!.schema === undefined) return null;
    let body: unknown;
    try {
      body = JSON.parse(x.body);
    } catch {
      return `${where}: the ${media} body is not JSON`;
    }
    const validate = this.validator(template, method, key, media);
    if (validate(body)) return null;
    const errors = (validate.errors ?? [])
      .slice(0, 5)
      .map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}`.trim())
      .join('; ');
    return `${where}: the body does not match the declared schema: ${errors}`;
  }

  private validator(template: string, method: string, key: string, media: string) {
    const ref = `openapi.json#/paths/${pointer(template)}/${method}/responses/${pointer(key)}/content/${pointer(media)}/schema`;
    let v = this.validators.get(ref);
    if (!v) {
      v = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, v);
    }
    return v;
  }
}

// One compiled contract per distinct document (every app of a kind serves the same one).
const contracts = new Map<string, Contract>();

const byApp = new WeakMap<object, Contract>();

/**
 * The contract of the document an app serves at /openapi.json, built on its
 * first response (when every route module has registered, as /openapi.json is).
 */
export function contractOf(app: App): Contract {
  let c = byApp.get(app);
  if (c) return c;
  const registry = app.locals.openapi as OpenAPIRegistry | undefined;
  if (!registry) throw new Error('contract: not an app built by createApp (no locals.openapi)');
  const doc = openApiDocument(registry);
  const text = JSON.stringify(doc);
  c = contracts.get(text);
  if (!c) {
    c = new Contract(doc);
    contracts.set(text, c);
  }
  byApp.set(app, c);
  return c;
}

const violations: string[] = [];
// `GET /v1/parties/{gln} 200`: what the watched apps answered, for coverage checks.
const answered = new Set<string>();

/** Every `METHOD template status` a watched app answered so far in this test file. */
export function answeredOperations(): ReadonlySet<string> {
  return answered;
}
// Paths a test expects no route for (probing an unknown path is the point).
let undeclaredAllowed: RegExp[] = [];

/** Violations recorded since the last call, cleared. */
export function takeViolations(): string[] {
  return violations.splice(0, violations.length);
}

/**
 * Within `fn`, a 404 problem for a request path matching `path` and declared
 * by no operation is not a violation (for tests probing unknown routes).
 */
export async function allowingUndeclaredPath<T>(path: RegExp, fn: () => Promise<T>): Promise<T> {
  undeclaredAllowed.push(path);
  try {
    return await fn();
  } finally {
    undeclaredAllowed = undeclaredAllowed.filter((p) => p !== path);
  }
}

type Res = {
  statusCode: number;
  getHeader(name: string): unknown;
  write: (...args: unknown[]) => boolean;
  end: (...args: unknown[]) => unknown;
};
type Req = { method: string; originalUrl?: string; url: string };

function chunkOf(chunk: unknown, encoding: unknown): Buffer | null {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return null;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk);
  return Buffer.from(
    String(chunk),
    typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8',
  );
}

/** Checks one exchange and records what the app answered. */
function record(app: App, req: Req, x: Exchange): void {
  const contract = contractOf(app);
  const problem = contract.check(x);
  const path = x.url.split('?')[0]!;
  const template = contract.template(path);
  if (template) answered.add(`${req.method.toUpperCase()} ${template} ${x.status}`);
  // A test that sends a path outside the description on purpose (hostile or empty
  // segments) accepts whatever the framework answers before any route.
  const allowed = template === undefined && undeclaredAllowed.some((p) => p.test(path));
  if (problem && !allowed) violations.push(problem);
}

function observe(app: App, req: Req, res: Res): void {
  const url = req.originalUrl ?? req.url;
  const chunks: Buffer[] = [];
  const write = res.write;
  const end = res.end;
  res.write = function (this: Res, chunk: unknown, encoding?: unknown, ...rest: unknown[]) {
    const b = chunkOf(chunk, encoding);
    if (b) chunks.push(b);
    return write.call(this, chunk, encoding, ...rest);
  };
  res.end = function (this: Res, chunk?: unknown, encoding?: unknown, ...rest: unknown[]) {
    const b = chunkOf(chunk, encoding);
    if (b) chunks.push(b);
    const x: Exchange = {
      method: req.method,
      url,
      status: res.statusCode,
      contentType: res.getHeader('content-type') as string | undefined,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    try {
      record(app, req, x);
    } catch (err) {
      // Never break the response under test; the failure still fails the test.
      violations.push(`${x.method} ${x.url} → ${x.status}: contract check failed: ${String(err)}`);
    }
    return end.call(this, chunk, encoding, ...rest);
  };
}

const watched = new WeakSet<object>();

/**
 * Checks every response `app` sends from now on against the document it
 * serves; returns the app. Idempotent.
 */
export function watchContract<A extends App>(app: A): A {
  if (watched.has(app)) return app;
  watched.add(app);
  const handle = (app as unknown as { handle: (...a: unknown[]) => unknown }).handle;
  (app as unknown as { handle: (...a: unknown[]) => unknown }).handle = function (
    this: unknown,
    req: unknown,
    res: unknown,
    next: unknown,
  ) {
    observe(app, req as Req, res as Res);
    return handle.call(this, req, res, next);
  };
  return app;
}

// ---------------------------------------------------------------------------
// Responses of spawned services, seen through the global fetch.

const byOrigin = new Map<string, Contract>();
const pending = new Set<Promise<void>>();
let originalFetch: typeof fetch | null = null;

/** The origin of a URL, or null when it is not an absolute http(s) URL. */
function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return /^https?:$/.test(u.protocol) ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Checks, from now on, every fetched response from the service at `url`
 * against the document it serves at /openapi.json (fetched now, while it
 * runs). A no-op unless `checkFetchedResponses` wrapped fetch (under Jest):
 * benchmarks that start the same processes measure an unwrapped fetch.
 */
export async function watchOrigin(url: string): Promise<void> {
  const origin = originOf(url);
  if (!originalFetch || !origin || byOrigin.has(origin)) return;
  const res = await originalFetch(`${origin}/openapi.json`);
  if (!res.ok) throw new Error(`contract: ${origin}/openapi.json answered ${res.status}`);
  const doc = (await res.json()) as Json;
  const text = JSON.stringify(doc);
  let c = contracts.get(text);
  if (!c) {
    c = new Contract(doc);
    contracts.set(text, c);
  }
  byOrigin.set(origin, c);
}

function requestUrl(input: Parameters<typeof fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

function requestMethod(input: Parameters<typeof fetch>[0], init?: RequestInit): string {
  return (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
}

/** Checks one fetched exchange against the contract of its origin. */
async function checkFetched(contract: Contract, method: string, url: URL, res: Response) {
  const body = method === 'HEAD' ? '' : await res.text();
  const target = `${url.pathname}${url.search}`;
  const x: Exchange = {
    method,
    url: target,
    status: res.status,
    contentType: res.headers.get('content-type') ?? undefined,
    body,
  };
  const template = contract.template(url.pathname);
  if (template) answered.add(`${method} ${template} ${x.status}`);
  const problem = contract.check(x);
  const allowed = template === undefined && undeclaredAllowed.some((p) => p.test(url.pathname));
  if (problem && !allowed) violations.push(`${url.origin}: ${problem}`);
}

/**
 * Wraps the global fetch (once) so that every response from a watched
 * origin is checked; the caller gets the response untouched (a clone is read).
 */
export function checkFetchedResponses(): void {
  if (originalFetch) return;
  const real = globalThis.fetch;
  originalFetch = real;
  globalThis.fetch = async function contractFetch(input, init) {
    const res = await real(input, init);
    const url = requestUrl(input);
    const origin = originOf(url);
    const contract = origin ? byOrigin.get(origin) : undefined;
    if (contract) {
      const method = requestMethod(input, init);
      const check = checkFetched(contract, method, new URL(url), res.clone()).catch(
        (err: unknown) => {
          violations.push(
            `${method} ${url} → ${res.status}: contract check failed: ${String(err)}`,
          );
        },
      );
      pending.add(check);
      void check.finally(() => pending.delete(check));
    }
    return res;
  } as typeof fetch;
}

/** Waits for the checks of responses fetched so far (their bodies are read in the background). */
export async function settleFetchedChecks(): Promise<void> {
  while (pending.size > 0) await Promise.all([...pending]);
}
