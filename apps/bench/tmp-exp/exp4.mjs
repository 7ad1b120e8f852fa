import { compare } from '../dist/harness.js';
import { postgresKit } from '../dist/kits/postgres.js';
import { itemId } from '../dist/schema.js';
import { closeFactories, openFactories } from '../dist/suite.js';

const kit = await postgresKit('postgres://postgres@127.0.0.1:5432/test');
const f = openFactories(kit);
const sf = f.standard;
const sel = (db, id) =>
  db.selectFrom('bench_item').select(['id', 'name', 'qty']).where('id', '=', id).executeTakeFirst();
const KSQL = 'select "id", "name", "qty" from "bench_item" where "id" = $1';
const inTx = (text) => async (n, first) => {
  await kit.kysely.connection().execute(async (db) => {});
};

import pg from 'pg';

const variants = [
  { name: 'raw', run: (n, first) => kit.rawSelectsInTx(n, first) },
  {
    name: 'kysely trx',
    run: (n, first) =>
      kit.kysely.transaction().execute(async (tx) => {
        for (let i = first; i < first + n; i++) await sel(tx, itemId(i));
      }),
  },
  {
    name: 'sf tx',
    run: (n, first) =>
      sf.session(async (tx) => {
        for (let i = first; i < first + n; i++) await sel(tx, itemId(i));
      }),
  },
  {
    name: 'sf tx raw text',
    run: async (n, first) => {
      const { CompiledQuery } = await import('kysely');
      await sf.session(async (tx) => {
        for (let i = first; i < first + n; i++)
          await tx.executeQuery(CompiledQuery.raw('SELECT id, name, qty FROM bench_item WHERE id = $1', [itemId(i)]));
      });
    },
  },
  {
    name: 'sf tx kysely text',
    run: async (n, first) => {
      const { CompiledQuery } = await import('kysely');
      await sf.session(async (tx) => {
        for (let i = first; i < first + n; i++) await tx.executeQuery(CompiledQuery.raw(KSQL, [itemId(i)]));
      });
    },
  },
];
const res = await compare(variants, { roundMs: 60, rounds: 11, warmupMs: 100 });
for (const r of res)
  console.log(r.name.padEnd(20), (1e6 / r.opsPerSec).toFixed(1), 'us/op', (r.spread * 100).toFixed(0) + '%');
await closeFactories(f);
await kit.close();
