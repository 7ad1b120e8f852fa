import type { SessionFactory } from '@sessionfactory/core';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { rejectionOf } from '../suite/async-helpers.js';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE, BOB } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, readAccounts } from '../suite/table-readers.js';

type AccountParams = { id: number; owner: string; balance: number };

function preparedAccounts(sf: SessionFactory<ConformanceDB>) {
  return {
    insert: sf.prepare<AccountParams>((db, param) =>
      db.insertInto('account').values({ id: param('id'), owner: param('owner'), balance: param('balance') }),
    ),
    byId: sf.prepare<{ id: number }, { id: number; owner: string; balance: number }>((db, param) =>
      db.selectFrom('account').select(['id', 'owner', 'balance']).where('id', '=', param('id')),
    ),
    credit: sf.prepare<{ id: number; amount: number }>((db, param) =>
      db
        .updateTable('account')
        .set((eb) => ({ balance: eb('balance', '+', param('amount')) }))
        .where('id', '=', param('id')),
    ),
  };
}

/**
 * `sf.prepare`: a query compiled once with named parameters runs like `sf.db` (outside a
 * session on a pooled connection, inside one in its transaction), on `tx`, and in sync sessions.
 *
 * @example
 * ```ts
 * registerPreparedQueryCases(ctx);
 * ```
 */
export function registerPreparedQueryCases(ctx: SuiteContext): void {
  ctx.test('a prepared query runs many times with different parameters, outside a session', async () => {
    const sf = await ctx.open();
    const { insert, byId, credit } = preparedAccounts(sf);
    expect(Number((await insert.executeQuery(ALICE)).numAffectedRows)).toBe(1);
    await insert.execute(BOB);
    expect(Number((await credit.executeQuery({ id: 2, amount: 5 })).numAffectedRows)).toBe(1);
    expect(await byId.executeTakeFirst({ id: 1 })).toEqual(ALICE);
    expect(await byId.execute({ id: 2 })).toEqual([{ ...BOB, balance: 105 }]);
    expect(await byId.executeTakeFirst({ id: 3 })).toBeUndefined();
    expect(sf.stats().inUse).toBe(0);
  });

  ctx.test('inside a session a prepared query joins its transaction and rolls back with it', async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const { insert, byId } = preparedAccounts(sf);
    const boom = new Error('boom');
    const error = await rejectionOf(
      sf.session(async (tx) => {
        await insert.executeQuery(ALICE);
        await tx.executeQuery(insert.compile(BOB));
        expect(await byId.executeTakeFirst({ id: 1 })).toEqual(ALICE);
        expect((await tx.executeQuery(byId.compile({ id: 2 }))).rows).toEqual([BOB]);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(await accountIds(observer.db)).toEqual([]);
    await sf.session(async () => {
      await insert.execute(ALICE);
    });
    expect(await readAccounts(observer.db)).toEqual([ALICE]);
  });

  ctx.test(
    'a sync session runs prepared queries through compile(params)',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const { insert, byId } = preparedAccounts(sf);
      const seen = sf.syncSession((tx) => {
        tx.run(insert.compile(ALICE));
        return tx.get(byId.compile({ id: 1 }));
      });
      expect(seen).toEqual(ALICE);
      expect(await readAccounts(observer.db)).toEqual([ALICE]);
    },
    { skip: ctx.capabilities.sync === false ? 'capabilities.sync is false' : undefined },
  );

  ctx.test('bad parameters and params written into SQL text are TypeErrors', async () => {
    const sf = await ctx.open();
    const { byId } = preparedAccounts(sf);
    await expect(byId.execute({} as { id: number })).rejects.toThrow(/missing parameter 'id'/);
    expect(() =>
      sf.prepare<{ owner: string }>((db, param) =>
        db
          .selectFrom('account')
          .selectAll()
          .where('owner', '=', sql.lit(param('owner'))),
      ),
    ).toThrow(TypeError);
    expect(() => sf.prepare('select 1' as never)).toThrow(/build must be a function/);
  });
}
