import { CompiledQuery, Kysely, type KyselyProps, SingleConnectionProvider } from 'kysely';
import {
  PropagationError,
  SessionClosedError,
  UnexpectedRollbackError,
  UnsupportedFeatureError,
} from '../errors/error-classes.js';
import { SessionFactoryError } from '../errors/session-factory-error.js';
import { assertJoinable } from './assert-joinable.js';
import { attachSuppressed } from './attach-suppressed.js';
import { AutocommitConnection } from './autocommit-connection.js';
import { Deadline } from './deadline.js';
import type { EngineContext } from './engine-context.js';
import { ManagedSessionKysely } from './managed-session.js';
import { backoffDelay, resolveRetryPolicy } from './retry-policy.js';
import { runHooks } from './run-hooks.js';
import type { Scope } from './scope.js';
import { PROPAGATIONS, type SessionOptions } from './session-options.js';
import type { ManagedSession, Session } from './session-types.js';
import { connectionProvider, TransactionLifecycle } from './transaction-lifecycle.js';

type SessionFn<T> = (tx: Session<any>) => Promise<T>;

/** Session defaults from `FactoryOptions.session`. */
export type SessionDefaults = Omit<SessionOptions, 'signal' | 'propagation'>;

/**
 * The unit-of-work algorithm: propagation, new transactions with deadline and retry,
 * savepoints, joined scopes, scopes without a transaction, managed sessions, and the
 * count of sessions in flight that `close()` drains.
 */
export class SessionEngine {
  readonly lifecycle: TransactionLifecycle;
  readonly #engine: EngineContext;
  readonly #base: KyselyProps;
  readonly #defaults: SessionDefaults;

  constructor(engine: EngineContext, base: KyselyProps, defaults: SessionDefaults) {
    this.#engine = engine;
    this.#base = base;
    this.#defaults = defaults;
    this.lifecycle = new TransactionLifecycle(engine, base, (scope, fn) => this.savepoint(scope, fn));
  }

  /** Joining or nesting into an open session stays allowed while `close()` drains it. */
  async run<T>(fn: SessionFn<T>, options: SessionOptions = {}): Promise<T> {
    const propagation = options.propagation ?? 'required';
    if (!PROPAGATIONS.includes(propagation)) {
      throw new PropagationError(
        `Unknown propagation ${JSON.stringify(propagation)}; use one of: ${PROPAGATIONS.join(', ')}.`,
      );
    }
    const ambient = this.#engine.ambient.getStore()?.scope;
    const joined = ambient?.tx ? ambient : undefined;
    switch (propagation) {
      case 'required':
        return joined ? this.#join(joined, fn, options, propagation) : this.#track(this.#runNew(fn, options));
      case 'requiresNew':
        return this.#track(this.#runNew(fn, options));
      case 'nested':
        if (!joined) return this.#track(this.#runNew(fn, options));
        this.#assertJoinable(joined, options, propagation);
        return this.savepoint(joined, fn);
      case 'mandatory':
        if (!joined) {
          throw new PropagationError(
            'Propagation "mandatory" needs an open session, and none is open. Call it inside sf.session().',
          );
        }
        return this.#join(joined, fn, options, propagation);
      case 'never':
        if (joined) {
          throw new PropagationError(
            `Propagation "never" forbids running inside a session, but session ${joined.info.id} is open. Call it outside sf.session(), or use "notSupported".`,
          );
        }
        return this.#withoutTransaction(fn);
      case 'supports':
        return joined ? this.#join(joined, fn, options, propagation) : this.#withoutTransaction(fn);
      case 'notSupported':
        return this.#withoutTransaction(fn);
    }
  }

  /** A savepoint inside `parent`: siblings serialized, RELEASE on success, ROLLBACK TO on throw. */
  savepoint<T>(parent: Scope, fn: SessionFn<T>): Promise<T> {
    const { adapter, ambient, hub } = this.#engine;
    if (!parent.tx) {
      return Promise.reject(
        new PropagationError(
          'tx.savepoint() needs a transaction, but this scope runs without one (supports/notSupported/never).',
        ),
      );
    }
    if (!adapter.capabilities.savepoints) {
      return Promise.reject(new UnsupportedFeatureError(`The ${adapter.dialect} adapter does not support savepoints.`));
    }
    const tx = parent.tx;
    const sql = adapter.sql;
    const current = ambient.getStore()?.scope;
    if (current && current !== parent && isInside(current, parent)) {
      // parent's lock is held by the savepoint we are in: waiting for it would never end.
      return Promise.reject(
        new PropagationError(
          `tx.savepoint() was called on scope ${parent.info.id} from inside its savepoint ${current.info.id}: use the tx of the scope you are in.`,
        ),
      );
    }
    return parent.childLock.run(async () => {
      parent.assertUsable();
      const name = tx.nextSavepointName();
      await run(parent, sql.savepoint(name));
      const child = this.lifecycle.createScope(tx, parent, name);
      try {
        const result = await ambient.run({ scope: child }, () => fn(child.session));
        if (child.rollbackOnly) {
          throw new UnexpectedRollbackError(
            `Savepoint ${child.info.id} was marked rollback-only because a scope that joined it threw; it was rolled back.`,
          );
        }
        await run(parent, sql.releaseSavepoint(name));
        child.closed = true;
        child.mergeInto(parent);
        return result;
      } catch (error) {
        child.closed = true;
        const serverStillInTransaction = tx.connection.resource.inTransaction?.() !== false;
        if (!tx.ended && !tx.abortReason && !tx.poisoned && serverStillInTransaction) {
          try {
            await run(parent, sql.rollbackToSavepoint(name));
          } catch (rollbackError) {
            attachSuppressed(error, rollbackError);
            tx.poisoned ??= 'ROLLBACK TO SAVEPOINT failed';
            parent.rollbackOnly = true;
          }
        }
        await runHooks(child.rollbackHooks, 'onRollback', tx.id, hub);
        throw error;
      }
    });
  }

  /** `sf.begin()`: a transaction the caller finishes. */
  async begin<DB>(options: Omit<SessionOptions, 'retry'> = {}): Promise<ManagedSession<DB>> {
    this.#engine.assertOpen();
    if (options.propagation !== undefined && options.propagation !== 'requiresNew') {
      throw new PropagationError(
        `sf.begin() always opens a new transaction; propagation ${JSON.stringify(options.propagation)} does not apply. Use sf.session(fn, { propagation }) instead.`,
      );
    }
    const merged = { ...this.#defaults, ...options };
    const begin = this.lifecycle.beginOptions(merged);
    const deadline = new Deadline(merged.timeoutMs, merged.signal);
    let root: Scope;
    try {
      root = await this.lifecycle.open(
        begin,
        deadline.armed ? deadline.signal : undefined,
        (base, scope, runSavepoint) => {
          return new ManagedSessionKysely(base, scope, connectionProvider(base, scope), runSavepoint);
        },
      );
    } catch (error) {
      deadline.clear();
      throw deadline.expired ?? error;
    }
    const tx = root.tx!;
    deadline.onExpire((error) => this.lifecycle.abort(tx, error));
    let settle!: () => void;
    void this.#track(new Promise<void>((resolve) => (settle = resolve)));
    const finish = () => {
      deadline.clear();
      settle();
    };
    const session = root.session as ManagedSessionKysely<DB>;
    session.bind({
      get isEnded() {
        return tx.ended;
      },
      commit: async () => {
        if (tx.ended) throw new SessionClosedError(`Session ${tx.id} has already ended; it cannot be committed.`);
        try {
          await this.lifecycle.commit(root);
        } catch (error) {
          throw await this.lifecycle.rollback(root, error);
        } finally {
          finish();
        }
      },
      rollback: async () => {
        try {
          await this.lifecycle.rollback(root, undefined);
        } finally {
          finish();
        }
      },
    });
    return session;
  }

  /** `sf.connection(fn)`: one pooled connection in autocommit mode, reset before it goes back. */
  async connection<DB, T>(fn: (db: Kysely<DB>) => Promise<T>): Promise<T> {
    this.#engine.assertOpen();
    const { pool, ambient, adapter } = this.#engine;
    return this.#track(
      (async () => {
        const connection = new AutocommitConnection(this.#engine, await pool.acquire());
        const provider = new SingleConnectionProvider(connection);
        const db = new Kysely<DB>({ ...this.#base, executor: this.#base.executor.withConnectionProvider(provider) });
        try {
          return await ambient.run({ scope: undefined }, () => fn(db));
        } finally {
          // Never return a connection inside a transaction fn left open (drivers that cannot
          // tell get an unconditional ROLLBACK, harmless outside a transaction).
          if (connection.pooled.resource.inTransaction?.() !== false) {
            await connection.executeQuery(CompiledQuery.raw(adapter.sql.rollback)).catch(() => connection.poison());
          }
          await connection.release();
        }
      })(),
    );
  }

  async #runNew<T>(fn: SessionFn<T>, options: SessionOptions): Promise<T> {
    this.#engine.assertOpen();
    const merged = { ...this.#defaults, ...options };
    const policy = resolveRetryPolicy(merged.retry);
    const begin = this.lifecycle.beginOptions(merged);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#runAttempt(fn, begin, merged);
      } catch (error) {
        const retry = error instanceof SessionFactoryError && error.retryable && attempt < policy.attempts;
        if (!retry || merged.signal?.aborted || this.#engine.isClosed()) throw error;
        await sleep(backoffDelay(attempt, policy));
      }
    }
  }

  async #runAttempt<T>(
    fn: SessionFn<T>,
    begin: ReturnType<TransactionLifecycle['beginOptions']>,
    options: SessionOptions,
  ): Promise<T> {
    const deadline = new Deadline(options.timeoutMs, options.signal);
    let root: Scope | undefined;
    try {
      root = await this.lifecycle.open(begin, deadline.armed ? deadline.signal : undefined);
      const tx = root.tx!;
      deadline.onExpire((error) => this.lifecycle.abort(tx, error));
      const scope = root;
      const result = await deadline.race(this.#engine.ambient.run({ scope }, () => fn(scope.session)));
      await this.lifecycle.commit(root);
      return result;
    } catch (error) {
      const primary = deadline.expired ?? error;
      if (root && !root.tx!.ended) throw await this.lifecycle.rollback(root, primary);
      throw primary;
    } finally {
      deadline.clear();
    }
  }

  async #join<T>(scope: Scope, fn: SessionFn<T>, options: SessionOptions, propagation: string): Promise<T> {
    this.#assertJoinable(scope, options, propagation);
    scope.assertUsable();
    try {
      return await fn(scope.session);
    } catch (error) {
      scope.rollbackOnly = true;
      throw error;
    }
  }

  #assertJoinable(scope: Scope, options: SessionOptions, propagation: string): void {
    assertJoinable(scope.tx!.begin, scope.info.id, options, propagation, this.#engine.adapter.capabilities);
  }

  async #withoutTransaction<T>(fn: SessionFn<T>): Promise<T> {
    this.#engine.assertOpen();
    const scope = this.lifecycle.createScope(undefined, undefined, undefined);
    const { ambient, hub } = this.#engine;
    return this.#track(
      ambient.run({ scope: undefined }, async () => {
        try {
          const result = await fn(scope.session);
          scope.closed = true;
          await runHooks(scope.commitHooks, 'onCommit', scope.info.id, hub);
          return result;
        } catch (error) {
          scope.closed = true;
          await runHooks(scope.rollbackHooks, 'onRollback', scope.info.id, hub);
          throw error;
        }
      }),
    );
  }

  #track<T>(work: Promise<T>): Promise<T> {
    return this.#engine.activity.track(work);
  }
}

// Savepoint statements go through the enclosing scope's connection: the same checks,
// tracking and lost-connection bookkeeping as any statement of the session.
function run(scope: Scope, sql: string): Promise<unknown> {
  return scope.connection.executeQuery(CompiledQuery.raw(sql));
}

function isInside(scope: Scope, ancestor: Scope): boolean {
  for (let s = scope.parent; s; s = s.parent) if (s === ancestor) return true;
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
