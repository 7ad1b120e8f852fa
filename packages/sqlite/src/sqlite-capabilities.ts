import type { AdapterCapabilities } from '@sessionfactory/core';

/**
 * What SQLite can do. Every isolation level maps to `serializable` because that is what
 * SQLite always runs: one writer at a time, readers on a consistent snapshot. `cancel` is
 * false: better-sqlite3 runs statements synchronously on the caller's thread, so nothing
 * can interrupt one from outside. A `:memory:` database is private to its connection.
 *
 * @example
 * ```ts
 * sqliteCapabilities({ memory: false }).isolation['read committed'] // 'serializable'
 * sqliteCapabilities({ memory: true }).sharedDatabase // false
 * ```
 */
export function sqliteCapabilities(options: { readonly memory: boolean }): AdapterCapabilities {
  return {
    isolation: {
      'read uncommitted': 'serializable',
      'read committed': 'serializable',
      'repeatable read': 'serializable',
      serializable: 'serializable',
    },
    readOnly: true,
    savepoints: true,
    cancel: false,
    sync: 'native',
    sharedDatabase: !options.memory,
    transactionalDdl: true,
    returning: true,
    // A single writer cannot deadlock; contention shows up as SQLITE_BUSY after the busy timeout.
    concurrencyErrors: ['LOCK_TIMEOUT'],
  };
}
