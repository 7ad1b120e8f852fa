import type { CompiledQuery, QueryResult } from 'kysely';

/**
 * One connection as the sync scope engine drives it. The native implementation (SQLite)
 * runs each call at once; the worker bridge defers `begin` so BEGIN travels with the first
 * statement in one round trip, and sends nothing at all for a session that ran nothing.
 */
export interface SyncConnection {
  /** Pool id of the connection, for query events (when known). */
  readonly connectionId?: number;
  /** Statements that open the transaction (may be deferred until the first `execute`). */
  begin(statements: readonly string[]): void;
  /** Runs one statement; `budgetMs` (the session's time left) bounds how long the thread may block. */
  execute(query: CompiledQuery, budgetMs?: number): QueryResult<unknown>;
  /** Statements that end the transaction (COMMIT or ROLLBACK, then any `afterEnd`). */
  end(statements: readonly string[]): void;
  /** Whether the server still has the transaction open (native only; undefined if unknown). */
  inTransaction?(): boolean;
  /** Returns the connection for reuse. */
  release(): void;
  /** Discards the connection (its state is unknown). */
  destroy(): void;
}
