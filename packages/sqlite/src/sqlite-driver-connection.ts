import {
  type DriverConnection,
  type LockWait,
  retryWhileLocked,
  retryWhileLockedSync,
} from '@sessionfactory/core/adapter';
import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, QueryResult } from 'kysely';
import { StatementCache } from './statement-cache.js';
import { toSqliteParameters } from './to-sqlite-parameters.js';

/** BEGIN/COMMIT/ROLLBACK/SAVEPOINT affect no rows: one shared, frozen result for all of them. */
const TRANSACTION_CONTROL_RESULT: QueryResult<unknown> = Object.freeze({
  numAffectedRows: 0n,
  rows: Object.freeze([]) as unknown as unknown[],
});

/**
 * One better-sqlite3 database handle as core's `DriverConnection`. better-sqlite3 is
 * synchronous: a statement runs at once on the calling thread. The handle has no busy handler
 * (SQLite's would block the thread while it waits, and a lock held by another connection of
 * this same thread could then never be released); a statement that finds the database locked
 * is retried with core's `retryWhileLocked` for up to `lockTimeoutMs` — asynchronously in
 * `execute`, with blocking pauses in `executeSync` (sync sessions block by nature).
 *
 * @example
 * ```ts
 * const connection = new SqliteDriverConnection(new Database(':memory:', { timeout: 0 }), 5000)
 * connection.executeSync(CompiledQuery.raw('SELECT 1 AS one')).rows // [{ one: 1 }]
 * ```
 */
export class SqliteDriverConnection implements DriverConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: StatementCache;
  readonly #init: ((db: BetterSqlite3.Database) => void) | undefined;
  /** The configured lock wait; `#lockTimeoutMs` may differ after a `PRAGMA busy_timeout`, until `reset`. */
  readonly #configuredLockTimeoutMs: number;
  #lockTimeoutMs: number;
  #closed = false;
  /**
   * Mirrors `db.inTransaction` (a native getter that costs about as much as a small statement's
   * bookkeeping): set after transaction-control statements and refreshed after any error, the
   * only times it can change.
   */
  #inTransaction: boolean;

  /** `init` re-applies the connection's pragmas when `reset` restores a fresh connection's state. */
  constructor(
    db: BetterSqlite3.Database,
    lockTimeoutMs: number,
    statementCacheSize?: number,
    init?: (db: BetterSqlite3.Database) => void,
  ) {
    this.#db = db;
    this.#configuredLockTimeoutMs = lockTimeoutMs;
    this.#init = init;
    this.#lockTimeoutMs = lockTimeoutMs;
    this.#statements = new StatementCache(db, statementCacheSize);
    this.#inTransaction = db.inTransaction;
  }

  /** A closed handle can run nothing again (only `close` closes it). */
  get broken(): boolean {
    return this.#closed;
  }

  /** Runs the statement now; if the database is locked elsewhere, waits for it without blocking the event loop. */
  execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    try {
      return Promise.resolve(this.executeNow(query));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** `execute` without the promise: the result at once, or a promise only while a lock held elsewhere is waited for. */
  executeNow(query: CompiledQuery): QueryResult<unknown> | Promise<QueryResult<unknown>> {
    const inTransaction = this.#inTransaction;
    try {
      return this.#run(query);
    } catch (error) {
      if (!this.#lockedElsewhere(error, inTransaction)) throw error;
      return retryWhileLocked(() => this.#run(query), this.#lockWait(inTransaction), performance.now(), error);
    }
  }

  /** Runs the statement now; if the database is locked elsewhere, waits for it, blocking (a sync caller cannot yield). */
  executeSync(query: CompiledQuery): QueryResult<unknown> {
    const inTransaction = this.#inTransaction;
    try {
      return this.#run(query);
    } catch (error) {
      if (!this.#lockedElsewhere(error, inTransaction)) throw error;
      return retryWhileLockedSync(() => this.#run(query), this.#lockWait(inTransaction), performance.now(), error);
    }
  }

  /** Statements that return rows (`stmt.reader`, including `... RETURNING`) use `all`; the rest `run`. */
  #run(query: CompiledQuery): QueryResult<unknown> {
    const entry = this.#statements.entry(query.sql);
    const parameters = toSqliteParameters(query.parameters);
    try {
      if (entry.reader) return { rows: entry.statement.all(parameters) };
      const { changes, lastInsertRowid } = entry.statement.run(parameters);
      const effect = entry.transactionEffect;
      if (effect !== undefined) {
        // Known outcomes spare the native getter, which costs as much as a small statement.
        this.#inTransaction = effect === 'open' ? true : effect === 'end' ? false : this.#db.inTransaction;
        return TRANSACTION_CONTROL_RESULT;
      }
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (error) {
      // SQLite may have rolled the transaction back on its own.
      this.#inTransaction = this.#db.open && this.#db.inTransaction;
      throw error;
    }
  }

  /** Iterates the rows lazily; until the stream ends, this connection can run nothing else. */
  async *stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    const statement = this.#statements.prepare(query.sql);
    if (!statement.reader) {
      throw new TypeError('SQLite can only stream statements that return rows (SELECT or ... RETURNING)');
    }
    const size = Math.max(1, Math.floor(chunkSize));
    let chunk: unknown[] = [];
    try {
      // Leaving the loop early (the consumer stops) closes the iterator, which resets the statement.
      for (const row of statement.iterate(toSqliteParameters(query.parameters))) {
        chunk.push(row);
        if (chunk.length >= size) {
          yield { rows: chunk };
          chunk = [];
        }
      }
    } catch (error) {
      this.#inTransaction = this.#db.open && this.#db.inTransaction;
      throw error;
    }
    if (chunk.length > 0) yield { rows: chunk };
  }

  /**
   * SQLITE_BUSY means another connection holds a lock this statement needs, and the statement
   * did nothing: running it again later may succeed. Not when SQLite rolled the transaction
   * back (the state changed), nor for SQLITE_BUSY_SNAPSHOT (this transaction's snapshot is
   * stale; only a new transaction can write).
   */
  #lockedElsewhere(error: unknown, inTransactionBefore: boolean): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || code === 'SQLITE_BUSY_SNAPSHOT') return false;
    return !this.#closed && this.#inTransaction === inTransactionBefore;
  }

  #lockWait(inTransactionBefore: boolean): LockWait {
    this.#adoptBusyTimeoutPragma();
    return {
      timeoutMs: this.#lockTimeoutMs,
      isLocked: (error) => this.#lockedElsewhere(error, inTransactionBefore),
    };
  }

  // `PRAGMA busy_timeout = N` run through this connection sets its lock wait: it becomes the
  // budget, and the handle's own (blocking) busy handler goes back to 0.
  #adoptBusyTimeoutPragma(): void {
    try {
      const ms = this.#db.pragma('busy_timeout', { simple: true });
      if (typeof ms === 'number' && ms > 0) {
        this.#lockTimeoutMs = ms;
        this.#db.pragma('busy_timeout = 0');
      }
    } catch {
      // A stream is iterating on this handle: keep the budget as it is.
    }
  }

  /** SQLite may end a transaction on its own (ON CONFLICT ROLLBACK, some BUSY/FULL errors): core checks this. */
  inTransaction(): boolean {
    return this.#inTransaction;
  }

  /**
   * The state of a fresh connection, without closing it (for `:memory:` the handle is the
   * database): temporary objects dropped, attached databases detached, pragmas re-applied, and
   * the lock wait back to `busyTimeoutMs` with SQLite's busy handler off.
   */
  async reset(): Promise<void> {
    const db = this.#db;
    const temp = db
      .prepare("SELECT type, name FROM temp.sqlite_master WHERE type IN ('table', 'view', 'trigger')")
      .all() as {
      type: string;
      name: string;
    }[];
    for (const { type, name } of temp) {
      db.exec(`DROP ${type.toUpperCase()} IF EXISTS temp."${name.replaceAll('"', '""')}"`);
    }
    const attached = db.prepare('PRAGMA database_list').all() as { name: string }[];
    for (const { name } of attached) {
      if (name !== 'main' && name !== 'temp') db.prepare('DETACH DATABASE ?').run(name);
    }
    db.exec('PRAGMA query_only = OFF');
    db.exec('PRAGMA busy_timeout = 0');
    this.#lockTimeoutMs = this.#configuredLockTimeoutMs;
    this.#init?.(db);
    this.#inTransaction = db.inTransaction;
  }

  async ping(): Promise<void> {
    this.#statements.prepare('SELECT 1').get();
  }

  async serverVersion(): Promise<string> {
    const row = this.#statements.prepare('SELECT sqlite_version() AS version').get() as { version: string };
    return row.version;
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    this.#closed = true;
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }
}
