import type { QueryResult } from 'kysely';
import type { QueryResult as PgQueryResult } from 'pg';

const WRITE_COMMANDS: ReadonlySet<string> = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * Converts a pg result to Kysely's shape the way Kysely's own PostgresDriver does:
 * `numAffectedRows` only for INSERT/UPDATE/DELETE/MERGE. For a multi-statement text, the
 * last statement's result is the one returned.
 *
 * @example
 * ```ts
 * toQueryResult(await client.query({ text: 'DELETE FROM t', values: [] }))
 * // { rows: [], numAffectedRows: 3n }
 * ```
 */
export function toQueryResult(result: PgQueryResult | PgQueryResult[]): QueryResult<unknown> {
  const last = Array.isArray(result) ? result.at(-1) : result;
  if (last === undefined) return { rows: [] };
  const rows = last.rows ?? [];
  return WRITE_COMMANDS.has(last.command) ? { rows, numAffectedRows: BigInt(last.rowCount ?? 0) } : { rows };
}
