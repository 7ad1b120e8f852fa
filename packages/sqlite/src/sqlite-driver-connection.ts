import type { DriverConnection } from '@sessionfactory/core/adapter';
import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, QueryResult } from 'kysely';
import { StatementCache } from './statement-cache.js';
import { toSqliteParameters } from './to-sqlite-parameters.js';

/**
 * One better-sqlite3 database handle as core's `DriverConnection`. better-sqlite3 is
 * synchronous, so `execute` is `executeSync` behind a Promise: both share one code path,
 * and a thrown error becomes a rejection.
 *
 * @example
 * ```ts
 * const connection = new SqliteDriverConnection(new Database(':memory:'))
 * connection.executeSync(CompiledQuery.raw('SELECT 1 AS one')).rows // [{ one: 1 }]
 * ```
 */
export class SqliteDriverConnection implements DriverConnection {
  readonly #db: BetterSqlite3.Database;
  readonly #statements: StatementCache;
  readonly #init: ((db: BetterSqlite3.Database) => void) | undefined;

  /** `init` re-applies the connection's pragmas when `reset` restores a fresh connection's state. */
  constructor(db: BetterSqlite3.Database, statementCacheSize?: number, init?: (db: BetterSqlite3.Database) => void) {
    this.#db = db;
    this.#statements = new StatementCache(db, statementCacheSize);
    this.#init = init;
  }

  /** A closed handle can run nothing again. */
  get broken(): boolean {
    return !this.#db.open;
  }

  async execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    return this.executeSync(query);
  }

  /** Statements that return rows (`stmt.reader`, including `... RETURNING`) use `all`; the rest `run`. */
  executeSync(query: CompiledQuery): QueryResult<unknown> {
    const statement = this.#statements.prepare(query.sql);
    const parameters = toSqliteParameters(query.parameters);
    if (statement.reader) return { rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /** Iterates the rows lazily; until the stream ends, this connection can run nothing else. */
  async *stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    const statement = this.#statements.prepare(query.sql);
    if (!statement.reader) {
      throw new TypeError('SQLite can only stream statements that return rows (SELECT or ... RETURNING)');
    }
    const size = Math.max(1, Math.floor(chunkSize));
    let chunk: unknown[] = [];
    // Leaving the loop early (the consumer stops) closes the iterator, which resets the statement.
    for (const row of statement.iterate(toSqliteParameters(query.parameters))) {
      chunk.push(row);
      if (chunk.length >= size) {
        yield { rows: chunk };
        chunk = [];
      }
    }
    if (chunk.length > 0) yield { rows: chunk };
  }

  /** SQLite may end a transaction on its own (ON CONFLICT ROLLBACK, some BUSY/FULL errors): core checks this. */
  inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /**
   * The state of a fresh connection, without closing it (for `:memory:` the handle is the
   * database): temporary objects dropped, attached databases detached, pragmas re-applied.
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
    this.#init?.(db);
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
    this.#statements.clear();
    if (this.#db.open) this.#db.close();
  }
}
