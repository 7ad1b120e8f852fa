import { ReadOnlyViolationError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { expectDatabaseError } from '../suite/expect-typed-error.js';
import { CAROL } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, balanceOf, seedAccounts } from '../suite/table-readers.js';

/**
 * Read-only sessions read, reject writes with `ReadOnlyViolationError`, and leave the connection writable.
 *
 * @example
 * ```ts
 * registerReadOnlyCases(ctx);
 * ```
 */
export function registerReadOnlyCases(ctx: SuiteContext): void {
  ctx.test(
    'a read-only session reads but rejects writes with ReadOnlyViolationError',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      await seedAccounts(observer.db);
      const updateError = await rejectionOf(
        sf.session(
          async (tx) => {
            expect(tx.info.readOnly).toBe(true);
            expect(await accountIds(tx)).toEqual([1, 2]);
            await tx.updateTable('account').set({ balance: 0 }).where('id', '=', 1).execute();
          },
          { readOnly: true },
        ),
      );
      expectDatabaseError(updateError, ReadOnlyViolationError, 'READ_ONLY_VIOLATION', sf.dialect);
      const insertError = await rejectionOf(
        sf.session((tx) => tx.insertInto('account').values(CAROL).execute(), { readOnly: true }),
      );
      expectDatabaseError(insertError, ReadOnlyViolationError, 'READ_ONLY_VIOLATION', sf.dialect);
      expect(await balanceOf(observer.db, 1)).toBe(100);
      expect(await accountIds(observer.db)).toEqual([1, 2]);

      // The same (only) connection is writable again once the read-only session ended.
      const info = await sf.session(async (tx) => {
        await tx.updateTable('account').set({ balance: 50 }).where('id', '=', 1).execute();
        return tx.info;
      });
      expect(info.readOnly).toBe(false);
      expect(await balanceOf(observer.db, 1)).toBe(50);
    },
    { skip: ctx.capabilities.readOnly ? undefined : 'capabilities.readOnly is false' },
  );
}
