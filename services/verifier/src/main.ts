// The standalone verifier process (DESIGN §7b, `pnpm start:verifier`):
// config -> open the PostgreSQL database (the primary or a streaming
// replica; the verifier never migrates: the issuer owns the schema) ->
// createVerifier with the trust file's public keys and its own receipt key ->
// listen. Graceful shutdown: stop accepting, drain, stop the signature
// workers, close the database.
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import {
  isReadReplica,
  openPg,
  primaryUrlOf,
  replicaDatabase,
  type Database,
} from '@provenant/store';
import {
  ConfigError,
  createLogger,
  createMetrics,
  listen,
  metricsServer,
  startTracing,
  traceDatabase,
  type Env,
} from '@provenant/server-kit';
import { loadVerifierConfig, type StandaloneVerifierConfig } from './config.js';
import { createVerifier, type Verifier } from './verifier.js';

/** Exit status of a configuration error (a missing or invalid variable). */
export const EXIT_CONFIG = 2;

/** How long in-flight requests may take to finish before their sockets are cut (ms). */
const SHUTDOWN_GRACE_MS = 10_000;

export interface StartVerifierOptions {
  /** Environment to configure from (default process.env). */
  env?: Env;
  /** Prints the start line (default: stdout). */
  print?: (text: string) => void;
  logger?: Logger;
}

/** A running standalone verifier. */
export interface RunningVerifier {
  config: StandaloneVerifierConfig;
  db: Database;
  verifier: Verifier;
  server: Server;
  port: number;
  /** http://localhost:<port> */
  url: string;
  /** Stops accepting, drains, stops the workers and closes the database. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The verifier's database: DATABASE_URL alone, or on a streaming replica its
 * log reads there and its own rows (verifications, cases, monitor state) on
 * the primary (DESIGN §7b): PROVENANT_VERIFIER_STATE_URL when set, else the
 * primary the replica streams from, with DATABASE_URL's user and database.
 * @throws ConfigError when DATABASE_URL is a replica that does not name its primary and no state URL is set.
 */
async function openLogDatabase(
  config: StandaloneVerifierConfig,
  logger: Logger,
): Promise<Database> {
  const logDb = await openPg(config.databaseUrl);
  try {
    if (config.stateUrl) return replicaDatabase(logDb, await openPg(config.stateUrl));
    if (!(await isReadReplica(logDb))) return logDb;
    const primary = await primaryUrlOf(logDb, config.databaseUrl);
    if (!primary)
      throw new ConfigError(
        'PROVENANT_VERIFIER_STATE_URL',
        'is required when DATABASE_URL is a streaming replica that does not name its primary (it takes no writes): set it to the primary, where the verifier keeps its own rows',
      );
    const { hostname, port } = new URL(primary);
    logger.info(
      { primary: `${hostname}:${port}` },
      'verifier rows go to the primary the replica streams from',
    );
    return replicaDatabase(logDb, await openPg(primary));
  } catch (err) {
    await logDb.close();
    throw err;
  }
}

/**
 * Starts a standalone verifier.
 * @throws ConfigError naming the variable at fault; database or listen errors.
 */
export async function startVerifier(opts: StartVerifierOptions = {}): Promise<RunningVerifier> {
  const env = opts.env ?? process.env;
  const print =
    opts.print ?? ((t: string) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'));
  const config = loadVerifierConfig(env);
  const logger = opts.logger ?? createLogger(config.config.logLevel);
  const tracingSdk = await startTracing(env);
  const rawDb = await openLogDatabase(config, logger);
  const db = tracingSdk ? traceDatabase(rawDb) : rawDb;
  let verifier: Verifier | undefined;
  let server: Server | undefined;
  let metricsSrv: Server | undefined;
  const closeAll = async (): Promise<void> => {
    if (metricsSrv?.listening) await new Promise<void>((r) => metricsSrv!.close(() => r()));
    await verifier?.close();
    await db.close();
    await tracingSdk?.shutdown();
  };
  try {
    // The issuer migrates; a verifier on an empty database would answer 500s, so say why now.
    const { rows } = await db.query<{ t: string | null }>(
      "SELECT to_regclass('log_leaves')::text AS t",
    );
    if (rows[0]?.t == null)
      throw new Error(
        'the database has no Provenant log (table log_leaves): start the issuer on it first, which migrates it',
      );
    const metrics = createMetrics(db);
    verifier = createVerifier({
      db,
      config: config.config,
      trust: config.trust,
      origin: config.origin,
      verifierSeed: config.verifierSeed,
      logger,
      metrics,
      // DESIGN §7b: follows the log in the background; /readyz is 503 while an alarm is open.
      follow: true,
      standalone: true,
      ...(config.trust.maxCheckpointAgeSeconds !== undefined
        ? { policy: { maxBundleAgeSeconds: config.trust.maxCheckpointAgeSeconds } }
        : {}),
    });
    server = createServer(verifier.app);
    const port = await listen(server, config.port);
    if (config.metricsPort) {
      metricsSrv = metricsServer(metrics);
      await listen(metricsSrv, config.metricsPort);
    }
    const url = `http://localhost:${port}`;
    print(
      [
        `Provenant verifier listening on ${url}`,
        `  trust file: ${config.trustFile} (log ${config.origin})`,
        `  receipt key: ${verifier.deps.verifierKey.kid}`,
      ].join('\n'),
    );
    const srv = server;
    let stopping: Promise<void> | undefined;
    return {
      config,
      db,
      verifier,
      server: srv,
      port,
      url,
      stop() {
        stopping ??= (async () => {
          const closed = new Promise<void>((r) => srv.close(() => r()));
          srv.closeIdleConnections();
          const cut = setTimeout(() => srv.closeAllConnections(), SHUTDOWN_GRACE_MS);
          cut.unref();
          await closed;
          clearTimeout(cut);
          await closeAll();
        })();
        return stopping;
      },
    };
  } catch (err) {
    if (server?.listening) await new Promise<void>((r) => server!.close(() => r()));
    await closeAll();
    throw err;
  }
}

/**
 * Runs the standalone verifier until SIGINT/SIGTERM, then shuts down. Sets
 * process.exitCode (2 for a configuration error, 1 for any other start
 * failure); never throws.
 */
export async function main(opts: StartVerifierOptions = {}): Promise<void> {
  let running: RunningVerifier | undefined;
  let signalled = false;
  const stop = (): void => {
    running!.stop().then(
      () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`provenant-verifier: shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  function onSignal(signal: NodeJS.Signals): void {
    if (signalled) return;
    signalled = true;
    process.stderr.write(`provenant-verifier: ${signal}, shutting down\n`);
    if (running) stop();
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    running = await startVerifier(opts);
  } catch (err) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const e = err as { name?: string; message?: string; code?: string };
    // ConfigError messages name the variable, never its value.
    process.stderr.write(
      `provenant-verifier: cannot start: ${e.name ?? 'Error'}: ${e.message ?? String(err)}\n`,
    );
    process.exitCode = e.name === 'ConfigError' ? EXIT_CONFIG : 1;
    return;
  }
  if (signalled) stop();
}
