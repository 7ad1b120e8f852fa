import { ConnectionError } from '@sessionfactory/core';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import { barrier } from '../suite/barrier.js';
import { expectDatabaseError } from '../suite/expect-typed-error.js';
import { selectOne, serverConnectionId } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';

/**
 * Connections killed from outside are invalidated and replaced; prePing recovers from a
 * server restart.
 *
 * @example
 * ```ts
 * registerConnectionLossCases(ctx);
 * ```
 */
export function registerConnectionLossCases(ctx: SuiteContext): void {
  const killSkip = ctx.serverHelpersSkip(['connectionIdSql', 'killConnection']);

  ctx.test(
    'a backend killed during a session: ConnectionError, connection invalidated, next session succeeds',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const idSql = ctx.helper('connectionIdSql');
      const kill = ctx.helper('killConnection');
      const invalidations: string[] = [];
      sf.on('invalidate', (event) => invalidations.push(event.reason));
      const before = sf.stats().invalidated;
      let killedId = -1;
      const error = await rejectionOf(
        sf.session(async (tx) => {
          killedId = await serverConnectionId(tx, idSql);
          await kill(killedId);
          await selectOne(tx);
        }),
      );
      expectDatabaseError(error, ConnectionError, 'CONNECTION', sf.dialect);
      expect(sf.stats().invalidated).toBe(before + 1);
      expect(invalidations).toHaveLength(1);
      expect(sf.stats().inUse).toBe(0);
      const nextId = await sf.session((tx) => serverConnectionId(tx, idSql));
      expect(nextId).not.toBe(killedId);
      expect(sf.stats().open).toBe(1);
    },
    { skip: killSkip },
  );

  ctx.test(
    'an idle connection killed in the pool is replaced at checkout (prePing)',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0, prePing: true } });
      const idSql = ctx.helper('connectionIdSql');
      const kill = ctx.helper('killConnection');
      const killedId = await sf.session((tx) => serverConnectionId(tx, idSql));
      const before = sf.stats().invalidated;
      await kill(killedId);
      const nextId = await sf.session((tx) => serverConnectionId(tx, idSql));
      expect(nextId).not.toBe(killedId);
      expect(sf.stats().invalidated).toBe(before + 1);
      expect(sf.stats()).toMatchObject({ open: 1, inUse: 0 });
    },
    {
      skip:
        killSkip ??
        ctx.sessionStateSkip(
          'an idle client connection of the pooler is no server backend; killing one leaves it working',
        ),
    },
  );

  ctx.test(
    'prePing recovers every pooled connection after a server restart',
    async () => {
      const size = 3;
      const sf = await ctx.open({ pool: { size, maxOverflow: 0, prePing: true } });
      const restart = ctx.helper('restartServer');
      const fillPool = async () => {
        const all = barrier(size);
        return Promise.all(
          Array.from({ length: size }, () =>
            sf.session(async (tx) => {
              await all.arrive();
              return selectOne(tx);
            }),
          ),
        );
      };
      expect(await fillPool()).toEqual([1, 1, 1]);
      expect(sf.stats()).toMatchObject({ open: size, idle: size });
      const before = sf.stats().invalidated;
      await restart();
      expect(await sf.session((tx) => selectOne(tx))).toBe(1);
      expect(sf.stats().invalidated).toBeGreaterThan(before);
      expect(await fillPool()).toEqual([1, 1, 1]);
      expect(sf.stats().invalidated).toBe(before + size);
      expect(sf.stats()).toMatchObject({ open: size, inUse: 0 });
    },
    { skip: ctx.serverHelpersSkip(['restartServer']) },
  );
}
