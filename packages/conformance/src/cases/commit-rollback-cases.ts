import { DeadlockError, SerializationFailureError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { ALICE } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, readAccounts, readLog } from '../suite/table-readers.js';

/**
 * Commit, rollback on throw, and retry of retryable errors.
 *
 * @example
 * ```ts
 * registerCommitRollbackCases(ctx);
 * ```
 */
export function registerCommitRollbackCases(ctx: SuiteContext): void {
  ctx.test('commit is visible from another connection, and not before it', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const result = await sf.session(async (tx) => {
      await tx.insertInto('account').values(ALICE).execute();
      expect(await accountIds(tx)).toEqual([1]);
      if (ctx.shared) expect(await accountIds(observer.db)).toEqual([]);
      return 'done';
    });
    expect(result).toBe('done');
    expect(await readAccounts(observer.db)).toEqual([ALICE]);
  });

  ctx.test('a throwing session rolls back and rethrows the very same error', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const rollbacks: string[] = [];
    sf.on('rollback', (event) => rollbacks.push(event.sessionId));
    const boom = new Error('boom');
    let sessionId = '';
    const error = await rejectionOf(
      sf.session(async (tx) => {
        sessionId = tx.info.id;
        await tx.insertInto('account').values(ALICE).execute();
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(rollbacks).toEqual([sessionId]);
    expect(await accountIds(observer.db)).toEqual([]);

    const thrownValue = await rejectionOf(
      sf.session(async (tx) => {
        await tx.insertInto('account').values(ALICE).execute();
        throw 'a plain string';
      }),
    );
    expect(thrownValue).toBe('a plain string');
    expect(await accountIds(observer.db)).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
  });

  ctx.test('retry re-runs the whole session for retryable errors only', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    let attempts = 0;
    const value = await sf.session(
      async (tx) => {
        attempts += 1;
        await tx
          .insertInto('event_log')
          .values({ id: attempts, label: `attempt ${attempts}` })
          .execute();
        if (attempts === 1) throw new SerializationFailureError('synthetic conflict');
        return attempts;
      },
      { retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } },
    );
    expect(value).toBe(2);
    expect(await readLog(observer.db)).toEqual(['attempt 2']);

    let calls = 0;
    const notRetryable = new Error('not retryable');
    const error = await rejectionOf(
      sf.session(
        async () => {
          calls += 1;
          throw notRetryable;
        },
        { retry: 3 },
      ),
    );
    expect(error).toBe(notRetryable);
    expect(calls).toBe(1);

    let tries = 0;
    const exhausted = await rejectionOf(
      sf.session(
        async () => {
          tries += 1;
          throw new DeadlockError(`synthetic deadlock ${tries}`);
        },
        { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 } },
      ),
    );
    expect(exhausted).toBeInstanceOf(DeadlockError);
    expect((exhausted as Error).message).toBe('synthetic deadlock 2');
    expect(tries).toBe(2);
  });
}
