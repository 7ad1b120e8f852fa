import {
  CheckViolationError,
  ForeignKeyViolationError,
  NotNullViolationError,
  UniqueViolationError,
} from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { CONSTRAINTS } from '../suite/conformance-schema.js';
import { expectDatabaseError, expectReportedFields } from '../suite/expect-typed-error.js';
import { DEFAULT_ACCOUNTS } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, entryTotals, readAccounts, seedAccounts } from '../suite/table-readers.js';

/**
 * Constraint violations raised by real statements become their typed classes, with the
 * constraint/table/column the dialect reports.
 *
 * @example
 * ```ts
 * registerConstraintErrorCases(ctx);
 * ```
 */
export function registerConstraintErrorCases(ctx: SuiteContext): void {
  ctx.test('a duplicate UNIQUE value raises UniqueViolationError naming the constraint or table', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    await seedAccounts(observer.db);
    const error = await rejectionOf(
      sf.session((tx) => tx.insertInto('account').values({ id: 3, owner: 'alice', balance: 1 }).execute()),
    );
    const typed = expectDatabaseError(error, UniqueViolationError, 'UNIQUE_VIOLATION', sf.dialect);
    expectReportedFields(typed, { constraint: CONSTRAINTS.ownerUnique, table: 'account', column: 'owner' });

    const primaryKey = await rejectionOf(
      sf.session((tx) => tx.insertInto('account').values({ id: 1, owner: 'someone else', balance: 1 }).execute()),
    );
    expectDatabaseError(primaryKey, UniqueViolationError, 'UNIQUE_VIOLATION', sf.dialect);
    expect(await readAccounts(observer.db)).toEqual(DEFAULT_ACCOUNTS);
  });

  ctx.test('a missing parent row raises ForeignKeyViolationError', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    await seedAccounts(observer.db);
    const error = await rejectionOf(
      sf.session(async (tx) => {
        await tx.insertInto('entry').values({ id: 1, account_id: 1, amount: 5 }).execute();
        await tx.insertInto('entry').values({ id: 2, account_id: 999, amount: 5 }).execute();
      }),
    );
    const typed = expectDatabaseError(error, ForeignKeyViolationError, 'FOREIGN_KEY_VIOLATION', sf.dialect);
    if (typed.constraint !== undefined) expect(typed.constraint).toBe(CONSTRAINTS.entryAccountForeignKey);
    if (typed.table !== undefined) expect(typed.table).toBe('entry');
    expect(await entryTotals(observer.db)).toEqual({ count: 0, sum: 0 });
  });

  ctx.test('a NULL in a NOT NULL column raises NotNullViolationError', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const error = await rejectionOf(
      sf.session((tx) =>
        tx
          .insertInto('account')
          .values({ id: 1, owner: null as unknown as string, balance: 1 })
          .execute(),
      ),
    );
    const typed = expectDatabaseError(error, NotNullViolationError, 'NOT_NULL_VIOLATION', sf.dialect);
    expectReportedFields(typed, { table: 'account', column: 'owner' });
    expect(await accountIds(observer.db)).toEqual([]);
  });

  ctx.test('a failed CHECK raises CheckViolationError', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    await seedAccounts(observer.db);
    const error = await rejectionOf(
      sf.session((tx) => tx.updateTable('account').set({ balance: -1 }).where('id', '=', 1).execute()),
    );
    const typed = expectDatabaseError(error, CheckViolationError, 'CHECK_VIOLATION', sf.dialect);
    if (typed.constraint !== undefined) expect(typed.constraint).toBe(CONSTRAINTS.balanceCheck);
    if (typed.table !== undefined) expect(typed.table).toBe('account');
    expect(await readAccounts(observer.db)).toEqual(DEFAULT_ACCOUNTS);
  });
}
