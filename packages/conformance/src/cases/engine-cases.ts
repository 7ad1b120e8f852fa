import {
  FactoryClosedError,
  SessionClosedError,
  type SessionFactory,
  SessionFactoryError,
  TransactionTimeoutError,
  UndefinedTableError,
} from '@sessionfactory/core';
import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';
import { delay, rejectionOf, settleTimed } from '../suite/async-helpers.js';
import { ALICE, BOB, CAROL } from '../suite/fixtures.js';
import { runRaw, selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { accountIds, seedAccounts } from '../suite/table-readers.js';

const DEADLINE_MS = 300;

/**
 * One engine on every path: deadlines that end the transaction (managed sessions, sync
 * scopes), streams that never outlive their session, Kysely's own transaction API on `sf.db`
 * through the same rules (quoted savepoint names, afterEnd, events, abort signals), and
 * `sf.connection` handing its connection back clean.
 *
 * @example
 * ```ts
 * registerEngineCases(ctx);
 * ```
 */
export function registerEngineCases(ctx: SuiteContext): void {
  const caps = ctx.capabilities;
  const workerSkip =
    caps.sync === 'worker'
      ? undefined
      : `capabilities.sync is ${JSON.stringify(caps.sync)}, not 'worker' (no call timeout)`;

  ctx.test(
    'sf.begin({ timeoutMs }): at the deadline the transaction is rolled back and released untouched',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      const s = await sf.begin({ timeoutMs: DEADLINE_MS });
      await s.insertInto('account').values(ALICE).execute();
      await delay(DEADLINE_MS * 3);
      // Nobody touched s since: the deadline alone rolled back and released the connection.
      expect(sf.stats().inUse).toBe(0);
      if (ctx.dialect.idleInTransactionCount) expect(await ctx.dialect.idleInTransactionCount()).toBe(0);
      const next = await settleTimed(sf.session((tx) => tx.insertInto('account').values(BOB).execute()));
      expect(next.error).toBeUndefined();
      expect(await rejectionOf(s.commit())).toBeInstanceOf(TransactionTimeoutError);
      expect(await accountIds(observer.db)).toEqual([BOB.id]);
    },
  );

  ctx.test(
    'a stream abandoned after its session timed out never touches the connection again; the next session commits',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      await seedAccounts(observer.db, [ALICE, BOB, CAROL]);
      let iterator: AsyncIterator<unknown> | undefined;
      const timedOut = await rejectionOf(
        sf.session(
          async (tx) => {
            iterator = tx.selectFrom('account').select('id').orderBy('id').stream(1)[Symbol.asyncIterator]();
            await iterator.next();
            await delay(DEADLINE_MS * 3);
          },
          { timeoutMs: DEADLINE_MS },
        ),
      );
      expect(timedOut).toBeInstanceOf(TransactionTimeoutError);
      // The next session holds the only connection while the abandoned stream asks for more.
      const done = await settleTimed(
        sf.session(async (tx) => {
          await tx.insertInto('account').values({ id: 9, owner: 'zed', balance: 1 }).execute();
          const late = await rejectionOf(iterator!.next());
          expect(late).toBeInstanceOf(SessionClosedError);
          await tx.updateTable('account').set({ balance: 2 }).where('id', '=', 9).execute();
        }),
      );
      expect(done.error).toBeUndefined();
      expect(await accountIds(observer.db)).toEqual([ALICE.id, BOB.id, CAROL.id, 9]);
    },
  );

  ctx.test('streams go through the query runner: typed errors and query events', async () => {
    const sf = await ctx.open();
    const events: string[] = [];
    sf.on('query', (event) => events.push(event.sql));
    const error = await rejectionOf(
      sf.session(async (tx) => {
        for await (const row of (tx as Kysely<any>).selectFrom('no_such_table').selectAll().stream(10)) void row;
      }),
    );
    expect(error).toBeInstanceOf(UndefinedTableError);
    const inSession = await sf.session(async (tx) => {
      const ids: number[] = [];
      for await (const row of tx.selectFrom('account').select('id').stream(5)) ids.push(row.id);
      return ids;
    });
    expect(inSession).toEqual([]);
    expect(events.some((text) => /no_such_table/.test(text))).toBe(true);
    expect(events.some((text) => /from "?`?account/.test(text))).toBe(true);
  });

  ctx.test(
    'a worker-bridged syncSession whose fn swallows a call timeout does not report a commit',
    async () => {
      const sf = await ctx.open({ sync: { callTimeoutMs: 1_500 } });
      const observer = ctx.observer(sf);
      const sleepSql = ctx.helper('sleepSql');
      await warmUpSyncWorker(sf);
      const commits: string[] = [];
      sf.on('commit', ({ sessionId }) => commits.push(sessionId));
      let onCommitRan = false;
      const error = (() => {
        try {
          sf.syncSession((tx) => {
            tx.run(tx.db.insertInto('account').values(ALICE));
            tx.onCommit(() => {
              onCommitRan = true;
            });
            try {
              tx.run(sql.raw(sleepSql(5)).compile(tx.db));
            } catch {
              // swallowed: the transaction is gone all the same
            }
            return 'returned normally';
          });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(TransactionTimeoutError);
      expect(commits).toEqual([]);
      expect(onCommitRan).toBe(false);
      expect(await accountIds(observer.db)).toEqual([]);
      expect(await connectionsInUseSettle(sf)).toBe(0);
    },
    { skip: workerSkip },
  );

  ctx.test(
    'syncSession({ timeoutMs }) is a deadline: the statement is cancelled, rolled back, the thread released in time',
    async () => {
      const sf = await ctx.open();
      const observer = ctx.observer(sf);
      const sleepSql = ctx.helper('sleepSql');
      await warmUpSyncWorker(sf);
      const started = performance.now();
      const error = (() => {
        try {
          sf.syncSession(
            (tx) => {
              tx.run(tx.db.insertInto('account').values(ALICE));
              tx.run(sql.raw(sleepSql(5)).compile(tx.db));
            },
            { timeoutMs: DEADLINE_MS },
          );
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      const blockedMs = performance.now() - started;
      expect(error).toBeInstanceOf(TransactionTimeoutError);
      expect(blockedMs).toBeLessThan(DEADLINE_MS + 1_000);
      expect(sf.syncSession((tx) => tx.get<{ one: number }>(sql`select 1 as one`.compile(tx.db))?.one)).toBe(1);
      expect(await accountIds(observer.db)).toEqual([]);
      expect(await connectionsInUseSettle(sf)).toBe(0);
    },
    { skip: workerSkip },
  );

  ctx.test(
    'close() right after a sync call timeout still cancels the running statement on the server',
    async () => {
      const sf = await ctx.open({ sync: { callTimeoutMs: 1_500 } });
      const observer = ctx.observer(sf);
      const sleepSql = ctx.helper('sleepSql');
      await warmUpSyncWorker(sf);
      const error = (() => {
        try {
          sf.syncSession((tx) => {
            tx.run(tx.db.insertInto('account').values(ALICE));
            tx.run(sql.raw(sleepSql(10)).compile(tx.db));
          });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(TransactionTimeoutError);
      await sf.close();
      // Were the statement still running, its transaction would still hold ALICE's key.
      const insert = await settleTimed(observer.db.insertInto('account').values(ALICE).execute());
      expect(insert.error).toBeUndefined();
      expect(insert.ms).toBeLessThan(3_000);
    },
    { skip: workerSkip },
  );

  ctx.test("Kysely's savepoint names on sf.db are quoted identifiers, never SQL", async () => {
    const sf = await ctx.open();
    const observer = ctx.observer(sf);
    const hostile = 'x"`; DROP TABLE account; --';
    const trx = await sf.db.startTransaction().execute();
    await trx.insertInto('account').values(ALICE).execute();
    const withSpace = await trx.savepoint('my sp').execute();
    await withSpace.insertInto('account').values(BOB).execute();
    const rolledBack = await withSpace.rollbackToSavepoint('my sp').execute();
    const afterHostile = await rolledBack.savepoint(hostile).execute();
    await afterHostile.insertInto('account').values(CAROL).execute();
    await afterHostile.releaseSavepoint(hostile).execute();
    await afterHostile.commit().execute();
    expect(await accountIds(observer.db)).toEqual([ALICE.id, CAROL.id]);
  });

  ctx.test(
    "Kysely's transaction() on sf.db runs the session lifecycle: events, rollback on throw, state restored",
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      const ended: string[] = [];
      sf.on('commit', () => ended.push('commit'));
      sf.on('rollback', () => ended.push('rollback'));
      if (caps.readOnly) {
        const rows = await sf.db
          .transaction()
          .setAccessMode('read only')
          .execute((trx) => trx.selectFrom('account').selectAll().execute());
        expect(rows).toEqual([]);
      }
      const failure = new Error('boom');
      const error = await rejectionOf(
        sf.db.transaction().execute(async (trx) => {
          await trx.insertInto('account').values(BOB).execute();
          throw failure;
        }),
      );
      expect(error).toBe(failure);
      // The same (only) connection writes again: a read-only transaction left nothing behind.
      await sf.db.insertInto('account').values(ALICE).execute();
      expect(ended).toEqual(caps.readOnly ? ['commit', 'rollback'] : ['rollback']);
      expect(await accountIds(observer.db)).toEqual([ALICE.id]);
      expect(sf.stats().inUse).toBe(0);
    },
  );

  ctx.test('an already aborted signal stops sf.db.connection() before it acquires a connection', async () => {
    const sf = await ctx.open();
    let checkouts = 0;
    sf.on('checkout', () => checkouts++);
    const reason = new Error('stop');
    const error = await rejectionOf(
      sf.db.connection().execute((db) => selectOne(db), { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBe(reason);
    expect(checkouts).toBe(0);
  });

  ctx.test(
    "inflightQueryAbortStrategy 'cancel query' cancels the statement on the server",
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const sleepSql = ctx.helper('sleepSql');
      const { error, ms } = await settleTimed(
        sql.raw(sleepSql(5)).execute(sf.db, {
          signal: AbortSignal.timeout(DEADLINE_MS),
          inflightQueryAbortStrategy: 'cancel query',
        } as never),
      );
      expect(error).toBeDefined();
      expect(ms).toBeLessThan(2_500);
      const next = await settleTimed(selectOne(sf.db));
      expect(next.value).toBe(1);
      expect(next.ms).toBeLessThan(2_500);
    },
    { skip: caps.cancel ? undefined : 'capabilities.cancel is false' },
  );

  ctx.test(
    'close({ timeoutMs }) cuts running sessions off with FactoryClosedError and resolves after they settled',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      const observer = ctx.observer(sf);
      const order: string[] = [];
      const sleepSql = caps.cancel ? ctx.helper('sleepSql') : undefined;
      const session = sf
        .session(async (tx) => {
          await tx.insertInto('account').values(ALICE).execute();
          // A long statement where the server can cancel it; otherwise a long wait between statements.
          if (sleepSql) await runRaw(tx, sleepSql(5));
          else await delay(600);
          await tx.insertInto('account').values(BOB).execute();
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        )
        .finally(() => order.push('session settled'));
      await delay(150);
      const started = performance.now();
      await sf.close({ timeoutMs: 200 });
      order.push('close resolved');
      expect(await session).toBeInstanceOf(FactoryClosedError);
      expect(order).toEqual(['session settled', 'close resolved']);
      expect(performance.now() - started).toBeLessThan(4_500);
      if (ctx.shared) expect(await accountIds(observer.db)).toEqual([]);
      if (ctx.dialect.idleInTransactionCount) expect(await ctx.dialect.idleInTransactionCount()).toBe(0);
    },
  );

  ctx.test(
    'sf.db outside a session: each statement has its connection back in the pool when it settles, also when it fails',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      await seedAccounts(sf.db, [ALICE]);
      const row = await sf.db.selectFrom('account').select('id').where('id', '=', ALICE.id).executeTakeFirst();
      expect(row?.id).toBe(ALICE.id);
      expect(sf.stats().inUse).toBe(0);
      const failed = await rejectionOf(
        sf.db
          .selectFrom('no_such_table' as 'account')
          .selectAll()
          .execute(),
      );
      expect(failed).toBeInstanceOf(UndefinedTableError);
      expect(sf.stats().inUse).toBe(0);
      // Many at once on one connection: each waits its turn, none is lost, the connection ends idle.
      const ids = await Promise.all(
        Array.from({ length: 20 }, () =>
          sf.db.selectFrom('account').select('id').where('id', '=', ALICE.id).executeTakeFirstOrThrow(),
        ),
      );
      expect(ids.map((r) => r.id)).toEqual(Array(20).fill(ALICE.id));
      expect(sf.stats()).toMatchObject({ inUse: 0, open: 1 });
    },
  );

  ctx.test('sf.db.destroy() closes the factory instead of silently doing nothing', async () => {
    const sf = await ctx.open();
    await sf.db.destroy();
    expect(sf.isClosed).toBe(true);
    expect(await rejectionOf(sf.session((tx) => selectOne(tx)))).toBeInstanceOf(SessionFactoryError);
  });

  ctx.test(
    'sf.connection(fn) hands its connection back clean: a temporary table does not reach the next user',
    async () => {
      const sf = await ctx.open({ pool: { size: 1, maxOverflow: 0 } });
      await sf.connection(async (db) => {
        await runRaw(db, 'create temporary table scratch_state (x integer)');
        await runRaw(db, 'insert into scratch_state values (1)');
      });
      const error = await rejectionOf(sf.connection((db) => runRaw(db, 'select x from scratch_state')));
      expect(error).toBeInstanceOf(UndefinedTableError);
      expect(await sf.session((tx) => selectOne(tx))).toBe(1);
    },
    { skip: ctx.sessionStateSkip('a temporary table lives on one server connection') },
  );
}

/** Starts the sync worker (a busy machine may need more than one call timeout for that). */
async function warmUpSyncWorker(sf: SessionFactory<any>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      sf.syncSession((tx) => tx.get(sql`select 1 as one`.compile(tx.db)));
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await delay(200);
    }
  }
}

/** Connections in use once the worker has finished the cleanup it does after a timed-out call (bounded wait). */
async function connectionsInUseSettle(sf: SessionFactory<any>): Promise<number> {
  for (let waited = 0; sf.stats().inUse !== 0 && waited < 5_000; waited += 50) await delay(50);
  return sf.stats().inUse;
}
