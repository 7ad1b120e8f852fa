// A small application bundled with esbuild (see build.mjs): core, every adapter and Kysely
// end up in dist/app.js; the adapter modules are handed to core explicitly, since a bundle
// cannot import them by package name. Prints "bundled ok <dialect>".
import { openSessionFactory } from '@sessionfactory/core';
import * as mysql from '@sessionfactory/mysql';
import * as pg from '@sessionfactory/pg';
import * as sqlite from '@sessionfactory/sqlite';

const sf = await openSessionFactory(process.env.DATABASE_URL, { adapterModules: [pg, mysql, sqlite] });
try {
  const { n } = await sf.session(async (tx) => tx.selectNoFrom((eb) => eb.val(40).as('n')).executeTakeFirstOrThrow());
  // the sync form: on Postgres and MySQL through the worker bundled as dist/sync-worker.js
  const sync = sf.syncSession((tx) => tx.get(tx.db.selectNoFrom((eb) => eb.val(2).as('m'))));
  if (Number(n) + Number(sync.m) !== 42) throw new Error(`expected 40 + 2, got ${n} + ${sync.m}`);
  console.log(`bundled ok ${sf.dialect}`);
} finally {
  await sf.close();
}
