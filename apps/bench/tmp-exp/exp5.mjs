import { CompiledQuery } from 'kysely';
import { postgresKit } from '../dist/kits/postgres.js';
import { itemId } from '../dist/schema.js';
import { closeFactories, openFactories } from '../dist/suite.js';

const kit = await postgresKit('postgres://postgres@127.0.0.1:5432/test');
const f = openFactories(kit);
const sf = f.standard;
const sel = (db, id) =>
  db.selectFrom('bench_item').select(['id', 'name', 'qty']).where('id', '=', id).executeTakeFirst();
const N = 3000;
const variants = {
  raw: () => kit.rawSelectsInTx(N, 0),
  kysely: () =>
    kit.kysely.transaction().execute(async (tx) => {
      for (let i = 0; i < N; i++) await sel(tx, itemId(i));
    }),
  sfRawText: () =>
    sf.session(async (tx) => {
      for (let i = 0; i < N; i++)
        await tx.executeQuery(CompiledQuery.raw('SELECT id, name, qty FROM bench_item WHERE id = $1', [itemId(i)]));
    }),
  rawAsyncExtra: async () => {
    const c = await kit.kysely.connection().execute(async (db) => {});
  },
};
for (let r = 0; r < 3; r++)
  for (const [k, fn] of Object.entries(variants)) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await fn();
    const wall = ((performance.now() - t0) * 1000) / N;
    const cpu = process.cpuUsage(c0);
    console.log(
      k.padEnd(12),
      'wall',
      wall.toFixed(1),
      'cpu user',
      (cpu.user / N).toFixed(1),
      'sys',
      (cpu.system / N).toFixed(1),
    );
  }
await closeFactories(f);
await kit.close();
