import { createSessionFactory } from '@sessionfactory/core';
import { sqlite } from '@sessionfactory/sqlite';
import Database from 'better-sqlite3';
import { sql, CompiledQuery } from 'kysely';
import { mkdtempSync } from 'node:fs'; import { join } from 'node:path'; import { tmpdir } from 'node:os';
const which = process.argv[2];
const dir = mkdtempSync(join(tmpdir(), 'x-'));
const file = join(dir, 'a.db');
const db = new Database(file); db.pragma('journal_mode = WAL');
db.exec('create table t (id integer primary key, v int)'); db.exec('insert into t values (1, 0)');
const sf = createSessionFactory(sqlite({ filename: file }), which.endsWith('noping') ? { pool: { prePing: false } } : undefined);
const q = CompiledQuery.raw('update t set v = v + 1 where id = ?', [1]);
const sel = CompiledQuery.raw('select 1');
const ops = {
  sync: () => sf.syncSession((tx) => tx.run(q)),
  async: () => sf.session(async (tx) => { await tx.executeQuery(q); }),
  asyncnoping: () => sf.session(async (tx) => { await tx.executeQuery(q); }),
  dbsel: () => sf.db.executeQuery(sel),
  dbselnoping: () => sf.db.executeQuery(sel),
};
const op = ops[which];
const N = Number(process.argv[3] ?? 200000);
const t = performance.now();
for (let i = 0; i < N; i++) { const r = op(); if (r instanceof Promise) await r; }
console.log(which, ((performance.now() - t) * 1000 / N).toFixed(2), 'us/op');
