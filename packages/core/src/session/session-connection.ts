import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import type { AsyncScope, SessionEngine } from './session-engine.js';

/**
 * The Kysely connection behind a session's `tx` (and behind `sf.db` inside a session): every
 * statement and stream goes through the engine, which checks the scope, tracks the statement
 * and records what a failure did to the transaction.
 */
export class SessionConnection implements DatabaseConnection {
  readonly #engine: SessionEngine;
  readonly #scope: AsyncScope;
  /** Inside `withRollback`: the savepoint that stands for Kysely's `sf.db.transaction()` on this connection. */
  testSavepoint: string | undefined;

  constructor(engine: SessionEngine, scope: AsyncScope) {
    this.#engine = engine;
    this.#scope = scope;
  }

  /** The scope whose connection this is. */
  get scope(): AsyncScope {
    return this.#scope;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return this.#engine.execute<R>(this.#scope, query);
  }

  streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    return this.#engine.stream<R>(this.#scope, query, chunkSize);
  }
}
