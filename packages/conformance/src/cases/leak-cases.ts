import { expect } from 'vitest';
import type { SuiteContext } from '../suite/suite-context.js';

/**
 * Registered last: no connection was left checked out or idle inside a transaction after
 * any case (checked after each case, before its factories were closed), nor now.
 *
 * @example
 * ```ts
 * registerLeakCases(ctx);
 * ```
 */
export function registerLeakCases(ctx: SuiteContext): void {
  ctx.test('no connection is left in use or idle in a transaction after the suite', async () => {
    const idleInTransaction = ctx.dialect.idleInTransactionCount;
    if (idleInTransaction) expect(await idleInTransaction()).toBe(0);
    if (ctx.shared) expect(ctx.admin.stats().inUse).toBe(0);
    expect(ctx.leaks).toEqual([]);
  });
}
