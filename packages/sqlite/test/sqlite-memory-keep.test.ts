import { ConnectionError, createSessionFactory, ForeignKeyViolationError } from '@sessionfactory/core';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { sqlite } from '../src/index.js';

interface DB {
  parent: { id: number };
  child: { id: number; parent_id: number };
}

// With `:memory:` the only connection IS the database: a failed transaction-control
// statement must not destroy it when it is still usable.
describe('sqlite :memory: keeps its only connection after a failed COMMIT', () => {
  const sf = createSessionFactory<DB>(sqlite(':memory:'));
  afterEach(() => sf.close());

  it('a deferred foreign key that fails at COMMIT rolls back; the tables and earlier data survive', async () => {
    await sf.connection(async (db) => {
      await sql`create table parent (id integer primary key)`.execute(db);
      await sql`create table child (id integer primary key, parent_id integer not null references parent (id) deferrable initially deferred)`.execute(
        db,
      );
    });
    await sf.session((tx) => tx.insertInto('parent').values({ id: 1 }).execute());
    const failed = await sf
      .session(async (tx) => {
        await tx.insertInto('child').values({ id: 1, parent_id: 99 }).execute(); // checked at COMMIT
      })
      .catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(ForeignKeyViolationError);
    expect(sf.stats()).toMatchObject({ invalidated: 0, inUse: 0 });
    const parents = await sf.db.selectFrom('parent').select('id').execute();
    expect(parents).toEqual([{ id: 1 }]);
    expect(await sf.db.selectFrom('child').select('id').execute()).toEqual([]);
    await sf.session((tx) => tx.insertInto('child').values({ id: 2, parent_id: 1 }).execute());
    expect(await sf.db.selectFrom('child').select('id').execute()).toEqual([{ id: 2 }]);
  });
});

describe('sqlite :memory: never hands out an empty database silently', () => {
  it('once its only connection is gone, opening another fails loudly with ConnectionError', async () => {
    const adapter = sqlite(':memory:');
    const first = await adapter.connect();
    await first.close();
    await expect(adapter.connect()).rejects.toThrow(ConnectionError);
    await expect(adapter.connect()).rejects.toThrow(/in-memory SQLite database is gone/);
  });
});
