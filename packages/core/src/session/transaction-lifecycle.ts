import { type ConnectionProvider, DefaultConnectionProvider, type KyselyProps, SingleConnectionProvider } from 'kysely';
import type { BeginOptions } from '../adapter/adapter.js';
import { DatabaseError, UnexpectedRollbackError, UnsupportedFeatureError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import { settleWithin } from '../util/settle-within.js';
import { attachSuppressed } from './attach-suppressed.js';
import type { EngineContext } from './engine-context.js';
import { resolveIsolation } from './resolve-isolation.js';
import { runHooks } from './run-hooks.js';
import { Scope } from './scope.js';
import { ScopeConnectionProvider } from './scope-connection-provider.js';
import { SessionConnection } from './session-connection.js';
import { type SavepointRunner, SessionKysely } from './session-kysely.js';
import type { SessionOptions } from './session-options.js';
import { TransactionState } from './transaction-state.js';

/** Builds the `tx` object for a scope (the managed session uses a subclass). */
export type SessionBuilder = (base: KyselyProps, scope: Scope, runSavepoint: SavepointRunner) => SessionKysely<any>;

const plainSession: SessionBuilder = (base, scope, runSavepoint) =>
  new SessionKysely(base, scope, connectionProvider(base, scope), runSavepoint);

/** Transactional scopes pin their connection; others autocommit, but only while open. */
export function connectionProvider(base: KyselyProps, scope: Scope): ConnectionProvider {
  return scope.tx
    ? new SingleConnectionProvider(scope.connection)
    : new ScopeConnectionProvider(scope, new DefaultConnectionProvider(base.driver));
}

/** Checkouts tried when BEGIN finds the connection already dead (killed while idle). */
const STALE_CONNECTION_ATTEMPTS = 3;

/** How long a cancelled statement may take to settle before its connection is written off. */
const SETTLE_AFTER_CANCEL_MS = 5000;

/**
 * The physical transaction's life: checkout + BEGIN, COMMIT, ROLLBACK, release. Every rule
 * of DESIGN.md's "Transaction rules" that concerns one transaction is kept here, once:
 * no ROLLBACK after a failed BEGIN, a ROLLBACK error never hides the original error, a
 * connection whose BEGIN/COMMIT/ROLLBACK failed is destroyed, hooks run after the end.
 */
export class TransactionLifecycle {
  readonly #engine: EngineContext;
  readonly #base: KyselyProps;
  readonly #runSavepoint: SavepointRunner;

  constructor(engine: EngineContext, base: KyselyProps, runSavepoint: SavepointRunner) {
    this.#engine = engine;
    this.#base = base;
    this.#runSavepoint = runSavepoint;
  }

  /** What BEGIN will say, validated against the adapter's capabilities. */
  beginOptions(options: Pick<SessionOptions, 'isolation' | 'readOnly'>): BeginOptions {
    const { capabilities, dialect } = this.#engine.adapter;
    if (options.readOnly && !capabilities.readOnly) {
      throw new UnsupportedFeatureError(`The ${dialect} adapter cannot enforce read-only sessions.`);
    }
    return { isolation: resolveIsolation(capabilities, options.isolation), readOnly: options.readOnly === true };
  }

  /** Checks out a connection and sends BEGIN; a failed BEGIN destroys the connection, with no ROLLBACK. */
  async open(
    begin: BeginOptions,
    signal: AbortSignal | undefined,
    build: SessionBuilder = plainSession,
  ): Promise<Scope> {
    const { pool, runner, adapter } = this.#engine;
    for (let attempt = 1; ; attempt++) {
      const pooled = await pool.acquire(signal ? { signal } : undefined);
      const tx = new TransactionState(this.#engine.nextSessionId(), pooled, begin);
      try {
        await runner.executeStatements(pooled, adapter.sql.begin(begin), tx.id);
        return this.createScope(tx, undefined, undefined, build);
      } catch (error) {
        tx.ended = true;
        await pool.invalidate(pooled, 'BEGIN failed');
        // A connection that died while idle shows it at its first statement; nothing of the
        // session has run yet, so another connection can take its place.
        const stale = isConnectionLost(error, adapter) && attempt < STALE_CONNECTION_ATTEMPTS && !signal?.aborted;
        if (!stale) throw error;
      }
    }
  }

  createScope(
    tx: TransactionState | undefined,
    parent: Scope | undefined,
    savepointName: string | undefined,
    build: SessionBuilder = plainSession,
  ): Scope {
    const id = tx ? (parent ? `${tx.id}.${savepointName}` : tx.id) : this.#engine.nextSessionId();
    const scope = new Scope(id, tx, parent, savepointName);
    if (tx) scope.connection = new SessionConnection(this.#engine, scope);
    scope.session = build(this.#base, scope, this.#runSavepoint);
    return scope;
  }

  /**
   * COMMIT, or the reason it must not happen: a rollback-only mark, an expired deadline, or a
   * server that already rolled back on its own (SQLite's ON CONFLICT ROLLBACK, BUSY, FULL).
   * Throws before COMMIT so the caller rolls back; a failed COMMIT ends the transaction here.
   */
  async commit(root: Scope): Promise<void> {
    const tx = root.tx!;
    const { adapter, hub, runner } = this.#engine;
    tx.assertUsable();
    if (root.rollbackOnly) {
      throw new UnexpectedRollbackError(
        `Session ${tx.id} was marked rollback-only because a scope that joined it threw; it was rolled back, not committed. Handle the inner error or let it propagate.`,
      );
    }
    if (tx.connection.resource.inTransaction?.() === false) {
      throw new DatabaseError(
        `Session ${tx.id}: ${adapter.dialect} rolled the transaction back on its own (a conflict clause, a busy or full database); nothing was committed.`,
        { dialect: adapter.dialect },
      );
    }
    try {
      await runner.executeStatements(tx.connection, [adapter.sql.commit], tx.id);
    } catch (error) {
      tx.poisoned = 'COMMIT failed';
      await this.#finish(tx);
      hub.emit('rollback', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt, error });
      await runHooks(root.rollbackHooks, 'onRollback', tx.id, hub);
      throw error;
    }
    await this.#afterEnd(tx);
    await this.#finish(tx);
    hub.emit('commit', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt });
    await runHooks(root.commitHooks, 'onCommit', tx.id, hub);
  }

  /**
   * ROLLBACK after `cause` (returned, never replaced: a ROLLBACK failure is attached to it).
   * Waits for a cancelled statement first; skips ROLLBACK when the connection is lost or the
   * server already ended the transaction.
   */
  async rollback<E>(root: Scope, cause: E): Promise<E> {
    const tx = root.tx!;
    const { adapter, hub, runner } = this.#engine;
    if (tx.ended) return cause;
    if (tx.pending.size > 0 && !(await settleWithin(Promise.allSettled([...tx.pending]), SETTLE_AFTER_CANCEL_MS))) {
      tx.poisoned ??= 'a statement did not finish after cancellation';
    }
    if (!tx.poisoned) {
      try {
        // The server may have rolled back on its own already (SQLite); state is restored either way.
        if (tx.connection.resource.inTransaction?.() !== false) {
          await runner.executeStatements(tx.connection, [adapter.sql.rollback], tx.id);
        }
        await this.#afterEnd(tx);
      } catch (error) {
        attachSuppressed(cause, error);
        tx.poisoned = 'ROLLBACK failed';
      }
    }
    await this.#finish(tx);
    hub.emit('rollback', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt, error: cause });
    await runHooks(root.rollbackHooks, 'onRollback', tx.id, hub);
    return cause;
  }

  /** The deadline passed: refuse further statements and cancel the running one on the server. */
  abort(tx: TransactionState, error: SessionFactoryError): void {
    if (tx.ended || tx.abortReason) return;
    tx.abortReason = error;
    const { adapter, hub } = this.#engine;
    if (tx.pending.size === 0) return;
    if (!adapter.capabilities.cancel || !adapter.cancel) return;
    adapter.cancel(tx.connection.resource).catch((cancelError: unknown) => {
      tx.poisoned ??= 'cancel failed';
      hub.emit('error', { phase: 'cancel', error: cancelError, sessionId: tx.id });
    });
  }

  // Restores connection state (SQLite's query_only); a failure here poisons the connection
  // but cannot undo the COMMIT that already happened.
  async #afterEnd(tx: TransactionState): Promise<void> {
    const statements = this.#engine.adapter.sql.afterEnd?.(tx.begin) ?? [];
    if (statements.length === 0) return;
    try {
      await this.#engine.runner.executeStatements(tx.connection, statements, tx.id);
    } catch (error) {
      tx.poisoned = 'restoring connection state failed';
      this.#engine.hub.emit('error', { phase: 'afterEnd', error, sessionId: tx.id });
    }
  }

  async #finish(tx: TransactionState): Promise<void> {
    tx.ended = true;
    if (tx.poisoned) await this.#engine.pool.invalidate(tx.connection, tx.poisoned);
    else this.#engine.pool.release(tx.connection);
  }
}
