import { PropagationError, UnexpectedRollbackError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { ALICE, BOB } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

/**
 * Joined scopes (rollback-only), `requiresNew`, `mandatory` and `never`.
 *
 * @example
 * ```ts
 * registerPropagationCases(ctx);
 * ```
 */
export function registerPropagationCases(ctx: SuiteContext): void {
  ctx.test('a failed joined scope makes the outer commit throw UnexpectedRollbackError', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const innerFailure = new Error('inner failure');
    const error = await rejectionOf(
      sf.session(async (tx) => {
        await tx.insertInto('account').values(ALICE).execute();
        const caught = await rejectionOf(
          sf.session(
            async (inner) => {
              expect(inner.info.id).toBe(tx.info.id);
              await inner.insertInto('account').values(BOB).execute();
              throw innerFailure;
            },
            { propagation: 'required' },
          ),
        );
        expect(caught).toBe(innerFailure);
        return 'outer finished';
      }),
    );
    expect(error).toBeInstanceOf(UnexpectedRollbackError);
    expect(await accountIds(observer.db)).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
  });

  ctx.test(
    'requiresNew commits independently of the session around it',
    async () => {
      const sf = await ctx.open({ pool: { size: 2, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      const outerFailure = new Error('outer failure');
      // The outer session only reads (read-only where the adapter can), so a single-writer
      // database (SQLite) can still commit the independent inner write.
      const error = await rejectionOf(
        sf.session(
          async (tx) => {
            expect(await accountIds(tx)).toEqual([]);
            await sf.session(
              async (inner) => {
                expect(inner.info.id).not.toBe(tx.info.id);
                expect(inner.info.readOnly).toBe(false);
                await inner.insertInto('account').values(BOB).execute();
              },
              { propagation: 'requiresNew' },
            );
            expect(await accountIds(observer.db)).toEqual([2]);
            throw outerFailure;
          },
          { readOnly: ctx.capabilities.readOnly },
        ),
      );
      expect(error).toBe(outerFailure);
      expect(await accountIds(observer.db)).toEqual([2]);
    },
    { skip: ctx.shared ? undefined : 'capabilities.sharedDatabase is false (requiresNew needs a second connection)' },
  );

  ctx.test('mandatory without a session and never inside one throw PropagationError', async () => {
    const sf = await ctx.open();
    let ran = false;
    const mandatory = await rejectionOf(
      sf.session(
        async () => {
          ran = true;
        },
        { propagation: 'mandatory' },
      ),
    );
    expect(mandatory).toBeInstanceOf(PropagationError);
    expect(ran).toBe(false);
    const outcome = await sf.session(async () => {
      const never = await rejectionOf(
        sf.session(
          async () => {
            ran = true;
          },
          { propagation: 'never' },
        ),
      );
      expect(never).toBeInstanceOf(PropagationError);
      return 'outer committed';
    });
    expect(outcome).toBe('outer committed');
    expect(ran).toBe(false);
  });
}
