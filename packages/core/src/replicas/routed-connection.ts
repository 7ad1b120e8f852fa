import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import type { PooledConnection } from '../pool/pool.js';
import { AutocommitConnection } from '../session/autocommit-connection.js';
import type { SessionEngine } from '../session/session-engine.js';
import { isReplicaSafe } from './read-only-query.js';
import type { ReplicaSet } from './replica-set.js';

/**
 * The connection `sf.db` hands Kysely outside a session when the factory has replicas. It
 * holds nothing until a statement arrives: a plain SELECT runs on a connection the replica set
 * picks (a replica, or the primary) and gives it back at once; anything else binds the
 * connection to a primary connection for the rest of its life (so `db.connection()` and
 * Kysely's transactions keep one server), and an autocommit statement there records the
 * primary's position for read-your-writes.
 */
export class RoutedConnection implements DatabaseConnection {
  readonly #owner: SessionEngine;
  readonly #replicas: ReplicaSet;
  readonly #signal: AbortSignal | undefined;
  #primary: AutocommitConnection | undefined;
  /** The replica (or primary) connection a SELECT is running on right now, for cancel. */
  #current: PooledConnection<DriverConnection> | undefined;
  /** Kysely's 'kill session' hit the running read: its connection is destroyed, not pooled. */
  #killed = false;

  /** The class for `owner`'s adapter: with Kysely's abort strategies only where the adapter can cancel. */
  static for(owner: SessionEngine): typeof RoutedConnection {
    const { adapter } = owner.context;
    return adapter.capabilities.cancel && adapter.cancel ? CancellableRoutedConnection : RoutedConnection;
  }

  constructor(owner: SessionEngine, replicas: ReplicaSet, signal: AbortSignal | undefined) {
    this.#owner = owner;
    this.#replicas = replicas;
    this.#signal = signal;
  }

  /** The primary connection, once a statement that may write (or a transaction) needed it. */
  get bound(): AutocommitConnection | undefined {
    return this.#primary;
  }

  /** Binds to a primary connection (checked out on first need). */
  async primary(): Promise<AutocommitConnection> {
    if (this.#primary) return this.#primary;
    const pooled = await this.#replicas.acquirePrimary(this.#signal, 'reader');
    this.#primary = new (AutocommitConnection.for(this.#owner))(this.#owner, pooled);
    return this.#primary;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.#primary && isReplicaSafe(query)) return this.#read<R>(query);
    const primary = await this.primary();
    const result = await primary.executeQuery<R>(query);
    // Outside a Kysely transaction a statement that may write committed on its own: remember where.
    if (!primary.transaction && !isReplicaSafe(query)) {
      const lost = await this.#replicas.recordAfterWrite(primary.pooled, undefined);
      if (lost) primary.poison();
    }
    return result;
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    if (this.#primary || !isReplicaSafe(query)) {
      yield* (await this.primary()).streamQuery<R>(query, chunkSize);
      return;
    }
    const pooled = await this.#replicas.acquireRead(undefined, this.#signal);
    this.#current = pooled;
    let failure: unknown;
    try {
      yield* this.#owner.context.runner.stream(pooled, query, chunkSize, undefined) as AsyncIterableIterator<
        QueryResult<R>
      >;
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      await this.#giveBack(pooled, failure);
    }
  }

  /** Gives the primary connection back, if one was bound. */
  async release(): Promise<void> {
    await this.#primary?.release();
  }

  // A SELECT on a replica that dies under it is run once more: the replica set then routes it
  // to another replica or the primary (a plain SELECT can be repeated safely).
  async #read<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    for (let attempt = 1; ; attempt++) {
      const pooled: PooledConnection<DriverConnection> = await this.#replicas.acquireRead(undefined, this.#signal);
      const onReplica = this.#replicas.serverOf(pooled) !== 'primary';
      this.#current = pooled;
      try {
        const result = await this.#owner.context.runner.execute(pooled, query, undefined);
        await this.#giveBack(pooled, undefined);
        return result as QueryResult<R>;
      } catch (error) {
        const lost = await this.#giveBack(pooled, error);
        if (!(lost && onReplica && attempt === 1 && !this.#killed)) throw error;
      }
    }
  }

  #giveBack(pooled: PooledConnection<DriverConnection>, error: unknown): Promise<boolean> {
    this.#current = undefined;
    return this.#replicas.giveBack(pooled, error, this.#killed);
  }

  /** Cancels the statement running now, on whichever server it runs. */
  protected cancelRunning(kill: boolean): Promise<void> {
    const primary = this.#primary as (AutocommitConnection & Partial<Cancellable>) | undefined;
    if (primary?.cancelQuery) return kill ? primary.killSession!() : primary.cancelQuery();
    const current = this.#current;
    if (!current) return Promise.resolve();
    if (kill) this.#killed = true;
    return this.#replicas.adapterOf(current).cancel?.(current.resource) ?? Promise.resolve();
  }
}

interface Cancellable {
  cancelQuery(): Promise<void>;
  killSession(): Promise<void>;
}

/**
 * A routed connection of an adapter that can cancel: Kysely's `inflightQueryAbortStrategy`
 * 'cancel query' and 'kill session' reach the server the statement runs on.
 */
class CancellableRoutedConnection extends RoutedConnection implements Cancellable {
  cancelQuery(): Promise<void> {
    return this.cancelRunning(false);
  }

  killSession(): Promise<void> {
    return this.cancelRunning(true);
  }
}
