import type { ErrorClassification } from '@sessionfactory/core/adapter';

/** A classification before `originalCode`/`originalMessage` are added. */
export type ErrorDetail = Omit<ErrorClassification, 'originalCode' | 'originalMessage'>;

/**
 * Reads a UNIQUE/PRIMARY KEY failure: `UNIQUE constraint failed: account.email` gives table
 * and column (constraint `account.email`, as SQLite names no index there); `index 'ix'`
 * gives the index name; several columns (`t.a, t.b`) give the table only.
 *
 * @example
 * ```ts
 * uniqueViolation('UNIQUE constraint failed: account.email')
 * // { code: 'UNIQUE_VIOLATION', table: 'account', column: 'email' } (SQLite names no constraint here)
 * ```
 */
export function uniqueViolation(message: string): ErrorDetail {
  const subject = afterPrefix(message, 'UNIQUE constraint failed: ');
  const index = subject === undefined ? undefined : /^index '(.+)'$/.exec(subject)?.[1];
  if (subject === undefined || index !== undefined) return { code: 'UNIQUE_VIOLATION', constraint: index };
  const columns = subject.split(', ').map(splitQualified);
  const table = columns[0]?.table;
  const column = columns.length === 1 ? columns[0]?.column : undefined;
  // "t.col" is not a constraint name: leave constraint unset rather than invent one.
  return { code: 'UNIQUE_VIOLATION', table, column };
}

/**
 * Reads `NOT NULL constraint failed: account.email` into table and column.
 *
 * @example
 * ```ts
 * notNullViolation('NOT NULL constraint failed: account.email')
 * // { code: 'NOT_NULL_VIOLATION', table: 'account', column: 'email' }
 * ```
 */
export function notNullViolation(message: string): ErrorDetail {
  const subject = afterPrefix(message, 'NOT NULL constraint failed: ');
  return { code: 'NOT_NULL_VIOLATION', ...(subject === undefined ? {} : splitQualified(subject)) };
}

/**
 * Reads `CHECK constraint failed: positive_balance` into the constraint name (SQLite shows
 * the expression instead when the constraint has no name).
 *
 * @example
 * ```ts
 * checkViolation('CHECK constraint failed: positive_balance')
 * // { code: 'CHECK_VIOLATION', constraint: 'positive_balance' }
 * ```
 */
export function checkViolation(message: string): ErrorDetail {
  return { code: 'CHECK_VIOLATION', constraint: afterPrefix(message, 'CHECK constraint failed: ') };
}

/**
 * Classifies by message text alone: the fallback for SQLite's generic codes
 * (`SQLITE_ERROR`, plain `SQLITE_CONSTRAINT`), which carry no more precise extended code.
 *
 * @example
 * ```ts
 * classifyByMessage('no such table: ledger') // { code: 'UNDEFINED_TABLE', table: 'ledger' }
 * classifyByMessage('near "SELEC": syntax error') // { code: 'SQL_SYNTAX' }
 * ```
 */
export function classifyByMessage(message: string): ErrorDetail | undefined {
  if (message.startsWith('UNIQUE constraint failed')) return uniqueViolation(message);
  if (message.startsWith('FOREIGN KEY constraint failed')) return { code: 'FOREIGN_KEY_VIOLATION' };
  if (message.startsWith('NOT NULL constraint failed')) return notNullViolation(message);
  if (message.startsWith('CHECK constraint failed')) return checkViolation(message);
  if (/database (?:table )?is locked/.test(message)) return { code: 'LOCK_TIMEOUT' };
  if (message.includes('attempt to write a readonly database')) return { code: 'READ_ONLY_VIOLATION' };
  const table = /no such table: (\S+)/.exec(message)?.[1];
  if (table !== undefined) return { code: 'UNDEFINED_TABLE', table };
  const missing = /^table (\S+) has no column named (\S+)/.exec(message);
  if (missing) return { code: 'UNDEFINED_COLUMN', table: missing[1], column: missing[2] };
  const column = /no such column: (\S+)/.exec(message)?.[1];
  if (column !== undefined) return { code: 'UNDEFINED_COLUMN', column: unquote(splitQualified(column).column) };
  if (/syntax error|incomplete input|unrecognized token/.test(message)) return { code: 'SQL_SYNTAX' };
  return undefined;
}

function afterPrefix(message: string, prefix: string): string | undefined {
  return message.startsWith(prefix) ? message.slice(prefix.length) : undefined;
}

// SQLite prints names unquoted, so a table name may itself contain dots: split at the last one.
function splitQualified(name: string): { table?: string; column: string } {
  const dot = name.lastIndexOf('.');
  return dot === -1 ? { column: name } : { table: name.slice(0, dot), column: name.slice(dot + 1) };
}

function unquote(name: string): string {
  return name.replace(/^"(.*)"$/, '$1');
}
