import { CompiledQuery, type QueryResult } from 'kysely';
import type { DriverConnection } from '../adapter/adapter.js';
import type { Pool, PooledConnection } from '../pool/pool.js';
import type { SyncConnection } from './sync-connection.js';

/** BEGIN/COMMIT/ROLLBACK texts repeat on every sync session: compile each once (bounded, as savepoint names vary). */
const controlStatements = new Map<string, CompiledQuery>();

function compiledControl(sql: string): CompiledQuery {
  let query = controlStatements.get(sql);
  if (query === undefined) {
    query = CompiledQuery.raw(sql);
    if (controlStatements.size < 256) controlStatements.set(sql, query);
  }
  return query;
}

/**
 * A pooled connection driven synchronously (SQLite): every call runs at once on the same
 * connection async sessions use, so both see one database.
 */
export class NativeSyncConnection implements SyncConnection {
  readonly #pool: Pool<DriverConnection>;
  readonly #pooled: PooledConnection<DriverConnection>;

  constructor(pool: Pool<DriverConnection>, pooled: PooledConnection<DriverConnection>) {
    this.#pool = pool;
    this.#pooled = pooled;
  }

  get connectionId(): number {
    return this.#pooled.id;
  }

  begin(statements: readonly string[]): void {
    for (const sql of statements) this.execute(compiledControl(sql));
  }

  execute(query: CompiledQuery): QueryResult<unknown> {
    return this.#pooled.resource.executeSync!(query);
  }

  end(statements: readonly string[]): void {
    this.begin(statements);
  }

  inTransaction(): boolean {
    return this.#pooled.resource.inTransaction?.() ?? true;
  }

  release(): void {
    this.#pool.release(this.#pooled);
  }

  destroy(): void {
    void this.#pool.invalidate(this.#pooled, 'sync session left the connection in an unknown state');
  }
}
