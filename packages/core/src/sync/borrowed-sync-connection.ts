import type { DriverConnection } from '../adapter/adapter.js';
import type { Pool, PooledConnection } from '../pool/pool.js';
import type { TransactionState } from '../session/transaction-state.js';
import { NativeSyncConnection } from './native-sync-connection.js';

/**
 * The connection of a `withRollback` transaction, driven synchronously by a sync session run
 * inside it (SQLite): the test's transaction owns it, so the sync scope never returns or
 * destroys it; a sync scope that left it in an unknown state poisons the test's transaction.
 */
export class BorrowedSyncConnection extends NativeSyncConnection {
  readonly #owner: TransactionState<PooledConnection<DriverConnection>>;

  constructor(pool: Pool<DriverConnection>, owner: TransactionState<PooledConnection<DriverConnection>>) {
    super(pool, owner.connection);
    this.#owner = owner;
  }

  override release(): void {}

  override destroy(): void {
    this.#owner.poison('a sync session inside withRollback left the connection in an unknown state');
  }
}
