import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSessionFactory, PropagationError } from '../src/index.js';
import { fakeAdapter, rollbackEachTest, withRollback } from '../src/testing/index.js';
import {
  BEGIN,
  COMMIT,
  type DB,
  harness,
  INSERT,
  ids,
  insert,
  RELEASE,
  ROLLBACK,
  ROLLBACK_TO,
  SAVEPOINT,
} from './support/harness.js';

// The statements withRollback sends, on the fake adapter: one BEGIN, the application's
// sessions as savepoints, one ROLLBACK; and nothing different once it is over.

describe('withRollback statements', () => {
  it('one transaction, sessions as savepoints, one ROLLBACK', async () => {
    const { adapter, sf } = await harness();
    await withRollback(sf, async () => {
      await sf.session((tx) => insert(tx, 1));
      await sf
        .session(async (tx) => {
          await insert(tx, 2);
          throw new Error('fails');
        })
        .catch(() => {});
      await insert(sf.db, 3);
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      INSERT,
      RELEASE(1),
      SAVEPOINT(2),
      INSERT,
      ROLLBACK_TO(2),
      INSERT,
      ROLLBACK,
    ]);
    expect(await ids(sf)).toEqual([]);
  });

  it('a session joining an application session takes no savepoint; requiresNew inside it does', async () => {
    const { adapter, sf } = await harness();
    await withRollback(sf, async () => {
      await sf.session(async () => {
        await sf.session((inner) => insert(inner, 1));
        await sf.session((own) => insert(own, 2), { propagation: 'requiresNew' });
      });
    });
    expect(adapter.statements).toEqual([
      BEGIN,
      SAVEPOINT(1),
      INSERT,
      SAVEPOINT(2),
      INSERT,
      RELEASE(2),
      RELEASE(1),
      ROLLBACK,
    ]);
  });

  it('afterwards sessions are plain transactions again', async () => {
    const { adapter, sf } = await harness();
    await withRollback(sf, () => sf.session((tx) => insert(tx, 1)));
    adapter.reset();
    await sf.session((tx) => insert(tx, 2));
    expect(adapter.statements).toEqual([BEGIN, INSERT, COMMIT]);
    expect(await ids(sf)).toEqual([2]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('close() waits for an open withRollback scope and it still rolls back', async () => {
    const { adapter, sf } = await harness();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const scope = withRollback(sf, async () => {
      await insert(sf.db, 1);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const closing = sf.close({ timeoutMs: 2000 });
    let closed = false;
    void closing.then(() => {
      closed = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toBe(false);
    release();
    await scope;
    await closing;
    expect(adapter.statements.at(-1)).toBe(ROLLBACK);
  });
});

// vitest's own concurrency: each test's scope is found through the factory's
// AsyncLocalStorage, so the scopes never mix even though they share one factory.
describe.concurrent('withRollback in concurrent tests on one factory', () => {
  const adapter = fakeAdapter();
  const sf = createSessionFactory<DB>(adapter, { pool: { size: 1, maxOverflow: 0, timeoutMs: 5000 } });
  beforeAll(() => sf.connection((db) => sql`create table t (id integer primary key, name text unique)`.execute(db)));
  afterAll(async () => {
    await sf.close();
    adapter.dispose();
  });
  for (const id of [1, 2, 3]) {
    it(`test ${id} sees only its own row`, () =>
      withRollback(sf, async () => {
        await sf.session((tx) => insert(tx, id));
        await new Promise((resolve) => setTimeout(resolve, 5));
        expect(await ids(sf)).toEqual([id]);
      }));
  }
});

describe('rollbackEachTest', () => {
  it('refuses a second begin() while its transaction is open, and rollback() twice is harmless', async () => {
    const { sf } = await harness();
    const rb = rollbackEachTest(sf);
    await rb.begin();
    await expect(rb.begin()).rejects.toBeInstanceOf(PropagationError);
    await insert(sf.db, 1);
    expect(await ids(sf)).toEqual([1]);
    await rb.rollback();
    await rb.rollback();
    expect(await ids(sf)).toEqual([]);
    expect(sf.stats().inUse).toBe(0);
  });

  it('rejects an argument that is not a factory', () => {
    expect(() => rollbackEachTest({} as never)).toThrow(/not a session factory/);
  });
});
