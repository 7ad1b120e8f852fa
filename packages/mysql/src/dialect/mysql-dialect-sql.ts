import type { BeginOptions, DialectSql } from '@sessionfactory/core/adapter';

/**
 * MySQL/MariaDB transaction SQL. `SET TRANSACTION` (without SESSION) applies to the next
 * transaction only, so the connection's own default is untouched afterwards. Everything
 * runs over the text protocol: MySQL cannot prepare SAVEPOINT statements.
 *
 * @example
 * ```ts
 * mysqlDialectSql.begin({ isolation: 'serializable', readOnly: true })
 * // ['SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', 'START TRANSACTION READ ONLY']
 * ```
 */
export const mysqlDialectSql: DialectSql = {
  begin(options: BeginOptions): readonly string[] {
    const start = `START TRANSACTION ${options.readOnly ? 'READ ONLY' : 'READ WRITE'}`;
    if (options.isolation === undefined) return [start];
    return [`SET TRANSACTION ISOLATION LEVEL ${options.isolation.toUpperCase()}`, start];
  },
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  // Names arrive as identifiers: core's own (`sp_1`), or a user's already quoted by core.
  savepoint: (name) => `SAVEPOINT ${name}`,
  releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
};
