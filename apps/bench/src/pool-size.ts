import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSessionFactory, type SessionFactory } from '@sessionfactory/core';
import { sqlite } from '@sessionfactory/sqlite';
import { CompiledQuery, sql } from 'kysely';
import { median } from './harness.js';
import { type BenchDB, createTablesSql, itemId, seedStatements } from './schema.js';

/**
 * How the SQLite pool size changes a mixed load on a file database: writer sessions that await
 * between statements (as a web handler awaiting another service would), read-only sessions that
 * do the same, and plain `sf.db` point reads, all at once. Sizes are measured in interleaved
 * rounds; the medians decide `SQLITE_FILE_POOL_SIZE` (see packages/sqlite/README.md).
 *
 *   node dist/pool-size.js [--rounds=5] [--round-ms=1000] [--sizes=1,2,3,4,6,8]
 */
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k!, v ?? ''] as const;
  }),
);
const ROUNDS = Number(args.get('rounds') ?? 5);
const ROUND_MS = Number(args.get('round-ms') ?? 1000);
const SIZES = (args.get('sizes') ?? '1,2,3,4,6,8').split(',').map(Number);
/** Closed-loop clients of each kind. */
const WRITERS = 4;
const SESSION_READERS = 8;
const POINT_READERS = 8;
/** The await inside each session, standing in for application I/O. */
const AWAIT_MS = 2;

const pause = () => new Promise((resolve) => setTimeout(resolve, AWAIT_MS));

interface Counts {
  writes: number;
  sessionReads: number;
  pointReads: number;
  /** Worst wait of a point read, in ms. */
  worstPointMs: number;
}

async function round(sf: SessionFactory<BenchDB>, ms: number): Promise<Counts> {
  const counts: Counts = { writes: 0, sessionReads: 0, pointReads: 0, worstPointMs: 0 };
  const until = performance.now() + ms;
  let i = 0;
  const loop = async (body: () => Promise<void>) => {
    while (performance.now() < until) await body();
  };
  await Promise.all([
    ...Array.from({ length: WRITERS }, () =>
      loop(async () => {
        const id = itemId(i++);
        await sf.session(async (tx) => {
          await tx.updateTable('bench_item').set({ qty: sql<number>`qty + 1` }).where('id', '=', id).execute();
          await pause();
          await tx.insertInto('bench_log').values({ item_id: id, note: 'pool' }).execute();
        });
        counts.writes++;
      }),
    ),
    ...Array.from({ length: SESSION_READERS }, () =>
      loop(async () => {
        const id = itemId(i++);
        await sf.session(
          async (tx) => {
            await tx.selectFrom('bench_item').selectAll().where('id', '=', id).executeTakeFirst();
            await pause();
            await tx
              .selectFrom('bench_log')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirst();
          },
          { readOnly: true },
        );
        counts.sessionReads++;
      }),
    ),
    ...Array.from({ length: POINT_READERS }, () =>
      loop(async () => {
        const started = performance.now();
        await sf.db.selectFrom('bench_item').selectAll().where('id', '=', itemId(i++)).executeTakeFirst();
        counts.worstPointMs = Math.max(counts.worstPointMs, performance.now() - started);
        counts.pointReads++;
        await pause();
      }),
    ),
  ]);
  return counts;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sf-pool-size-'));
  const filename = join(dir, 'bench.db');
  const setup = createSessionFactory<BenchDB>(sqlite(filename));
  await setup.connection(async (db) => {
    for (const ddl of createTablesSql('sqlite')) await sql.raw(ddl).execute(db);
    for (const { sql: text, params } of seedStatements('sqlite')) {
      await db.executeQuery(CompiledQuery.raw(text, params));
    }
  });
  await setup.close();
  const factories = SIZES.map((size) =>
    createSessionFactory<BenchDB>(sqlite({ filename, pragmas: { synchronous: 'NORMAL' } }), {
      pool: { size, maxOverflow: 0 },
    }),
  );
  const results = SIZES.map(() => [] as Counts[]);
  for (let r = 0; r < ROUNDS + 1; r++) {
    // Round 0 warms up; the order rotates so background load hits every size alike.
    for (let k = 0; k < SIZES.length; k++) {
      const at = (k + r) % SIZES.length;
      const counts = await round(factories[at]!, ROUND_MS);
      if (r > 0) results[at]!.push(counts);
    }
  }
  console.log(
    `pool size | writes/s | read-only sessions/s | sf.db reads/s | worst sf.db read ms   (medians of ${ROUNDS} rounds of ${ROUND_MS} ms; ${WRITERS} writers, ${SESSION_READERS} read-only sessions, ${POINT_READERS} point readers, ${AWAIT_MS} ms await inside each)`,
  );
  for (const [at, size] of SIZES.entries()) {
    const per = (f: (c: Counts) => number) => median(results[at]!.map(f)) / (ROUND_MS / 1000);
    console.log(
      `${String(size).padStart(9)} | ${per((c) => c.writes)
        .toFixed(0)
        .padStart(8)} | ${per((c) => c.sessionReads)
        .toFixed(0)
        .padStart(20)} | ${per((c) => c.pointReads)
        .toFixed(0)
        .padStart(13)} | ${median(results[at]!.map((c) => c.worstPointMs)).toFixed(1)}`,
    );
  }
  await Promise.all(factories.map((sf) => sf.close()));
  rmSync(dir, { recursive: true, force: true });
}

await main();
