import { createSessionFactory, type SessionFactory, UnsupportedFeatureError } from '@sessionfactory/core';
import { rollbackEachTest, withRollback } from '@sessionfactory/core/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postgres } from '../src/index.js';
import { createTestSchema, TEST_URL, type TestSchema } from './support/test-database.js';

// withRollback under vitest's own concurrency and hooks, on a real server: the scopes of
// concurrent tests are open at the same time on separate connections and never see each other.

interface DB {
  item: { id: number; label: string };
}

let schema: TestSchema;
let sf: SessionFactory<DB>;

beforeAll(async () => {
  schema = await createTestSchema();
  await schema.admin(`CREATE TABLE ${schema.name}.item (id int PRIMARY KEY, label text NOT NULL)`);
  await schema.admin(`INSERT INTO ${schema.name}.item VALUES (1, 'before')`);
  sf = createSessionFactory<DB>(postgres({ url: TEST_URL, searchPath: schema.name, applicationName: schema.name }), {
    pool: { size: 4 },
  });
});

afterAll(async () => {
  await sf?.close();
  await schema?.drop();
});

const ids = async () => (await sf.db.selectFrom('item').select('id').orderBy('id').execute()).map((r) => r.id);
const committedIds = async () =>
  (await schema.admin(`SELECT id FROM ${schema.name}.item ORDER BY id`)).map((row) => Number(row.id));

/** Resolves once `count` tests arrived, so each test proves the others' scopes are open meanwhile. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const all = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived += 1;
    if (arrived === count) open();
    return all;
  };
}

const backendsInTransaction = async () =>
  Number(
    (
      await schema.admin(
        // In a transaction, idle or running a statement (another test may be mid-query right now).
        'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL',
        [schema.name],
      )
    )[0]?.n,
  );

describe.concurrent('withRollback in concurrent tests', () => {
  const arrive = barrier(3);
  for (const id of [2, 3, 4]) {
    it(`test ${id} sees only its own rows while the others are open`, () =>
      withRollback(sf, async () => {
        await sf.session(async (tx) => {
          await tx
            .insertInto('item')
            .values({ id, label: `test ${id}` })
            .execute();
        });
        await arrive(); // all three scopes have written and none has ended
        expect(await backendsInTransaction()).toBeGreaterThanOrEqual(3);
        expect(await ids()).toEqual([1, id]);
        expect(await committedIds()).toEqual([1]);
      }));
  }
});

describe('rollbackEachTest with beforeEach/afterEach', () => {
  let rb2: ReturnType<typeof rollbackEachTest>;
  beforeEach(async () => {
    rb2 = rollbackEachTest(sf);
    await rb2.begin();
  });
  afterEach(async () => {
    await rb2.rollback();
    expect(await committedIds()).toEqual([1]);
  });

  it('the body writes through sessions and sf.db into the hook transaction', async () => {
    await sf.session(async (tx) => {
      await tx.insertInto('item').values({ id: 10, label: 'ten' }).execute();
    });
    await sf.db.insertInto('item').values({ id: 11, label: 'eleven' }).execute();
    expect(await ids()).toEqual([1, 10, 11]);
    expect(await committedIds()).toEqual([1]);
  });

  it('the next test starts again from the rows before', async () => {
    expect(await ids()).toEqual([1]);
  });

  it('rollbackEachTest and withRollback reject a non-factory', async () => {
    expect(() => rollbackEachTest({} as never)).toThrow(/not a session factory/);
    await expect(withRollback({} as never, async () => {})).rejects.toThrow(/not a session factory/);
  });
});

describe('rollbackEachTest(sf, { sync: true }): sync sessions join the test transaction through the worker', () => {
  let rb: ReturnType<typeof rollbackEachTest>;
  beforeEach(async () => {
    rb = rollbackEachTest(sf, { sync: true });
    await rb.begin();
  });
  afterEach(async () => {
    await rb.rollback();
    expect(await committedIds()).toEqual([1]);
  });

  it('a sync session and an async one see each other and nothing is committed', async () => {
    await sf.session(async (tx) => {
      await tx.insertInto('item').values({ id: 20, label: 'async' }).execute();
    });
    const seen = sf.syncSession((tx) => {
      tx.run(tx.db.insertInto('item').values({ id: 21, label: 'sync' }));
      return tx.all(tx.db.selectFrom('item').select('id').orderBy('id')).map((row) => row.id);
    });
    expect(seen).toEqual([1, 20, 21]);
    expect(await ids()).toEqual([1, 20, 21]);
    expect(await committedIds()).toEqual([1]);
    // One server session holds the whole test: the worker's connection, in a transaction.
    const pids = await sf.db
      .selectNoFrom((eb) => eb.fn<number>('pg_backend_pid', []).as('pid'))
      .executeTakeFirstOrThrow();
    const syncPid = sf.syncSession((tx) =>
      tx.get(tx.db.selectNoFrom((eb) => eb.fn<number>('pg_backend_pid', []).as('pid'))),
    );
    expect(syncPid?.pid).toBe(pids.pid);
  });

  it('withRollback without the option refuses a sync session with UnsupportedFeatureError', async () => {
    await rb.rollback();
    await expect(
      withRollback(sf, async () => {
        sf.syncSession(() => {});
      }),
    ).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await rb.begin();
  });
});

describe('afterwards', () => {
  it('leaves no connection checked out or idle in transaction', async () => {
    expect(sf.stats().inUse).toBe(0);
    expect(await backendsInTransaction()).toBe(0);
    expect(await committedIds()).toEqual([1]);
  });
});
