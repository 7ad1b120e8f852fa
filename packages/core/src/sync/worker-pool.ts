import type { Adapter, DriverConnection } from '../adapter/adapter.js';

/**
 * The sync worker's own small pool: at most `size` connections, opened lazily with
 * `adapter.connect()`, reused most-recently-released first. A `broken` connection is closed,
 * never reused. Releasing or destroying a connection the pool no longer knows is a no-op,
 * so a late task can never return a connection twice.
 */
export class WorkerPool {
  readonly #adapter: Adapter;
  readonly #size: number;
  readonly #onChange: (open: number, inUse: number) => void;
  readonly #all = new Set<DriverConnection>();
  readonly #idle: DriverConnection[] = [];
  readonly #waiters: (() => void)[] = [];
  #connecting = 0;
  #closed = false;

  constructor(adapter: Adapter, size: number, onChange: (open: number, inUse: number) => void) {
    this.#adapter = adapter;
    this.#size = Math.max(1, size);
    this.#onChange = onChange;
  }

  /** Connections open (or opening) and connections handed out. */
  get counts(): { open: number; inUse: number } {
    const open = this.#all.size + this.#connecting;
    return { open, inUse: open - this.#idle.length };
  }

  /** Hands out an idle connection, opens a new one, or waits for one to be released. */
  async acquire(): Promise<DriverConnection> {
    for (;;) {
      if (this.#closed) throw new Error('sync worker pool is closed');
      const idle = this.#takeIdle();
      if (idle) return idle;
      if (this.#all.size + this.#connecting < this.#size) return this.#open();
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Returns a connection for reuse (a broken one is destroyed instead). */
  release(connection: DriverConnection): void {
    if (!this.#all.has(connection)) return;
    if (connection.broken || this.#closed) {
      this.destroy(connection);
      return;
    }
    this.#idle.push(connection);
    this.#changed();
  }

  /** Closes a connection in the background and frees its place in the pool. */
  destroy(connection: DriverConnection): void {
    if (!this.#all.delete(connection)) return;
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    this.#changed();
    connection.close().catch(() => {});
  }

  /** Closes every connection, idle or not, waiting at most `timeoutMs`. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const closing = [...this.#all].map((connection) => connection.close().catch(() => {}));
    this.#all.clear();
    this.#idle.length = 0;
    this.#changed();
    for (const wake of this.#waiters.splice(0)) wake();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.all(closing), deadline]);
    clearTimeout(timer);
  }

  #takeIdle(): DriverConnection | undefined {
    for (let connection = this.#idle.pop(); connection; connection = this.#idle.pop()) {
      if (!connection.broken) {
        this.#changed();
        return connection;
      }
      this.#all.delete(connection);
      connection.close().catch(() => {});
    }
    return undefined;
  }

  async #open(): Promise<DriverConnection> {
    this.#connecting++;
    this.#changed();
    try {
      const connection = await this.#adapter.connect();
      if (this.#closed) {
        connection.close().catch(() => {});
        throw new Error('sync worker pool is closed');
      }
      this.#all.add(connection);
      return connection;
    } finally {
      this.#connecting--;
      this.#changed();
    }
  }

  #changed(): void {
    const { open, inUse } = this.counts;
    this.#onChange(open, inUse);
    if (this.#all.size + this.#connecting < this.#size || this.#idle.length > 0) this.#waiters.shift()?.();
  }
}
