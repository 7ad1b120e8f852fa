import {
  type ErrorClassification,
  isConnectionExceptionState,
  isTlsHandshakeError,
} from '@sessionfactory/core/adapter';
import { CONNECTION_LOST_CODES } from './connection-lost-codes.js';
import { MYSQL_ERRNO_CODES } from './mysql-errno-codes.js';
import { mysqlErrorFields } from './mysql-error-fields.js';

/** The fields mysql2 (and Node's socket layer) put on the errors it raises. */
interface DriverErrorShape {
  readonly errno?: unknown;
  readonly code?: unknown;
  readonly sqlState?: unknown;
  readonly sqlMessage?: unknown;
  readonly message?: unknown;
  readonly fatal?: unknown;
}

/**
 * Messages of the classified errors, for errors that lost their error number on the way
 * (rebuilt from text by a caller). Only consulted when no structured field decided.
 */
const MESSAGE_ERRNOS: readonly (readonly [RegExp, number])[] = [
  [/^Duplicate entry .* for key '/, 1062],
  [/^Cannot delete or update a parent row: a foreign key constraint fails/, 1451],
  [/^Cannot add or update a child row: a foreign key constraint fails/, 1452],
  [/^Column '.+' cannot be null/, 1048],
  [/^Deadlock found when trying to get lock|^Deadlock: wsrep aborted transaction/, 1213],
  [/^WSREP has not yet prepared node for application use/, 1047],
  [/^Lock wait timeout exceeded/, 1205],
  [/^Query execution was interrupted/, 1317],
  [/^Cannot execute statement in a READ ONLY transaction/, 1792],
  [/^Can't add new command when connection is in closed state|^Connection lost:/, 2013],
];

/**
 * Says what a mysql2 error means: the server's error number first, then socket and client
 * codes, the message text last. Non-database values (a `TypeError`, a string) give
 * `undefined`, so core leaves them alone.
 *
 * @example
 * ```ts
 * classifyMysqlError({ errno: 1062, code: 'ER_DUP_ENTRY', message: "Duplicate entry 'a' for key 'uq_email'" })
 * // { code: 'UNIQUE_VIOLATION', originalCode: 1062, constraint: 'uq_email', ... }
 * ```
 */
export function classifyMysqlError(error: unknown): ErrorClassification | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const shape = error as DriverErrorShape;
  const message = stringOf(shape.sqlMessage) ?? stringOf(shape.message) ?? '';
  const code = stringOf(shape.code);
  // Node's socket errors carry a negative errno (-111 for ECONNREFUSED); only the server's count.
  const errno = typeof shape.errno === 'number' && shape.errno > 0 ? shape.errno : undefined;
  const originalCode = errno ?? code;

  const known = errno === undefined ? undefined : MYSQL_ERRNO_CODES.get(errno);
  if (errno !== undefined && known !== undefined) return fromErrno(errno, message, originalCode);

  if (
    (code !== undefined && CONNECTION_LOST_CODES.has(code)) ||
    shape.fatal === true ||
    isConnectionExceptionState(shape.sqlState) ||
    isTlsHandshakeError(error)
  ) {
    return { code: 'CONNECTION', originalCode, originalMessage: message, connectionLost: true };
  }
  if (errno !== undefined || stringOf(shape.sqlState) !== undefined) {
    return { code: 'DATABASE', originalCode, originalMessage: message };
  }

  const fromText = MESSAGE_ERRNOS.find(([pattern]) => pattern.test(message))?.[1];
  return fromText === undefined ? undefined : fromErrno(fromText, message, originalCode);
}

function fromErrno(errno: number, message: string, originalCode: string | number | undefined): ErrorClassification {
  const code = MYSQL_ERRNO_CODES.get(errno) ?? 'DATABASE';
  return {
    code,
    originalCode,
    originalMessage: message,
    ...mysqlErrorFields(errno, message),
    ...(code === 'CONNECTION' ? { connectionLost: true } : {}),
  };
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
