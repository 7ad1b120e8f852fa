import type { Adapter } from '@sessionfactory/core';
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
  const connectSync = () =>
    new SqliteDriverConnection(openSqliteDatabase(config), undefined, (db) => applyConnectionPragmas(db, config));
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
