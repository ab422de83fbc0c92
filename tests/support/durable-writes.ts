// Child process of tests/durability.test.ts and the bench: opens a
// file-backed PGlite through the store's driver (openDatabase, as the
// service does) and makes N acknowledged writes, one transaction each.
// Usage: node --import tsx tests/support/durable-writes.ts <dataDir> <n> [nosync]
// Prints `acknowledged <n> <ms>` on stdout.
import { openPglite, pgliteDataDir } from '../../packages/store/src/index.js';

const [dataDir, count, mode] = process.argv.slice(2);
if (!dataDir || count === undefined)
  throw new Error('usage: durable-writes <dataDir> <n> [nosync]');
const db = await openPglite(pgliteDataDir({ PROVENANT_DATA_DIR: dataDir }), {
  sync: mode !== 'nosync',
});
await db.exec(
  'CREATE TABLE IF NOT EXISTS durable_writes (n integer NOT NULL, at timestamptz NOT NULL DEFAULT now())',
);
const n = Number(count);
const started = performance.now();
for (let i = 0; i < n; i++)
  await db.transaction(async (tx) => {
    await tx.query('INSERT INTO durable_writes (n) VALUES ($1)', [i]);
  });
const ms = performance.now() - started;
await db.close();
process.stdout.write(`acknowledged ${n} ${ms.toFixed(1)}\n`);
