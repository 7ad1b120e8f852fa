import { describe, expect, it } from 'vitest';
import { type LockWait, lockWaitDelay, retryWhileLocked, retryWhileLockedSync } from '../src/adapter/lock-wait.js';

class Busy extends Error {
  readonly code = 'BUSY';
}

const wait = (timeoutMs: number): LockWait => ({ timeoutMs, isLocked: (e) => e instanceof Busy });

/** An attempt that fails with Busy until `freeAt` (performance.now()). */
function lockedUntil(freeAt: number) {
  let attempts = 0;
  return {
    get attempts() {
      return attempts;
    },
    run: () => {
      attempts += 1;
      if (performance.now() < freeAt) throw new Busy('locked');
      return 'done';
    },
  };
}

describe('retryWhileLocked', () => {
  it('retries until the lock is free, keeping the event loop running', async () => {
    const started = performance.now();
    const attempt = lockedUntil(started + 100);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      await expect(retryWhileLocked(attempt.run, wait(1000), started, new Busy('first'))).resolves.toBe('done');
    } finally {
      clearInterval(timer);
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(attempt.attempts).toBeGreaterThan(2);
    expect(ticks).toBeGreaterThan(5);
  });

  it('gives up with the last lock error once the budget is spent', async () => {
    const started = performance.now();
    const attempt = lockedUntil(Number.POSITIVE_INFINITY);
    const error = await retryWhileLocked(attempt.run, wait(80), started, new Busy('first')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Busy);
    expect(performance.now() - started).toBeGreaterThanOrEqual(79);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('stops at once on an error that is not a lock error', async () => {
    const other = new Error('syntax');
    let calls = 0;
    const error = await retryWhileLocked(
      () => {
        calls++;
        throw other;
      },
      wait(1000),
      performance.now(),
      new Busy('first'),
    ).catch((e: unknown) => e);
    expect(error).toBe(other);
    expect(calls).toBe(1);
  });

  it('with no budget rethrows the first error without retrying', async () => {
    const first = new Busy('first');
    const attempt = lockedUntil(Number.POSITIVE_INFINITY);
    await expect(retryWhileLocked(attempt.run, wait(0), performance.now(), first)).rejects.toBe(first);
    expect(attempt.attempts).toBe(0);
  });
});

describe('retryWhileLockedSync', () => {
  it('retries with blocking pauses until the lock is free or the budget is spent', () => {
    const started = performance.now();
    expect(retryWhileLockedSync(lockedUntil(started + 50).run, wait(1000), started, new Busy('x'))).toBe('done');
    expect(performance.now() - started).toBeGreaterThanOrEqual(50);
    const again = performance.now();
    expect(() => retryWhileLockedSync(lockedUntil(Infinity).run, wait(60), again, new Busy('x'))).toThrow(Busy);
    expect(performance.now() - again).toBeGreaterThanOrEqual(59);
  });
});

describe('lockWaitDelay', () => {
  it('doubles from about 1 ms and stays at or below 25 ms (20 ms plus jitter)', () => {
    expect(lockWaitDelay(1)).toBeGreaterThanOrEqual(0.75);
    expect(lockWaitDelay(1)).toBeLessThanOrEqual(1.25);
    expect(lockWaitDelay(3)).toBeGreaterThanOrEqual(3);
    for (let i = 5; i < 40; i++) expect(lockWaitDelay(i)).toBeLessThanOrEqual(25);
  });
});
