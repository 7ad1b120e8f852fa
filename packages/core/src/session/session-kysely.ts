import {
  type ConnectionProvider,
  type ControlledTransactionBuilder,
  type DatabaseConnection,
  DefaultConnectionProvider,
  Kysely,
  type KyselyProps,
  SingleConnectionProvider,
  type TransactionBuilder,
} from 'kysely';
import { PropagationError } from '../errors/error-classes.js';
import type { EngineQueryExecutor } from './factory-driver.js';
import type { Scope } from './scope.js';
import { SessionConnection } from './session-connection.js';
import type { AsyncScope, SessionEngine } from './session-engine.js';
import type { SessionInfo } from './session-options.js';
import type { ManagedSession, Session, SessionHook } from './session-types.js';

/** What a `tx` asks of the engine, which owns the algorithms. */
export interface SessionControl {
  savepoint<T>(scope: Scope, fn: (tx: Session<any>) => Promise<T>): Promise<T>;
  commit(scope: Scope): Promise<void>;
  rollback(scope: Scope): Promise<void>;
}

/**
 * The `tx` object: a Kysely whose every query runs on the session's connection, plus the
 * scope's hooks, savepoints and info. A scope without a transaction autocommits each query
 * on a pooled connection, but only while the scope is open.
 */
export class SessionKysely<DB> extends Kysely<DB> implements Session<DB> {
  readonly #scope: Scope;
  readonly #control: SessionControl;

  constructor(
    base: KyselyProps & { readonly executor: EngineQueryExecutor },
    scope: Scope<any, any>,
    engine: SessionEngine,
    control: SessionControl,
  ) {
    // A transactional scope's queries go straight to the engine (streams and queries with a
    // signal keep Kysely's path through the session's connection).
    const executor = scope.tx
      ? base.executor.forSession(new SingleConnectionProvider(new SessionConnection(engine, scope)), (query) =>
          engine.execute(scope as AsyncScope, query),
        )
      : base.executor.withConnectionProvider(new OpenScopeProvider(scope, new DefaultConnectionProvider(base.driver)));
    super({ ...base, executor });
    this.#scope = scope;
    this.#control = control;
  }

  override get isTransaction(): boolean {
    return this.#scope.info.transactional;
  }

  get info(): SessionInfo {
    return this.#scope.info;
  }

  /** The scope behind this `tx` (for the engine). */
  protected get scope(): Scope {
    return this.#scope;
  }

  protected get control(): SessionControl {
    return this.#control;
  }

  /**
   * Registers a callback for after the outermost COMMIT.
   *
   * @example
   * ```ts
   * await sf.session(async (tx) => {
   *   await tx.insertInto('order').values(order).execute()
   *   tx.onCommit(() => mailer.send(order.email))
   * })
   * ```
   */
  onCommit(callback: SessionHook): void {
    this.#scope.onCommit(callback);
  }

  /**
   * Registers a callback for after this scope rolls back.
   *
   * @example
   * ```ts
   * tx.onRollback(() => metrics.increment('order.failed'))
   * ```
   */
  onRollback(callback: SessionHook): void {
    this.#scope.onRollback(callback);
  }

  /**
   * Runs `fn` in a savepoint: on throw only its work is undone, and the error is rethrown.
   *
   * @example
   * ```ts
   * await tx.savepoint(async (sp) => {
   *   await sp.insertInto('audit').values(entry).execute()
   * }).catch(() => {}) // the outer session continues without the audit row
   * ```
   */
  savepoint<T>(fn: (tx: Session<DB>) => Promise<T>): Promise<T> {
    return this.#control.savepoint(this.#scope, fn as (tx: Session<any>) => Promise<T>);
  }

  override transaction(): TransactionBuilder<DB> {
    throw new PropagationError(
      'tx.transaction() is not available inside a session: use tx.savepoint(fn), or sf.session(fn, { propagation: "requiresNew" }) for an independent transaction.',
    );
  }

  override startTransaction(): ControlledTransactionBuilder<DB> {
    throw new PropagationError(
      'tx.startTransaction() is not available inside a session: use tx.savepoint(fn) or sf.begin() for an explicit transaction.',
    );
  }

  /** The factory owns the connection pool: a session's Kysely has nothing to destroy (use `sf.close()`). */
  override async destroy(): Promise<void> {}
}

/**
 * The object `sf.begin()` resolves to: a session `tx` you finish yourself, or that
 * `await using` rolls back when the block exits without `commit()`.
 */
export class ManagedSessionKysely<DB> extends SessionKysely<DB> implements ManagedSession<DB> {
  get isEnded(): boolean {
    return this.scope.closed || (this.scope.tx?.ended ?? true);
  }

  /**
   * Commits; throws (after rolling back) if the session cannot commit.
   *
   * @example
   * ```ts
   * await using s = await sf.begin()
   * await s.insertInto('account').values(row).execute()
   * await s.commit()
   * ```
   */
  commit(): Promise<void> {
    return this.control.commit(this.scope);
  }

  /**
   * Rolls back. Calling it on an ended session does nothing.
   *
   * @example
   * ```ts
   * if (!valid) await s.rollback()
   * ```
   */
  rollback(): Promise<void> {
    return this.control.rollback(this.scope);
  }

  /** `await using` exit: roll back whatever was not committed, release the connection. */
  override async [Symbol.asyncDispose](): Promise<void> {
    if (!this.isEnded) await this.rollback();
  }
}

/**
 * The connection provider of a scope that runs without a transaction: each query still gets
 * a pooled connection from `sf.db`'s provider, but only while the scope is open, so its `tx`
 * throws `SessionClosedError` after the scope ended, like a transactional `tx`.
 */
class OpenScopeProvider implements ConnectionProvider {
  readonly #scope: Scope;
  readonly #inner: ConnectionProvider;

  constructor(scope: Scope, inner: ConnectionProvider) {
    this.#scope = scope;
    this.#inner = inner;
  }

  provideConnection<T>(consumer: (connection: DatabaseConnection) => Promise<T>): Promise<T> {
    try {
      this.#scope.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#inner.provideConnection(consumer);
  }
}
