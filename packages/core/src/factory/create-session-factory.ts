import { AsyncLocalStorage } from 'node:async_hooks';
import { type Compilable, type Kysely, Kysely as KyselyClass } from 'kysely';
import type { Adapter, AdapterCapabilities, DriverConnection } from '../adapter/adapter.js';
import {
  ConfigurationError,
  FactoryClosedError,
  PoolTimeoutError,
  PropagationError,
  UnsupportedFeatureError,
} from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';
import { toSessionFactoryError } from '../errors/to-session-factory-error.js';
import { EventHub } from '../events/event-hub.js';
import type { FactoryEvents } from '../events/event-types.js';
import { Pool, type PooledConnection } from '../pool/pool.js';
import type { PoolStats } from '../pool/pool-options.js';
import { type ParamFn, PreparedQuery } from '../prepare/prepared-query.js';
import { runCompiled } from '../prepare/run-compiled.js';
import { ReplicaSet } from '../replicas/replica-set.js';
import { Activity } from '../session/activity.js';
import type { AmbientContext, EngineContext } from '../session/engine-context.js';
import { QueryRunner } from '../session/query-runner.js';
import { SessionEngine } from '../session/session-engine.js';
import type { SessionInfo, SessionOptions } from '../session/session-options.js';
import type { ManagedSession, Session, SyncSession } from '../session/session-types.js';
import type { TransactionState } from '../session/transaction-state.js';
import { BorrowedSyncConnection } from '../sync/borrowed-sync-connection.js';
import { createCompileOnlyKysely } from '../sync/compile-only-kysely.js';
import { NativeSyncConnection } from '../sync/native-sync-connection.js';
import type { SyncConnection } from '../sync/sync-connection.js';
import { type SyncScope, SyncSessionEngine } from '../sync/sync-session-engine.js';
import { WorkerBridge } from '../sync/worker-bridge.js';
import { WorkerTestConnection } from '../sync/worker-test-connection.js';
import { FactoryTelemetry } from '../telemetry/factory-telemetry.js';
import { settleWithin } from '../util/settle-within.js';
import type { FactoryOptions } from './factory-options.js';
import {
  checkSessionOptions,
  closeOptionsProblem,
  type ResolvedFactoryOptions,
  resolveFactoryOptions,
} from './resolve-factory-options.js';
import { ROLLBACK_SUPPORT, type RollbackSupport, type TestTransaction } from './rollback-support.js';
import type { PingResult, SessionFactory } from './session-factory.js';

/** After cutting sessions off, how long `close()` waits for them to settle before destroying connections anyway. */
const CLOSE_ABORT_GRACE_MS = 1_000;

/** How long `close()` waits for sessions in flight when no deadline is given. */
const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;

/**
 * Creates a session factory over an adapter. Synchronous and lazy: no connection is opened
 * until the first session (use `openSessionFactory` to connect and ping up front).
 *
 * @example
 * ```ts
 * import { createSessionFactory } from '@sessionfactory/core'
 * import { sqlite } from '@sessionfactory/sqlite'
 *
 * const sf = createSessionFactory<DB>(sqlite('app.db'), { pool: { timeoutMs: 5000 } })
 * const total = await sf.session(async (tx) => {
 *   await tx.insertInto('account').values({ id: 1, balance: 100 }).execute()
 *   return tx.selectFrom('account').select((eb) => eb.fn.sum('balance').as('total')).executeTakeFirst()
 * })
 * await sf.close()
 * ```
 */
export function createSessionFactory<DB>(adapter: Adapter, options?: FactoryOptions): SessionFactory<DB> {
  if (!adapter || typeof adapter.connect !== 'function' || !adapter.sql || !adapter.capabilities) {
    throw new ConfigurationError(
      'createSessionFactory(adapter): the first argument is not an adapter. Pass postgres(url), mysql(url) or sqlite(file) from an adapter package.',
    );
  }
  checkCapabilities(adapter);
  return new SessionFactoryImpl<DB>(adapter, resolveFactoryOptions(adapter, options));
}

class SessionFactoryImpl<DB> implements SessionFactory<DB> {
  readonly db: Kysely<DB>;
  readonly #adapter: Adapter;
  readonly #options: ResolvedFactoryOptions;
  readonly #hub = new EventHub();
  readonly #pool: Pool<DriverConnection>;
  readonly #engine: EngineContext;
  readonly #sessions: SessionEngine;
  readonly #sync: SyncSessionEngine;
  readonly #replicas: ReplicaSet | undefined;
  #bridge: WorkerBridge | undefined;
  /** Builds `prepare`'s queries (created on first use). */
  #compileOnly: Kysely<DB> | undefined;
  #closing: Promise<void> | undefined;
  #sessionCounter = 0;
  /** For `withRollback` (`@sessionfactory/core/testing`). */
  readonly [ROLLBACK_SUPPORT]: RollbackSupport = {
    open: (slot, sync) => this.#openTestTransaction(slot, sync),
  };
  /** Undefined unless a tracer or meter is configured or registered: the uninstrumented path checks only this. */
  readonly #telemetry: FactoryTelemetry | undefined;

  constructor(adapter: Adapter, options: ResolvedFactoryOptions) {
    this.#adapter = adapter;
    this.#options = options;
    const hub = this.#hub;
    this.#pool = new Pool<DriverConnection>(
      {
        create: async () => {
          try {
            return await adapter.connect();
          } catch (error) {
            throw toSessionFactoryError(error, adapter);
          }
        },
        ...(adapter.connectSync ? { createSync: () => adapter.connectSync!() } : {}),
        destroy: (connection) => connection.close(),
        ping: (connection) => connection.ping(),
        shouldPing: (connection) => !this.#engine.runner.provenAlive(connection),
        isBroken: (connection) => connection.broken === true,
        holderOf: (connection) => this.#sessions.holderOf(connection),
      },
      options.pool,
      {
        connect: (connectionId) => hub.emit('connect', { connectionId }),
        checkout: (connectionId) => hub.has('checkout') && hub.emit('checkout', { connectionId }),
        checkin: (connectionId) => hub.has('checkin') && hub.emit('checkin', { connectionId }),
        invalidate: (connectionId, reason) => hub.emit('invalidate', { connectionId, reason }),
        leak: ({ connectionId, holder, heldMs, stack }) =>
          hub.emit('leak', { connectionId, sessionId: holder, heldMs, stack }),
        ...(options.telemetry?.meter === undefined
          ? {}
          : { acquired: (waitedMs: number) => this.#telemetry?.recordWait(waitedMs) }),
        error: (error, phase) => hub.emit('error', { phase: `pool.${phase}`, error }),
      },
      adapter.description,
    );
    const runner = new QueryRunner(adapter, hub, options.echo, options.logParameters);
    this.#replicas =
      options.replicas.length === 0
        ? undefined
        : new ReplicaSet(
            {
              adapter,
              primary: this.#pool,
              hub,
              runner,
              pool: options.pool,
              waitMs: options.replicaWaitMs,
              maxLagMs: options.maxReplicaLagMs,
            },
            options.replicas,
          );
    this.#engine = {
      adapter,
      pool: this.#pool,
      hub,
      runner,
      replicas: this.#replicas,
      ambient: new AsyncLocalStorage<AmbientContext>(),
      activity: new Activity(),
      isClosed: () => this.#closing !== undefined,
      assertOpen: () => {
        if (this.#closing !== undefined) {
          throw new FactoryClosedError(
            'The session factory is closed: it accepts no new sessions or queries. Create a new factory.',
          );
        }
      },
      nextSessionId:
        options.telemetry === undefined
          ? () => `s${++this.#sessionCounter}`
          : () => {
              const id = `s${++this.#sessionCounter}`;
              this.#telemetry?.sessionIdIssued(id);
              return id;
            },
    };
    this.#sessions = new SessionEngine(this.#engine, options.session, () => this.close());
    this.db = new KyselyClass<DB>(this.#sessions.base);
    this.#telemetry =
      options.telemetry === undefined
        ? undefined
        : new FactoryTelemetry(options.telemetry, {
            adapter,
            hub,
            ambientScope: () => this.#sessions.ambientScope(),
            syncAmbientScope: () => this.#sync.ambientScope(),
            ambientStore: () => this.#engine.ambient.getStore(),
            stats: () => this.stats(),
            poolSize: options.pool,
            sessionDefaults: options.session,
          });
    this.#sync = new SyncSessionEngine(
      this.#engine,
      this.#sessions.rules,
      createCompileOnlyKysely(adapter.kysely),
      (readOnly) => this.#acquireSync(readOnly),
      options.session,
    );
  }

  get dialect(): string {
    return this.#adapter.dialect;
  }

  get capabilities(): AdapterCapabilities {
    return this.#adapter.capabilities;
  }

  get description(): string {
    return this.#adapter.description;
  }

  get isClosed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK and rethrow when it throws.
   *
   * @example
   * ```ts
   * await sf.session(async (tx) => {
   *   await tx.updateTable('account').set({ balance: 0 }).where('id', '=', 1).execute()
   * }, { isolation: 'serializable', retry: 3 })
   * ```
   */
  session<T>(fn: (tx: Session<DB>) => Promise<T>, options?: SessionOptions): Promise<T> {
    if (typeof fn !== 'function')
      return Promise.reject(new TypeError('sf.session(fn): fn must be a function (tx) => Promise'));
    try {
      checkSessionOptions(options, 'session');
    } catch (error) {
      return Promise.reject(error);
    }
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return this.#sessions.run(fn as (tx: Session<any>) => Promise<T>, options);
    return telemetry.session(options, () => this.#sessions.run(fn as (tx: Session<any>) => Promise<T>, options));
  }

  /**
   * Opens a transaction and resolves once BEGIN was sent.
   *
   * @example
   * ```ts
   * await using s = await sf.begin({ isolation: 'repeatable read' })
   * await s.insertInto('account').values(row).execute()
   * await s.commit() // without it, leaving the block rolls back
   * ```
   */
  begin(options?: Omit<SessionOptions, 'retry'>): Promise<ManagedSession<DB>> {
    try {
      checkSessionOptions(options, 'begin');
    } catch (error) {
      return Promise.reject(error);
    }
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return this.#sessions.begin<DB>(options);
    return telemetry.begin(options, () => this.#sessions.begin<DB>(options));
  }

  /**
   * Runs `fn` with a Kysely pinned to one pooled connection in autocommit mode (SET, advisory
   * locks, temporary tables, DDL). A transaction left open by `fn` is rolled back before
   * the connection returns to the pool.
   *
   * @example
   * ```ts
   * await sf.connection(async (db) => {
   *   await sql`select pg_advisory_lock(42)`.execute(db)
   *   try { await work(db) } finally { await sql`select pg_advisory_unlock(42)`.execute(db) }
   * })
   * ```
   */
  connection<T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    return this.#sessions.connection(fn);
  }

  /**
   * Runs `fn` as a synchronous unit of work.
   *
   * @example
   * ```ts
   * const count = sf.syncSession((tx) => {
   *   tx.run(tx.db.insertInto('account').values({ id: 3, balance: 0 }))
   *   return tx.get(tx.db.selectFrom('account').select((eb) => eb.fn.countAll().as('n')))
   * })
   * ```
   */
  syncSession<T>(fn: (tx: SyncSession<DB>) => T, options?: Omit<SessionOptions, 'signal' | 'retry'>): T {
    if (typeof fn !== 'function') throw new TypeError('sf.syncSession(fn): fn must be a function (tx) => value');
    checkSessionOptions(options, 'syncSession');
    const telemetry = this.#telemetry;
    if (telemetry === undefined) return this.#sync.run(fn as (tx: SyncSession<any>) => T, options);
    return telemetry.syncSession(options, () => this.#sync.run(fn as (tx: SyncSession<any>) => T, options));
  }

  /**
   * Compiles a query once, with named parameters, and runs it many times without building or
   * compiling it again (prepare API; see `PreparedQuery`).
   *
   * @example
   * ```ts
   * const byId = sf.prepare<{ id: number }>((db, param) =>
   *   db.selectFrom('account').selectAll().where('id', '=', param('id')))
   * const account = await byId.executeTakeFirst({ id: 1 })
   * ```
   */
  prepare<P = Record<string, never>, O = unknown>(
    build: (db: Kysely<DB>, param: ParamFn<P>) => Compilable<O>,
  ): PreparedQuery<P, O> {
    this.#compileOnly ??= createCompileOnlyKysely<DB>(this.#adapter.kysely);
    return new PreparedQuery<P, O>(this.#compileOnly, build, (query) => runCompiled(this.#sessions, query));
  }

  /**
   * The ambient session of this factory, if any.
   *
   * @example
   * ```ts
   * await sf.session(async () => { sf.current()?.id }) // 's1'
   * ```
   */
  current(): SessionInfo | undefined {
    const scope = this.#sessions.ambientScope();
    // withRollback's own transaction is not a session of the application's.
    if (scope?.tx?.testTransaction && scope.parent === undefined) return undefined;
    return scope?.info;
  }

  /**
   * The position of the last write committed through this factory, as a string (a Postgres WAL
   * LSN, a MariaDB GTID set), or undefined before the first write or without `replicas`. Hand it
   * to another process (a cookie, a header) whose read-only session passes it as `after`, and
   * that read sees the write even when it runs on a replica.
   *
   * @example
   * ```ts
   * await sf.session((tx) => tx.insertInto('post').values(post).execute())
   * res.cookie('sfToken', sf.consistencyToken() ?? '')
   * ```
   */
  consistencyToken(): string | undefined {
    return this.#replicas?.position;
  }

  /**
   * Checks out a connection, pings it and reports latency and server version.
   *
   * @example
   * ```ts
   * const { latencyMs, serverVersion } = await sf.ping()
   * ```
   */
  async ping(): Promise<PingResult> {
    this.#engine.assertOpen();
    const pooled = await this.#pool.acquire({ role: 'reader' }); // a ping never waits for the writer slot
    let ok = false;
    try {
      const started = performance.now();
      await pooled.resource.ping();
      const latencyMs = performance.now() - started;
      const serverVersion = await pooled.resource.serverVersion();
      ok = true;
      return { latencyMs, serverVersion };
    } catch (error) {
      throw toSessionFactoryError(error, this.#adapter);
    } finally {
      if (ok) this.#pool.release(pooled);
      else await this.#pool.invalidate(pooled, 'ping failed');
    }
  }

  /**
   * Pool gauges and counters (worker connections of sync scopes included).
   *
   * @example
   * ```ts
   * const { open, inUse, waiting, timeouts } = sf.stats()
   * ```
   */
  stats(): PoolStats {
    const s = this.#pool.stats();
    const worker = this.#bridge?.stats() ?? { open: 0, inUse: 0 };
    return {
      open: s.open + worker.open,
      idle: s.idle + (worker.open - worker.inUse),
      inUse: s.inUse + worker.inUse,
      waiting: s.waiting,
      created: s.created,
      destroyed: s.destroyed,
      timeouts: s.timeouts,
      recycled: s.recycled,
      invalidated: s.invalidated,
    };
  }

  /**
   * Subscribes to an event; returns a function that unsubscribes.
   *
   * @example
   * ```ts
   * const off = sf.on('error', ({ phase, error }) => log.warn({ phase, error }))
   * ```
   */
  on<E extends keyof FactoryEvents>(event: E, listener: (payload: FactoryEvents[E]) => void): () => void {
    return this.#hub.on(event, listener);
  }

  /**
   * Removes a listener added with `on`.
   *
   * @example
   * ```ts
   * sf.off('query', logQuery)
   * ```
   */
  off<E extends keyof FactoryEvents>(event: E, listener: (payload: FactoryEvents[E]) => void): void {
    this.#hub.off(event, listener);
  }

  /**
   * Refuses new sessions, waits for those in flight (up to `timeoutMs`, default 30 s), then
   * closes every connection and the sync worker. Idempotent: later calls return the same promise.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => sf.close({ timeoutMs: 10_000 }))
   * ```
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    const problem = this.#closing ? undefined : closeOptionsProblem(options);
    if (problem) return Promise.reject(problem);
    this.#closing ??= this.#drainAndClose(options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #drainAndClose(timeoutMs: number): Promise<void> {
    const idle = this.#engine.activity.whenIdle();
    if (!(await settleWithin(idle, timeoutMs))) {
      // Sessions still running are cut off: their statements are cancelled on the server
      // (destroying a socket alone leaves them running there) and they fail with
      // FactoryClosedError; close() resolves once they settled (or the grace ran out).
      this.#sessions.abortAll(
        new FactoryClosedError(
          `The session factory was closed while this session was still running (close timeoutMs ${timeoutMs} ms): it was rolled back.`,
        ),
      );
      await settleWithin(idle, CLOSE_ABORT_GRACE_MS);
    }
    const closing = this.#pool.close();
    await this.#pool.destroyAll();
    await closing;
    await this.#bridge?.close();
    await this.#replicas?.close();
    this.#telemetry?.close();
    try {
      await this.#adapter.close?.();
    } catch (error) {
      this.#hub.emit('error', { phase: 'close', error });
    }
  }

  async #openTestTransaction(slot: boolean, sync: boolean): Promise<TestTransaction> {
    const sessions = this.#sessions;
    const held = sessions.testSlot;
    if (slot && held?.live) {
      throw new PropagationError(
        `rollbackEachTest: test transaction ${held.info.id} of this factory is still open. Call rollback() (afterEach) before the next begin(); for tests that run concurrently use withRollback(sf, fn).`,
      );
    }
    const root = await sessions.openTestTransaction(sync ? this.#workerTestConnection() : undefined);
    if (slot) sessions.testSlot = root;
    this.#sync.outerTestScope ??= () => this.#syncTestScope();
    let settle!: () => void;
    void this.#engine.activity.track(
      new Promise<void>((resolve) => {
        settle = resolve;
      }),
    );
    let ending: Promise<void> | undefined;
    return {
      run: (fn) => this.#engine.ambient.run({ scope: root }, fn),
      rollback: () => {
        ending ??= (async () => {
          if (sessions.testSlot === root) sessions.testSlot = undefined;
          try {
            await sessions.endTestTransaction(root);
          } finally {
            if (sessions.testTransactions === 0) this.#sync.outerTestScope = undefined;
            settle();
          }
        })();
        return ending;
      },
    };
  }

  /**
   * `withRollback(sf, fn, { sync: true })` on a worker adapter: the test's transaction on a
   * sync worker connection, so sync sessions can join it (undefined where sync is native).
   */
  #workerTestConnection():
    | { connection: PooledConnection<DriverConnection>; finish(tx: TransactionState<unknown>): void }
    | undefined {
    if (this.#adapter.capabilities.sync !== 'worker') return undefined;
    const bridged = this.#acquireSync(false);
    const resource = new WorkerTestConnection(
      bridged,
      this.#adapter.sql.begin(this.#sessions.testBeginOptions()),
      this.#adapter.sql.rollback,
    );
    return {
      connection: { id: bridged.connectionId ?? 0, resource, createdAt: Date.now() },
      finish: (tx) => (tx.poisoned ? bridged.destroy() : resource.release()),
    };
  }

  /** A sync session started inside `withRollback` runs on the test transaction's connection. */
  #syncTestScope(): SyncScope | undefined {
    const outer = this.#sessions.ambientScope();
    if (!outer?.tx?.testTransaction) return undefined;
    const tx = outer.tx;
    const { resource } = tx.connection;
    if (resource instanceof WorkerTestConnection) {
      return this.#sync.scopeInTestTransaction(resource.borrowed(), tx.begin);
    }
    if (this.#adapter.capabilities.sync !== 'native') {
      throw new UnsupportedFeatureError(
        `sf.syncSession() inside withRollback needs withRollback(sf, fn, { sync: true }) on the ${this.#adapter.dialect} adapter: its sync sessions run on the worker thread's own connections, which cannot join a test transaction opened on the main thread, so their writes would survive the rollback. With { sync: true } the test's transaction lives on a worker connection and every statement of the scope runs there.`,
      );
    }
    if (tx.pending.size > 0) {
      throw new PropagationError(
        `sf.syncSession() inside withRollback started while a statement of test transaction ${tx.id} is still running on the same connection: await it first.`,
      );
    }
    return this.#sync.scopeInTestTransaction(new BorrowedSyncConnection(this.#pool, tx), tx.begin);
  }

  #acquireSync(readOnly: boolean): SyncConnection {
    const mode = this.#adapter.capabilities.sync;
    if (mode === 'native') {
      const pooled = this.#pool.tryAcquireSync({ role: readOnly ? 'reader' : 'writer' });
      if (pooled) return new NativeSyncConnection(this.#pool, pooled);
      const { size, maxOverflow } = this.#options.pool;
      throw new PoolTimeoutError(
        `syncSession needs a free connection right now, but all ${size + maxOverflow} of ${redactPassword(this.#adapter.description)} are in use (pool size ${size}, maxOverflow ${maxOverflow}). A sync session cannot wait: waiting would block the event loop the async sessions need to finish. Run sync sessions outside async ones, or raise pool.size.`,
      );
    }
    if (mode === 'worker' && this.#adapter.workerSpec) {
      this.#bridge ??= new WorkerBridge(this.#adapter.workerSpec, this.#options.sync);
      return this.#bridge.acquire();
    }
    throw new UnsupportedFeatureError(`The ${this.#adapter.dialect} adapter does not support sync sessions.`);
  }
}

/**
 * An adapter's capabilities must be backed by its methods: a claim without the method would
 * fail only when a session first needs it, far from the cause.
 */
function checkCapabilities(adapter: Adapter): void {
  const { capabilities: c, sql } = adapter;
  const gaps: string[] = [];
  if (c.sync === 'native' && typeof adapter.connectSync !== 'function')
    gaps.push("sync: 'native' without connectSync()");
  if (c.sync === 'worker' && !adapter.workerSpec) gaps.push("sync: 'worker' without workerSpec");
  if (c.cancel && typeof adapter.cancel !== 'function') gaps.push('cancel: true without cancel()');
  if (c.savepoints && (typeof sql.savepoint !== 'function' || typeof sql.rollbackToSavepoint !== 'function')) {
    gaps.push('savepoints: true without sql.savepoint() and sql.rollbackToSavepoint()');
  }
  if (typeof sql.begin !== 'function' || typeof sql.commit !== 'string' || typeof sql.rollback !== 'string') {
    gaps.push('sql.begin(), sql.commit and sql.rollback are required');
  }
  if (typeof adapter.classifyError !== 'function') gaps.push('classifyError() is required');
  if (gaps.length > 0) {
    throw new ConfigurationError(
      `The ${String(adapter.dialect)} adapter declares what it cannot do: ${gaps.join('; ')}. Fix the adapter's capabilities or add the methods.`,
    );
  }
}
