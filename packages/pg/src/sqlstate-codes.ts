import type { ErrorCode } from '@sessionfactory/core';

/**
 * SQLSTATEs with a typed error of their own. Class `08` (connection exception) is
 * `CONNECTION` as a whole; any other SQLSTATE is `DATABASE`.
 * See https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SQLSTATE_CODES: Readonly<Record<string, ErrorCode>> = {
  '23505': 'UNIQUE_VIOLATION',
  '23503': 'FOREIGN_KEY_VIOLATION',
  '23502': 'NOT_NULL_VIOLATION',
  '23514': 'CHECK_VIOLATION',
  '23P01': 'EXCLUSION_VIOLATION',
  '40001': 'SERIALIZATION_FAILURE',
  '40P01': 'DEADLOCK',
  '55P03': 'LOCK_TIMEOUT',
  '57014': 'STATEMENT_TIMEOUT',
  '25006': 'READ_ONLY_VIOLATION',
  '42P01': 'UNDEFINED_TABLE',
  '42703': 'UNDEFINED_COLUMN',
  '42601': 'SQL_SYNTAX',
  '3D000': 'DATABASE_NOT_FOUND',
  '28P01': 'AUTHENTICATION',
  '28000': 'AUTHENTICATION',
  // The server ended (or refused) the session: the connection is gone.
  '57P01': 'CONNECTION', // admin_shutdown, also pg_terminate_backend
  '57P02': 'CONNECTION', // crash_shutdown
  '57P03': 'CONNECTION', // cannot_connect_now
  '57P04': 'CONNECTION', // database_dropped
  '57P05': 'CONNECTION', // idle_session_timeout
  '25P03': 'CONNECTION', // idle_in_transaction_session_timeout
  '53300': 'CONNECTION', // too_many_connections
};

/**
 * pg's own messages (errors without a code) for a connection that is gone or never came up. Node's socket codes
 * are core's `SOCKET_ERROR_CODES`.
 */
export const CONNECTION_LOST_MESSAGES: readonly string[] = [
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  // pg's connectionTimeoutMillis destroys the socket with this error when the connect takes too long.
  'timeout expired',
];

/**
 * PgBouncer relays every login failure of the server behind it (and its own) with SQLSTATE
 * 08P01, whatever the server said; the message is all that is left to tell a wrong user or a
 * missing database from a broken connection.
 */
export const POOLER_LOGIN_FAILURES: readonly { readonly pattern: RegExp; readonly code: ErrorCode }[] = [
  { pattern: /^role ".*" does not exist$/, code: 'AUTHENTICATION' },
  { pattern: /^password authentication failed for user /, code: 'AUTHENTICATION' },
  { pattern: /^no such user/, code: 'AUTHENTICATION' },
  { pattern: /^database ".*" does not exist$/, code: 'DATABASE_NOT_FOUND' },
  { pattern: /^no such database/, code: 'DATABASE_NOT_FOUND' },
];
