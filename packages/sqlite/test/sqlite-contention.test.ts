import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSessionFactory,
  type FactoryOptions,
  LockTimeoutError,
  PoolTimeoutError,
  type SessionFactory,
} from '@sessionfactory/core';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SqliteConfig, sqlite } from '../src/index.js';
import { deferred, holdWriteLockInChild, watchEventLoop } from './support/contention.js';

interface DB {
  item: { id: number | null; name: string };
}

/**
 * Longest acceptable pause of the event loop while sessions wait for a lock. Generous for a
 * busy 2-core machine; the failure it guards against (SQLite's busy handler blocking the thread)
 * pauses it for the whole lock wait, hundreds of milliseconds to seconds in these cases.
 */
const MAX_LAG_MS = 250;

// Writers of one process queue in the event loop; a lock held by another process is waited
// for asynchronously. Neither ever blocks the thread.
describe('sqlite contention', () => {
  let dir: string;
  let filename: string;
  const factories: SessionFactory<DB>[] = [];

  const open = (options?: FactoryOptions, config: Omit<SqliteConfig, 'filename'> = {}) => {
    const sf = createSessionFactory<DB>(sqlite({ filename, ...config }), options);
    factories.push(sf);
    return sf;
  };
  const names = async (sf: SessionFactory<DB>) =>
    (await sf.db.selectFrom('item').select('name').orderBy('id').execute()).map((r) => r.name);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sf-sqlite-contention-'));
    filename = join(dir, 'db.sqlite');
    const setup = open();
    await setup.connection(async (db) => {
      await sql`create table item (id integer primary key, name text not null)`.execute(db);
    });
  });

  afterEach(async () => {
    await Promise.all(factories.splice(0).map((sf) => sf.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('two concurrent writers on a pool of 2 queue in process without blocking the event loop', async () => {
    // The reproduction: this froze the loop for the whole busy timeout, then failed.
    const sf = open({ pool: { size: 2 } });
    const lag = watchEventLoop();
    const writer = (name: string) =>
      sf.session(async (tx) => {
        await tx.insertInto('item').values({ name }).execute();
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
    const started = performance.now();
    await Promise.all([writer('a'), writer('b')]);
    const elapsed = performance.now() - started;
    const { maxGapMs, ticks } = lag.stop();
    expect(await names(sf)).toEqual(['a', 'b']);
    // One after the other, the loop running all along.
    expect(elapsed).toBeGreaterThanOrEqual(550);
    expect(maxGapMs).toBeLessThan(MAX_LAG_MS);
    expect(ticks).toBeGreaterThan(20);
  });

  it('serves waiting writers first come, first served', async () => {
    const sf = open();
    const order: number[] = [];
    const hold = deferred();
    const first = sf.session(async (tx) => {
      order.push(0);
      await tx.insertInto('item').values({ name: '0' }).execute();
      await hold.promise;
    });
    const waiters = [1, 2, 3, 4, 5].map((n) =>
      sf.session(async (tx) => {
        order.push(n);
        await tx
          .insertInto('item')
          .values({ name: String(n) })
          .execute();
        await new Promise((resolve) => setTimeout(resolve, 5 * (6 - n))); // later ones finish sooner if run at once
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      expect(sf.stats().waiting).toBe(5);
    } finally {
      hold.resolve();
    }
    await Promise.all([first, ...waiters]);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(await names(sf)).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('a writer waiting longer than pool.timeoutMs fails with PoolTimeoutError, not a frozen loop', async () => {
    const sf = open({ pool: { timeoutMs: 300 } });
    const hold = deferred();
    const holder = sf.session(async (tx) => {
      await tx.insertInto('item').values({ name: 'held' }).execute();
      await hold.promise;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lag = watchEventLoop();
    const started = performance.now();
    const waiter = await sf
      .session(async (tx) => tx.insertInto('item').values({ name: 'late' }).execute())
      .catch((error: unknown) => error);
    const elapsed = performance.now() - started;
    const { maxGapMs } = lag.stop();
    hold.resolve();
    await holder;
    expect(waiter).toBeInstanceOf(PoolTimeoutError);
    expect((waiter as Error).message).toMatch(/300 ms waiting for the write slot/);
    expect((waiter as Error).message).toMatch(/readOnly/);
    expect(elapsed).toBeGreaterThanOrEqual(280);
    expect(elapsed).toBeLessThan(2_000);
    expect(maxGapMs).toBeLessThan(MAX_LAG_MS);
    expect(sf.stats()).toMatchObject({ waiting: 0, timeouts: 1 });
    expect(await names(sf)).toEqual(['held']);
    // The slot is free again.
    await sf.session(async (tx) => tx.insertInto('item').values({ name: 'next' }).execute());
    expect(await names(sf)).toEqual(['held', 'next']);
  });

  it('readers progress beside a writer that holds the lock', async () => {
    const sf = open();
    await sf.session(async (tx) => tx.insertInto('item').values({ name: 'committed' }).execute());
    const hold = deferred();
    const inside = deferred();
    const writer = sf.session(async (tx) => {
      await tx.insertInto('item').values({ name: 'uncommitted' }).execute();
      inside.resolve();
      await hold.promise;
    });
    await inside.promise;
    try {
      // A read-only session, an sf.db read outside any session, and a ping, all while the writer waits.
      const readOnly = await sf.session(async (tx) => names({ db: tx } as unknown as SessionFactory<DB>), {
        readOnly: true,
      });
      const outside = await names(sf);
      await sf.ping();
      expect(readOnly).toEqual(['committed']);
      expect(outside).toEqual(['committed']);
      // Several readers at once, each holding its connection across awaits.
      const concurrent = await Promise.all(
        [1, 2, 3].map(() =>
          sf.session(
            async (tx) => {
              await new Promise((resolve) => setTimeout(resolve, 20));
              return (await tx.selectFrom('item').select('name').execute()).length;
            },
            { readOnly: true },
          ),
        ),
      );
      expect(concurrent).toEqual([1, 1, 1]);
    } finally {
      hold.resolve();
    }
    await writer;
    expect(await names(sf)).toEqual(['committed', 'uncommitted']);
  });

  it('an sf.db write outside a session waits for the writer asynchronously, then succeeds', async () => {
    const sf = open();
    const hold = deferred();
    const inside = deferred();
    const writer = sf.session(async (tx) => {
      await tx.insertInto('item').values({ name: 'session' }).execute();
      inside.resolve();
      await hold.promise;
    });
    await inside.promise;
    const lag = watchEventLoop();
    const outside = sf.db.insertInto('item').values({ name: 'autocommit' }).execute();
    setTimeout(() => hold.resolve(), 200);
    await Promise.all([writer, outside]);
    expect(lag.stop().maxGapMs).toBeLessThan(MAX_LAG_MS);
    expect(await names(sf)).toEqual(['session', 'autocommit']);
  });

  it('a sync writer fails at once while an async session holds the writer slot; a sync reader runs', async () => {
    const sf = open();
    const hold = deferred();
    const inside = deferred();
    const writer = sf.session(async (tx) => {
      await tx.insertInto('item').values({ name: 'async' }).execute();
      inside.resolve();
      await hold.promise;
    });
    await inside.promise;
    try {
      const started = performance.now();
      expect(() => sf.syncSession((tx) => tx.run(tx.db.insertInto('item').values({ name: 'sync' })))).toThrow(
        PoolTimeoutError,
      );
      // At once: not after the busy timeout (5 s) a blocking wait would take.
      expect(performance.now() - started).toBeLessThan(1_000);
      // A read-only sync session needs no writer slot: it runs beside the async writer.
      const seen = sf.syncSession((tx) => tx.all(tx.db.selectFrom('item').select('name')), { readOnly: true });
      expect(seen).toEqual([]);
    } finally {
      hold.resolve();
    }
    await writer;
    sf.syncSession((tx) => tx.run(tx.db.insertInto('item').values({ name: 'sync' })));
    expect(await names(sf)).toEqual(['async', 'sync']);
  });

  describe('another process holds the write lock', () => {
    it('a writer waits for it without blocking the event loop, then commits', async () => {
      const sf = open({}, { busyTimeoutMs: 10_000 });
      await sf.ping(); // open a connection before the child takes the lock
      const holder = await holdWriteLockInChild(filename, 800);
      const lag = watchEventLoop();
      const started = performance.now();
      await sf.session(async (tx) => tx.insertInto('item').values({ name: 'after' }).execute());
      const elapsed = performance.now() - started;
      const { maxGapMs, ticks } = lag.stop();
      await holder.done;
      expect(elapsed).toBeGreaterThanOrEqual(300); // it did wait for the child
      expect(maxGapMs).toBeLessThan(MAX_LAG_MS);
      expect(ticks).toBeGreaterThan(20);
      expect(await names(sf)).toEqual(['from the other process', 'after']);
    });

    it('PRAGMA busy_timeout run through a connection becomes its lock wait; reset restores the default', async () => {
      const sf = open({ pool: { size: 1 } }, { busyTimeoutMs: 10_000 });
      await sf.ping();
      const holder = await holdWriteLockInChild(filename, 3_000);
      try {
        const outcome = await sf.connection(async (db) => {
          await sql`PRAGMA busy_timeout = 150`.execute(db);
          const started = performance.now();
          const error = await sql`INSERT INTO item (name) VALUES ('x')`.execute(db).catch((e: unknown) => e);
          return { error, elapsed: performance.now() - started };
        });
        expect(outcome.error).toBeInstanceOf(LockTimeoutError);
        expect(outcome.elapsed).toBeGreaterThanOrEqual(140);
        expect(outcome.elapsed).toBeLessThan(2_000);
        // The connection went back reset: no blocking busy handler on it.
        const after = await sf.connection(
          async (db) => (await sql<{ timeout: number }>`PRAGMA busy_timeout`.execute(db)).rows,
        );
        expect(Object.values(after[0]!)[0]).toBe(0);
      } finally {
        holder.child.kill();
        await holder.done.catch(() => {});
      }
    });

    it('past busyTimeoutMs the writer fails with LockTimeoutError, the loop never blocked', async () => {
      const sf = open({}, { busyTimeoutMs: 400 });
      await sf.ping();
      const holder = await holdWriteLockInChild(filename, 3_000);
      const lag = watchEventLoop();
      const started = performance.now();
      const error = await sf
        .session(async (tx) => tx.insertInto('item').values({ name: 'never' }).execute())
        .catch((e: unknown) => e);
      const elapsed = performance.now() - started;
      const { maxGapMs } = lag.stop();
      // Readers are not blocked by the other process's writer (WAL).
      expect(await names(sf)).toEqual([]);
      holder.child.kill();
      await holder.done.catch(() => {});
      expect(error).toBeInstanceOf(LockTimeoutError);
      expect((error as LockTimeoutError).originalCode).toBe('SQLITE_BUSY');
      expect(elapsed).toBeGreaterThanOrEqual(380);
      expect(elapsed).toBeLessThan(2_500);
      expect(maxGapMs).toBeLessThan(MAX_LAG_MS);
      // The failed BEGIN cost one connection; the next session works.
      await sf.session(async (tx) => tx.insertInto('item').values({ name: 'later' }).execute());
      expect(await names(sf)).toEqual(['later']);
    });
  });
});
