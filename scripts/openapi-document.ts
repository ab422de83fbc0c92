// The OpenAPI document exactly as `pnpm start` serves it at /openapi.json
// (scripts/start.ts): the issuer app with the verifier mounted, whose paths
// are registered in the issuer's registry. Built on a migrated database
// (in-memory PGlite unless one is given) without starting a server.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrate, openPglite, type Database } from '../packages/store/src/index.js';
import { createIssuer, loadConfig } from '../services/issuer/src/index.js';
import {
  createLogger,
  openApiDocument,
  type OpenAPIRegistry,
} from '../packages/server-kit/src/index.js';
import { verifierMount } from '../services/verifier/src/index.js';

/** The service's /openapi.json. `db`: a migrated database to build on (default: a fresh in-memory PGlite). */
export async function serviceDocument(db?: Database): Promise<Record<string, unknown>> {
  const own = db === undefined;
  const database = db ?? (await openPglite());
  const dataDir = mkdtempSync(join(tmpdir(), 'provenant-openapi-'));
  try {
    if (own) await migrate(database);
    const config = loadConfig({
      PROVENANT_MASTER_KEY: randomBytes(32).toString('base64'),
      PROVENANT_DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
    });
    const logger = createLogger('silent');
    const issuer = await createIssuer({ db: database, config, logger });
    const mount = verifierMount({
      db: database,
      logger,
      openapi: issuer.app.locals.openapi as OpenAPIRegistry,
      verifier: issuer.verifier,
    });
    try {
      return openApiDocument(issuer.app.locals.openapi as OpenAPIRegistry);
    } finally {
      await mount.close();
      await issuer.close();
    }
  } finally {
    if (own) await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
