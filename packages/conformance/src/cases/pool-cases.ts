import { PoolTimeoutError, type SessionFactory } from '@sessionfactory/core';
import { expect } from 'vitest';
import { deferred, delay, settleTimed } from '../suite/async-helpers.js';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE } from '../suite/fixtures.js';
import { selectOne, serverConnectionId } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds } from '../suite/table-readers.js';

const POOL_TIMEOUT_MS = 250;
const ONE_CONNECTION = { size: 1, maxOverflow: 0, timeoutMs: POOL_TIMEOUT_MS } as const;

/**
 * An exhausted pool times out instead of hanging; a session waiting on its own factory's pool
 * gets the "outside its session" hint; old connections are recycled.
 *
 * @example
 * ```ts
 * registerPoolCases(ctx);
 * ```
 */
export function registerPoolCases(ctx: SuiteContext): void {
  ctx.test('an exhausted pool raises PoolTimeoutError after pool.timeoutMs instead of hanging', async () => {
    const sf = await ctx.open({ pool: ONE_CONNECTION });
    const holding = deferred();
    const release = deferred();
    const held = sf.session(async (tx) => {
      await selectOne(tx);
      holding.resolve();
      await release.promise;
      return 'held';
    });
    held.catch(holding.reject);
    await holding.promise;
    const timeoutsBefore = sf.stats().timeouts;
    let waited: Awaited<ReturnType<typeof settleTimed>>;
    try {
      waited = await settleTimed(sf.session(async () => 'never ran'));
    } finally {
      release.resolve();
    }
    expect(await held).toBe('held');
    expect(waited.error).toBeInstanceOf(PoolTimeoutError);
    expect(waited.ms).toBeGreaterThanOrEqual(POOL_TIMEOUT_MS - 50);
    expect(waited.ms).toBeLessThan(POOL_TIMEOUT_MS + 2_000);
    const message = (waited.error as Error).message;
    expect(message).toContain(String(POOL_TIMEOUT_MS));
    expect(message).toMatch(/overflow/i);
    expect(sf.stats().timeouts).toBe(timeoutsBefore + 1);
    expect(await sf.session(async (tx) => selectOne(tx))).toBe(1);
  });

  const outsideVariants: { label: string; outside: (sf: SessionFactory<ConformanceDB>) => Promise<unknown> }[] = [
    {
      label: 'a requiresNew session',
      outside: (sf) => sf.session((inner) => accountIds(inner), { propagation: 'requiresNew' }),
    },
    { label: 'sf.connection', outside: (sf) => sf.connection((db) => selectOne(db)) },
  ];
  for (const { label, outside } of outsideVariants) {
    ctx.test(`a session awaiting ${label} on its full pool times out with the "outside" hint`, async () => {
      const sf = await ctx.open({ pool: ONE_CONNECTION });
      const observer = ctx.observer(sf);
      const { error, ms } = await settleTimed(
        sf.session(async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          await outside(sf);
        }),
      );
      expect(error).toBeInstanceOf(PoolTimeoutError);
      expect((error as Error).message).toMatch(/outside/i);
      expect(ms).toBeLessThan(POOL_TIMEOUT_MS + 2_000);
      expect(sf.stats().inUse).toBe(0);
      expect(await accountIds(observer.db)).toEqual([]);
    });
  }

  ctx.test(
    'connections older than pool.recycleMs are replaced at checkout',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0, recycleMs: 500 } });
      const connectionIdSql = ctx.dialect.connectionIdSql;
      let lastConnectionId = -1;
      sf.on('query', (event) => {
        lastConnectionId = event.connectionId;
      });
      const use = () =>
        sf.session(async (tx) => {
          const server = connectionIdSql === undefined ? undefined : await serverConnectionId(tx, connectionIdSql);
          await selectOne(tx);
          return { core: lastConnectionId, server };
        });
      const first = await use();
      const again = await use();
      expect(again).toEqual(first);
      const recycledBefore = sf.stats().recycled;
      await delay(700);
      const second = await use();
      expect(second.core).not.toBe(first.core);
      // Behind a transaction pooler the server connection is the pooler's choice, not ours.
      if (connectionIdSql !== undefined && ctx.capabilities.sessionState !== false) {
        expect(second.server).not.toBe(first.server);
      }
      expect(sf.stats().recycled).toBeGreaterThan(recycledBefore);
      expect(sf.stats().open).toBe(1);
    },
    {
      skip: ctx.shared
        ? undefined
        : 'capabilities.sharedDatabase is false: the connection is the database, and recycling it would drop the data',
    },
  );
}
