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

/** Where a session or statement runs: the primary, or replica `i` of `FactoryOptions.replicas`. */
export type ServerName = 'primary' | `replica:${number}`;

/**
 * One routing decision (factories with `replicas` only): where a read-only session or an
 * `sf.db` statement outside a session runs, and why.
 * - `replica`: a healthy replica that has every write the read must see.
 * - `caught-up`: a replica that had to be waited for (`waitedMs`) until it replayed `position`.
 * - `write`: a session or statement that may write goes to the primary.
 * - `behind`: no replica reached `position` within `replicaWaitMs`: the primary serves the read.
 * - `no-replica`: every replica is down or lagging more than `maxReplicaLagMs`.
 */
export interface RouteEvent {
  readonly server: ServerName;
  readonly reason: 'replica' | 'caught-up' | 'write' | 'behind' | 'no-replica';
  /** The position the read had to see (the factory's last write, or the session's `after`). */
  readonly position?: string | undefined;
  /** Time spent waiting for a replica to catch up. */
  readonly waitedMs: number;
}

/** A replica changed health: `down` (connect or status query failed), `lagging`, or `up` again. */
export interface ReplicaHealthEvent {
  readonly server: `replica:${number}`;
  readonly state: 'up' | 'down' | 'lagging';
  /** Why (the error message, with any password redacted, or the measured lag). */
  readonly reason: string;
  /** Lag measured by the last status check, when known. */
  readonly lagMs?: number | undefined;
  /** When it will be tried again (`Date.now()` milliseconds), for `down` and `lagging`. */
  readonly retryAt?: number | undefined;
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
  route: RouteEvent;
  replica: ReplicaHealthEvent;
}
