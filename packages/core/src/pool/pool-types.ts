import type { PoolStats } from './pool-options.js';

/**
 * How the pool opens, closes and checks one resource. Core wraps adapter connections in these;
 * the pool itself knows nothing about databases.
 */
export interface PoolHooks<T> {
  /** Opens a connection; errors propagate, unchanged, to the acquirer. */
  create(): Promise<T>;
  /** Opens a connection synchronously (used by `tryAcquireSync`). */
  createSync?(): T;
  /** Closes a connection; errors are swallowed and reported through `listeners.error`. */
  destroy(resource: T): Promise<void>;
  /** Throws if the connection is dead. */
  ping(resource: T): Promise<void>;
  /** With prePing on: whether this checkout needs the ping (false skips it, e.g. for a connection that just proved itself). */
  shouldPing?(resource: T): boolean;
  /** The driver already knows the connection is dead (checked at release and at checkout). */
  isBroken?(resource: T): boolean;
  /** Names what holds a checked-out connection (a session id), for leak reports and timeout messages. */
  holderOf?(connection: PooledConnection<T>): string | undefined;
}

/**
 * A connection held longer than `leakDetectionMs`, as the pool reports it (once per checkout).
 */
export interface PoolLeak {
  readonly connectionId: number;
  /** What `hooks.holderOf` named (a session id), if anything. */
  readonly holder: string | undefined;
  /** Milliseconds since checkout. */
  readonly heldMs: number;
  /** Stack frames where the connection was acquired, the library's own frames left out. */
  readonly stack: string;
}

/**
 * Observers of the pool's life cycle. A listener that throws never breaks the pool: the error
 * goes to `error` (or is swallowed when `error` itself throws).
 */
export interface PoolListeners {
  /** A connection was opened. */
  connect?(id: number): void;
  /** A connection was handed to a caller. */
  checkout?(id: number): void;
  /** A released connection was kept (idle) or handed over to a waiter. */
  checkin?(id: number): void;
  /** A connection was discarded as broken. */
  invalidate?(id: number, reason: string): void;
  /** An `acquire` got its connection after waiting `waitedMs` (only `acquire` is timed, and only with this listener set). */
  acquired?(waitedMs: number): void;
  /** A connection has been held longer than `leakDetectionMs` (once per checkout). */
  leak?(leak: PoolLeak): void;
  /** Something failed where no caller could be told (a destroy, a listener, a late connect). */
  error?(error: unknown, phase: string): void;
}

/**
 * Pool settings with every default applied (see `PoolOptions` for their meaning).
 */
export interface ResolvedPoolOptions {
  size: number;
  maxOverflow: number;
  timeoutMs: number;
  recycleMs: number | undefined;
  prePing: boolean;
  lifo: boolean;
  idleTimeoutMs: number | undefined;
  /** Report connections held longer than this (undefined: off, no stacks captured, no timers). */
  leakDetectionMs?: number | undefined;
  /**
   * Writers allowed to hold a connection at once (SQLite: 1, from `Adapter.maxWriters`); further
   * writers wait in line, first come first served, within `timeoutMs`. Undefined: no limit.
   */
  maxWriters?: number | undefined;
}

/**
 * What a checkout is for. A `'writer'` may open a write transaction and hold it across awaits, so
 * where the database runs one writer at a time (SQLite) it waits for the writer slot first. A
 * `'reader'` only reads, or runs single statements that take and drop any lock within the call,
 * so it may run beside the writer on another connection.
 *
 * @example
 * ```ts
 * const role: ConnectionRole = options.readOnly ? 'reader' : 'writer';
 * ```
 */
export type ConnectionRole = 'reader' | 'writer';

/**
 * Options of `Pool.acquire`.
 *
 * @example
 * ```ts
 * await pool.acquire({ role: 'reader', signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface AcquireOptions {
  readonly signal?: AbortSignal | undefined;
  /** Default `'writer'`: the safe choice when the caller cannot tell. */
  readonly role?: ConnectionRole | undefined;
}

/**
 * One open connection as the pool hands it out. The object's identity is the checkout token:
 * pass this same object back to `release` or `invalidate`.
 */
export interface PooledConnection<T> {
  /** 1, 2, 3, ... in the order connections were opened. */
  readonly id: number;
  readonly resource: T;
  /** `Date.now()` when the connection was opened (the age `recycleMs` is measured from). */
  readonly createdAt: number;
}

/**
 * `PoolStats` plus the number of connections being opened right now, which the accounting
 * invariant needs: `created - destroyed == open` and `open + opening <= size + maxOverflow`.
 */
export interface PoolSnapshot extends PoolStats {
  /** Connections whose `create` has started but not finished. */
  readonly opening: number;
}
