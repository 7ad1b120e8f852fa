import {
  type ConnectionProvider,
  type ControlledTransactionBuilder,
  Kysely,
  type KyselyProps,
  type TransactionBuilder,
} from 'kysely';
import { PropagationError } from '../errors/error-classes.js';
import type { Scope } from './scope.js';
import type { SessionInfo } from './session-options.js';
import type { Session, SessionHook } from './session-types.js';

/** Runs `fn` in a savepoint of `scope` (provided by the engine, which owns the algorithm). */
export type SavepointRunner = <T>(scope: Scope, fn: (tx: Session<any>) => Promise<T>) => Promise<T>;

/**
 * The `tx` object: a Kysely whose every query runs on the session's connection, plus the
 * scope's hooks, savepoints and info.
 */
export class SessionKysely<DB> extends Kysely<DB> implements Session<DB> {
  readonly #scope: Scope;
  readonly #runSavepoint: SavepointRunner;

  /** `provider` pins every query to the session's connection (or, without a transaction, guards autocommit). */
  constructor(base: KyselyProps, scope: Scope, provider: ConnectionProvider, runSavepoint: SavepointRunner) {
    super({ ...base, executor: base.executor.withConnectionProvider(provider) });
    this.#scope = scope;
    this.#runSavepoint = runSavepoint;
  }

  override get isTransaction(): boolean {
    return this.#scope.info.transactional;
  }

  get info(): SessionInfo {
    return this.#scope.info;
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
    return this.#runSavepoint(this.#scope, fn as (tx: Session<any>) => Promise<T>);
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
