/**
 * Counts work in flight (sessions, scopes, autocommit queries) so `close()` can wait for it.
 */
export class Activity {
  #active = 0;
  #idleWaiters: (() => void)[] = [];

  get active(): number {
    return this.#active;
  }

  enter(): void {
    this.#active += 1;
  }

  leave(): void {
    this.#active -= 1;
    // Checked first: an autocommit query at concurrency 1 brings the count to 0 every time.
    if (this.#active === 0 && this.#idleWaiters.length > 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Counts `work` until it settles; resolves and rejects as it does. */
  track<T>(work: Promise<T>): Promise<T> {
    this.enter();
    return work.then(this.#leaveWith, this.#leaveThrowing) as Promise<T>;
  }

  // Bound once: tracking a session allocates one promise, no closures.
  readonly #leaveWith = (value: unknown): unknown => {
    this.leave();
    return value;
  };
  readonly #leaveThrowing = (error: unknown): never => {
    this.leave();
    throw error;
  };

  /** Resolves when nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }
}
