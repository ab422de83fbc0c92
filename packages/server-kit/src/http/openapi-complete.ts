// What every operation of the API description carries without its route
// module writing it (DESIGN §8): an operationId, `security: []` when the
// route is anonymous, the statuses the framework itself answers with (bad
// bodies, auth, rate limits, database down), and one `$ref`'d Problem schema
// behind every error status. Route modules register the route-specific part
// (`registerPath` with `security` when a token is needed, success bodies and
// route-specific errors such as 404, 409, 422); `completeDocument` does the rest.

/** The one error schema (components.schemas.Problem, registered by createOpenApiRegistry). */
export const PROBLEM_REF = '#/components/schemas/Problem';

const PROBLEM_TYPE = 'application/problem+json';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

type Json = Record<string, unknown>;
type Parameter = { in?: string; name?: string };
type Operation = {
  operationId?: string;
  security?: unknown[];
  parameters?: Parameter[];
  requestBody?: unknown;
  responses?: Record<string, Json>;
};

/** What an operation looks like to the rules below. */
interface OperationFacts {
  path: string;
  method: string;
  secured: boolean;
  hasBody: boolean;
  pathParams: boolean;
  inputs: boolean;
  idempotent: boolean;
}

const retryAfter = {
  'Retry-After': {
    description: 'Seconds to wait before retrying',
    schema: { type: 'integer', minimum: 0 },
  },
};

/**
 * Statuses the framework answers on its own, and when (app.ts, http/*.ts):
 * a route module never needs to list these.
 */
const STANDARD_RESPONSES: {
  status: string;
  description: string;
  headers?: Json;
  applies(op: OperationFacts): boolean;
}[] = [
  {
    status: '400',
    description: 'Invalid request: malformed JSON, or a field breaking a rule (named in `errors`)',
    applies: (op) => op.inputs || op.hasBody,
  },
  {
    status: '401',
    description:
      'No bearer token where one is needed, or an unknown or revoked one (a token sent to an anonymous route must be valid too)',
    headers: {
      'WWW-Authenticate': { description: 'Bearer challenge', schema: { type: 'string' } },
    },
    applies: () => true,
  },
  {
    status: '403',
    description: 'The token lacks the scope, its party is suspended, or it acts for another party',
    applies: (op) => op.secured,
  },
  {
    status: '404',
    description: 'Nothing at this path',
    applies: (op) => op.pathParams,
  },
  {
    status: '409',
    description: 'A request with this Idempotency-Key is still in progress',
    applies: (op) => op.idempotent,
  },
  {
    status: '413',
    description: 'The request body exceeds the size limit',
    applies: (op) => op.hasBody,
  },
  {
    status: '415',
    description: 'The request body is not Content-Type: application/json',
    applies: (op) => op.hasBody,
  },
  {
    status: '422',
    description: 'The Idempotency-Key was already used with a different body',
    applies: (op) => op.idempotent,
  },
  {
    status: '429',
    description: 'Rate limit exceeded',
    headers: retryAfter,
    applies: (op) => op.path.startsWith('/v1/'),
  },
  {
    status: '503',
    description: 'The database is unavailable or busy; retry later',
    headers: retryAfter,
    applies: (op) => op.path.startsWith('/v1/') || op.path === '/readyz',
  },
];

/**
 * A pattern as JSON Schema wants it: the regex source without flags.
 * zod-to-openapi writes `RegExp#toString()` minus the leading slash, so a
 * regex with flags comes out as `source/flags`. A RegExp's source escapes
 * every '/', so an unescaped '/' followed only by flag letters is that suffix.
 */
export function stripRegexFlags(pattern: string): string {
  const m = /^([\s\S]*?)(\\*)\/[dgimsuyv]+$/.exec(pattern);
  if (!m || m[2]!.length % 2 === 1) return pattern;
  return m[1]! + m[2]!;
}

function stripPatterns(node: unknown): void {
  if (Array.isArray(node)) {
    for (const item of node) stripPatterns(item);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Json;
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'pattern' && typeof value === 'string') obj[key] = stripRegexFlags(value);
    else stripPatterns(value);
  }
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * `get /v1/parties/{gln}/keys` → `getPartiesByGlnKeys`: the method, then the
 * path's segments (without the version prefix), `By<Name>` for a parameter.
 */
export function operationIdOf(method: string, path: string): string {
  const words = path
    .split('/')
    .filter((seg, i) => seg !== '' && !(i === 1 && /^v\d+$/.test(seg)))
    .map((seg) => {
      const param = /^\{(.+)\}$/.exec(seg);
      const word = (param ? param[1]! : seg)
        .split(/[^A-Za-z0-9]+/)
        .filter(Boolean)
        .map(capital)
        .join('');
      return param ? `By${word}` : word;
    });
  return method + words.join('');
}

function factsOf(path: string, method: string, op: Operation): OperationFacts {
  const params = op.parameters ?? [];
  return {
    path,
    method,
    secured: (op.security ?? []).some((s) => Object.keys(s as object).length > 0),
    // Any request other than GET/HEAD may carry a body; the JSON guard answers 400/413/415 for it.
    hasBody: op.requestBody !== undefined || !['get', 'head'].includes(method),
    pathParams: params.some((p) => p.in === 'path'),
    inputs: params.some((p) => p.in === 'path' || p.in === 'query'),
    idempotent: params.some((p) => p.in === 'header' && /^idempotency-key$/i.test(p.name ?? '')),
  };
}

function completeResponses(op: Operation, facts: OperationFacts): void {
  const responses: Record<string, Json> = { ...op.responses };
  for (const std of STANDARD_RESPONSES) {
    if (responses[std.status] || !std.applies(facts)) continue;
    responses[std.status] = {
      description: std.description,
      ...(std.headers ? { headers: std.headers } : {}),
    };
  }
  for (const [status, response] of Object.entries(responses)) {
    // Every error answer is the one Problem schema (RFC 9457, DESIGN §8).
    if (/^[45]/.test(status))
      responses[status] = {
        ...response,
        content: { [PROBLEM_TYPE]: { schema: { $ref: PROBLEM_REF } } },
      };
  }
  op.responses = Object.fromEntries(
    Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)),
  );
}

/**
 * Completes a generated document in place (and returns it): patterns without
 * regex flags, and on every operation an operationId, `security: []` when
 * none was registered (anonymous), the framework's standard error statuses,
 * and the Problem `$ref` on every 4xx/5xx.
 * @throws Error when two operations end up with the same operationId.
 */
export function completeDocument(doc: Json): Json {
  stripPatterns(doc);
  const seen = new Map<string, string>();
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      op.operationId ??= operationIdOf(method, path);
      const other = seen.get(op.operationId);
      if (other)
        throw new Error(
          `OpenAPI: operationId ${op.operationId} of ${method} ${path} is taken by ${other}; set operationId in registerPath`,
        );
      seen.set(op.operationId, `${method} ${path}`);
      op.security ??= [];
      completeResponses(op, factsOf(path, method, op));
    }
  }
  return doc;
}
