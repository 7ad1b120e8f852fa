import { PropagationError, type SessionFactory, UnsupportedFeatureError } from '@sessionfactory/core';
import { type RollbackEachTest, rollbackEachTest, withRollback } from '@sessionfactory/core/testing';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { deferred, delay, rejectionOf } from '../suite/async-helpers.js';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE, BOB, CAROL, DAVE } from '../suite/fixtures.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, seedAccounts } from '../suite/table-readers.js';

type SF = SessionFactory<ConformanceDB>;

/** Inserts one account through the application's own kind of code: `sf.session`. */
function createAccount(sf: SF, row: typeof ALICE): Promise<void> {
  return sf.session(async (tx) => {
    await tx.insertInto('account').values(row).execute();
  });
}

/**
 * Rollback per test (`withRollback`, `rollbackEachTest` from `@sessionfactory/core/testing`):
 * nothing a test writes survives, data from before stays, the application's sessions become
 * savepoints, concurrent scopes never see each other, no connection is left behind.
 *
 * @example
 * ```ts
 * registerRollbackPerTestCases(ctx);
 * ```
 */
export function registerRollbackPerTestCases(ctx: SuiteContext): void {
  const skip = ctx.capabilities.savepoints ? undefined : 'capabilities.savepoints is false';

  ctx.test(
    'withRollback: nothing written inside survives, data from before stays',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await seedAccounts(observer.db, [ALICE]);
      const result = await withRollback(sf, async () => {
        expect(sf.current()).toBeUndefined(); // the test's transaction is not an application session
        await sf.session(async (tx) => {
          expect(sf.current()?.id).toBe(tx.info.id);
        });
        await createAccount(sf, BOB); // a session: a savepoint of the test's transaction
        await sf.db.insertInto('account').values(CAROL).execute(); // sf.db outside any session
        expect(await accountIds(sf.db)).toEqual([1, 2, 3]);
        expect(await sf.session((tx) => accountIds(tx))).toEqual([1, 2, 3]);
        // Nothing is committed: another connection does not see it.
        if (ctx.shared) expect(await accountIds(observer.db)).toEqual([1]);
        return 'done';
      });
      expect(result).toBe('done');
      expect(await accountIds(observer.db)).toEqual([1]);
      expect(await accountIds(sf.db)).toEqual([1]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip },
  );

  ctx.test(
    'withRollback: fn throwing rolls back and rethrows the same error',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const failure = new Error('test body failed');
      const error = await rejectionOf(
        withRollback(sf, async () => {
          await createAccount(sf, ALICE);
          throw failure;
        }),
      );
      expect(error).toBe(failure);
      expect(await accountIds(observer.db)).toEqual([]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip },
  );

  ctx.test(
    'withRollback: a failing session undoes only its own work',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await withRollback(sf, async () => {
        await createAccount(sf, ALICE);
        const failure = new Error('second session fails');
        const error = await rejectionOf(
          sf.session(async (tx) => {
            await tx.insertInto('account').values(BOB).execute();
            expect(await accountIds(tx)).toEqual([1, 2]);
            throw failure;
          }),
        );
        expect(error).toBe(failure);
        expect(await accountIds(sf.db)).toEqual([1]);
        await createAccount(sf, CAROL);
        expect(await accountIds(sf.db)).toEqual([1, 3]);
      });
      expect(await accountIds(observer.db)).toEqual([]);
    },
    { skip },
  );

  ctx.test(
    'withRollback: onCommit runs when the session savepoint is released, onRollback when it rolls back',
    async () => {
      const sf = await ctx.open();
      const trace: string[] = [];
      await withRollback(sf, async () => {
        await sf.session(async (tx) => {
          tx.onCommit(() => {
            trace.push('outer committed');
          });
          // required inside a session joins it: its hook waits for the outer session.
          await sf.session(async (inner) => {
            inner.onCommit(() => {
              trace.push('joined committed');
            });
          });
          trace.push('outer body done');
        });
        trace.push('after outer');
        await rejectionOf(
          sf.session(async (tx) => {
            tx.onCommit(() => {
              trace.push('failed committed');
            });
            tx.onRollback(() => {
              trace.push('failed rolled back');
            });
            throw new Error('fails');
          }),
        );
        trace.push('scope end');
      });
      expect(trace).toEqual([
        'outer body done',
        'outer committed',
        'joined committed',
        'after outer',
        'failed rolled back',
        'scope end',
      ]);
    },
    { skip },
  );

  ctx.test(
    'withRollback: requiresNew and nested become savepoints inside the test transaction',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const trace: string[] = [];
      await withRollback(sf, async () => {
        const outerFailure = new Error('outer session fails after requiresNew succeeded');
        const error = await rejectionOf(
          sf.session(async (tx) => {
            await tx.insertInto('account').values(ALICE).execute();
            await sf.session(
              async (own) => {
                // A savepoint of the outer session: it sees the outer session's rows.
                expect(await accountIds(own)).toEqual([1]);
                await own.insertInto('account').values(BOB).execute();
                own.onCommit(() => {
                  trace.push('requiresNew released');
                });
              },
              { propagation: 'requiresNew' },
            );
            expect(trace).toEqual(['requiresNew released']);
            const nestedError = await rejectionOf(
              sf.session(
                async (nested) => {
                  await nested.insertInto('account').values(CAROL).execute();
                  throw new Error('nested fails');
                },
                { propagation: 'nested' },
              ),
            );
            expect((nestedError as Error).message).toBe('nested fails');
            expect(await accountIds(tx)).toEqual([1, 2]);
            throw outerFailure;
          }),
        );
        expect(error).toBe(outerFailure);
        // requiresNew was a savepoint inside the failed session: undone with it.
        expect(await accountIds(sf.db)).toEqual([]);
        // requiresNew at top level: a savepoint of the test transaction, kept until the end.
        await sf.session(
          async (tx) => {
            await tx.insertInto('account').values(DAVE).execute();
          },
          { propagation: 'requiresNew' },
        );
        expect(await accountIds(sf.db)).toEqual([4]);
      });
      expect(await accountIds(observer.db)).toEqual([]);
    },
    { skip },
  );

  ctx.test(
    'withRollback: propagation errors stay as in production, scopes without a transaction stay inside',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await withRollback(sf, async () => {
        // No application session is open: mandatory still refuses, as it would in production.
        expect(await rejectionOf(sf.session(async () => {}, { propagation: 'mandatory' }))).toBeInstanceOf(
          PropagationError,
        );
        const never = await rejectionOf(
          sf.session(async () => {
            await sf.session(async () => {}, { propagation: 'never' });
          }),
        );
        expect(never).toBeInstanceOf(PropagationError);
        // notSupported would autocommit on another connection: here it stays in the test transaction.
        await sf.session(
          async (tx) => {
            await tx.insertInto('account').values(ALICE).execute();
          },
          { propagation: 'notSupported' },
        );
        await sf.session(
          async (tx) => {
            await tx.insertInto('account').values(BOB).execute();
          },
          { propagation: 'supports' },
        );
        expect(await accountIds(sf.db)).toEqual([1, 2]);
      });
      expect(await accountIds(observer.db)).toEqual([]);
    },
    { skip },
  );

  ctx.test(
    'withRollback: sf.begin() and sf.connection() run inside the test transaction',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const trace: string[] = [];
      await withRollback(sf, async () => {
        const kept = await sf.begin();
        await kept.insertInto('account').values(ALICE).execute();
        kept.onCommit(() => {
          trace.push('begin committed');
        });
        expect(kept.isEnded).toBe(false);
        await kept.commit();
        expect(kept.isEnded).toBe(true);
        expect(trace).toEqual(['begin committed']);
        await kept.rollback(); // after commit: nothing to do, as outside withRollback
        expect(await rejectionOf(kept.commit())).toBeDefined();

        const dropped = await sf.begin();
        await dropped.insertInto('account').values(BOB).execute();
        expect(await accountIds(dropped)).toEqual([1, 2]);
        await dropped.rollback();
        expect(await accountIds(sf.db)).toEqual([1]);

        {
          await using disposed = await sf.begin();
          await disposed.insertInto('account').values(DAVE).execute();
        }
        expect(await accountIds(sf.db)).toEqual([1]);

        await sf.connection(async (db) => {
          await db.insertInto('account').values(CAROL).execute();
        });
        expect(await accountIds(sf.db)).toEqual([1, 3]);
      });
      expect(await accountIds(observer.db)).toEqual([]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip },
  );

  ctx.test(
    "withRollback: Kysely's sf.db.transaction() and startTransaction() become savepoints",
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await withRollback(sf, async () => {
        await sf.db.transaction().execute(async (trx) => {
          await trx.insertInto('account').values(ALICE).execute();
        });
        const failure = new Error('kysely transaction fails');
        const error = await rejectionOf(
          sf.db.transaction().execute(async (trx) => {
            await trx.insertInto('account').values(BOB).execute();
            throw failure;
          }),
        );
        expect(error).toBe(failure);
        expect(await accountIds(sf.db)).toEqual([1]);
        const trx = await sf.db.startTransaction().execute();
        await trx.insertInto('account').values(CAROL).execute();
        const inner = await trx.savepoint('before_dave').execute();
        await inner.insertInto('account').values(DAVE).execute();
        await inner.rollbackToSavepoint('before_dave').execute();
        await trx.commit().execute();
        expect(await accountIds(sf.db)).toEqual([1, 3]);
        // Inside an application session it is refused, as in production.
        const refused = await rejectionOf(sf.session(() => sf.db.transaction().execute(async () => {})));
        expect(refused).toBeInstanceOf(PropagationError);
      });
      expect(await accountIds(observer.db)).toEqual([]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip },
  );

  ctx.test(
    'withRollback: concurrent scopes each get their own transaction and never see each other',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await seedAccounts(observer.db, [ALICE]);
      const firstWrote = deferred();
      const scope = (row: typeof ALICE, waitFor?: Promise<void>) =>
        withRollback(sf, async () => {
          await createAccount(sf, row);
          if (waitFor)
            await Promise.race([waitFor, delay(300)]); // overlap where the pool allows
          else firstWrote.resolve();
          await delay(20);
          return { db: await accountIds(sf.db), session: await sf.session((tx) => accountIds(tx)) };
        });
      const [a, b] = await Promise.all([scope(BOB), scope(CAROL, firstWrote.promise)]);
      expect(a).toEqual({ db: [1, 2], session: [1, 2] });
      expect(b).toEqual({ db: [1, 3], session: [1, 3] });
      expect(await accountIds(observer.db)).toEqual([1]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip },
  );

  const syncSkip = skip ?? (ctx.capabilities.sync === false ? 'capabilities.sync is false' : undefined);
  ctx.test(
    'withRollback(sf, fn, { sync: true }): syncSession runs on the test transaction',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const trace: string[] = [];
      await withRollback(
        sf,
        async () => {
          await createAccount(sf, ALICE);
          const ids = sf.syncSession((tx) => {
            tx.run(tx.db.insertInto('account').values(BOB));
            tx.onCommit(() => {
              trace.push('sync released');
            });
            return tx.all(tx.db.selectFrom('account').select('id').orderBy('id')).map((row) => Number(row.id));
          });
          expect(ids).toEqual([1, 2]);
          expect(trace).toEqual(['sync released']);
          expect(() =>
            sf.syncSession((tx) => {
              tx.run(tx.db.insertInto('account').values(CAROL));
              throw new Error('sync fails');
            }),
          ).toThrow('sync fails');
          await sf.session(async () => {
            sf.syncSession((tx) => {
              tx.run(tx.db.insertInto('account').values(DAVE));
            });
          });
          expect(await accountIds(sf.db)).toEqual([1, 2, 4]);
          if (ctx.shared) expect(await accountIds(observer.db)).toEqual([]);
        },
        { sync: true },
      );
      expect(await accountIds(observer.db)).toEqual([]);
      // Outside withRollback a sync session is its own transaction again.
      sf.syncSession((tx) => {
        tx.run(tx.db.insertInto('account').values(CAROL));
      });
      expect(await accountIds(observer.db)).toEqual([3]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip: syncSkip },
  );

  ctx.test(
    'withRollback without { sync: true }: syncSession joins natively, or refuses with UnsupportedFeatureError',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      await withRollback(sf, async () => {
        let error: unknown;
        try {
          sf.syncSession((tx) => {
            tx.run(tx.db.insertInto('account').values(ALICE));
          });
        } catch (thrown) {
          error = thrown;
        }
        if (ctx.capabilities.sync === 'native') {
          expect(error).toBeUndefined();
          expect(await accountIds(sf.db)).toEqual([1]);
        } else {
          expect(error).toBeInstanceOf(UnsupportedFeatureError);
          expect((error as Error).message).toMatch(/withRollback\(sf, fn, \{ sync: true \}\)/);
          expect(await accountIds(sf.db)).toEqual([]);
        }
      });
      expect(await accountIds(observer.db)).toEqual([]);
      expect(sf.stats().inUse).toBe(0);
    },
    { skip: syncSkip },
  );

  describe('rollbackEachTest in beforeEach/afterEach', () => {
    let sf: SF;
    let rb: RollbackEachTest;
    let seen: number[] | undefined;
    beforeEach(async () => {
      if (skip) return;
      sf = await ctx.open();
      await seedAccounts(ctx.observer(sf).db, [ALICE]);
      rb = rollbackEachTest(sf);
      await rb.begin();
    });
    afterEach(async () => {
      if (skip) return;
      await rb.rollback();
      seen = await accountIds(ctx.observer(sf).db);
      expect(seen).toEqual([1]);
      expect(sf.stats().inUse).toBe(0);
    });

    ctx.test(
      'rollbackEachTest: the test body runs inside the transaction begun in beforeEach',
      async () => {
        await createAccount(sf, BOB);
        await sf.db.insertInto('account').values(CAROL).execute();
        const managed = await sf.begin();
        await managed.insertInto('account').values(DAVE).execute();
        await managed.commit();
        expect(await accountIds(sf.db)).toEqual([1, 2, 3, 4]);
        if (ctx.shared) expect(await accountIds(ctx.observer(sf).db)).toEqual([1]);
        expect(await rejectionOf(rb.begin())).toBeInstanceOf(PropagationError);
        // A second helper on the same factory cannot open a second slot either.
        expect(await rejectionOf(rollbackEachTest(sf).begin())).toBeInstanceOf(PropagationError);
      },
      { skip },
    );

    ctx.test(
      'rollbackEachTest: the next test starts from the data before the previous one',
      async () => {
        expect(seen).toEqual([1]); // the previous test's afterEach rolled back
        expect(await accountIds(sf.db)).toEqual([1]);
        await createAccount(sf, BOB);
        expect(await accountIds(sf.db)).toEqual([1, 2]);
      },
      { skip },
    );
  });
}
