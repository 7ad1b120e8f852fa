/**
 * How an adapter waits for a lock held by another connection without a blocking busy handler
 * (SQLite): the budget, and which errors mean "locked elsewhere, the attempt had no effect".
 *
 * @example
 * ```ts
 * const wait: LockWait = { timeoutMs: 5000, isLocked: (e) => (e as { code?: string }).code === 'SQLITE_BUSY' };
 * ```
 */
export interface LockWait {
  /** How long to keep trying, counted from the start of the first attempt. */
  readonly timeoutMs: number;
  /** The error says another connection holds the lock and the attempt changed nothing, so trying again may succeed. */
  isLocked(error: unknown): boolean;
}

/** The first retries come quickly (an in-process holder usually finishes within a tick or two). */
const FIRST_DELAY_MS = 1;
/** Later retries at most this far apart, so a released lock is noticed soon. */
const MAX_DELAY_MS = 20;

/**
 * The pause before retry number `retry` (1, 2, ...): doubling from 1 ms up to 20 ms, with ±25 %
 * jitter so that several waiters do not retry in lockstep.
 *
 * @example
 * ```ts
 * lockWaitDelay(1) // about 1 ms
 * lockWaitDelay(10) // about 20 ms
 * ```
 */
export function lockWaitDelay(retry: number): number {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, retry - 1));
  return base * (0.75 + Math.random() * 0.5);
}

/**
 * Retries `attempt`, whose first try started at `startedAt` (`performance.now()`) and failed
 * with a locked error, after asynchronous pauses (`lockWaitDelay`), so the event loop keeps
 * running while another connection or process holds the lock. Resolves with the first success;
 * rejects with the first error that is not a lock error, or with the last lock error once
 * `wait.timeoutMs` has passed (the adapter's classifier makes that a `LockTimeoutError`).
 *
 * @example
 * ```ts
 * const started = performance.now();
 * try {
 *   return run(query);
 * } catch (error) {
 *   if (!wait.isLocked(error)) throw error;
 *   return retryWhileLocked(() => run(query), wait, started, error);
 * }
 * ```
 */
export async function retryWhileLocked<T>(
  attempt: () => T | Promise<T>,
  wait: LockWait,
  startedAt: number,
  firstError: unknown,
): Promise<T> {
  let error = firstError;
  for (let retry = 1; ; retry++) {
    const left = wait.timeoutMs - (performance.now() - startedAt);
    if (left <= 0) throw error;
    await sleep(Math.min(lockWaitDelay(retry), left));
    try {
      return await attempt();
    } catch (next) {
      if (!wait.isLocked(next)) throw next;
      error = next;
    }
  }
}

/**
 * `retryWhileLocked` for synchronous callers (a sync session): the pauses block the thread
 * (`Atomics.wait`), as a synchronous API must; the budget and the errors are the same.
 *
 * @example
 * ```ts
 * const started = performance.now();
 * try {
 *   return run(query);
 * } catch (error) {
 *   if (!wait.isLocked(error)) throw error;
 *   return retryWhileLockedSync(() => run(query), wait, started, error);
 * }
 * ```
 */
export function retryWhileLockedSync<T>(attempt: () => T, wait: LockWait, startedAt: number, firstError: unknown): T {
  let error = firstError;
  for (let retry = 1; ; retry++) {
    const left = wait.timeoutMs - (performance.now() - startedAt);
    if (left <= 0) throw error;
    sleepSync(Math.min(lockWaitDelay(retry), left));
    try {
      return attempt();
    } catch (next) {
      if (!wait.isLocked(next)) throw next;
      error = next;
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// One shared cell: Atomics.wait needs an Int32Array on a SharedArrayBuffer; nobody notifies it.
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}
