import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Scope } from '../session/scope.js';
import type { SessionInfo } from '../session/session-options.js';
import type { SessionHook, SyncQuery, SyncRunResult, SyncSession } from '../session/session-types.js';
import type { SyncConnection } from './sync-connection.js';

type SyncScope = Scope<SyncConnection, SyncSession<any>>;

/** What the sync `tx` asks of the engine. */
export interface SyncScopeRunner {
  execute(scope: SyncScope, query: CompiledQuery): QueryResult<unknown>;
  savepoint<T>(scope: SyncScope, fn: (tx: SyncSession<any>) => T): T;
}

/**
 * The `tx` of `sf.syncSession(fn)`: compiles each query with Kysely and runs it
 * synchronously on the scope's connection.
 */
export class SyncSessionObject<DB> implements SyncSession<DB> {
  readonly db: Kysely<DB>;
  readonly #scope: SyncScope;
  readonly #runner: SyncScopeRunner;

  constructor(db: Kysely<DB>, scope: SyncScope, runner: SyncScopeRunner) {
    this.db = db;
    this.#scope = scope;
    this.#runner = runner;
  }

  get info(): SessionInfo {
    return this.#scope.info;
  }

  /**
   * All rows of a query.
   *
   * @example
   * ```ts
   * const rows = tx.all(tx.db.selectFrom('account').selectAll())
   * ```
   */
  all<R>(query: SyncQuery<R>): R[] {
    return this.#execute(query).rows as R[];
  }

  /**
   * The first row, or undefined.
   *
   * @example
   * ```ts
   * const row = tx.get(tx.db.selectFrom('account').selectAll().where('id', '=', 1))
   * ```
   */
  get<R>(query: SyncQuery<R>): R | undefined {
    return this.#execute(query).rows[0] as R | undefined;
  }

  /**
   * Runs a statement and reports affected rows and insert id.
   *
   * @example
   * ```ts
   * const { numAffectedRows } = tx.run(tx.db.updateTable('account').set({ balance: 0 }))
   * ```
   */
  run(query: SyncQuery): SyncRunResult {
    const result = this.#execute(query);
    return { numAffectedRows: result.numAffectedRows, insertId: result.insertId };
  }

  /**
   * Runs `fn` in a savepoint, synchronously.
   *
   * @example
   * ```ts
   * tx.savepoint((sp) => sp.run(insertAudit)) // throws: only the audit row is undone
   * ```
   */
  savepoint<T>(fn: (tx: SyncSession<DB>) => T): T {
    return this.#runner.savepoint(this.#scope, fn as (tx: SyncSession<any>) => T);
  }

  /**
   * Registers a callback for after the outermost COMMIT.
   *
   * @example
   * ```ts
   * tx.onCommit(() => cache.clear())
   * ```
   */
  onCommit(callback: SessionHook): void {
    this.#scope.onCommit(callback);
  }

  /**
   * Registers a callback for after this scope rolls back.
   *
   * @example
   * ```ts
   * tx.onRollback(() => console.warn('report not saved'))
   * ```
   */
  onRollback(callback: SessionHook): void {
    this.#scope.onRollback(callback);
  }

  #execute(query: SyncQuery): QueryResult<unknown> {
    const compiled = isCompilable(query) ? query.compile() : (query as CompiledQuery);
    return this.#runner.execute(this.#scope, compiled);
  }
}

function isCompilable(query: SyncQuery): query is Extract<SyncQuery, { compile(): unknown }> {
  return typeof (query as { compile?: unknown }).compile === 'function';
}
