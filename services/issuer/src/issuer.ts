// Composition root of the issuer (DESIGN §2): one database, the log keys
// derived from the master key, the sequencer (the one writer of records and
// the log), the custodial signer, and every route module on one Express app.
import type { Express } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Database } from '@provenant/store';
import { createApp } from './app.js';
import type { AppDeps } from './app.js';
import type { Config } from './config.js';
import { CustodialSigner, ensureAuthorityKey } from './append/custodial.js';
import { tokenLookupFor } from './http/store-adapters.js';
import { deriveLogKeys } from './log/keys.js';
import type { LogKeys } from './log/keys.js';
import { Sequencer } from './log/sequencer.js';
import { ISSUER_ROUTES } from './routes/index.js';
import { eventsOfBatch } from './webhooks/events.js';
import { createMetrics, type Metrics } from './metrics.js';

/** What every issuer route module receives (besides openapi and logger). */
export interface IssuerDeps extends AppDeps<Database> {
  config: Config;
  logKeys: LogKeys;
  authorityPublicKey: Uint8Array;
  sequencer: Sequencer;
  signer: CustodialSigner;
  /**
   * Milliseconds since the epoch: the clock of the sequencer and of the GS1
   * §7.12 century of label dates (the verifier reads scans with the same one).
   */
  now: () => number;
}

export interface Issuer {
  app: Express;
  deps: IssuerDeps;
  /** Drains the sequencer; the caller closes the database. */
  close(): Promise<void>;
}

/**
 * Builds the issuer on a migrated database.
 * @throws whatever the database throws while the log is initialised.
 */
export async function createIssuer(opts: {
  db: Database;
  config: Config;
  logger?: Logger;
  now?: () => number;
  /** Shared with the verifier mounted in the same process (default: a new registry). */
  metrics?: Metrics;
  /** Requests logged at debug (main.ts: its own demo seeding). */
  quietRequest?: (req: IncomingMessage) => boolean;
}): Promise<Issuer> {
  const { db, config } = opts;
  const metrics = opts.metrics ?? createMetrics(db);
  const logKeys = deriveLogKeys(config.masterKey, config.logOrigin);
  const now = opts.now ?? Date.now;
  const sequencer = new Sequencer({
    db,
    keys: logKeys,
    now,
    ...(config.maxBackdateMs !== undefined ? { maxBackdateMs: config.maxBackdateMs } : {}),
    // DESIGN §12: the outbox rows of receipts, recalls, revocations and suspensions.
    events: eventsOfBatch,
    onBatch: (entries, ms) => metrics.observeBatch(entries, ms),
  });
  await sequencer.init();
  const authority = await ensureAuthorityKey(db, config.masterKey);
  const signer = new CustodialSigner({ masterKey: config.masterKey });
  const deps: IssuerDeps = {
    db,
    config,
    tokens: tokenLookupFor(db),
    logKeys,
    authorityPublicKey: authority.publicKey,
    sequencer,
    signer,
    now,
    metrics,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.quietRequest ? { quietRequest: opts.quietRequest } : {}),
  };
  const app = createApp({ ...deps, routes: ISSUER_ROUTES });
  return { app, deps, close: () => sequencer.close() };
}
