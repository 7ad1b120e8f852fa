import type { WorkerSpec } from '../adapter/adapter.js';
import { ConfigurationError, FactoryClosedError, PoolTimeoutError } from '../errors/error-classes.js';
import { BridgedSyncConnection } from './bridged-sync-connection.js';
import type { SyncConnection } from './sync-connection.js';
import { WorkerHandle } from './worker-handle.js';

/** Settings of a `WorkerBridge`. */
export interface WorkerBridgeOptions {
  /** Connections the worker may hold, and slots the main thread may hand out. */
  readonly poolSize: number;
  /** Longest the main thread blocks on one call before it cancels and throws `TransactionTimeoutError`. */
  readonly callTimeoutMs: number;
}

/** How long `close()` lets the worker close its connections before terminating it. */
const CLOSE_GRACE_MS = 3000;

/** How long `start()` waits for the worker to load its adapter by default. */
const DEFAULT_START_TIMEOUT_MS = 30_000;

/**
 * Gives server databases (Postgres, MySQL) a synchronous scope: a worker thread rebuilds
 * the adapter from its `WorkerSpec` and owns a small pool; the main thread posts compiled
 * queries and blocks on `Atomics.wait` with a deadline, never forever. Typed errors cross
 * the boundary with all their fields. The worker starts on the first `acquire()`, never
 * keeps the process alive, and is replaced by a fresh one after a crash.
 */
export class WorkerBridge {
  readonly #spec: WorkerSpec;
  readonly #options: WorkerBridgeOptions;
  #handle: WorkerHandle | undefined;
  #inUse = 0;
  #nextSlot = 0;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(spec: WorkerSpec, options: WorkerBridgeOptions) {
    if (!Number.isInteger(options.poolSize) || options.poolSize < 1) {
      throw new ConfigurationError(`sync.poolSize must be a positive integer, got ${options.poolSize}`);
    }
    if (!(options.callTimeoutMs > 0) || !Number.isFinite(options.callTimeoutMs)) {
      throw new ConfigurationError(`sync.callTimeoutMs must be a finite number above 0, got ${options.callTimeoutMs}`);
    }
    this.#spec = spec;
    this.#options = options;
  }

  /**
   * Synchronously hands out a `SyncConnection` (a slot in the worker's pool); no message is
   * sent yet. Throws `PoolTimeoutError` at once when `poolSize` slots are in use, since the
   * main thread cannot wait for one to be released.
   */
  acquire(): SyncConnection {
    if (this.#closed) throw new FactoryClosedError('the sync worker bridge is closed');
    if (this.#inUse >= this.#options.poolSize) {
      throw new PoolTimeoutError(
        `all ${this.#options.poolSize} sync connections (sync.poolSize) are in use and a sync scope cannot wait ` +
          'for one to be released: raise sync.poolSize, or check for a sync session opened inside another that holds its connection',
      );
    }
    const handle = this.#liveHandle();
    this.#inUse++;
    let freed = false;
    return new BridgedSyncConnection(handle, ++this.#nextSlot, () => {
      if (freed) return;
      freed = true;
      this.#inUse--;
    });
  }

  /**
   * Optional warm-up: starts the worker now (if none runs) and resolves once it has loaded
   * the adapter, so the first sync call does not spend its `callTimeoutMs` on thread startup.
   * Rejects with `ConnectionError` if the worker cannot start within `timeoutMs`.
   */
  async start(timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<void> {
    if (this.#closed) throw new FactoryClosedError('the sync worker bridge is closed');
    await this.#liveHandle().ready(timeoutMs);
  }

  /** Connections the worker holds open / in use (zero while no worker runs). */
  stats(): { open: number; inUse: number } {
    return this.#handle?.stats() ?? { open: 0, inUse: 0 };
  }

  /** Ends the worker: it closes its connections first and is terminated after a short grace. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      const handle = this.#handle;
      this.#handle = undefined;
      await handle?.close(CLOSE_GRACE_MS);
    })();
    return this.#closing;
  }

  #liveHandle(): WorkerHandle {
    const current = this.#handle;
    if (current?.alive) return current;
    if (current) void current.terminate();
    this.#handle = new WorkerHandle(this.#spec, this.#options);
    return this.#handle;
  }
}
