// Minimal ambient typings for the parts of `pg` this package uses (pg ships no
// types and @types/pg is not a dependency). Never re-exported from the public API.
declare module 'pg' {
  interface TypeParserSource {
    getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown;
  }
  export interface ClientConfig {
    connectionString?: string;
    connectionTimeoutMillis?: number;
    statement_timeout?: number;
    application_name?: string;
    /** server options at connection start, e.g. `-c name=value` */
    options?: string;
    types?: TypeParserSource;
  }
  export interface PoolConfig extends ClientConfig {
    max?: number;
    idleTimeoutMillis?: number;
  }
  export interface QueryResult<R> {
    rows: R[];
    rowCount: number | null;
    command: string;
  }
  /** A query by config; `name` prepares it once per connection. */
  export interface QueryConfig {
    text: string;
    values?: unknown[] | undefined;
    name?: string;
  }
  export interface PoolClient {
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
    query<R = Record<string, unknown>>(config: QueryConfig): Promise<QueryResult<R>>;
    release(err?: Error | boolean): void;
  }
  export class Pool {
    constructor(config?: PoolConfig);
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
    query<R = Record<string, unknown>>(config: QueryConfig): Promise<QueryResult<R>>;
    connect(): Promise<PoolClient>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  export class Client {
    constructor(config?: ClientConfig);
    connect(): Promise<void>;
    query<R = Record<string, unknown>>(text: string, values?: unknown[]): Promise<QueryResult<R>>;
    end(): Promise<void>;
    on(event: 'error', listener: (err: Error) => void): this;
  }
  export const types: TypeParserSource;
  const pg: { Pool: typeof Pool; Client: typeof Client; types: TypeParserSource };
  export default pg;
}
