import { postgresKit } from '../dist/kits/postgres.js';
import { itemId } from '../dist/schema.js';
import { closeFactories, openFactories } from '../dist/suite.js';

const kit = await postgresKit('postgres://postgres@127.0.0.1:5432/test');
const f = openFactories(kit);
const sf = f.standard;
const N = 400;
const sel = (db, id) =>
  db.selectFrom('bench_item').select(['id', 'name', 'qty']).where('id', '=', id).executeTakeFirst();
async function raw() {
  const t = performance.now();
  await kit.rawSelectsInTx(N, 0);
  return ((performance.now() - t) * 1000) / N;
}
async function lib() {
  const t = performance.now();
  await sf.session(async (tx) => {
    for (let i = 0; i < N; i++) await sel(tx, itemId(i));
  });
  return ((performance.now() - t) * 1000) / N;
}
async function libNoPing() {
  const t = performance.now();
  await f.noPing.session(async (tx) => {
    for (let i = 0; i < N; i++) await sel(tx, itemId(i));
  });
  return ((performance.now() - t) * 1000) / N;
}
async function ky() {
  const t = performance.now();
  await kit.kysely.transaction().execute(async (tx) => {
    for (let i = 0; i < N; i++) await sel(tx, itemId(i));
  });
  return ((performance.now() - t) * 1000) / N;
}
const acc = { raw: [], lib: [], libNoPing: [], ky: [] };
for (let r = 0; r < 25; r++) {
  acc.raw.push(await raw());
  acc.lib.push(await lib());
  acc.libNoPing.push(await libNoPing());
  acc.ky.push(await ky());
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1].toFixed(1);
const min = (a) => Math.min(...a).toFixed(1);
for (const k in acc) console.log(k, 'median', med(acc[k]), 'min', min(acc[k]));
await closeFactories(f);
await kit.close();
