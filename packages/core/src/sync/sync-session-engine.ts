import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import {
  PropagationError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
  UnsupportedFeatureError,
} from '../errors/error-classes.js';
import { isConnectionLost, toSessionFactoryError } from '../errors/to-session-factory-error.js';
import { assertJoinable } from '../session/assert-joinable.js';
import { attachSuppressed } from '../session/attach-suppressed.js';
import type { EngineContext } from '../session/engine-context.js';
import { Scope } from '../session/scope.js';
import { PROPAGATIONS, type SessionOptions } from '../session/session-options.js';
import type { SessionHook, SyncSession } from '../session/session-types.js';
import type { TransactionLifecycle } from '../session/transaction-lifecycle.js';
import { TransactionState } from '../session/transaction-state.js';
import type { SyncConnection } from './sync-connection.js';
import { SyncSessionObject } from './sync-session-object.js';

type SyncTx = TransactionState<SyncConnection>;
type SyncScope = Scope<SyncTx>;
type SyncFn<T> = (tx: SyncSession<any>) => T;
type SyncOptions = Omit<SessionOptions, 'signal' | 'retry'>;

/**
 * The unit of work, synchronously: the same propagation, savepoint, rollback-only and hook
 * rules as async sessions, over a `SyncConnection` (native SQLite, or the worker bridge).
 * Sync code cannot interleave, so the ambient session is a plain stack.
 */
export class SyncSessionEngine {
  readonly #engine: EngineContext;
  readonly #lifecycle: TransactionLifecycle;
  readonly #db: Kysely<any>;
  readonly #acquire: () => SyncConnection;
  readonly #defaults: Omit<SessionOptions, 'signal' | 'propagation'>;
  readonly #stack: SyncScope[] = [];
  readonly #deadlines = new WeakMap<SyncTx, number>();

  constructor(
    engine: EngineContext,
    lifecycle: TransactionLifecycle,
    db: Kysely<any>,
    acquire: () => SyncConnection,
    defaults: Omit<SessionOptions, 'signal' | 'propagation'>,
  ) {
    this.#engine = engine;
    this.#lifecycle = lifecycle;
    this.#db = db;
    this.#acquire = acquire;
    this.#defaults = defaults;
  }

  run<T>(fn: SyncFn<T>, options: SyncOptions = {}): T {
    const propagation = options.propagation ?? 'required';
    if (!PROPAGATIONS.includes(propagation)) {
      throw new PropagationError(
        `Unknown propagation ${JSON.stringify(propagation)}; use one of: ${PROPAGATIONS.join(', ')}.`,
      );
    }
    const top = this.#stack.at(-1);
    const joined = top?.info.transactional ? top : undefined;
    switch (propagation) {
      case 'required':
      case 'supports':
        if (joined) return this.#join(joined, fn, options, propagation);
        return propagation === 'required' ? this.#runNew(fn, options) : this.#withoutTransaction(fn);
      case 'mandatory':
        if (!joined)
          throw new PropagationError('Propagation "mandatory" needs an open sync session, and none is open.');
        return this.#join(joined, fn, options, propagation);
      case 'requiresNew':
        return this.#runNew(fn, options);
      case 'nested':
        if (!joined) return this.#runNew(fn, options);
        assertJoinable(joined.tx!.begin, joined.info.id, options, propagation, this.#engine.adapter.capabilities);
        return this.savepoint(joined, fn);
      case 'never':
        if (joined) throw new PropagationError(`Propagation "never" forbids running inside session ${joined.info.id}.`);
        return this.#withoutTransaction(fn);
      case 'notSupported':
        return this.#withoutTransaction(fn);
    }
  }

  /** One statement: deadline check, events, typed errors, lost-connection bookkeeping. */
  execute(scope: SyncScope, query: CompiledQuery): QueryResult<unknown> {
    scope.assertUsable();
    const tx = scope.tx!;
    const deadline = this.#deadlines.get(tx);
    if (deadline !== undefined && performance.now() > deadline) {
      tx.abortReason = new TransactionTimeoutError(
        `Sync session ${tx.id} passed its timeoutMs before this statement; it was rolled back.`,
      );
      throw tx.abortReason;
    }
    const { runner, adapter } = this.#engine;
    const started = runner.observed ? performance.now() : 0;
    const connectionId = tx.connection.connectionId ?? 0;
    try {
      const result = tx.connection.execute(query);
      if (started) runner.report(query, started, tx.id, connectionId, undefined);
      return result;
    } catch (error) {
      const typed = toSessionFactoryError(error, adapter);
      if (started) runner.report(query, started, tx.id, connectionId, typed);
      if (isConnectionLost(typed, adapter)) tx.poisoned ??= 'connection lost';
      throw typed;
    }
  }

  savepoint<T>(parent: SyncScope, fn: SyncFn<T>): T {
    parent.assertUsable();
    if (!parent.info.transactional) {
      throw new PropagationError('tx.savepoint() needs a transaction, but this sync scope runs without one.');
    }
    if (!this.#engine.adapter.capabilities.savepoints) {
      throw new UnsupportedFeatureError(`The ${this.#engine.adapter.dialect} adapter does not support savepoints.`);
    }
    const tx = parent.tx!;
    const sql = this.#engine.adapter.sql;
    const name = tx.nextSavepointName();
    this.#statement(parent, sql.savepoint(name));
    const child = this.#createScope(tx, parent, name);
    this.#stack.push(child);
    try {
      const result = notAPromise(fn(child.syncSession));
      if (child.rollbackOnly) {
        throw new UnexpectedRollbackError(
          `Savepoint ${child.info.id} was marked rollback-only by a failed inner scope.`,
        );
      }
      this.#statement(parent, sql.releaseSavepoint(name));
      child.closed = true;
      child.mergeInto(parent);
      return result;
    } catch (error) {
      child.closed = true;
      if (!tx.poisoned && !tx.abortReason && tx.connection.inTransaction?.() !== false) {
        try {
          this.#statement(parent, sql.rollbackToSavepoint(name));
        } catch (rollbackError) {
          attachSuppressed(error, rollbackError);
          tx.poisoned ??= 'ROLLBACK TO SAVEPOINT failed';
          parent.rollbackOnly = true;
        }
      }
      this.#hooks(child.rollbackHooks, 'onRollback', tx.id);
      throw error;
    } finally {
      this.#stack.pop();
    }
  }

  #runNew<T>(fn: SyncFn<T>, options: SyncOptions): T {
    this.#engine.assertOpen();
    const merged = { ...this.#defaults, ...options };
    const begin = this.#lifecycle.beginOptions(merged);
    const { adapter, hub } = this.#engine;
    const connection = this.#acquire();
    const tx: SyncTx = new TransactionState(this.#engine.nextSessionId(), connection, begin);
    if (merged.timeoutMs !== undefined) this.#deadlines.set(tx, performance.now() + merged.timeoutMs);
    try {
      this.#control(tx, 'begin', adapter.sql.begin(begin));
    } catch (error) {
      connection.destroy();
      throw toSessionFactoryError(error, adapter);
    }
    const root = this.#createScope(tx, undefined, undefined);
    const afterEnd = adapter.sql.afterEnd?.(begin) ?? [];
    this.#stack.push(root);
    try {
      const result = notAPromise(fn(root.syncSession));
      tx.assertUsable();
      if (root.rollbackOnly) {
        throw new UnexpectedRollbackError(
          `Sync session ${tx.id} was marked rollback-only because a scope that joined it threw; it was rolled back.`,
        );
      }
      if (connection.inTransaction?.() === false) {
        throw toSessionFactoryError(
          new Error(`${adapter.dialect} rolled the transaction back on its own; nothing was committed`),
          adapter,
        );
      }
      try {
        this.#control(tx, 'end', [adapter.sql.commit, ...afterEnd]);
      } catch (error) {
        tx.ended = true;
        connection.destroy();
        this.#hooks(root.rollbackHooks, 'onRollback', tx.id);
        throw toSessionFactoryError(error, adapter);
      }
      tx.ended = true;
      this.#finish(tx);
      hub.emit('commit', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt });
      this.#hooks(root.commitHooks, 'onCommit', tx.id);
      return result;
    } catch (error) {
      if (!tx.ended) this.#rollback(root, error, afterEnd);
      throw error;
    } finally {
      this.#stack.pop();
    }
  }

  #rollback(root: SyncScope, cause: unknown, afterEnd: readonly string[]): void {
    const tx = root.tx!;
    const { adapter, hub } = this.#engine;
    tx.ended = true;
    if (!tx.poisoned) {
      try {
        const serverRolledBack = tx.connection.inTransaction?.() === false;
        this.#control(tx, 'end', serverRolledBack ? afterEnd : [adapter.sql.rollback, ...afterEnd]);
      } catch (rollbackError) {
        attachSuppressed(cause, toSessionFactoryError(rollbackError, adapter));
        tx.poisoned = 'ROLLBACK failed';
      }
    }
    this.#finish(tx);
    hub.emit('rollback', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt, error: cause });
    this.#hooks(root.rollbackHooks, 'onRollback', tx.id);
  }

  #finish(tx: SyncTx): void {
    if (tx.poisoned) tx.connection.destroy();
    else tx.connection.release();
  }

  #join<T>(scope: SyncScope, fn: SyncFn<T>, options: SyncOptions, propagation: string): T {
    assertJoinable(scope.tx!.begin, scope.info.id, options, propagation, this.#engine.adapter.capabilities);
    scope.assertUsable();
    try {
      return notAPromise(fn(scope.syncSession));
    } catch (error) {
      scope.rollbackOnly = true;
      throw error;
    }
  }

  // Without a transaction each statement autocommits on a connection held for the scope.
  #withoutTransaction<T>(fn: SyncFn<T>): T {
    this.#engine.assertOpen();
    const connection = this.#acquire();
    const tx: SyncTx = new TransactionState(this.#engine.nextSessionId(), connection, { readOnly: false });
    const scope = this.#createScope(tx, undefined, undefined, false);
    this.#stack.push(scope);
    try {
      const result = notAPromise(fn(scope.syncSession));
      scope.closed = true;
      this.#hooks(scope.commitHooks, 'onCommit', tx.id);
      return result;
    } catch (error) {
      scope.closed = true;
      this.#hooks(scope.rollbackHooks, 'onRollback', tx.id);
      throw error;
    } finally {
      this.#stack.pop();
      tx.ended = true;
      try {
        connection.end([]);
      } catch {
        tx.poisoned ??= 'ending the scope failed';
      }
      this.#finish(tx);
    }
  }

  // BEGIN/COMMIT/ROLLBACK go through the connection's begin/end (the bridge batches them);
  // they are reported like any other statement.
  #control(tx: SyncTx, kind: 'begin' | 'end', statements: readonly string[]): void {
    const { runner } = this.#engine;
    const started = runner.observed ? performance.now() : 0;
    if (kind === 'begin') tx.connection.begin(statements);
    else tx.connection.end(statements);
    if (!started) return;
    for (const sql of statements)
      runner.report(CompiledQuery.raw(sql), started, tx.id, tx.connection.connectionId ?? 0, undefined);
  }

  #statement(scope: SyncScope, sql: string): void {
    this.execute(scope, CompiledQuery.raw(sql));
  }

  #createScope(tx: SyncTx, parent: SyncScope | undefined, name: string | undefined, transactional = true): SyncScope {
    const id = parent ? `${tx.id}.${name}` : tx.id;
    const scope = new Scope<SyncTx>(id, tx, parent, name, transactional);
    scope.syncSession = new SyncSessionObject(this.#db, scope, this);
    return scope;
  }

  #hooks(hooks: readonly SessionHook[], phase: 'onCommit' | 'onRollback', sessionId: string): void {
    const { hub } = this.#engine;
    for (const hook of hooks) {
      try {
        const result = hook();
        if (result instanceof Promise) result.catch((error: unknown) => hub.emit('error', { phase, error, sessionId }));
      } catch (error) {
        hub.emit('error', { phase, error, sessionId });
      }
    }
  }
}

// A sync scope that returns a Promise would commit before the async work ran.
function notAPromise<T>(value: T): T {
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
    (value as unknown as Promise<unknown>).catch?.(() => {});
    throw new TypeError(
      'syncSession(fn): fn returned a Promise. A sync session must do its work synchronously (tx.all/get/run); it was rolled back. Use sf.session() for async work.',
    );
  }
  return value;
}
