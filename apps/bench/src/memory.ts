import v8 from 'node:v8';
import { createSessionFactory } from '@sessionfactory/core';
import { sql } from 'kysely';
import type { Kit } from './kits/kit.js';
import type { BenchDB } from './schema.js';
import { itemId } from './schema.js';

export interface MemoryRow {
  readonly dialect: string;
  readonly name: string;
  readonly sessions: number;
  /** heapUsed after the run minus before it (after a full GC when available). */
  readonly retainedBytes: number;
  /** Highest heapUsed seen during the run minus the starting value (depends on when GC ran). */
  readonly peakBytes: number;
  /** Heap allocated per session: growth plus everything the GCs during the run freed, over n. */
  readonly allocatedPerSession: number;
  readonly opsPerSec: number;
  readonly note?: string;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Whether `--expose-gc` is on (numbers are much steadier with it). */
export const HAS_GC = typeof gc === 'function';

function settle(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

interface Tracked {
  readonly retained: number;
  readonly peak: number;
  readonly allocated: number;
  readonly ms: number;
}

async function track(n: number, op: (i: number) => unknown): Promise<Tracked> {
  const before = settle();
  let peak = before;
  const profiler = new v8.GCProfiler();
  profiler.start();
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    await op(i);
    if ((i & 127) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  }
  const ms = performance.now() - started;
  const end = process.memoryUsage().heapUsed;
  const gcs = profiler.stop()?.statistics ?? [];
  const freed = gcs.reduce(
    (sum, gc) => sum + (gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize),
    0,
  );
  peak = Math.max(peak, end);
  const after = settle();
  return { retained: after - before, peak: peak - before, allocated: end - before + freed, ms };
}

/**
 * Heap after `n` sequential small-transaction sessions, raw driver vs `sf.session`, each
 * from a warmed-up state (the factory's pool is open before the baseline is taken, so the
 * retained figure is what the sessions themselves leave behind).
 */
export async function runMemory(kit: Kit, n: number): Promise<MemoryRow[]> {
  for (let i = 0; i < 200; i++) await kit.rawSmallTx(itemId(i));
  const raw = await track(n, (i) => kit.rawSmallTx(itemId(i)));

  const beforeFactory = settle();
  const sf = createSessionFactory<BenchDB>(kit.adapter());
  const body = async (tx: typeof sf.db, id: number) => {
    await tx.updateTable('bench_item').set({ qty: sql<number>`qty + 1` }).where('id', '=', id).execute();
    await tx.insertInto('bench_log').values({ item_id: id, note: 'bench' }).execute();
  };
  for (let i = 0; i < 200; i++) await sf.session((tx) => body(tx, itemId(i)));
  const footprint = settle() - beforeFactory;
  const lib = await track(n, (i) => sf.session((tx) => body(tx, itemId(i))));
  const stats = sf.stats();
  await sf.close();
  return [
    {
      dialect: kit.dialect,
      name: `raw ${kit.rawName.replace(/#query$/, '')}`,
      sessions: n,
      retainedBytes: raw.retained,
      peakBytes: raw.peak,
      allocatedPerSession: raw.allocated / n,
      opsPerSec: (n * 1000) / raw.ms,
    },
    {
      dialect: kit.dialect,
      name: 'sf.session',
      sessions: n,
      retainedBytes: lib.retained,
      peakBytes: lib.peak,
      allocatedPerSession: lib.allocated / n,
      opsPerSec: (n * 1000) / lib.ms,
      note: `factory+pool footprint ${(footprint / 1024).toFixed(0)} KiB; after: open ${stats.open}, inUse ${stats.inUse}, created ${stats.created}`,
    },
  ];
}
