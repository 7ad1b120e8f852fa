import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, FactoryClosedError, PoolTimeoutError } from '../src/errors/error-classes.js';
import { Pool, type PooledConnection, type PoolListeners, type ResolvedPoolOptions } from '../src/pool/pool.js';

/** A stand-in for a database connection: the server kills it by clearing `alive`. */
interface FakeConnection {
  readonly serial: number;
  alive: boolean;
  broken: boolean;
  pings: number;
  destroys: number;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Hooks over fake connections, with switches to make create/destroy/ping wait or fail. */
function fakeServer() {
  const connections: FakeConnection[] = [];
  const open = (): FakeConnection => {
    const connection = { serial: connections.length + 1, alive: true, broken: false, pings: 0, destroys: 0 };
    connections.push(connection);
    return connection;
  };
  const server = {
    connections,
    /** When set, the next `create` waits for (or fails with) this gate. */
    createGates: [] as Deferred<void>[],
    destroyGate: undefined as Deferred<void> | undefined,
    hangingPing: false,
    hooks: {
      create: vi.fn(async (): Promise<FakeConnection> => {
        const gate = server.createGates.shift();
        if (gate) await gate.promise;
        return open();
      }),
      createSync: vi.fn(open),
      destroy: vi.fn(async (connection: FakeConnection): Promise<void> => {
        connection.destroys += 1;
        if (server.destroyGate) await server.destroyGate.promise;
      }),
      ping: vi.fn(async (connection: FakeConnection): Promise<void> => {
        connection.pings += 1;
        if (server.hangingPing) await new Promise(() => {});
        if (!connection.alive) throw new Error('server closed the connection unexpectedly');
      }),
      isBroken: (connection: FakeConnection): boolean => connection.broken,
    },
    /** A server restart: every connection opened so far is dead. */
    kill(): void {
      for (const connection of connections) connection.alive = false;
    },
  };
  return server;
}

function poolOptions(overrides: Partial<ResolvedPoolOptions> = {}): ResolvedPoolOptions {
  return {
    size: 2,
    maxOverflow: 1,
    timeoutMs: 1000,
    recycleMs: undefined,
    prePing: false,
    lifo: false,
    idleTimeoutMs: undefined,
    ...overrides,
  };
}

function makePool(overrides: Partial<ResolvedPoolOptions> = {}, listeners: PoolListeners = {}, description?: string) {
  const server = fakeServer();
  const pool = new Pool(server.hooks, poolOptions(overrides), listeners, description);
  return { server, pool };
}

/** Lets every pending promise callback (and, under fake timers, every due timer) run. */
async function flush(): Promise<void> {
  if (vi.isFakeTimers()) {
    await vi.advanceTimersByTimeAsync(0);
  } else {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

function checkAccounting(pool: Pool<FakeConnection>): void {
  const s = pool.stats();
  expect(s.created - s.destroyed).toBe(s.open);
  expect(s.open).toBe(s.idle + s.inUse);
}

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('Pool: capacity and ids', () => {
  it('numbers connections 1, 2, 3 in opening order and emits connect for each', async () => {
    const connect = vi.fn();
    const { pool } = makePool({ size: 3, maxOverflow: 0 }, { connect });
    const connections = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(connections.map((c) => c.id)).toEqual([1, 2, 3]);
    expect(connect.mock.calls).toEqual([[1], [2], [3]]);
    expect(connections[0]!.createdAt).toBeLessThanOrEqual(Date.now());
  });

  it('counts connections being opened, so concurrent acquires never exceed size + maxOverflow', async () => {
    const { server, pool } = makePool({ size: 1, maxOverflow: 1 });
    const gates = [deferred<void>(), deferred<void>()];
    server.createGates.push(...gates);
    const acquires = [1, 2, 3, 4].map(() => track(pool.acquire()));
    await flush();
    expect(server.hooks.create).toHaveBeenCalledTimes(2);
    expect(pool.stats()).toMatchObject({ open: 0, opening: 2, waiting: 4 });
    for (const gate of gates) gate.resolve();
    await flush();
    expect(acquires.filter((a) => a.settled)).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ open: 2, inUse: 2, opening: 0, waiting: 2 });
    expect(server.hooks.create).toHaveBeenCalledTimes(2);
    checkAccounting(pool);
  });

  it('rejects settings that could never work with ConfigurationError', () => {
    const server = fakeServer();
    expect(() => new Pool(server.hooks, poolOptions({ size: -1 }))).toThrow(ConfigurationError);
    expect(() => new Pool(server.hooks, poolOptions({ size: 0, maxOverflow: 0 }))).toThrow(/at least 1/);
    expect(() => new Pool(server.hooks, poolOptions({ timeoutMs: Number.POSITIVE_INFINITY }))).toThrow(
      /pool\.timeoutMs must be a finite number/,
    );
  });
});

describe('Pool: release', () => {
  it('hands a released connection to the first waiter, in arrival order, and emits checkin', async () => {
    const checkin = vi.fn();
    const { pool } = makePool({ size: 1, maxOverflow: 0 }, { checkin });
    const first = await pool.acquire();
    const second = track(pool.acquire());
    const third = track(pool.acquire());
    await flush();
    pool.release(first);
    await flush();
    expect(second.value).toBe(first);
    expect(third.settled).toBe(false);
    expect(checkin).toHaveBeenCalledWith(1);
    pool.release(second.value!);
    await flush();
    expect(third.value).toBe(first);
    expect(pool.stats()).toMatchObject({ open: 1, created: 1, waiting: 0 });
  });

  it('validates a handed-over connection: a dead one is replaced by a fresh one', async () => {
    const { server, pool } = makePool({ size: 1, maxOverflow: 0, prePing: true });
    const first = await pool.acquire();
    const waiter = track(pool.acquire());
    server.kill();
    pool.release(first);
    await flush();
    expect(waiter.value?.id).toBe(2);
    expect(waiter.value?.resource.alive).toBe(true);
    expect(pool.stats()).toMatchObject({ invalidated: 1, destroyed: 1, open: 1 });
  });

  it('closes a returned overflow connection when size connections already idle', async () => {
    const checkin = vi.fn();
    const { server, pool } = makePool({ size: 1, maxOverflow: 1 }, { checkin });
    const a = await pool.acquire();
    const b = await pool.acquire();
    pool.release(a);
    pool.release(b);
    await flush();
    expect(pool.stats()).toMatchObject({ open: 1, idle: 1, destroyed: 1 });
    expect(b.resource.destroys).toBe(1);
    expect(a.resource.destroys).toBe(0);
    expect(checkin.mock.calls).toEqual([[1]]);
    expect(server.hooks.destroy).toHaveBeenCalledTimes(1);
  });

  it('destroys a connection the driver reports broken instead of idling it', async () => {
    const invalidate = vi.fn();
    const checkin = vi.fn();
    const { pool } = makePool({}, { invalidate, checkin });
    const connection = await pool.acquire();
    connection.resource.broken = true;
    pool.release(connection);
    await flush();
    expect(connection.resource.destroys).toBe(1);
    expect(pool.stats()).toMatchObject({ open: 0, idle: 0, invalidated: 1 });
    expect(invalidate).toHaveBeenCalledWith(1, expect.stringContaining('broken'));
    expect(checkin).not.toHaveBeenCalled();
  });

  it('throws TypeError on a double or unknown release and changes nothing', async () => {
    const { pool } = makePool();
    const connection = await pool.acquire();
    pool.release(connection);
    const before = pool.stats();
    expect(() => pool.release(connection)).toThrow(TypeError);
    const stranger = { id: 99, resource: connection.resource, createdAt: 0 };
    expect(() => pool.release(stranger)).toThrow(/not checked out/);
    expect(pool.stats()).toEqual(before);
    expect(connection.resource.destroys).toBe(0);
  });
});

describe('Pool: checkout order', () => {
  async function returnedInOrder(lifo: boolean, order: number[]) {
    const { pool } = makePool({ size: 3, maxOverflow: 0, lifo });
    const connections = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const id of order) pool.release(connections[id - 1]!);
    return pool;
  }

  it('hands out the oldest-returned idle connection first by default (FIFO)', async () => {
    const pool = await returnedInOrder(false, [2, 1, 3]);
    expect((await pool.acquire()).id).toBe(2);
    expect((await pool.acquire()).id).toBe(1);
  });

  it('hands out the most recently returned idle connection first with lifo', async () => {
    const pool = await returnedInOrder(true, [2, 1, 3]);
    expect((await pool.acquire()).id).toBe(3);
    expect((await pool.acquire()).id).toBe(1);
  });
});

describe('Pool: checkout validation', () => {
  it('replaces a connection older than recycleMs and counts it as recycled', async () => {
    vi.useFakeTimers();
    const { pool } = makePool({ size: 1, maxOverflow: 0, recycleMs: 1000 });
    const first = await pool.acquire();
    pool.release(first);
    await vi.advanceTimersByTimeAsync(1000);
    const again = await pool.acquire();
    expect(again).toBe(first);
    pool.release(again);
    await vi.advanceTimersByTimeAsync(1);
    const replaced = await pool.acquire();
    expect(replaced.id).toBe(2);
    expect(first.resource.destroys).toBe(1);
    expect(pool.stats()).toMatchObject({ recycled: 1, invalidated: 0, open: 1 });
  });

  it('pings with prePing, and a live connection is reused', async () => {
    const { server, pool } = makePool({ prePing: true });
    const first = await pool.acquire();
    expect(server.hooks.ping).not.toHaveBeenCalled();
    pool.release(first);
    expect(await pool.acquire()).toBe(first);
    expect(first.resource.pings).toBe(1);
  });

  it('on a failed ping invalidates that connection and every older idle one, then opens a fresh unpinged one', async () => {
    const invalidate = vi.fn();
    const { pool } = makePool({ size: 3, maxOverflow: 0, prePing: true }, { invalidate });
    const [c1, c2, c3] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    // FIFO order 2, 1, 3: connection 2 is checked out first and fails; 1 is older, 3 is newer.
    pool.release(c2!);
    pool.release(c1!);
    pool.release(c3!);
    c1!.resource.alive = false;
    c2!.resource.alive = false;
    const fresh = await pool.acquire();
    expect(fresh.id).toBe(4);
    expect(fresh.resource.pings).toBe(0);
    expect(c1!.resource.destroys).toBe(1);
    expect(c2!.resource.destroys).toBe(1);
    expect(c3!.resource.destroys).toBe(0);
    expect(c1!.resource.pings).toBe(0);
    expect(invalidate.mock.calls.map(([id]) => id)).toEqual([2, 1]);
    expect(invalidate.mock.calls[0]![1]).toMatch(/ping failed: server closed/);
    expect(pool.stats()).toMatchObject({ invalidated: 2, idle: 1, inUse: 1 });
    checkAccounting(pool);
  });

  it('after a server restart, the next acquire gets a live connection and the pool holds no dead ones', async () => {
    const { server, pool } = makePool({ size: 3, maxOverflow: 0, prePing: true, lifo: true });
    const all = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const connection of all) pool.release(connection);
    server.kill();
    const connection = await pool.acquire();
    expect(connection.resource.alive).toBe(true);
    expect(pool.stats()).toMatchObject({ invalidated: 3, open: 1, idle: 0 });
    expect(server.hooks.ping).toHaveBeenCalledTimes(1);
  });

  it('discards an idle connection the driver reports broken without pinging it', async () => {
    const { server, pool } = makePool({ prePing: true });
    const first = await pool.acquire();
    pool.release(first);
    first.resource.broken = true;
    const next = await pool.acquire();
    expect(next.id).toBe(2);
    expect(server.hooks.ping).not.toHaveBeenCalled();
    expect(pool.stats()).toMatchObject({ invalidated: 1, destroyed: 1 });
  });

  it('gives up on a ping that never answers after timeoutMs and frees its slot', async () => {
    vi.useFakeTimers();
    const { server, pool } = makePool({ size: 1, maxOverflow: 0, prePing: true, timeoutMs: 1000 });
    pool.release(await pool.acquire());
    server.hangingPing = true;
    const stuck = track(pool.acquire());
    await vi.advanceTimersByTimeAsync(1000);
    expect(stuck.error).toBeInstanceOf(PoolTimeoutError);
    expect((stuck.error as Error).message).toMatch(/being opened or pinged for this caller/);
    expect(pool.stats()).toMatchObject({ invalidated: 1, open: 0 });
    server.hangingPing = false;
    expect((await pool.acquire()).id).toBe(2);
  });
});

describe('Pool: timeout and abort', () => {
  it('rejects with PoolTimeoutError after timeoutMs, with the numbers, description and hint', async () => {
    vi.useFakeTimers();
    const { pool } = makePool({ size: 1, maxOverflow: 0, timeoutMs: 1000 }, {}, 'postgres://app:s3cret@db/app');
    await pool.acquire();
    const waiter = track(pool.acquire());
    await vi.advanceTimersByTimeAsync(999);
    expect(waiter.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = waiter.error as PoolTimeoutError;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect(error.code).toBe('POOL_TIMEOUT');
    expect(error.message).toContain('pool size 1');
    expect(error.message).toContain('maxOverflow 0');
    expect(error.message).toContain('1000 ms');
    expect(error.message).toContain('1 in use');
    expect(error.message).toContain('postgres://app:***@db/app');
    expect(error.message).not.toContain('s3cret');
    expect(error.message).toMatch(/outside its session.*`sf\.db`.*`sf\.session`/);
    expect(pool.stats()).toMatchObject({ timeouts: 1, waiting: 0 });
  });

  it('rejects with the signal reason on abort and leaves the queue', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 0 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const waiter = track(pool.acquire({ signal: controller.signal }));
    await flush();
    expect(pool.stats().waiting).toBe(1);
    controller.abort(reason);
    await flush();
    expect(waiter.error).toBe(reason);
    expect(pool.stats()).toMatchObject({ waiting: 0, timeouts: 0 });
    pool.release(held);
    expect(pool.stats()).toMatchObject({ idle: 1, inUse: 0 });
  });

  it('rejects at once for an already aborted signal, without opening a connection', async () => {
    const { server, pool } = makePool();
    const reason = new Error('already aborted');
    await expect(pool.acquire({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.hooks.create).not.toHaveBeenCalled();
  });
});

describe('Pool: failures and invalidation', () => {
  it('rejects the acquirer with the create error as thrown and frees the slot', async () => {
    const { server, pool } = makePool({ size: 1, maxOverflow: 0 });
    const refused = new Error('ECONNREFUSED');
    server.hooks.create.mockRejectedValueOnce(refused);
    await expect(pool.acquire()).rejects.toBe(refused);
    expect(pool.stats()).toMatchObject({ open: 0, opening: 0, created: 0, waiting: 0 });
    expect((await pool.acquire()).id).toBe(1);
  });

  it('lets the next waiter open a connection when a create fails', async () => {
    const { server, pool } = makePool({ size: 1, maxOverflow: 0 });
    const gate = deferred<void>();
    server.createGates.push(gate);
    const first = track(pool.acquire());
    const second = track(pool.acquire());
    await flush();
    expect(server.hooks.create).toHaveBeenCalledTimes(1);
    gate.reject(new Error('connection reset'));
    await flush();
    expect((first.error as Error).message).toBe('connection reset');
    expect(second.value?.id).toBe(1);
    expect(server.hooks.create).toHaveBeenCalledTimes(2);
  });

  it('invalidate destroys a checked-out connection and a waiter opens a replacement', async () => {
    const invalidate = vi.fn();
    const { pool } = makePool({ size: 1, maxOverflow: 0 }, { invalidate });
    const held = await pool.acquire();
    const waiter = track(pool.acquire());
    await pool.invalidate(held, 'connection lost');
    await flush();
    expect(held.resource.destroys).toBe(1);
    expect(invalidate).toHaveBeenCalledWith(1, 'connection lost');
    expect(waiter.value?.id).toBe(2);
    expect(pool.stats()).toMatchObject({ invalidated: 1, open: 1, inUse: 1 });
  });

  it('invalidate rejects with TypeError for a connection that is not checked out', async () => {
    const { pool } = makePool();
    const connection = await pool.acquire();
    pool.release(connection);
    await expect(pool.invalidate(connection, 'why')).rejects.toThrow(TypeError);
    expect(pool.stats()).toMatchObject({ idle: 1, invalidated: 0 });
  });
});

describe('Pool: idle timeout', () => {
  it('closes a connection left idle longer than idleTimeoutMs', async () => {
    vi.useFakeTimers();
    const { pool } = makePool({ idleTimeoutMs: 5000 });
    const connection = await pool.acquire();
    pool.release(connection);
    await vi.advanceTimersByTimeAsync(4999);
    expect(pool.stats().idle).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.stats()).toMatchObject({ idle: 0, open: 0, destroyed: 1 });
    expect(connection.resource.destroys).toBe(1);
  });

  it('restarts the idle clock when a connection is used', async () => {
    vi.useFakeTimers();
    const { pool } = makePool({ idleTimeoutMs: 5000 });
    const connection = await pool.acquire();
    pool.release(connection);
    await vi.advanceTimersByTimeAsync(4000);
    pool.release(await pool.acquire());
    await vi.advanceTimersByTimeAsync(4000);
    expect(pool.stats()).toMatchObject({ idle: 1, destroyed: 0 });
  });

  it("uses an unref'd timer, so an idle pool never keeps the process alive", async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const { pool } = makePool({ idleTimeoutMs: 60_000 });
    pool.release(await pool.acquire());
    const index = setTimeoutSpy.mock.calls.findIndex(([, ms]) => ms === 60_000);
    expect(index).toBeGreaterThanOrEqual(0);
    const timer = setTimeoutSpy.mock.results[index]!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await pool.close();
  });
});

describe('Pool: tryAcquireSync', () => {
  it('returns an idle connection without pinging it', async () => {
    const { server, pool } = makePool({ prePing: true });
    const connection = await pool.acquire();
    pool.release(connection);
    expect(pool.tryAcquireSync()).toBe(connection);
    expect(server.hooks.ping).not.toHaveBeenCalled();
  });

  it('opens a connection with createSync when capacity allows, and returns undefined when full', () => {
    const checkout = vi.fn();
    const { server, pool } = makePool({ size: 1, maxOverflow: 0 }, { checkout });
    const connection = pool.tryAcquireSync();
    expect(connection?.id).toBe(1);
    expect(server.hooks.createSync).toHaveBeenCalledTimes(1);
    expect(checkout).toHaveBeenCalledWith(1);
    expect(pool.tryAcquireSync()).toBeUndefined();
    expect(server.hooks.create).not.toHaveBeenCalled();
  });

  it('returns undefined when no connection is idle and hooks have no createSync', () => {
    const server = fakeServer();
    const { createSync: _omitted, ...asyncOnly } = server.hooks;
    const pool = new Pool(asyncOnly, poolOptions());
    expect(pool.tryAcquireSync()).toBeUndefined();
    expect(pool.stats().open).toBe(0);
  });

  it('applies the recycle check to idle connections', async () => {
    vi.useFakeTimers();
    const { pool } = makePool({ size: 1, maxOverflow: 0, recycleMs: 100 });
    const old = await pool.acquire();
    pool.release(old);
    await vi.advanceTimersByTimeAsync(101);
    const connection = pool.tryAcquireSync();
    expect(connection?.id).toBe(2);
    expect(old.resource.destroys).toBe(1);
    expect(pool.stats()).toMatchObject({ recycled: 1, open: 1 });
  });
});

describe('Pool: close', () => {
  it('rejects waiters with FactoryClosedError and destroys checked-out connections when released', async () => {
    const checkin = vi.fn();
    const { pool } = makePool({ size: 1, maxOverflow: 1 }, { checkin });
    const held = await pool.acquire();
    const overflow = await pool.acquire();
    const waiter = track(pool.acquire());
    await flush();
    await pool.close();
    expect(waiter.error).toBeInstanceOf(FactoryClosedError);
    expect(held.resource.destroys).toBe(0);
    pool.release(held);
    pool.release(overflow);
    await flush();
    expect(held.resource.destroys).toBe(1);
    expect(overflow.resource.destroys).toBe(1);
    expect(checkin).not.toHaveBeenCalled();
    expect(pool.stats()).toMatchObject({ open: 0, idle: 0, waiting: 0 });
    expect(pool.isClosed).toBe(true);
  });

  it('destroys idle connections at close and is idempotent', async () => {
    const { server, pool } = makePool();
    const connection = await pool.acquire();
    pool.release(connection);
    await pool.close();
    expect(connection.resource.destroys).toBe(1);
    await pool.close();
    expect(server.hooks.destroy).toHaveBeenCalledTimes(1);
  });

  it('refuses acquire and tryAcquireSync after close with FactoryClosedError', async () => {
    const { pool } = makePool();
    await pool.close();
    await expect(pool.acquire()).rejects.toBeInstanceOf(FactoryClosedError);
    expect(() => pool.tryAcquireSync()).toThrow(FactoryClosedError);
  });

  it('destroys a connection still being opened when it arrives after close', async () => {
    const { server, pool } = makePool();
    const gate = deferred<void>();
    server.createGates.push(gate);
    const waiter = track(pool.acquire());
    await flush();
    const closed = pool.close();
    gate.resolve();
    await closed;
    const all = pool.destroyAll();
    await all;
    expect(waiter.error).toBeInstanceOf(FactoryClosedError);
    expect(server.connections).toHaveLength(1);
    expect(server.connections[0]!.destroys).toBe(1);
    expect(pool.stats()).toMatchObject({ open: 0, created: 1, destroyed: 1 });
  });

  it('destroyAll force-destroys checked-out connections and resolves when every destroy finished', async () => {
    const { server, pool } = makePool();
    const held = await pool.acquire();
    const gate = deferred<void>();
    server.destroyGate = gate;
    const done = track(pool.destroyAll());
    await flush();
    expect(held.resource.destroys).toBe(1);
    expect(done.settled).toBe(false);
    gate.resolve();
    await flush();
    expect(done.settled).toBe(true);
    expect(() => pool.release(held)).not.toThrow();
    await pool.invalidate(held, 'late');
    expect(held.resource.destroys).toBe(1);
    expect(pool.stats()).toMatchObject({ open: 0, inUse: 0, invalidated: 0 });
  });
});

describe('Pool: stats and listeners', () => {
  it('reports gauges and counters consistently through a session of use', async () => {
    const { pool } = makePool({ size: 1, maxOverflow: 1 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(pool.stats()).toMatchObject({ open: 2, idle: 0, inUse: 2, created: 2, destroyed: 0 });
    pool.release(a);
    pool.release(b);
    expect(pool.stats()).toMatchObject({ open: 1, idle: 1, inUse: 0, created: 2, destroyed: 1 });
    checkAccounting(pool);
  });

  it('emits checkout and checkin with connection ids', async () => {
    const events: string[] = [];
    const { pool } = makePool(
      {},
      {
        connect: (id) => events.push(`connect ${id}`),
        checkout: (id) => events.push(`checkout ${id}`),
        checkin: (id) => events.push(`checkin ${id}`),
      },
    );
    pool.release(await pool.acquire());
    expect(events).toEqual(['connect 1', 'checkout 1', 'checkin 1']);
  });

  it('survives throwing listeners: the error goes to the error listener', async () => {
    const broken = new Error('listener bug');
    const error = vi.fn();
    const listeners: PoolListeners = {
      checkout: () => {
        throw broken;
      },
      checkin: () => {
        throw broken;
      },
      error,
    };
    const { pool } = makePool({}, listeners);
    const connection = await pool.acquire();
    pool.release(connection);
    expect(error.mock.calls).toEqual([
      [broken, 'checkout listener'],
      [broken, 'checkin listener'],
    ]);
    expect(pool.stats()).toMatchObject({ idle: 1, inUse: 0 });
  });

  it('swallows an error listener that throws itself', async () => {
    const listeners: PoolListeners = {
      connect: () => {
        throw new Error('first');
      },
      error: () => {
        throw new Error('second');
      },
    };
    const { pool } = makePool({}, listeners);
    const connection: PooledConnection<FakeConnection> = await pool.acquire();
    expect(connection.id).toBe(1);
  });

  it('reports destroy failures through the error listener instead of throwing', async () => {
    const error = vi.fn();
    const { server, pool } = makePool({}, { error });
    const failure = new Error('close failed');
    server.hooks.destroy.mockRejectedValueOnce(failure);
    const connection = await pool.acquire();
    await pool.invalidate(connection, 'lost');
    expect(error).toHaveBeenCalledWith(failure, 'destroy');
    expect(pool.stats()).toMatchObject({ open: 0, destroyed: 1 });
  });

  it('skips the ping round trip when shouldPing says the connection needs none', async () => {
    const server = fakeServer();
    let fresh = true;
    const pool = new Pool(
      { ...server.hooks, shouldPing: () => !fresh },
      poolOptions({ size: 1, maxOverflow: 0, prePing: true }),
    );
    pool.release(await pool.acquire());
    pool.release(await pool.acquire());
    expect(server.hooks.ping).not.toHaveBeenCalled();
    fresh = false;
    pool.release(await pool.acquire());
    expect(server.hooks.ping).toHaveBeenCalledTimes(1);
    await pool.close();
  });
});
