import { CompiledQuery } from 'kysely';
import type { Adapter, DriverConnection } from '../adapter/adapter.js';
import { isConnectionLost, toSessionFactoryError } from '../errors/to-session-factory-error.js';
import { settleWithin } from '../util/settle-within.js';
import { buffersInArray } from './binary-values.js';
import type { BridgeRequest, CancelRequest, EndRequest, ExecuteRequest } from './bridge-protocol.js';
import type { ReplyChannel } from './reply-channel.js';
import type { WorkerPool } from './worker-pool.js';

/** The worker's view of one main-thread slot (one `SyncConnection`). */
interface Slot {
  connection: DriverConnection | undefined;
  inTransaction: boolean;
  /** Tasks of one slot run one after another. */
  tail: Promise<void>;
  running: { readonly seq: number; readonly connection: DriverConnection } | undefined;
  /** Calls up to this sequence number were given up by the main thread. */
  cancelledSeq: number;
  /** The main thread destroyed the slot: any connection it still gets is closed. */
  destroyed: boolean;
}

/**
 * Runs the main thread's requests inside the sync worker, per slot and in order: lazily
 * takes a connection from the worker's pool, runs deferred BEGIN statements with the first
 * query, ends transactions and pools the connection, cancels and rolls back calls the main
 * thread gave up on, and discards connections that are lost or whose BEGIN/COMMIT/ROLLBACK
 * failed. Nothing here is dialect-specific: SQL comes from the main thread or `adapter.sql`.
 */
export class WorkerSlotHost {
  readonly #adapter: Adapter;
  readonly #pool: WorkerPool;
  readonly #channel: ReplyChannel;
  readonly #graceMs: number;
  readonly #slots = new Map<number, Slot>();
  /** Cancels sent and not yet settled: closing waits for them, or a statement would run on. */
  readonly #cancels = new Set<Promise<unknown>>();

  constructor(adapter: Adapter, pool: WorkerPool, channel: ReplyChannel, graceMs: number) {
    this.#adapter = adapter;
    this.#pool = pool;
    this.#channel = channel;
    this.#graceMs = graceMs;
  }

  /** Dispatches one request (everything but `close`, which the worker entry handles). */
  handle(request: BridgeRequest): void {
    switch (request.type) {
      case 'execute':
        this.#enqueue(request.slot, (slot) => this.#execute(slot, request));
        return;
      case 'end':
        this.#enqueue(request.slot, (slot) => this.#end(slot, request));
        return;
      case 'cancel':
        this.#cancel(request);
        return;
      case 'release':
        this.#enqueue(request.slot, (slot) => this.#release(request.slot, slot));
        return;
      case 'destroy':
        this.#destroy(request.slot);
        return;
      case 'close':
        return;
    }
  }

  #slot(id: number): Slot {
    let slot = this.#slots.get(id);
    if (!slot) {
      slot = {
        connection: undefined,
        inTransaction: false,
        tail: Promise.resolve(),
        running: undefined,
        cancelledSeq: 0,
        destroyed: false,
      };
      this.#slots.set(id, slot);
    }
    return slot;
  }

  #enqueue(id: number, task: (slot: Slot) => Promise<void>): void {
    const slot = this.#slot(id);
    slot.tail = slot.tail.then(() => task(slot)).catch(() => {});
  }

  async #execute(slot: Slot, request: ExecuteRequest): Promise<void> {
    if (request.seq <= slot.cancelledSeq) return;
    const connection = await this.#connection(slot, request.seq);
    if (!connection) return;
    if (slot.destroyed) {
      this.#discard(slot, connection);
      return;
    }
    // given up while waiting for a connection: the cancel's task pools it
    if (request.seq <= slot.cancelledSeq) return;
    slot.running = { seq: request.seq, connection };
    try {
      if (request.begin && !(await this.#begin(slot, connection, request))) return;
      const query = CompiledQuery.raw(request.sql, buffersInArray(request.parameters));
      const result = await connection.execute(query);
      this.#channel.reply({ type: 'reply', seq: request.seq, ok: true, result });
    } catch (error) {
      if (connection.broken || isConnectionLost(error, this.#adapter)) this.#discard(slot, connection);
      this.#replyError(request.seq, error, slot.connection === connection);
    } finally {
      slot.running = undefined;
    }
  }

  async #connection(slot: Slot, seq: number): Promise<DriverConnection | undefined> {
    if (slot.connection) return slot.connection;
    try {
      slot.connection = await this.#pool.acquire();
      slot.inTransaction = false;
      return slot.connection;
    } catch (error) {
      this.#replyError(seq, error, false);
      return undefined;
    }
  }

  /** Runs the deferred BEGIN statements; on failure discards the connection (no ROLLBACK) and replies. */
  async #begin(slot: Slot, connection: DriverConnection, request: ExecuteRequest): Promise<boolean> {
    try {
      for (const statement of request.begin ?? []) await connection.execute(CompiledQuery.raw(statement));
      slot.inTransaction = true;
      return true;
    } catch (error) {
      this.#discard(slot, connection);
      this.#replyError(request.seq, error, false);
      return false;
    }
  }

  async #end(slot: Slot, request: EndRequest): Promise<void> {
    if (request.seq <= slot.cancelledSeq) return;
    const connection = slot.connection;
    if (!connection) {
      this.#channel.reply({ type: 'reply', seq: request.seq, ok: true });
      return;
    }
    slot.running = { seq: request.seq, connection };
    try {
      for (const statement of request.statements) await connection.execute(CompiledQuery.raw(statement));
      slot.inTransaction = false;
      this.#giveBack(slot, connection);
      this.#channel.reply({ type: 'reply', seq: request.seq, ok: true });
    } catch (error) {
      this.#discard(slot, connection);
      this.#replyError(request.seq, error, false);
    } finally {
      slot.running = undefined;
    }
  }

  /** Cancels the running statement now, then (in slot order) rolls the transaction back. */
  #cancel(request: CancelRequest): void {
    this.#channel.ackCancel(request.seq);
    const slot = this.#slots.get(request.slot);
    if (!slot) return;
    slot.cancelledSeq = Math.max(slot.cancelledSeq, request.seq);
    const running = slot.running;
    if (running && running.seq <= request.seq && this.#adapter.cancel) {
      const cancelling = this.#adapter.cancel(running.connection).catch(() => {});
      this.#cancels.add(cancelling);
      void cancelling.finally(() => this.#cancels.delete(cancelling));
    }
    const previous = slot.tail;
    slot.tail = (async () => {
      if (!(await settleWithin(previous, this.#graceMs))) {
        if (slot.connection) this.#discard(slot, slot.connection);
        return;
      }
      await this.#rollBackAndPool(slot);
    })().catch(() => {});
  }

  /**
   * Before the worker closes its connections: cancels already sent, and the rollbacks queued
   * behind them, have run (bounded), so closing never leaves a statement running on the
   * server (a destroyed socket alone does not stop it there).
   */
  async drain(ms: number): Promise<void> {
    const work = [...this.#cancels, ...[...this.#slots.values()].map((slot) => slot.tail)];
    if (work.length > 0) await settleWithin(Promise.allSettled(work), ms);
  }

  async #release(id: number, slot: Slot): Promise<void> {
    await this.#rollBackAndPool(slot);
    if (this.#slots.get(id) === slot) this.#slots.delete(id);
  }

  #destroy(id: number): void {
    const slot = this.#slots.get(id);
    if (!slot) return;
    this.#slots.delete(id);
    slot.destroyed = true;
    slot.cancelledSeq = Number.MAX_SAFE_INTEGER;
    if (slot.connection) this.#discard(slot, slot.connection);
  }

  /** Rolls back a transaction still open on the slot (bounded by the grace period), then pools the connection. */
  async #rollBackAndPool(slot: Slot): Promise<void> {
    const connection = slot.connection;
    if (!connection) return;
    if (!slot.inTransaction) {
      this.#giveBack(slot, connection);
      return;
    }
    let failed = false;
    const rollback = connection.execute(CompiledQuery.raw(this.#adapter.sql.rollback)).then(
      () => {},
      () => {
        failed = true;
      },
    );
    const settled = await settleWithin(rollback, this.#graceMs);
    if (slot.connection !== connection) return;
    // afterEnd needs the session's options, which the worker does not know: never pool such a connection.
    if (!settled || failed || this.#adapter.sql.afterEnd) {
      this.#discard(slot, connection);
      return;
    }
    slot.inTransaction = false;
    this.#giveBack(slot, connection);
  }

  #giveBack(slot: Slot, connection: DriverConnection): void {
    if (slot.connection === connection) slot.connection = undefined;
    this.#pool.release(connection);
  }

  #discard(slot: Slot, connection: DriverConnection): void {
    if (slot.connection === connection) {
      slot.connection = undefined;
      slot.inTransaction = false;
    }
    this.#pool.destroy(connection);
  }

  #replyError(seq: number, error: unknown, held: boolean): void {
    const typed = toSessionFactoryError(error, this.#adapter);
    this.#channel.reply({ type: 'reply', seq, ok: false, error: typed.toJSON(), held });
  }
}
