import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, FactoryClosedError, PoolTimeoutError } from '../src/errors/error-classes.js';
import { Pool, type PoolHooks, type ResolvedPoolOptions } from '../src/pool/pool.js';

interface Conn {
  readonly serial: number;
}

function hooks(): PoolHooks<Conn> {
  let serial = 0;
  return {
    create: async () => ({ serial: ++serial }),
    createSync: () => ({ serial: ++serial }),
    destroy: async () => {},
    ping: async () => {},
  };
}

function options(overrides: Partial<ResolvedPoolOptions> = {}): ResolvedPoolOptions {
  return {
    size: 4,
    maxOverflow: 0,
    timeoutMs: 1000,
    recycleMs: undefined,
    prePing: false,
    lifo: false,
    idleTimeoutMs: undefined,
    maxWriters: 1,
    ...overrides,
  };
}

const pools: Pool<Conn>[] = [];
function makePool(overrides: Partial<ResolvedPoolOptions> = {}): Pool<Conn> {
  const pool = new Pool(hooks(), options(overrides), {}, 'fake://db');
  pools.push(pool);
  return pool;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(pools.splice(0).map((p) => p.destroyAll()));
});

// The writer slot: a pool over a database that runs one writer at a time (SQLite).
describe('Pool with maxWriters', () => {
  it('lets one writer hold a connection and serves waiting writers in arrival order', async () => {
    const pool = makePool();
    const first = await pool.acquire();
    const served: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      pool.acquire().then((c) => {
        served.push(n);
        return c;
      }),
    );
    await tick();
    expect(served).toEqual([]);
    expect(pool.stats()).toMatchObject({ inUse: 1, waiting: 3 });
    pool.release(first);
    const second = await waiting[0]!;
    await tick();
    expect(served).toEqual([1]);
    pool.release(second);
    pool.release(await waiting[1]!);
    pool.release(await waiting[2]!);
    expect(served).toEqual([1, 2, 3]);
    expect(pool.stats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('readers skip the writer line and use the other connections', async () => {
    const pool = makePool();
    const writer = await pool.acquire({ role: 'writer' });
    const queuedWriter = pool.acquire();
    const readers = await Promise.all([1, 2, 3].map(() => pool.acquire({ role: 'reader' })));
    expect(new Set([writer, ...readers].map((c) => c.resource.serial)).size).toBe(4);
    expect(pool.stats()).toMatchObject({ inUse: 4, waiting: 1 });
    for (const reader of readers) pool.release(reader);
    pool.release(writer);
    pool.release(await queuedWriter);
  });

  it('hands the slot over on invalidate too, and a newcomer never jumps the line', async () => {
    const pool = makePool();
    const first = await pool.acquire();
    const queued = pool.acquire();
    await pool.invalidate(first, 'broken');
    // The slot passed to the queued writer: a newcomer waits behind it.
    const newcomer = pool.acquire();
    const second = await queued;
    let newcomerServed = false;
    void newcomer.then(() => (newcomerServed = true));
    await tick();
    expect(newcomerServed).toBe(false);
    pool.release(second);
    pool.release(await newcomer);
  });

  it('times out a writer after timeoutMs with a PoolTimeoutError that explains the writer slot', async () => {
    vi.useFakeTimers();
    const pool = makePool({ timeoutMs: 500 });
    const holder = await pool.acquire();
    const waiter = pool.acquire().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(499);
    expect(pool.stats().waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = await waiter;
    expect(error).toBeInstanceOf(PoolTimeoutError);
    expect((error as Error).message).toMatch(/500 ms waiting for the write slot to fake:\/\/db/);
    expect((error as Error).message).toMatch(/1 writing session\(s\) at a time/);
    expect((error as Error).message).toMatch(/outside itself/);
    expect(pool.stats()).toMatchObject({ waiting: 0, timeouts: 1 });
    pool.release(holder);
    // The slot is free: the timed-out writer left nothing behind.
    pool.release(await pool.acquire());
  });

  it('counts the slot wait and the connection wait against one timeoutMs', async () => {
    vi.useFakeTimers();
    const pool = makePool({ size: 1, timeoutMs: 500 });
    const heldWriter = await pool.acquire();
    // A reader queues for the only connection, then a writer for the slot.
    const blockingReader = pool.acquire({ role: 'reader' });
    const second = pool.acquire().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(300);
    pool.release(heldWriter); // the reader gets the connection, the second writer the slot
    const readerConnection = await blockingReader;
    await vi.advanceTimersByTimeAsync(199);
    expect(pool.stats().waiting).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toBeInstanceOf(PoolTimeoutError);
    pool.release(readerConnection);
    // The slot came back when the connection wait failed.
    pool.release(await pool.acquire());
  });

  it('an aborted writer leaves the line; close rejects every waiting writer', async () => {
    const pool = makePool();
    const holder = await pool.acquire();
    const controller = new AbortController();
    const aborted = pool.acquire({ signal: controller.signal }).catch((e: unknown) => e);
    const closed = pool.acquire().catch((e: unknown) => e);
    controller.abort(new Error('stop'));
    expect(((await aborted) as Error).message).toBe('stop');
    expect(pool.stats().waiting).toBe(1);
    void pool.close();
    expect(await closed).toBeInstanceOf(FactoryClosedError);
    pool.release(holder);
  });

  it('tryAcquireSync: a writer gets the free slot, or a PoolTimeoutError at once when it is taken', async () => {
    const pool = makePool();
    const sync = pool.tryAcquireSync();
    expect(sync).toBeDefined();
    expect(() => pool.tryAcquireSync()).toThrow(PoolTimeoutError);
    expect(() => pool.tryAcquireSync()).toThrow(/cannot wait/);
    expect(pool.tryAcquireSync({ role: 'reader' })).toBeDefined();
    pool.release(sync!);
    const again = pool.tryAcquireSync();
    expect(again).toBeDefined();
    pool.release(again!);
  });

  it('without maxWriters writers do not queue', async () => {
    const pool = makePool({ maxWriters: undefined });
    const all = await Promise.all([1, 2, 3, 4].map(() => pool.acquire()));
    expect(pool.stats().inUse).toBe(4);
    for (const c of all) pool.release(c);
  });

  it('rejects a maxWriters that is not a whole number >= 1', () => {
    expect(() => new Pool(hooks(), options({ maxWriters: 0 }))).toThrow(ConfigurationError);
    expect(() => new Pool(hooks(), options({ maxWriters: 1.5 }))).toThrow(/maxWriters must be an integer >= 1/);
  });
});

describe('Pool.tryAcquireIdle', () => {
  it('hands out an idle connection at once, or undefined when it would have to wait, open or ping', async () => {
    const pool = makePool({ size: 2 });
    expect(pool.tryAcquireIdle({ role: 'reader' })).toBeUndefined(); // nothing idle: it opens nothing
    const a = await pool.acquire({ role: 'reader' });
    pool.release(a);
    const again = pool.tryAcquireIdle({ role: 'reader' });
    expect(again).toBe(a);
    const writer = await pool.acquire(); // holds the writer slot
    pool.release(again!);
    expect(pool.tryAcquireIdle()).toBeUndefined(); // a writer whose slot is taken
    const reader = pool.tryAcquireIdle({ role: 'reader' });
    expect(reader).toBe(a);
    pool.release(reader!);
    pool.release(writer);
    const withSlot = pool.tryAcquireIdle();
    expect(withSlot).toBeDefined();
    expect(() => pool.tryAcquireSync()).toThrow(PoolTimeoutError); // the slot went with it
    pool.release(withSlot!);
    expect(pool.stats()).toMatchObject({ inUse: 0, waiting: 0 });
  });

  it('leaves a connection that needs a checkout ping to acquire', async () => {
    const pool = makePool({ prePing: true });
    pool.release(await pool.acquire({ role: 'reader' }));
    expect(pool.tryAcquireIdle({ role: 'reader' })).toBeUndefined();
    expect(pool.stats()).toMatchObject({ idle: 1, inUse: 0 });
    pool.release(await pool.acquire({ role: 'reader' }));
  });
});
