// Regenerates db/schema.sql from db/migrations on an in-memory PGlite (or on
// DATABASE_URL, which must point at an empty database).
// Usage: node --import tsx packages/store/scripts/dump-schema.ts [--check]
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dumpSchema, migrate, openPg, openPglite } from '../src/index.js';

const target = fileURLToPath(new URL('../../../db/schema.sql', import.meta.url));
const db = process.env.DATABASE_URL ? await openPg(process.env.DATABASE_URL) : await openPglite();
try {
  await migrate(db);
  const schema = await dumpSchema(db);
  if (process.argv.includes('--check')) {
    const current = await readFile(target, 'utf8').catch(() => '');
    if (current !== schema) {
      console.error('db/schema.sql is out of date: regenerate it');
      process.exitCode = 1;
    }
  } else {
    await writeFile(target, schema);
    console.log(`wrote ${target}`);
  }
} finally {
  await db.close();
}
