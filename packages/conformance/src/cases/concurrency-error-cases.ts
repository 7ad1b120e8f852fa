import {
  DeadlockError,
  ISOLATION_LEVELS,
  type IsolationLevel,
  LockTimeoutError,
  SerializationFailureError,
} from '@sessionfactory/core';
import { expect } from 'vitest';
import { deferred, rejectionOf, settleTimed } from '../suite/async-helpers.js';
import { barrier } from '../suite/barrier.js';
import { expectDatabaseError } from '../suite/expect-typed-error.js';
import { runRaw } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { balanceOf, readAccounts, seedAccounts } from '../suite/table-readers.js';

type ConcurrencyError = 'SERIALIZATION_FAILURE' | 'DEADLOCK' | 'LOCK_TIMEOUT';

/**
 * Lock timeout, deadlock and serialization failure raised by real concurrent sessions, as
 * far as `capabilities.concurrencyErrors` says the database raises them.
 *
 * @example
 * ```ts
 * registerConcurrencyErrorCases(ctx);
 * ```
 */
export function registerConcurrencyErrorCases(ctx: SuiteContext): void {
  const skipFor = (code: ConcurrencyError): string | undefined => {
    if (!ctx.capabilities.concurrencyErrors.includes(code)) {
      return `capabilities.concurrencyErrors does not include ${code}`;
    }
    if (!ctx.shared) return 'capabilities.sharedDatabase is false (needs two connections on one database)';
    return undefined;
  };

  ctx.test(
    'waiting on a row lock past the lock timeout raises LockTimeoutError',
    async () => {
      const holder = await ctx.open();
      const waiter = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      // Set on the waiter's only connection before its session, so even a BEGIN that waits
      // for the lock (SQLite's BEGIN IMMEDIATE) gives up quickly; servers reset session
      // settings after sf.connection(), so the session sets it again as its first statement.
      const setLockTimeout = ctx.helper('setLockTimeoutSql')(200);
      await waiter.connection((db) => runRaw(db, setLockTimeout));
      await seedAccounts(ctx.admin.db);
      const locked = deferred();
      const release = deferred();
      const held = holder.session(async (tx) => {
        await tx.updateTable('account').set({ balance: 1 }).where('id', '=', 1).execute();
        locked.resolve();
        await release.promise;
      });
      held.catch(locked.reject);
      let outcome: Awaited<ReturnType<typeof settleTimed>>;
      try {
        await locked.promise;
        outcome = await settleTimed(
          waiter.session(async (tx) => {
            await runRaw(tx, setLockTimeout);
            await tx.updateTable('account').set({ balance: 2 }).where('id', '=', 1).execute();
          }),
        );
      } finally {
        release.resolve();
      }
      await held;
      expectDatabaseError(outcome.error, LockTimeoutError, 'LOCK_TIMEOUT', waiter.dialect, true);
      expect(outcome.ms).toBeLessThan(10_000);
      expect(await balanceOf(ctx.admin.db, 1)).toBe(1);
    },
    { skip: skipFor('LOCK_TIMEOUT') },
  );

  ctx.test(
    'two sessions locking rows in opposite order: one gets DeadlockError, the other commits',
    async () => {
      const a = await ctx.open();
      const b = await ctx.open();
      await seedAccounts(ctx.admin.db);
      const bothLocked = barrier(2);
      const transfer = (sf: typeof a, first: number, second: number) =>
        sf.session(
          async (tx) => {
            await tx
              .updateTable('account')
              .set((eb) => ({ balance: eb('balance', '+', 1) }))
              .where('id', '=', first)
              .execute();
            await bothLocked.arrive();
            await tx
              .updateTable('account')
              .set((eb) => ({ balance: eb('balance', '+', 1) }))
              .where('id', '=', second)
              .execute();
            return 'committed';
          },
          // A deadline, so a database that never detects the deadlock fails this case instead of hanging it.
          { timeoutMs: 15_000 },
        );
      const outcomes = await Promise.allSettled([transfer(a, 1, 2), transfer(b, 2, 1)]);
      const rejected = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
      const fulfilled = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(fulfilled).toEqual(['committed']);
      expect(rejected).toHaveLength(1);
      expectDatabaseError(rejected[0], DeadlockError, 'DEADLOCK', a.dialect, true);
      expect((await readAccounts(ctx.admin.db)).map((r) => r.balance)).toEqual([101, 101]);
    },
    { skip: skipFor('DEADLOCK') },
  );

  const snapshotLevel = pickSnapshotLevel(ctx);
  const serializationSkip =
    skipFor('SERIALIZATION_FAILURE') ??
    (snapshotLevel === undefined
      ? 'no isolation level maps to repeatable read or serializable in capabilities.isolation'
      : undefined);

  ctx.test(
    `updating a row changed after the snapshot at '${snapshotLevel}' raises SerializationFailureError`,
    async () => {
      const sf = await ctx.open();
      const writer = ctx.admin;
      await seedAccounts(writer.db);
      const error = await rejectionOf(
        sf.session(
          async (tx) => {
            expect(await balanceOf(tx, 1)).toBe(100);
            await writer.session((w) => w.updateTable('account').set({ balance: 50 }).where('id', '=', 1).execute());
            await tx
              .updateTable('account')
              .set((eb) => ({ balance: eb('balance', '-', 10) }))
              .where('id', '=', 1)
              .execute();
          },
          { isolation: snapshotLevel },
        ),
      );
      expectDatabaseError(error, SerializationFailureError, 'SERIALIZATION_FAILURE', sf.dialect, true);
      expect(await balanceOf(writer.db, 1)).toBe(50);
    },
    { skip: serializationSkip },
  );

  ctx.test(
    `retry re-runs a session that hit a real serialization failure at '${snapshotLevel}'`,
    async () => {
      const sf = await ctx.open();
      const writer = ctx.admin;
      await seedAccounts(writer.db);
      let attempts = 0;
      const seen = await sf.session(
        async (tx) => {
          attempts += 1;
          const before = await balanceOf(tx, 1);
          if (attempts === 1) {
            await writer.session((w) => w.updateTable('account').set({ balance: 50 }).where('id', '=', 1).execute());
          }
          await tx
            .updateTable('account')
            .set((eb) => ({ balance: eb('balance', '-', 10) }))
            .where('id', '=', 1)
            .execute();
          return before;
        },
        { isolation: snapshotLevel, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 10 } },
      );
      expect(attempts).toBe(2);
      expect(seen).toBe(50);
      expect(await balanceOf(writer.db, 1)).toBe(40);
    },
    { skip: serializationSkip },
  );
}

/** The strongest requested level that runs with a transaction-wide snapshot (serializable first). */
function pickSnapshotLevel(ctx: SuiteContext): IsolationLevel | undefined {
  const levels = [...ISOLATION_LEVELS].reverse();
  return levels.find((level) => {
    const mapped = ctx.capabilities.isolation[level];
    return mapped === 'serializable' || mapped === 'repeatable read';
  });
}
