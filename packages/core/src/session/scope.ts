import type { DatabaseConnection } from 'kysely';
import { SessionClosedError } from '../errors/error-classes.js';
import { Mutex } from '../util/mutex.js';
import type { SessionInfo } from './session-options.js';
import type { Session, SessionHook, SyncSession } from './session-types.js';
import type { TransactionState } from './transaction-state.js';

/** What a scope needs of its transaction (async and sync transactions both provide it). */
export interface ScopeTransaction {
  readonly begin: TransactionState['begin'];
  assertUsable(): void;
}

/**
 * One level of a unit of work: the transaction itself (depth 0), a savepoint inside it, or a
 * scope that runs without a transaction (`tx` undefined). Hooks and rollback-only marks
 * belong to a scope, so a savepoint that rolls back drops exactly its own callbacks.
 */
export class Scope<Tx extends ScopeTransaction = TransactionState> {
  readonly tx: Tx | undefined;
  readonly parent: Scope<Tx> | undefined;
  readonly savepointName: string | undefined;
  readonly info: SessionInfo;
  /** A joined scope failed: this scope must roll back instead of committing. */
  rollbackOnly = false;
  closed = false;
  readonly commitHooks: SessionHook[] = [];
  readonly rollbackHooks: SessionHook[] = [];
  /** Serializes child savepoints: siblings run one after another. */
  readonly childLock = new Mutex();
  /** Set by the engine right after construction: the scope's Kysely connection and its `tx`. */
  connection!: DatabaseConnection;
  session!: Session<any>;
  /** The sync scope's `tx` (sync sessions only). */
  syncSession!: SyncSession<any>;

  constructor(
    id: string,
    tx: Tx | undefined,
    parent?: Scope<Tx>,
    savepointName?: string,
    transactional = tx !== undefined,
  ) {
    this.tx = tx;
    this.parent = parent;
    this.savepointName = savepointName;
    this.info = {
      id,
      depth: parent ? parent.info.depth + 1 : 0,
      isolation: tx?.begin.isolation,
      readOnly: tx?.begin.readOnly ?? false,
      transactional,
    };
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
  mergeInto(parent: Scope<Tx>): void {
    parent.commitHooks.push(...this.commitHooks);
    parent.rollbackHooks.push(...this.rollbackHooks);
  }
}
