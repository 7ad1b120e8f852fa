/**
 * Entry of the sync worker thread (started by `WorkerBridge`, never imported directly).
 *
 * It rebuilds the adapter from its `WorkerSpec`, owns a small connection pool and runs the
 * main thread's requests. A crash (uncaught exception, `process.exit`, a failing import)
 * is written into the shared control buffer from the exit handlers, so a main thread
 * blocked in `Atomics.wait` wakes up at once with a `ConnectionError`.
 */
import { workerData } from 'node:worker_threads';
import type { Adapter } from '../adapter/adapter.js';
import { ConnectionError } from '../errors/error-classes.js';
import type { BridgeRequest, WorkerInit } from './bridge-protocol.js';
import { loadWorkerAdapter } from './load-worker-adapter.js';
import { ReplyChannel } from './reply-channel.js';
import { WorkerPool } from './worker-pool.js';
import { WorkerSlotHost } from './worker-slot-host.js';

const CLOSE_TIMEOUT_MS = 2000;
/** How long closing waits for cancels and rollbacks still in flight (the main thread terminates the worker after 3 s). */
const CLOSE_DRAIN_MS = 1000;

const init = workerData as WorkerInit;
const channel = new ReplyChannel(init.port, new Int32Array(init.control));
let adapter: Adapter | undefined;
let closing = false;

function crash(message: string, cause?: unknown): void {
  channel.crash(new ConnectionError(`sync worker ${message}`, { dialect: adapter?.dialect, cause }).toJSON());
}

process.on('uncaughtException', (error) => {
  crash(`crashed: ${error instanceof Error ? error.message : String(error)}`, error);
  process.exit(1);
});
process.on('exit', (code) => {
  if (!closing) crash(`exited unexpectedly (exit code ${code})`);
});
channel.loading();

const ready = loadWorkerAdapter(init.spec).then(
  (loaded) => {
    adapter = loaded;
    const pool = new WorkerPool(loaded, init.poolSize, (open, inUse) => channel.counts(open, inUse));
    const host = new WorkerSlotHost(loaded, pool, channel, init.callTimeoutMs);
    channel.ready();
    return { adapter: loaded, pool, host };
  },
  (error: unknown) => {
    crash(`could not load the adapter: ${error instanceof Error ? error.message : String(error)}`, error);
    process.exit(1);
  },
);

async function close(parts: { adapter: Adapter; pool: WorkerPool; host: WorkerSlotHost }): Promise<void> {
  closing = true;
  await parts.host.drain(CLOSE_DRAIN_MS);
  await parts.pool.close(CLOSE_TIMEOUT_MS);
  await parts.adapter.close?.().catch(() => {});
  channel.closed();
  process.exit(0);
}

init.port.on('message', (request: BridgeRequest) => {
  void ready.then((parts) => {
    if (!parts || closing) return;
    if (request.type === 'close') void close(parts);
    else parts.host.handle(request);
  });
});
