import { type Adapter, ConnectionError } from '@sessionfactory/core';
import { classifySqliteError } from './classify-sqlite-error.js';
import { applyConnectionPragmas, openSqliteDatabase } from './open-sqlite-database.js';
import { resolveSqliteConfig } from './resolve-sqlite-config.js';
import { sqliteCapabilities } from './sqlite-capabilities.js';
import type { SqliteConfig } from './sqlite-config.js';
import { sqliteDialectSql } from './sqlite-dialect-sql.js';
import { SqliteDriverConnection } from './sqlite-driver-connection.js';
import { sqliteKyselyParts } from './sqlite-kysely-parts.js';

/**
 * The SQLite adapter over better-sqlite3. Takes a filename, `':memory:'`, a `sqlite:` or
 * `file:` URL, or a `SqliteConfig`; invalid input throws `ConfigurationError` here, before
 * any file is opened. The pool defaults to one connection (SQLite has one writer);
 * `:memory:` allows only one, since a second connection would open a different database.
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
  const connectSync = () => {
    if (config.memory && memoryOpened) {
      throw new ConnectionError(
        'The in-memory SQLite database is gone: its only connection was closed (destroyed after an error, or the factory was closed), and with it every table. Create a new adapter and factory to start over, or use a database file.',
        { dialect: 'sqlite' },
      );
    }
    const connection = new SqliteDriverConnection(openSqliteDatabase(config), undefined, (db) =>
      applyConnectionPragmas(db, config),
    );
    memoryOpened = true;
    return connection;
  };
  return Object.freeze({
    dialect: 'sqlite',
    description: config.filename,
    capabilities: sqliteCapabilities(config),
    sql: sqliteDialectSql,
    kysely: sqliteKyselyParts,
    poolDefaults: { size: 1, maxOverflow: 0 },
    ...(config.memory ? { maxConnections: 1 } : {}),
    connect: async () => connectSync(),
    connectSync,
    classifyError: (error: unknown) => classifySqliteError(error, errorContext),
  });
}
