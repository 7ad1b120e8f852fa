import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { WorkerSpec } from '../adapter/adapter.js';
import { ConfigurationError, ConnectionError, TransactionTimeoutError } from '../errors/error-classes.js';
import type { SessionFactoryError } from '../errors/session-factory-error.js';
import { errorFromJSON } from '../errors/to-session-factory-error.js';
import {
  type BridgeMessage,
  type BridgeRequest,
  type CallReply,
  CONTROL_BYTES,
  CONTROL_CELL,
  type EndRequest,
  type ExecuteRequest,
  WORKER_STATE,
  type WorkerInit,
} from './bridge-protocol.js';
import { workerExecArgv } from './worker-exec-argv.js';

/** A request that expects a reply, before the handle numbers it. */
export type CallRequest = Omit<ExecuteRequest, 'seq'> | Omit<EndRequest, 'seq'>;

/** Settings of one worker generation. */
export interface WorkerHandleOptions {
  readonly poolSize: number;
  readonly callTimeoutMs: number;
}

const WORKER_ENTRY = new URL('./sync-worker.js', import.meta.url);
const READY_POLL_MS = 10;

/**
 * One sync worker thread as the main thread sees it: starts it (unref'd), numbers calls,
 * posts them and blocks on `Atomics.wait` over the shared control buffer until the reply
 * with the same sequence number arrives, the worker reports a crash, or the deadline passes
 * (then it posts a cancel and throws `TransactionTimeoutError`). Replies to calls that
 * were given up are dropped, so they never poison a later call.
 */
export class WorkerHandle {
  readonly #spec: WorkerSpec;
  readonly #options: WorkerHandleOptions;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  readonly #exited: Promise<void>;
  #seq = 0;
  #dead: SessionFactoryError | undefined;
  #crash: SessionFactoryError | undefined;
  #pendingCancel: { readonly seq: number; readonly at: number } | undefined;

  constructor(spec: WorkerSpec, options: WorkerHandleOptions) {
    if (!existsSync(fileURLToPath(WORKER_ENTRY))) {
      throw new ConfigurationError(
        `sync worker entry not found at ${fileURLToPath(WORKER_ENTRY)}: the worker bridge runs from the built package (dist); ` +
          'a bundled application bundles a worker entry that calls runSyncWorker() from @sessionfactory/core/worker to sync-worker.js beside its bundle',
      );
    }
    this.#spec = spec;
    this.#options = options;
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    this.#control = new Int32Array(control);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const init: WorkerInit = {
      spec,
      poolSize: options.poolSize,
      callTimeoutMs: options.callTimeoutMs,
      control,
      port: port2,
    };
    try {
      this.#worker = new Worker(WORKER_ENTRY, {
        workerData: init,
        transferList: [port2],
        ...workerOptionsExecArgv(),
      });
    } catch (error) {
      port1.close();
      throw new ConfigurationError(`could not start the sync worker for ${this.#label}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    this.#worker.unref();
    port1.unref();
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#dead ??= this.#crashError(`sync worker for ${this.#label} exited (exit code ${code})`);
        resolve();
      });
    });
    this.#worker.on('error', (error) => {
      this.#dead ??= this.#crashError(`sync worker for ${this.#label} crashed: ${messageOf(error)}`);
    });
  }

  /** False once the worker crashed, exited, was closed, or stopped acknowledging cancels. */
  get alive(): boolean {
    if (this.#dead) return false;
    const state = Atomics.load(this.#control, CONTROL_CELL.state);
    if (state === WORKER_STATE.crashed || state === WORKER_STATE.closed) return false;
    const cancel = this.#pendingCancel;
    if (cancel && Atomics.load(this.#control, CONTROL_CELL.cancelAck) < cancel.seq) {
      if (performance.now() - cancel.at > this.#options.callTimeoutMs) {
        this.#dead = this.#crashError(`sync worker for ${this.#label} stopped responding (a cancel was never seen)`);
        return false;
      }
    }
    return true;
  }

  /**
   * Resolves once the worker has loaded its adapter; rejects with `ConnectionError` if it
   * crashes, exits or is not ready within `timeoutMs` (then it is terminated).
   */
  async ready(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (!this.alive) {
        this.#drain(0);
        throw this.#deadError();
      }
      if (Atomics.load(this.#control, CONTROL_CELL.state) === WORKER_STATE.ready) return;
      if (performance.now() >= deadline) {
        this.#dead ??= this.#crashError(`sync worker for ${this.#label} was not ready within ${timeoutMs} ms`);
        await this.terminate();
        throw this.#deadError();
      }
      await Promise.race([this.#exited, new Promise((resolve) => setTimeout(resolve, READY_POLL_MS))]);
    }
  }

  /** The worker's connection counts (from the shared buffer, written before every reply). */
  stats(): { open: number; inUse: number } {
    if (!this.alive) return { open: 0, inUse: 0 };
    return {
      open: Atomics.load(this.#control, CONTROL_CELL.open),
      inUse: Atomics.load(this.#control, CONTROL_CELL.inUse),
    };
  }

  /**
   * Posts a call and blocks until its reply. Throws `ConnectionError` if the worker is or
   * becomes dead, `TransactionTimeoutError` after `callTimeoutMs` (having posted a cancel),
   * and a `TypeError` if the request cannot be cloned (then nothing was sent).
   */
  call(request: CallRequest, budgetMs?: number): CallReply {
    this.#assertAlive();
    const seq = ++this.#seq;
    this.#post({ ...request, seq } as BridgeRequest);
    // The session's own deadline, when nearer than callTimeoutMs, bounds the wait too.
    const limitMs =
      budgetMs === undefined ? this.#options.callTimeoutMs : Math.min(budgetMs, this.#options.callTimeoutMs);
    const deadline = performance.now() + Math.max(0, limitMs);
    for (;;) {
      const signal = Atomics.load(this.#control, CONTROL_CELL.signal);
      const reply = this.#drain(seq);
      if (reply) return reply;
      if (Atomics.load(this.#control, CONTROL_CELL.state) === WORKER_STATE.crashed) {
        // the crash notice (and maybe this call's reply) is posted before the state is written
        const last = this.#drain(seq);
        if (last) return last;
        this.#dead ??= this.#crashError(`sync worker for ${this.#label} crashed`);
        throw this.#deadError();
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        if (Atomics.load(this.#control, CONTROL_CELL.state) === WORKER_STATE.starting) throw this.#neverStarted();
        this.#giveUp(seq, request.slot);
        throw new TransactionTimeoutError(
          limitMs < this.#options.callTimeoutMs
            ? 'the sync session reached its timeoutMs during this statement: the statement was cancelled and the transaction is rolled back'
            : `sync call exceeded callTimeoutMs (${this.#options.callTimeoutMs} ms): the statement was cancelled and the transaction is rolled back`,
        );
      }
      Atomics.wait(this.#control, CONTROL_CELL.signal, signal, remaining);
    }
  }

  /** Posts a request that has no reply (release, destroy); ignored once the worker is dead. */
  send(request: BridgeRequest): void {
    if (!this.alive) return;
    try {
      this.#post(request);
    } catch {
      // the slot is freed on the main thread regardless
    }
  }

  /** Asks the worker to close its connections and exit; terminates it after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    if (!this.#dead && Atomics.load(this.#control, CONTROL_CELL.state) !== WORKER_STATE.crashed) {
      try {
        this.#port.postMessage({ type: 'close' } satisfies BridgeRequest);
      } catch {
        // fall through to terminate
      }
    }
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, graceMs, 'timeout')));
    const outcome = await Promise.race([this.#exited, grace]);
    clearTimeout(timer);
    if (outcome === 'timeout') await this.terminate();
    this.#port.close();
  }

  /** Stops the worker thread at once. */
  async terminate(): Promise<void> {
    this.#dead ??= this.#crashError(`sync worker for ${this.#label} was terminated`);
    await this.#worker.terminate().catch(() => {});
    this.#port.close();
  }

  get #label(): string {
    return `${this.#spec.module}#${this.#spec.exportName}`;
  }

  #assertAlive(): void {
    if (this.alive) return;
    this.#drain(0);
    throw this.#deadError();
  }

  /** A fresh copy of the error that ended this worker (the worker's own crash report first). */
  #deadError(): SessionFactoryError {
    const error = this.#crash ?? this.#dead ?? new ConnectionError(`sync worker for ${this.#label} is not running`);
    return errorFromJSON(error.toJSON());
  }

  #post(request: BridgeRequest): void {
    try {
      this.#port.postMessage(request);
    } catch (error) {
      throw new TypeError(`sync query parameters must be structured-clonable: ${messageOf(error)}`, { cause: error });
    }
  }

  /** Reads every queued message; returns the reply for `seq`, drops stale replies, records a crash notice. */
  #drain(seq: number): CallReply | undefined {
    let found: CallReply | undefined;
    for (let entry = receiveMessageOnPort(this.#port); entry; entry = receiveMessageOnPort(this.#port)) {
      const message = entry.message as BridgeMessage;
      if (message.type === 'crash') this.#crash ??= errorFromJSON(message.error);
      else if (message.seq === seq) found = message;
    }
    return found;
  }

  #giveUp(seq: number, slot: number): void {
    this.#pendingCancel = { seq, at: performance.now() };
    try {
      this.#port.postMessage({ type: 'cancel', seq, slot } satisfies BridgeRequest);
    } catch {
      // the liveness check will notice a worker that never acknowledges
    }
  }

  /** The thread never ran its entry within a whole call deadline: it died at startup (or is stuck); replace it. */
  #neverStarted(): SessionFactoryError {
    this.#dead ??= this.#crashError(
      `sync worker for ${this.#label} did not start within callTimeoutMs (${this.#options.callTimeoutMs} ms); ` +
        'it may have failed at startup (check the execArgv, loaders and NODE_OPTIONS the worker inherits)',
    );
    void this.terminate();
    return this.#deadError();
  }

  #crashError(message: string): SessionFactoryError {
    return this.#crash ?? new ConnectionError(message);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function workerOptionsExecArgv(): { execArgv?: string[] } {
  const execArgv = workerExecArgv(process.execArgv);
  return execArgv ? { execArgv } : {};
}
