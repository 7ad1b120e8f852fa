import type { BeginOptions, DialectSql } from '@sessionfactory/core/adapter';

/**
 * Postgres transaction SQL. BEGIN carries isolation and access mode in one statement, so
 * opening a transaction is a single round trip.
 *
 * @example
 * ```ts
 * postgresDialectSql.begin({ isolation: 'serializable', readOnly: true })
 * // ['BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY']
 * ```
 */
export const postgresDialectSql: DialectSql = {
  begin({ isolation, readOnly }: BeginOptions): readonly string[] {
    const level = isolation === undefined ? '' : ` ISOLATION LEVEL ${isolation.toUpperCase()}`;
    return [`BEGIN${level} ${readOnly ? 'READ ONLY' : 'READ WRITE'}`];
  },
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: (name) => `SAVEPOINT ${name}`,
  releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
};
