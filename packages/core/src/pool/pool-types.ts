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
