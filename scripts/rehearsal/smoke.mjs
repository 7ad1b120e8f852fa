// The rehearsal's smoke test, run by a fresh application that installed the packages from the
// registry: one unit of work on the database DATABASE_URL names, async and sync, with a typed
// error. Prints "smoke ok <dialect>" and exits 0, or throws.
import { openSessionFactory, UniqueViolationError } from '@sessionfactory/core';

const table = `smoke_${process.pid}_${Date.now().toString(36)}`;
const sf = await openSessionFactory();
try {
  await sf.connection(async (db) => {
    await db.schema
      .createTable(table)
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'varchar(50)')
      .execute();
  });
  await sf.session(async (tx) => {
    await tx
      .insertInto(table)
      .values([
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ])
      .execute();
  });
  let raised;
  try {
    await sf.session(async (tx) => {
      await tx.insertInto(table).values({ id: 3, name: 'c' }).execute();
      await tx.insertInto(table).values({ id: 1, name: 'duplicate' }).execute();
    });
  } catch (error) {
    raised = error;
  }
  if (!(raised instanceof UniqueViolationError)) throw new Error(`expected UniqueViolationError, got ${raised}`);
  // the sync form: native on SQLite, through core's worker thread on Postgres and MySQL
  const count = sf.syncSession((tx) => tx.get(tx.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n'))));
  if (Number(count.n) !== 2) throw new Error(`expected 2 rows after the rolled-back session, found ${count.n}`);
  console.log(`smoke ok ${sf.dialect}`);
} finally {
  await sf.connection((db) => db.schema.dropTable(table).ifExists().execute()).catch(() => {});
  await sf.close();
}
