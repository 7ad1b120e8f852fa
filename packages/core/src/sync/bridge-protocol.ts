import type { MessagePort } from 'node:worker_threads';
import type { QueryResult } from 'kysely';
import type { WorkerSpec } from '../adapter/adapter.js';
import type { SerializedError } from '../errors/session-factory-error.js';

/**
 * Int32 cells of the control buffer shared by the main thread and the sync worker.
 *
 * - `signal`: bumped (and `Atomics.notify`'d) after every reply or crash; the main thread
 *   `Atomics.wait`s on it with a deadline.
 * - `state`: one of `WORKER_STATE`; the worker writes `crashed` from its exit handlers.
 * - `open` / `inUse`: the worker's connection counts, written before every reply.
 * - `cancelAck`: the highest sequence number whose cancel the worker has seen (liveness).
 */
export const CONTROL_CELL = { signal: 0, state: 1, open: 2, inUse: 3, cancelAck: 4 } as const;

/** Size in bytes of the shared control buffer (8 Int32 cells, 3 spare). */
export const CONTROL_BYTES = 8 * Int32Array.BYTES_PER_ELEMENT;

/**
 * Values of the `state` cell: `starting` until the worker's entry runs (a worker that dies
 * before that cannot report it), `loading` while it imports the adapter module, then `ready`.
 */
export const WORKER_STATE = { starting: 0, loading: 1, ready: 2, crashed: 3, closed: 4 } as const;

/** What the main thread hands the worker as `workerData`. */
export interface WorkerInit {
  readonly spec: WorkerSpec;
  readonly poolSize: number;
  readonly callTimeoutMs: number;
  readonly control: SharedArrayBuffer;
  /** The worker's end of the MessageChannel (transferred). */
  readonly port: MessagePort;
}

/** Runs `begin` (when present) and then one compiled query on the slot's connection. */
export interface ExecuteRequest {
  readonly type: 'execute';
  readonly seq: number;
  readonly slot: number;
  readonly begin?: readonly string[] | undefined;
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/** Runs COMMIT/ROLLBACK (+ afterEnd) and returns the connection to the worker's pool. */
export interface EndRequest {
  readonly type: 'end';
  readonly seq: number;
  readonly slot: number;
  readonly statements: readonly string[];
}

/** The main thread gave up on call `seq`: cancel it on the server and roll the slot back. No reply. */
export interface CancelRequest {
  readonly type: 'cancel';
  readonly seq: number;
  readonly slot: number;
}

/** The slot is free: pool its connection (rolling back first if still in a transaction). No reply. */
export interface ReleaseRequest {
  readonly type: 'release';
  readonly slot: number;
}

/** The slot is free and its connection must be closed, not pooled. No reply. */
export interface DestroyRequest {
  readonly type: 'destroy';
  readonly slot: number;
}

/** Close every connection and exit. No reply (the main thread awaits the worker's exit). */
export interface CloseRequest {
  readonly type: 'close';
}

/** Every message the main thread posts to the worker. */
export type BridgeRequest =
  | ExecuteRequest
  | EndRequest
  | CancelRequest
  | ReleaseRequest
  | DestroyRequest
  | CloseRequest;

/** A successful call; `result` is set for `execute`. */
export interface OkReply {
  readonly type: 'reply';
  readonly seq: number;
  readonly ok: true;
  readonly result?: QueryResult<unknown> | undefined;
}

/** A failed call. `held` says whether the worker still holds the slot's connection (and transaction). */
export interface ErrorReply {
  readonly type: 'reply';
  readonly seq: number;
  readonly ok: false;
  readonly error: SerializedError;
  readonly held: boolean;
}

/** Posted by the worker right before it dies; the `state` cell says `crashed` as well. */
export interface CrashNotice {
  readonly type: 'crash';
  readonly error: SerializedError;
}

/** A reply to one call. */
export type CallReply = OkReply | ErrorReply;

/** Every message the worker posts to the main thread. */
export type BridgeMessage = CallReply | CrashNotice;
