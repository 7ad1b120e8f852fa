import { expect } from 'vitest';
import type { SuiteContext } from '../suite/suite-context.js';
import { balanceOf, entryTotals, seedAccounts } from '../suite/table-readers.js';

const SESSIONS = 100;

/**
 * 100 concurrent sessions, every odd one failing after its writes: exactly the even ones are visible.
 *
 * @example
 * ```ts
 * registerConcurrentSessionsCases(ctx);
 * ```
 */
export function registerConcurrentSessionsCases(ctx: SuiteContext): void {
  ctx.test(`${SESSIONS} concurrent sessions, half failing, leave exactly the committed half`, async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    await seedAccounts(observer.db, [{ id: 1, owner: 'pool', balance: 0 }]);
    const outcomes = await Promise.allSettled(
      Array.from({ length: SESSIONS }, (_, index) => {
        const n = index + 1;
        return sf.session(async (tx) => {
          // Parent row first: taking its exclusive lock before the FK's shared lock avoids
          // lock-upgrade deadlocks between sessions on InnoDB.
          await tx
            .updateTable('account')
            .set((eb) => ({ balance: eb('balance', '+', n) }))
            .where('id', '=', 1)
            .execute();
          await tx.insertInto('entry').values({ id: n, account_id: 1, amount: n }).execute();
          if (n % 2 === 1) throw new Error(`session ${n} fails`);
          return n;
        });
      }),
    );
    const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as Error).message] : []));
    const evens = Array.from({ length: SESSIONS / 2 }, (_, i) => 2 * (i + 1));
    expect(committed).toEqual(evens);
    expect(failures).toEqual(evens.map((n) => `session ${n - 1} fails`));
    const expectedSum = evens.reduce((a, b) => a + b, 0);
    expect(await entryTotals(observer.db)).toEqual({ count: SESSIONS / 2, sum: expectedSum });
    expect(await balanceOf(observer.db, 1)).toBe(expectedSum);
    expect(sf.stats()).toMatchObject({ inUse: 0, waiting: 0 });
  });
}
