// Storage errors. Messages never carry SQL text or parameter values (DESIGN §8:
// no SQL in a response or a log line); callers branch on `code` and `instanceof`.

/** Base class of every error this package throws; `code` is stable. */
export class StoreError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The database cannot be reached or refused the connection: services answer 503. */
export class DatabaseUnavailableError extends StoreError {
  constructor(message = 'database unavailable') {
    super('DATABASE_UNAVAILABLE', message);
  }
}

/** A unique or primary-key constraint refused a write; `constraint` names it. */
export class UniqueViolationError extends StoreError {
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  constructor(constraint: string | undefined, table: string | undefined) {
    super('UNIQUE_VIOLATION', `unique constraint ${constraint ?? '(unknown)'} violated`);
    this.constraint = constraint;
    this.table = table;
  }
}

/** UPDATE, DELETE or TRUNCATE on an append-only table (DESIGN §9). */
export class AppendOnlyViolationError extends StoreError {
  readonly table: string | undefined;
  constructor(table: string | undefined) {
    super('APPEND_ONLY_VIOLATION', `append-only table ${table ?? '(unknown)'}`);
    this.table = table;
  }
}

/** The transaction lost a serialization or deadlock race more times than retried. */
export class SerializationFailureError extends StoreError {
  readonly sqlState: string;
  constructor(sqlState: string) {
    super('SERIALIZATION_FAILURE', `transaction aborted (SQLSTATE ${sqlState})`);
    this.sqlState = sqlState;
  }
}

/** Any other database error: only the SQLSTATE and catalogue names are kept. */
export class QueryError extends StoreError {
  readonly sqlState: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  constructor(sqlState: string | undefined, constraint?: string, table?: string) {
    super('QUERY_FAILED', `database query failed (SQLSTATE ${sqlState ?? 'unknown'})`);
    this.sqlState = sqlState;
    this.constraint = constraint;
    this.table = table;
  }
}

/** A store function was used against its contract (bad argument, nested transaction...). */
export class StoreMisuseError extends StoreError {
  constructor(message: string) {
    super('STORE_MISUSE', message);
  }
}

/** A migration file is malformed, renamed after it was applied, or failed. */
export class MigrationError extends StoreError {
  constructor(message: string) {
    super('MIGRATION_FAILED', message);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the database itself is missing
]);

const CONNECTION_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /connection timeout/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
  /client was closed/i,
  /pglite is closed/i,
];

/** SQLSTATE of the append-only trigger (raise_exception with our message). */
const APPEND_ONLY_PREFIX = 'append-only table ';

/**
 * Maps a driver error (pg or PGlite) to a StoreError without leaking SQL or
 * parameters. StoreErrors pass through unchanged.
 */
export function mapDatabaseError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = (err ?? {}) as {
    code?: unknown;
    message?: unknown;
    constraint?: unknown;
    table?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  const constraint = typeof e.constraint === 'string' ? e.constraint : undefined;
  const table = typeof e.table === 'string' ? e.table : undefined;
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith('08'))) {
    return new DatabaseUnavailableError();
  }
  if (code === undefined && CONNECTION_MESSAGES.some((re) => re.test(message))) {
    return new DatabaseUnavailableError();
  }
  if (
    err instanceof AggregateError &&
    err.errors.some((x) => mapDatabaseError(x) instanceof DatabaseUnavailableError)
  ) {
    return new DatabaseUnavailableError();
  }
  if (code === '23505') return new UniqueViolationError(constraint, table);
  if (code === 'P0001' && message.startsWith(APPEND_ONLY_PREFIX)) {
    return new AppendOnlyViolationError(message.slice(APPEND_ONLY_PREFIX.length).trim());
  }
  if (code === '40001' || code === '40P01') return new SerializationFailureError(code);
  return new QueryError(code, constraint, table);
}

/** The log's stored tree is inconsistent (a subtree hash missing, the size moved under a lock). */
export class LogStorageError extends StoreError {
  constructor(message: string) {
    super('LOG_STORAGE_INCONSISTENT', message);
  }
}
