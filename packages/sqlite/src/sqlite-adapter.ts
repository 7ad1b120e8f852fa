import { ConnectionError } from '@sessionfactory/core';
import { type Adapter, type LockWait, retryWhileLocked, retryWhileLockedSync } from '@sessionfactory/core/adapter';
import { classifySqliteError } from './classify-sqlite-error.js';
import { applyConnectionPragmas, openSqliteDatabase } from './open-sqlite-database.js';
import { resolveSqliteConfig } from './resolve-sqlite-config.js';
import { sqliteCapabilities } from './sqlite-capabilities.js';
import type { SqliteConfig } from './sqlite-config.js';
import { sqliteDialectSql } from './sqlite-dialect-sql.js';
import { SqliteDriverConnection } from './sqlite-driver-connection.js';
import { sqliteKyselyParts } from './sqlite-kysely-parts.js';

/**
 * Connections kept for a file database: one for the writer plus three readers. Measured with
 * `apps/bench` (`--only=pool size`, see the README): readers stop gaining beyond a few, since
 * better-sqlite3 runs every statement on the one JavaScript thread, and each connection costs a
 * file handle, its page cache and its statement cache.
 */
export const SQLITE_FILE_POOL_SIZE = 4;

/**
 * The SQLite adapter over better-sqlite3. Takes a filename, `':memory:'`, a `sqlite:` or
 * `file:` URL, or a `SqliteConfig`; invalid input throws `ConfigurationError` here, before
 * any file is opened. SQLite runs one writer at a time (`maxWriters: 1`): core queues writing
 * sessions of this process in the event loop, first come first served, and runs read-only
 * sessions and `sf.db` reads beside the writer on the other connections (a file database keeps
 * `SQLITE_FILE_POOL_SIZE`, WAL lets readers and the writer work at once). `:memory:` allows one
 * connection only, since a second connection would open a different database.
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { sqlite } from '@sessionfactory/sqlite'
 *
 * const sf = createSessionFactory<DB>(sqlite('app.db'))
 * const sf2 = createSessionFactory<DB>(sqlite({ filename: 'sqlite:data/app.db', busyTimeoutMs: 1000 }))
 * ```
 */
export function sqlite(filenameOrConfig: string | SqliteConfig): Adapter {
  const config = resolveSqliteConfig(filenameOrConfig);
  const errorContext = { fileMustExist: config.fileMustExist || config.readonly };
  // An in-memory database lives and dies with its one connection: once that is gone, opening
  // another would silently hand out an empty database, so it fails loudly instead.
  let memoryOpened = false;
  const open = () => {
    if (config.memory && memoryOpened) {
      throw new ConnectionError(
        'The in-memory SQLite database is gone: its only connection was closed (destroyed after an error, or the factory was closed), and with it every table. Create a new adapter and factory to start over, or use a database file.',
        { dialect: 'sqlite' },
      );
    }
    const connection = new SqliteDriverConnection(openSqliteDatabase(config), config.busyTimeoutMs, undefined, (db) =>
      applyConnectionPragmas(db, config),
    );
    memoryOpened = true;
    return connection;
  };
  // Opening runs pragmas (journal_mode = WAL needs the file's lock the first time): a lock
  // held elsewhere is waited for like any statement's.
  const openWait: LockWait = { timeoutMs: config.busyTimeoutMs, isLocked: isBusyError };
  const connectSync = () => {
    const startedAt = performance.now();
    try {
      return open();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      return retryWhileLockedSync(open, openWait, startedAt, error);
    }
  };
  return Object.freeze({
    dialect: 'sqlite',
    description: config.filename,
    capabilities: sqliteCapabilities(config),
    sql: sqliteDialectSql,
    kysely: sqliteKyselyParts,
    poolDefaults: config.memory ? { size: 1, maxOverflow: 0 } : { size: SQLITE_FILE_POOL_SIZE, maxOverflow: 0 },
    ...(config.memory ? { maxConnections: 1 } : {}),
    maxWriters: 1,
    connect: async () => {
      const startedAt = performance.now();
      try {
        return open();
      } catch (error) {
        if (!isBusyError(error)) throw error;
        return retryWhileLocked(open, openWait, startedAt, error);
      }
    },
    connectSync,
    classifyError: (error: unknown) => classifySqliteError(error, errorContext),
  });
}

function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}
