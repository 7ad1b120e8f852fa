import { postgresKit } from '../dist/kits/postgres.js';
import { openFactories, closeFactories } from '../dist/suite.js';
import { itemId } from '../dist/schema.js';
import { sql } from 'kysely';
const which = process.argv[2];
const kit = await postgresKit('postgres://postgres@127.0.0.1:5432/test');
const f = openFactories(kit);
const body = async (tx, id) => { await tx.updateTable('bench_item').set({ qty: sql`qty + 1` }).where('id', '=', id).execute(); await tx.insertInto('bench_log').values({ item_id: id, note: 'bench' }).execute(); };
const ops = {
  raw: (i) => kit.rawSmallTx(itemId(i)),
  sf: (i) => f.noPing.session((tx) => body(tx, itemId(i))),
  kysely: (i) => kit.kysely.transaction().execute((tx) => body(tx, itemId(i))),
};
for (let i = 0; i < 300; i++) await ops[which](i);
console.error('MARK-START');
const N = 2000;
const c0 = process.cpuUsage(); const t0 = performance.now();
for (let i = 0; i < N; i++) await ops[which](i);
const c = process.cpuUsage(c0);
console.error(which, 'wall', ((performance.now() - t0) * 1000 / N).toFixed(0), 'us cpu user', (c.user / N).toFixed(0), 'sys', (c.system / N).toFixed(0));
await closeFactories(f); await kit.close();
