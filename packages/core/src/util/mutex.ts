/**
 * A FIFO async lock. Sibling savepoint scopes use one so they run one after another even
 * when started with `Promise.all`.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = false;

  /** Resolves to the function that releases the lock, once every earlier holder released it. */
  acquire(): Promise<() => void> | (() => void) {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = () => {
        if (this.#tail === next) this.#held = false;
        resolve();
      };
    });
    const previous = this.#tail;
    const next = previous.then(() => held);
    this.#tail = next;
    // Uncontended: hand the lock over at once (no tick), the common case for savepoints.
    if (!this.#held) {
      this.#held = true;
      return release;
    }
    return previous.then(() => release);
  }
}
