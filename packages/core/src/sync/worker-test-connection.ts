import { CompiledQuery, type QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import type { SyncConnection } from './sync-connection.js';

const NO_ROWS: QueryResult<unknown> = Object.freeze({ rows: [] }) as QueryResult<unknown>;

/**
 * A `withRollback(sf, fn, { sync: true })` transaction on Postgres/MySQL: the test's
 * transaction lives on a connection of the sync worker, so async statements (sessions,
 * `sf.db`) and sync sessions share it. Each async statement is a blocking call to the worker,
 * settled as a promise. BEGIN (sent at once with a `SELECT 1`) and the final ROLLBACK go
 * through the bridge's `begin`/`end`, so the worker knows a transaction is open and rolls it
 * back itself if the slot is given up.
 */
export class WorkerTestConnection implements DriverConnection {
  readonly #bridged: SyncConnection;
  readonly #begin: readonly string[];
  readonly #rollback: string;
  #beginSeen = 0;

  constructor(bridged: SyncConnection, begin: readonly string[], rollback: string) {
    this.#bridged = bridged;
    this.#begin = begin;
    this.#rollback = rollback;
  }

  execute(query: CompiledQuery): Promise<QueryResult<unknown>> {
    return new Promise((resolve) => resolve(this.#run(query)));
  }

  async *stream(query: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<unknown>> {
    const { rows } = await this.execute(query);
    for (let at = 0; at < rows.length; at += chunkSize) yield { rows: rows.slice(at, at + chunkSize) };
  }

  /** The same connection for a sync session inside the test: it neither returns nor ends it. */
  borrowed(): SyncConnection {
    const bridged = this.#bridged;
    return {
      connectionId: bridged.connectionId,
      begin() {},
      execute: (query, budgetMs) => bridged.execute(query, budgetMs),
      end() {},
      release() {},
      destroy() {},
    };
  }

  /** The slot goes back to the worker (which rolls back a transaction still open on it). */
  release(): void {
    this.#bridged.release();
  }

  async ping(): Promise<void> {}

  async serverVersion(): Promise<string> {
    return '';
  }

  async close(): Promise<void> {
    this.#bridged.destroy();
  }

  #run(query: CompiledQuery): QueryResult<unknown> {
    if (this.#beginSeen < this.#begin.length && query.sql === this.#begin[this.#beginSeen]) {
      this.#beginSeen += 1;
      if (this.#beginSeen === this.#begin.length) {
        // The bridge defers BEGIN to the next statement: send one now, so a failed BEGIN fails
        // here (and the transaction is not opened) instead of leaving later statements in autocommit.
        this.#bridged.begin(this.#begin);
        this.#bridged.execute(CompiledQuery.raw('SELECT 1'));
      }
      return NO_ROWS;
    }
    if (query.sql === this.#rollback && query.parameters.length === 0) {
      this.#bridged.end([this.#rollback]);
      return NO_ROWS;
    }
    return this.#bridged.execute(query);
  }
}
