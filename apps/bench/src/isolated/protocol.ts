import type { LoopWindows } from '../harness.js';
import type { ServerUrls } from '../kits/open.js';

/**
 * What the parent asks one child process to measure, and what the child answers. The spec goes in
 * the environment (`BENCH_CHILD_SPEC`), not argv, so a server URL with a password never shows in
 * the process list; the answer is one line on stdout starting with RESULT_MARK.
 */
export type ChildSpec = SpeedSpec | QueueSpec;

interface Common {
  readonly dialect: string;
  /** The kit's place (schema, database or file) the parent created. */
  readonly place: string;
  readonly urls: ServerUrls;
}

/** Run one variant of one group in closed loops: warm up, then measure. */
export interface SpeedSpec extends Common {
  readonly mode: 'speed';
  readonly group: string;
  readonly variant: string;
  readonly windows: LoopWindows;
}

/** Queue `sessions` units of work at once on a pool of 10, raw driver or `sf.session`. */
export interface QueueSpec extends Common {
  readonly mode: 'queue';
  readonly variant: 'raw' | 'sf';
  readonly sessions: number;
}

export interface SpeedResult {
  readonly ok: true;
  readonly opsPerSec: number;
  readonly cpuUsPerOp: number;
  readonly ops: number;
  /** Operations and ms the warm-up took. */
  readonly warmupOps: number;
  readonly warmupMs: number;
}

export interface QueueResult {
  readonly ok: true;
  readonly sessions: number;
  readonly completed: number;
  readonly failed: number;
  readonly firstError?: string;
  /**
   * Connection order against submission order: true when every session got its connection after
   * every session queued before it; undefined when the order could not be read.
   */
  readonly fifo: boolean | undefined;
  /** Sessions that got their connection before one queued earlier. */
  readonly outOfOrder: number;
  /** Largest distance between a session's place in the queue and the place its body started at. */
  readonly maxDisplacement: number;
  readonly totalMs: number;
  /** Resident set before queueing (pool warm), and the process' peak (getrusage maxRSS). */
  readonly rssBefore: number;
  readonly rssPeak: number;
  /** heapUsed before queueing (after a GC) and the highest seen while the sessions ran. */
  readonly heapBefore: number;
  readonly heapPeak: number;
}

export interface ChildFailure {
  readonly ok: false;
  readonly error: string;
}

export type ChildResult = SpeedResult | QueueResult | ChildFailure;

export const RESULT_MARK = 'BENCH-CHILD-RESULT ';
export const SPEC_ENV = 'BENCH_CHILD_SPEC';
