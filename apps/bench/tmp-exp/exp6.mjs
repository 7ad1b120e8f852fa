import { createSessionFactory } from '@sessionfactory/core';
import { postgres } from '@sessionfactory/pg';
import { CompiledQuery } from 'kysely';
import pg from 'pg';

const url = 'postgres://postgres@127.0.0.1:5432/test';
const a = postgres(url);
const sf = createSessionFactory({
  ...a,
  workerSpec: { ...a.workerSpec, module: import.meta.resolve('@sessionfactory/pg') },
});
const pool = new pg.Pool({ connectionString: url, max: 1 });
const q = CompiledQuery.raw('select 1');
const N = 500;
function sync(k) {
  const t = performance.now();
  for (let i = 0; i < N; i++)
    sf.syncSession((tx) => {
      for (let j = 0; j < k; j++) tx.get(q);
    });
  return ((performance.now() - t) * 1000) / N;
}
async function raw(k) {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const c = await pool.connect();
    await c.query('BEGIN');
    for (let j = 0; j < k; j++) await c.query('select 1');
    await c.query('COMMIT');
    c.release();
  }
  return ((performance.now() - t) * 1000) / N;
}
sync(1);
for (let r = 0; r < 3; r++) {
  const c0 = process.cpuUsage();
  const s1 = sync(1),
    s5 = sync(5);
  const cpu = process.cpuUsage(c0);
  const r1 = await raw(1),
    r5 = await raw(5);
  console.log(
    `sync k=1 ${s1.toFixed(0)}us k=5 ${s5.toFixed(0)}us -> per extra stmt ${((s5 - s1) / 4).toFixed(0)}us | raw k=1 ${r1.toFixed(0)} k=5 ${r5.toFixed(0)} -> per stmt ${((r5 - r1) / 4).toFixed(0)}us | sync cpu/session ${((cpu.user + cpu.system) / (2 * N)).toFixed(0)}us`,
  );
}
await sf.close();
await pool.end();
