import { FactoryClosedError, PoolTimeoutError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';
import { type AcquisitionSite, captureAcquisitionSite, formatAcquisitionSite } from './acquisition-site.js';
import { checkPoolOptions } from './check-pool-options.js';
import { type HolderFacts, poolTimeoutMessage } from './pool-timeout-message.js';
import type {
  AcquireOptions,
  PooledConnection,
  PoolHooks,
  PoolListeners,
  PoolSnapshot,
  ResolvedPoolOptions,
} from './pool-types.js';
import { PoolWaiter, timerDelay } from './pool-waiter.js';
import { WriterGate } from './writer-gate.js';

export type {
  AcquireOptions,
  ConnectionRole,
  PooledConnection,
  PoolHooks,
  PoolLeak,
  PoolListeners,
  PoolSnapshot,
  ResolvedPoolOptions,
} from './pool-types.js';

/**
 * Where a connection is. `inHand` means the pool holds it between places: being pinged, just
 * opened, or just released and not yet idled or handed over. `forceDestroyed` connections were
 * taken from their holder by `destroyAll`, so their late `release` is a quiet no-op.
 */
type ConnectionState = 'idle' | 'inHand' | 'checkedOut' | 'destroyed' | 'forceDestroyed';

/**
 * An open connection as the pool books it: the public part (`id`, `resource`, `createdAt`) plus
 * the pool's bookkeeping, kept on the object itself rather than in maps, since every checkout
 * and release reads and writes it several times. Only the pool touches the other fields.
 */
class PoolSlot<T> implements PooledConnection<T> {
  readonly id: number;
  readonly resource: T;
  readonly createdAt: number;
  /** The pool that opened it: another pool's connection is never taken for its own. */
  readonly pool: object;
  state: ConnectionState = 'inHand';
  /** `performance.now()` at checkout, while checked out. */
  checkedOutAt = 0;
  /** Checked out holding a writer slot. */
  writer = false;

  constructor(pool: object, id: number, resource: T, createdAt: number) {
    this.pool = pool;
    this.id = id;
    this.resource = resource;
    this.createdAt = createdAt;
  }
}

/** Where `connection` is in `pool`; undefined for a connection `pool` never booked. */
function stateOf(pool: object, connection: PooledConnection<unknown>): ConnectionState | undefined {
  return connection instanceof PoolSlot && connection.pool === pool ? connection.state : undefined;
}

function slot<T>(connection: PooledConnection<T>): PoolSlot<T> {
  return connection as PoolSlot<T>;
}

interface IdleEntry<T> {
  readonly connection: PooledConnection<T>;
  readonly timer: NodeJS.Timeout | undefined;
}

/** A checkout watched for leaks (only with `leakDetectionMs` set). */
interface LeakWatch {
  readonly site: AcquisitionSite;
  readonly timer: NodeJS.Timeout;
}

/**
 * A connection pool with SQLAlchemy QueuePool semantics: `size` connections are kept, up to
 * `maxOverflow` more are opened under load and closed when returned, waiters are served first
 * come first served, and a failed pre-ping discards every older idle connection too.
 */
export class Pool<T> {
  readonly #hooks: PoolHooks<T>;
  readonly #options: ResolvedPoolOptions;
  readonly #listeners: PoolListeners;
  readonly #description: string | undefined;

  #nextId = 1;
  #closed = false;
  #opening = 0;
  /** Every open connection, whatever its state. */
  readonly #live = new Set<PooledConnection<T>>();
  /** Oldest-returned first. */
  readonly #idle: IdleEntry<T>[] = [];
  /** Checkouts watched for leaks; empty while `leakDetectionMs` is off. */
  readonly #leakWatches = new Map<PooledConnection<T>, LeakWatch>();
  /** Callers waiting in line, first come first served. */
  readonly #queue: PoolWaiter<T>[] = [];
  /** Callers not yet answered: the queue plus those a connection is being opened or pinged for. */
  readonly #waiting = new Set<PoolWaiter<T>>();
  /** Opens and pings under way (`destroyAll` waits for them, since each ends in a place for its connection). */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #destroying = new Set<Promise<void>>();
  /** Writers queue here before checkout when the database runs `maxWriters` writers at most (SQLite: 1). */
  readonly #gate: WriterGate | undefined;

  #created = 0;
  #destroyed = 0;
  #timeouts = 0;
  #recycled = 0;
  #invalidated = 0;

  constructor(hooks: PoolHooks<T>, options: ResolvedPoolOptions, listeners: PoolListeners = {}, description?: string) {
    checkPoolOptions(options);
    this.#hooks = hooks;
    this.#options = { ...options };
    this.#listeners = listeners;
    this.#description = description === undefined ? undefined : redactPassword(description);
    this.#gate = options.maxWriters === undefined ? undefined : new WriterGate(options.maxWriters);
  }

  /**
   * Whether `close` was called.
   */
  get isClosed(): boolean {
    return this.#closed;
  }

  /**
   * Waits for a connection: an idle one (validated at checkout), else a new one if capacity
   * allows, else the next one released. Rejects with `PoolTimeoutError` after `timeoutMs`, with
   * the signal's reason on abort, with `FactoryClosedError` once closed, and with `create`'s own
   * error when opening fails. When the pool limits writers (`maxWriters`), a `'writer'` (the
   * default role) first waits in line, first come first served, for a writer slot, which it holds
   * until the connection is released; `timeoutMs` bounds both waits together. A `'reader'` skips
   * that line.
   */
  acquire(options: AcquireOptions = {}): Promise<PooledConnection<T>> {
    if (this.#listeners.acquired === undefined) return this.#acquire(options);
    const started = performance.now();
    return this.#acquire(options).then((connection) => {
      const waitedMs = performance.now() - started;
      this.#notify('acquired', (l) => l.acquired?.(waitedMs));
      return connection;
    });
  }

  #acquire(options: AcquireOptions): Promise<PooledConnection<T>> {
    if (this.#closed) return Promise.reject(this.#closedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const gate = options.role === 'reader' ? undefined : this.#gate;
    const site = this.#options.leakDetectionMs === undefined ? undefined : captureAcquisitionSite(this.acquire);
    if (gate === undefined) return this.#acquireConnection(signal, this.#options.timeoutMs, false, site);
    if (gate.tryEnter()) return this.#acquireConnection(signal, this.#options.timeoutMs, true, site);
    return this.#acquireAfterGate(gate, signal, site);
  }

  /**
   * `acquire`'s fast path without the promise: an idle connection that needs no checkout ping,
   * when nobody waits, for a reader or a writer whose slot is free; otherwise `undefined` (then
   * call `acquire`). Opens nothing and never waits. Throws `FactoryClosedError` once closed.
   *
   * @example
   * ```ts
   * const connection = pool.tryAcquireIdle({ role: 'reader' }) ?? (await pool.acquire({ role: 'reader' }));
   * ```
   */
  tryAcquireIdle(options: Pick<AcquireOptions, 'role'> = {}): PooledConnection<T> | undefined {
    if (this.#closed) throw this.#closedError();
    if (this.#queue.length > 0 || this.#idle.length === 0) return undefined;
    const gate = options.role === 'reader' ? undefined : this.#gate;
    if (gate !== undefined && !gate.tryEnter()) return undefined;
    const idle = this.#takeUsableIdle();
    if (idle !== undefined && !this.#needsPing(idle)) {
      const site =
        this.#options.leakDetectionMs === undefined ? undefined : captureAcquisitionSite(this.tryAcquireIdle);
      return this.#checkOut(idle, gate !== undefined, site);
    }
    if (idle !== undefined) this.#place(idle);
    gate?.leave();
    return undefined;
  }

  /** Waits for a writer slot, then for a connection with what is left of `timeoutMs`. */
  async #acquireAfterGate(
    gate: WriterGate,
    signal: AbortSignal | undefined,
    site: AcquisitionSite | undefined,
  ): Promise<PooledConnection<T>> {
    const started = performance.now();
    await gate.enter(this.#options.timeoutMs, signal, () => this.#writerTimeout());
    if (this.#closed) {
      gate.leave();
      throw this.#closedError();
    }
    const left = Math.max(0, this.#options.timeoutMs - (performance.now() - started));
    return this.#acquireConnection(signal, left, true, site);
  }

  /** The connection part of `acquire`; a writer that fails here gives its slot back. */
  #acquireConnection(
    signal: AbortSignal | undefined,
    timeoutMs: number,
    writer: boolean,
    site: AcquisitionSite | undefined,
  ): Promise<PooledConnection<T>> {
    // Fast path: nobody waits and an idle connection is at hand: no queueing, and no waiter or
    // timer at all when it needs no ping.
    const idle = this.#queue.length === 0 ? this.#takeUsableIdle() : undefined;
    if (idle !== undefined && !this.#needsPing(idle)) return Promise.resolve(this.#checkOut(idle, writer, site));
    return new Promise<PooledConnection<T>>((resolve, reject) => {
      const fail = writer
        ? (error: unknown) => {
            this.#gate!.leave();
            reject(error);
          }
        : reject;
      const waiter = new PoolWaiter<T>(resolve, fail, (settled) => this.#forget(settled));
      waiter.writer = writer;
      waiter.site = site;
      this.#waiting.add(waiter);
      waiter.arm(timeoutMs, () => this.#timeOut(waiter), signal);
      if (idle !== undefined) {
        this.#validateFor(waiter, idle);
      } else {
        this.#queue.push(waiter);
        this.#dispatch();
      }
    });
  }

  /**
   * Returns a connection without waiting: an idle one (the recycle check applies; no ping, since
   * a ping is asynchronous), else a new one from `hooks.createSync` if capacity allows, else
   * `undefined`. Never jumps ahead of callers already waiting. Throws `FactoryClosedError` once
   * closed, and `PoolTimeoutError` when a `'writer'` (the default role) needs a writer slot that
   * another caller holds or waits for: a synchronous caller cannot wait for it.
   */
  tryAcquireSync(options: Pick<AcquireOptions, 'role'> = {}): PooledConnection<T> | undefined {
    if (this.#closed) throw this.#closedError();
    const gate = options.role === 'reader' ? undefined : this.#gate;
    if (gate !== undefined && !gate.tryEnter()) throw new PoolTimeoutError(this.#writerBusyNowMessage(gate));
    const site = this.#options.leakDetectionMs === undefined ? undefined : captureAcquisitionSite(this.tryAcquireSync);
    const connection = this.#takeSync(site);
    if (gate === undefined) return connection;
    if (connection === undefined) gate.leave();
    else slot(connection).writer = true;
    return connection;
  }

  #takeSync(site: AcquisitionSite | undefined): PooledConnection<T> | undefined {
    if (this.#queue.length > 0) return undefined;
    const idle = this.#takeUsableIdle();
    if (idle !== undefined) return this.#checkOut(idle, false, site);
    if (this.#hooks.createSync === undefined || !this.#hasCapacity()) return undefined;
    const connection = this.#register(this.#hooks.createSync());
    return this.#checkOut(connection, false, site);
  }

  /**
   * Gives a checked-out connection back. A closed pool or a broken connection destroys it; a
   * waiter gets it next (after checkout validation); otherwise it idles, unless `size`
   * connections already idle, in which case it is overflow and is closed. Throws `TypeError`
   * for a connection that is not checked out (double release), changing nothing.
   */
  release(connection: PooledConnection<T>): void {
    const state = stateOf(this, connection);
    if (state === 'forceDestroyed') return;
    if (state !== 'checkedOut') {
      throw new TypeError(
        `Pool.release: connection ${String(connection?.id)} is not checked out (state: ${state ?? 'unknown'})`,
      );
    }
    this.#move(connection, 'inHand');
    try {
      if (this.#closed) {
        this.#destroy(connection);
      } else if (this.#isBroken(connection)) {
        this.#invalidateConnection(connection, 'the driver reported the connection broken');
        this.#dispatch();
      } else if (this.#queue.length === 0 && this.#idle.length >= this.#options.size) {
        this.#destroy(connection);
      } else {
        this.#notify('checkin', (l) => l.checkin?.(connection.id));
        this.#place(connection);
      }
    } finally {
      // After the connection found its place, so the next writer can take it.
      this.#leaveGate(connection);
    }
  }

  /**
   * Destroys a checked-out connection known to be broken, counts it as invalidated, and lets a
   * waiter open a replacement. Resolves once the connection is closed. Rejects with `TypeError`
   * for a connection that is not checked out.
   */
  async invalidate(connection: PooledConnection<T>, reason: string): Promise<void> {
    const state = stateOf(this, connection);
    if (state === 'forceDestroyed') return;
    if (state !== 'checkedOut') {
      throw new TypeError(
        `Pool.invalidate: connection ${String(connection?.id)} is not checked out (state: ${state ?? 'unknown'})`,
      );
    }
    this.#move(connection, 'inHand');
    const destroyed = this.#invalidateConnection(connection, reason);
    this.#dispatch();
    this.#leaveGate(connection);
    await destroyed;
  }

  /**
   * Gauges and counters. `created - destroyed == open`, and `open + opening` never exceeds
   * `size + maxOverflow`.
   */
  stats(): PoolSnapshot {
    return {
      open: this.#live.size,
      idle: this.#idle.length,
      inUse: this.#live.size - this.#idle.length,
      waiting: this.#waiting.size + (this.#gate?.waiting ?? 0),
      created: this.#created,
      destroyed: this.#destroyed,
      timeouts: this.#timeouts,
      recycled: this.#recycled,
      invalidated: this.#invalidated,
      opening: this.#opening,
    };
  }

  /**
   * Stops the pool: rejects every waiter with `FactoryClosedError`, destroys idle connections
   * now (resolving when they are closed), and destroys checked-out ones when they are released.
   * Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const waiter of [...this.#waiting]) waiter.reject(this.#closedError());
      this.#gate?.rejectAll(() => this.#closedError());
      for (const { connection } of [...this.#idle]) this.#destroy(connection);
    }
    return this.#allDestroyed();
  }

  /**
   * Closes the pool and also destroys the connections still checked out (their later `release`
   * or `invalidate` is a no-op). Resolves when every open, ping and destroy under way has ended,
   * so every connection the pool ever opened is closed.
   */
  async destroyAll(): Promise<void> {
    void this.close();
    for (const connection of this.#checkedOutOldestFirst()) {
      this.#destroy(connection, 'forceDestroyed');
      this.#leaveGate(connection);
    }
    while (this.#inFlight.size > 0 || this.#destroying.size > 0) {
      await Promise.all([...this.#inFlight, ...this.#destroying]);
    }
  }

  /** Serves waiters in order while an idle connection or free capacity exists. */
  #dispatch(): void {
    while (!this.#closed && this.#queue.length > 0) {
      const idle = this.#takeUsableIdle();
      if (idle !== undefined) {
        this.#validateFor(this.#queue.shift()!, idle);
      } else if (this.#hasCapacity()) {
        this.#openFor(this.#queue.shift()!);
      } else {
        return;
      }
    }
  }

  /** A connection nobody holds: destroy it if closed, else hand it to the first waiter, else idle it. */
  #place(connection: PooledConnection<T>): void {
    if (this.#closed) {
      this.#destroy(connection);
    } else if (this.#queue.length > 0) {
      if (this.#isExpired(connection)) {
        this.#recycle(connection);
        this.#dispatch();
      } else {
        this.#validateFor(this.#queue.shift()!, connection);
      }
    } else if (this.#idle.length >= this.#options.size) {
      this.#destroy(connection);
    } else {
      this.#makeIdle(connection);
    }
  }

  #needsPing(connection: PooledConnection<T>): boolean {
    return this.#options.prePing && this.#hooks.shouldPing?.(connection.resource) !== false;
  }

  /** Checkout validation of a connection the pool has in hand; fresh connections skip it. */
  #validateFor(waiter: PoolWaiter<T>, connection: PooledConnection<T>): void {
    if (!this.#needsPing(connection)) {
      this.#deliver(waiter, connection);
      return;
    }
    waiter.serving = true;
    this.#track(this.#inFlight, this.#pingThenDeliver(waiter, connection));
  }

  async #pingThenDeliver(waiter: PoolWaiter<T>, connection: PooledConnection<T>): Promise<void> {
    const failure = await this.#pingFailure(connection);
    if (failure === undefined) {
      this.#deliver(waiter, connection);
      return;
    }
    this.#invalidateConnection(connection, `ping failed: ${failure}`);
    // A server restart kills every connection opened before this one: drop them all now.
    for (const { connection: older } of [...this.#idle]) {
      if (older.id < connection.id) {
        this.#invalidateConnection(older, `opened before connection ${connection.id}, which failed its ping`);
      }
    }
    // The failed connection's slot is still free here, so this waiter keeps its place in line.
    if (!waiter.settled && !this.#closed) this.#openFor(waiter);
    this.#dispatch();
  }

  /** Resolves to the ping error's message, or undefined if the ping succeeded within `timeoutMs`. */
  async #pingFailure(connection: PooledConnection<T>): Promise<string | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.#options.timeoutMs} ms`)),
        timerDelay(this.#options.timeoutMs),
      );
    });
    try {
      await Promise.race([this.#hooks.ping(connection.resource), deadline]);
      return undefined;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
    }
  }

  #openFor(waiter: PoolWaiter<T>): void {
    waiter.serving = true;
    this.#opening += 1;
    this.#track(this.#inFlight, this.#openThenDeliver(waiter));
  }

  async #openThenDeliver(waiter: PoolWaiter<T>): Promise<void> {
    let resource: T;
    try {
      resource = await this.#hooks.create();
    } catch (error) {
      this.#opening -= 1;
      if (!waiter.reject(error)) this.#report(error, 'connect');
      this.#dispatch();
      return;
    }
    this.#opening -= 1;
    this.#deliver(waiter, this.#register(resource));
  }

  /** Books a freshly opened resource as an open connection the pool has in hand. */
  #register(resource: T): PooledConnection<T> {
    const connection = new PoolSlot<T>(this, this.#nextId++, resource, Date.now());
    this.#created += 1;
    this.#live.add(connection);
    this.#notify('connect', (l) => l.connect?.(connection.id));
    return connection;
  }

  /** Hands the connection to the waiter, or places it elsewhere if the waiter already gave up. */
  #deliver(waiter: PoolWaiter<T>, connection: PooledConnection<T>): void {
    if (waiter.settled) {
      this.#place(connection);
      return;
    }
    waiter.resolve(this.#checkOut(connection, waiter.writer, waiter.site));
  }

  #checkOut(connection: PooledConnection<T>, writer = false, site?: AcquisitionSite): PooledConnection<T> {
    this.#move(connection, 'checkedOut');
    if (writer) slot(connection).writer = true;
    if (site !== undefined) this.#watchForLeak(connection, site);
    this.#notify('checkout', (l) => l.checkout?.(connection.id));
    return connection;
  }

  /** One unref'd timer per checkout: it reports the connection if it is still held when it fires. */
  #watchForLeak(connection: PooledConnection<T>, site: AcquisitionSite): void {
    const timer = setTimeout(() => this.#reportLeak(connection), this.#options.leakDetectionMs).unref();
    this.#leakWatches.set(connection, { site, timer });
  }

  #reportLeak(connection: PooledConnection<T>): void {
    const watch = this.#leakWatches.get(connection);
    if (watch === undefined || stateOf(this, connection) !== 'checkedOut') return;
    const since = slot(connection).checkedOutAt;
    const leak = {
      connectionId: connection.id,
      holder: this.#holderOf(connection),
      heldMs: performance.now() - since,
      stack: formatAcquisitionSite(watch.site),
    };
    this.#notify('leak', (l) => l.leak?.(leak));
  }

  /** The connection checked out longest ago: who holds it, since when, and where it was acquired. */
  #oldestHolder(): HolderFacts | undefined {
    const [connection] = this.#checkedOutOldestFirst();
    if (connection === undefined) return undefined;
    const site = this.#leakWatches.get(connection)?.site;
    return {
      connectionId: connection.id,
      holder: this.#holderOf(connection),
      heldMs: performance.now() - connection.checkedOutAt,
      stack: site === undefined ? undefined : formatAcquisitionSite(site),
    };
  }

  /** Checked-out connections, longest held first (for messages and `destroyAll`: never on the hot path). */
  #checkedOutOldestFirst(): PoolSlot<T>[] {
    return [...this.#live]
      .map(slot)
      .filter((connection) => connection.state === 'checkedOut')
      .sort((a, b) => a.checkedOutAt - b.checkedOutAt);
  }

  #holderOf(connection: PooledConnection<T>): string | undefined {
    try {
      return this.#hooks.holderOf?.(connection);
    } catch (error) {
      this.#report(error, 'holderOf');
      return undefined;
    }
  }

  /** Takes idle connections in checkout order, discarding broken and too-old ones, until one is usable. */
  #takeUsableIdle(): PooledConnection<T> | undefined {
    while (this.#idle.length > 0) {
      const entry = this.#options.lifo ? this.#idle.at(-1)! : this.#idle[0]!;
      const connection = entry.connection;
      this.#move(connection, 'inHand');
      if (this.#isBroken(connection)) {
        this.#invalidateConnection(connection, 'the driver reported the connection broken');
      } else if (this.#isExpired(connection)) {
        this.#recycle(connection);
      } else {
        return connection;
      }
    }
    return undefined;
  }

  #makeIdle(connection: PooledConnection<T>): void {
    const idleTimeoutMs = this.#options.idleTimeoutMs;
    // Unref'd: an idle pool must never keep the process alive.
    const timer =
      idleTimeoutMs === undefined ? undefined : setTimeout(() => this.#expireIdle(connection), idleTimeoutMs).unref();
    this.#idle.push({ connection, timer });
    slot(connection).state = 'idle';
  }

  #expireIdle(connection: PooledConnection<T>): void {
    if (stateOf(this, connection) !== 'idle') return;
    this.#move(connection, 'inHand');
    this.#destroy(connection);
  }

  /** Moves a connection out of its current place (idle list, checked-out set) into `to`. */
  #move(connection: PooledConnection<T>, to: 'inHand' | 'checkedOut'): void {
    const from = stateOf(this, connection);
    if (from === 'idle') {
      // Checkouts take the first (FIFO) or last (LIFO) idle entry: no search, no splice then.
      const idle = this.#idle;
      const last = idle.length - 1;
      const index =
        idle[0]?.connection === connection
          ? 0
          : idle[last]?.connection === connection
            ? last
            : idle.findIndex((entry) => entry.connection === connection);
      const entry = index === 0 ? idle.shift() : index === last ? idle.pop() : idle.splice(index, 1)[0];
      if (entry?.timer !== undefined) clearTimeout(entry.timer);
    } else if (from === 'checkedOut' && this.#leakWatches.size > 0) {
      this.#stopLeakWatch(connection);
    }
    if (to === 'checkedOut') slot(connection).checkedOutAt = performance.now();
    slot(connection).state = to;
  }

  /** The connection was returned (or taken back): a leak not yet reported never will be; one reported stays reported. */
  #stopLeakWatch(connection: PooledConnection<T>): void {
    const watch = this.#leakWatches.get(connection);
    if (watch === undefined) return;
    clearTimeout(watch.timer);
    this.#leakWatches.delete(connection);
  }

  #invalidateConnection(connection: PooledConnection<T>, reason: string): Promise<void> {
    this.#invalidated += 1;
    const destroyed = this.#destroy(connection);
    this.#notify('invalidate', (l) => l.invalidate?.(connection.id, reason));
    return destroyed;
  }

  #recycle(connection: PooledConnection<T>): void {
    this.#recycled += 1;
    this.#destroy(connection);
  }

  /** Frees the connection's slot at once and closes it in the background (errors go to `error`). */
  #destroy(connection: PooledConnection<T>, finalState: 'destroyed' | 'forceDestroyed' = 'destroyed'): Promise<void> {
    if (stateOf(this, connection) !== 'inHand') this.#move(connection, 'inHand');
    slot(connection).state = finalState;
    this.#live.delete(connection);
    this.#destroyed += 1;
    return this.#track(this.#destroying, this.#closeResource(connection.resource));
  }

  async #closeResource(resource: T): Promise<void> {
    try {
      await this.#hooks.destroy(resource);
    } catch (error) {
      this.#report(error, 'destroy');
    }
  }

  #timeOut(waiter: PoolWaiter<T>): void {
    const message = poolTimeoutMessage({
      size: this.#options.size,
      maxOverflow: this.#options.maxOverflow,
      timeoutMs: this.#options.timeoutMs,
      inUse: this.#live.size - this.#idle.length,
      waiting: this.#waiting.size,
      description: this.#description,
      wasServing: waiter.serving,
      oldestHolder: this.#oldestHolder(),
    });
    if (waiter.reject(new PoolTimeoutError(message))) this.#timeouts += 1;
  }

  /** Gives back the writer slot held with this connection, if any. */
  #leaveGate(connection: PooledConnection<T>): void {
    const held = slot(connection);
    if (!held.writer) return;
    held.writer = false;
    this.#gate!.leave();
  }

  /** The `PoolTimeoutError` of a writer that waited `timeoutMs` for a writer slot. */
  #writerTimeout(): PoolTimeoutError {
    this.#timeouts += 1;
    return new PoolTimeoutError(
      poolTimeoutMessage({
        size: this.#options.size,
        maxOverflow: this.#options.maxOverflow,
        timeoutMs: this.#options.timeoutMs,
        inUse: this.#live.size - this.#idle.length,
        waiting: this.#waiting.size + (this.#gate?.waiting ?? 0),
        description: this.#description,
        wasServing: false,
        writers: { max: this.#options.maxWriters ?? 1, waiting: this.#gate?.waiting ?? 0 },
        oldestHolder: this.#oldestHolder(),
      }),
    );
  }

  #writerBusyNowMessage(gate: WriterGate): string {
    const where = this.#description === undefined ? '' : ` of ${this.#description}`;
    return (
      `A synchronous writer needs the write slot${where} right now, but ${gate.held} writer(s) hold it and ` +
      `${gate.waiting} wait (this database runs ${this.#options.maxWriters} writer(s) at a time). ` +
      'A sync session cannot wait: waiting would block the event loop the async writer needs to finish. ' +
      'Run sync sessions outside async ones, or make this one { readOnly: true } if it only reads.'
    );
  }

  /** A settled waiter leaves the line (it may still be served; its connection then goes elsewhere). */
  #forget(waiter: PoolWaiter<T>): void {
    this.#waiting.delete(waiter);
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
  }

  #hasCapacity(): boolean {
    return this.#live.size + this.#opening < this.#options.size + this.#options.maxOverflow;
  }

  #isExpired(connection: PooledConnection<T>): boolean {
    const { recycleMs } = this.#options;
    return recycleMs !== undefined && Date.now() - connection.createdAt > recycleMs;
  }

  #isBroken(connection: PooledConnection<T>): boolean {
    try {
      return this.#hooks.isBroken?.(connection.resource) === true;
    } catch (error) {
      // A resource whose state cannot even be read is not worth keeping.
      this.#report(error, 'isBroken');
      return true;
    }
  }

  #closedError(): FactoryClosedError {
    const where = this.#description === undefined ? '' : ` to ${this.#description}`;
    return new FactoryClosedError(`The connection pool${where} is closed; it hands out no more connections.`);
  }

  #allDestroyed(): Promise<void> {
    return Promise.all([...this.#destroying]).then(() => undefined);
  }

  /** Keeps `work` in `set` until it ends; `work` never rejects (unexpected errors go to `error`). */
  #track(set: Set<Promise<void>>, work: Promise<void>): Promise<void> {
    const tracked: Promise<void> = work
      .catch((error: unknown) => this.#report(error, 'pool'))
      .finally(() => set.delete(tracked));
    set.add(tracked);
    return tracked;
  }

  #notify(
    event: 'connect' | 'checkout' | 'checkin' | 'invalidate' | 'leak' | 'acquired',
    call: (listeners: PoolListeners) => void,
  ): void {
    try {
      call(this.#listeners);
    } catch (error) {
      this.#report(error, `${event} listener`);
    }
  }

  #report(error: unknown, phase: string): void {
    try {
      this.#listeners.error?.(error, phase);
    } catch {
      // The error listener itself failed: nobody is left to tell.
    }
  }
}
