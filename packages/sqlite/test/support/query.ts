import { CompiledQuery } from 'kysely';

/**
 * A raw compiled query, as Kysely would hand it to the driver.
 *
 * @example
 * ```ts
 * await connection.execute(query('SELECT ? AS one', [1]))
 * ```
 */
export function query(sql: string, parameters: readonly unknown[] = []): CompiledQuery {
  return CompiledQuery.raw(sql, [...parameters]);
}
