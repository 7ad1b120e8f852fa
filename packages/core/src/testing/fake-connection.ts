import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { CompiledQuery, type QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import { markPreludeFailed } from '../adapter/prelude-failure.js';
import { FakeDriverError } from './fake-error.js';
import type { FakeFaults } from './fake-faults.js';

/**
 * One fake connection: records every statement, applies injected faults, and stores data in
 * a real node:sqlite database so sessions have observable effects. The recorded dialect
 * statements (`BEGIN ISOLATION LEVEL ... READ ONLY`) are translated to SQLite here.
 * `SELECT fake_connection_id() AS id` returns `serverId`, as `pg_backend_pid()` would.
 */
export class FakeConnection implements DriverConnection {
  readonly serverId: number;
  #broken = false;
  #closed = false;
  #readOnly = false;
  #cancelWaiting: (() => void) | undefined;
  readonly #db: DatabaseSync;
  readonly #log: string[];
  readonly #faults: FakeFaults;
  readonly #statements = new Map<string, StatementSync>();

  /** Set with the fake adapter's `pipelining` option, as a pipelining driver would offer it. */
  readonly executeAfter?: (prelude: readonly string[], query: CompiledQuery) => Promise<QueryResult<unknown>>;
  /** With `pipelining: 'runs-query'`: the query runs even after its prelude failed, as on MySQL. */
  readonly preludeFailureRunsQuery: boolean;

  constructor(
    serverId: number,
    db: DatabaseSync,
    log: string[],
    faults: FakeFaults,
    pipelining: boolean | 'runs-query' = false,
  ) {
    this.serverId = serverId;
    if (pipelining !== false) this.executeAfter = (prelude, query) => this.#executeAfter(prelude, query);
    this.preludeFailureRunsQuery = pipelining === 'runs-query';
    this.#db = db;
    this.#log = log;
    this.#faults = faults;
    // The server's id of this connection, readable from SQL (`SELECT fake_connection_id() AS id`).
    if (typeof db.function === 'function') db.function('fake_connection_id', () => serverId);
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** True once core closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Marks the connection dead, as a server kill would: its open transaction is rolled back
   * (its locks released) and every later statement or ping fails with a CONNECTION error.
   */
  kill(): void {
    this.#broken = true;
    if (this.#closed || !this.#db.isTransaction) return;
    this.#db.exec('ROLLBACK');
    if (this.#readOnly) this.#db.exec('PRAGMA query_only = OFF');
    this.#readOnly = false;
  }

  async execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    const fault = this.#begin(query.sql);
    if (fault?.delayMs) await this.#wait(fault.delayMs);
    return this.#finish(query, fault);
  }

  /**
   * The prelude, then the query, as one "round trip": a failed prelude statement stops the
   * rest, unless `preludeFailureRunsQuery`: then every statement runs, as a MySQL server runs
   * each command it was sent, and the prelude's error is reported.
   */
  async #executeAfter(prelude: readonly string[], query: CompiledQuery): Promise<QueryResult<unknown>> {
    let failure: unknown;
    for (const sql of prelude) {
      try {
        this.#finish(CompiledQuery.raw(sql), this.#begin(sql));
      } catch (error) {
        failure ??= markPreludeFailed(error);
        if (!this.preludeFailureRunsQuery) throw failure;
      }
    }
    if (failure === undefined) return this.execute(query);
    await this.execute(query).catch(() => undefined);
    throw failure;
  }

  executeSync(query: CompiledQuery): QueryResult<unknown> {
    return this.#finish(query, this.#begin(query.sql));
  }

  /** Rows in chunks, read lazily; a fault or a kill fails the next chunk. */
  async *stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    this.#finishFault(query.sql, this.#begin(query.sql));
    const statement = this.#db.prepare(query.sql);
    const parameters = query.parameters.map(toSqliteValue) as never[];
    let chunk: unknown[] = [];
    for (const row of statement.iterate(...parameters)) {
      chunk.push(row);
      if (chunk.length >= chunkSize) {
        yield { rows: chunk };
        chunk = [];
        if (this.#broken || this.#closed)
          throw new FakeDriverError('CONNECTION', 'fake: connection lost during a stream');
      }
    }
    if (chunk.length > 0) yield { rows: chunk };
  }

  inTransaction(): boolean {
    return this.#db.isTransaction;
  }

  /** Recorded as `RESET`; drops temporary tables, as a real reset ends the session's state. */
  async reset(): Promise<void> {
    const fault = this.#begin('RESET');
    this.#finishFault('RESET', fault);
    const temp = this.#db.prepare("SELECT name FROM sqlite_temp_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    for (const { name } of temp) this.#db.exec(`DROP TABLE temp."${name.replaceAll('"', '""')}"`);
  }

  async ping(): Promise<void> {
    if (this.#broken) throw new FakeDriverError('CONNECTION', 'fake: connection is broken');
  }

  async serverVersion(): Promise<string> {
    return 'fake-1.0';
  }

  async close(): Promise<void> {
    this.closeSync();
  }

  closeSync(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  /** Interrupts an injected delay (what a server-side cancel does to a running statement). */
  cancel(): boolean {
    const wake = this.#cancelWaiting;
    this.#cancelWaiting = undefined;
    wake?.();
    return wake !== undefined;
  }

  #begin(sql: string) {
    if (this.#closed) throw new FakeDriverError('CONNECTION', 'fake: connection is closed');
    if (this.#broken) throw new FakeDriverError('CONNECTION', 'fake: connection is broken');
    this.#log.push(sql);
    return this.#faults.take(sql);
  }

  #finish(query: CompiledQuery, fault: ReturnType<FakeFaults['take']>): QueryResult<unknown> {
    this.#finishFault(query.sql, fault);
    return this.#run(query);
  }

  #finishFault(sql: string, fault: ReturnType<FakeFaults['take']>): void {
    if (fault?.breakConnection) {
      this.#broken = true;
      throw new FakeDriverError('CONNECTION', `fake: connection lost during ${sql}`);
    }
    if (fault?.error) throw new FakeDriverError(fault.error, `fake: injected ${fault.error} on ${sql}`);
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#cancelWaiting = undefined;
        resolve();
      }, ms);
      this.#cancelWaiting = () => {
        clearTimeout(timer);
        reject(new FakeDriverError('STATEMENT_TIMEOUT', 'fake: statement cancelled'));
      };
    });
  }

  // Dialect statements of the fake are translated to what SQLite understands. BEGIN is
  // deferred, as a server's BEGIN takes no lock: transactions on other connections run side by
  // side until two of them write. With busy_timeout 0 a write that finds another writer fails
  // at once ("database is locked", LOCK_TIMEOUT), and a write on a snapshot that another
  // connection has since changed fails with SQLITE_BUSY_SNAPSHOT (SERIALIZATION_FAILURE).
  #run(query: CompiledQuery): QueryResult<unknown> {
    const sql = query.sql;
    if (sql.startsWith('BEGIN')) {
      this.#readOnly = sql.includes('READ ONLY');
      if (this.#readOnly) this.#db.exec('PRAGMA query_only = ON');
      this.#db.exec('BEGIN');
      return { rows: [] };
    }
    if (sql === 'COMMIT' || sql === 'ROLLBACK') {
      this.#db.exec(sql);
      if (this.#readOnly) this.#db.exec('PRAGMA query_only = OFF');
      this.#readOnly = false;
      return { rows: [] };
    }
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    const parameters = query.parameters.map(toSqliteValue) as never[];
    if (statement.columns().length > 0) return { rows: statement.all(...parameters) };
    const { changes, lastInsertRowid } = statement.run(...parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }
}

function toSqliteValue(value: unknown): unknown {
  return typeof value === 'boolean' ? Number(value) : value;
}
