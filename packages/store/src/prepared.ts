// Hot statements, prepared once per connection (PostgreSQL): the driver sends
// them by name, so the server parses them once (PostgreSQL still plans each
// run for its parameters unless a generic plan is as cheap). For the
// statements every request makes (a verification's facts, a token lookup, a
// rate-limit count), parsing is a good part of their cost. Opt-in by text:
// statements built per call (a VALUES list of any length) must not fill every
// connection with prepared statements.

const names = new Map<string, string>();

/** Marks `sql` as a hot statement and returns it unchanged. */
export function prepared(sql: string): string {
  if (!names.has(sql)) names.set(sql, `provenant_${names.size}`);
  return sql;
}

/** The statement name of a hot statement (undefined: run it unnamed). */
export function preparedName(sql: string): string | undefined {
  return names.get(sql);
}
