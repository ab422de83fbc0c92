// Composition root of the issuer (DESIGN §2): one database, the log keys
// derived from the master key, the sequencer (the one writer of records and
// the log), the custodial signer, and every route module on one Express app.
import type { Express } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Database } from '@provenant/store';
import {
  createApp,
  createMetrics,
  eventsOfBatch,
  tokenLookupFor,
  type Metrics,
} from '@provenant/server-kit';
import type { Config } from './config.js';
import { CustodialSigner, ensureAuthorityKey } from './append/custodial.js';
import { deriveLogKeys } from './log/keys.js';
import { Sequencer } from './log/sequencer.js';
import type { IssuerDeps } from './deps.js';
import { verifierHandoff, type VerifierHandoff } from './handoff.js';
import { ISSUER_ROUTES } from './routes/index.js';

export type { IssuerDeps };

export interface Issuer {
  app: Express;
  deps: IssuerDeps;
  /** What an embedded verifier gets (public trust and its own key, never the master key). */
  verifier: VerifierHandoff;
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
  return {
    app,
    deps,
    verifier: verifierHandoff(config, { logKeys, authorityPublicKey: authority.publicKey }),
    close: () => sequencer.close(),
  };
}
