import type { SessionFactoryError } from '../errors/session-factory-error.js';

/** One executed statement, as `echo` and the `query` event see it. */
export interface QueryEvent {
  readonly sql: string;
  /** Present only with `logParameters: true`. */
  readonly parameters?: readonly unknown[];
  readonly durationMs: number;
  /** The session the statement ran in, if any. */
  readonly sessionId: string | undefined;
  readonly connectionId: number;
  /** Set when the statement failed. */
  readonly error?: SessionFactoryError;
}

export interface ConnectionEvent {
  readonly connectionId: number;
}

export interface InvalidateEvent extends ConnectionEvent {
  readonly reason: string;
}

/**
 * A connection held longer than `pool.leakDetectionMs`: emitted once per checkout, while it is
 * still held. Its later return emits nothing more (a normal `checkin`, if it is kept).
 */
export interface LeakEvent {
  readonly connectionId: number;
  /** The session holding it (`sf.session`, `sf.begin`); undefined for `sf.connection`, sync sessions and Kysely's own transactions. */
  readonly sessionId: string | undefined;
  /** How long it had been held when reported (at least `leakDetectionMs`). */
  readonly heldMs: number;
  /** Where it was acquired: stack frames (`    at ...` lines), sessionfactory's own frames left out. */
  readonly stack: string;
}

export interface CommitEvent {
  readonly sessionId: string;
  readonly durationMs: number;
}

export interface RollbackEvent {
  readonly sessionId: string;
  readonly durationMs: number;
  /** The error that caused the rollback, if any. */
  readonly error?: unknown;
}

export interface ErrorEvent {
  /** Where it happened: `onCommit`, `onRollback`, `listener`, `close`, ... */
  readonly phase: string;
  readonly error: unknown;
  readonly sessionId?: string | undefined;
}

/** Event name to payload. */
export interface FactoryEvents {
  connect: ConnectionEvent;
  checkout: ConnectionEvent;
  checkin: ConnectionEvent;
  invalidate: InvalidateEvent;
  leak: LeakEvent;
  query: QueryEvent;
  commit: CommitEvent;
  rollback: RollbackEvent;
  error: ErrorEvent;
}
