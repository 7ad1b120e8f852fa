import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { SessionInfo } from './session-options.js';

/** A callback registered with `tx.onCommit` / `tx.onRollback`. */
export type SessionHook = () => void | Promise<void>;

/**
 * The `tx` a session hands to its function: a `Kysely<DB>` bound to the session's
 * connection, plus hooks, savepoints and info. Using it after the session ended throws
 * `SessionClosedError`.
 */
export interface Session<DB> extends Kysely<DB> {
  /** Runs after the outermost COMMIT, in registration order; dropped if this scope rolls back. */
  onCommit(callback: SessionHook): void;
  /** Runs after this scope rolls back (the transaction, or this savepoint). */
  onRollback(callback: SessionHook): void;
  /** Runs `fn` inside a savepoint: rolled back to on throw (outer work kept), released on success. */
  savepoint<T>(fn: (tx: Session<DB>) => Promise<T>): Promise<T>;
  readonly info: SessionInfo;
}

/** A session opened with `sf.begin()`, finished explicitly or by `await using`. */
export interface ManagedSession<DB> extends Session<DB> {
  /** Rolls back if neither `commit()` nor `rollback()` ran, then releases the connection. */
  [Symbol.asyncDispose](): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  /** True once committed or rolled back. */
  readonly isEnded: boolean;
}

/** A query accepted by the sync scope: anything Kysely can compile, or a compiled query. */
export type SyncQuery<R = unknown> = Compilable<R> | CompiledQuery<R>;

/** The `tx` of `sf.syncSession(fn)`: the same unit of work, run synchronously. */
export interface SyncSession<DB> {
  /** Compile-only Kysely: build queries with it; its `.execute()` throws. */
  readonly db: Kysely<DB>;
  /** All rows. */
  all<R>(query: SyncQuery<R>): R[];
  /** First row or undefined. */
  get<R>(query: SyncQuery<R>): R | undefined;
  /** Runs a statement; returns affected rows and insert id. */
  run(query: SyncQuery): SyncRunResult;
  savepoint<T>(fn: (tx: SyncSession<DB>) => T): T;
  onCommit(callback: SessionHook): void;
  onRollback(callback: SessionHook): void;
  readonly info: SessionInfo;
}

/** What `tx.run` returns. */
export interface SyncRunResult {
  readonly numAffectedRows: bigint | undefined;
  readonly insertId: bigint | undefined;
}

/** Driver result of one statement (re-exported Kysely type, for adapters and tests). */
export type { QueryResult };
