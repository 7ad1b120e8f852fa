import type { ErrorEvent } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { ALICE, BOB } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

/**
 * `onCommit` / `onRollback`: registration order, after the physical COMMIT, dropped with a
 * rolled-back savepoint, and a throwing callback reported through the `error` event.
 *
 * @example
 * ```ts
 * registerHookCases(ctx);
 * ```
 */
export function registerHookCases(ctx: SuiteContext): void {
  ctx.test('onCommit callbacks run in registration order after the commit is visible', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const order: string[] = [];
    let seenByHook: Promise<number[]> | undefined;
    await sf.session(async (tx) => {
      tx.onCommit(() => {
        order.push('commit 1');
        if (ctx.shared) seenByHook = accountIds(observer.db);
      });
      tx.onRollback(() => {
        order.push('rollback');
      });
      await tx.insertInto('account').values(ALICE).execute();
      tx.onCommit(async () => {
        order.push('commit 2');
      });
      tx.onCommit(() => {
        order.push('commit 3');
      });
      expect(order).toEqual([]);
    });
    expect(order).toEqual(['commit 1', 'commit 2', 'commit 3']);
    if (ctx.shared) expect(await seenByHook).toEqual([1]);
    expect(await accountIds(observer.db)).toEqual([1]);
  });

  ctx.test('onRollback callbacks run in registration order, onCommit callbacks never', async () => {
    const sf = await ctx.open();
    const order: string[] = [];
    const failure = new Error('roll back');
    const error = await rejectionOf(
      sf.session(async (tx) => {
        tx.onCommit(() => {
          order.push('commit');
        });
        tx.onRollback(() => {
          order.push('rollback 1');
        });
        tx.onRollback(() => {
          order.push('rollback 2');
        });
        await tx.insertInto('account').values(ALICE).execute();
        throw failure;
      }),
    );
    expect(error).toBe(failure);
    expect(order).toEqual(['rollback 1', 'rollback 2']);
  });

  ctx.test(
    'a rolled-back savepoint drops its onCommit callbacks; a released one keeps them in order',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const order: string[] = [];
      await sf.session(async (tx) => {
        tx.onCommit(() => {
          order.push('commit outer');
        });
        await rejectionOf(
          tx.savepoint(async (sp) => {
            sp.onCommit(() => {
              order.push('commit rolled-back savepoint');
            });
            sp.onRollback(() => {
              order.push('rollback savepoint');
            });
            await sp.insertInto('account').values(ALICE).execute();
            throw new Error('savepoint fails');
          }),
        );
        expect(order).toEqual(['rollback savepoint']);
        await tx.savepoint(async (sp) => {
          sp.onCommit(() => {
            order.push('commit released savepoint');
          });
          await sp.insertInto('account').values(BOB).execute();
        });
        tx.onCommit(() => {
          order.push('commit outer last');
        });
      });
      expect(order).toEqual(['rollback savepoint', 'commit outer', 'commit released savepoint', 'commit outer last']);
      expect(await accountIds(observer.db)).toEqual([2]);
    },
    { skip: ctx.capabilities.savepoints ? undefined : 'capabilities.savepoints is false' },
  );

  ctx.test(
    'a throwing onCommit callback does not reject the committed session; the error event reports it',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const reported: ErrorEvent[] = [];
      sf.on('error', (event) => reported.push(event));
      const hookFailure = new Error('hook failure');
      const order: string[] = [];
      let sessionId = '';
      const value = await sf.session(async (tx) => {
        sessionId = tx.info.id;
        tx.onCommit(() => {
          order.push('first');
          throw hookFailure;
        });
        tx.onCommit(() => {
          order.push('second');
        });
        await tx.insertInto('account').values(ALICE).execute();
        return 'committed';
      });
      expect(value).toBe('committed');
      expect(order).toEqual(['first', 'second']);
      expect(reported).toHaveLength(1);
      expect(reported[0]).toMatchObject({ phase: 'onCommit', error: hookFailure, sessionId });
      expect(await accountIds(observer.db)).toEqual([1]);
    },
  );
}
