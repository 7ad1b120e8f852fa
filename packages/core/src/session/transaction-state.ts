import type { BeginOptions } from '../adapter/adapter.js';
import { SessionClosedError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import type { ServerName } from '../events/event-types.js';

/**
 * One physical transaction on one connection: what every scope joined to it shares. The
 * connection is a pooled driver connection (async sessions) or a `SyncConnection` (sync).
 * `poisoned` records why the connection may not simply go back to the pool; `lost` says the
 * connection itself is gone or busy, so not even a ROLLBACK may be tried on it.
 */
export class TransactionState<C = unknown> {
  readonly id: string;
  /** Replaced only while a deferred BEGIN finds its connection dead (nothing of the session ran yet). */
  connection: C;
  readonly begin: BeginOptions;
  readonly startedAt = performance.now();
  /** Where the transaction runs (`tx.info.server`): set by the executor when the factory has replicas. */
  server: ServerName = 'primary';
  /** It ran a statement that may write (factories with replicas): its commit records the position. */
  wrote = false;
  /** The session is over: any further use of its `tx` throws `SessionClosedError`. */
  ended = false;
  /** Why the transaction can no longer commit (deadline, cancel, a statement that ended it). */
  abortReason: SessionFactoryError | undefined;
  /** Why the connection cannot go back to the pool as it is. */
  poisoned: string | undefined;
  /** The connection is gone or still busy: destroy it, send it nothing more. */
  lost = false;
  /** Statements in flight, so a timeout can wait for the cancelled one before ROLLBACK. */
  readonly pending = new Set<Promise<unknown>>();
  /** Closers of streams still open: the transaction's end closes them while the connection is its own. */
  streams: Set<() => unknown> | undefined;
  /** A cancel sent for this transaction's statement: the connection is not reused before it settles. */
  cancelling: Promise<void> | undefined;
  /**
   * BEGIN statements not sent yet: they go out with the first statement, in the same network
   * write (`DriverConnection.executeAfter`). Set until then; a transaction that ends with it
   * still set never started on the server, so its COMMIT/ROLLBACK send nothing.
   */
  deferredBegin: readonly string[] | undefined;
  /** The statement carrying the deferred BEGIN, while in flight: later statements wait for it. */
  beginning: Promise<unknown> | undefined;
  /**
   * The attempt's deadline. Async: kept while BEGIN is deferred, so a replacement connection (the
   * first one found dead by the statement carrying BEGIN) is checked out under it. Sync: set only
   * with `timeoutMs`, each statement's budget.
   */
  deadline: unknown;
  /** The outer transaction of `withRollback`: scopes inside it become savepoints (see `planPropagation`). */
  testTransaction = false;
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

  /** Marks the connection unfit for the pool; `lost` when not even ROLLBACK may be sent. */
  poison(reason: string, lost = false): void {
    this.poisoned ??= reason;
    if (lost) this.lost = true;
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
