import { CompiledQuery, type DatabaseConnection, type Driver, type TransactionSettings } from 'kysely';
import type { IsolationLevel } from '../adapter/adapter.js';
import { PropagationError } from '../errors/error-classes.js';
import { AutocommitConnection } from './autocommit-connection.js';
import type { EngineContext } from './engine-context.js';
import { resolveIsolation } from './resolve-isolation.js';

/**
 * The Kysely driver behind `sf.db`: inside a session of this factory it hands out that
 * session's connection (so `sf.db` joins the ambient transaction); elsewhere it checks out a
 * pooled connection per query. Kysely's own `db.transaction()` still works outside sessions.
 */
export class FactoryDriver implements Driver {
  readonly #engine: EngineContext;

  constructor(engine: EngineContext) {
    this.#engine = engine;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    const scope = this.#engine.ambient.getStore()?.scope;
    if (scope?.tx) return scope.connection;
    const { activity, pool } = this.#engine;
    this.#engine.assertOpen();
    activity.enter();
    try {
      return new AutocommitConnection(this.#engine, await pool.acquire());
    } catch (error) {
      activity.leave();
      throw error;
    }
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const { adapter } = this.#engine;
    const plain = this.#plain(connection);
    const isolation = settings.isolationLevel as IsolationLevel | undefined;
    const begin = {
      isolation: resolveIsolation(adapter.capabilities, isolation),
      readOnly: settings.accessMode === 'read only',
    };
    await this.#run(plain, adapter.sql.begin(begin));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#run(this.#plain(connection), [this.#engine.adapter.sql.commit]);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#run(this.#plain(connection), [this.#engine.adapter.sql.rollback]);
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.#run(this.#plain(connection), [this.#engine.adapter.sql.savepoint(name)]);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.#run(this.#plain(connection), [this.#engine.adapter.sql.rollbackToSavepoint(name)]);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await this.#run(this.#plain(connection), [this.#engine.adapter.sql.releaseSavepoint(name)]);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    if (!(connection instanceof AutocommitConnection)) return;
    try {
      await connection.release();
    } finally {
      this.#engine.activity.leave();
    }
  }

  /** `sf.close()` owns the pool; destroying `sf.db` does nothing. */
  async destroy(): Promise<void> {}

  #plain(connection: DatabaseConnection): AutocommitConnection {
    if (connection instanceof AutocommitConnection) return connection;
    throw new PropagationError(
      'sf.db.transaction() was called inside a session: the session already is the transaction. Use tx.savepoint(fn) or sf.session(fn, { propagation: "requiresNew" }).',
    );
  }

  // A failed transaction-control statement leaves the connection in an unknown state.
  async #run(connection: AutocommitConnection, statements: readonly string[]): Promise<void> {
    try {
      for (const sql of statements) await connection.executeQuery(CompiledQuery.raw(sql));
    } catch (error) {
      connection.poison();
      throw error;
    }
  }
}
