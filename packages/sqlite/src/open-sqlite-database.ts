import { ConfigurationError, ConnectionError, DatabaseNotFoundError } from '@sessionfactory/core';
import Database from 'better-sqlite3';
import type { ResolvedSqliteConfig } from './sqlite-config.js';

/**
 * Opens one better-sqlite3 handle and applies the connection pragmas: `foreign_keys`,
 * `journal_mode = WAL` (file databases), then the user's `pragmas`. SQLite's busy handler is
 * off (`timeout: 0`): `SqliteDriverConnection` waits for locks for up to `busyTimeoutMs`
 * without blocking the event loop. If a pragma fails the handle is closed.
 *
 * @example
 * ```ts
 * const db = openSqliteDatabase(resolveSqliteConfig('app.db'))
 * db.pragma('journal_mode', { simple: true }) // 'wal'
 * ```
 */
export function openSqliteDatabase(config: ResolvedSqliteConfig): Database.Database {
  const db = openHandle(config);
  try {
    applyConnectionPragmas(db, config);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * The connection pragmas, run when a handle opens and again when it is reset after
 * `sf.connection(fn)` (a pragma changed there must not reach the next user).
 *
 * @example
 * ```ts
 * applyConnectionPragmas(db, config)
 * ```
 */
export function applyConnectionPragmas(db: Database.Database, config: ResolvedSqliteConfig): void {
  db.exec(`PRAGMA foreign_keys = ${config.foreignKeys ? 'ON' : 'OFF'}`);
  if (config.wal) db.exec('PRAGMA journal_mode = WAL');
  for (const statement of config.pragmaStatements) db.exec(statement);
}

function openHandle(config: ResolvedSqliteConfig): Database.Database {
  try {
    return new Database(config.filename, {
      readonly: config.readonly,
      fileMustExist: config.fileMustExist,
      // No busy handler: it would block the thread. The connection waits for locks itself.
      timeout: 0,
      ...(config.nativeBinding === undefined ? {} : { nativeBinding: config.nativeBinding }),
    });
  } catch (error) {
    throw translateOpenError(error, config);
  }
}

// better-sqlite3 reports these two as plain Errors, not SqliteErrors: give them their typed class here.
function translateOpenError(error: unknown, config: ResolvedSqliteConfig): unknown {
  const message = error instanceof Error ? error.message : '';
  if (message.includes('directory does not exist')) {
    const ErrorClass = config.fileMustExist || config.readonly ? DatabaseNotFoundError : ConnectionError;
    return new ErrorClass(`sqlite: cannot open ${JSON.stringify(config.filename)}: its directory does not exist`, {
      dialect: 'sqlite',
      cause: error,
      originalMessage: message,
    });
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (config.nativeBinding !== undefined && (code === 'MODULE_NOT_FOUND' || code === 'ERR_DLOPEN_FAILED')) {
    return new ConfigurationError(
      `Invalid SQLite option nativeBinding: ${JSON.stringify(config.nativeBinding)} could not be loaded; expected the path of a better-sqlite3 .node addon`,
      { dialect: 'sqlite', cause: error },
    );
  }
  return error;
}
