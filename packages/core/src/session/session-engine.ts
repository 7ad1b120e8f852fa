import { CompiledQuery, Kysely, type QueryResult, SingleConnectionProvider } from 'kysely';
import type { BeginOptions, DriverConnection } from '../adapter/adapter.js';
import { isPreludeFailure, markPreludeFailed } from '../adapter/prelude-failure.js';
import { PropagationError, SessionClosedError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import { isConnectionLost } from '../errors/to-session-factory-error.js';
import type { EventHub } from '../events/event-hub.js';
import type { PooledConnection } from '../pool/pool.js';
import { isReplicaSafe } from '../replicas/read-only-query.js';
import { isPending } from '../util/is-pending.js';
import { settleWithin } from '../util/settle-within.js';
import { AutocommitConnection } from './autocommit-connection.js';
import { type Deadline, deadlineFor } from './deadline.js';
import type { EngineContext } from './engine-context.js';
import { createKyselyProps, FactoryDriver } from './factory-driver.js';
import { liveScope, Scope } from './scope.js';
import { ManagedSessionKysely, type SessionControl, SessionKysely } from './session-kysely.js';
import { type SessionOptions, sessionDefaultsOrNone, withSessionDefaults } from './session-options.js';
import type { ManagedSession, Session, SessionHook } from './session-types.js';
import {
  type DeadlineLike,
  deferredBeginFailed,
  planPropagation,
  STALE_CONNECTION_ATTEMPTS,
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
export type SessionDefaults = Omit<SessionOptions, 'signal' | 'propagation' | 'after'>;

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
    if (!isPending(value)) {
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
  readonly #base: ReturnType<typeof createKyselyProps>;
  /** `FactoryOptions.session`; undefined when it sets nothing. */
  readonly #defaults: SessionDefaults | undefined;
  /** Sessions of `sf.session()`: the pool takes the connection back. */
  readonly #sessions: AsyncIo;
  /** `sf.begin()`: the root `tx` can commit and roll back itself. */
  readonly #managed: AsyncIo;
  /** Kysely's `transaction()`/`startTransaction()` on `sf.db`: Kysely releases the connection. */
  readonly #kysely: AsyncIo;
  /** Settles a managed session's place in `activity` (so `close()` waits for it) once it ended. */
  readonly #managedEnds = new WeakMap<AsyncScope, () => void>();
  /** Open `withRollback` transactions: while 0, `begin`/`connection` skip looking for one. */
  #testTransactions = 0;
  /** The test transaction of `rollbackEachTest`: the ambient scope where the AsyncLocalStorage has none. */
  testSlot: AsyncScope | undefined;

  constructor(engine: EngineContext, defaults: SessionDefaults, close: () => Promise<void>) {
    this.#engine = engine;
    const base = createKyselyProps(engine.adapter.kysely, new FactoryDriver(this, close), this);
    this.#base = base;
    this.#defaults = sessionDefaultsOrNone(defaults);
    this.rules = new TransactionRules(engine);
    const control: SessionControl = {
      savepoint: (scope, fn) => this.savepoint(scope as AsyncScope, fn),
      commit: (scope) => this.#endManaged(scope as AsyncScope, 'commit'),
      rollback: (scope) => this.#endManaged(scope as AsyncScope, 'rollback'),
    };
    const plain = (scope: AsyncScope) => new SessionKysely(base, scope, this, control);
    const releaseToPool = (tx: AsyncTx) => this.#release(tx);
    // Only sf.session() defers BEGIN to its first statement: sf.begin() promises BEGIN was sent
    // when it resolves, and Kysely's own transactions expect it too.
    this.#sessions = new AsyncIo(this, plain, plain, releaseToPool, true);
    this.#managed = new AsyncIo(
      this,
      (scope) => new ManagedSessionKysely(base, scope, this, control),
      plain,
      releaseToPool,
      false,
    );
    // The AutocommitConnection decides at release whether its connection is pooled or destroyed.
    this.#kysely = new AsyncIo(
      this,
      () => undefined,
      () => undefined,
      () => undefined,
      false,
    );
  }

  get context(): EngineContext {
    return this.#engine;
  }

  /** Kysely props shared by `sf.db` and every `tx`. */
  get base(): ReturnType<typeof createKyselyProps> {
    return this.#base;
  }

  /** The innermost open transactional scope of this factory, if any. */
  ambientScope(): AsyncScope | undefined {
    const store = this.#engine.ambient.getStore();
    const scope = liveScope((store === undefined ? this.testSlot : store.scope) as AsyncScope | undefined);
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
    if (plan === 'new') {
      const merged = withSessionDefaults(this.#defaults, options);
      return this.#engine.activity.track(
        drive(this.rules.newTransaction<Pooled, AsyncScope['session'], T>(this.#sessions, fn as UnitFn, merged)),
      );
    }
    const work = drive(
      this.rules.unit<Pooled, AsyncScope['session'], T>(this.#sessions, plan, joined, fn as UnitFn, options),
    );
    return plan === 'none' ? this.#engine.activity.track(work) : work;
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
    if (this.#testTransactions !== 0) {
      const outer = this.ambientScope();
      if (outer?.tx?.testTransaction) return this.#beginInTest<DB>(outer);
    }
    const merged = withSessionDefaults(this.#defaults, options);
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
    if (this.#testTransactions !== 0 && this.ambientScope()?.tx?.testTransaction) {
      // withRollback: the connection is the test's, its work a savepoint (see the README).
      return this.run(fn as unknown as (tx: Session<any>) => Promise<T>, { propagation: 'requiresNew' });
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
          // Autocommit writes of fn: read-your-writes needs the primary's position after them.
          const lost = await this.#engine.replicas?.recordAfterWrite(connection.pooled, undefined);
          if (lost) connection.poison();
          await connection.reset();
          await connection.release();
        }
      })(),
    );
  }

  // --- withRollback ---------------------------------------------------------------------------

  /** What BEGIN of a `withRollback` transaction says: the factory's isolation, read-write. */
  testBeginOptions(): BeginOptions {
    return this.rules.beginOptions({ isolation: this.#defaults?.isolation });
  }

  /** The I/O of test transactions on a connection of their own (the sync worker's). */
  readonly #testIo = new WeakMap<AsyncScope, AsyncIo>();

  /** Open `withRollback` transactions of this factory. */
  get testTransactions(): number {
    return this.#testTransactions;
  }

  /**
   * BEGIN of a `withRollback` transaction (factory isolation, no deadline). Every scope run
   * inside it becomes a savepoint (`planPropagation`); `endTestTransaction` rolls it back.
   */
  async openTestTransaction(own?: { connection: Pooled; finish(tx: AsyncTx): unknown }): Promise<AsyncScope> {
    this.#engine.assertOpen();
    const io = own
      ? this.#managed.forConnection(own.connection, (tx) => {
          this.#live.delete(tx);
          return own.finish(tx);
        })
      : this.#managed;
    const deadline = io.deadline({});
    const begin = this.testBeginOptions();
    const root = await drive(this.rules.open(io, begin, deadline));
    if (own) this.#testIo.set(root, io);
    root.tx!.testTransaction = true;
    this.#testTransactions += 1;
    this.opened(root.tx!, (error) => {
      this.abort(root.tx!, error);
    });
    return root;
  }

  /** ROLLBACK of a `withRollback` transaction; the connection goes back to the pool. */
  async endTestTransaction(root: AsyncScope): Promise<void> {
    if (root.tx!.ended) return;
    try {
      await drive(this.rules.rollback(this.#testIo.get(root) ?? this.#managed, root, undefined));
    } finally {
      this.#testTransactions -= 1;
    }
  }

  /**
   * `sf.begin()` inside `withRollback`: a savepoint of `outer` held open until the caller
   * commits (RELEASE, then its onCommit hooks) or rolls back (ROLLBACK TO).
   */
  #beginInTest<DB>(outer: AsyncScope): Promise<ManagedSession<DB>> {
    let decide!: (commit: boolean) => void;
    const decision = new Promise<boolean>((resolve) => {
      decide = resolve;
    });
    let decided: boolean | undefined;
    let ended: Promise<void> | undefined;
    const end = (commit: boolean, scope: Scope): Promise<void> => {
      if (decided === undefined) {
        decided = commit;
        decide(commit);
      } else if (commit) {
        return Promise.reject(
          new SessionClosedError(`Session ${scope.info.id} has already ended; it cannot be committed.`),
        );
      }
      return ended!;
    };
    const control: SessionControl = {
      savepoint: (scope, fn) => this.savepoint(scope as AsyncScope, fn),
      commit: (scope) => end(true, scope),
      rollback: (scope) => end(false, scope),
    };
    const managed = (scope: AsyncScope) => new ManagedSessionKysely(this.#base, scope, this, control);
    const io = new AsyncIo(this, managed, managed, () => undefined, false);
    return new Promise<ManagedSession<DB>>((resolve, reject) => {
      const rolledBack = Symbol('rolled back');
      const work = async (tx: ManagedSession<DB>) => {
        resolve(tx);
        if (!(await decision)) throw rolledBack;
      };
      ended = drive(this.rules.savepoint<Pooled, AsyncScope['session'], void>(io, outer, work, undefined, true)).catch(
        (error: unknown) => {
          if (error !== rolledBack) throw error;
        },
      );
      ended.catch(reject);
    });
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
    if (this.#engine.replicas !== undefined && !tx.wrote) tx.wrote = !isReplicaSafe(query);
    try {
      scope.assertUsable();
    } catch (error) {
      return Promise.reject(error);
    }
    const run = (
      tx.deferredBegin !== undefined
        ? this.#beginWith(scope, query)
        : tx.beginning !== undefined
          ? this.#afterBegin(scope, () => this.#engine.runner.execute(tx.connection, query, tx.id))
          : this.#engine.runner.execute(tx.connection, query, tx.id)
    ).then(
      (result) => {
        tx.pending.delete(run);
        return result;
      },
      (error: unknown) => {
        tx.pending.delete(run);
        throw statementFailed(tx, error, this.#engine);
      },
    );
    // Tracked so a timeout can wait for it (untracked in the same step that settles it).
    tx.pending.add(run);
    return run as Promise<QueryResult<R>>;
  }

  /**
   * Sends the deferred BEGIN with `query` in one round trip. If BEGIN itself failed, the
   * transaction may never have started: the connection is written off (no ROLLBACK; closing
   * it ends whatever is open) and the session can run nothing more, so no later statement
   * slips out in autocommit.
   */
  #beginWith(scope: AsyncScope, query: CompiledQuery): Promise<QueryResult<unknown>> {
    return this.#whileBeginning(scope.tx!, this.#sendWithBegin(scope, query, 1));
  }

  /** `sending` (BEGIN, alone or with a statement) is `tx.beginning` until it settles: the session's other statements wait for it. */
  #whileBeginning<T>(tx: AsyncTx, sending: Promise<T>): Promise<T> {
    const run = sending.then(
      (result) => {
        tx.beginning = undefined;
        return result;
      },
      (error: unknown) => {
        tx.beginning = undefined;
        throw error;
      },
    );
    tx.beginning = run;
    return run;
  }

  /**
   * The deferred BEGIN and `query` in one round trip. A connection found dead here had run
   * nothing of the session (no COMMIT was ever sent on it), so it is replaced and both are
   * sent again, as the rules replace a connection whose own BEGIN found it dead.
   */
  async #sendWithBegin(scope: AsyncScope, query: CompiledQuery, attempt: number): Promise<QueryResult<unknown>> {
    const tx = scope.tx!;
    const prelude = tx.deferredBegin!;
    tx.deferredBegin = undefined;
    const { adapter, runner } = this.#engine;
    try {
      // Where the server runs the statement even after a failed BEGIN (MySQL), it would run in
      // autocommit: only a plain read rides along; anything else waits for BEGIN on its own.
      if (tx.connection.resource.preludeFailureRunsQuery === true && !isReplicaSafe(query)) {
        await runner.executeStatements(tx.connection, prelude, tx.id).catch((error: unknown) => {
          throw markPreludeFailed(error);
        });
        return await runner.execute(tx.connection, query, tx.id);
      }
      return await runner.executeAfter(tx.connection, prelude, query, tx.id);
    } catch (error) {
      const lost = isConnectionLost(error, adapter);
      if (lost && attempt < STALE_CONNECTION_ATTEMPTS && tx.deadline && !tx.abortReason && !tx.ended) {
        const dead = tx.connection;
        // Its slot frees at once (the close itself may take a while): the replacement never waits for it.
        this.#poolOf(dead).invalidate(dead, 'BEGIN found the connection dead').catch(noop);
        // Only sf.session() defers BEGIN, so its I/O checks the replacement out.
        tx.connection = await this.#sessions.acquire(tx.deadline as Deadline, tx.begin);
        tx.deferredBegin = prelude;
        return this.#sendWithBegin(scope, query, attempt + 1);
      }
      if (isPreludeFailure(error) || lost) deferredBeginFailed(tx, error, this.#engine);
      throw error;
    }
  }

  /** Runs `next` once the statement carrying BEGIN settled (statements of one session never overtake it). */
  #afterBegin<T>(scope: AsyncScope, next: () => Promise<T>): Promise<T> {
    return scope.tx!.beginning!.then(noop, noop).then(() => {
      scope.assertUsable();
      return next();
    });
  }

  /**
   * A session's COMMIT/ROLLBACK/afterEnd statements: nothing at all when BEGIN never went out,
   * and only after the statement carrying BEGIN settled (a failed BEGIN sends no COMMIT).
   */
  endStatements(tx: AsyncTx, statements: readonly string[]): Promise<unknown> | undefined {
    if (tx.deferredBegin !== undefined) return undefined;
    const send = () => {
      if (tx.poisoned && tx.abortReason) throw tx.abortReason;
      return this.#engine.runner.executeStatements(tx.connection, statements, tx.id);
    };
    return tx.beginning === undefined ? send() : tx.beginning.then(noop, noop).then(send);
  }

  /**
   * Sends a deferred BEGIN on its own (before a stream, which cannot carry it). Statements
   * issued meanwhile wait for it, as for a BEGIN carried by a statement: a driver would queue
   * them behind it, and after a failed BEGIN they would run in autocommit.
   */
  async #flushBegin(scope: AsyncScope): Promise<void> {
    const tx = scope.tx!;
    if (tx.beginning !== undefined) await tx.beginning.then(noop, noop);
    const prelude = tx.deferredBegin;
    if (prelude === undefined) return scope.assertUsable();
    tx.deferredBegin = undefined;
    const sending = this.#engine.runner.executeStatements(tx.connection, prelude, tx.id).catch((error: unknown) => {
      deferredBeginFailed(tx, error, this.#engine);
      throw error;
    });
    await this.#whileBeginning(tx, sending);
  }

  /**
   * Streams rows of `scope`'s query. Each fetch checks the scope first, so a stream abandoned
   * after its session ended never touches the connection again; the session's end closes
   * streams still open while the connection is still its own.
   */
  async *stream<R>(scope: AsyncScope, query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    const tx = scope.tx!;
    if (this.#engine.replicas !== undefined && !tx.wrote) tx.wrote = !isReplicaSafe(query);
    scope.assertUsable();
    if (tx.deferredBegin !== undefined || tx.beginning !== undefined) await this.#flushBegin(scope);
    const iterator = this.#engine.runner.stream(tx.connection, query, chunkSize, tx.id);
    const close = () => iterator.return?.(undefined);
    (tx.streams ??= new Set()).add(close);
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
      if (tx.streams?.delete(close) && !tx.ended) await close();
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
    const { hub, replicas } = this.#engine;
    const adapter = replicas === undefined ? this.#engine.adapter : replicas.adapterOf(tx.connection);
    if (tx.pending.size === 0 || !adapter.capabilities.cancel || !adapter.cancel) return;
    tx.cancelling = adapter.cancel(tx.connection.resource).catch((cancelError: unknown) => {
      tx.poison('cancel failed', true);
      hub.emit('error', { phase: 'cancel', error: cancelError, sessionId: tx.id });
    });
  }

  /** Waits for statements in flight, open streams and a cancel, so the connection is ours alone again. */
  settle(tx: AsyncTx): Promise<void> | undefined {
    const streams = tx.streams;
    if (tx.pending.size === 0 && tx.cancelling === undefined && (streams === undefined || streams.size === 0)) {
      return undefined;
    }
    return (async () => {
      const closing = streams === undefined ? [] : [...streams].map((close) => Promise.resolve().then(close));
      streams?.clear();
      const waits = [...tx.pending, ...closing, ...(tx.cancelling ? [tx.cancelling] : [])];
      if (!(await settleWithin(Promise.allSettled(waits), SETTLE_AFTER_CANCEL_MS))) {
        tx.poison('a statement did not finish after cancellation', true);
      }
    })();
  }

  /** After a write committed on the primary: its replication position, for read-your-writes. */
  recordWrite(tx: AsyncTx): Promise<void> | undefined {
    if (!tx.wrote || tx.begin.readOnly || tx.server !== 'primary') return undefined;
    return this.#engine.replicas!.recordAfterWrite(tx.connection, tx.id).then((lost) => {
      if (lost) tx.poison('connection lost while reading the replication position', true);
    });
  }

  /** The pool a connection came from: the primary's, or a replica's. */
  #poolOf(connection: Pooled) {
    const { replicas } = this.#engine;
    return replicas === undefined ? this.#engine.pool : replicas.poolOf(connection);
  }

  #release(tx: AsyncTx): Promise<void> | undefined {
    this.#live.delete(tx);
    const pool = this.#poolOf(tx.connection);
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
  /** BEGIN may wait for the session's first statement and travel with it (one round trip less). */
  readonly #deferBegin: boolean;
  readonly committed: ((tx: AsyncTx) => unknown) | undefined;

  constructor(
    owner: SessionEngine,
    root: (scope: AsyncScope) => AsyncScope['session'],
    child: (scope: AsyncScope) => AsyncScope['session'],
    finish: (tx: AsyncTx) => unknown,
    deferBegin: boolean,
    connection?: Pooled,
  ) {
    this.#owner = owner;
    this.#root = root;
    this.#child = child;
    this.#finish = finish;
    // With replicas, where a session runs (`tx.info.server`) is settled by a BEGIN up front.
    this.#deferBegin = deferBegin && owner.context.replicas === undefined;
    this.#connection = connection;
    this.committed = owner.context.replicas === undefined ? undefined : (tx) => owner.recordWrite(tx);
  }

  /** The same I/O whose `acquire` hands out `connection` (Kysely's transactions bring their own). */
  forConnection(connection: Pooled, finish: (tx: AsyncTx) => unknown): AsyncIo {
    return new AsyncIo(this.#owner, this.#root, this.#child, finish, this.#deferBegin, connection);
  }

  get #engine(): EngineContext {
    return this.#owner.context;
  }

  deadline(options: SessionOptions): Deadline {
    return deadlineFor(options.timeoutMs, options.signal);
  }

  acquire(deadline: DeadlineLike, begin?: BeginOptions): Pooled | Promise<Pooled> {
    if (this.#connection) return this.#connection;
    const { armed, signal } = deadline as Deadline;
    const replicas = this.#engine.replicas;
    if (replicas !== undefined) {
      // Read-only sessions go to a replica that has the writes they must see; the rest to the primary.
      const abort = armed ? signal : undefined;
      return begin?.readOnly ? replicas.acquireRead(begin.after, abort) : replicas.acquirePrimary(abort);
    }
    // Pool role hint: read-only transactions may run beside the writer (SQLite's one writer slot).
    return this.#engine.pool.acquire({
      signal: armed ? signal : undefined,
      role: begin?.readOnly ? 'reader' : 'writer',
    });
  }

  watch(deadline: DeadlineLike, root: AsyncScope): void {
    const tx = root.tx!;
    this.#owner.opened(tx);
    if (tx.deferredBegin !== undefined) tx.deadline = deadline;
    if ((deadline as Deadline).armed) (deadline as Deadline).onExpire((error) => this.#owner.abort(tx, error));
  }

  control(tx: AsyncTx, phase: 'begin' | 'end', statements: readonly string[]): Promise<unknown> | undefined {
    const { runner } = this.#engine;
    if (phase === 'end') return this.#owner.endStatements(tx, statements);
    // Deferred only on a connection that just proved itself: BEGIN on one that may have died
    // while idle goes out alone, so the rules can still replace a dead connection unseen.
    const resource = tx.connection.resource;
    if (this.#deferBegin && resource.executeAfter !== undefined && runner.provenAlive(resource)) {
      tx.deferredBegin = statements;
      return undefined;
    }
    return runner.executeStatements(tx.connection, statements, tx.id);
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
    // BEGIN not sent yet (or in flight): the driver cannot know what the server will say.
    if (tx.deferredBegin !== undefined || tx.beginning !== undefined) return undefined;
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
    const tx = new TransactionState(this.#engine.nextSessionId(), connection, begin);
    const replicas = this.#engine.replicas;
    if (replicas !== undefined) tx.server = replicas.serverOf(connection);
    return tx;
  }
}

function noop(): void {}

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
