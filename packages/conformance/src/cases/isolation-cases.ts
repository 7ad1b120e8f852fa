import { ISOLATION_LEVELS, type IsolationLevel, UnsupportedFeatureError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { delay, rejectionOf } from '../suite/async-helpers.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { balanceOf, readAccounts, seedAccounts } from '../suite/table-readers.js';

/** How long the reading session waits for the concurrent writer before its second read. */
const WRITER_GRACE_MS = 500;

/** Levels whose promise includes a stable snapshot for the whole transaction. */
const SNAPSHOT_LEVELS: readonly IsolationLevel[] = ['repeatable read', 'serializable'];

/**
 * Each isolation level maps as `capabilities.isolation` declares (never weaker), and read skew
 * is absent where the mapped level promises it.
 *
 * @example
 * ```ts
 * registerIsolationCases(ctx);
 * ```
 */
export function registerIsolationCases(ctx: SuiteContext): void {
  for (const level of ISOLATION_LEVELS) {
    const mapped = ctx.capabilities.isolation[level];
    const title =
      mapped === undefined
        ? `isolation '${level}' is rejected with UnsupportedFeatureError (not in capabilities.isolation)`
        : `isolation '${level}' runs as '${mapped}', as capabilities.isolation declares`;
    ctx.test(title, async () => {
      const sf = await ctx.open();
      if (mapped === undefined) {
        const error = await rejectionOf(sf.session(async () => 'ran', { isolation: level }));
        expect(error).toBeInstanceOf(UnsupportedFeatureError);
        return;
      }
      expect(ISOLATION_LEVELS.indexOf(mapped)).toBeGreaterThanOrEqual(ISOLATION_LEVELS.indexOf(level));
      const seen = await sf.session(
        async (tx) => {
          await readAccounts(tx);
          return { info: tx.info.isolation, current: sf.current()?.isolation };
        },
        { isolation: level },
      );
      expect(seen).toEqual({ info: mapped, current: mapped });
    });
  }

  for (const level of ISOLATION_LEVELS) {
    const mapped = ctx.capabilities.isolation[level];
    if (mapped === undefined || !SNAPSHOT_LEVELS.includes(mapped)) continue;
    ctx.test(
      `no read skew at '${level}' (runs as '${mapped}'): a write committed between two reads is not seen`,
      async () => {
        const sf = await ctx.open();
        const writer = ctx.admin;
        await seedAccounts(writer.db);
        let writerDone: Promise<void> | undefined;
        const reads = await sf.session(
          async (tx) => {
            const first = await balanceOf(tx, 1);
            writerDone = writer.session(async (w) => {
              await w.updateTable('account').set({ balance: 70 }).where('id', '=', 1).execute();
              await w.updateTable('account').set({ balance: 130 }).where('id', '=', 2).execute();
            });
            writerDone.catch(() => undefined);
            // MVCC levels let the writer commit now; lock-based ones block it until this session ends.
            await Promise.race([writerDone, delay(WRITER_GRACE_MS)]);
            return { first, second: [await balanceOf(tx, 1), await balanceOf(tx, 2)] };
          },
          { isolation: level, readOnly: ctx.capabilities.readOnly },
        );
        await writerDone;
        expect(reads).toEqual({ first: 100, second: [100, 100] });
        expect((await readAccounts(writer.db)).map((a) => a.balance)).toEqual([70, 130]);
      },
      {
        skip: ctx.shared
          ? undefined
          : 'capabilities.sharedDatabase is false (a concurrent writer needs a second connection)',
      },
    );
  }
}
