import type { ErrorCode } from './error-codes.js';

/** Fields every typed error may carry besides its message. */
export interface ErrorDetails {
  readonly dialect?: string | undefined;
  readonly cause?: unknown;
  readonly originalCode?: string | number | undefined;
  readonly originalMessage?: string | undefined;
  readonly constraint?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
  /** Errors that happened while handling this one (a failed ROLLBACK after a failed statement). */
  readonly suppressed?: readonly unknown[] | undefined;
}

/**
 * Base class of every error sessionfactory throws. Catch it (or a subclass) instead of
 * matching driver messages: the same class and `code` come from every adapter.
 *
 * @example
 * ```ts
 * try {
 *   await sf.session((tx) => tx.insertInto('account').values(row).execute())
 * } catch (e) {
 *   if (e instanceof UniqueViolationError) console.log(e.constraint)
 *   else if (e instanceof SessionFactoryError && e.retryable) scheduleRetry()
 *   else throw e
 * }
 * ```
 */
export class SessionFactoryError extends Error {
  /** Stable machine-readable code, e.g. `UNIQUE_VIOLATION`. */
  readonly code: ErrorCode = 'DATABASE';
  /** Whether running the unit of work again may succeed (serialization failure, deadlock, lock timeout). */
  readonly retryable: boolean = false;
  readonly dialect: string | undefined;
  readonly originalCode: string | number | undefined;
  readonly originalMessage: string | undefined;
  readonly constraint: string | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly suppressed: readonly unknown[];
  #commitOutcomeUnknown = false;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.dialect = details.dialect;
    this.originalCode = details.originalCode;
    this.originalMessage = details.originalMessage;
    this.constraint = details.constraint;
    this.table = details.table;
    this.column = details.column;
    this.suppressed = details.suppressed ?? [];
  }

  override get name(): string {
    return this.constructor.name;
  }

  /**
   * True when the connection was lost while COMMIT was in flight: the server may or may not
   * have committed. Such a unit is never retried (a retry could apply its writes twice);
   * check the data, or make the unit idempotent, before running it again.
   *
   * @example
   * ```ts
   * catch (e) { if (e instanceof SessionFactoryError && e.commitOutcomeUnknown) await reconcile(order) }
   * ```
   */
  get commitOutcomeUnknown(): boolean {
    return this.#commitOutcomeUnknown;
  }

  /** Set by the engine when the connection was lost during COMMIT. */
  markCommitOutcomeUnknown(): void {
    if (this.#commitOutcomeUnknown) return;
    this.#commitOutcomeUnknown = true;
    this.message +=
      ' The connection was lost while COMMIT was in flight: the transaction may or may not have been committed (commitOutcomeUnknown).';
  }

  /** Plain-object form, used to carry the error across the worker boundary and into logs. */
  toJSON(): SerializedError {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      dialect: this.dialect,
      originalCode: this.originalCode,
      originalMessage: this.originalMessage,
      constraint: this.constraint,
      table: this.table,
      column: this.column,
    };
  }
}

/** The structured-clonable form of a `SessionFactoryError`. */
export interface SerializedError {
  readonly name: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly dialect?: string | undefined;
  readonly originalCode?: string | number | undefined;
  readonly originalMessage?: string | undefined;
  readonly constraint?: string | undefined;
  readonly table?: string | undefined;
  readonly column?: string | undefined;
}
