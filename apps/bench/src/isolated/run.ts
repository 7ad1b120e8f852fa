import { type LoopWindows, median } from '../harness.js';
import type { ServerUrls } from '../kits/open.js';
import type { QueueResult, SpeedResult } from './protocol.js';
import { runChild } from './spawn.js';
import type { IsoGroup, IsoVariant } from './variants.js';

export interface IsoSettings extends LoopWindows {
  /** Rounds; every variant runs once per round, in its own process. */
  readonly rounds: number;
}

/** One variant's figures over all rounds. */
export interface IsoRow {
  readonly group: IsoGroup;
  readonly variant: IsoVariant;
  /** Median transactions (or point selects) per second over the rounds. */
  readonly opsPerSec: number;
  /** Per-round ratios to the raw baseline of the same round (absent for the baseline). */
  readonly ratios: readonly number[];
  /** Median of `ratios`. */
  readonly ratio: number | undefined;
  /** Median CPU µs per operation of the child process (all threads). */
  readonly cpuUs: number;
  /** Rounds that produced a figure. */
  readonly rounds: number;
  readonly errors: readonly string[];
}

/** e.g. `each child warms up for >= 1500 ms and >= 10000 operations (at most 4000 ms), then measures 1500 ms` */
export function describeWindows(w: LoopWindows): string {
  return `each child warms up for >= ${w.warmupMs} ms and >= ${w.warmupOps} operations (at most ${w.warmupMaxMs} ms), then measures ${w.measureMs} ms`;
}

const clock = (ms: number) => {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** Keeps a running estimate of the time left, from the children run so far. */
class Progress {
  readonly #started = performance.now();
  #done = 0;
  constructor(
    readonly total: number,
    readonly guessMs: number,
  ) {}
  line(what: string): string {
    const elapsed = performance.now() - this.#started;
    const each = this.#done === 0 ? this.guessMs : elapsed / this.#done;
    const eta = each * (this.total - this.#done);
    return `  [${String(this.#done + 1).padStart(String(this.total).length)}/${this.total}] ${what} (elapsed ${clock(elapsed)}, ETA ${clock(eta)})`;
  }
  step(): void {
    this.#done++;
  }
}

/** Node's start-up plus loading the drivers, roughly, for the first ETA. */
const STARTUP_GUESS_MS = 600;

/**
 * Issue 12's method: every variant of every group runs once per round in a fresh child process;
 * within a round the groups run one after another and the variants of a group in a rotated
 * order (A B C D, then B C D A, ...), so the raw baseline of a round ran seconds, not rounds,
 * away from the variants it is compared with, and no variant is always first or last. A variant's ratio is the median over the rounds
 * of (its ops/s) / (raw ops/s in the same round).
 */
export async function runIsolated(
  groups: readonly IsoGroup[],
  places: ReadonlyMap<string, string>,
  urls: ServerUrls,
  settings: IsoSettings,
): Promise<IsoRow[]> {
  const results = new Map<string, (SpeedResult | undefined)[]>();
  const errors = new Map<string, string[]>();
  const id = (g: IsoGroup, v: IsoVariant) => `${g.key}\u0000${v.name}`;
  const total = settings.rounds * groups.reduce((n, g) => n + g.variants.length, 0);
  const progress = new Progress(total, STARTUP_GUESS_MS + settings.warmupMs * 2 + settings.measureMs);
  console.error(`one process per variant: ${total} children (${settings.rounds} rounds; ${describeWindows(settings)})`);
  for (let round = 0; round < settings.rounds; round++) {
    for (const group of groups) {
      const n = group.variants.length;
      for (let k = 0; k < n; k++) {
        const variant = group.variants[(k + round) % n]!;
        const label = `round ${round + 1}/${settings.rounds} ${group.dialect} ${group.workload} C=${group.concurrency}: ${variant.name}`;
        process.stderr.write(`${progress.line(label)} ... `);
        const result = await runChild(
          {
            mode: 'speed',
            dialect: group.dialect,
            place: places.get(group.dialect)!,
            urls,
            group: group.key,
            variant: variant.name,
            windows: {
              warmupMs: settings.warmupMs,
              warmupOps: settings.warmupOps,
              warmupMaxMs: settings.warmupMaxMs,
              measureMs: settings.measureMs,
            },
          },
          Math.max(settings.warmupMs, settings.warmupMaxMs) + settings.measureMs + 60_000,
        );
        progress.step();
        const list = results.get(id(group, variant)) ?? new Array(settings.rounds).fill(undefined);
        results.set(id(group, variant), list);
        if (result.ok && 'opsPerSec' in result) {
          list[round] = result;
          process.stderr.write(
            `${Math.round(result.opsPerSec).toLocaleString('en-US')}/s, ${result.cpuUsPerOp.toFixed(0)} µs CPU/op (warm-up ${result.warmupOps} ops in ${(result.warmupMs / 1000).toFixed(1)} s)\n`,
          );
        } else {
          const message = result.ok ? 'unexpected answer' : result.error;
          errors.set(id(group, variant), [...(errors.get(id(group, variant)) ?? []), message]);
          process.stderr.write(`FAILED: ${message}\n`);
        }
      }
    }
  }
  return groups.flatMap((group) =>
    summarize(
      group,
      group.variants.map((v) => results.get(id(group, v)) ?? []),
      group.variants.map((v) => errors.get(id(group, v)) ?? []),
    ),
  );
}

/**
 * One group's rows from its per-round figures: `rounds[v][r]` is variant v's result in round r
 * (undefined: that child failed). A ratio exists for a round only when both the variant and the
 * raw baseline (variant 0) were measured in it.
 */
export function summarize(
  group: IsoGroup,
  rounds: readonly (readonly (SpeedResult | undefined)[])[],
  errors: readonly (readonly string[])[],
): IsoRow[] {
  const base = rounds[0] ?? [];
  return group.variants.map((variant, index): IsoRow => {
    const own = rounds[index] ?? [];
    const ok = own.filter((r): r is SpeedResult => r !== undefined);
    const ratios =
      index === 0 ? [] : own.flatMap((r, round) => (r && base[round] ? [r.opsPerSec / base[round]!.opsPerSec] : []));
    return {
      group,
      variant,
      opsPerSec: ok.length ? median(ok.map((r) => r.opsPerSec)) : Number.NaN,
      ratios,
      ratio: index === 0 ? undefined : ratios.length ? median(ratios) : Number.NaN,
      cpuUs: ok.length ? median(ok.map((r) => r.cpuUsPerOp)) : Number.NaN,
      rounds: ok.length,
      errors: errors[index] ?? [],
    };
  });
}

export interface QueueRow {
  readonly dialect: string;
  readonly name: string;
  readonly result: QueueResult | undefined;
  readonly error?: string;
}

/** The 10 000-queued-sessions test: one child per database and variant (raw driver where it has a pool). */
export async function runQueues(
  dialects: readonly string[],
  places: ReadonlyMap<string, string>,
  urls: ServerUrls,
  sessions: number,
): Promise<QueueRow[]> {
  const plan = dialects.flatMap((dialect) =>
    (dialect === 'sqlite' ? (['sf'] as const) : (['raw', 'sf'] as const)).map((variant) => ({ dialect, variant })),
  );
  const progress = new Progress(plan.length, 10_000);
  const rows: QueueRow[] = [];
  for (const { dialect, variant } of plan) {
    const name = variant === 'sf' ? 'sf.session' : `raw ${dialect === 'postgres' ? 'pg.Pool' : 'mysql2 pool'}`;
    process.stderr.write(`${progress.line(`${dialect}: ${sessions} ${name} units of work queued at once`)} ... `);
    const result = await runChild(
      { mode: 'queue', dialect, place: places.get(dialect)!, urls, variant, sessions },
      10 * 60_000,
    );
    progress.step();
    if (result.ok && 'fifo' in result) {
      rows.push({ dialect, name, result });
      process.stderr.write(
        `${result.completed}/${result.sessions} in ${(result.totalMs / 1000).toFixed(1)} s, FIFO ${result.fifo}\n`,
      );
    } else {
      const message = result.ok ? 'unexpected answer' : result.error;
      rows.push({ dialect, name, result: undefined, error: message });
      process.stderr.write(`FAILED: ${message}\n`);
    }
  }
  return rows;
}
