import { CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { BeginOptions } from '../adapter/adapter.js';
import { TransactionTimeoutError } from '../errors/error-classes.js';
import { toSessionFactoryError } from '../errors/to-session-factory-error.js';
import type { EngineContext } from '../session/engine-context.js';
import { liveScope, Scope } from '../session/scope.js';
import { type SessionOptions, sessionDefaultsOrNone, withSessionDefaults } from '../session/session-options.js';
import type { SessionHook, SyncSession } from '../session/session-types.js';
import {
  type DeadlineLike,
  planPropagation,
  type Step,
  statementFailed,
  type TransactionIo,
  type TransactionRules,
  type UnitFn,
} from '../session/transaction-rules.js';
import { TransactionState } from '../session/transaction-state.js';
import { isPending } from '../util/is-pending.js';
import type { SyncConnection } from './sync-connection.js';
import { SyncSessionObject } from './sync-session-object.js';

type SyncTx = TransactionState<SyncConnection>;
/** A sync scope; its `session` is the sync `tx`. */
export type SyncScope = Scope<SyncConnection, SyncSession<any>>;
type SyncFn<T> = (tx: SyncSession<any>) => T;
type SyncOptions = Omit<SessionOptions, 'signal' | 'retry'>;

/** Drives a rules generator synchronously: the sync I/O returns values, so each step resumes at once. */
function driveSync<T>(step: Step<T>): T {
  let next = step.next();
  while (!next.done) next = step.next(next.value);
  return next.value;
}

/**
 * A sync session's `timeoutMs`: an instant on the clock. Each statement may block only until
 * then (the worker bridge cancels and rolls back a call that reaches it); a session whose
 * function returns after it rolls back, exactly as an async session does.
 */
class SyncDeadline implements DeadlineLike {
  readonly #at: number | undefined;
  readonly #timeoutMs: number | undefined;
  #expired: TransactionTimeoutError | undefined;

  constructor(timeoutMs: number | undefined) {
    this.#timeoutMs = timeoutMs;
    this.#at = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
  }

  /** Milliseconds left, or undefined without a deadline. */
  get remainingMs(): number | undefined {
    return this.#at === undefined ? undefined : this.#at - performance.now();
  }

  get expired(): TransactionTimeoutError | undefined {
    if (this.#expired === undefined && this.#at !== undefined && performance.now() >= this.#at) {
      this.#expired = new TransactionTimeoutError(
        `The sync session exceeded its timeoutMs of ${this.#timeoutMs} ms: the running statement was cancelled and the transaction rolled back. Raise timeoutMs or make the unit of work shorter.`,
      );
    }
    return this.#expired;
  }

  clear(): void {}
}

const NO_DEADLINE = new SyncDeadline(undefined);

/**
 * The sync executor of the transaction rules: `sf.syncSession` over a `SyncConnection`
 * (native SQLite, or the worker bridge). Sync code cannot interleave, so the ambient session
 * is a plain stack, and locks are never contended.
 */
export class SyncSessionEngine implements TransactionIo<SyncConnection, SyncSession<any>> {
  readonly #engine: EngineContext;
  readonly #rules: TransactionRules;
  readonly #db: Kysely<any>;
  readonly #acquire: (readOnly: boolean) => SyncConnection;
  /** `FactoryOptions.session`; undefined when it sets nothing. */
  readonly #defaults: Omit<SessionOptions, 'signal' | 'propagation'> | undefined;
  readonly #stack: SyncScope[] = [];
  /**
   * Set only while a `withRollback` transaction of this factory is open: the sync scope that
   * stands for it when a sync session starts outside any other (undefined outside one).
   */
  outerTestScope: (() => SyncScope | undefined) | undefined;

  constructor(
    engine: EngineContext,
    rules: TransactionRules,
    db: Kysely<any>,
    acquire: (readOnly: boolean) => SyncConnection,
    defaults: Omit<SessionOptions, 'signal' | 'propagation'>,
  ) {
    this.#engine = engine;
    this.#rules = rules;
    this.#db = db;
    this.#acquire = acquire;
    this.#defaults = sessionDefaultsOrNone(defaults);
  }

  /** `sf.syncSession(fn, options)`. */
  run<T>(fn: SyncFn<T>, options: SyncOptions = {}): T {
    let top = liveScope(this.#stack.at(-1));
    if (top === undefined && this.outerTestScope !== undefined) top = this.outerTestScope();
    const joined = top?.transactional ? top : undefined;
    const plan = planPropagation(options.propagation, joined, options, this.#engine.adapter.capabilities);
    if (plan !== 'new') {
      return driveSync(
        this.#rules.unit<SyncConnection, SyncSession<any>, T>(this, plan, joined, fn as UnitFn, options),
      );
    }
    // A sync scope is never retried (it cannot wait between attempts without blocking the thread).
    const merged: SessionOptions = withSessionDefaults(this.#defaults, options);
    // Straight to the new-transaction rule (what `unit` would pick): one generator less per session.
    const once = merged.retry === undefined ? merged : { ...merged, retry: undefined };
    return driveSync(this.#rules.newTransaction<SyncConnection, SyncSession<any>, T>(this, fn as UnitFn, once));
  }

  /** The innermost open transactional sync scope, if any (telemetry decides from it whether a scope starts a transaction). */
  ambientScope(): SyncScope | undefined {
    const top = liveScope(this.#stack.at(-1));
    return top?.transactional ? top : undefined;
  }

  /** `tx.savepoint(fn)` of a sync scope. */
  savepoint<T>(parent: SyncScope, fn: SyncFn<T>): T {
    const current = liveScope(this.#stack.at(-1));
    return driveSync(this.#rules.savepoint<SyncConnection, SyncSession<any>, T>(this, parent, fn as UnitFn, current));
  }

  /** One statement: usable and deadline checks, events, typed errors, abort bookkeeping. */
  execute(scope: SyncScope, query: CompiledQuery): QueryResult<unknown> {
    scope.assertUsable();
    const tx = scope.tx!;
    // Only a session with timeoutMs has one (set by watch()).
    const deadline = tx.deadline as SyncDeadline | undefined;
    const budget = deadline?.remainingMs;
    if (deadline?.expired) {
      tx.abortReason ??= deadline.expired;
      throw tx.abortReason;
    }
    const { runner, adapter } = this.#engine;
    const started = runner.observed ? performance.now() : 0;
    const connectionId = tx.connection.connectionId ?? 0;
    try {
      const result = tx.connection.execute(query, budget);
      if (started) runner.report(query, started, tx.id, connectionId, undefined);
      return result;
    } catch (error) {
      const typed = toSessionFactoryError(error, adapter);
      if (started) runner.report(query, started, tx.id, connectionId, typed);
      // A call cut off by the session's deadline reports the session's timeout.
      throw statementFailed(tx, deadline?.expired ?? typed, this.#engine);
    }
  }

  // --- TransactionIo --------------------------------------------------------------------------

  deadline(options: SessionOptions): SyncDeadline {
    return options.timeoutMs === undefined ? NO_DEADLINE : new SyncDeadline(options.timeoutMs);
  }

  acquire(_deadline: DeadlineLike, begin?: BeginOptions): SyncConnection {
    return this.#acquire(begin?.readOnly === true); // pool role hint: read-only runs beside the writer
  }

  watch(deadline: DeadlineLike, root: SyncScope): void {
    if (deadline !== NO_DEADLINE) root.tx!.deadline = deadline;
  }

  // BEGIN/COMMIT/ROLLBACK go through the connection's begin/end (the bridge batches them);
  // they are reported like any other statement.
  control(tx: SyncTx, phase: 'begin' | 'end', statements: readonly string[]): void {
    const { runner, adapter } = this.#engine;
    const started = runner.observed ? performance.now() : 0;
    try {
      if (phase === 'begin') tx.connection.begin(statements);
      else tx.connection.end(statements);
    } catch (error) {
      throw toSessionFactoryError(error, adapter);
    }
    if (!started) return;
    for (const sql of statements) {
      runner.report(CompiledQuery.raw(sql), started, tx.id, tx.connection.connectionId ?? 0, undefined);
    }
  }

  statement(scope: SyncScope, sql: string): void {
    this.execute(scope, CompiledQuery.raw(sql));
  }

  call(scope: SyncScope, fn: UnitFn): unknown {
    this.#stack.push(scope);
    try {
      return notAPromise(fn(scope.session));
    } finally {
      this.#stack.pop();
    }
  }

  hooks(hooks: readonly SessionHook[], phase: 'onCommit' | 'onRollback', sessionId: string): void {
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

  settle(): void {}

  inTransaction(tx: SyncTx): boolean | undefined {
    return tx.connection.inTransaction?.();
  }

  finish(tx: SyncTx): void {
    // A sync scope cannot await the primary's position: the next replica read fetches it first.
    if (!tx.begin.readOnly) this.#engine.replicas?.positionLost();
    if (tx.poisoned) tx.connection.destroy();
    else tx.connection.release();
  }

  lock(): () => void {
    return noop;
  }

  sleep(): void {}

  scope(tx: SyncTx, parent: SyncScope | undefined, savepointName: string | undefined): SyncScope {
    const id = parent ? `${tx.id}.${savepointName}` : tx.id;
    return new Scope(id, tx, parent, savepointName, true, (scope) => new SyncSessionObject(this.#db, scope, this));
  }

  // Without a transaction each statement autocommits on a connection held for the scope.
  untransacted(): SyncScope {
    const tx = this.newTransaction(this.#acquire(false), { readOnly: false });
    return new Scope(tx.id, tx, undefined, undefined, false, (scope) => new SyncSessionObject(this.#db, scope, this));
  }

  endUntransacted(scope: SyncScope): void {
    const tx = scope.tx!;
    tx.ended = true;
    try {
      tx.connection.end([]);
    } catch {
      tx.poison('ending the scope failed');
    }
    this.finish(tx);
  }

  /** `withRollback`: a root scope on the test transaction's connection, to plan in (never begun nor ended). */
  scopeInTestTransaction(connection: SyncConnection, begin: BeginOptions): SyncScope {
    const tx = this.newTransaction(connection, begin);
    tx.testTransaction = true;
    return this.scope(tx, undefined, undefined);
  }

  newTransaction(connection: SyncConnection, begin: BeginOptions): SyncTx {
    return new TransactionState(this.#engine.nextSessionId(), connection, begin);
  }
}

function noop(): void {}

// A sync scope that returns a Promise would commit before the async work ran.
function notAPromise<T>(value: T): T {
  if (isPending(value)) {
    (value as unknown as Promise<unknown>).catch?.(() => {});
    throw new TypeError(
      'syncSession(fn): fn returned a Promise. A sync session must do its work synchronously (tx.all/get/run); it was rolled back. Use sf.session() for async work.',
    );
  }
  return value;
}
