import type { AcquisitionSite } from './acquisition-site.js';
import type { PooledConnection } from './pool-types.js';

/** setTimeout fires at once for delays above this (32-bit signed milliseconds). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * A delay setTimeout honours: clamped to 0..2^31-1 ms, so a huge timeout waits long instead of firing at once.
 */
export function timerDelay(ms: number): number {
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}

/**
 * One caller of `acquire`. It settles exactly once (connection, timeout, abort or close) and
 * then cleans up its timer and abort listener, so a late connection can go to someone else.
 */
export class PoolWaiter<T> {
  /** A connection is being opened or pinged for this caller (it left the queue). */
  serving = false;
  /** The caller holds a writer slot, which it gives back if it gets no connection. */
  writer = false;
  /** Where the caller asked (with `leakDetectionMs` set): the leak report's stack. */
  site: AcquisitionSite | undefined;
  #settled = false;
  #timer: NodeJS.Timeout | undefined;
  #signal: AbortSignal | undefined;
  #onAbort: (() => void) | undefined;
  readonly #resolve: (connection: PooledConnection<T>) => void;
  readonly #reject: (error: unknown) => void;
  readonly #onSettle: (waiter: PoolWaiter<T>) => void;

  constructor(
    resolve: (connection: PooledConnection<T>) => void,
    reject: (error: unknown) => void,
    onSettle: (waiter: PoolWaiter<T>) => void,
  ) {
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onSettle = onSettle;
  }

  /** Whether the caller already got its answer. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Starts the deadline and listens to the abort signal (rejecting with its reason).
   */
  arm(timeoutMs: number, onTimeout: () => void, signal: AbortSignal | undefined): void {
    if (Number.isFinite(timeoutMs)) {
      this.#timer = setTimeout(onTimeout, timerDelay(timeoutMs));
    }
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.reject(signal.reason);
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /**
   * Gives the caller its connection. Returns false (and does nothing) if it already settled.
   */
  resolve(connection: PooledConnection<T>): boolean {
    if (!this.#settle()) return false;
    this.#resolve(connection);
    return true;
  }

  /**
   * Fails the caller. Returns false (and does nothing) if it already settled.
   */
  reject(error: unknown): boolean {
    if (!this.#settle()) return false;
    this.#reject(error);
    return true;
  }

  #settle(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    clearTimeout(this.#timer);
    if (this.#signal && this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onSettle(this);
    return true;
  }
}
