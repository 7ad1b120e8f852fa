import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import { UnsupportedFeatureError } from '../errors/error-classes.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { SessionFactoryError } from '../errors/session-factory-error.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';

const TRANSACTION_ENDING: ReadonlySet<ErrorCode> = new Set(['DEADLOCK', 'SERIALIZATION_FAILURE']);

import type { EngineContext } from './engine-context.js';
import type { Scope } from './scope.js';

/**
 * The Kysely connection behind a session's `tx`: every statement checks that the scope is
 * still usable, runs on the transaction's pooled connection, and is tracked so a timeout
 * can wait for it; a statement that loses the connection poisons the transaction.
 */
export class SessionConnection implements DatabaseConnection {
  readonly #engine: EngineContext;
  readonly #scope: Scope;

  constructor(engine: EngineContext, scope: Scope) {
    this.#engine = engine;
    this.#scope = scope;
  }

  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const scope = this.#scope;
    const tx = scope.tx!;
    scope.assertUsable();
    const run = this.#engine.runner.execute(tx.connection, query, tx.id).catch((error: unknown) => {
      if (isConnectionLost(error, this.#engine.adapter)) tx.poisoned ??= 'connection lost during a statement';
      const aborted = tx.abortReason;
      // A deadlock or serialization failure ends the whole transaction on the server (InnoDB
      // rolls it back): later statements must not run in autocommit, and it must not commit.
      if (error instanceof SessionFactoryError && TRANSACTION_ENDING.has(error.code)) tx.abortReason ??= error;
      throw aborted ?? error;
    });
    return tx.track(run) as Promise<QueryResult<R>>;
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    const tx = this.#scope.tx!;
    this.#scope.assertUsable();
    const stream = tx.connection.resource.stream;
    if (!stream) throw new UnsupportedFeatureError(`The ${this.#engine.adapter.dialect} adapter cannot stream results`);
    yield* stream.call(tx.connection.resource, query, chunkSize) as AsyncIterableIterator<QueryResult<R>>;
  }
}
