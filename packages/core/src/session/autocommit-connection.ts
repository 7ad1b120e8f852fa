import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import { UnsupportedFeatureError } from '../errors/error-classes.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import type { PooledConnection } from '../pool/pool.js';
import type { EngineContext } from './engine-context.js';

/**
 * A pooled connection used outside any transaction (`sf.db` outside a session, `sf.connection`).
 * It remembers whether the connection was lost, so `release` destroys it instead of pooling it.
 */
export class AutocommitConnection implements DatabaseConnection {
  readonly #engine: EngineContext;
  readonly pooled: PooledConnection<DriverConnection>;
  #lost = false;
  #released = false;

  constructor(engine: EngineContext, pooled: PooledConnection<DriverConnection>) {
    this.#engine = engine;
    this.pooled = pooled;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    try {
      return (await this.#engine.runner.execute(this.pooled, query, undefined)) as QueryResult<R>;
    } catch (error) {
      if (isConnectionLost(error, this.#engine.adapter)) this.#lost = true;
      throw error;
    }
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    const stream = this.pooled.resource.stream;
    if (!stream) throw new UnsupportedFeatureError(`The ${this.#engine.adapter.dialect} adapter cannot stream results`);
    yield* stream.call(this.pooled.resource, query, chunkSize) as AsyncIterableIterator<QueryResult<R>>;
  }

  /** Marks the connection unusable (a failed BEGIN/COMMIT/ROLLBACK through Kysely's own transaction API). */
  poison(): void {
    this.#lost = true;
  }

  /** Back to the pool, or destroyed when lost. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    if (this.#lost) await this.#engine.pool.invalidate(this.pooled, 'connection lost outside a session');
    else this.#engine.pool.release(this.pooled);
  }
}
