/**
 * A FIFO async lock: `run` calls never overlap. Sibling savepoint scopes use one so they run
 * one after another even when started with `Promise.all`.
 *
 * @example
 * ```ts
 * const lock = new Mutex()
 * await Promise.all([lock.run(a), lock.run(b)]) // b starts after a settles
 * ```
 */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.catch(() => {});
    return result;
  }
}
