import { CompiledQuery, type QueryResult } from 'kysely';
import type { Adapter, DriverConnection } from '../adapter/adapter.js';
import { isPreludeFailure } from '../adapter/prelude-failure.js';
import { UnsupportedFeatureError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import { toSessionFactoryError } from '../errors/to-session-factory-error.js';
import type { EventHub } from '../events/event-hub.js';
import type { QueryEvent } from '../events/event-types.js';
import type { PooledConnection } from '../pool/pool.js';
import { isPending } from '../util/is-pending.js';

/**
 * A connection that completed a statement this recently counts as alive: it is not pinged at
 * checkout, and a session's BEGIN may travel with its first statement.
 */
const PROVEN_ALIVE_MS = 1000;

/**
 * Runs compiled queries on pooled connections: the single place where driver errors become
 * typed errors and where `query` events and `echo` lines are produced.
 */
export class QueryRunner {
  readonly #adapter: Adapter;
  readonly #hub: EventHub;
  readonly #echo: ((event: QueryEvent) => void) | undefined;
  readonly #logParameters: boolean;
  /** BEGIN/COMMIT/ROLLBACK texts repeat on every session: compile each once. */
  readonly #statements = new Map<string, CompiledQuery>();
  /** When each connection last completed a statement: a recent success is as good as a ping. */
  readonly #lastSuccess = new WeakMap<DriverConnection, number>();

  constructor(
    adapter: Adapter,
    hub: EventHub,
    echo: ((event: QueryEvent) => void) | undefined,
    logParameters: boolean,
  ) {
    this.#adapter = adapter;
    this.#hub = hub;
    this.#echo = echo;
    this.#logParameters = logParameters;
  }

  /** Whether anyone observes statements (lets the hot path skip timing). */
  get observed(): boolean {
    return this.#echo !== undefined || this.#hub.has('query');
  }

  execute(
    connection: PooledConnection<DriverConnection>,
    query: CompiledQuery,
    sessionId: string | undefined,
  ): Promise<QueryResult<unknown>> {
    try {
      return Promise.resolve(this.executeNow(connection, query, sessionId));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * `execute` without a promise of its own when the driver answers at once (`executeNow`):
   * the result, or a promise when the driver has to wait or someone observes statements. The
   * same typed errors, thrown or rejected.
   */
  executeNow(
    connection: PooledConnection<DriverConnection>,
    query: CompiledQuery,
    sessionId: string | undefined,
  ): QueryResult<unknown> | Promise<QueryResult<unknown>> {
    if (this.observed) return this.#executeObserved(connection, query, sessionId);
    // Unobserved (the hot path): at most one promise from the driver, one `then`, no async frame.
    const resource = connection.resource;
    let outcome: QueryResult<unknown> | Promise<QueryResult<unknown>>;
    try {
      outcome = resource.executeNow === undefined ? resource.execute(query) : resource.executeNow(query);
    } catch (error) {
      throw toSessionFactoryError(error, this.#adapter);
    }
    if (!isPending(outcome)) return this.#succeeded(resource, outcome);
    return outcome.then(
      (result) => this.#succeeded(resource, result),
      (error: unknown) => {
        throw toSessionFactoryError(error, this.#adapter);
      },
    );
  }

  #succeeded(resource: DriverConnection, result: QueryResult<unknown>): QueryResult<unknown> {
    this.#lastSuccess.set(resource, performance.now());
    return result;
  }

  async #executeObserved(
    connection: PooledConnection<DriverConnection>,
    query: CompiledQuery,
    sessionId: string | undefined,
  ): Promise<QueryResult<unknown>> {
    const started = performance.now();
    try {
      const result = await connection.resource.execute(query);
      this.#lastSuccess.set(connection.resource, performance.now());
      this.report(query, started, sessionId, connection.id, undefined);
      return result;
    } catch (error) {
      const typed = toSessionFactoryError(error, this.#adapter);
      this.report(query, started, sessionId, connection.id, typed);
      throw typed;
    }
  }

  /**
   * Runs `prelude` (BEGIN ...) and `query` in one round trip (`DriverConnection.executeAfter`),
   * with the same typed errors; a `query` event is reported for each statement.
   */
  async executeAfter(
    connection: PooledConnection<DriverConnection>,
    prelude: readonly string[],
    query: CompiledQuery,
    sessionId: string | undefined,
  ): Promise<QueryResult<unknown>> {
    const observed = this.observed;
    const started = observed ? performance.now() : 0;
    try {
      const result = await connection.resource.executeAfter!(prelude, query);
      this.#lastSuccess.set(connection.resource, performance.now());
      if (observed) this.#reportAll(prelude, query, started, sessionId, connection.id, undefined);
      return result;
    } catch (error) {
      const typed = toSessionFactoryError(error, this.#adapter);
      if (observed) this.#reportAll(prelude, query, started, sessionId, connection.id, typed);
      throw typed;
    }
  }

  #reportAll(
    prelude: readonly string[],
    query: CompiledQuery,
    started: number,
    sessionId: string | undefined,
    connectionId: number,
    error: SessionFactoryError | undefined,
  ): void {
    // A failed prelude ran nothing after it: the error belongs to BEGIN, the query never ran.
    const beginFailed = error !== undefined && isPreludeFailure(error);
    for (const sql of prelude)
      this.report(this.#compiled(sql), started, sessionId, connectionId, beginFailed ? error : undefined);
    if (!beginFailed) this.report(query, started, sessionId, connectionId, error);
  }

  /**
   * Streams a query's rows with the same typed errors and `query` event (one, when the stream
   * ends) as `execute`.
   */
  async *stream(
    connection: PooledConnection<DriverConnection>,
    query: CompiledQuery,
    chunkSize: number,
    sessionId: string | undefined,
  ): AsyncIterableIterator<QueryResult<unknown>> {
    const stream = connection.resource.stream;
    if (!stream) {
      throw new UnsupportedFeatureError(`The ${this.#adapter.dialect} adapter cannot stream results.`);
    }
    const started = performance.now();
    let failure: SessionFactoryError | undefined;
    try {
      yield* stream.call(connection.resource, query, chunkSize);
      this.#lastSuccess.set(connection.resource, performance.now());
    } catch (error) {
      failure = toSessionFactoryError(error, this.#adapter);
      throw failure;
    } finally {
      if (this.observed) this.report(query, started, sessionId, connection.id, failure);
    }
  }

  /**
   * Whether the connection completed a statement within `PROVEN_ALIVE_MS` (pre-ping skips the
   * round trip for a connection that just proved itself; the driver's `broken` flag is checked
   * anyway).
   */
  provenAlive(connection: DriverConnection): boolean {
    const last = this.#lastSuccess.get(connection);
    return last !== undefined && performance.now() - last < PROVEN_ALIVE_MS;
  }

  /** Runs dialect statements (BEGIN, COMMIT, SAVEPOINT ...) one after another. */
  executeStatements(
    connection: PooledConnection<DriverConnection>,
    statements: readonly string[],
    sessionId: string | undefined,
  ): Promise<unknown> {
    // Almost always one statement: no loop, no extra async frame.
    if (statements.length === 1) return this.execute(connection, this.#compiled(statements[0]!), sessionId);
    return this.#executeAll(connection, statements, sessionId);
  }

  async #executeAll(
    connection: PooledConnection<DriverConnection>,
    statements: readonly string[],
    sessionId: string | undefined,
  ): Promise<void> {
    for (const sql of statements) await this.execute(connection, this.#compiled(sql), sessionId);
  }

  #compiled(sql: string): CompiledQuery {
    let query = this.#statements.get(sql);
    if (!query) {
      query = CompiledQuery.raw(sql);
      // Bounded: savepoint names vary (sp_1, sp_2, ...), transaction statements do not.
      if (this.#statements.size < 256) this.#statements.set(sql, query);
    }
    return query;
  }

  /** Emits a `query` event for a statement run elsewhere (sync sessions). */
  report(
    query: CompiledQuery,
    started: number,
    sessionId: string | undefined,
    connectionId: number,
    error: QueryEvent['error'],
  ): void {
    const event: QueryEvent = {
      sql: query.sql,
      durationMs: performance.now() - started,
      sessionId,
      connectionId,
      ...(this.#logParameters ? { parameters: query.parameters } : {}),
      ...(error ? { error } : {}),
    };
    this.#echo?.(event);
    this.#hub.emit('query', event);
  }
}
