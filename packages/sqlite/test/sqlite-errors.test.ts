import { describe, expect, it } from 'vitest';
import { classifySqliteError } from '../src/index.js';

interface Row {
  readonly name: string;
  readonly error: { code: string; message: string };
  readonly expected: Record<string, unknown>;
  readonly fileMustExist?: boolean;
}

const rows: readonly Row[] = [
  {
    name: 'unique violation with table and column',
    error: { code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: account.email' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'account', column: 'email' },
  },
  {
    name: 'primary key violation',
    error: { code: 'SQLITE_CONSTRAINT_PRIMARYKEY', message: 'UNIQUE constraint failed: account.id' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'account', column: 'id' },
  },
  {
    name: 'rowid violation',
    error: { code: 'SQLITE_CONSTRAINT_ROWID', message: 'UNIQUE constraint failed: account.rowid' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'account', column: 'rowid' },
  },
  {
    name: 'unique violation on an expression index names the index',
    error: { code: 'SQLITE_CONSTRAINT_UNIQUE', message: "UNIQUE constraint failed: index 'ix_lower_email'" },
    expected: { code: 'UNIQUE_VIOLATION', constraint: 'ix_lower_email', table: undefined, column: undefined },
  },
  {
    name: 'unique violation on several columns names the table only',
    error: { code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: entry.a, entry.b' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'entry', column: undefined, constraint: undefined },
  },
  {
    name: 'table names with dots split at the last dot',
    error: { code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: my.table.email' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'my.table', column: 'email' },
  },
  {
    name: 'foreign key violation',
    error: { code: 'SQLITE_CONSTRAINT_FOREIGNKEY', message: 'FOREIGN KEY constraint failed' },
    expected: { code: 'FOREIGN_KEY_VIOLATION' },
  },
  {
    name: 'not null violation',
    error: { code: 'SQLITE_CONSTRAINT_NOTNULL', message: 'NOT NULL constraint failed: account.email' },
    expected: { code: 'NOT_NULL_VIOLATION', table: 'account', column: 'email' },
  },
  {
    name: 'named check violation',
    error: { code: 'SQLITE_CONSTRAINT_CHECK', message: 'CHECK constraint failed: positive_balance' },
    expected: { code: 'CHECK_VIOLATION', constraint: 'positive_balance' },
  },
  {
    name: 'unnamed check violation carries the expression',
    error: { code: 'SQLITE_CONSTRAINT_CHECK', message: 'CHECK constraint failed: balance >= 0' },
    expected: { code: 'CHECK_VIOLATION', constraint: 'balance >= 0' },
  },
  {
    name: 'trigger RAISE text is not read as a constraint kind',
    error: { code: 'SQLITE_CONSTRAINT_TRIGGER', message: 'UNIQUE constraint failed: fake.col' },
    expected: { code: 'DATABASE', table: undefined },
  },
  {
    name: 'plain SQLITE_CONSTRAINT falls back to the message',
    error: { code: 'SQLITE_CONSTRAINT', message: 'UNIQUE constraint failed: account.email' },
    expected: { code: 'UNIQUE_VIOLATION', table: 'account', column: 'email' },
  },
  {
    name: 'plain SQLITE_CONSTRAINT foreign key message',
    error: { code: 'SQLITE_CONSTRAINT', message: 'FOREIGN KEY constraint failed' },
    expected: { code: 'FOREIGN_KEY_VIOLATION' },
  },
  {
    name: 'plain SQLITE_CONSTRAINT not null message',
    error: { code: 'SQLITE_CONSTRAINT', message: 'NOT NULL constraint failed: t.c' },
    expected: { code: 'NOT_NULL_VIOLATION', table: 't', column: 'c' },
  },
  {
    name: 'plain SQLITE_CONSTRAINT check message',
    error: { code: 'SQLITE_CONSTRAINT', message: 'CHECK constraint failed: c_positive' },
    expected: { code: 'CHECK_VIOLATION', constraint: 'c_positive' },
  },
  {
    name: 'busy',
    error: { code: 'SQLITE_BUSY', message: 'database is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'busy snapshot',
    error: { code: 'SQLITE_BUSY_SNAPSHOT', message: 'database is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'busy recovery',
    error: { code: 'SQLITE_BUSY_RECOVERY', message: 'database is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'busy timeout',
    error: { code: 'SQLITE_BUSY_TIMEOUT', message: 'database is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'locked',
    error: { code: 'SQLITE_LOCKED', message: 'database table is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'locked shared cache',
    error: { code: 'SQLITE_LOCKED_SHAREDCACHE', message: 'database table is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'locked by message only',
    error: { code: 'SQLITE_ERROR', message: 'database is locked' },
    expected: { code: 'LOCK_TIMEOUT' },
  },
  {
    name: 'read-only database (also PRAGMA query_only)',
    error: { code: 'SQLITE_READONLY', message: 'attempt to write a readonly database' },
    expected: { code: 'READ_ONLY_VIOLATION' },
  },
  {
    name: 'read-only extended code',
    error: { code: 'SQLITE_READONLY_DBMOVED', message: 'attempt to write a readonly database' },
    expected: { code: 'READ_ONLY_VIOLATION' },
  },
  {
    name: 'read-only by message only',
    error: { code: 'SQLITE_ERROR', message: 'attempt to write a readonly database' },
    expected: { code: 'READ_ONLY_VIOLATION' },
  },
  {
    name: 'undefined table',
    error: { code: 'SQLITE_ERROR', message: 'no such table: ledger' },
    expected: { code: 'UNDEFINED_TABLE', table: 'ledger' },
  },
  {
    name: 'undefined schema-qualified table',
    error: { code: 'SQLITE_ERROR', message: 'no such table: main.ledger' },
    expected: { code: 'UNDEFINED_TABLE', table: 'main.ledger' },
  },
  {
    name: 'undefined column',
    error: { code: 'SQLITE_ERROR', message: 'no such column: nope' },
    expected: { code: 'UNDEFINED_COLUMN', column: 'nope' },
  },
  {
    name: 'undefined qualified column',
    error: { code: 'SQLITE_ERROR', message: 'no such column: account.nope' },
    expected: { code: 'UNDEFINED_COLUMN', column: 'nope' },
  },
  {
    name: 'undefined double-quoted column',
    error: {
      code: 'SQLITE_ERROR',
      message: 'no such column: "nope" - should this be a string literal in single-quotes?',
    },
    expected: { code: 'UNDEFINED_COLUMN', column: 'nope' },
  },
  {
    name: 'insert into an undefined column',
    error: { code: 'SQLITE_ERROR', message: 'table account has no column named nope' },
    expected: { code: 'UNDEFINED_COLUMN', table: 'account', column: 'nope' },
  },
  {
    name: 'syntax error',
    error: { code: 'SQLITE_ERROR', message: 'near "selec": syntax error' },
    expected: { code: 'SQL_SYNTAX' },
  },
  {
    name: 'incomplete input',
    error: { code: 'SQLITE_ERROR', message: 'incomplete input' },
    expected: { code: 'SQL_SYNTAX' },
  },
  {
    name: 'unrecognized token',
    error: { code: 'SQLITE_ERROR', message: `unrecognized token: "'abc"` },
    expected: { code: 'SQL_SYNTAX' },
  },
  {
    name: 'cannot open a file that had to exist',
    error: { code: 'SQLITE_CANTOPEN', message: 'unable to open database file' },
    fileMustExist: true,
    expected: { code: 'DATABASE_NOT_FOUND' },
  },
  {
    name: 'cannot open a file that may be created',
    error: { code: 'SQLITE_CANTOPEN', message: 'unable to open database file' },
    expected: { code: 'CONNECTION' },
  },
  {
    name: 'cannot open: a directory, even when the file had to exist',
    error: { code: 'SQLITE_CANTOPEN_ISDIR', message: 'unable to open database file' },
    fileMustExist: true,
    expected: { code: 'CONNECTION' },
  },
  {
    name: 'not a database',
    error: { code: 'SQLITE_NOTADB', message: 'file is not a database' },
    expected: { code: 'DATABASE' },
  },
  {
    name: 'corrupt',
    error: { code: 'SQLITE_CORRUPT', message: 'database disk image is malformed' },
    expected: { code: 'DATABASE' },
  },
  {
    name: 'corrupt index',
    error: { code: 'SQLITE_CORRUPT_INDEX', message: 'database disk image is malformed' },
    expected: { code: 'DATABASE' },
  },
  {
    name: 'interrupted',
    error: { code: 'SQLITE_INTERRUPT', message: 'interrupted' },
    expected: { code: 'STATEMENT_TIMEOUT' },
  },
  {
    name: 'anything else from SQLite',
    error: { code: 'SQLITE_FULL', message: 'database or disk is full' },
    expected: { code: 'DATABASE' },
  },
  {
    name: 'an unknown SQLITE_ERROR message',
    error: { code: 'SQLITE_ERROR', message: 'no such function: frobnicate' },
    expected: { code: 'DATABASE' },
  },
];

describe('classifySqliteError', () => {
  it.each(rows)('$name', ({ error, expected, fileMustExist }) => {
    const classification = classifySqliteError(error, { fileMustExist });
    expect(classification).toEqual({
      ...expected,
      originalCode: error.code,
      originalMessage: error.message,
    });
  });

  it.each([
    ['a TypeError', new TypeError('SQLite3 can only bind numbers, strings, bigints, buffers, and null')],
    ['a Node system error', Object.assign(new Error('ENOENT'), { code: 'ENOENT' })],
    ['a message without a SQLite code', { message: 'no such table: x' }],
    ['a numeric code', { code: 19, message: 'UNIQUE constraint failed: a.b' }],
    ['null', null],
    ['a string', 'SQLITE_BUSY'],
  ])('returns undefined for %s', (_name, error) => {
    expect(classifySqliteError(error)).toBeUndefined();
  });

  it('fills originalMessage with an empty string when the error has none', () => {
    expect(classifySqliteError({ code: 'SQLITE_BUSY' })).toEqual({
      code: 'LOCK_TIMEOUT',
      originalCode: 'SQLITE_BUSY',
      originalMessage: '',
    });
  });
});
