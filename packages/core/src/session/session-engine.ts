import { CompiledQuery, Kysely, type KyselyProps, type QueryResult, SingleConnectionProvider } from 'kysely';
import type { BeginOptions, DriverConnection } from '../adapter/adapter.js';
import { PropagationError, SessionClosedError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import type { EventHub } from '../events/event-hub.js';
import type { PooledConnection } from '../pool/pool.js';
import { settleWithin } from '../util/settle-within.js';
import { AutocommitConnection } from './autocommit-connection.js';
import { Deadline } from './deadline.js';
import type { EngineContext } from './engine-context.js';
import { createKyselyProps, FactoryDriver } from './factory-driver.js';
import { liveScope, Scope } from './scope.js';
import { ManagedSessionKysely, type SessionControl, SessionKysely } from './session-kysely.js';
import type { SessionOptions } from './session-options.js';
import type { ManagedSession, Session, SessionHook } from './session-types.js';
import {
  type DeadlineLike,
  planPropagation,
  type Step,
  statementFailed,
  type TransactionIo,
  TransactionRules,
  type UnitFn,
} from './transaction-rules.js';
import { TransactionState } from './transaction-state.js';

type Pooled = PooledConnection<DriverConnection>;
/** An async scope; its `session` is the `tx` (undefined for Kysely's own transactions on `sf.db`). */
export type AsyncScope = Scope<Pooled, SessionKysely<any> | undefined>;
type AsyncTx = TransactionState<Pooled>;

/** Session defaults from `FactoryOptions.session`. */
export type SessionDefaults = Omit<SessionOptions, 'signal' | 'propagation'>;

/** How long a cancelled statement (or its cancel) may take to settle before the connection is written off. */
const SETTLE_AFTER_CANCEL_MS = 5000;

/**
 * Drives a rules generator asynchronously: each yielded promise is awaited and its value (or
 * rejection) handed back; plain values pass straight through, costing no tick.
 */
async function drive<T>(step: Step<T>): Promise<T> {
  let next = step.next();
  while (!next.done) {
    const value = next.value;
    if (value === undefined || typeof (value as { then?: unknown }).then !== 'function') {
      next = step.next(value);
      continue;
    }
    let resolved: unknown;
    try {
      resolved = await value;
    } catch (error) {
      next = step.throw(error);
      continue;
    }
    next = step.next(resolved);
  }
  return next.value;
}

/**
 * The async executor of the transaction rules: `sf.session`, `sf.begin`, `sf.connection`,
 * Kysely's own transaction API on `sf.db`, and every statement a session runs. It supplies
 * the I/O (pool, AsyncLocalStorage, deadlines, cancel); `TransactionRules` decides.
 */
export class SessionEngine {
  readonly rules: TransactionRules;
  readonly #engine: EngineContext;
  readonly #base: KyselyProps;
  readonly #defaults: SessionDefaults;
  /** Sessions of `sf.session()`: the pool takes the connection back. */
  readonly #sessions: AsyncIo;
  /** `sf.begin()`: the root `tx` can commit and roll back itself. */
  readonly #managed: AsyncIo;
  /** Kysely's `transaction()`/`startTransaction()` on `sf.db`: Kysely releases the connection. */
  readonly #kysely: AsyncIo;
  /** Settles a managed session's place in `activity` (so `close()` waits for it) once it ended. */
  readonly #managedEnds = new WeakMap<AsyncScope, () => void>();

  constructor(engine: EngineContext, defaults: SessionDefaults, close: () => Promise<void>) {
    this.#engine = engine;
    const base = createKyselyProps(engine.adapter.kysely, new FactoryDriver(this, close));
    this.#base = base;
    this.#defaults = defaults;
    this.rules = new TransactionRules(engine);
    const control: SessionControl = {
      savepoint: (scope, fn) => this.savepoint(scope as AsyncScope, fn),
      commit: (scope) => this.#endManaged(scope as AsyncScope, 'commit'),
      rollback: (scope) => this.#endManaged(scope as AsyncScope, 'rollback'),
    };
    const plain = (scope: AsyncScope) => new SessionKysely(base, scope, this, control);
    const releaseToPool = (tx: AsyncTx) => this.#release(tx);
    this.#sessions = new AsyncIo(this, plain, plain, releaseToPool);
    this.#managed = new AsyncIo(
      this,
      (scope) => new ManagedSessionKysely(base, scope, this, control),
      plain,
      releaseToPool,
    );
    // The AutocommitConnection decides at release whether its connection is pooled or destroyed.
    this.#kysely = new AsyncIo(
      this,
      () => undefined,
      () => undefined,
      () => undefined,
    );
  }

  get context(): EngineContext {
    return this.#engine;
  }

  /** Kysely props shared by `sf.db` and every `tx`. */
  get base(): KyselyProps {
    return this.#base;
  }

  /** The innermost open transactional scope of this factory, if any. */
  ambientScope(): AsyncScope | undefined {
    const scope = liveScope(this.#engine.ambient.getStore()?.scope as AsyncScope | undefined);
    return scope?.transactional ? scope : undefined;
  }

  /** `sf.session(fn, options)`. Joining or nesting into an open session stays allowed while `close()` drains it. */
  run<T>(fn: (tx: Session<any>) => Promise<T>, options: SessionOptions = {}): Promise<T> {
    const joined = this.ambientScope();
    let plan: ReturnType<typeof planPropagation>;
    try {
      plan = planPropagation(options.propagation, joined, options, this.#engine.adapter.capabilities);
    } catch (error) {
      return Promise.reject(error);
    }
    const merged = plan === 'new' ? { ...this.#defaults, ...options } : options;
    const work = drive(
      this.rules.unit<Pooled, AsyncScope['session'], T>(this.#sessions, plan, joined, fn as UnitFn, merged),
    );
    return plan === 'new' || plan === 'none' ? this.#engine.activity.track(work) : work;
  }

  /** `tx.savepoint(fn)`: a savepoint in `parent`. */
  savepoint<T>(parent: AsyncScope, fn: UnitFn): Promise<T> {
    const current = liveScope(this.#engine.ambient.getStore()?.scope as AsyncScope | undefined);
    return drive(this.rules.savepoint<Pooled, AsyncScope['session'], T>(this.#sessions, parent, fn, current));
  }

  /**
   * `sf.begin()`: a transaction the caller finishes. When its deadline passes, the running
   * statement is cancelled and the transaction rolled back and released at once: it never
   * sits idle in transaction waiting for the caller.
   */
  async begin<DB>(options: Omit<SessionOptions, 'retry'> = {}): Promise<ManagedSession<DB>> {
    this.#engine.assertOpen();
    if (options.propagation !== undefined && options.propagation !== 'requiresNew') {
      throw new PropagationError(
        `sf.begin() always opens a new transaction; propagation ${JSON.stringify(options.propagation)} does not apply. Use sf.session(fn, { propagation }) instead.`,
      );
    }
    const merged = { ...this.#defaults, ...options };
    const begin = this.rules.beginOptions(merged);
    const deadline = this.#managed.deadline(merged);
    let root: AsyncScope;
    try {
      root = await drive(this.rules.open(this.#managed, begin, deadline));
    } catch (error) {
      deadline.clear();
      throw deadline.expired ?? error;
    }
    const ended = new Promise<void>((resolve) => {
      this.#managedEnds.set(root, () => {
        deadline.clear();
        resolve();
      });
    });
    void this.#engine.activity.track(ended);
    const expire = (error: SessionFactoryError) => {
      this.abort(root.tx!, error);
      void drive(this.rules.rollback(this.#managed, root, error)).finally(() => this.#managedEnds.get(root)?.());
    };
    this.opened(root.tx!, expire);
    deadline.onExpire(expire);
    return root.session as unknown as ManagedSession<DB>;
  }

  async #endManaged(root: AsyncScope, how: 'commit' | 'rollback'): Promise<void> {
    const tx = root.tx!;
    try {
      if (how === 'rollback') {
        await drive(this.rules.rollback(this.#managed, root, undefined));
        return;
      }
      if (tx.ended) {
        throw tx.abortReason ?? new SessionClosedError(`Session ${tx.id} has already ended; it cannot be committed.`);
      }
      try {
        await drive(this.rules.commit(this.#managed, root));
      } catch (error) {
        throw await drive(this.rules.rollback(this.#managed, root, error));
      }
    } finally {
      if (tx.ended) this.#managedEnds.get(root)?.();
    }
  }

  /** `sf.connection(fn)`: one pooled connection in autocommit mode, reset before it goes back. */
  connection<DB, T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    try {
      this.#engine.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    const { pool, ambient } = this.#engine;
    return this.#engine.activity.track(
      (async () => {
        const connection = new AutocommitConnection(this, await pool.acquire());
        const provider = new SingleConnectionProvider(connection);
        const db = new Kysely<DB>({ ...this.#base, executor: this.#base.executor.withConnectionProvider(provider) });
        try {
          return await ambient.run({ scope: undefined }, () => fn(db));
        } finally {
          await connection.reset();
          await connection.release();
        }
      })(),
    );
  }

  // --- Kysely's own transaction API on sf.db, through the same rules -------------------------

  /** BEGIN on a connection of `sf.db` (Kysely's `transaction()` / `startTransaction()`), through the rules. */
  async openOn(connection: AutocommitConnection, begin: BeginOptions): Promise<void> {
    const io = this.#kysely.forConnection(connection.pooled, (tx) => {
      if (tx.poisoned) connection.poison();
    });
    connection.transaction = await drive(this.rules.open(io, begin, io.deadline({})));
  }

  /** COMMIT (rolled back and rethrown if it cannot commit). */
  async commitOn(connection: AutocommitConnection): Promise<void> {
    const root = connection.transaction;
    if (!root) return;
    try {
      await drive(this.rules.commit(this.#kysely, root));
    } catch (error) {
      throw await drive(this.rules.rollback(this.#kysely, root, error));
    }
  }

  async rollbackOn(connection: AutocommitConnection): Promise<void> {
    const root = connection.transaction;
    if (!root || root.tx!.ended) return;
    await drive(this.rules.rollback(this.#kysely, root, undefined));
  }

  // --- statements ---------------------------------------------------------------------------

  /** Runs `sql` as a statement of `scope` (savepoint statements, by core or by name). */
  runStatement(scope: AsyncScope, sql: string): Promise<unknown> {
    return this.execute(scope, CompiledQuery.raw(sql));
  }

  /** Runs one statement of `scope`: usable check, typed errors, tracking, abort bookkeeping. */
  execute<R>(scope: AsyncScope, query: CompiledQuery): Promise<QueryResult<R>> {
    const tx = scope.tx!;
    try {
      scope.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.#engine.runner.execute(tx.connection, query, tx.id).catch((error: unknown) => {
      throw statementFailed(tx, error, this.#engine);
    });
    return tx.track(run) as Promise<QueryResult<R>>;
  }

  /**
   * Streams rows of `scope`'s query. Each fetch checks the scope first, so a stream abandoned
   * after its session ended never touches the connection again; the session's end closes
   * streams still open while the connection is still its own.
   */
  async *stream<R>(scope: AsyncScope, query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    const tx = scope.tx!;
    scope.assertUsable();
    const iterator = this.#engine.runner.stream(tx.connection, query, chunkSize, tx.id);
    const close = () => iterator.return?.(undefined);
    tx.streams.add(close);
    try {
      for (;;) {
        scope.assertUsable();
        const next = tx.track(iterator.next()).catch((error: unknown) => {
          throw statementFailed(tx, error, this.#engine);
        });
        const step = await next;
        if (step.done) return;
        yield step.value as QueryResult<R>;
      }
    } finally {
      if (tx.streams.delete(close) && !tx.ended) await close();
    }
  }

  /** `close()` ran out of time: every transaction still open is aborted with `error`. */
  abortAll(error: SessionFactoryError): void {
    for (const tx of this.#live) {
      this.abort(tx, error);
      this.#cutOff.get(tx)?.(error);
    }
  }

  /** A new transaction is open (until `#release`): `close()` can cut it off. */
  opened(tx: AsyncTx, cutOff?: (error: SessionFactoryError) => void): void {
    this.#live.add(tx);
    if (cutOff) this.#cutOff.set(tx, cutOff);
  }

  readonly #live = new Set<AsyncTx>();
  readonly #cutOff = new WeakMap<AsyncTx, (error: SessionFactoryError) => void>();

  /** The session whose transaction holds `connection`, if one does (leak reports name it). */
  holderOf(connection: Pooled): string | undefined {
    for (const tx of this.#live) if (tx.connection === connection && !tx.ended) return tx.id;
    return undefined;
  }

  /** The deadline passed: refuse further statements and cancel the running one on the server. */
  abort(tx: AsyncTx, error: SessionFactoryError): void {
    if (tx.ended || tx.abortReason) return;
    tx.abortReason = error;
    const { adapter, hub } = this.#engine;
    if (tx.pending.size === 0 || !adapter.capabilities.cancel || !adapter.cancel) return;
    tx.cancelling = adapter.cancel(tx.connection.resource).catch((cancelError: unknown) => {
      tx.poison('cancel failed', true);
      hub.emit('error', { phase: 'cancel', error: cancelError, sessionId: tx.id });
    });
  }

  /** Waits for statements in flight, open streams and a cancel, so the connection is ours alone again. */
  settle(tx: AsyncTx): Promise<void> | undefined {
    if (tx.pending.size === 0 && tx.cancelling === undefined && tx.streams.size === 0) return undefined;
    return (async () => {
      const closing = [...tx.streams].map((close) => Promise.resolve().then(close));
      tx.streams.clear();
      const waits = [...tx.pending, ...closing, ...(tx.cancelling ? [tx.cancelling] : [])];
      if (!(await settleWithin(Promise.allSettled(waits), SETTLE_AFTER_CANCEL_MS))) {
        tx.poison('a statement did not finish after cancellation', true);
      }
    })();
  }

  #release(tx: AsyncTx): Promise<void> | undefined {
    this.#live.delete(tx);
    const { pool } = this.#engine;
    if (tx.poisoned) return pool.invalidate(tx.connection, tx.poisoned);
    pool.release(tx.connection);
    return undefined;
  }
}

/**
 * The async side of `TransactionIo`: pooled connections, the factory's AsyncLocalStorage,
 * timer-and-signal deadlines that cancel on the server, awaited hooks.
 */
class AsyncIo implements TransactionIo<Pooled, AsyncScope['session']> {
  readonly #owner: SessionEngine;
  readonly #root: (scope: AsyncScope) => AsyncScope['session'];
  readonly #child: (scope: AsyncScope) => AsyncScope['session'];
  readonly #finish: (tx: AsyncTx) => unknown;
  readonly #connection: Pooled | undefined;

  constructor(
    owner: SessionEngine,
    root: (scope: AsyncScope) => AsyncScope['session'],
    child: (scope: AsyncScope) => AsyncScope['session'],
    finish: (tx: AsyncTx) => unknown,
    connection?: Pooled,
  ) {
    this.#owner = owner;
    this.#root = root;
    this.#child = child;
    this.#finish = finish;
    this.#connection = connection;
  }

  /** The same I/O whose `acquire` hands out `connection` (Kysely's transactions bring their own). */
  forConnection(connection: Pooled, finish: (tx: AsyncTx) => unknown): AsyncIo {
    return new AsyncIo(this.#owner, this.#root, this.#child, finish, connection);
  }

  get #engine(): EngineContext {
    return this.#owner.context;
  }

  deadline(options: SessionOptions): Deadline {
    return new Deadline(options.timeoutMs, options.signal);
  }

  acquire(deadline: DeadlineLike, begin?: BeginOptions): Pooled | Promise<Pooled> {
    if (this.#connection) return this.#connection;
    const { armed, signal } = deadline as Deadline;
    // Pool role hint: read-only transactions may run beside the writer (SQLite's one writer slot).
    return this.#engine.pool.acquire({
      signal: armed ? signal : undefined,
      role: begin?.readOnly ? 'reader' : 'writer',
    });
  }

  watch(deadline: DeadlineLike, root: AsyncScope): void {
    const tx = root.tx!;
    this.#owner.opened(tx);
    (deadline as Deadline).onExpire((error) => this.#owner.abort(tx, error));
  }

  control(tx: AsyncTx, _phase: 'begin' | 'end', statements: readonly string[]): Promise<void> {
    return this.#engine.runner.executeStatements(tx.connection, statements, tx.id);
  }

  statement(scope: AsyncScope, sql: string): Promise<unknown> {
    return this.#owner.runStatement(scope, sql);
  }

  call(scope: AsyncScope, fn: UnitFn, deadline?: DeadlineLike): unknown {
    const ambient = scope.transactional ? scope : undefined;
    const work = this.#engine.ambient.run({ scope: ambient }, () => fn(scope.session));
    return deadline ? (deadline as Deadline).race(Promise.resolve(work)) : work;
  }

  hooks(hooks: readonly (() => void | Promise<void>)[], phase: 'onCommit' | 'onRollback', sessionId: string): unknown {
    return hooks.length === 0 ? undefined : runHooks(hooks, phase, sessionId, this.#engine.hub);
  }

  settle(tx: AsyncTx): unknown {
    return this.#owner.settle(tx);
  }

  inTransaction(tx: AsyncTx): boolean | undefined {
    return tx.connection.resource.inTransaction?.();
  }

  finish(tx: AsyncTx): unknown {
    return this.#finish(tx);
  }

  lock(scope: AsyncScope): (() => void) | Promise<() => void> {
    return scope.childLock.acquire();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  scope(tx: AsyncTx, parent: AsyncScope | undefined, savepointName: string | undefined): AsyncScope {
    const id = parent ? `${tx.id}.${savepointName}` : tx.id;
    return new Scope(id, tx, parent, savepointName, true, parent ? this.#child : this.#root);
  }

  untransacted(): AsyncScope {
    return new Scope(this.#engine.nextSessionId(), undefined, undefined, undefined, false, this.#child);
  }

  endUntransacted(): undefined {
    return undefined;
  }

  newTransaction(connection: Pooled, begin: BeginOptions): AsyncTx {
    return new TransactionState(this.#engine.nextSessionId(), connection, begin);
  }
}

/**
 * Runs hooks in registration order, awaiting each. A failing hook never changes the
 * session's outcome: it is reported through the factory's `error` event.
 */
async function runHooks(
  hooks: readonly SessionHook[],
  phase: 'onCommit' | 'onRollback',
  sessionId: string | undefined,
  hub: EventHub,
): Promise<void> {
  for (const hook of hooks) {
    try {
      await hook();
    } catch (error) {
      hub.emit('error', { phase, error, sessionId });
    }
  }
}
