// A deterministic schema dump built from the catalogue (no pg_dump, so the
// output does not drift with the client version and works on PGlite too).
import type { Queryable } from './driver.js';

const HEADER = `-- db/schema.sql: GENERATED from db/migrations, do not edit.
-- Regenerate: node --import tsx packages/store/scripts/dump-schema.ts
-- A test (packages/store/src/schema.test.ts) keeps it in sync with the migrations.
`;

/** The public schema as SQL text: tables, constraints, indexes, functions, triggers, each sorted by name. */
export async function dumpSchema(q: Queryable): Promise<string> {
  const out: string[] = [HEADER];

  const { rows: fns } = await q.query<{ def: string }>(
    `SELECT pg_get_functiondef(p.oid) AS def FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' ORDER BY p.proname, p.oid`,
  );
  for (const f of fns) out.push(f.def.trim() + ';\n');

  const { rows: tables } = await q.query<{ oid: number; name: string }>(
    `SELECT c.oid::integer AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
  );
  for (const t of tables) {
    const { rows: cols } = await q.query<{
      name: string;
      type: string;
      notnull: boolean;
      def: string | null;
    }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
              pg_get_expr(d.adbin, d.adrelid) AS def
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [t.oid],
    );
    const lines = cols.map(
      (c) =>
        `  ${c.name} ${c.type}${c.notnull ? ' NOT NULL' : ''}${c.def !== null ? ` DEFAULT ${c.def}` : ''}`,
    );
    out.push(`CREATE TABLE ${t.name} (\n${lines.join(',\n')}\n);\n`);

    // contype 'n' (NOT NULL as constraints, PostgreSQL 18) is already shown on the columns.
    const { rows: cons } = await q.query<{ name: string; def: string }>(
      `SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE conrelid = $1::oid AND contype IN ('p', 'u', 'c', 'f', 'x') ORDER BY contype, conname`,
      [t.oid],
    );
    for (const c of cons) out.push(`ALTER TABLE ${t.name} ADD CONSTRAINT ${c.name} ${c.def};`);

    const { rows: idx } = await q.query<{ def: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
       WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       ORDER BY c.relname`,
      [t.oid],
    );
    for (const i of idx) out.push(`${i.def};`);

    const { rows: trg } = await q.query<{ def: string }>(
      `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgrelid = $1::oid AND NOT tgisinternal ORDER BY tgname`,
      [t.oid],
    );
    for (const g of trg) out.push(`${g.def};`);
    out.push('');
  }
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}
