import { timerDelay } from './pool-waiter.js';

/** One caller waiting for a writer slot. */
interface GateWaiter {
  readonly grant: () => void;
  readonly fail: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/**
 * A first-come-first-served counting semaphore for writers: at most `slots` callers hold a slot,
 * the rest wait asynchronously in arrival order, each with its own deadline and abort signal. The
 * pool puts one in front of connection checkout for databases that run one writer at a time
 * (SQLite), so writers of one process queue here, in the event loop, instead of in the
 * database's busy handler, which would block the thread.
 *
 * @example
 * ```ts
 * const gate = new WriterGate(1);
 * if (!gate.tryEnter()) await gate.enter(30_000, signal, () => new PoolTimeoutError('...'));
 * try { await write(); } finally { gate.leave(); }
 * ```
 */
export class WriterGate {
  readonly #slots: number;
  #held = 0;
  readonly #queue: GateWaiter[] = [];

  constructor(slots: number) {
    this.#slots = slots;
  }

  /** Slots held right now. */
  get held(): number {
    return this.#held;
  }

  /** Callers waiting for a slot. */
  get waiting(): number {
    return this.#queue.length;
  }

  /**
   * Takes a slot if one is free and nobody waits (never jumps the line). Returns whether it did.
   *
   * @example
   * ```ts
   * if (gate.tryEnter()) runNow(); else queueUp();
   * ```
   */
  tryEnter(): boolean {
    if (this.#held >= this.#slots || this.#queue.length > 0) return false;
    this.#held += 1;
    return true;
  }

  /**
   * Waits in line for a slot. Rejects with `onTimeout()` after `timeoutMs`, with the signal's
   * reason on abort; either way the caller leaves the line and holds nothing.
   *
   * @example
   * ```ts
   * await gate.enter(5000, undefined, () => new Error('no writer slot within 5 s'));
   * ```
   */
  enter(timeoutMs: number, signal: AbortSignal | undefined, onTimeout: () => unknown): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.tryEnter()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: GateWaiter = {
        grant: () => {
          this.#settle(waiter);
          resolve();
        },
        fail: (error) => {
          this.#settle(waiter);
          reject(error);
        },
        timer: undefined,
        signal,
        onAbort: undefined,
      };
      // Computed when it fires, so the message reports the line as it is then.
      waiter.timer = setTimeout(() => waiter.fail(onTimeout()), timerDelay(timeoutMs));
      if (signal) {
        waiter.onAbort = () => waiter.fail(signal.reason);
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#queue.push(waiter);
    });
  }

  /**
   * Gives a slot back; the first caller in line gets it at once (the slot passes hand to hand,
   * so a newcomer's `tryEnter` cannot take it first).
   *
   * @example
   * ```ts
   * gate.leave();
   * ```
   */
  leave(): void {
    const next = this.#queue[0];
    if (next !== undefined) {
      next.grant();
      return;
    }
    if (this.#held > 0) this.#held -= 1;
  }

  /**
   * Fails every caller in line with `error()` (the pool is closing).
   *
   * @example
   * ```ts
   * gate.rejectAll(() => new FactoryClosedError('closed'));
   * ```
   */
  rejectAll(error: () => unknown): void {
    for (const waiter of [...this.#queue]) waiter.fail(error());
  }

  // Leaves the line and drops the timer and abort listener.
  #settle(waiter: GateWaiter): void {
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
    clearTimeout(waiter.timer);
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
  }
}
