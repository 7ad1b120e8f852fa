import type BetterSqlite3 from 'better-sqlite3';

/** Prepared statements kept per connection; enough for an application's distinct queries. */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * What a statement that succeeded did to the transaction: opened one (BEGIN, SAVEPOINT), ended it
 * (COMMIT, END, ROLLBACK), or may have done either (RELEASE of the outermost savepoint,
 * ROLLBACK TO), which only SQLite can tell. Other statements never change it.
 */
export type TransactionEffect = 'open' | 'end' | 'ask';

function transactionEffect(sql: string): TransactionEffect | undefined {
  const head = /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.exec(sql)?.[1]?.toUpperCase();
  if (head === undefined) return undefined;
  if (head === 'BEGIN' || head === 'SAVEPOINT') return 'open';
  if (head === 'RELEASE' || (head === 'ROLLBACK' && /\bTO\b/i.test(sql))) return 'ask';
  return 'end';
}

/** A prepared statement and what the connection needs to know about it, worked out once. */
export interface CachedStatement {
  readonly sql: string;
  readonly statement: BetterSqlite3.Statement;
  /** It returns rows (`SELECT`, `PRAGMA`, `... RETURNING`): read with `all`, else `run`. */
  readonly reader: boolean;
  /** BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, END: what it does to the transaction when it succeeds. */
  readonly transactionEffect: TransactionEffect | undefined;
  /** Used since the eviction scan last passed it (second-chance, instead of reordering on every hit). */
  used: boolean;
}

/**
 * A bounded cache of prepared statements, keyed by SQL text, so a query run again skips
 * SQLite's parser and planner. Eviction is least-recently-used by the second-chance (clock)
 * rule: a hit only sets a flag, so the hot path does no map reordering. Evicted statements are
 * simply dropped; better-sqlite3 finalizes them when they are garbage-collected.
 *
 * Lookups go through the text's length, then compare texts: the SQL a Kysely compiler just
 * built is a string of many concatenated pieces, and hashing it (as a `Map` key lookup does)
 * first copies it into one piece, which costs more than preparing costs to skip on a point
 * select; comparing needs no copy.
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
  /** The entries by the length of their SQL, for lookups. */
  readonly #byLength = new Map<number, CachedStatement[]>();
  /** The same entries, oldest first: the eviction order. */
  readonly #order = new Set<CachedStatement>();

  constructor(db: BetterSqlite3.Database, capacity: number = STATEMENT_CACHE_SIZE) {
    this.#db = db;
    this.#capacity = Math.max(1, capacity);
  }

  /** Cached statements, at most the capacity. */
  get size(): number {
    return this.#order.size;
  }

  /** The cached statement for `sql`, prepared on first use. */
  prepare(sql: string): BetterSqlite3.Statement {
    return this.entry(sql).statement;
  }

  /** The cached statement for `sql` with its facts, prepared on first use. */
  entry(sql: string): CachedStatement {
    const sameLength = this.#byLength.get(sql.length);
    if (sameLength !== undefined) {
      for (let i = 0; i < sameLength.length; i++) {
        const cached = sameLength[i]!;
        if (cached.sql === sql) {
          cached.used = true;
          return cached;
        }
      }
    }
    const statement = this.#db.prepare(sql);
    const entry: CachedStatement = {
      sql,
      statement,
      reader: statement.reader,
      transactionEffect: transactionEffect(sql),
      used: false,
    };
    if (this.#order.size >= this.#capacity) this.#evictOne();
    this.#order.add(entry);
    if (sameLength === undefined) this.#byLength.set(sql.length, [entry]);
    else sameLength.push(entry);
    return entry;
  }

  clear(): void {
    this.#order.clear();
    this.#byLength.clear();
  }

  // Oldest first; a used entry gets a second chance at the young end.
  #evictOne(): void {
    for (const entry of this.#order) {
      this.#order.delete(entry);
      if (!entry.used) {
        this.#forget(entry);
        return;
      }
      entry.used = false;
      this.#order.add(entry);
    }
  }

  #forget(entry: CachedStatement): void {
    const sameLength = this.#byLength.get(entry.sql.length)!;
    if (sameLength.length === 1) this.#byLength.delete(entry.sql.length);
    else sameLength.splice(sameLength.indexOf(entry), 1);
  }
}
