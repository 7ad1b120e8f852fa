import { expect } from 'vitest';
import { ALICE, BOB, CAROL } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

/**
 * Runs `fn` and returns what it threw (fails if it returned).
 *
 * @example
 * ```ts
 * const error = thrownBy(() => sf.syncSession(fn));
 * ```
 */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw, but it returned');
}

/**
 * `syncSession`: commit, rollback, savepoint, and a Promise-returning fn.
 *
 * @example
 * ```ts
 * registerSyncScopeCases(ctx);
 * ```
 */
export function registerSyncScopeCases(ctx: SuiteContext): void {
  const skip = ctx.capabilities.sync === false ? 'capabilities.sync is false' : undefined;

  ctx.test(
    'syncSession commits what it ran and returns its value',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const row = sf.syncSession((tx) => {
        expect(tx.info.depth).toBe(0);
        const result = tx.run(tx.db.insertInto('account').values(ALICE));
        expect(result.numAffectedRows).toBe(1n);
        return tx.get(tx.db.selectFrom('account').select(['id', 'owner']).where('id', '=', 1));
      });
      expect(row && { id: Number(row.id), owner: row.owner }).toEqual({ id: 1, owner: 'alice' });
      expect(await accountIds(observer.db)).toEqual([1]);
    },
    { skip },
  );

  ctx.test(
    'syncSession rolls back and rethrows the same error when fn throws',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const failure = new Error('sync failure');
      const error = thrownBy(() =>
        sf.syncSession((tx) => {
          tx.run(tx.db.insertInto('account').values(ALICE));
          expect(tx.all(tx.db.selectFrom('account').select('id'))).toHaveLength(1);
          throw failure;
        }),
      );
      expect(error).toBe(failure);
      expect(await accountIds(observer.db)).toEqual([]);
    },
    { skip },
  );

  ctx.test(
    'syncSession savepoint: rolled back on throw, outer work kept',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const failure = new Error('savepoint failure');
      sf.syncSession((tx) => {
        tx.run(tx.db.insertInto('account').values(ALICE));
        const error = thrownBy(() =>
          tx.savepoint((sp) => {
            expect(sp.info.depth).toBe(1);
            sp.run(sp.db.insertInto('account').values(BOB));
            expect(sp.all(sp.db.selectFrom('account').select('id'))).toHaveLength(2);
            throw failure;
          }),
        );
        expect(error).toBe(failure);
        expect(tx.all(tx.db.selectFrom('account').select('id'))).toHaveLength(1);
        tx.run(tx.db.insertInto('account').values(CAROL));
      });
      expect(await accountIds(observer.db)).toEqual([1, 3]);
    },
    { skip: skip ?? (ctx.capabilities.savepoints ? undefined : 'capabilities.savepoints is false') },
  );

  ctx.test(
    'syncSession with a Promise-returning fn throws TypeError and rolls back',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const error = thrownBy(() =>
        sf.syncSession((tx) => {
          tx.run(tx.db.insertInto('account').values(ALICE));
          return Promise.resolve('async by mistake');
        }),
      );
      expect(error).toBeInstanceOf(TypeError);
      expect(await accountIds(observer.db)).toEqual([]);
      expect(sf.syncSession((tx) => tx.all(tx.db.selectFrom('account').select('id')))).toEqual([]);
    },
    { skip },
  );
}
