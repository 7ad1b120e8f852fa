import type { BeginOptions, DriverConnection } from '../adapter/adapter.js';
import { SessionClosedError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import type { PooledConnection } from '../pool/pool.js';

/**
 * One physical transaction on one pooled connection: what every scope joined to it shares.
 * `poisoned` records why the connection must be destroyed rather than returned to the pool.
 */
export class TransactionState<C = PooledConnection<DriverConnection>> {
  readonly id: string;
  /** A pooled driver connection (async sessions) or a `SyncConnection` (sync sessions). */
  readonly connection: C;
  readonly begin: BeginOptions;
  readonly startedAt = performance.now();
  /** The session is over: any further use of its `tx` throws `SessionClosedError`. */
  ended = false;
  /** Set when the deadline passed or the signal aborted: further statements throw it. */
  abortReason: SessionFactoryError | undefined;
  /** Why the connection cannot go back to the pool (failed BEGIN/COMMIT/ROLLBACK, lost connection). */
  poisoned: string | undefined;
  /** Statements in flight, so a timeout can wait for the cancelled one before ROLLBACK. */
  readonly pending = new Set<Promise<unknown>>();
  #savepoints = 0;

  constructor(id: string, connection: C, begin: BeginOptions) {
    this.id = id;
    this.connection = connection;
    this.begin = begin;
  }

  /** Generated, never from user input. */
  nextSavepointName(): string {
    this.#savepoints += 1;
    return `sp_${this.#savepoints}`;
  }

  /** Throws if the session can no longer run statements. */
  assertUsable(): void {
    if (this.ended) {
      throw new SessionClosedError(
        `Session ${this.id} has ended: its tx cannot be used any more. Run the query inside the session function, or open a new session.`,
      );
    }
    if (this.abortReason) throw this.abortReason;
  }

  /** Tracks a statement so a timeout can wait for it to settle. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const untrack = () => this.pending.delete(promise);
    promise.then(untrack, untrack);
    return promise;
  }
}
