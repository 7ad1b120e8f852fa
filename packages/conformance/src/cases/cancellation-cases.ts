import { SessionClosedError, type SessionOptions, TransactionTimeoutError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { deferred, delay, rejectionOf, settleTimed } from '../suite/async-helpers.js';
import { ALICE, BOB } from '../suite/fixtures.js';
import { runRaw, selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

const DEADLINE_MS = 300;
const SLEEP_SECONDS = 5;

/**
 * `timeoutMs` and `signal` cancel a long statement on the server, roll back and raise
 * `TransactionTimeoutError`; a deadline also ends a session that is not running a statement.
 *
 * @example
 * ```ts
 * registerCancellationCases(ctx);
 * ```
 */
export function registerCancellationCases(ctx: SuiteContext): void {
  const cancelSkip = ctx.capabilities.cancel
    ? undefined
    : 'capabilities.cancel is false (cannot stop a running statement)';
  const deadlines: { label: string; options: () => SessionOptions }[] = [
    { label: 'timeoutMs', options: () => ({ timeoutMs: DEADLINE_MS }) },
    { label: 'an aborted signal', options: () => ({ signal: AbortSignal.timeout(DEADLINE_MS) }) },
  ];

  for (const { label, options } of deadlines) {
    ctx.test(
      `${label} cancels a long statement: TransactionTimeoutError well before it ends, next session works`,
      async () => {
        const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
        const observer = ctx.observer(sf);
        const sleepSql = ctx.helper('sleepSql');
        const { error, ms } = await settleTimed(
          sf.session(async (tx) => {
            await tx.insertInto('account').values(ALICE).execute();
            await runRaw(tx, sleepSql(SLEEP_SECONDS));
          }, options()),
        );
        expect(error).toBeInstanceOf(TransactionTimeoutError);
        expect(ms).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
        expect(ms).toBeLessThan(2_500);
        const next = await settleTimed(sf.session((tx) => selectOne(tx)));
        expect(next.error).toBeUndefined();
        expect(next.value).toBe(1);
        expect(next.ms).toBeLessThan(2_000);
        expect(await accountIds(observer.db)).toEqual([]);
      },
      { skip: cancelSkip },
    );
  }

  ctx.test('timeoutMs ends a session that is awaiting something else, and its later statements never run', async () => {
    const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
    const observer = ctx.observer(sf);
    let lateError: unknown;
    const fnDone = deferred();
    const { error, ms } = await settleTimed(
      sf.session(
        async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          await delay(DEADLINE_MS * 3);
          try {
            await tx.insertInto('account').values(BOB).execute();
          } catch (e) {
            lateError = e;
          } finally {
            fnDone.resolve();
          }
        },
        { timeoutMs: DEADLINE_MS },
      ),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(ms).toBeLessThan(DEADLINE_MS * 3 - 50);
    await fnDone.promise;
    expect(lateError).toBeInstanceOf(SessionClosedError);
    expect(await accountIds(observer.db)).toEqual([]);
    expect(await sf.session((tx) => selectOne(tx))).toBe(1);
  });

  ctx.test('an already aborted signal rejects with TransactionTimeoutError and commits nothing', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const error = await rejectionOf(
      sf.session((tx) => tx.insertInto('account').values(ALICE).execute(), { signal: AbortSignal.abort() }),
    );
    expect(error).toBeInstanceOf(TransactionTimeoutError);
    expect(await accountIds(observer.db)).toEqual([]);
  });
}
