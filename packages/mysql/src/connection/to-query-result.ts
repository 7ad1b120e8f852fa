import type { QueryResult } from 'kysely';

interface OkPacket {
  readonly insertId?: number | string | bigint | null;
  readonly affectedRows?: number | string | bigint | null;
  readonly changedRows?: number | string | bigint | null;
}

/**
 * Maps what mysql2's `query` returns to Kysely's `QueryResult`, as Kysely's MysqlDriver
 * does: rows for a result set; for an OK packet no rows, the affected and changed counts,
 * and `insertId` when an AUTO_INCREMENT value was generated.
 *
 * @example
 * ```ts
 * toQueryResult({ affectedRows: 1, insertId: 7, changedRows: 0 })
 * // { rows: [], numAffectedRows: 1n, numChangedRows: 0n, insertId: 7n }
 * ```
 */
export function toQueryResult(result: unknown): QueryResult<unknown> {
  if (!isOkPacket(result)) return { rows: Array.isArray(result) ? result : [] };
  const { insertId, affectedRows, changedRows } = result;
  return {
    rows: [],
    insertId: insertId != null && insertId.toString() !== '0' ? BigInt(insertId) : undefined,
    numAffectedRows: affectedRows != null ? BigInt(affectedRows) : undefined,
    numChangedRows: changedRows != null ? BigInt(changedRows) : undefined,
  };
}

function isOkPacket(value: unknown): value is OkPacket {
  return typeof value === 'object' && value !== null && 'insertId' in value && 'affectedRows' in value;
}
