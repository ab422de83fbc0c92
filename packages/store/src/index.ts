// @provenant/store public API: the driver interface and its two drivers, the
// migrations runner, and one repository module per table (DESIGN §9).
export type {
  Database,
  IsolationLevel,
  QueryResult,
  Queryable,
  TransactionOptions,
} from './driver.js';
export {
  AppendOnlyViolationError,
  DatabaseUnavailableError,
  LogStorageError,
  MigrationError,
  QueryError,
  SerializationFailureError,
  StoreError,
  StoreMisuseError,
  UniqueViolationError,
} from './errors.js';
export { openPg, type PgOptions } from './pg-driver.js';
export {
  isReadReplica,
  primaryUrlFrom,
  primaryUrlOf,
  readsFromReplica,
  replicaDatabase,
} from './replica.js';
export type { WalSender } from './replica.js';
export { openPglite, type PgliteDatabase, type PgliteOptions } from './pglite-driver.js';
export { openDatabase, pgliteDataDir, type DatabaseEnv } from './open.js';
export {
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
  restrictUmask,
  securePrivateDir,
} from './private-dir.js';
export { DEFAULT_MIGRATIONS_DIR, migrate, readMigrations, type MigrationFile } from './migrate.js';
export { dumpSchema } from './schema-dump.js';

export * from './parties.js';
export * from './witnesses.js';
export * from './keys.js';
export * from './tokens.js';
export * from './records.js';
export * from './notices.js';
export * from './log.js';
export * from './idempotency.js';
export * from './prechecks.js';
export * from './webhooks.js';
export * from './epcis.js';
export * from './epcis-query.js';
export { buildBundle, inclusionProofs, receiptOf } from './bundles.js';

export {
  createTestDatabase,
  storageDrivers,
  type StorageDriver,
  type TestDatabase,
} from './testing.js';
export { BackupError, backupDatabase, restoreDatabase } from './backup.js';
export { LOCK_FILE, lockDataDir } from './data-dir-lock.js';
export * from './rate-limits.js';
export * from './verifier-state.js';
export * from './verifier-facts.js';
export * from './coalesce.js';
export * from './prepared.js';
