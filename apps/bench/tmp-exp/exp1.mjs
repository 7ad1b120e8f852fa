import { createSessionFactory } from '@sessionfactory/core';
import { postgres } from '@sessionfactory/pg';
import pg from 'pg';

const url = 'postgres://postgres@127.0.0.1:5432/test';
const pool = new pg.Pool({ connectionString: url, max: 2 });
const sf = createSessionFactory(postgres(url));
const N = 3000;
const SQL = 'select 1 as x where 1 = $1';
async function raw() {
  const c = await pool.connect();
  await c.query('BEGIN');
  const t = performance.now();
  for (let i = 0; i < N; i++) await c.query(SQL, [1]);
  const dt = performance.now() - t;
  await c.query('COMMIT');
  c.release();
  return (dt * 1000) / N;
}
async function lib() {
  let dt;
  await sf.session(async (tx) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) await tx.selectNoFrom((eb) => eb.val(1).as('x')).execute();
    dt = performance.now() - t;
  });
  return (dt * 1000) / N;
}
async function libRaw() {
  let dt;
  const { sql } = await import('kysely');
  await sf.session(async (tx) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) await sql`select 1 as x where 1 = ${1}`.execute(tx);
    dt = performance.now() - t;
  });
  return (dt * 1000) / N;
}
async function libDb() {
  let dt;
  await sf.session(async (tx) => {
    const t = performance.now();
    for (let i = 0; i < N; i++) await sf.db.selectNoFrom((eb) => eb.val(1).as('x')).execute();
    dt = performance.now() - t;
  });
  return (dt * 1000) / N;
}
for (let r = 0; r < 4; r++)
  console.log(
    'raw',
    (await raw()).toFixed(1),
    'lib tx',
    (await lib()).toFixed(1),
    'lib sql',
    (await libRaw()).toFixed(1),
    'lib sf.db',
    (await libDb()).toFixed(1),
  );
await sf.close();
await pool.end();
