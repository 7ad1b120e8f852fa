import type { BeginOptions, DialectSql } from '@sessionfactory/core';

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
  savepoint: (name) => `SAVEPOINT ${quoteIdentifier(name)}`,
  releaseSavepoint: (name) => `RELEASE SAVEPOINT ${quoteIdentifier(name)}`,
  rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${quoteIdentifier(name)}`,
};

// Core generates savepoint names (`sp_1`); quoting keeps any name a single identifier.
function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}
