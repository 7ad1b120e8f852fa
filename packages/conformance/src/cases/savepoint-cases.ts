import type { Session, SessionFactory } from '@sessionfactory/core';
import { expect } from 'vitest';
import { delay, rejectionOf } from '../suite/async-helpers.js';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE, BOB, CAROL, DAVE } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, readLog } from '../suite/table-readers.js';

type Tx = Session<ConformanceDB>;
type ScopeOpener = (tx: Tx, fn: (scope: Tx) => Promise<void>) => Promise<void>;

/**
 * Savepoints through `tx.savepoint` and `propagation: 'nested'`: rollback keeps outer work,
 * siblings run one after another.
 *
 * @example
 * ```ts
 * registerSavepointCases(ctx);
 * ```
 */
export function registerSavepointCases(ctx: SuiteContext): void {
  const skip = ctx.capabilities.savepoints ? undefined : 'capabilities.savepoints is false';
  const variants: { label: string; opener: (sf: SessionFactory<ConformanceDB>) => ScopeOpener }[] = [
    { label: 'tx.savepoint', opener: () => (tx, fn) => tx.savepoint(fn) },
    { label: "propagation: 'nested'", opener: (sf) => (_tx, fn) => sf.session(fn, { propagation: 'nested' }) },
  ];

  for (const { label, opener } of variants) {
    ctx.test(
      `${label}: a rolled-back savepoint keeps the outer work, a released one keeps its own`,
      async () => {
        const sf = await ctx.open();
        const observer = ctx.observer(sf);
        const open = opener(sf);
        const failure = new Error('savepoint failure');
        await sf.session(async (tx) => {
          expect(tx.info.depth).toBe(0);
          await tx.insertInto('account').values(ALICE).execute();
          const error = await rejectionOf(
            open(tx, async (scope) => {
              expect(scope.info.depth).toBe(1);
              await scope.insertInto('account').values(BOB).execute();
              expect(await accountIds(scope)).toEqual([1, 2]);
              throw failure;
            }),
          );
          expect(error).toBe(failure);
          expect(await accountIds(tx)).toEqual([1]);
          await tx.insertInto('account').values(CAROL).execute();
          await open(tx, async (scope) => {
            await scope.insertInto('account').values(DAVE).execute();
          });
          expect(await accountIds(tx)).toEqual([1, 3, 4]);
        });
        expect(await accountIds(observer.db)).toEqual([1, 3, 4]);
      },
      { skip },
    );

    ctx.test(
      `${label}: sibling scopes started together run one after another`,
      async () => {
        const sf = await ctx.open({ logParameters: true });
        const observer = ctx.observer(sf);
        const open = opener(sf);
        const trace: string[] = [];
        const insertedLabels: string[] = [];
        sf.on('query', (event) => {
          if (!/insert\s+into\s+\W?event_log/i.test(event.sql)) return;
          const text = event.parameters?.find((p) => typeof p === 'string');
          if (typeof text === 'string') insertedLabels.push(text);
        });
        let nextId = 0;
        const scope = (name: string) => async (tx: Tx) => {
          trace.push(`${name}:start`);
          await tx
            .insertInto('event_log')
            .values({ id: ++nextId, label: `${name}1` })
            .execute();
          await delay(40);
          await tx
            .insertInto('event_log')
            .values({ id: ++nextId, label: `${name}2` })
            .execute();
          trace.push(`${name}:end`);
        };
        await sf.session(async (tx) => {
          await Promise.all([open(tx, scope('a')), open(tx, scope('b'))]);
        });
        expect(trace).toEqual(['a:start', 'a:end', 'b:start', 'b:end']);
        expect(insertedLabels).toEqual(['a1', 'a2', 'b1', 'b2']);
        expect(await readLog(observer.db)).toEqual(['a1', 'a2', 'b1', 'b2']);
      },
      { skip },
    );
  }

  ctx.test("propagation: 'nested' without a session around it starts a session", async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    await sf.session(
      async (tx) => {
        expect(tx.info.depth).toBe(0);
        await tx.insertInto('account').values(ALICE).execute();
      },
      { propagation: 'nested' },
    );
    expect(await accountIds(observer.db)).toEqual([1]);
  });
}
