import { FactoryClosedError, type Session, SessionClosedError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { deferred, delay, rejectionOf } from '../suite/async-helpers.js';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE, BOB, CAROL } from '../suite/fixtures.js';
import { selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

/**
 * `close()` drains and is idempotent, a `tx` used after its session ended throws
 * `SessionClosedError`, and `begin()` + `await using` rolls back what was not committed.
 *
 * @example
 * ```ts
 * registerLifecycleCases(ctx);
 * ```
 */
export function registerLifecycleCases(ctx: SuiteContext): void {
  ctx.test('close() lets the in-flight session finish, refuses new work, and is idempotent', async () => {
    const sf = await ctx.open();
    const started = deferred();
    let finished = false;
    const inFlight = sf.session(async (tx) => {
      await tx.insertInto('account').values(ALICE).execute();
      started.resolve();
      await delay(200);
      await tx.insertInto('account').values(BOB).execute();
      finished = true;
      return 'finished';
    });
    inFlight.catch(started.reject);
    await started.promise;
    const closing = sf.close({ timeoutMs: 10_000 });
    expect(sf.isClosed).toBe(true);
    expect(await rejectionOf(sf.session(async () => 'new work'))).toBeInstanceOf(FactoryClosedError);
    expect(await rejectionOf(sf.begin())).toBeInstanceOf(FactoryClosedError);
    expect(await rejectionOf(sf.connection((db) => selectOne(db)))).toBeInstanceOf(FactoryClosedError);
    expect(finished).toBe(false);
    await closing;
    expect(finished).toBe(true);
    expect(await inFlight).toBe('finished');
    await expect(sf.close()).resolves.toBeUndefined();
    expect(sf.stats()).toMatchObject({ open: 0, inUse: 0 });
    if (ctx.shared) expect(await accountIds(ctx.admin.db)).toEqual([1, 2]);
  });

  ctx.test('a tx used after its session ended throws SessionClosedError', async () => {
    const sf = await ctx.open();
    let leaked: Session<ConformanceDB> | undefined;
    await sf.session(async (tx) => {
      leaked = tx;
      await selectOne(tx);
    });
    expect(await rejectionOf(leaked!.selectFrom('account').selectAll().execute())).toBeInstanceOf(SessionClosedError);
    expect(() => leaked!.onCommit(() => undefined)).toThrow(SessionClosedError);

    const managed = await sf.begin();
    await managed.commit();
    expect(managed.isEnded).toBe(true);
    expect(await rejectionOf(managed.selectFrom('account').selectAll().execute())).toBeInstanceOf(SessionClosedError);
    expect(await sf.session((tx) => selectOne(tx))).toBe(1);
    expect(sf.stats().inUse).toBe(0);
  });

  ctx.test('begin() with await using rolls back when not committed; commit() and rollback() end it', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    {
      await using session = await sf.begin();
      expect(sf.stats().inUse).toBe(1);
      expect(session.isEnded).toBe(false);
      expect(session.info.depth).toBe(0);
      await session.insertInto('account').values(ALICE).execute();
      if (ctx.shared) expect(await accountIds(observer.db)).toEqual([]);
    }
    expect(sf.stats().inUse).toBe(0);
    expect(await accountIds(observer.db)).toEqual([]);

    const committed = await sf.begin();
    await committed.insertInto('account').values(BOB).execute();
    await committed.commit();
    expect(committed.isEnded).toBe(true);
    await committed[Symbol.asyncDispose]();
    expect(await accountIds(observer.db)).toEqual([2]);

    const rolledBack = await sf.begin();
    await rolledBack.insertInto('account').values(CAROL).execute();
    await rolledBack.rollback();
    expect(rolledBack.isEnded).toBe(true);
    expect(sf.stats().inUse).toBe(0);
    expect(await accountIds(observer.db)).toEqual([2]);
  });
}
