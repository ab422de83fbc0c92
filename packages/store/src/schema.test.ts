// db/schema.sql must stay what the migrations produce (regenerate with
// `node --import tsx packages/store/scripts/dump-schema.ts`).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { createTestDatabase, dumpSchema, storageDrivers } from './index.js';

const schemaFile = new URL('../../../db/schema.sql', import.meta.url);

describe.each(storageDrivers())('db/schema.sql on %s', (driver) => {
  it('matches the schema the migrations produce (regenerate: node --import tsx packages/store/scripts/dump-schema.ts)', async () => {
    const db = await createTestDatabase(driver);
    try {
      const actual = await dumpSchema(db);
      const committed = await readFile(schemaFile, 'utf8');
      expect(actual).toBe(committed);
    } finally {
      await db.drop();
    }
  }, 60_000);
});
