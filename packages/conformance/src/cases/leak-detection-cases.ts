import { type LeakEvent, PoolTimeoutError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { delay } from '../suite/async-helpers.js';
import { ALICE } from '../suite/fixtures.js';
import { selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';

const LEAK_MS = 150;
/** This file's name as it appears in stack frames (from `src/` or `dist/`). */
const THIS_FILE = /leak-detection-cases\.(ts|js)/;

/**
 * `pool.leakDetectionMs` on a real server: a connection held too long is reported once, with
 * its session and the stack where it was acquired; a pool timeout names the oldest holder.
 *
 * @example
 * ```ts
 * registerLeakDetectionCases(ctx);
 * ```
 */
export function registerLeakDetectionCases(ctx: SuiteContext): void {
  ctx.test(
    'a session holding its connection past pool.leakDetectionMs is reported once, with where it began',
    async () => {
      const sf = await ctx.open({ pool: { leakDetectionMs: LEAK_MS } });
      const leaks: LeakEvent[] = [];
      sf.on('leak', (event) => leaks.push(event));
      let sessionId: string | undefined;
      await sf.session(async (tx) => {
        sessionId = sf.current()?.id;
        await tx.insertInto('account').values(ALICE).execute();
        await delay(LEAK_MS * 3);
      });
      await sf.session(async (tx) => selectOne(tx)); // returned quickly: not reported
      await delay(LEAK_MS * 2);
      expect(leaks).toHaveLength(1);
      const [leak] = leaks;
      expect(leak!.sessionId).toBe(sessionId);
      expect(leak!.heldMs).toBeGreaterThanOrEqual(LEAK_MS - 1);
      expect(leak!.heldMs).toBeLessThan(LEAK_MS * 3);
      expect(leak!.stack.split('\n')[0]).toMatch(THIS_FILE);
      expect(sf.stats().inUse).toBe(0);
    },
  );

  ctx.test('a pool timeout names the oldest holder: session, time held and acquisition site', async () => {
    const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0, timeoutMs: 200, leakDetectionMs: 60_000 } });
    let holder: string | undefined;
    const error = await sf
      .session(async (tx) => {
        holder = sf.current()?.id;
        await selectOne(tx);
        return sf.session(async () => 'never', { propagation: 'requiresNew' });
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    const message = (error as Error).message;
    expect(message).toContain(`session ${holder}) has been held for`);
    expect(message).toMatch(/it was acquired at:\n\s+at /);
    expect(message.slice(message.indexOf('acquired at:'))).toMatch(THIS_FILE);
    expect(sf.stats().inUse).toBe(0);
  });
}
