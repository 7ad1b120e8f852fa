import type { ErrorCode } from './error-codes.js';
import { type ErrorDetails, SessionFactoryError } from './session-factory-error.js';

/** An option or URL is invalid. The message names the option, the value and what is allowed. */
export class ConfigurationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'CONFIGURATION';
}

/** No connection became free within `pool.timeoutMs`. */
export class PoolTimeoutError extends SessionFactoryError {
  override readonly code: ErrorCode = 'POOL_TIMEOUT';
}

/** The factory was closed; it accepts no new sessions. */
export class FactoryClosedError extends SessionFactoryError {
  override readonly code: ErrorCode = 'FACTORY_CLOSED';
}

/** A `tx` was used after its session ended. */
export class SessionClosedError extends SessionFactoryError {
  override readonly code: ErrorCode = 'SESSION_CLOSED';
}

/** The connection could not be opened or was lost. */
export class ConnectionError extends SessionFactoryError {
  override readonly code: ErrorCode = 'CONNECTION';
}

/** The server rejected the credentials. */
export class AuthenticationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'AUTHENTICATION';
}

/** The database named in the configuration does not exist. */
export class DatabaseNotFoundError extends SessionFactoryError {
  override readonly code: ErrorCode = 'DATABASE_NOT_FOUND';
}

/** A unique or primary key constraint was violated. */
export class UniqueViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'UNIQUE_VIOLATION';
}

/** A foreign key constraint was violated. */
export class ForeignKeyViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'FOREIGN_KEY_VIOLATION';
}

/** A NOT NULL constraint was violated. */
export class NotNullViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'NOT_NULL_VIOLATION';
}

/** A CHECK constraint was violated. */
export class CheckViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'CHECK_VIOLATION';
}

/**
 * An exclusion constraint was violated (Postgres `EXCLUDE USING gist (...)`, SQLSTATE 23P01):
 * the row conflicts with an existing one, e.g. two overlapping bookings. `constraint` names it.
 */
export class ExclusionViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'EXCLUSION_VIOLATION';
}

/** The transaction could not be serialized; run it again. */
export class SerializationFailureError extends SessionFactoryError {
  override readonly code: ErrorCode = 'SERIALIZATION_FAILURE';
  override readonly retryable: boolean = true;
}

/** The server chose this transaction as a deadlock victim; run it again. */
export class DeadlockError extends SessionFactoryError {
  override readonly code: ErrorCode = 'DEADLOCK';
  override readonly retryable: boolean = true;
}

/** A lock could not be taken in time (or the SQLite database was busy). */
export class LockTimeoutError extends SessionFactoryError {
  override readonly code: ErrorCode = 'LOCK_TIMEOUT';
  override readonly retryable: boolean = true;
}

/** The server cancelled a statement (statement timeout or cancel request). */
export class StatementTimeoutError extends SessionFactoryError {
  override readonly code: ErrorCode = 'STATEMENT_TIMEOUT';
}

/** The session passed its `timeoutMs` or its `signal` aborted; it was rolled back. */
export class TransactionTimeoutError extends SessionFactoryError {
  override readonly code: ErrorCode = 'TRANSACTION_TIMEOUT';
}

/** A write was attempted in a read-only session. */
export class ReadOnlyViolationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'READ_ONLY_VIOLATION';
}

/** A statement names a table that does not exist. */
export class UndefinedTableError extends SessionFactoryError {
  override readonly code: ErrorCode = 'UNDEFINED_TABLE';
}

/** A statement names a column that does not exist. */
export class UndefinedColumnError extends SessionFactoryError {
  override readonly code: ErrorCode = 'UNDEFINED_COLUMN';
}

/** The server could not parse a statement. */
export class SqlSyntaxError extends SessionFactoryError {
  override readonly code: ErrorCode = 'SQL_SYNTAX';
}

/** A propagation rule was broken (`mandatory` without a session, `never` inside one, conflicting options). */
export class PropagationError extends SessionFactoryError {
  override readonly code: ErrorCode = 'PROPAGATION';
}

/** The transaction was marked rollback-only by a failed inner scope, so it was rolled back instead of committed. */
export class UnexpectedRollbackError extends SessionFactoryError {
  override readonly code: ErrorCode = 'UNEXPECTED_ROLLBACK';
}

/** The adapter cannot do what was asked (see its capabilities). */
export class UnsupportedFeatureError extends SessionFactoryError {
  override readonly code: ErrorCode = 'UNSUPPORTED_FEATURE';
}

/** Any other database error: the typed fallback. */
export class DatabaseError extends SessionFactoryError {
  override readonly code: ErrorCode = 'DATABASE';
}

/** Constructor of a typed error class. */
export type ErrorClass = new (message: string, details?: ErrorDetails) => SessionFactoryError;

/** The class for each stable code: one place decides which class a classification becomes. */
export const ERROR_CLASSES: Readonly<Record<ErrorCode, ErrorClass>> = {
  CONFIGURATION: ConfigurationError,
  POOL_TIMEOUT: PoolTimeoutError,
  FACTORY_CLOSED: FactoryClosedError,
  SESSION_CLOSED: SessionClosedError,
  CONNECTION: ConnectionError,
  AUTHENTICATION: AuthenticationError,
  DATABASE_NOT_FOUND: DatabaseNotFoundError,
  UNIQUE_VIOLATION: UniqueViolationError,
  FOREIGN_KEY_VIOLATION: ForeignKeyViolationError,
  NOT_NULL_VIOLATION: NotNullViolationError,
  CHECK_VIOLATION: CheckViolationError,
  EXCLUSION_VIOLATION: ExclusionViolationError,
  SERIALIZATION_FAILURE: SerializationFailureError,
  DEADLOCK: DeadlockError,
  LOCK_TIMEOUT: LockTimeoutError,
  STATEMENT_TIMEOUT: StatementTimeoutError,
  TRANSACTION_TIMEOUT: TransactionTimeoutError,
  READ_ONLY_VIOLATION: ReadOnlyViolationError,
  UNDEFINED_TABLE: UndefinedTableError,
  UNDEFINED_COLUMN: UndefinedColumnError,
  SQL_SYNTAX: SqlSyntaxError,
  PROPAGATION: PropagationError,
  UNEXPECTED_ROLLBACK: UnexpectedRollbackError,
  UNSUPPORTED_FEATURE: UnsupportedFeatureError,
  DATABASE: DatabaseError,
};
