import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { createSessionFactory } from '../src/index.js';
import { fakeAdapter } from '../src/testing/index.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

function setup() {
  const adapter = fakeAdapter();
  const sf = createSessionFactory<any>(adapter);
  cleanup.push(async () => {
    await sf.close();
    adapter.dispose();
  });
  return { adapter, sf };
}

it('commits and records statements', async () => {
  const { adapter, sf } = setup();
  await sf.connection(async (db) => {
    await sql`create table t (id integer primary key)`.execute(db);
  });
  adapter.reset();
  await sf.session(async (tx) => {
    await tx.insertInto('t').values({ id: 1 }).execute();
    await tx.savepoint(async (sp) => {
      await sp.insertInto('t').values({ id: 2 }).execute();
    });
  });
  expect(adapter.statements).toEqual([
    'BEGIN READ WRITE',
    'insert into "t" ("id") values (?)',
    'SAVEPOINT sp_1',
    'insert into "t" ("id") values (?)',
    'RELEASE SAVEPOINT sp_1',
    'COMMIT',
  ]);
  const rows = await sf.db.selectFrom('t').selectAll().execute();
  expect(rows).toHaveLength(2);
  const n = sf.syncSession((tx) => tx.all(tx.db.selectFrom('t').selectAll()));
  expect(n).toHaveLength(2);
});
