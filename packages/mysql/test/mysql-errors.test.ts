import type { ErrorClassification } from '@sessionfactory/core/adapter';
import { describe, expect, it } from 'vitest';
import { classifyMysqlError } from '../src/index.js';

interface Row {
  readonly name: string;
  readonly error: unknown;
  readonly expected: ErrorClassification | undefined;
}

// mysql2 puts the server's message in both `message` and `sqlMessage`.
function serverError(errno: number, code: string, sqlState: string, message: string) {
  return Object.assign(new Error(message), { errno, code, sqlState, sqlMessage: message });
}

const FK_CHILD =
  'Cannot add or update a child row: a foreign key constraint fails (`shop`.`line`, CONSTRAINT `fk_line_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`))';
const FK_PARENT =
  'Cannot delete or update a parent row: a foreign key constraint fails (`shop`.`line`, CONSTRAINT `fk_line_order` FOREIGN KEY (`order_id`) REFERENCES `orders` (`id`))';
const FK_COMPOSITE =
  'Cannot add or update a child row: a foreign key constraint fails (`shop`.`c2`, CONSTRAINT `c2_ibfk_1` FOREIGN KEY (`a`, `b`) REFERENCES `p2` (`a`, `b`))';

const rows: readonly Row[] = [
  {
    name: '1062 on MariaDB names the key',
    error: serverError(1062, 'ER_DUP_ENTRY', '23000', "Duplicate entry 'x@y' for key 'uq_email'"),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: 1062,
      originalMessage: "Duplicate entry 'x@y' for key 'uq_email'",
      constraint: 'uq_email',
    },
  },
  {
    name: '1062 on MySQL 8 names table.key',
    error: serverError(1062, 'ER_DUP_ENTRY', '23000', "Duplicate entry 'x@y' for key 'account.uq_email'"),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: 1062,
      originalMessage: "Duplicate entry 'x@y' for key 'account.uq_email'",
      constraint: 'uq_email',
      table: 'account',
    },
  },
  {
    name: '1062 with a quote inside the duplicate value',
    error: serverError(1062, 'ER_DUP_ENTRY', '23000', "Duplicate entry 'o'neil' for key 'PRIMARY'"),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: 1062,
      originalMessage: "Duplicate entry 'o'neil' for key 'PRIMARY'",
      constraint: 'PRIMARY',
    },
  },
  {
    name: '1452 missing parent row',
    error: serverError(1452, 'ER_NO_REFERENCED_ROW_2', '23000', FK_CHILD),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: 1452,
      originalMessage: FK_CHILD,
      constraint: 'fk_line_order',
      table: 'line',
      column: 'order_id',
    },
  },
  {
    name: '1451 parent row still referenced',
    error: serverError(1451, 'ER_ROW_IS_REFERENCED_2', '23000', FK_PARENT),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: 1451,
      originalMessage: FK_PARENT,
      constraint: 'fk_line_order',
      table: 'line',
      column: 'order_id',
    },
  },
  {
    name: '1452 on a composite key reports no single column',
    error: serverError(1452, 'ER_NO_REFERENCED_ROW_2', '23000', FK_COMPOSITE),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: 1452,
      originalMessage: FK_COMPOSITE,
      constraint: 'c2_ibfk_1',
      table: 'c2',
      column: undefined,
    },
  },
  {
    name: '1451 without details (no privilege on the child table)',
    error: serverError(
      1451,
      'ER_ROW_IS_REFERENCED',
      '23000',
      'Cannot delete or update a parent row: a foreign key constraint fails',
    ),
    expected: {
      code: 'FOREIGN_KEY_VIOLATION',
      originalCode: 1451,
      originalMessage: 'Cannot delete or update a parent row: a foreign key constraint fails',
    },
  },
  {
    name: '1048 NULL into a NOT NULL column',
    error: serverError(1048, 'ER_BAD_NULL_ERROR', '23000', "Column 'name' cannot be null"),
    expected: {
      code: 'NOT_NULL_VIOLATION',
      originalCode: 1048,
      originalMessage: "Column 'name' cannot be null",
      column: 'name',
    },
  },
  {
    name: '1364 NOT NULL column without default left out',
    error: serverError(1364, 'ER_NO_DEFAULT_FOR_FIELD', 'HY000', "Field 'name' doesn't have a default value"),
    expected: {
      code: 'NOT_NULL_VIOLATION',
      originalCode: 1364,
      originalMessage: "Field 'name' doesn't have a default value",
      column: 'name',
    },
  },
  {
    name: '3819 MySQL check constraint',
    error: serverError(3819, 'ER_CHECK_CONSTRAINT_VIOLATED', 'HY000', "Check constraint 'ck_positive' is violated."),
    expected: {
      code: 'CHECK_VIOLATION',
      originalCode: 3819,
      originalMessage: "Check constraint 'ck_positive' is violated.",
      constraint: 'ck_positive',
    },
  },
  {
    name: '4025 MariaDB table-level check (mysql2 misnames the code)',
    error: serverError(
      4025,
      'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE',
      '23000',
      'CONSTRAINT `ck_name` failed for `shop`.`account`',
    ),
    expected: {
      code: 'CHECK_VIOLATION',
      originalCode: 4025,
      originalMessage: 'CONSTRAINT `ck_name` failed for `shop`.`account`',
      constraint: 'ck_name',
      table: 'account',
    },
  },
  {
    name: '4025 MariaDB column-level check is named after its column',
    error: serverError(
      4025,
      'ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE',
      '23000',
      'CONSTRAINT `account.balance` failed for `shop`.`account`',
    ),
    expected: {
      code: 'CHECK_VIOLATION',
      originalCode: 4025,
      originalMessage: 'CONSTRAINT `account.balance` failed for `shop`.`account`',
      constraint: 'balance',
      table: 'account',
      column: 'balance',
    },
  },
  {
    name: '1020 MariaDB snapshot isolation conflict',
    error: serverError(
      1020,
      'ER_CHECKREAD',
      'HY000',
      "Record has changed since last read in table 't'; try restarting transaction",
    ),
    expected: {
      code: 'SERIALIZATION_FAILURE',
      originalCode: 1020,
      originalMessage: "Record has changed since last read in table 't'; try restarting transaction",
    },
  },
  {
    name: '1213 deadlock',
    error: serverError(
      1213,
      'ER_LOCK_DEADLOCK',
      '40001',
      'Deadlock found when trying to get lock; try restarting transaction',
    ),
    expected: {
      code: 'DEADLOCK',
      originalCode: 1213,
      originalMessage: 'Deadlock found when trying to get lock; try restarting transaction',
    },
  },
  {
    name: '1213 from Galera (certification conflict / brute-force abort) is a retryable deadlock',
    error: serverError(1213, 'ER_LOCK_DEADLOCK', '40001', 'Deadlock: wsrep aborted transaction'),
    expected: { code: 'DEADLOCK', originalCode: 1213, originalMessage: 'Deadlock: wsrep aborted transaction' },
  },
  {
    name: '1047 from a Galera node outside the primary component is a connection error',
    error: serverError(1047, 'ER_UNKNOWN_COM_ERROR', '08S01', 'WSREP has not yet prepared node for application use'),
    expected: {
      code: 'CONNECTION',
      originalCode: 1047,
      originalMessage: 'WSREP has not yet prepared node for application use',
      connectionLost: true,
    },
  },
  {
    name: '1205 lock wait timeout',
    error: serverError(1205, 'ER_LOCK_WAIT_TIMEOUT', 'HY000', 'Lock wait timeout exceeded; try restarting transaction'),
    expected: {
      code: 'LOCK_TIMEOUT',
      originalCode: 1205,
      originalMessage: 'Lock wait timeout exceeded; try restarting transaction',
    },
  },
  {
    name: '3024 MySQL max_execution_time',
    error: serverError(
      3024,
      'ER_QUERY_TIMEOUT',
      'HY000',
      'Query execution was interrupted, maximum statement execution time exceeded',
    ),
    expected: {
      code: 'STATEMENT_TIMEOUT',
      originalCode: 3024,
      originalMessage: 'Query execution was interrupted, maximum statement execution time exceeded',
    },
  },
  {
    name: '1969 MariaDB max_statement_time (mysql2 has no code name for it)',
    error: Object.assign(new Error('Query execution was interrupted (max_statement_time exceeded)'), {
      errno: 1969,
      sqlState: '70100',
    }),
    expected: {
      code: 'STATEMENT_TIMEOUT',
      originalCode: 1969,
      originalMessage: 'Query execution was interrupted (max_statement_time exceeded)',
    },
  },
  {
    name: '1317 KILL QUERY',
    error: serverError(1317, 'ER_QUERY_INTERRUPTED', '70100', 'Query execution was interrupted'),
    expected: { code: 'STATEMENT_TIMEOUT', originalCode: 1317, originalMessage: 'Query execution was interrupted' },
  },
  {
    name: '1792 write in a read-only transaction',
    error: serverError(
      1792,
      'ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION',
      '25006',
      'Cannot execute statement in a READ ONLY transaction',
    ),
    expected: {
      code: 'READ_ONLY_VIOLATION',
      originalCode: 1792,
      originalMessage: 'Cannot execute statement in a READ ONLY transaction',
    },
  },
  {
    name: '1146 unknown table',
    error: serverError(1146, 'ER_NO_SUCH_TABLE', '42S02', "Table 'shop.nope' doesn't exist"),
    expected: {
      code: 'UNDEFINED_TABLE',
      originalCode: 1146,
      originalMessage: "Table 'shop.nope' doesn't exist",
      table: 'nope',
    },
  },
  {
    name: '1054 unknown column (qualified)',
    error: serverError(1054, 'ER_BAD_FIELD_ERROR', '42S22', "Unknown column 'a.nope' in 'field list'"),
    expected: {
      code: 'UNDEFINED_COLUMN',
      originalCode: 1054,
      originalMessage: "Unknown column 'a.nope' in 'field list'",
      column: 'nope',
    },
  },
  {
    name: '1064 syntax',
    error: serverError(
      1064,
      'ER_PARSE_ERROR',
      '42000',
      "You have an error in your SQL syntax; ... near 'SELEC 1' at line 1",
    ),
    expected: {
      code: 'SQL_SYNTAX',
      originalCode: 1064,
      originalMessage: "You have an error in your SQL syntax; ... near 'SELEC 1' at line 1",
    },
  },
  {
    name: '1049 unknown database',
    error: serverError(1049, 'ER_BAD_DB_ERROR', '42000', "Unknown database 'nope'"),
    expected: { code: 'DATABASE_NOT_FOUND', originalCode: 1049, originalMessage: "Unknown database 'nope'" },
  },
  {
    name: '1045 access denied',
    error: serverError(
      1045,
      'ER_ACCESS_DENIED_ERROR',
      '28000',
      "Access denied for user 'app'@'10.0.0.2' (using password: YES)",
    ),
    expected: {
      code: 'AUTHENTICATION',
      originalCode: 1045,
      originalMessage: "Access denied for user 'app'@'10.0.0.2' (using password: YES)",
    },
  },
  {
    name: '1044 access denied to the database',
    error: serverError(
      1044,
      'ER_DBACCESS_DENIED_ERROR',
      '42000',
      "Access denied for user 'app'@'%' to database 'shop'",
    ),
    expected: {
      code: 'AUTHENTICATION',
      originalCode: 1044,
      originalMessage: "Access denied for user 'app'@'%' to database 'shop'",
    },
  },
  {
    name: 'a server without TLS (mysql2 HANDSHAKE_NO_SSL_SUPPORT)',
    error: Object.assign(new Error('Server does not support secure connection'), {
      code: 'HANDSHAKE_NO_SSL_SUPPORT',
    }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'HANDSHAKE_NO_SSL_SUPPORT',
      originalMessage: 'Server does not support secure connection',
      connectionLost: true,
    },
  },
  {
    name: 'a self-signed certificate (not marked fatal)',
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
  ...[
    [1040, 'ER_CON_COUNT_ERROR', 'Too many connections'],
    [1053, 'ER_SERVER_SHUTDOWN', 'Server shutdown in progress'],
    [1927, 'ER_CONNECTION_KILLED', 'Connection was killed'],
    [2006, 'CR_SERVER_GONE_ERROR', 'MySQL server has gone away'],
    [2013, 'CR_SERVER_LOST', 'Lost connection to MySQL server during query'],
  ].map(
    ([errno, code, message]): Row => ({
      name: `${errno} ${code}`,
      error: serverError(errno as number, code as string, 'HY000', message as string),
      expected: { code: 'CONNECTION', originalCode: errno, originalMessage: message as string, connectionLost: true },
    }),
  ),
  ...['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST'].map(
    (code): Row => ({
      name: `socket/client code ${code}`,
      error: Object.assign(new Error(`${code} happened`), { code, errno: -111 }),
      expected: { code: 'CONNECTION', originalCode: code, originalMessage: `${code} happened`, connectionLost: true },
    }),
  ),
  {
    name: 'a fatal mysql2 error without a code (command on a closed connection)',
    error: Object.assign(new Error("Can't add new command when connection is in closed state"), { fatal: true }),
    expected: {
      code: 'CONNECTION',
      originalCode: undefined,
      originalMessage: "Can't add new command when connection is in closed state",
      connectionLost: true,
    },
  },
  {
    name: 'a fatal error with an unmapped ER_ code',
    error: Object.assign(new Error('Got packets out of order'), { code: 'ER_NET_PACKETS_OUT_OF_ORDER', fatal: true }),
    expected: {
      code: 'CONNECTION',
      originalCode: 'ER_NET_PACKETS_OUT_OF_ORDER',
      originalMessage: 'Got packets out of order',
      connectionLost: true,
    },
  },
  {
    name: 'SQLSTATE class 08 without a known errno',
    error: Object.assign(new Error('link failure'), { errno: 9999, sqlState: '08S01' }),
    expected: { code: 'CONNECTION', originalCode: 9999, originalMessage: 'link failure', connectionLost: true },
  },
  {
    name: 'other server errno falls back to DATABASE',
    error: serverError(1193, 'ER_UNKNOWN_SYSTEM_VARIABLE', 'HY000', "Unknown system variable 'nope'"),
    expected: { code: 'DATABASE', originalCode: 1193, originalMessage: "Unknown system variable 'nope'" },
  },
  {
    name: 'sqlMessage wins over a decorated message',
    error: Object.assign(new Error('wrapped: Duplicate'), {
      errno: 1062,
      sqlMessage: "Duplicate entry '1' for key 'PRIMARY'",
    }),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: 1062,
      originalMessage: "Duplicate entry '1' for key 'PRIMARY'",
      constraint: 'PRIMARY',
    },
  },
  {
    name: 'message text only: duplicate entry',
    error: new Error("Duplicate entry 'a' for key 'uq_email'"),
    expected: {
      code: 'UNIQUE_VIOLATION',
      originalCode: undefined,
      originalMessage: "Duplicate entry 'a' for key 'uq_email'",
      constraint: 'uq_email',
    },
  },
  {
    name: 'message text only: deadlock',
    error: new Error('Deadlock found when trying to get lock; try restarting transaction'),
    expected: {
      code: 'DEADLOCK',
      originalCode: undefined,
      originalMessage: 'Deadlock found when trying to get lock; try restarting transaction',
    },
  },
  {
    name: 'message text only: wsrep deadlock',
    error: new Error('Deadlock: wsrep aborted transaction'),
    expected: { code: 'DEADLOCK', originalCode: undefined, originalMessage: 'Deadlock: wsrep aborted transaction' },
  },
  {
    name: 'message text only: wsrep node not ready',
    error: new Error('WSREP has not yet prepared node for application use'),
    expected: {
      code: 'CONNECTION',
      originalCode: undefined,
      originalMessage: 'WSREP has not yet prepared node for application use',
      connectionLost: true,
    },
  },
  {
    name: 'message text only: lost connection',
    error: new Error('Connection lost: The server closed the connection.'),
    expected: {
      code: 'CONNECTION',
      originalCode: undefined,
      originalMessage: 'Connection lost: The server closed the connection.',
      connectionLost: true,
    },
  },
  { name: 'a TypeError', error: new TypeError('x is not a function'), expected: undefined },
  { name: 'a string', error: 'Duplicate entry', expected: undefined },
  { name: 'null', error: null, expected: undefined },
  { name: 'an empty object', error: {}, expected: undefined },
];

describe('classifyMysqlError', () => {
  it.each(rows)('$name', ({ error, expected }) => {
    expect(classifyMysqlError(error)).toStrictEqual(expected);
  });

  it('lets the error number decide over a misleading mysql2 code', () => {
    const error = serverError(1062, 'ECONNRESET', '23000', "Duplicate entry '1' for key 'PRIMARY'");
    expect(classifyMysqlError(error)?.code).toBe('UNIQUE_VIOLATION');
  });
});
