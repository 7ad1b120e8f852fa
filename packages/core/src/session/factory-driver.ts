import {
  type AbortableQueryOptions,
  type CompiledQuery,
  type ConnectionProvider,
  createQueryId,
  type DatabaseConnection,
  DefaultConnectionProvider,
  DefaultQueryExecutor,
  type DialectAdapter,
  type Driver,
  IdentifierNode,
  type Kysely,
  type KyselyProps,
  type QueryCompiler,
  type QueryResult,
  RawNode,
  type TransactionSettings,
} from 'kysely';
import type { IsolationLevel, KyselyDialectParts } from '../adapter/adapter.js';
import { PropagationError } from '../errors/error-classes.js';
import { runCompiled } from '../prepare/run-compiled.js';
import { RoutedConnection } from '../replicas/routed-connection.js';
import { AutocommitConnection } from './autocommit-connection.js';
import { SessionConnection } from './session-connection.js';
import type { SessionEngine } from './session-engine.js';
import { tuneQueryCompiler } from './tuned-compiler.js';

/**
 * The Kysely driver behind `sf.db`. Inside a session of this factory it hands out that
 * session's connection (so `sf.db` joins the ambient transaction); elsewhere it checks out a
 * pooled connection per query. Kysely's own transaction API (`transaction()`,
 * `startTransaction()`, savepoints by name) runs through the engine's rules like a session:
 * the same BEGIN/COMMIT/ROLLBACK, `afterEnd`, destroy-or-keep decisions and events.
 */
export class FactoryDriver implements Driver {
  readonly #owner: SessionEngine;
  readonly #close: () => Promise<void>;
  readonly #connectionClass: typeof AutocommitConnection;
  readonly #routedClass: typeof RoutedConnection;

  constructor(owner: SessionEngine, close: () => Promise<void>) {
    this.#owner = owner;
    this.#close = close;
    this.#connectionClass = AutocommitConnection.for(owner);
    this.#routedClass = RoutedConnection.for(owner);
  }

  async init(): Promise<void> {}

  async acquireConnection(options?: { signal?: AbortSignal | undefined }): Promise<DatabaseConnection> {
    const scope = this.#owner.ambientScope();
    if (scope) return new SessionConnection(this.#owner, scope);
    const signal = options?.signal;
    // An operation aborted before it started must not even queue for a connection.
    if (signal?.aborted) throw signal.reason;
    const { activity, pool, replicas } = this.#owner.context;
    this.#owner.context.assertOpen();
    activity.enter();
    // With replicas the connection is picked per statement: a SELECT may run on a replica.
    if (replicas !== undefined) return new this.#routedClass(this.#owner, replicas, signal);
    try {
      // Pool role hint: an autocommit statement takes and drops any write lock within the call, so
      // it needs no writer slot (a lock held elsewhere is waited for by the adapter, asynchronously).
      return new this.#connectionClass(this.#owner, await pool.acquire({ signal, role: 'reader' }));
    } catch (error) {
      activity.leave();
      throw error;
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const test = inTestTransaction(connection);
    if (test) {
      // withRollback: the transaction is a savepoint of the test's (its settings cannot apply).
      const name = test.scope.tx!.nextSavepointName();
      await this.#owner.runStatement(test.scope, this.#owner.context.adapter.sql.savepoint(name));
      test.testSavepoint = name;
      return;
    }
    const begin = this.#owner.rules.beginOptions({
      isolation: settings.isolationLevel as IsolationLevel | undefined,
      readOnly: settings.accessMode === 'read only',
    });
    const plain = connection instanceof RoutedConnection ? await connection.primary() : this.#plain(connection);
    await this.#owner.openOn(plain, begin);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const test = inTestTransaction(connection);
    if (test) return this.#endTestSavepoint(test, (sql, name) => sql.releaseSavepoint?.(name));
    await this.#owner.commitOn(this.#plain(connection));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const test = inTestTransaction(connection);
    if (test) return this.#endTestSavepoint(test, (sql, name) => sql.rollbackToSavepoint(name));
    await this.#owner.rollbackOn(this.#plain(connection));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.#savepointStatement(connection, (sql) => sql.savepoint(quoted(name, compile)));
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#savepointStatement(connection, (sql) => sql.rollbackToSavepoint(quoted(name, compile)));
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await this.#savepointStatement(connection, (sql) => sql.releaseSavepoint?.(quoted(name, compile)));
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof AutocommitConnection || connection instanceof RoutedConnection)) return;
    try {
      await connection.release();
    } finally {
      this.#owner.context.activity.leave();
    }
  }

  /** `sf.db.destroy()` closes the factory, as `destroy()` ends the pool of any Kysely dialect. */
  destroy(): Promise<void> {
    return this.#close();
  }

  async #endTestSavepoint(
    test: SessionConnection,
    statement: (sql: SessionEngine['context']['adapter']['sql'], name: string) => string | undefined,
  ): Promise<void> {
    const name = test.testSavepoint;
    if (name === undefined) return;
    test.testSavepoint = undefined;
    const text = statement(this.#owner.context.adapter.sql, name);
    if (text !== undefined) await this.#owner.runStatement(test.scope, text);
  }

  async #savepointStatement(
    connection: DatabaseConnection,
    statement: (sql: SessionEngine['context']['adapter']['sql']) => string | undefined,
  ): Promise<void> {
    const test = inTestTransaction(connection);
    if (test?.testSavepoint !== undefined) {
      const text = statement(this.#owner.context.adapter.sql);
      if (text !== undefined) await this.#owner.runStatement(test.scope, text);
      return;
    }
    const plain = this.#plain(connection);
    const { adapter } = this.#owner.context;
    if (!plain.transaction) throw new PropagationError('A savepoint needs an open transaction on this connection.');
    const text = statement(adapter.sql);
    if (text === undefined) return; // the dialect has no RELEASE SAVEPOINT: the savepoint ends with the transaction
    await this.#owner.runStatement(plain.transaction, text);
  }

  #plain(connection: DatabaseConnection): AutocommitConnection {
    if (connection instanceof AutocommitConnection) return connection;
    if (connection instanceof RoutedConnection && connection.bound) return connection.bound;
    throw new PropagationError(
      'sf.db.transaction() was called inside a session: the session already is the transaction. Use tx.savepoint(fn) or sf.session(fn, { propagation: "requiresNew" }).',
    );
  }
}

/** `sf.db`'s connection inside `withRollback` outside any session: Kysely's transactions there become savepoints. */
function inTestTransaction(connection: DatabaseConnection): SessionConnection | undefined {
  if (!(connection instanceof SessionConnection)) return undefined;
  const scope = connection.scope;
  return scope.tx?.testTransaction && scope.parent === undefined ? connection : undefined;
}

/** A user-given savepoint name as the dialect's quoted identifier: a name, never SQL. */
function quoted(name: string, compile: QueryCompiler['compileQuery']): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0')) {
    throw new PropagationError(`Invalid savepoint name ${JSON.stringify(name)}: use a non-empty string without NUL.`);
  }
  return compile(RawNode.createWithChild(IdentifierNode.create(name)), createQueryId()).sql;
}

/** Runs one compiled query through the engine (a session's statement, or `sf.db`'s autocommit one). */
export type RunQuery = (query: CompiledQuery) => Promise<QueryResult<unknown>>;

/**
 * Kysely's executor with the engine as a shortcut: a query without an abort signal goes
 * straight to `run`, which does what the connection provider, the driver's acquire/release and
 * `connection.executeQuery` would (checks, pool, tracking, typed errors), without their async
 * frames and promises; that is most of Kysely's own cost per query on SQLite. A query with a
 * signal keeps Kysely's path, which owns abort handling. `withPlugin()` and friends return
 * Kysely's own executor, so a Kysely with plugins takes Kysely's path too (plugins see results).
 */
export class EngineQueryExecutor extends DefaultQueryExecutor {
  readonly #compiler: QueryCompiler;
  readonly #adapter: DialectAdapter;
  readonly #run: RunQuery;

  constructor(compiler: QueryCompiler, adapter: DialectAdapter, provider: ConnectionProvider, run: RunQuery) {
    super(compiler, adapter, provider, []);
    this.#compiler = compiler;
    this.#adapter = adapter;
    this.#run = run;
  }

  override executeQuery<R>(query: CompiledQuery, options?: AbortableQueryOptions): Promise<QueryResult<R>> {
    if (options?.signal !== undefined) return super.executeQuery<R>(query, options);
    return this.#run(query) as Promise<QueryResult<R>>;
  }

  /** The same compiler and adapter for one session: `provider` for streams and signals, `run` for the rest. */
  forSession(provider: ConnectionProvider, run: RunQuery): EngineQueryExecutor {
    return new EngineQueryExecutor(this.#compiler, this.#adapter, provider, run);
  }
}

/**
 * The Kysely props every `tx` and `sf.db` share: the adapter's compiler (tuned, same output)
 * and adapter, and the factory driver, so `sf.db` and `tx` compile the same way and run
 * through the same engine.
 * `sf.db`'s queries take `runCompiled`, as prepared queries do, unless the factory has
 * replicas: then the driver's routed connection picks the server per statement.
 */
export function createKyselyProps(
  parts: KyselyDialectParts,
  driver: FactoryDriver,
  owner: SessionEngine,
): KyselyProps & { readonly executor: EngineQueryExecutor } {
  const dialect = {
    createAdapter: () => parts.createAdapter(),
    createDriver: () => driver,
    createQueryCompiler: () => tuneQueryCompiler(parts.createQueryCompiler()),
    createIntrospector: (db: Kysely<any>) => parts.createIntrospector(db),
  };
  const provider = new DefaultConnectionProvider(driver);
  const viaProvider: RunQuery = (query) => provider.provideConnection((connection) => connection.executeQuery(query));
  const run: RunQuery = owner.context.replicas === undefined ? (query) => runCompiled(owner, query) : viaProvider;
  const executor = new EngineQueryExecutor(dialect.createQueryCompiler(), parts.createAdapter(), provider, run);
  return { config: { dialect }, driver, executor, dialect };
}
