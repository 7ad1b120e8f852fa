import { type DriverConnection, markPreludeFailed, watchConnectionLoss } from '@sessionfactory/core/adapter';
import { CompiledQuery, type QueryResult } from 'kysely';
import mysql2, { type Connection, type ConnectionOptions, type QueryError } from 'mysql2';
import { canPipeline, sendPipelined } from './pipelined-commands.js';
import { toQueryResult } from './to-query-result.js';

/**
 * One mysql2 connection behind core's `DriverConnection`. It always listens for the
 * connection's `error` and `end` events, so a connection the server drops while idle marks
 * itself broken instead of crashing the process with an unhandled `error` event.
 */
export class MysqlDriverConnection implements DriverConnection {
  readonly #raw: Connection;
  readonly #options: Readonly<ConnectionOptions>;
  readonly #setup: readonly CompiledQuery[];
  #broken = false;
  #running = 0;

  /**
   * BEGIN and a session's first statement in one network write. MySQL runs every command it
   * reads, even after BEGIN failed, so core sends only a plain SELECT this way
   * (`preludeFailureRunsQuery`). Not with the compressed protocol, which numbers packets apart.
   */
  readonly executeAfter?: (prelude: readonly string[], query: CompiledQuery) => Promise<QueryResult<unknown>>;
  readonly preludeFailureRunsQuery = true;

  private constructor(raw: Connection, options: Readonly<ConnectionOptions>, setup: readonly CompiledQuery[]) {
    this.#raw = raw;
    this.#options = options;
    this.#setup = setup;
    if (canPipeline && options.compress !== true)
      this.executeAfter = (prelude, query) => this.#executeAfter(prelude, query);
    watchConnectionLoss(raw, () => {
      this.#broken = true;
    });
  }

  /**
   * Opens one connection, waits for the handshake and runs `setup` (session settings such as
   * `wsrep_sync_wait`, run again after each reset); rejects with mysql2's error.
   *
   * @example
   * ```ts
   * const connection = await MysqlDriverConnection.open({ host: '127.0.0.1', user: 'root' })
   * ```
   */
  static async open(
    options: Readonly<ConnectionOptions>,
    setup: readonly CompiledQuery[] = [],
  ): Promise<MysqlDriverConnection> {
    // mysql2 writes defaults into the `ssl` object it is given: hand each connection its own.
    const ssl = typeof options.ssl === 'object' ? { ...options.ssl } : options.ssl;
    const raw = mysql2.createConnection({ ...options, ...(ssl === undefined ? {} : { ssl }) });
    const connection = new MysqlDriverConnection(raw, options, setup);
    try {
      await new Promise<void>((resolve, reject) => raw.connect((error) => (error ? reject(error) : resolve())));
      await connection.#runSetup();
    } catch (error) {
      raw.destroy();
      throw error;
    }
    return connection;
  }

  /** The options this connection was opened with (its host, for a cancel sent to the same server). */
  get options(): Readonly<ConnectionOptions> {
    return this.#options;
  }

  /** The server's thread id: `KILL QUERY <serverId>` cancels what this connection runs. */
  get serverId(): number | undefined {
    return this.#raw.threadId ?? undefined;
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Whether a statement of this connection is in flight (a cancel only makes sense then). */
  get running(): boolean {
    return this.#running > 0;
  }

  execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    this.#running++;
    return new Promise((resolve, reject) => {
      // `query` (text protocol), as Kysely's MysqlDriver: parameters are escaped client-side,
      // and statements MySQL cannot prepare (SAVEPOINT, ...) run too.
      this.#raw.query(query.sql, [...query.parameters], (error: QueryError | null, result: unknown) => {
        this.#running--;
        if (error) {
          this.#noteFailure(error);
          reject(error);
        } else {
          resolve(toQueryResult(result));
        }
      });
    });
  }

  #executeAfter(prelude: readonly string[], query: CompiledQuery): Promise<QueryResult<unknown>> {
    this.#running++;
    return new Promise((resolve, reject) => {
      let preludeError: QueryError | undefined;
      const onPrelude = (error: QueryError | null) => {
        if (error) {
          this.#noteFailure(error);
          preludeError ??= error;
        }
      };
      const onQuery = (error: QueryError | null, result: unknown) => {
        this.#running--;
        // The query ran even if BEGIN failed (in autocommit): its result is not the session's.
        if (preludeError) {
          reject(markPreludeFailed(preludeError));
        } else if (error) {
          this.#noteFailure(error);
          reject(error);
        } else {
          resolve(toQueryResult(result));
        }
      };
      const text = this.#raw.format(query.sql, [...query.parameters]);
      sendPipelined(this.#raw, [...prelude, text], [...prelude.map(() => onPrelude), onQuery]);
    });
  }

  async *stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    const statement = this.#raw.query(query.sql, [...query.parameters]);
    const rows = statement.stream({ highWaterMark: chunkSize });
    // The stream hears errors through its own listener, which mysql2 removes once the stream
    // is destroyed; this one keeps an error arriving after an early `break` from going unhandled.
    statement.on('error', (error: QueryError) => this.#noteFailure(error));
    // A lost connection is reported on the connection, not on a streaming statement.
    const onLost = (error: unknown) => rows.destroy(error instanceof Error ? error : new Error(String(error)));
    this.#raw.on('error', onLost);
    this.#running++;
    try {
      let chunk: unknown[] = [];
      for await (const row of rows) {
        chunk.push(row);
        if (chunk.length >= chunkSize) {
          yield { rows: chunk };
          chunk = [];
        }
      }
      if (chunk.length > 0) yield { rows: chunk };
    } finally {
      this.#running--;
      this.#raw.off('error', onLost);
    }
  }

  /**
   * COM_RESET_CONNECTION: session variables, temporary tables, user locks and prepared
   * statements back to a fresh connection's, without re-authenticating; then the setup
   * statements again (the configured session settings are part of a fresh connection).
   */
  async reset(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#raw.reset((error) => {
        if (error) {
          this.#noteFailure(error as { fatal?: boolean });
          reject(error);
        } else {
          resolve();
        }
      });
    });
    await this.#runSetup();
  }

  async #runSetup(): Promise<void> {
    for (const statement of this.#setup) await this.execute(statement);
  }

  ping(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#raw.ping((error) => {
        if (error) {
          this.#noteFailure(error);
          reject(error);
        } else {
          resolve();
        }
      });
    });
  }

  async serverVersion(): Promise<string> {
    const { rows } = await this.execute(CompiledQuery.raw('SELECT VERSION() AS version'));
    return String((rows[0] as { version?: unknown } | undefined)?.version ?? '');
  }

  /** Says goodbye to the server (COM_QUIT); a broken or busy connection is just dropped. Never throws. */
  close(): Promise<void> {
    if (this.#broken || this.#running > 0) {
      this.#destroy();
      return Promise.resolve();
    }
    this.#broken = true;
    return new Promise((resolve) => {
      this.#raw.end((error) => {
        if (error) this.#destroy();
        resolve();
      });
    });
  }

  #destroy(): void {
    this.#broken = true;
    try {
      this.#raw.destroy();
    } catch {
      // Already closed: nothing left to release.
    }
  }

  #noteFailure(error: { fatal?: boolean }): void {
    if (error.fatal === true) this.#broken = true;
  }
}
