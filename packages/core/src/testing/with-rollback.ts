import { ConfigurationError, PropagationError } from '../errors/error-classes.js';
import { ROLLBACK_SUPPORT, type RollbackSupport, type TestTransaction } from '../factory/rollback-support.js';
import type { SessionFactory } from '../factory/session-factory.js';

function supportOf(sf: SessionFactory<any>, caller: string): RollbackSupport {
  const support = (sf as unknown as { [ROLLBACK_SUPPORT]?: RollbackSupport } | undefined)?.[ROLLBACK_SUPPORT];
  if (support === undefined) {
    throw new ConfigurationError(
      `${caller}: the first argument is not a session factory. Pass the factory your application uses (createSessionFactory(...)).`,
    );
  }
  return support;
}

/** Options of `withRollback` and `rollbackEachTest`. */
export interface WithRollbackOptions {
  /**
   * Postgres/MySQL: open the test's transaction on a connection of the sync worker, so
   * `sf.syncSession` inside the test joins it (without it, `sf.syncSession` there throws
   * `UnsupportedFeatureError`). Every statement of the scope then runs through the worker and
   * blocks the thread while it runs: use it for tests that do not wait on each other's locks,
   * and give `sync.poolSize` one slot per test running at once. No effect on SQLite.
   *
   * @example
   * ```ts
   * await withRollback(sf, async () => expect(balanceReport(sf)).toHaveLength(4), { sync: true })
   * ```
   */
  readonly sync?: boolean;
}

function syncOption(options: WithRollbackOptions | undefined, caller: string): boolean {
  const sync = options?.sync ?? false;
  if (typeof sync !== 'boolean') {
    throw new ConfigurationError(`${caller}: options.sync must be a boolean, got ${typeof sync}.`);
  }
  return sync;
}

/**
 * Runs `fn` inside one transaction of `sf` that is rolled back when `fn` settles (resolved or
 * thrown), so nothing the test wrote survives and data from before stays. The application's
 * code runs unchanged: `sf.session`, `sf.db`, `sf.begin()`, `sf.connection()` and (SQLite)
 * `sf.syncSession` all run on this transaction's connection, each session as a savepoint
 * whose `onCommit` hooks run when the savepoint is released. Scopes running concurrently
 * (`it.concurrent`) each get their own connection and transaction. Returns what `fn` returned.
 *
 * @example
 * ```ts
 * import { withRollback } from '@sessionfactory/core/testing'
 *
 * it('creates an order', () =>
 *   withRollback(sf, async () => {
 *     await createOrder(sf, { item: 'book' }) // app code, calls sf.session inside
 *     expect(await sf.db.selectFrom('order').selectAll().execute()).toHaveLength(1)
 *   })) // rolled back here
 * ```
 */
export async function withRollback<T>(
  sf: SessionFactory<any>,
  fn: () => Promise<T> | T,
  options: WithRollbackOptions = {},
): Promise<T> {
  if (typeof fn !== 'function') throw new TypeError('withRollback(sf, fn): fn must be a function () => Promise');
  const test = await supportOf(sf, 'withRollback(sf, fn)').open(false, syncOption(options, 'withRollback'));
  try {
    return await test.run(fn);
  } finally {
    await test.rollback();
  }
}

/** The `beforeEach`/`afterEach` form of `withRollback`, from `rollbackEachTest(sf)`. */
export interface RollbackEachTest {
  /**
   * Opens the test's transaction (call it in `beforeEach`); until `rollback()` it is the
   * factory's ambient transaction wherever no session of `sf` is open.
   *
   * @example
   * ```ts
   * beforeEach(() => rb.begin())
   * ```
   */
  begin(): Promise<void>;
  /**
   * Rolls the test's transaction back (call it in `afterEach`); does nothing when none is open.
   *
   * @example
   * ```ts
   * afterEach(() => rb.rollback())
   * ```
   */
  rollback(): Promise<void>;
}

/**
 * `withRollback` for `beforeEach`/`afterEach`. AsyncLocalStorage does not flow from a hook
 * into the test body, so the transaction is held in a slot of the factory: for tests that run
 * one after another. Tests that run concurrently need `withRollback(sf, fn)`; a second
 * `begin()` while one is open throws `PropagationError`.
 *
 * @example
 * ```ts
 * import { rollbackEachTest } from '@sessionfactory/core/testing'
 *
 * const rb = rollbackEachTest(sf)
 * beforeEach(() => rb.begin())
 * afterEach(() => rb.rollback())
 *
 * it('creates an order', async () => {
 *   await createOrder(sf, { item: 'book' })
 *   expect(await sf.db.selectFrom('order').selectAll().execute()).toHaveLength(1)
 * })
 * ```
 */
export function rollbackEachTest(sf: SessionFactory<any>, options: WithRollbackOptions = {}): RollbackEachTest {
  const support = supportOf(sf, 'rollbackEachTest(sf)');
  const sync = syncOption(options, 'rollbackEachTest');
  let open: TestTransaction | undefined;
  return {
    async begin() {
      if (open) {
        throw new PropagationError(
          'rollbackEachTest: begin() was called twice without rollback(). Call rollback() in afterEach.',
        );
      }
      open = await support.open(true, sync);
    },
    async rollback() {
      const test = open;
      open = undefined;
      await test?.rollback();
    },
  };
}
