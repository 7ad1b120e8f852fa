import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { ALICE } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

/**
 * The ambient session is keyed per factory: factory B's `db` never runs inside factory A's transaction.
 *
 * @example
 * ```ts
 * registerFactoryIsolationCases(ctx);
 * ```
 */
export function registerFactoryIsolationCases(ctx: SuiteContext): void {
  ctx.test("two factories never share a transaction: B's db does not join A's session", async () => {
    const a = await ctx.open();
    const b = await ctx.open();
    const failure = new Error('roll back A');
    const error = await rejectionOf(
      a.session(async (tx) => {
        await a.db.insertInto('account').values(ALICE).execute();
        expect(a.current()?.id).toBe(tx.info.id);
        expect(b.current()).toBeUndefined();
        expect(await accountIds(a.db)).toEqual([1]);
        expect(await accountIds(b.db)).toEqual([]);
        // B only reads: read-only where possible, so a single-writer database does not wait for A.
        await b.session(
          async (btx) => {
            expect(b.current()?.id).toBe(btx.info.id);
            expect(a.current()?.id).toBe(tx.info.id);
            expect(await accountIds(btx)).toEqual([]);
            expect(await accountIds(b.db)).toEqual([]);
          },
          { readOnly: ctx.capabilities.readOnly },
        );
        throw failure;
      }),
    );
    expect(error).toBe(failure);
    expect(a.current()).toBeUndefined();
    expect(await accountIds(a.db)).toEqual([]);
    expect(await accountIds(b.db)).toEqual([]);
  });
}
