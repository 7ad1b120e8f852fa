import type { ErrorCode } from '@sessionfactory/core';

/**
 * Server error numbers (MySQL and MariaDB) and client error numbers, to the stable code each
 * one means. Numbers decide before anything else: mysql2's `code` names are MySQL 8's and
 * misname some MariaDB errors (MariaDB's 4025 check violation arrives as
 * `ER_INNODB_AUTOEXTEND_SIZE_OUT_OF_RANGE`).
 */
export const MYSQL_ERRNO_CODES: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [1062, 'UNIQUE_VIOLATION'], // ER_DUP_ENTRY
  [1451, 'FOREIGN_KEY_VIOLATION'], // ER_ROW_IS_REFERENCED_2 (parent row still referenced)
  [1452, 'FOREIGN_KEY_VIOLATION'], // ER_NO_REFERENCED_ROW_2 (no parent row)
  [1048, 'NOT_NULL_VIOLATION'], // ER_BAD_NULL_ERROR
  [1364, 'NOT_NULL_VIOLATION'], // ER_NO_DEFAULT_FOR_FIELD (NOT NULL column left out, strict mode)
  [3819, 'CHECK_VIOLATION'], // MySQL ER_CHECK_CONSTRAINT_VIOLATED
  [4025, 'CHECK_VIOLATION'], // MariaDB ER_CONSTRAINT_FAILED
  [1020, 'SERIALIZATION_FAILURE'], // MariaDB ER_CHECKREAD (innodb_snapshot_isolation=ON)
  // ER_LOCK_DEADLOCK; on Galera also a certification conflict or a brute-force abort by a
  // replicated write ("Deadlock: wsrep aborted transaction"), at any statement or at COMMIT. The
  // server rolled the transaction back in every case, so it is retryable and never ambiguous.
  [1213, 'DEADLOCK'],
  [1205, 'LOCK_TIMEOUT'], // ER_LOCK_WAIT_TIMEOUT
  [3024, 'STATEMENT_TIMEOUT'], // MySQL ER_QUERY_TIMEOUT (max_execution_time)
  [1969, 'STATEMENT_TIMEOUT'], // MariaDB ER_STATEMENT_TIMEOUT (max_statement_time)
  [1317, 'STATEMENT_TIMEOUT'], // ER_QUERY_INTERRUPTED (KILL QUERY)
  [1792, 'READ_ONLY_VIOLATION'], // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  [1146, 'UNDEFINED_TABLE'], // ER_NO_SUCH_TABLE
  [1054, 'UNDEFINED_COLUMN'], // ER_BAD_FIELD_ERROR
  [1064, 'SQL_SYNTAX'], // ER_PARSE_ERROR
  [1049, 'DATABASE_NOT_FOUND'], // ER_BAD_DB_ERROR
  [1045, 'AUTHENTICATION'], // ER_ACCESS_DENIED_ERROR
  [1044, 'AUTHENTICATION'], // ER_DBACCESS_DENIED_ERROR (the user may not use that database)
  [1040, 'CONNECTION'], // ER_CON_COUNT_ERROR (too many connections)
  [1053, 'CONNECTION'], // ER_SERVER_SHUTDOWN
  [1927, 'CONNECTION'], // MariaDB ER_CONNECTION_KILLED
  // ER_UNKNOWN_COM_ERROR; Galera answers it (SQLSTATE 08S01) on a node that is not a synced
  // member of the primary component ("WSREP has not yet prepared node for application use"):
  // the node is unusable, so its connection is dropped and a multi-host URL moves on.
  [1047, 'CONNECTION'],
  [2006, 'CONNECTION'], // CR_SERVER_GONE_ERROR
  [2013, 'CONNECTION'], // CR_SERVER_LOST
]);
