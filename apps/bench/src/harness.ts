import { performance } from 'node:perf_hooks';

/** A batch runner: performs `n` operations (numbered from `first`) and resolves when all are done. */
export type Batch = (n: number, first: number) => unknown;

export interface Variant {
  /** Row label, e.g. `raw pg (pool.query)`. */
  readonly name: string;
  readonly run: Batch;
}

export interface Timing {
  /** How long each measured round should take, in ms. */
  readonly roundMs: number;
  /** Measured rounds (median reported). */
  readonly rounds: number;
  /** Un-measured warm-up, in ms (after calibration). */
  readonly warmupMs: number;
}

export interface Measurement {
  readonly name: string;
  /** Median ops/s over the rounds. */
  readonly opsPerSec: number;
  /** Half the interquartile range of the rounds, relative to the median. */
  readonly spread: number;
  /** ops/s of each round, in round order (round r of every variant ran in the same pass). */
  readonly samples: readonly number[];
  /** Median CPU time of this process (all threads, user + system) per operation, in microseconds. */
  readonly cpuUs: number;
}

/** Upper bound on one operation batch in calibration, so a very fast op cannot loop forever. */
const MAX_BATCH = 5_000_000;

/** The q-quantile (0..1) with linear interpolation. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/**
 * Compares two variants round by round (each pair ran in the same pass, close in time, so a
 * burst of background load hits both) and returns the median ratio a/b and the median extra
 * time per operation of a over b in microseconds.
 */
export function paired(a: readonly number[], b: readonly number[]): { ratio: number; overheadUs: number } {
  const ratios = a.map((x, i) => x / b[i]!);
  const overheads = a.map((x, i) => 1e6 / x - 1e6 / b[i]!);
  return { ratio: median(ratios), overheadUs: median(overheads) };
}

async function timeBatch(run: Batch, n: number, first: number): Promise<number> {
  const started = performance.now();
  await run(n, first);
  return performance.now() - started;
}

/**
 * Measures variants of one operation against each other in the same process: each variant is
 * run once untimed, calibrated (batch size doubled until it takes ~1/4 of a round), warmed up, then the measured
 * rounds are interleaved (A B C, B C A, ...) so background noise and JIT drift hit every variant
 * alike. Reports the median ops/s per variant and every round's figure (for paired ratios).
 */
export async function compare(variants: readonly Variant[], timing: Timing): Promise<Measurement[]> {
  const counters = new Map<string, number>();
  const next = (name: string, n: number) => {
    const first = counters.get(name) ?? 0;
    counters.set(name, first + n);
    return first;
  };
  const sizes: number[] = [];
  for (const variant of variants) {
    // One untimed op first: lazy start-up (a sync worker thread, first connections) must not be
    // taken for the steady-state cost when calibrating the batch size.
    await timeBatch(variant.run, 1, next(variant.name, 1));
    let n = 1;
    let elapsed = 0;
    const target = Math.max(5, timing.roundMs / 4);
    for (;;) {
      elapsed = await timeBatch(variant.run, n, next(variant.name, n));
      if (elapsed >= target || n >= MAX_BATCH) break;
      n = Math.min(MAX_BATCH, elapsed < target / 16 ? n * 8 : n * 2);
    }
    const perMs = n / Math.max(elapsed, 0.001);
    const warm = Math.max(1, Math.round(perMs * timing.warmupMs));
    await timeBatch(variant.run, warm, next(variant.name, warm));
    sizes.push(Math.max(1, Math.round(perMs * timing.roundMs)));
  }
  const samples: number[][] = variants.map(() => []);
  const cpu: number[][] = variants.map(() => []);
  for (let round = 0; round < timing.rounds; round++) {
    for (let k = 0; k < variants.length; k++) {
      const index = (k + round) % variants.length;
      const variant = variants[index]!;
      const n = sizes[index]!;
      const cpuBefore = process.cpuUsage();
      const elapsed = await timeBatch(variant.run, n, next(variant.name, n));
      const used = process.cpuUsage(cpuBefore);
      samples[index]!.push((n * 1000) / elapsed);
      cpu[index]!.push((used.user + used.system) / n);
    }
  }
  return variants.map((variant, index) => {
    const own = samples[index]!;
    const mid = median(own);
    return {
      name: variant.name,
      opsPerSec: mid,
      spread: (quantile(own, 0.75) - quantile(own, 0.25)) / 2 / mid,
      samples: own,
      cpuUs: median(cpu[index]!),
    };
  });
}

/**
 * Whether an operation's result must be awaited: any thenable, not only a native Promise (Knex's
 * `transaction()` answers with a promise of its own class).
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value instanceof Promise ||
    (typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function')
  );
}

/** A batch of `n` single operations, awaited one after another (sync results are not awaited). */
export function sequential(op: (i: number) => unknown): Batch {
  return async (n, first) => {
    for (let i = first; i < first + n; i++) {
      const result = op(i);
      if (isThenable(result)) await result;
    }
  };
}

/** A batch of `n` synchronous operations, in one synchronous loop. */
export function syncLoop(op: (i: number) => unknown): Batch {
  return (n, first) => {
    for (let i = first; i < first + n; i++) op(i);
  };
}

/** A batch of `n` operations spread over `workers` concurrent loops (closed-loop throughput). */
export function concurrent(workers: number, op: (i: number) => Promise<unknown> | unknown): Batch {
  return async (n, first) => {
    let next = first;
    const end = first + n;
    const loop = async () => {
      while (next < end) await op(next++);
    };
    await Promise.all(Array.from({ length: Math.min(workers, n) }, loop));
  };
}

/** What one timed run of a closed loop measured. */
export interface TimedRun {
  /** Operations completed inside the measured window. */
  readonly ops: number;
  /** Length of the measured window, in ms. */
  readonly ms: number;
  /** CPU time of this process (all threads, user + system) in the window, per operation, in µs. */
  readonly cpuUsPerOp: number;
  /** Operations completed in the warm-up, and how long it took (ms). */
  readonly warmupOps: number;
  readonly warmupMs: number;
}

/**
 * How long a timed loop warms up and measures. The warm-up ends when it has lasted `warmupMs`
 * AND completed `warmupOps` operations, or at `warmupMaxMs` whichever the first two say: V8
 * optimizes a function after enough calls, not after enough time, so a slow variant needs the
 * operation count and a fast one the time.
 */
export interface LoopWindows {
  readonly warmupMs: number;
  readonly warmupOps: number;
  readonly warmupMaxMs: number;
  readonly measureMs: number;
}

/**
 * `workers` closed loops of `op` (each starts its next operation when the last one ends), first
 * warming up (see `LoopWindows`) unmeasured, then for `measureMs` measured. The clock is read
 * after every operation, not by a timer, so a synchronous `op` (which never yields to the event
 * loop) is timed the same way as an async one. Operations still in flight when the window closes
 * finish but are not counted.
 */
export async function timedLoop(op: (i: number) => unknown, workers: number, windows: LoopWindows): Promise<TimedRun> {
  let completed = 0;
  let next = 0;
  let phase: 'warm' | 'measure' | 'done' = 'warm';
  const began = performance.now();
  const warmEnough = began + windows.warmupMs;
  const warmAtMost = began + windows.warmupMaxMs;
  let start = { ops: 0, at: 0, cpu: process.cpuUsage() };
  let measureUntil = Number.POSITIVE_INFINITY;
  let result: TimedRun | undefined;
  const tick = () => {
    const now = performance.now();
    if (phase === 'warm') {
      if (now < warmAtMost && (now < warmEnough || completed < windows.warmupOps)) return;
      phase = 'measure';
      start = { ops: completed, at: now, cpu: process.cpuUsage() };
      measureUntil = now + windows.measureMs;
    } else if (phase === 'measure' && now >= measureUntil) {
      phase = 'done';
      const cpu = process.cpuUsage(start.cpu);
      const ops = completed - start.ops;
      result = {
        ops,
        ms: now - start.at,
        cpuUsPerOp: (cpu.user + cpu.system) / Math.max(ops, 1),
        warmupOps: start.ops,
        warmupMs: start.at - began,
      };
    }
  };
  const loop = async () => {
    while (phase !== 'done') {
      const pending = op(next++);
      if (isThenable(pending)) await pending;
      completed++;
      tick();
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
  return result!;
}
