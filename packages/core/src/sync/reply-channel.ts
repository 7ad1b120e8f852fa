import type { MessagePort } from 'node:worker_threads';
import { DatabaseError } from '../errors/error-classes.js';
import type { SerializedError } from '../errors/session-factory-error.js';
import { type CallReply, CONTROL_CELL, WORKER_STATE } from './bridge-protocol.js';

/**
 * The worker's side of the bridge's wire: posts a message on the port, then bumps the
 * shared `signal` cell and notifies, so a main thread blocked in `Atomics.wait` wakes up
 * and finds the message with `receiveMessageOnPort`.
 */
export class ReplyChannel {
  readonly #port: MessagePort;
  readonly #control: Int32Array;
  #crashed = false;

  constructor(port: MessagePort, control: Int32Array) {
    this.#port = port;
    this.#control = control;
  }

  /** Posts a call's reply and wakes the main thread. A result that cannot be cloned becomes an error reply. */
  reply(message: CallReply): void {
    try {
      this.#port.postMessage(message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const failure = new DatabaseError(`sync worker could not send the result to the main thread: ${reason}`);
      this.#port.postMessage({ type: 'reply', seq: message.seq, ok: false, error: failure.toJSON(), held: true });
    }
    this.#signal();
  }

  /** Records the worker's connection counts for the main thread's `stats()`. */
  counts(open: number, inUse: number): void {
    Atomics.store(this.#control, CONTROL_CELL.open, open);
    Atomics.store(this.#control, CONTROL_CELL.inUse, inUse);
  }

  /** Marks the worker's entry as running (it can report crashes from now on). */
  loading(): void {
    Atomics.store(this.#control, CONTROL_CELL.state, WORKER_STATE.loading);
  }

  /** Marks the worker ready (its adapter loaded). */
  ready(): void {
    Atomics.store(this.#control, CONTROL_CELL.state, WORKER_STATE.ready);
  }

  /** Acknowledges a cancel, so the main thread knows the worker's event loop is alive. */
  ackCancel(seq: number): void {
    Atomics.store(this.#control, CONTROL_CELL.cancelAck, seq);
  }

  /** Marks the worker closed on purpose (no crash is reported). */
  closed(): void {
    this.counts(0, 0);
    Atomics.store(this.#control, CONTROL_CELL.state, WORKER_STATE.closed);
    this.#signal();
  }

  /** Reports a crash once: posts the error, writes `crashed` into the state cell and wakes the main thread. */
  crash(error: SerializedError): void {
    if (this.#crashed) return;
    this.#crashed = true;
    try {
      this.#port.postMessage({ type: 'crash', error });
    } catch {
      // the state cell alone still tells the main thread
    }
    this.counts(0, 0);
    Atomics.store(this.#control, CONTROL_CELL.state, WORKER_STATE.crashed);
    this.#signal();
  }

  #signal(): void {
    Atomics.add(this.#control, CONTROL_CELL.signal, 1);
    Atomics.notify(this.#control, CONTROL_CELL.signal);
  }
}
