// What OpenTelemetry support costs an application that registers no tracer: `sf.session` on
// SQLite with telemetry switched off (`telemetry: false`, the path without any telemetry
// object) against the default (the `@opentelemetry/api` package importable, no provider
// registered, so the factory decides once that there is nothing to report to). Rounds are
// interleaved and their order alternates, so drift of the machine hits both rows alike.
// Prints sessions per second of each row (median of the rounds) and their ratio.
//
// Run: pnpm --filter @sessionfactory/bench build && node apps/bench/dist/telemetry-overhead.js [rounds] [sessions]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSessionFactory, type FactoryOptions, type SessionFactory } from '@sessionfactory/core';
import { sqlite } from '@sessionfactory/sqlite';
import { sql } from 'kysely';

interface Counter {
  counter: { id: number; n: number };
}

interface Row {
  readonly name: string;
  readonly options: FactoryOptions;
  readonly opsPerSec: number[];
}

const ROUNDS = Number(process.argv[2] ?? 15);
const SESSIONS = Number(process.argv[3] ?? 3000);
const WARMUP_SESSIONS = 500;

/** Whether core can see `@opentelemetry/api` (else the "present" row would measure nothing new). */
function otelApiVisibleToCore(): boolean {
  const coreEntry = fileURLToPath(import.meta.resolve('@sessionfactory/core'));
  try {
    createRequire(coreEntry).resolve('@opentelemetry/api');
    return true;
  } catch {
    return false;
  }
}

async function openFactory(file: string, options: FactoryOptions): Promise<SessionFactory<Counter>> {
  const sf = createSessionFactory<Counter>(sqlite(file), options);
  await sf.connection(async (db) => {
    await sql`create table if not exists counter (id integer primary key, n integer not null)`.execute(db);
    await sql`insert or ignore into counter (id, n) values (1, 0)`.execute(db);
  });
  return sf;
}

/** One session: read the counter and write it back (two statements plus BEGIN/COMMIT). */
async function oneSession(sf: SessionFactory<Counter>): Promise<void> {
  await sf.session(async (tx) => {
    const row = await tx.selectFrom('counter').select('n').where('id', '=', 1).executeTakeFirstOrThrow();
    await tx
      .updateTable('counter')
      .set({ n: row.n + 1 })
      .where('id', '=', 1)
      .execute();
  });
}

async function measure(sf: SessionFactory<Counter>, sessions: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < sessions; i++) await oneSession(sf);
  return sessions / ((performance.now() - started) / 1000);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-telemetry-bench-'));
  const rows: Row[] = [
    { name: 'telemetry absent (telemetry: false)', options: { telemetry: false }, opsPerSec: [] },
    { name: 'API present, no tracer registered (default)', options: {}, opsPerSec: [] },
  ];
  const factories = await Promise.all(rows.map((row, i) => openFactory(join(dir, `bench-${i}.db`), row.options)));
  try {
    for (const sf of factories) await measure(sf, WARMUP_SESSIONS);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      for (const index of order) rows[index]!.opsPerSec.push(await measure(factories[index]!, SESSIONS));
    }
  } finally {
    for (const sf of factories) await sf.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `@opentelemetry/api visible to core: ${otelApiVisibleToCore() ? 'yes' : 'NO (both rows take the same path)'}`,
  );
  console.log(`${ROUNDS} interleaved rounds of ${SESSIONS} sessions (select + update) on SQLite (file, WAL)`);
  for (const row of rows) {
    const low = Math.min(...row.opsPerSec).toFixed(0);
    const high = Math.max(...row.opsPerSec).toFixed(0);
    console.log(
      `  ${row.name.padEnd(46)} ${median(row.opsPerSec).toFixed(0).padStart(8)} sessions/s  (${low}..${high})`,
    );
  }
  const ratio = median(rows[1]!.opsPerSec) / median(rows[0]!.opsPerSec);
  console.log(`  ratio present/absent: ${ratio.toFixed(3)} (1.000 = no cost)`);
}

await main();
