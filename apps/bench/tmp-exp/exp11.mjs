import { createSessionFactory } from '@sessionfactory/core';
import { sqlite } from '@sessionfactory/sqlite';
import Database from '../node_modules/better-sqlite3/lib/index.js';
import { CompiledQuery } from 'kysely';
import { mkdtempSync } from 'node:fs'; import { join } from 'node:path'; import { tmpdir } from 'node:os';
const dir = mkdtempSync(join(tmpdir(), 'x-'));
const file = join(dir, 'a.db');
const db = new Database(file); db.pragma('journal_mode = WAL');
db.exec('create table t (id integer primary key, v int)'); db.exec('insert into t values (1, 0)');
const proto = Object.getPrototypeOf(db.prepare('select 1'));
const orig = proto.run; const times = new Map();
proto.run = function (...a) { const t = performance.now(); try { return orig.apply(this, a); } finally { const k = this.source; const e = times.get(k) ?? [0, 0]; e[0] += performance.now() - t; e[1]++; times.set(k, e); } };
const sf = createSessionFactory(sqlite({ filename: file }), { pool: { prePing: false } });
const q = CompiledQuery.raw('update t set v = v + 1 where id = ?', [1]);
const N = 50000;
for (const mode of ['sync', 'async', 'sync', 'async']) {
  times.clear();
  const t = performance.now();
  for (let i = 0; i < N; i++) { if (mode === 'sync') sf.syncSession((tx) => tx.run(q)); else await sf.session(async (tx) => { await tx.executeQuery(q); }); }
  console.log(mode, ((performance.now() - t) * 1000 / N).toFixed(2), 'us/session;', [...times].map(([k, [s, n]]) => `${k}: ${(s * 1000 / n).toFixed(2)}us x${n}`).join(', '));
}
