import type { ErrorClassification } from '@sessionfactory/core/adapter';
import {
  checkViolation,
  classifyByMessage,
  type ErrorDetail,
  notNullViolation,
  uniqueViolation,
} from './sqlite-error-messages.js';

/** What the classifier knows about how the connection was opened. */
export interface SqliteErrorContext {
  /** Opening an existing file was required (`fileMustExist` or `readonly`): `SQLITE_CANTOPEN` means it is missing. */
  readonly fileMustExist?: boolean;
}

/**
 * Says what a better-sqlite3 error is: from its extended result code (`SqliteError.code`)
 * first, from the message text last. Returns undefined for errors that did not come from
 * SQLite (no `SQLITE_*` code), so core can tell them apart.
 *
 * @example
 * ```ts
 * classifySqliteError({ code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: account.email' })
 * // { code: 'UNIQUE_VIOLATION', table: 'account', column: 'email',
 * //   originalCode: 'SQLITE_CONSTRAINT_UNIQUE', originalMessage: 'UNIQUE constraint failed: account.email' }
 * classifySqliteError(new TypeError('boom')) // undefined
 * ```
 */
export function classifySqliteError(error: unknown, context: SqliteErrorContext = {}): ErrorClassification | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
  const rawMessage = (error as { message?: unknown }).message;
  const message = typeof rawMessage === 'string' ? rawMessage : '';
  const detail = classifyByCode(code, message, context) ?? classifyByMessage(message) ?? { code: 'DATABASE' };
  return { ...detail, originalCode: code, originalMessage: message };
}

function classifyByCode(code: string, message: string, context: SqliteErrorContext): ErrorDetail | undefined {
  switch (code) {
    case 'SQLITE_CONSTRAINT_UNIQUE':
    case 'SQLITE_CONSTRAINT_PRIMARYKEY':
    case 'SQLITE_CONSTRAINT_ROWID':
      return uniqueViolation(message);
    case 'SQLITE_CONSTRAINT_FOREIGNKEY':
      return { code: 'FOREIGN_KEY_VIOLATION' };
    case 'SQLITE_CONSTRAINT_NOTNULL':
      return notNullViolation(message);
    case 'SQLITE_CONSTRAINT_CHECK':
      return checkViolation(message);
    // A trigger's RAISE() message is user text: never read it as a constraint kind.
    case 'SQLITE_CONSTRAINT_TRIGGER':
    case 'SQLITE_NOTADB':
      return { code: 'DATABASE' };
    case 'SQLITE_INTERRUPT':
      return { code: 'STATEMENT_TIMEOUT' };
    case 'SQLITE_CANTOPEN':
      return { code: context.fileMustExist ? 'DATABASE_NOT_FOUND' : 'CONNECTION' };
  }
  if (inFamily(code, 'SQLITE_BUSY') || inFamily(code, 'SQLITE_LOCKED')) return { code: 'LOCK_TIMEOUT' };
  if (inFamily(code, 'SQLITE_READONLY')) return { code: 'READ_ONLY_VIOLATION' };
  if (inFamily(code, 'SQLITE_CANTOPEN')) return { code: 'CONNECTION' };
  if (inFamily(code, 'SQLITE_CORRUPT')) return { code: 'DATABASE' };
  return undefined;
}

// `SQLITE_BUSY` and its extended codes (`SQLITE_BUSY_SNAPSHOT`, ...), not `SQLITE_BUSYNESS`.
function inFamily(code: string, primary: string): boolean {
  return code === primary || code.startsWith(`${primary}_`);
}
