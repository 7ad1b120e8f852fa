import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueResult, SpeedResult } from '../src/isolated/protocol.js';
import { runChild } from '../src/isolated/spawn.js';
import type { Kit } from '../src/kits/kit.js';
import { sqliteKit } from '../src/kits/sqlite.js';

// Runs real child processes (the compiled dist/isolated/child.js: `pnpm build` first) on a
// temporary SQLite file, so it needs no server.
const urls = { postgres: 'unused', mysql: 'unused' };
let kit: Kit;

beforeAll(async () => {
  kit = await sqliteKit();
});
afterAll(async () => {
  await kit?.close();
});

const speed = (variant: string, group = 'sqlite/unit/1') =>
  runChild(
    {
      mode: 'speed',
      dialect: 'sqlite',
      place: kit.place,
      urls,
      group,
      variant,
      windows: { warmupMs: 50, warmupOps: 100, warmupMaxMs: 2000, measureMs: 150 },
    },
    60_000,
  );

describe('a child process per variant', () => {
  it('measures one variant on the parent’s database and answers with ops/s and CPU per op', async () => {
    const raw = await speed('raw better-sqlite3, cached statements');
    const sync = await speed('sf.syncSession (sf.prepare queries)');
    const knex = await speed('Knex knex.transaction()');
    for (const result of [raw, sync, knex]) {
      expect(result.ok, JSON.stringify(result)).toBe(true);
      const r = result as SpeedResult;
      expect(r.ops).toBeGreaterThan(0);
      expect(r.opsPerSec).toBeGreaterThan(0);
      expect(r.cpuUsPerOp).toBeGreaterThan(0);
      expect(r.warmupOps).toBeGreaterThanOrEqual(100);
    }
    // Knex's own promise class is awaited: at most one transaction per ~10 µs could be real.
    expect((knex as SpeedResult).opsPerSec).toBeLessThan(100_000);
  });

  it('answers with a failure, not a hang, for a variant it does not know', async () => {
    const result = await speed('no such variant');
    expect(result).toEqual({ ok: false, error: expect.stringContaining('no variant "no such variant"') });
  });

  it('runs the queue test: every session completes, handed out in FIFO order', async () => {
    const result = await runChild(
      { mode: 'queue', dialect: 'sqlite', place: kit.place, urls, variant: 'sf', sessions: 300 },
      60_000,
    );
    expect(result.ok, JSON.stringify(result)).toBe(true);
    const q = result as QueueResult;
    expect(q.completed).toBe(300);
    expect(q.failed).toBe(0);
    expect(q.fifo).toBe(true);
    expect(q.rssPeak).toBeGreaterThan(q.heapPeak);
    expect(q.heapPeak).toBeGreaterThanOrEqual(q.heapBefore);
  });
});
