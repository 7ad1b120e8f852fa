import {
  type AdapterCapabilities,
  type BeginOptions,
  ISOLATION_LEVELS,
  type IsolationLevel,
} from '../adapter/adapter.js';
import {
  DatabaseError,
  PropagationError,
  TransactionTimeoutError,
  UnexpectedRollbackError,
  UnsupportedFeatureError,
} from '../errors/error-classes.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { SessionFactoryError } from '../errors/session-factory-error.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import { isPending } from '../util/is-pending.js';
import type { EngineContext } from './engine-context.js';
import { backoffDelay, resolveRetryPolicy, shouldRetry } from './retry-policy.js';
import type { Scope } from './scope.js';
import { PROPAGATIONS, type Propagation, type SessionOptions } from './session-options.js';
import type { SessionHook } from './session-types.js';
import type { TransactionState } from './transaction-state.js';

/**
 * The transaction rules, written once and driven by two executors. Every algorithm here is a
 * generator that never does I/O itself: it calls the executor (`TransactionIo`) and `yield`s
 * what the call returned. The async executor awaits each yielded value before resuming the
 * generator (a rejection is thrown back in at the `yield`); the sync executor's calls return
 * plain values (and throw where they fail), so resuming is immediate. Either way the same
 * code decides the next statement, the hooks to run and which error wins.
 */
export type Step<T> = Generator<unknown, T, any>;

/** What `afterEnd` adds when the adapter restores nothing. */
const NO_STATEMENTS: readonly string[] = Object.freeze([]);

/** What the user's function gets and returns, as far as the rules care. */
export type UnitFn = (tx: any) => unknown;

/** A session's deadline as the rules see it: expired or not, and what clears it. */
export interface DeadlineLike {
  /** The timeout (or abort) error once the deadline passed, else undefined. */
  readonly expired: SessionFactoryError | undefined;
  clear(): void;
}

/** The I/O an executor supplies; async implementations return promises, sync ones values. */
export interface TransactionIo<C, S> {
  /** The deadline of one attempt (timeoutMs/signal), not yet watching any transaction. */
  deadline(options: SessionOptions): DeadlineLike;
  /** Checks out a connection for a new transaction (an async wait ends at the deadline). */
  acquire(deadline: DeadlineLike, begin?: BeginOptions): C | Promise<C>;
  /** The deadline now guards `root`'s transaction (async: cancel and roll back when it passes). */
  watch(deadline: DeadlineLike, root: Scope<C, S>): void;
  /** Runs transaction-control statements (BEGIN..., or COMMIT/ROLLBACK/afterEnd) on the connection. */
  control(tx: TransactionState<C>, phase: 'begin' | 'end', statements: readonly string[]): unknown;
  /** Runs a statement through `scope`'s connection, with the checks and bookkeeping of any statement. */
  statement(scope: Scope<C, S>, sql: string): unknown;
  /** Runs the user's function inside `scope` (ambient set; a deadline, when given, is raced). */
  call(scope: Scope<C, S>, fn: UnitFn, deadline?: DeadlineLike): unknown;
  /** Runs hooks in order; a failing hook is reported through the `error` event. */
  hooks(hooks: readonly SessionHook[], phase: 'onCommit' | 'onRollback', sessionId: string): unknown;
  /** Waits for statements still in flight and a cancel sent for them. */
  settle(tx: TransactionState<C>): unknown;
  /** Whether the driver sees an open transaction (undefined: it cannot tell). */
  inTransaction(tx: TransactionState<C>): boolean | undefined;
  /** Returns the connection to the pool (`tx.poisoned` unset) or destroys it. */
  finish(tx: TransactionState<C>): unknown;
  /** Acquires `scope`'s child lock; resolves to the function that releases it. */
  lock(scope: Scope<C, S>): (() => void) | Promise<() => void>;
  sleep(ms: number): unknown;
  /** A scope for the transaction `tx` (a savepoint when `parent` is given). */
  scope(tx: TransactionState<C>, parent: Scope<C, S> | undefined, savepointName: string | undefined): Scope<C, S>;
  /** A scope that runs without a transaction, and what ends it. */
  untransacted(): Scope<C, S> | Promise<Scope<C, S>>;
  endUntransacted(scope: Scope<C, S>): unknown;
  newTransaction(connection: C, begin: BeginOptions): TransactionState<C>;
  /** After COMMIT succeeded (factories with replicas): records the write's replication position. */
  readonly committed?: ((tx: TransactionState<C>) => unknown) | undefined;
}

/**
 * What `run` decided to do with a scope, given the propagation and the ambient session.
 * `testSavepoint`: inside `withRollback`, a scope that would open (or run without) a
 * transaction becomes a savepoint that stands for it: its commit hooks run at its RELEASE.
 */
export type Plan = 'new' | 'join' | 'savepoint' | 'testSavepoint' | 'none';

/**
 * Checkouts tried when BEGIN finds the connection already dead (killed while idle), whether
 * BEGIN went out alone (`open`) or with the session's first statement (the async executor).
 */
export const STALE_CONNECTION_ATTEMPTS = 3;

/** Why a connection whose state could not be restored after COMMIT/ROLLBACK is destroyed. */
const RESTORE_FAILED = 'restoring connection state failed';

/** Statement errors after which the server has ended the transaction (InnoDB rolls it back). */
const TRANSACTION_ENDING: ReadonlySet<ErrorCode> = new Set(['DEADLOCK', 'SERIALIZATION_FAILURE']);

/**
 * Which way a scope runs: a new transaction, joining `joined`, a savepoint in it, or no
 * transaction. Throws `PropagationError` for an unknown mode, `mandatory` without a session,
 * `never` inside one, and options a joined transaction cannot honour.
 */
export function planPropagation(
  propagation: Propagation | undefined,
  joined: Scope<any, any> | undefined,
  options: SessionOptions,
  capabilities: AdapterCapabilities,
): Plan {
  if (joined?.tx?.testTransaction) return planInTestTransaction(propagation, joined, options, capabilities);
  return planOutsideTest(propagation, joined, options, capabilities);
}

/**
 * Inside `withRollback` the application must behave as in production, but nothing may leave
 * the test's transaction: the test's own root counts as "no session open"; whatever would then
 * open a new transaction (`required` at top level, `requiresNew`, `nested`) or run without one
 * (`supports` at top level, `notSupported`, `never`) becomes a savepoint of the innermost scope.
 * Joins and the errors of `mandatory`/`never` stay as they are.
 */
function planInTestTransaction(
  propagation: Propagation | undefined,
  joined: Scope<any, any>,
  options: SessionOptions,
  capabilities: AdapterCapabilities,
): Plan {
  const app = joined.parent === undefined ? undefined : joined;
  const plan = planOutsideTest(propagation, app, options, capabilities);
  return plan === 'new' || plan === 'none' ? 'testSavepoint' : plan;
}

function planOutsideTest(
  propagation: Propagation | undefined,
  joined: Scope<any, any> | undefined,
  options: SessionOptions,
  capabilities: AdapterCapabilities,
): Plan {
  const mode = propagation ?? 'required';
  if (!PROPAGATIONS.includes(mode)) {
    throw new PropagationError(`Unknown propagation ${JSON.stringify(mode)}; use one of: ${PROPAGATIONS.join(', ')}.`);
  }
  const join = (plan: Plan): Plan => {
    assertJoinable(joined!.tx!.begin, joined!.info.id, options, mode, capabilities);
    return plan;
  };
  switch (mode) {
    case 'required':
      return joined ? join('join') : 'new';
    case 'requiresNew':
      return 'new';
    case 'nested':
      return joined ? join('savepoint') : 'new';
    case 'mandatory':
      if (!joined) {
        throw new PropagationError(
          'Propagation "mandatory" needs an open session, and none is open. Call it inside a session.',
        );
      }
      return join('join');
    case 'never':
      if (joined) {
        throw new PropagationError(
          `Propagation "never" forbids running inside a session, but session ${joined.info.id} is open. Call it outside the session, or use "notSupported".`,
        );
      }
      return 'none';
    case 'supports':
      return joined ? join('join') : 'none';
    case 'notSupported':
      return 'none';
  }
}

/** Whether `error` says the server itself rolled the transaction back (deadlock, serialization failure). */
function endedByServer(error: unknown): error is SessionFactoryError {
  return error instanceof SessionFactoryError && TRANSACTION_ENDING.has(error.code);
}

/**
 * Records what a failed statement did to its transaction: a lost connection poisons it and
 * ends it; a deadlock, serialization failure or timeout ended it on the server, so nothing
 * may run in autocommit after it and it must not report a commit. Returns the error to throw
 * (an abort that already happened wins over the statement's own error).
 */
export function statementFailed(tx: TransactionState<unknown>, error: unknown, engine: EngineContext): unknown {
  const aborted = tx.abortReason;
  if (isConnectionLost(error, engine.adapter)) {
    tx.poison('connection lost during a statement', true);
    if (error instanceof SessionFactoryError) tx.abortReason ??= error;
  } else if (error instanceof TransactionTimeoutError || endedByServer(error)) {
    tx.abortReason ??= error;
  }
  return aborted ?? error;
}

/**
 * Records a BEGIN that failed after the session's scope was handed out (a deferred BEGIN sent
 * with the first statement): BEGIN may not have run, so the connection is written off (no
 * ROLLBACK; closing it ends whatever is open) and the session can run nothing more, so no
 * later statement slips out in autocommit.
 */
export function deferredBeginFailed(tx: TransactionState<unknown>, error: unknown, engine: EngineContext): void {
  tx.poison('BEGIN failed', isConnectionLost(error, engine.adapter));
  if (error instanceof SessionFactoryError) tx.abortReason ??= error;
}

/**
 * The transaction algorithms: propagation, new transactions with deadline and retry, BEGIN,
 * COMMIT with its preconditions, ROLLBACK, savepoints, joined scopes, scopes without a
 * transaction, hooks and error precedence. One instance per factory, shared by both executors.
 */
export class TransactionRules {
  readonly #engine: EngineContext;
  readonly #beginOptions: (BeginOptions | undefined)[] = [];
  readonly #beginStatements = new WeakMap<BeginOptions, readonly string[]>();
  /** `[COMMIT]` and `[ROLLBACK]`, built once: a session's end allocates nothing for them. */
  readonly #commitSql: readonly string[];
  readonly #rollbackSql: readonly string[];

  constructor(engine: EngineContext) {
    this.#engine = engine;
    this.#commitSql = Object.freeze([engine.adapter.sql.commit]);
    this.#rollbackSql = Object.freeze([engine.adapter.sql.rollback]);
  }

  /** What BEGIN will say, validated against the adapter's capabilities. */
  beginOptions(options: Pick<SessionOptions, 'isolation' | 'readOnly' | 'after'>): BeginOptions {
    const { capabilities, dialect } = this.#engine.adapter;
    if (options.readOnly && !capabilities.readOnly) {
      throw new UnsupportedFeatureError(`The ${dialect} adapter cannot enforce read-only sessions.`);
    }
    const after = options.after;
    const isolation = resolveIsolation(capabilities, options.isolation);
    const readOnly = options.readOnly === true;
    if (after !== undefined) {
      this.#engine.replicas?.checkToken(after);
      return { isolation, readOnly, after };
    }
    // Without `after` there are ten possible answers: each is built once (with its BEGIN SQL).
    const slot = (isolation === undefined ? 0 : ISOLATION_LEVELS.indexOf(isolation) + 1) * 2 + (readOnly ? 1 : 0);
    let cached = this.#beginOptions[slot];
    if (cached === undefined) {
      cached = { isolation, readOnly, after: undefined };
      this.#beginOptions[slot] = cached;
    }
    return cached;
  }

  /** The adapter's BEGIN statements for `begin`, built once per distinct options object. */
  #beginSql(begin: BeginOptions): readonly string[] {
    let statements = this.#beginStatements.get(begin);
    if (statements === undefined) {
      statements = this.#engine.adapter.sql.begin(begin);
      this.#beginStatements.set(begin, statements);
    }
    return statements;
  }

  /** Runs a scope as `plan` decided. `options` are already merged with the factory defaults. */
  *unit<C, S, T>(
    io: TransactionIo<C, S>,
    plan: Plan,
    joined: Scope<C, S> | undefined,
    fn: UnitFn,
    options: SessionOptions,
  ): Step<T> {
    switch (plan) {
      case 'new':
        return yield* this.newTransaction<C, S, T>(io, fn, options);
      case 'join':
        return yield* this.join<C, S, T>(io, joined!, fn);
      case 'savepoint':
        return yield* this.savepoint<C, S, T>(io, joined!, fn);
      case 'testSavepoint':
        return yield* this.savepoint<C, S, T>(io, joined!, fn, undefined, true);
      case 'none':
        return yield* this.withoutTransaction<C, S, T>(io, fn);
    }
  }

  /** A new transaction; retried (top level only) for retryable errors whose outcome is known. */
  *newTransaction<C, S, T>(io: TransactionIo<C, S>, fn: UnitFn, options: SessionOptions): Step<T> {
    this.#engine.assertOpen();
    const policy = resolveRetryPolicy(options.retry);
    const begin = this.beginOptions(options);
    for (let attempt = 1; ; attempt++) {
      try {
        return yield* this.#attempt<C, S, T>(io, fn, begin, options);
      } catch (error) {
        const retry = shouldRetry(error) && attempt < policy.attempts;
        if (!retry || options.signal?.aborted || this.#engine.isClosed()) throw error;
        yield io.sleep(backoffDelay(attempt, policy));
      }
    }
  }

  *#attempt<C, S, T>(io: TransactionIo<C, S>, fn: UnitFn, begin: BeginOptions, options: SessionOptions): Step<T> {
    const deadline = io.deadline(options);
    let root: Scope<C, S> | undefined;
    try {
      root = yield* this.open(io, begin, deadline);
      io.watch(deadline, root);
      let result = io.call(root, fn, deadline) as T;
      if (isPending(result)) result = yield result;
      yield* this.commit(io, root, deadline);
      return result;
    } catch (error) {
      // The deadline wins: whatever the function threw after it passed is a consequence.
      const primary = deadline.expired ?? error;
      if (root && !root.tx!.ended) throw yield* this.rollback(io, root, primary);
      throw primary;
    } finally {
      deadline.clear();
    }
  }

  /**
   * Checks out a connection and sends BEGIN. A failed BEGIN sends no ROLLBACK; its connection
   * is kept only when the driver proves it usable. A connection found dead at BEGIN (killed
   * while idle) is replaced: nothing of the session has run yet.
   */
  *open<C, S>(io: TransactionIo<C, S>, begin: BeginOptions, deadline: DeadlineLike): Step<Scope<C, S>> {
    const { adapter } = this.#engine;
    for (let attempt = 1; ; attempt++) {
      let connection = io.acquire(deadline, begin) as C; // begin: the pool's reader/writer hint
      if (isPending(connection)) connection = yield connection;
      const tx = io.newTransaction(connection, begin);
      try {
        const sent = io.control(tx, 'begin', this.#beginSql(begin));
        if (isPending(sent)) yield sent;
        return io.scope(tx, undefined, undefined);
      } catch (error) {
        const lost = isConnectionLost(error, adapter);
        tx.poison('BEGIN failed', lost);
        yield* this.#finish(io, tx);
        if (!(lost && attempt < STALE_CONNECTION_ATTEMPTS && !deadline.expired)) throw error;
      }
    }
  }

  /**
   * Why `root` must not commit, as the error to throw (then the caller rolls back): the
   * session ended or was aborted, a joined scope marked it rollback-only, or the server
   * already rolled back on its own (SQLite's ON CONFLICT ROLLBACK, BUSY, FULL).
   */
  commitBlocker<C, S>(io: TransactionIo<C, S>, root: Scope<C, S>, deadline?: DeadlineLike): unknown {
    const tx = root.tx!;
    if (deadline?.expired) return deadline.expired;
    try {
      tx.assertUsable();
    } catch (error) {
      return error;
    }
    if (root.rollbackOnly) {
      return new UnexpectedRollbackError(
        `Session ${tx.id} was marked rollback-only because a scope that joined it threw; it was rolled back, not committed. Handle the inner error or let it propagate.`,
      );
    }
    if (io.inTransaction(tx) === false) {
      const { dialect } = this.#engine.adapter;
      return new DatabaseError(
        `Session ${tx.id}: ${dialect} rolled the transaction back on its own (a conflict clause, a busy or full database); nothing was committed.`,
        { dialect },
      );
    }
    return undefined;
  }

  /**
   * COMMIT, or the reason it must not happen (thrown before COMMIT, so the caller rolls back).
   * A failed COMMIT ends the transaction here; when the connection was lost during COMMIT the
   * outcome is unknown, and the error says so (and is never retried).
   */
  *commit<C, S>(io: TransactionIo<C, S>, root: Scope<C, S>, deadline?: DeadlineLike): Step<void> {
    const tx = root.tx!;
    const { adapter, hub } = this.#engine;
    const blocker = this.commitBlocker(io, root, deadline);
    if (blocker) throw blocker;
    try {
      const sent = io.control(tx, 'end', this.#commitSql);
      if (isPending(sent)) yield sent;
    } catch (error) {
      const lost = isConnectionLost(error, adapter);
      if (lost && error instanceof SessionFactoryError) error.markCommitOutcomeUnknown();
      tx.poison('COMMIT failed', lost);
      yield* this.#finish(io, tx);
      if (hub.has('rollback')) {
        hub.emit('rollback', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt, error });
      }
      yield io.hooks(root.rollbackHooks, 'onRollback', tx.id);
      throw error;
    }
    if (io.committed !== undefined) {
      const recorded = io.committed(tx);
      if (isPending(recorded)) yield recorded;
    }
    const restore = this.#restoreSql(tx);
    if (restore.length > 0) yield* this.#afterEnd(io, tx, restore);
    yield* this.#finish(io, tx);
    if (hub.has('commit')) hub.emit('commit', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt });
    const ran = io.hooks(root.commitHooks, 'onCommit', tx.id);
    if (isPending(ran)) yield ran;
  }

  /**
   * ROLLBACK after `cause`, which is returned, never replaced (a ROLLBACK failure is attached
   * to it). Waits for a cancelled statement first; skips ROLLBACK when the connection is lost
   * or the server already ended the transaction; a ROLLBACK refused with a deadlock or
   * serialization failure (the server aborted the transaction itself) counts as done. Idempotent.
   */
  *rollback<C, S, E>(io: TransactionIo<C, S>, root: Scope<C, S>, cause: E): Step<E> {
    const tx = root.tx!;
    const { adapter, hub } = this.#engine;
    if (tx.ended) return cause;
    tx.ended = true;
    const settled = io.settle(tx);
    if (isPending(settled)) yield settled;
    // A poisoned connection is in an unknown state: it gets nothing more, and is destroyed.
    if (!tx.poisoned) {
      try {
        if (io.inTransaction(tx) !== false) {
          const sent = io.control(tx, 'end', this.#rollbackSql);
          if (isPending(sent)) yield sent;
        }
      } catch (error) {
        // A ROLLBACK refused because the server already aborted the transaction (Galera
        // answers 1213 to any statement after a brute-force abort) did its job: rolled back.
        if (!endedByServer(error) || io.inTransaction(tx) === true) {
          attachSuppressed(cause, error);
          tx.poison('ROLLBACK failed', isConnectionLost(error, adapter));
        }
      }
      if (!tx.poisoned) {
        const restore = this.#restoreSql(tx);
        if (restore.length > 0) yield* this.#afterEnd(io, tx, restore);
      }
    }
    yield* this.#finish(io, tx);
    if (hub.has('rollback')) {
      hub.emit('rollback', { sessionId: tx.id, durationMs: performance.now() - tx.startedAt, error: cause });
    }
    const ran = io.hooks(root.rollbackHooks, 'onRollback', tx.id);
    if (isPending(ran)) yield ran;
    return cause;
  }

  /**
   * A savepoint inside `parent`: siblings serialized, RELEASE on success (where the dialect has
   * it), ROLLBACK TO on throw. The savepoint's rollback hooks run after the parent's lock is
   * released, so a hook may open a scope of its own. A savepoint that `standsForTransaction`
   * (`withRollback`) runs its commit hooks at RELEASE too, instead of handing them to `parent`.
   */
  *savepoint<C, S, T>(
    io: TransactionIo<C, S>,
    parent: Scope<C, S>,
    fn: UnitFn,
    current?: Scope<C, S>,
    standsForTransaction = false,
  ): Step<T> {
    const { adapter } = this.#engine;
    if (!parent.tx || !parent.transactional) {
      throw new PropagationError(
        'tx.savepoint() needs a transaction, but this scope runs without one (supports/notSupported/never).',
      );
    }
    if (!adapter.capabilities.savepoints) {
      throw new UnsupportedFeatureError(`The ${adapter.dialect} adapter does not support savepoints.`);
    }
    if (current && current !== parent && current.isInside(parent)) {
      // parent's lock is held by the savepoint we are in: waiting for it would never end.
      throw new PropagationError(
        `tx.savepoint() was called on scope ${parent.info.id} from inside its savepoint ${current.info.id}: use the tx of the scope you are in.`,
      );
    }
    const tx = parent.tx;
    const sql = adapter.sql;
    let unlock: (() => void) | undefined = yield io.lock(parent);
    let child: Scope<C, S> | undefined;
    try {
      parent.assertUsable();
      const name = tx.nextSavepointName();
      yield io.statement(parent, sql.savepoint(name));
      child = io.scope(tx, parent, name);
      const result: T = yield io.call(child, fn);
      if (child.rollbackOnly) {
        throw new UnexpectedRollbackError(
          `Savepoint ${child.info.id} was marked rollback-only because a scope that joined it threw; it was rolled back.`,
        );
      }
      if (sql.releaseSavepoint) yield io.statement(parent, sql.releaseSavepoint(name));
      child.closed = true;
      if (standsForTransaction) {
        unlock?.();
        unlock = undefined;
        yield io.hooks(child.commitHooks, 'onCommit', tx.id);
      } else {
        child.mergeInto(parent);
      }
      return result;
    } catch (error) {
      if (child) {
        child.closed = true;
        if (!tx.ended && !tx.abortReason && !tx.lost && io.inTransaction(tx) !== false) {
          try {
            yield io.statement(parent, sql.rollbackToSavepoint(child.savepointName!));
          } catch (rollbackError) {
            attachSuppressed(error, rollbackError);
            tx.poison('ROLLBACK TO SAVEPOINT failed');
            parent.rollbackOnly = true;
          }
        }
        unlock?.();
        unlock = undefined;
        yield io.hooks(child.rollbackHooks, 'onRollback', tx.id);
      }
      throw error;
    } finally {
      unlock?.();
    }
  }

  /** A scope joining `scope`'s transaction: if it throws, the transaction becomes rollback-only. */
  *join<C, S, T>(io: TransactionIo<C, S>, scope: Scope<C, S>, fn: UnitFn): Step<T> {
    scope.assertUsable();
    try {
      return yield io.call(scope, fn);
    } catch (error) {
      scope.rollbackOnly = true;
      throw error;
    }
  }

  /** A scope without a transaction: hooks still run when it ends. */
  *withoutTransaction<C, S, T>(io: TransactionIo<C, S>, fn: UnitFn): Step<T> {
    this.#engine.assertOpen();
    const scope: Scope<C, S> = yield io.untransacted();
    try {
      const result: T = yield io.call(scope, fn);
      scope.closed = true;
      yield io.hooks(scope.commitHooks, 'onCommit', scope.info.id);
      return result;
    } catch (error) {
      scope.closed = true;
      yield io.hooks(scope.rollbackHooks, 'onRollback', scope.info.id);
      throw error;
    } finally {
      yield io.endUntransacted(scope);
    }
  }

  // Restores connection state (SQLite's query_only); a failure here poisons the connection
  // but cannot undo the COMMIT that already happened.
  *#afterEnd<C, S>(io: TransactionIo<C, S>, tx: TransactionState<C>, statements: readonly string[]): Step<void> {
    try {
      const sent = io.control(tx, 'end', statements);
      if (isPending(sent)) yield sent;
    } catch (error) {
      tx.poison(RESTORE_FAILED);
      this.#engine.hub.emit('error', { phase: 'afterEnd', error, sessionId: tx.id });
    }
  }

  /**
   * Ends the transaction's hold on its connection: pooled, or destroyed when poisoned. Where
   * the connection is the database (`sharedDatabase: false`, SQLite `:memory:`), destroying it
   * would lose every table: a connection whose control statement failed is kept when the
   * driver proves it usable (not lost, out of any transaction after a ROLLBACK).
   */
  *#finish<C, S>(io: TransactionIo<C, S>, tx: TransactionState<C>): Step<void> {
    tx.ended = true;
    const settled = io.settle(tx);
    if (isPending(settled)) yield settled;
    const { capabilities } = this.#engine.adapter;
    if (
      tx.poisoned &&
      !tx.lost &&
      !capabilities.sharedDatabase &&
      tx.poisoned !== RESTORE_FAILED &&
      io.inTransaction(tx) !== undefined
    ) {
      try {
        if (io.inTransaction(tx)) yield io.control(tx, 'end', this.#rollbackSql);
        if (io.inTransaction(tx) === false) {
          const restore = this.#restoreSql(tx);
          if (restore.length > 0) yield io.control(tx, 'end', restore);
          tx.poisoned = undefined;
        }
      } catch {
        // stays poisoned: destroyed below
      }
    }
    const finished = io.finish(tx);
    if (isPending(finished)) yield finished;
  }

  /** What restores the connection after `tx` ends (SQLite's `query_only` after a read-only session), often nothing. */
  #restoreSql(tx: TransactionState<unknown>): readonly string[] {
    return this.#engine.adapter.sql.afterEnd?.(tx.begin) ?? NO_STATEMENTS;
  }
}

/**
 * A scope that joins (or nests in) a transaction cannot change it: an explicit option that
 * differs from the transaction, or that only a new transaction can honour, throws instead of
 * being ignored. Async and sync scopes share this rule.
 */
export function assertJoinable(
  begin: BeginOptions,
  sessionId: string,
  options: Pick<SessionOptions, 'isolation' | 'readOnly' | 'timeoutMs' | 'signal' | 'retry'>,
  propagation: string,
  capabilities: AdapterCapabilities,
): void {
  const conflict = (what: string) =>
    new PropagationError(
      `Propagation "${propagation}" joins session ${sessionId}, but the scope asks for ${what}. Use propagation "requiresNew" for a separate transaction, or drop the option.`,
    );
  if (options.isolation !== undefined) {
    const wanted = resolveIsolation(capabilities, options.isolation);
    if (wanted !== begin.isolation) {
      throw conflict(`isolation "${options.isolation}" while it runs "${begin.isolation ?? 'the server default'}"`);
    }
  }
  if (options.readOnly !== undefined && options.readOnly !== begin.readOnly) {
    throw conflict(`readOnly: ${options.readOnly} while it is ${begin.readOnly ? 'read-only' : 'read-write'}`);
  }
  if (options.timeoutMs !== undefined || options.signal !== undefined) {
    throw conflict('its own timeoutMs/signal (they apply to a new transaction only)');
  }
  if (options.retry !== undefined) throw conflict('retry (only a scope that starts a transaction can be retried)');
}

/**
 * The level the server will really run for a requested one, per the adapter's declared
 * mapping; a level the adapter does not list is refused rather than silently weakened.
 */
export function resolveIsolation(
  capabilities: AdapterCapabilities,
  requested: IsolationLevel | undefined,
): IsolationLevel | undefined {
  if (requested === undefined) return undefined;
  const effective = capabilities.isolation[requested];
  if (!effective) {
    const known = Object.keys(capabilities.isolation).join(', ');
    throw new UnsupportedFeatureError(
      `Isolation level "${requested}" is not supported by this adapter; it supports: ${known || 'none'}.`,
    );
  }
  return effective;
}

/**
 * Records an error that happened while handling `primary` (a failed ROLLBACK) without hiding
 * `primary`: typed errors get it in `suppressed`, other errors get a non-enumerable
 * `suppressed` array, so the caller still catches the error it threw.
 */
export function attachSuppressed<E>(primary: E, secondary: unknown): E {
  if (primary instanceof SessionFactoryError) {
    (primary.suppressed as unknown[]).push(secondary);
  } else if (typeof primary === 'object' && primary !== null) {
    const existing = (primary as { suppressed?: unknown }).suppressed;
    if (Array.isArray(existing)) existing.push(secondary);
    else if (Object.isExtensible(primary)) {
      Object.defineProperty(primary, 'suppressed', { value: [secondary], configurable: true, writable: true });
    }
  }
  return primary;
}
