import { SessionClosedError } from '../errors/error-classes.js';
import { Mutex } from '../util/mutex.js';
import type { SessionInfo } from './session-options.js';
import type { SessionHook } from './session-types.js';
import type { TransactionState } from './transaction-state.js';

/**
 * One level of a unit of work: the transaction itself (depth 0), a savepoint inside it, or a
 * scope that runs without a transaction (`transactional` false). Hooks and rollback-only
 * marks belong to a scope, so a savepoint that rolls back drops exactly its own callbacks.
 * `session` is the `tx` the user's function receives (async or sync), built by the executor.
 */
export class Scope<C = unknown, S = unknown> {
  readonly tx: TransactionState<C> | undefined;
  readonly parent: Scope<C, S> | undefined;
  readonly savepointName: string | undefined;
  readonly info: SessionInfo;
  readonly session: S;
  /** A joined scope failed: this scope must roll back instead of committing. */
  rollbackOnly = false;
  closed = false;
  readonly commitHooks: SessionHook[] = [];
  readonly rollbackHooks: SessionHook[] = [];
  /** Made when a child savepoint first needs it (most scopes never open one). */
  #childLock: Mutex | undefined;

  constructor(
    id: string,
    tx: TransactionState<C> | undefined,
    parent: Scope<C, S> | undefined,
    savepointName: string | undefined,
    transactional: boolean,
    build: (scope: Scope<C, S>) => S,
  ) {
    this.tx = tx;
    this.parent = parent;
    this.savepointName = savepointName;
    this.info = {
      id,
      depth: parent ? parent.info.depth + 1 : 0,
      isolation: transactional ? tx?.begin.isolation : undefined,
      readOnly: transactional ? (tx?.begin.readOnly ?? false) : false,
      transactional,
      server: tx?.server ?? 'primary',
    };
    this.session = build(this);
  }

  /** Serializes child savepoints: siblings run one after another. */
  get childLock(): Mutex {
    this.#childLock ??= new Mutex();
    return this.#childLock;
  }

  /** Whether the scope runs inside a transaction (a sync scope without one still holds a connection). */
  get transactional(): boolean {
    return this.info.transactional;
  }

  /** An ended scope counts as no scope: ambient lookups skip it. */
  get live(): boolean {
    return !this.closed && this.tx?.ended !== true;
  }

  assertUsable(): void {
    this.tx?.assertUsable();
    if (this.closed) {
      throw new SessionClosedError(
        `Scope ${this.info.id} (depth ${this.info.depth}) has ended: its tx cannot be used any more. Use the tx of the scope you are in.`,
      );
    }
  }

  onCommit(callback: SessionHook): void {
    this.assertUsable();
    this.commitHooks.push(callback);
  }

  onRollback(callback: SessionHook): void {
    this.assertUsable();
    this.rollbackHooks.push(callback);
  }

  /** A released savepoint hands its callbacks to the enclosing scope. */
  mergeInto(parent: Scope<C, S>): void {
    parent.commitHooks.push(...this.commitHooks);
    parent.rollbackHooks.push(...this.rollbackHooks);
  }

  /** Whether `ancestor` encloses this scope. */
  isInside(ancestor: Scope<C, S>): boolean {
    for (let s = this.parent; s; s = s.parent) if (s === ancestor) return true;
    return false;
  }
}

/**
 * The innermost scope that is still open, starting at `scope`: work scheduled inside a session
 * that runs after it ended (a timer, a queue, a memoized promise) sees no session at all.
 */
export function liveScope<S extends Scope<any, any>>(scope: S | undefined): S | undefined {
  let s = scope;
  while (s && !s.live) s = s.parent as S | undefined;
  return s;
}
