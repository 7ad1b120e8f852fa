import type { CompiledQuery } from 'kysely';
import { CompiledQuery as Compiled } from 'kysely';
import type { Adapter, DriverConnection, ReplicationSupport } from '../adapter/adapter.js';
import { ConfigurationError, PoolTimeoutError } from '../errors/error-classes.js';
import { redactPassword } from '../errors/redact.js';
import { isConnectionLost, toSessionFactoryError } from '../errors/to-session-factory-error.js';
import type { EventHub } from '../events/event-hub.js';
import type { RouteEvent, ServerName } from '../events/event-types.js';
import { type ConnectionRole, Pool, type PooledConnection, type ResolvedPoolOptions } from '../pool/pool.js';
import type { QueryRunner } from '../session/query-runner.js';

type Pooled = PooledConnection<DriverConnection>;

/** A replica's replay position and lag are re-read at most this often while it is healthy. */
const STATUS_INTERVAL_MS = 1000;
/** First wait before a failed replica is tried again; doubled per failure up to the maximum. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/**
 * A replica that does not answer its status query this fast is treated as down: a hung server
 * must not hold reads that the primary could serve.
 */
const STATUS_TIMEOUT_MS = 2000;
/** Longest wait for a replica connection (a free one, or its checkout ping) before the read goes elsewhere. */
const CHECKOUT_TIMEOUT_MS = 5000;
/** Polling a replica that is catching up: first interval, doubled up to the maximum. */
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 100;

/** A replica of the set: its pool and what core knows about its health. */
interface Replica {
  readonly server: `replica:${number}`;
  readonly adapter: Adapter;
  readonly pool: Pool<DriverConnection>;
  state: 'up' | 'down' | 'lagging';
  failures: number;
  /** `Date.now()` after which a down or lagging replica is tried again. */
  retryAt: number;
  /** The replay position seen by the last status check. */
  replayed: string | undefined;
  /** `performance.now()` of the last status check (-Infinity: never). */
  checkedAt: number;
  lagMs: number | undefined;
}

/** What the replica set needs from its factory. */
export interface ReplicaSetContext {
  readonly adapter: Adapter;
  readonly primary: Pool<DriverConnection>;
  readonly hub: EventHub;
  readonly runner: QueryRunner;
  readonly pool: ResolvedPoolOptions;
  readonly waitMs: number;
  readonly maxLagMs: number;
}

/**
 * Read replicas of one factory: a pool per replica, their health (down, lagging, retried later),
 * the position of the factory's last write, and the routing decision for each read. A read runs
 * on a healthy replica that has replayed every write it must see, else waits for one up to
 * `replicaWaitMs`, else runs on the primary. Every decision is a `route` event.
 */
export class ReplicaSet {
  readonly #context: ReplicaSetContext;
  readonly #support: ReplicationSupport;
  readonly #replicas: Replica[];
  /** Which replica a checked-out connection came from (primary connections are not in it). */
  readonly #origin = new WeakMap<Pooled, Replica>();
  #next = 0;
  #position: string | undefined;
  /** A write committed whose position could not be read: the next read fetches the primary's first. */
  #positionUnknown = false;
  readonly #positionQuery: CompiledQuery;
  readonly #statusQuery: CompiledQuery;

  constructor(context: ReplicaSetContext, entries: readonly (string | Adapter)[]) {
    this.#context = context;
    const support = context.adapter.replication;
    if (!support) {
      throw new ConfigurationError(
        `The ${context.adapter.dialect} adapter does not support read replicas: remove the replicas option.`,
      );
    }
    this.#support = support;
    this.#positionQuery = Compiled.raw(support.positionSql);
    this.#statusQuery = Compiled.raw(support.replicaStatusSql);
    this.#replicas = entries.map((entry, index) => {
      const adapter = typeof entry === 'string' ? support.replicaAdapter(entry) : entry;
      return this.#replica(adapter, index);
    });
  }

  /** The position of the last write committed through this factory (the consistency token). */
  get position(): string | undefined {
    return this.#position;
  }

  /** Where a connection handed out by this set runs. */
  serverOf(pooled: Pooled): ServerName {
    return this.#origin.get(pooled)?.server ?? 'primary';
  }

  /** The pool a connection goes back to. */
  poolOf(pooled: Pooled): Pool<DriverConnection> {
    return this.#origin.get(pooled)?.pool ?? this.#context.primary;
  }

  /** The adapter that opened a connection (cancel must reach the server the connection is on). */
  adapterOf(pooled: Pooled): Adapter {
    return this.#origin.get(pooled)?.adapter ?? this.#context.adapter;
  }

  /** Checks a consistency token (`after`) from a client: a ConfigurationError when malformed. */
  checkToken(token: unknown): void {
    if (typeof token !== 'string' || !this.#support.isPosition(token)) {
      throw new ConfigurationError(
        `Invalid after: ${typeof token === 'string' ? JSON.stringify(token.slice(0, 60)) : typeof token}. Pass a token returned by sf.consistencyToken() (a ${this.#context.adapter.dialect} replication position).`,
      );
    }
  }

  /** Adds a committed write's position (positions of concurrent writes combine). */
  record(position: string): void {
    this.#position = this.#position === undefined ? position : this.#support.combine(this.#position, position);
    this.#positionUnknown = false;
  }

  /** A write committed but its position is unknown: reads fetch the primary's position before routing. */
  positionLost(): void {
    this.#positionUnknown = true;
  }

  /**
   * After a write committed on `pooled` (a primary connection): reads its position. Never
   * throws: a failure makes the next read fetch the position first; a lost connection is
   * reported through the returned error so the caller destroys it.
   */
  async recordAfterWrite(pooled: Pooled, sessionId: string | undefined): Promise<unknown> {
    try {
      const result = await this.#context.runner.execute(pooled, this.#positionQuery, sessionId);
      const position = positionOf(result.rows[0]);
      if (position === undefined) throw new Error('the position query returned no position');
      this.record(position);
      return undefined;
    } catch (error) {
      this.positionLost();
      this.#context.hub.emit('error', { phase: 'replicas.position', error, sessionId });
      return isConnectionLost(error, this.#context.adapter) ? error : undefined;
    }
  }

  /**
   * A connection for a write (or a statement that may write): always the primary. `role` is the
   * pool's writer-slot hint, as without replicas (an autocommit statement needs no writer slot).
   */
  acquirePrimary(signal: AbortSignal | undefined, role: ConnectionRole = 'writer'): Promise<Pooled> {
    this.#emitRoute('primary', 'write', undefined, 0);
    return this.#context.primary.acquire({ signal, role });
  }

  /**
   * A connection for a read that must see every write up to this factory's last one and
   * `after`: a replica that replayed them, one waited for up to `replicaWaitMs`, else the primary.
   */
  async acquireRead(after: string | undefined, signal: AbortSignal | undefined): Promise<Pooled> {
    if (this.#positionUnknown) await this.#refreshPosition(signal);
    const target = after === undefined ? this.#position : this.#combine(after);
    const started = performance.now();
    const count = this.#replicas.length;
    const first = this.#next;
    this.#next = (first + 1) % count;
    let behind: { replica: Replica; pooled: Pooled } | undefined;
    try {
      for (let k = 0; k < count; k++) {
        const replica = this.#replicas[(first + k) % count]!;
        if (replica.state !== 'up' && Date.now() < replica.retryAt) continue;
        const known =
          replica.state === 'up' &&
          performance.now() - replica.checkedAt < STATUS_INTERVAL_MS &&
          (target === undefined || this.#reached(replica, target));
        const pooled = await this.#checkout(replica, signal);
        if (!pooled) continue;
        if (!known && !(await this.#checkStatus(replica, pooled))) continue;
        if (target === undefined || this.#reached(replica, target)) {
          if (behind) behind.replica.pool.release(behind.pooled);
          this.#emitRoute(replica.server, 'replica', target, 0);
          return this.#handOut(replica, pooled);
        }
        // Of the replicas behind, the most advanced is the one worth waiting for.
        if (behind && !this.#ahead(replica, behind.replica)) replica.pool.release(pooled);
        else {
          if (behind) behind.replica.pool.release(behind.pooled);
          behind = { replica, pooled };
        }
      }
    } catch (error) {
      // The read was aborted while replicas were tried: the one held for waiting goes back.
      if (behind) behind.replica.pool.release(behind.pooled);
      throw error;
    }
    if (behind && target !== undefined) {
      const { replica, pooled } = behind;
      if (await this.#waitFor(replica, pooled, target, started, signal)) {
        this.#emitRoute(replica.server, 'caught-up', target, performance.now() - started);
        return this.#handOut(replica, pooled);
      }
      this.#emitRoute('primary', 'behind', target, performance.now() - started);
    } else {
      this.#emitRoute('primary', 'no-replica', target, 0);
    }
    return this.#context.primary.acquire({ signal, role: 'reader' });
  }

  /**
   * Gives back a connection used outside a transaction (an `sf.db` read): pooled, or destroyed
   * when `error` says the connection was lost (a replica is then also marked down) or when
   * `discard` says so. Returns whether the connection was lost.
   */
  async giveBack(pooled: Pooled, error: unknown, discard = false): Promise<boolean> {
    const replica = this.#origin.get(pooled);
    this.#origin.delete(pooled);
    const pool = replica?.pool ?? this.#context.primary;
    const lost = error !== undefined && isConnectionLost(error, replica?.adapter ?? this.#context.adapter);
    if (!lost) {
      if (discard) await pool.invalidate(pooled, 'killed by an aborted query (kill session)');
      else pool.release(pooled);
      return false;
    }
    await pool.invalidate(pooled, 'connection lost during a statement');
    if (replica) this.#markDown(replica, error);
    return true;
  }

  /** Closes every replica pool and replica adapter (the factory owns its replicas as it owns its primary). */
  async close(): Promise<void> {
    await Promise.all(
      this.#replicas.map(async (replica) => {
        const closing = replica.pool.close();
        await replica.pool.destroyAll();
        await closing;
        try {
          await replica.adapter.close?.();
        } catch (error) {
          this.#context.hub.emit('error', { phase: `${replica.server}.close`, error });
        }
      }),
    );
  }

  #replica(adapter: Adapter, index: number): Replica {
    const primary = this.#context.adapter;
    if (!adapter || typeof adapter.connect !== 'function' || !adapter.sql) {
      throw new ConfigurationError(
        `Invalid replicas[${index}]: expected a URL string or an adapter (such as the primary's ${primary.dialect}(url)).`,
      );
    }
    if (adapter.dialect !== primary.dialect) {
      throw new ConfigurationError(
        `Invalid replicas[${index}]: it is a ${adapter.dialect} adapter, but the primary is ${primary.dialect}. A replica must be a copy of the primary.`,
      );
    }
    const server = `replica:${index}` as const;
    const hub = this.#context.hub;
    const runner = this.#context.runner;
    const pool = new Pool<DriverConnection>(
      {
        create: async () => {
          try {
            return await adapter.connect();
          } catch (error) {
            throw toSessionFactoryError(error, adapter);
          }
        },
        destroy: (connection) => connection.close(),
        ping: (connection) => connection.ping(),
        shouldPing: (connection) => !runner.provenAlive(connection),
        isBroken: (connection) => connection.broken === true,
      },
      {
        ...this.#context.pool,
        timeoutMs: Math.min(this.#context.pool.timeoutMs, CHECKOUT_TIMEOUT_MS),
        maxWriters: undefined,
      },
      { error: (error, phase) => hub.emit('error', { phase: `${server}.pool.${phase}`, error }) },
      adapter.description,
    );
    return {
      server,
      adapter,
      pool,
      state: 'up',
      failures: 0,
      retryAt: 0,
      replayed: undefined,
      checkedAt: Number.NEGATIVE_INFINITY,
      lagMs: undefined,
    };
  }

  #combine(after: string): string {
    return this.#position === undefined ? after : this.#support.combine(this.#position, after);
  }

  #reached(replica: Replica, target: string): boolean {
    return replica.replayed !== undefined && this.#support.hasReached(replica.replayed, target);
  }

  #ahead(a: Replica, b: Replica): boolean {
    if (a.replayed === undefined) return false;
    if (b.replayed === undefined) return true;
    return a.replayed !== b.replayed && this.#support.hasReached(a.replayed, b.replayed);
  }

  #handOut(replica: Replica, pooled: Pooled): Pooled {
    this.#origin.set(pooled, replica);
    return pooled;
  }

  /** A connection of `replica`, or undefined when it cannot connect (it is then marked down). */
  async #checkout(replica: Replica, signal: AbortSignal | undefined): Promise<Pooled | undefined> {
    try {
      return await replica.pool.acquire({ signal, role: 'reader' });
    } catch (error) {
      if (signal?.aborted) throw error;
      // A busy replica is not a broken one: the read goes elsewhere, the replica stays up.
      if (!(error instanceof PoolTimeoutError)) this.#markDown(replica, error);
      return undefined;
    }
  }

  /**
   * Reads `replica`'s replay position and lag on `pooled`. False when the replica is down or
   * lagging more than `maxReplicaLagMs`; the connection has then been given back (or destroyed).
   */
  async #checkStatus(replica: Replica, pooled: Pooled): Promise<boolean> {
    let row: Record<string, unknown> | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      const status = this.#context.runner.execute(pooled, this.#statusQuery, undefined);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the replica did not answer its status query within ${STATUS_TIMEOUT_MS} ms`)),
          STATUS_TIMEOUT_MS,
        );
      });
      status.catch(() => {}); // after a timeout its rejection (the connection destroyed) has no one to tell
      row = (await Promise.race([status, timeout])).rows[0] as typeof row;
    } catch (error) {
      // Not awaited: closing a connection to a hung server may itself take a while.
      void replica.pool.invalidate(pooled, 'replica status query failed');
      this.#markDown(replica, error);
      return false;
    } finally {
      clearTimeout(timer);
    }
    const parse = this.#support.parseStatus;
    if (parse) {
      const status = parse(row ?? {});
      replica.lagMs = status.lagMs;
      replica.replayed = status.position;
    } else {
      const lag = row?.lag_ms;
      replica.lagMs = lag === null || lag === undefined ? undefined : Number(lag);
      replica.replayed = positionOf(row);
    }
    replica.checkedAt = performance.now();
    if (replica.lagMs !== undefined && replica.lagMs > this.#context.maxLagMs) {
      replica.pool.release(pooled);
      const wasLagging = replica.state === 'lagging';
      replica.state = 'lagging';
      replica.retryAt = Date.now() + STATUS_INTERVAL_MS;
      if (!wasLagging) {
        this.#emitHealth(replica, `lag ${Math.round(replica.lagMs)} ms > maxReplicaLagMs ${this.#context.maxLagMs}`);
      }
      return false;
    }
    if (replica.state !== 'up') {
      replica.state = 'up';
      replica.failures = 0;
      this.#emitHealth(replica, 'status check passed');
    }
    return true;
  }

  /**
   * Waits on `pooled` until `replica` replays `target`, at most until `replicaWaitMs` after
   * `started`. True when it did (the caller keeps `pooled`); false after giving `pooled` back.
   */
  async #waitFor(
    replica: Replica,
    pooled: Pooled,
    target: string,
    started: number,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    const deadline = started + this.#context.waitMs;
    const wait = this.#support.waitForPosition;
    if (wait) {
      const remaining = Math.floor(deadline - performance.now());
      if (remaining <= 0) {
        replica.pool.release(pooled);
        return false;
      }
      try {
        const row = (await this.#context.runner.execute(pooled, wait(target, remaining), undefined)).rows[0] as
          | Record<string, unknown>
          | undefined;
        if (row?.reached && row.reached !== '0') {
          replica.replayed = this.#support.combine(replica.replayed ?? target, target);
          return true;
        }
        replica.pool.release(pooled);
      } catch (error) {
        await replica.pool.invalidate(pooled, 'waiting for a replication position failed');
        this.#markDown(replica, error);
      }
      return false;
    }
    let delay = POLL_MIN_MS;
    for (;;) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        replica.pool.release(pooled);
        return false;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, remaining)));
      if (signal?.aborted) {
        replica.pool.release(pooled);
        throw signal.reason;
      }
      if (!(await this.#checkStatus(replica, pooled))) return false;
      if (this.#reached(replica, target)) return true;
      delay = Math.min(delay * 2, POLL_MAX_MS);
    }
  }

  /** Reads the primary's position after a write whose position was lost. A failure leaves it unknown. */
  async #refreshPosition(signal: AbortSignal | undefined): Promise<void> {
    const primary = this.#context.primary;
    const pooled = await primary.acquire({ signal, role: 'reader' });
    const lost = await this.recordAfterWrite(pooled, undefined);
    if (lost) await primary.invalidate(pooled, 'connection lost while reading the replication position');
    else primary.release(pooled);
  }

  #markDown(replica: Replica, error: unknown): void {
    replica.failures += 1;
    const backoff = Math.min(RETRY_MIN_MS * 2 ** (replica.failures - 1), RETRY_MAX_MS);
    replica.retryAt = Date.now() + backoff;
    replica.replayed = undefined;
    replica.checkedAt = Number.NEGATIVE_INFINITY;
    const wasDown = replica.state === 'down';
    replica.state = 'down';
    if (!wasDown) {
      const message = error instanceof Error ? error.message : String(error);
      this.#emitHealth(replica, redactPassword(message));
    }
  }

  #emitHealth(replica: Replica, reason: string): void {
    const { hub } = this.#context;
    if (!hub.has('replica')) return;
    hub.emit('replica', {
      server: replica.server,
      state: replica.state,
      reason,
      lagMs: replica.lagMs,
      ...(replica.state === 'up' ? {} : { retryAt: replica.retryAt }),
    });
  }

  #emitRoute(server: ServerName, reason: RouteEvent['reason'], position: string | undefined, waitedMs: number): void {
    const { hub } = this.#context;
    if (hub.has('route')) hub.emit('route', { server, reason, position, waitedMs });
  }
}

// Drivers name columns as asked; a position may come back as a string or (rarely) a number.
function positionOf(row: unknown): string | undefined {
  const value = (row as { position?: unknown } | undefined)?.position;
  return value === null || value === undefined ? undefined : String(value);
}
