// A real issuer for integration tests: a fresh migrated database (PGlite, or
// PostgreSQL when PROVENANT_TEST_DATABASE_URL is set), the full route set,
// and an admin token. No mocks.
import { createTestDatabase, type TestDatabase } from '@provenant/store';
import { createIssuer, type Config, type Issuer } from '@provenant/issuer';
import { hashToken } from '@provenant/server-kit';
import { watchContract } from './contract.js';

export const TEST_ADMIN_TOKEN = 'pvn_test-admin-token-0000000000000000000000000';

export interface TestIssuer extends Issuer {
  db: TestDatabase;
  adminToken: string;
  config: Config;
  /** Drains the sequencer and drops the database. */
  stop(): Promise<void>;
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    port: 0,
    databaseUrl: null,
    dataDir: '/nonexistent',
    masterKey: new Uint8Array(32).fill(7),
    masterKeySource: 'env',
    adminTokenHash: hashToken(TEST_ADMIN_TOKEN),
    logOrigin: 'test.provenant/log',
    logLevel: 'silent',
    bodyLimit: 16 * 1024 * 1024,
    ...overrides,
  };
}

/** `now`: the sequencer's clock for receipt times (epoch ms), to play time forward in a test. */
export async function startTestIssuer(
  overrides: Partial<Config> = {},
  opts: { now?: () => number } = {},
): Promise<TestIssuer> {
  const db = await createTestDatabase();
  const config = testConfig(overrides);
  const issuer = await createIssuer({ db, config, ...(opts.now ? { now: opts.now } : {}) });
  return {
    ...issuer,
    // Every response is checked against the API description (tests/support/contract.ts).
    app: watchContract(issuer.app),
    db,
    config,
    adminToken: TEST_ADMIN_TOKEN,
    async stop() {
      await issuer.close();
      await db.drop();
    },
  };
}
