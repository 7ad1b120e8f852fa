import type { ErrorClassification } from '@sessionfactory/core/adapter';
import { describe, expect, it } from 'vitest';
import { CommitRolledBackError } from '../src/commit-rolled-back-error.js';
import { classifyPostgresError } from '../src/index.js';

interface Row {
  readonly name: string;
  readonly error: unknown;
  readonly expected: ErrorClassification | undefined;
}

const lost = { code: 'CONNECTION', connectionLost: true } as const;

function sqlState(code: string, message: string, extra: Record<string, unknown> = {}) {
  return { name: 'error', severity: 'ERROR', code, message, ...extra };
}

const rows: Row[] = [
  {
    name: '23505 unique violation with column field absent: column from detail',
    error: sqlState('23505', 'duplicate key value violates unique constraint "users_email_key"', {
      constraint: 'users_email_key',
      table: 'users',
      detail: 'Key (email)=(a@b.c) already exists.',
    }),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: '23505',
      originalMessage: 'duplicate key value violates unique constraint "users_email_key"',
      constraint: 'users_email_key',
      table: 'users',
      column: 'email',
    },
  },
  {
    name: '23505 with a quoted column in detail',
    error: sqlState('23505', 'dup', { constraint: 'u_key', table: 'u', detail: 'Key ("E""mail")=(x) already exists.' }),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: '23505',
      originalMessage: 'dup',
      constraint: 'u_key',
      table: 'u',
      column: 'E"mail',
    },
  },
  {
    name: '23505 on a composite key leaves column undefined',
    error: sqlState('23505', 'dup', { constraint: 'ab_key', table: 't', detail: 'Key (a, b)=(1, 2) already exists.' }),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: '23505',
      originalMessage: 'dup',
      constraint: 'ab_key',
      table: 't',
    },
  },
  {
    name: '23505 on an expression index leaves column undefined',
    error: sqlState('23505', 'dup', { constraint: 'lower_key', detail: 'Key (lower(email))=(x) already exists.' }),
    expected: { code: 'UNIQUE_VIOLATION', originalCode: '23505', originalMessage: 'dup', constraint: 'lower_key' },
  },
  {
    name: '23505 prefers the column field over detail',
    error: sqlState('23505', 'dup', { column: 'handle', detail: 'Key (email)=(x) already exists.' }),
    expected: { code: 'UNIQUE_VIOLATION', originalCode: '23505', originalMessage: 'dup', column: 'handle' },
  },
  {
    name: '23503 foreign key violation on insert: child column from detail',
    error: sqlState('23503', 'fk', {
      constraint: 'books_author_id_fkey',
      table: 'books',
      detail: 'Key (author_id)=(5) is not present in table "authors".',
    }),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: '23503',
      originalMessage: 'fk',
      constraint: 'books_author_id_fkey',
      table: 'books',
      column: 'author_id',
    },
  },
  {
    name: '23503 on delete of a referenced row: the parent column in detail is not reported',
    error: sqlState('23503', 'fk', {
      constraint: 'books_author_id_fkey',
      table: 'books',
      detail: 'Key (id)=(1) is still referenced from table "books".',
    }),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: '23503',
      originalMessage: 'fk',
      constraint: 'books_author_id_fkey',
      table: 'books',
    },
  },
  {
    name: '23502 not-null violation',
    error: sqlState('23502', 'null value', { table: 'users', column: 'name' }),
    expected: {
      code: 'NOT_NULL_VIOLATION',
      originalCode: '23502',
      originalMessage: 'null value',
      table: 'users',
      column: 'name',
    },
  },
  {
    name: '23P01 exclusion violation',
    error: sqlState('23P01', 'conflicting key value violates exclusion constraint "no_overlap"', {
      constraint: 'no_overlap',
      table: 'booking',
    }),
    expected: {
      code: 'EXCLUSION_VIOLATION',
      originalCode: '23P01',
      originalMessage: 'conflicting key value violates exclusion constraint "no_overlap"',
      constraint: 'no_overlap',
      table: 'booking',
    },
  },
  {
    name: 'a server without TLS (pg message, no code)',
    error: new Error('The server does not support SSL connections'),
    expected: {
      code: 'CONNECTION',
      originalMessage: 'The server does not support SSL connections',
      connectionLost: true,
    },
  },
  {
    name: 'a self-signed certificate',
    error: Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT',
      originalMessage: 'self-signed certificate',
      connectionLost: true,
    },
  },
  {
    name: 'a self-signed certificate in the chain',
    error: Object.assign(new Error('self-signed certificate in certificate chain'), {
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'SELF_SIGNED_CERT_IN_CHAIN',
      originalMessage: 'self-signed certificate in certificate chain',
      connectionLost: true,
    },
  },
  {
    name: 'a certificate for another host',
    error: Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
      originalMessage: "Hostname/IP does not match certificate's altnames",
      connectionLost: true,
    },
  },
  {
    name: 'an OpenSSL protocol error',
    error: Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'ERR_SSL_WRONG_VERSION_NUMBER',
      originalMessage: 'wrong version number',
      connectionLost: true,
    },
  },
  {
    name: "pg's connect timeout",
    error: new Error('timeout expired'),
    expected: { code: 'CONNECTION', originalMessage: 'timeout expired', connectionLost: true },
  },
  {
    name: '23514 check violation',
    error: sqlState('23514', 'check', { constraint: 'age_positive', table: 'users' }),
    expected: {
      code: 'CHECK_VIOLATION',
      originalCode: '23514',
      originalMessage: 'check',
      constraint: 'age_positive',
      table: 'users',
    },
  },
  ...(
    [
      ['40001', 'SERIALIZATION_FAILURE'],
      ['40P01', 'DEADLOCK'],
      ['55P03', 'LOCK_TIMEOUT'],
      ['57014', 'STATEMENT_TIMEOUT'],
      ['25006', 'READ_ONLY_VIOLATION'],
      ['42P01', 'UNDEFINED_TABLE'],
      ['42703', 'UNDEFINED_COLUMN'],
      ['42601', 'SQL_SYNTAX'],
      ['3D000', 'DATABASE_NOT_FOUND'],
      ['28P01', 'AUTHENTICATION'],
      ['28000', 'AUTHENTICATION'],
      ['25P02', 'DATABASE'],
      ['42501', 'DATABASE'],
      ['22012', 'DATABASE'],
    ] as const
  ).map(([code, typed]) => ({
    name: `${code} -> ${typed}`,
    error: sqlState(code, `server says ${code}`),
    expected: { code: typed, originalCode: code, originalMessage: `server says ${code}` },
  })),
  ...['08000', '08003', '08006', '08P01', '57P01', '57P02', '57P03', '57P04', '57P05', '25P03', '53300'].map(
    (code) => ({
      name: `${code} -> CONNECTION, connection lost`,
      error: sqlState(code, `server says ${code}`),
      expected: { ...lost, originalCode: code, originalMessage: `server says ${code}` },
    }),
  ),
  ...['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].map((code) => ({
    name: `socket ${code} -> CONNECTION`,
    error: Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code }),
    expected: { ...lost, originalCode: code, originalMessage: `connect ${code} 127.0.0.1:1` },
  })),
  ...[
    'Connection terminated unexpectedly',
    'Client has encountered a connection error and is not queryable',
    'Client was closed and is not queryable',
    'Connection terminated due to connection timeout',
  ].map((message) => ({
    name: `pg message "${message}" -> CONNECTION`,
    error: new Error(message),
    expected: { ...lost, originalMessage: message },
  })),
  {
    name: 'AggregateError of a dual-stack refused connect -> CONNECTION',
    error: new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:1'), { code: 'ECONNREFUSED' })], 'x'),
    expected: { ...lost, originalCode: 'ECONNREFUSED', originalMessage: 'x' },
  },
  {
    name: "pg's client-side query timeout -> STATEMENT_TIMEOUT, connection not reusable",
    error: new Error('Query read timeout'),
    expected: { code: 'STATEMENT_TIMEOUT', connectionLost: true, originalMessage: 'Query read timeout' },
  },
  {
    name: 'COMMIT answered with ROLLBACK -> UNEXPECTED_ROLLBACK',
    error: new CommitRolledBackError(),
    expected: {
      code: 'UNEXPECTED_ROLLBACK',
      originalCode: '25P02',
      originalMessage: new CommitRolledBackError().message,
    },
  },
  { name: 'a TypeError is not a database error', error: new TypeError('x is not a function'), expected: undefined },
  {
    name: 'an unknown Node code is not a database error',
    error: { code: 'ERR_INVALID_ARG_TYPE', message: 'bad' },
    expected: undefined,
  },
  { name: 'a string is not a database error', error: 'boom', expected: undefined },
  { name: 'null is not a database error', error: null, expected: undefined },
  { name: 'undefined is not a database error', error: undefined, expected: undefined },
];

describe('classifyPostgresError', () => {
  it.each(rows)('$name', ({ error, expected }) => {
    const actual = classifyPostgresError(error);
    // Compare defined fields only: absent and undefined mean the same to core.
    expect(actual === undefined ? undefined : withoutUndefined(actual)).toStrictEqual(expected);
  });
});

function withoutUndefined(value: object): object {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
