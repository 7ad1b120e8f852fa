import type { CompiledQuery, QueryResult } from 'kysely';
import { SessionClosedError, TransactionTimeoutError } from '../errors/error-classes.js';
import { SessionFactoryError } from '../errors/session-factory-error.js';
import { errorFromJSON } from '../errors/to-session-factory-error.js';
import { buffersInRows } from './binary-values.js';
import type { CallReply } from './bridge-protocol.js';
import type { SyncConnection } from './sync-connection.js';
import type { CallRequest, WorkerHandle } from './worker-handle.js';

/**
 * A `SyncConnection` backed by one slot of the sync worker. `begin` is deferred: its
 * statements travel with the first `execute` (one round trip), and a transaction that ran
 * nothing sends nothing at all. After a timeout or a crash the worker owns the cleanup, so
 * `end` is then a no-op. `release`/`destroy` free the slot on the main thread at once
 * (they never wait for the worker), so no lost message can keep a slot in use.
 */
export class BridgedSyncConnection implements SyncConnection {
  /** The slot number (unique per bridge), reported as the connection id in query events. */
  readonly connectionId: number;
  readonly #handle: WorkerHandle;
  readonly #slot: number;
  readonly #free: () => void;
  #pendingBegin: readonly string[] | undefined;
  /** The worker holds a connection (and maybe a transaction) for this slot. */
  #held = false;
  /** The worker has seen this slot and keeps state for it until release/destroy. */
  #known = false;
  /** A call timed out: the worker cancels and rolls back; the transaction is over. */
  #timedOut = false;
  #done = false;

  constructor(handle: WorkerHandle, slot: number, free: () => void) {
    this.#handle = handle;
    this.#slot = slot;
    this.#free = free;
    this.connectionId = slot;
  }

  begin(statements: readonly string[]): void {
    this.#assertOpen();
    this.#pendingBegin = [...statements];
    this.#timedOut = false;
  }

  execute(query: CompiledQuery, budgetMs?: number): QueryResult<unknown> {
    this.#assertOpen();
    if (this.#timedOut) {
      throw new TransactionTimeoutError('the transaction was rolled back after a sync call exceeded callTimeoutMs');
    }
    const reply = this.#call(
      {
        type: 'execute',
        slot: this.#slot,
        begin: this.#pendingBegin,
        sql: query.sql,
        parameters: query.parameters,
      },
      budgetMs,
    );
    if (!reply.ok) {
      this.#held = reply.held;
      throw errorFromJSON(reply.error);
    }
    this.#held = true;
    const result = reply.result ?? { rows: [] };
    buffersInRows(result.rows as unknown[]);
    return result;
  }

  end(statements: readonly string[]): void {
    this.#assertOpen();
    this.#pendingBegin = undefined;
    // nothing to end (no statement ran, or the worker already cleaned up); with no
    // statements, `release` pools the connection without a round trip of its own
    if (!this.#held || statements.length === 0) return;
    const reply = this.#call({ type: 'end', slot: this.#slot, statements });
    this.#held = false;
    if (!reply.ok) throw errorFromJSON(reply.error);
  }

  release(): void {
    if (this.#finish()) this.#handle.send({ type: 'release', slot: this.#slot });
  }

  destroy(): void {
    if (this.#finish()) this.#handle.send({ type: 'destroy', slot: this.#slot });
  }

  /** Marks the slot free; true if the worker has state for it that must be let go. */
  #finish(): boolean {
    if (this.#done) return false;
    this.#done = true;
    this.#pendingBegin = undefined;
    this.#free();
    return this.#known;
  }

  #call(request: CallRequest, budgetMs?: number): CallReply {
    let sent = false;
    try {
      const reply = this.#handle.call(request, budgetMs);
      sent = true;
      return reply;
    } catch (error) {
      // a TypeError means the request could not be cloned: nothing was sent, nothing changed
      sent = error instanceof SessionFactoryError;
      if (error instanceof TransactionTimeoutError) this.#timedOut = true;
      if (sent) this.#held = false;
      throw error;
    } finally {
      if (sent) {
        this.#known = true;
        this.#pendingBegin = undefined;
      }
    }
  }

  #assertOpen(): void {
    if (this.#done) throw new SessionClosedError('this sync connection was already released');
  }
}
