import type BetterSqlite3 from 'better-sqlite3';

/** Prepared statements kept per connection; enough for an application's distinct queries. */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * A bounded least-recently-used cache of prepared statements, keyed by SQL text, so a
 * query run again skips SQLite's parser and planner. Evicted statements are simply
 * dropped; better-sqlite3 finalizes them when they are garbage-collected.
 *
 * @example
 * ```ts
 * const statements = new StatementCache(db, 256)
 * statements.prepare('SELECT 1') === statements.prepare('SELECT 1') // true
 * ```
 */
export class StatementCache {
  readonly #db: BetterSqlite3.Database;
  readonly #capacity: number;
  readonly #statements = new Map<string, BetterSqlite3.Statement>();

  constructor(db: BetterSqlite3.Database, capacity: number = STATEMENT_CACHE_SIZE) {
    this.#db = db;
    this.#capacity = Math.max(1, capacity);
  }

  /** Cached statements, at most the capacity. */
  get size(): number {
    return this.#statements.size;
  }

  /** The cached statement for `sql`, prepared on first use. */
  prepare(sql: string): BetterSqlite3.Statement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      // Re-insert so Map order stays least-recently-used first.
      this.#statements.delete(sql);
      this.#statements.set(sql, cached);
      return cached;
    }
    const statement = this.#db.prepare(sql);
    this.#statements.set(sql, statement);
    if (this.#statements.size > this.#capacity) this.#evictOldest();
    return statement;
  }

  clear(): void {
    this.#statements.clear();
  }

  #evictOldest(): void {
    const oldest = this.#statements.keys().next();
    if (!oldest.done) this.#statements.delete(oldest.value);
  }
}
