import type { DialectSql } from '@sessionfactory/core/adapter';

/**
 * SQLite's transaction statements. Writers use `BEGIN IMMEDIATE`, which takes the write
 * lock up front: two deferred transactions that both read and then try to write would
 * otherwise fail on lock upgrade, with no busy-wait to save them. Read-only sessions switch
 * on `PRAGMA query_only` (writes then fail with SQLITE_READONLY) and begin deferred, so
 * they never take the write lock; `afterEnd` switches it off again.
 *
 * @example
 * ```ts
 * sqliteDialectSql.begin({ readOnly: false }) // ['BEGIN IMMEDIATE']
 * sqliteDialectSql.begin({ readOnly: true }) // ['PRAGMA query_only = ON', 'BEGIN DEFERRED']
 * sqliteDialectSql.afterEnd?.({ readOnly: true }) // ['PRAGMA query_only = OFF']
 * ```
 */
export const sqliteDialectSql: DialectSql = {
  begin: ({ readOnly }) => (readOnly ? ['PRAGMA query_only = ON', 'BEGIN DEFERRED'] : ['BEGIN IMMEDIATE']),
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: (name) => `SAVEPOINT ${name}`,
  releaseSavepoint: (name) => `RELEASE SAVEPOINT ${name}`,
  rollbackToSavepoint: (name) => `ROLLBACK TO SAVEPOINT ${name}`,
  afterEnd: ({ readOnly }) => (readOnly ? ['PRAGMA query_only = OFF'] : []),
};
