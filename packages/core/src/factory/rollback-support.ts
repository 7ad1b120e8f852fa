/**
 * How `withRollback` (in `@sessionfactory/core/testing`) reaches a factory's engine without a
 * public method: a registered symbol, so a second copy of the module still finds it.
 */
export const ROLLBACK_SUPPORT: unique symbol = Symbol.for('sessionfactory.rollbackSupport') as never;

/** What a factory offers `withRollback`. */
export interface RollbackSupport {
  /**
   * BEGIN of a test transaction on a connection of its own. With `slot`, it becomes the
   * factory's ambient scope wherever no AsyncLocalStorage context is set (`rollbackEachTest`);
   * `PropagationError` (before any BEGIN) while another one holds the slot. With `sync`, on a
   * worker adapter the transaction lives on a sync worker connection, so sync sessions join it.
   */
  open(slot: boolean, sync: boolean): Promise<TestTransaction>;
}

/** One open test transaction. */
export interface TestTransaction {
  /** Runs `fn` with the test transaction as the factory's ambient scope. */
  run<T>(fn: () => T): T;
  /** ROLLBACK; the connection goes back to the pool. Idempotent. */
  rollback(): Promise<void>;
}
