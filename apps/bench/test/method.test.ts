import { describe, expect, it } from 'vitest';
import { isThenable, timedLoop } from '../src/harness.js';
import { renderChart } from '../src/isolated/chart.js';
import { queueOrder } from '../src/isolated/queue.js';
import { isolatedTargets, queueTargets } from '../src/isolated/report.js';
import { summarize } from '../src/isolated/run.js';
import { filterGroups, type IsoGroup, isolatedGroups, KYSELY_TX } from '../src/isolated/variants.js';

const speed = (opsPerSec: number, cpuUsPerOp = 100) => ({
  ok: true as const,
  opsPerSec,
  cpuUsPerOp,
  ops: 1,
  warmupOps: 1,
  warmupMs: 1,
});
const pgC16 = () => isolatedGroups(['postgres']).find((g) => g.key === 'postgres/unit/16')!;

describe('timedLoop', () => {
  it('counts only the operations completed in the measured window, for a synchronous op too', async () => {
    let calls = 0;
    const run = await timedLoop(
      () => {
        calls++;
        const until = performance.now() + 0.2;
        while (performance.now() < until) {}
      },
      1,
      { warmupMs: 20, warmupOps: 0, warmupMaxMs: 20, measureMs: 40 },
    );
    expect(run.ms).toBeGreaterThanOrEqual(40);
    expect(run.ops).toBeGreaterThan(0);
    expect(run.ops).toBeLessThan(calls);
    // 0.2 ms of busy work per op: the rate cannot exceed 5 ops per ms.
    expect(run.ops / run.ms).toBeLessThanOrEqual(5.5);
    expect(run.cpuUsPerOp).toBeGreaterThan(100);
  });

  it('keeps exactly `workers` operations in flight and awaits thenables that are not native promises', async () => {
    let inFlight = 0;
    let most = 0;
    const op = () => {
      inFlight++;
      most = Math.max(most, inFlight);
      const done = new Promise<void>((resolve) => setTimeout(resolve, 1)).then(() => {
        inFlight--;
      });
      // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise, like Knex's transaction()
      return { then: (ok: () => void, fail: (e: unknown) => void) => done.then(ok, fail) };
    };
    const run = await timedLoop(op, 4, { warmupMs: 10, warmupOps: 0, warmupMaxMs: 10, measureMs: 30 });
    expect(most).toBe(4);
    expect(run.ops).toBeGreaterThan(0);
    expect(run.ops).toBeLessThan(4 * 30);
  });

  it('rejects when an operation fails', async () => {
    await expect(
      timedLoop(() => Promise.reject(new Error('boom')), 2, {
        warmupMs: 1,
        warmupOps: 0,
        warmupMaxMs: 1,
        measureMs: 1,
      }),
    ).rejects.toThrow('boom');
  });

  it('warms up for the time AND the operation count, but never past the cap', async () => {
    const slow = () => new Promise((resolve) => setTimeout(resolve, 2));
    const byCount = await timedLoop(slow, 1, { warmupMs: 5, warmupOps: 20, warmupMaxMs: 5000, measureMs: 10 });
    expect(byCount.warmupOps).toBeGreaterThanOrEqual(20);
    expect(byCount.warmupMs).toBeGreaterThanOrEqual(5);
    const byTime = await timedLoop(() => {}, 1, { warmupMs: 30, warmupOps: 1, warmupMaxMs: 5000, measureMs: 5 });
    expect(byTime.warmupMs).toBeGreaterThanOrEqual(30);
    expect(byTime.warmupOps).toBeGreaterThan(1);
    const capped = await timedLoop(slow, 1, { warmupMs: 5, warmupOps: 1_000_000, warmupMaxMs: 50, measureMs: 5 });
    expect(capped.warmupMs).toBeGreaterThanOrEqual(50);
    expect(capped.warmupMs).toBeLessThan(1000);
    expect(capped.warmupOps).toBeLessThan(1_000_000);
  });
});

describe('isThenable', () => {
  it('tells promises and thenables from plain values', () => {
    expect(isThenable(Promise.resolve())).toBe(true);
    // biome-ignore lint/suspicious/noThenProperty: the thing under test
    expect(isThenable({ then() {} })).toBe(true);
    expect(isThenable(undefined)).toBe(false);
    // biome-ignore lint/suspicious/noThenProperty: the thing under test
    expect(isThenable({ then: 1 })).toBe(false);
  });
});

describe('summarize (ratios to raw of the same round)', () => {
  it('takes the median of per-round ratios, not the ratio of medians, and skips rounds without a baseline', () => {
    const group = pgC16();
    const raw = [speed(100), speed(200), speed(1000), undefined];
    const sf = [speed(90), speed(100), speed(950), speed(5000)];
    const rows = summarize(group, [raw, sf, [], []], [[], [], [], ['child exited with code 1']]);
    expect(rows[0]!.ratio).toBeUndefined();
    expect(rows[1]!.ratios).toEqual([0.9, 0.5, 0.95]);
    expect(rows[1]!.ratio).toBe(0.9);
    expect(rows[1]!.opsPerSec).toBe((100 + 950) / 2);
    expect(rows[1]!.rounds).toBe(4);
    expect(Number.isNaN(rows[2]!.ratio)).toBe(true);
    expect(rows[3]!.errors).toEqual(['child exited with code 1']);
  });
});

describe('targets', () => {
  const rowsFor = (group: IsoGroup, sfRatios: number[], kyselyRatios: number[]) =>
    summarize(
      group,
      [
        sfRatios.map(() => speed(1000)),
        sfRatios.map((r) => speed(1000 * r)),
        kyselyRatios.map((r) => speed(1000 * r)),
        [],
      ],
      [],
    );

  it('issue 12: sf.session must reach 0.90x raw and Kysely’s ratio of the same run', () => {
    const group = pgC16();
    const pass = isolatedTargets(rowsFor(group, [0.95, 0.92, 0.91, 0.97, 0.93], [0.9, 0.91, 0.88, 0.9, 0.92]), 5);
    expect(pass.map((t) => t.status)).toEqual(['PASS', 'PASS']);
    const behindKysely = isolatedTargets(
      rowsFor(group, [0.92, 0.92, 0.92, 0.92, 0.92], [0.95, 0.95, 0.95, 0.95, 0.95]),
      5,
    );
    expect(behindKysely.map((t) => t.status)).toEqual(['PASS', 'WARN']);
    expect(behindKysely[1]!.target).toContain(KYSELY_TX);
    const slow = isolatedTargets(rowsFor(group, [0.7, 0.7, 0.7], [0.5, 0.5, 0.5]), 5);
    // Fewer than five rounds never PASS, even above the bar.
    expect(slow.map((t) => t.status)).toEqual(['WARN', 'WARN']);
    const fiveRounds = isolatedTargets(rowsFor(group, [0.7, 0.7, 0.7, 0.7, 0.7], [0.5, 0.5, 0.5, 0.5, 0.5]), 5);
    expect(fiveRounds.map((t) => t.status)).toEqual(['WARN', 'PASS']);
    expect(slow[0]!.measured).toBe('0.70x (3 rounds, 5 needed)');
  });

  it('a target whose row was not measured is a WARN, never a PASS', () => {
    const group = pgC16();
    const rows = summarize(group, [[speed(1000)], [undefined], [speed(900)], []], []);
    expect(isolatedTargets(rows, 5).map((t) => [t.status, t.measured])).toEqual([
      ['WARN', 'not measured'],
      ['WARN', 'not measured'],
    ]);
  });

  it('the queue target needs every session complete and FIFO', () => {
    const base = { ok: true as const, sessions: 3, failed: 0, outOfOrder: 0, maxDisplacement: 0, totalMs: 1 };
    const mem = { rssBefore: 0, rssPeak: 0, heapBefore: 0, heapPeak: 0 };
    const lines = queueTargets([
      { dialect: 'postgres', name: 'sf.session', result: { ...base, ...mem, completed: 3, fifo: true } },
      { dialect: 'mysql', name: 'sf.session', result: { ...base, ...mem, completed: 3, fifo: false, outOfOrder: 1 } },
      { dialect: 'sqlite', name: 'sf.session', result: { ...base, ...mem, completed: 2, fifo: true, failed: 1 } },
      { dialect: 'postgres', name: 'raw pg.Pool', result: { ...base, ...mem, completed: 3, fifo: false } },
    ]);
    expect(lines.map((l) => [l.dialect, l.status])).toEqual([
      ['postgres', 'PASS'],
      ['mysql', 'WARN'],
      ['sqlite', 'WARN'],
    ]);
  });
});

describe('queueOrder', () => {
  it('is FIFO when connection numbers rise with the queue order, whatever order the bodies started in', () => {
    expect(queueOrder([11, 12, 13, 14], [1, 0, 3, 2])).toEqual({ fifo: true, outOfOrder: 0, maxDisplacement: 1 });
  });
  it('counts sessions served before one queued earlier', () => {
    expect(queueOrder([4, 3, 2, 1], [3, 2, 1, 0])).toEqual({ fifo: false, outOfOrder: 3, maxDisplacement: 3 });
  });
  it('says unknown, not FIFO, when a number could not be read', () => {
    expect(queueOrder([1, Number.NaN, 3], [0, 1, 2]).fifo).toBeUndefined();
  });
});

describe('groups', () => {
  it('runs pg and mysql at C=1 and C=16 with raw first, sf.session, Kysely and Knex; SQLite unit, point select, telemetry', () => {
    const groups = isolatedGroups(['sqlite', 'postgres', 'mysql']);
    expect(groups.map((g) => g.key)).toEqual([
      'postgres/unit/1',
      'postgres/unit/16',
      'mysql/unit/1',
      'mysql/unit/16',
      'sqlite/unit/1',
      'sqlite/point/1',
      'sqlite/telemetry/1',
    ]);
    for (const g of groups) expect(g.variants[0]!.role).toBe('raw');
    expect(pgC16().variants.map((v) => v.role)).toEqual(['raw', 'sf', 'kysely', 'knex']);
  });
  it('a filter keeps matching rows plus their baseline', () => {
    const kept = filterGroups(isolatedGroups(['postgres']), 'Knex');
    expect(kept.map((g) => g.variants.map((v) => v.role))).toEqual([
      ['raw', 'knex'],
      ['raw', 'knex'],
    ]);
    expect(filterGroups(isolatedGroups(['postgres']), 'C=16').map((g) => g.key)).toEqual(['postgres/unit/16']);
  });
});

describe('renderChart', () => {
  it('draws one bar per non-raw row, the 1.0x line, the group-wide 0.90x target and balanced SVG', () => {
    const group = pgC16();
    const rows = summarize(
      group,
      [
        [speed(1000), speed(1000)],
        [speed(800), speed(950)],
        [speed(900), speed(900)],
        [speed(500), speed(600)],
      ],
      [],
    );
    const targets = isolatedTargets(rows, 5);
    const svg = renderChart(rows, targets, { title: 'Test <chart>', subtitle: 'a & b' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('Test &lt;chart&gt;');
    expect(svg).toContain('raw driver = 1.0x');
    expect(svg).toContain('target 0.90x');
    expect(svg).toContain('0.88x WARN');
    expect(svg).toContain('0.90x</text>');
    expect(svg).toContain('0.55x</text>');
    const bars = svg.match(/<rect class="bar"/g) ?? [];
    expect(bars).toHaveLength(3);
    const opened = (svg.match(/<(svg|text)\b/g) ?? []).length;
    const closed = (svg.match(/<\/(svg|text)>/g) ?? []).length;
    expect(opened).toBe(closed);
  });
});
