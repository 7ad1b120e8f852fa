import { CompiledQuery, type DatabaseConnection, type QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import type { PooledConnection } from '../pool/pool.js';
import type { AsyncScope, SessionEngine } from './session-engine.js';

/**
 * A pooled connection used outside any session (`sf.db` outside a session, `sf.connection`).
 * While Kysely's own transaction API has a transaction open on it, its statements go through
 * the engine exactly like a session's. It remembers whether the connection was lost or left
 * in an unknown state, so `release` destroys it instead of pooling it.
 */
export class AutocommitConnection implements DatabaseConnection {
  readonly pooled: PooledConnection<DriverConnection>;
  /** A transaction opened on this connection by Kysely's `transaction()`/`startTransaction()`. */
  transaction: AsyncScope | undefined;
  readonly #owner: SessionEngine;
  #lost = false;
  #released = false;

  /** The class for `owner`'s adapter: with Kysely's abort strategies only where the adapter can cancel. */
  static for(owner: SessionEngine): typeof AutocommitConnection {
    const { adapter } = owner.context;
    return adapter.capabilities.cancel && adapter.cancel ? CancellableAutocommitConnection : AutocommitConnection;
  }

  constructor(owner: SessionEngine, pooled: PooledConnection<DriverConnection>) {
    this.#owner = owner;
    this.pooled = pooled;
  }

  protected get owner(): SessionEngine {
    return this.#owner;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.transaction) return this.#owner.execute<R>(this.transaction, query);
    return this.#owner.context.runner.execute(this.pooled, query, undefined).catch((error: unknown) => {
      if (isConnectionLost(error, this.#owner.context.adapter)) this.#lost = true;
      throw error;
    }) as Promise<QueryResult<R>>;
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    if (this.transaction) {
      yield* this.#owner.stream<R>(this.transaction, query, chunkSize);
      return;
    }
    try {
      yield* this.#owner.context.runner.stream(this.pooled, query, chunkSize, undefined) as AsyncIterableIterator<
        QueryResult<R>
      >;
    } catch (error) {
      if (isConnectionLost(error, this.#owner.context.adapter)) this.#lost = true;
      throw error;
    }
  }

  /** Marks the connection unusable: it is destroyed at release. */
  poison(): void {
    this.#lost = true;
  }

  /**
   * Session state set inside `sf.connection(fn)` (SET, temporary tables, session locks,
   * prepared statements, an open transaction) must not reach the next user: roll back, then
   * let the driver reset the connection; a driver that cannot has it destroyed.
   */
  async reset(): Promise<void> {
    if (this.#lost) return;
    const { adapter, runner } = this.#owner.context;
    const resource = this.pooled.resource;
    try {
      if (resource.inTransaction?.() !== false) {
        await runner.execute(this.pooled, CompiledQuery.raw(adapter.sql.rollback), undefined);
      }
      if (resource.reset) await resource.reset();
      else this.#lost = true;
    } catch {
      this.#lost = true;
    }
  }

  /** Back to the pool, or destroyed when lost; a transaction still open is rolled back first. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    if (this.transaction && !this.transaction.tx!.ended) await this.#owner.rollbackOn(this).catch(() => {});
    this.#released = true;
    const { pool } = this.#owner.context;
    const poisoned = this.#lost ? 'connection lost outside a session' : this.transaction?.tx?.poisoned;
    if (poisoned) await pool.invalidate(this.pooled, poisoned);
    else pool.release(this.pooled);
  }
}

/**
 * An autocommit connection of an adapter that can cancel: Kysely's
 * `inflightQueryAbortStrategy` 'cancel query' and 'kill session' work through `adapter.cancel`
 * (Kysely looks for these methods to know the strategies are supported).
 */
class CancellableAutocommitConnection extends AutocommitConnection {
  cancelQuery(): Promise<void> {
    return this.owner.context.adapter.cancel!(this.pooled.resource);
  }

  /** Cancel, and never pool the connection again. */
  killSession(): Promise<void> {
    this.poison();
    return this.cancelQuery();
  }
}
