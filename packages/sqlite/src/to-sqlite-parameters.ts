/**
 * Converts Kysely parameters into values better-sqlite3 can bind. It binds numbers,
 * strings, bigints, buffers and null only; Kysely's own SQLite driver converts nothing, so
 * `true`/`false` become 1/0 (SQLite's booleans) and a `Date` becomes its ISO-8601 text
 * (sortable, and understood by SQLite's date functions). The input is returned as is
 * when nothing needs converting.
 *
 * @example
 * ```ts
 * toSqliteParameters([true, false, 'x']) // [1, 0, 'x']
 * toSqliteParameters([new Date(0)]) // ['1970-01-01T00:00:00.000Z']
 * ```
 */
export function toSqliteParameters(parameters: readonly unknown[]): readonly unknown[] {
  // A plain loop: this runs for every statement.
  for (let i = 0; i < parameters.length; i++) {
    if (needsConversion(parameters[i])) return parameters.map(toSqliteValue);
  }
  return parameters;
}

function needsConversion(value: unknown): boolean {
  return typeof value === 'boolean' || value instanceof Date;
}

function toSqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}
