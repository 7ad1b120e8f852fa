import { type DriverConnection, type ServerRole, watchConnectionLoss } from '@sessionfactory/core/adapter';
import type { CompiledQuery, QueryResult } from 'kysely';
import { Client, type ClientConfig, escapeIdentifier, type QueryResult as PgQueryResult } from 'pg';
import { CommitRolledBackError } from './commit-rolled-back-error.js';
import { cursorStream } from './cursor-stream.js';
import { canPipeline, forgetParsed, queryAfter } from './pipelined-query.js';
import { StatementNames } from './statement-names.js';
import { toQueryResult } from './to-query-result.js';

const COMMIT = /^\s*(commit|end)\b/i;
const TRANSACTION_START = /^\s*(begin|start\s+transaction)\b/i;
const TRANSACTION_CONTROL = /^\s*(begin|start\s+transaction|commit|end|rollback|abort)\b/i;
/** SQLSTATEs of a named statement the server no longer has (26000), or whose plan went stale (0A000). */
const INVALID_STATEMENT_NAME = '26000';
const STALE_PLAN = '0A000';
const NO_PRELUDE: readonly string[] = Object.freeze([]);
/** How long `close` waits for a graceful goodbye before dropping the socket. */
const CLOSE_GRACE_MS = 2_000;

/** A connection behind a transaction pooler (PgBouncer `pool_mode = transaction`): session settings go into every transaction. */
export interface TransactionPooling {
  readonly statementTimeoutMs: number | undefined;
}

/**
 * One physical Postgres connection: a `pg.Client` owned by core's pool. Driver errors on an
 * idle connection (a killed backend, a dropped socket) never crash the process: they only
 * mark the connection `broken`, and core then discards it.
 */
export class PostgresConnection implements DriverConnection {
  readonly #client: Client;
  readonly #searchPath: string | undefined;
  /**
   * Behind a transaction pooler: `SET LOCAL` statements (search_path, statement_timeout) sent
   * after every BEGIN, as one simple query, since a session-level SET would stay on a server
   * connection other clients share. `undefined` when connected directly (set once at connect).
   */
  readonly #perTransaction: string | undefined;
  /** The same settings one statement each, for a pipelined BEGIN (extended protocol takes one statement per Parse). */
  readonly #localSettings: readonly string[];
  /** Which statements run named (server-side prepared); `undefined` when `statementCacheSize` is 0. */
  readonly #names: StatementNames | undefined;
  #broken = false;
  /** The host and port this connection went to (a multi-host factory's cancel must reach the same server). */
  readonly server: { readonly host: string | undefined; readonly port: number | undefined };

  private constructor(
    client: Client,
    searchPath: readonly string[] | undefined,
    pooling: TransactionPooling | undefined,
    statementCacheSize: number,
  ) {
    this.#client = client;
    // Naming statements needs the same pg internals as pipelining (Close messages ride in a query's write).
    this.#names = statementCacheSize > 0 && canPipeline ? new StatementNames(statementCacheSize) : undefined;
    this.server = { host: client.host, port: client.port };
    const path = searchPath?.map((s) => escapeIdentifier(s)).join(', ');
    this.#searchPath = path === undefined || pooling !== undefined ? undefined : `SET search_path TO ${path}`;
    const local = [
      ...(path === undefined ? [] : [`SET LOCAL search_path TO ${path}`]),
      ...(pooling?.statementTimeoutMs === undefined
        ? []
        : [`SET LOCAL statement_timeout = ${pooling.statementTimeoutMs}`]),
    ];
    this.#perTransaction = pooling === undefined || local.length === 0 ? undefined : local.join('; ');
    this.#localSettings = this.#perTransaction === undefined ? [] : local;
    // Without the pg internals a prelude needs, core sends BEGIN on its own.
    if (canPipeline) this.executeAfter = (prelude, query) => this.#executeAfter(prelude, query);
    watchConnectionLoss(client, () => {
      this.#broken = true;
    });
  }

  /**
   * Opens a connection and, when `searchPath` is given, sets the session's `search_path`.
   * A connection that fails half-way is closed before the error is rethrown.
   *
   * @example
   * ```ts
   * const connection = await PostgresConnection.open({ host: '127.0.0.1', database: 'app' }, ['app'])
   * await connection.ping()
   * ```
   */
  static async open(
    config: ClientConfig,
    searchPath: readonly string[] | undefined,
    pooling?: TransactionPooling,
    statementCacheSize = 0,
  ): Promise<PostgresConnection> {
    const connection = new PostgresConnection(new Client(config), searchPath, pooling, statementCacheSize);
    try {
      await connection.#client.connect();
      if (connection.#searchPath !== undefined) await connection.#client.query(connection.#searchPath);
    } catch (error) {
      await connection.close();
      throw error;
    }
    return connection;
  }

  /** The backend process id, which `pg_cancel_backend` and `pg_terminate_backend` take. */
  get serverId(): number | undefined {
    // `processID` is set from BackendKeyData at connect; pg's types do not declare it.
    const pid = (this.#client as unknown as { processID?: number | null }).processID;
    return pid ?? undefined;
  }

  /** The key from BackendKeyData: a protocol cancel request names the connection with it. */
  get cancelKey(): { readonly processId: number; readonly secretKey: number } | undefined {
    const { processID, secretKey } = this.#client as unknown as {
      processID?: number | null;
      secretKey?: number | null;
    };
    return typeof processID === 'number' && typeof secretKey === 'number'
      ? { processId: processID, secretKey }
      : undefined;
  }

  get broken(): boolean {
    return this.#broken;
  }

  async execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    if (this.#perTransaction !== undefined && this.#client.getTransactionStatus() === 'I') {
      if (TRANSACTION_START.test(query.sql)) {
        const begun = await this.#run(query);
        await this.#untilReady(this.#client.query(this.#perTransaction));
        return begun;
      }
      // A statement outside a transaction needs the settings too: it gets a transaction of its own.
      if (!TRANSACTION_CONTROL.test(query.sql)) return this.#inOwnTransaction(query);
    }
    return this.#run(query);
  }

  async #inOwnTransaction(query: CompiledQuery): Promise<QueryResult<unknown>> {
    await this.#untilReady(this.#client.query(`BEGIN; ${this.#perTransaction}`));
    let result: QueryResult<unknown>;
    try {
      result = await this.#run(query);
    } catch (error) {
      await this.#untilReady(this.#client.query('ROLLBACK')).catch(() => {
        // The statement's error is the one to report; a dead connection is marked broken anyway.
      });
      throw error;
    }
    await this.#untilReady(this.#client.query('COMMIT'));
    return result;
  }

  async #run(query: CompiledQuery): Promise<QueryResult<unknown>> {
    const name = this.#names?.nameFor(query.sql);
    if (name !== undefined) return this.#runNamed(query, name);
    // (text, values) rather than a config object: pg clones a config object on every query.
    const result = await this.#client.query(query.sql, query.parameters as unknown[]);
    if (this.#names?.dropsAll(query.sql)) this.#statementsDropped();
    return this.#result(query, result);
  }

  /**
   * Runs `query` as the named statement `name` (parsed once per connection). If the server no
   * longer has it (a `DISCARD ALL` core did not see) or its plan went stale (a column's type
   * changed), the name is given up; outside a transaction the statement did nothing and runs
   * again unnamed, inside one the error stands (the transaction is aborted either way).
   */
  async #runNamed(query: CompiledQuery, name: string): Promise<QueryResult<unknown>> {
    const outside = this.#client.getTransactionStatus() === 'I';
    const ahead = { prelude: NO_PRELUDE, closing: this.#names!.takeClosing(), name };
    try {
      const pending = queryAfter(this.#client, ahead, query.sql, query.parameters as unknown[]);
      return this.#result(query, await this.#untilReady(pending));
    } catch (error) {
      if (!this.#namedStatementFailed(error, query.sql)) throw error;
      if (!outside || this.#client.getTransactionStatus() !== 'I') throw error;
      return this.#result(query, await this.#client.query(query.sql, query.parameters as unknown[]));
    }
  }

  /** Gives up the name(s) an error shows the server does not hold as pg thinks; true if it was such an error. */
  #namedStatementFailed(error: unknown, sql: string): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === INVALID_STATEMENT_NAME) this.#statementsDropped();
    else if (code === STALE_PLAN) this.#names!.forget(sql);
    else return false;
    return true;
  }

  /** The server holds none of this connection's named statements any more: pg must parse them again. */
  #statementsDropped(): void {
    forgetParsed(this.#client, this.#names!.clear());
  }

  /**
   * `pending`, but a rejection only once pg has taken the ReadyForQuery after the error. pg
   * rejects a query at its ErrorResponse, and `getTransactionStatus()` (so `inTransaction()`)
   * changes only at the ReadyForQuery that follows. Read in between, it is the status from
   * before the statement. That matters only for a statement that changes it: one that carried
   * BEGIN (executeAfter, which waits the same way), and these BEGIN/COMMIT wrappers. Behind
   * PgBouncer the two messages often arrive in separate reads; a ROLLBACK skipped there left
   * the connection in an aborted transaction, and its next session got 25P02.
   */
  async #untilReady<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (error) {
      await this.#readyForQuery();
      throw error;
    }
  }

  /** Resolves at pg's next ReadyForQuery, at once if it has it already, or when the connection ends. */
  #readyForQuery(): Promise<void> {
    const client = this.#client as unknown as { readyForQuery?: boolean };
    if (client.readyForQuery !== false || this.#broken) return Promise.resolve();
    const connection = this.#client.connection;
    return new Promise((resolve) => {
      const done = () => {
        connection.off('readyForQuery', done);
        connection.off('end', done);
        connection.off('error', done);
        resolve();
      };
      // Registered after pg's own listener, so the transaction status is already updated here.
      connection.on('readyForQuery', done);
      connection.on('end', done);
      connection.on('error', done);
    });
  }

  /** BEGIN and the session's first statement in one network write (see pipelined-query.ts). */
  readonly executeAfter?: (prelude: readonly string[], query: CompiledQuery) => Promise<QueryResult<unknown>>;

  async #executeAfter(prelude: readonly string[], query: CompiledQuery): Promise<QueryResult<unknown>> {
    // Behind a transaction pooler the prelude (a BEGIN) carries the per-transaction settings too.
    const statements = this.#localSettings.length === 0 ? prelude : [...prelude, ...this.#localSettings];
    // This statement carries BEGIN: only the ReadyForQuery after an error tells pg (and so
    // `inTransaction`) that a transaction is open, and core must know to send ROLLBACK.
    const name = this.#names?.nameFor(query.sql);
    const ahead = { prelude: statements, closing: this.#names?.takeClosing() ?? NO_PRELUDE, name };
    try {
      const pending = queryAfter(this.#client, ahead, query.sql, query.parameters as unknown[]);
      return this.#result(query, await this.#untilReady(pending));
    } catch (error) {
      // In the transaction BEGIN opened: the error stands, the name is given up.
      if (name !== undefined) this.#namedStatementFailed(error, query.sql);
      throw error;
    }
  }

  #result(query: CompiledQuery, result: PgQueryResult | PgQueryResult[]): QueryResult<unknown> {
    const last = Array.isArray(result) ? result.at(-1) : result;
    // Postgres answers COMMIT of an aborted transaction with a ROLLBACK tag instead of an error.
    if (last?.command === 'ROLLBACK' && COMMIT.test(query.sql)) throw new CommitRolledBackError();
    return toQueryResult(result);
  }

  stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    return cursorStream(this.#client, query, chunkSize, this.#perTransaction);
  }

  inTransaction(): boolean {
    const status = this.#client.getTransactionStatus();
    return status === 'T' || status === 'E';
  }

  /**
   * `DISCARD ALL` (session settings back to the connection's defaults, temporary tables,
   * prepared statements, advisory locks and LISTENs gone), then the configured search_path again.
   */
  async reset(): Promise<void> {
    try {
      await this.#client.query('DISCARD ALL');
    } finally {
      if (this.#names !== undefined) this.#statementsDropped();
    }
    if (this.#searchPath !== undefined) await this.#client.query(this.#searchPath);
  }

  async ping(): Promise<void> {
    await this.#client.query('SELECT 1');
  }

  /** Whether the server is a standby and whether it takes writes, for `target_session_attrs`. */
  async role(): Promise<ServerRole> {
    const { rows } = await this.#client.query<{ standby: boolean; read_only: string }>(
      "SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') AS read_only",
    );
    return { standby: rows[0]?.standby === true, readOnly: rows[0]?.read_only === 'on' };
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.#client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  }

  async close(): Promise<void> {
    this.#broken = true;
    let timer: NodeJS.Timeout | undefined;
    const gracePeriod = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_GRACE_MS);
      timer.unref();
    });
    try {
      const outcome = await Promise.race([this.#client.end(), gracePeriod]);
      if (outcome === 'timeout') this.#client.connection.stream.destroy();
    } catch {
      // Closing a connection that is already dead has nothing left to do.
    } finally {
      clearTimeout(timer);
    }
  }
}
