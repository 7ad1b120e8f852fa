import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, createSessionFactory, type LeakEvent, PoolTimeoutError } from '../src/index.js';
import { Pool, type PoolLeak, type ResolvedPoolOptions } from '../src/pool/pool.js';
import { fakeAdapter } from '../src/testing/index.js';
import { harness, insert } from './support/harness.js';

const THIS_FILE = 'leak-detection.test.ts';
const THRESHOLD_MS = 60;

afterEach(() => {
  vi.restoreAllMocks();
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A pool of plain objects: enough to count timers and stack captures per checkout. */
function objectPool(overrides: Partial<ResolvedPoolOptions>, leaks: PoolLeak[] = []) {
  let serial = 0;
  const options: ResolvedPoolOptions = {
    size: 2,
    maxOverflow: 0,
    timeoutMs: 200,
    recycleMs: undefined,
    prePing: false,
    lifo: false,
    idleTimeoutMs: undefined,
    ...overrides,
  };
  return new Pool(
    {
      create: async () => ({ serial: ++serial }),
      createSync: () => ({ serial: ++serial }),
      destroy: async () => {},
      ping: async () => {},
    },
    options,
    { leak: (leak) => leaks.push(leak) },
  );
}

describe('leak detection: the leak event', () => {
  it('reports a connection held past leakDetectionMs once, with its session, time held and acquisition stack', async () => {
    const { sf } = await harness({ pool: { leakDetectionMs: THRESHOLD_MS } });
    const leaks: LeakEvent[] = [];
    sf.on('leak', (event) => leaks.push(event));
    let sessionId: string | undefined;
    let connectionId: number | undefined;
    sf.on('checkout', (event) => {
      connectionId = event.connectionId;
    });
    await sf.session(async (tx) => {
      sessionId = sf.current()?.id;
      await insert(tx, 1);
      await sleep(THRESHOLD_MS * 3.5);
      expect(leaks).toHaveLength(1); // reported while still held, and only once
    });
    await sleep(THRESHOLD_MS * 2);
    expect(leaks).toHaveLength(1); // returning it emits nothing more
    const [leak] = leaks;
    expect(leak!.connectionId).toBe(connectionId);
    expect(leak!.sessionId).toBe(sessionId);
    expect(leak!.heldMs).toBeGreaterThanOrEqual(THRESHOLD_MS - 1);
    expect(leak!.heldMs).toBeLessThan(THRESHOLD_MS * 3);
    const frames = leak!.stack.split('\n');
    expect(frames[0]).toMatch(/^\s+at /);
    expect(frames[0]).toContain(THIS_FILE); // the first frame is the caller's, not the library's
    expect(leak!.stack).not.toMatch(/[/\\]src[/\\](pool|session|factory)[/\\]/);
    expect(sf.stats().inUse).toBe(0);
  });

  it('stays silent for a connection returned before leakDetectionMs', async () => {
    const { sf } = await harness({ pool: { leakDetectionMs: THRESHOLD_MS } });
    const leaks: LeakEvent[] = [];
    sf.on('leak', (event) => leaks.push(event));
    await sf.session((tx) => insert(tx, 1));
    await sf.connection((db) => insert(db, 2));
    await sleep(THRESHOLD_MS * 2);
    expect(leaks).toEqual([]);
  });

  it('reports a connection pinned by sf.connection without a session id', async () => {
    const { sf } = await harness({ pool: { leakDetectionMs: THRESHOLD_MS } });
    const leaks: LeakEvent[] = [];
    sf.on('leak', (event) => leaks.push(event));
    await sf.connection(async (db) => {
      await insert(db, 1);
      await sleep(THRESHOLD_MS * 2.5);
    });
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.sessionId).toBeUndefined();
    expect(leaks[0]!.stack.split('\n')[0]).toContain(THIS_FILE);
  });

  it('names the session of a managed sf.begin() transaction left open', async () => {
    const { sf } = await harness({ pool: { leakDetectionMs: THRESHOLD_MS } });
    const leaks: LeakEvent[] = [];
    sf.on('leak', (event) => leaks.push(event));
    const tx = await sf.begin();
    await insert(tx, 1);
    await sleep(THRESHOLD_MS * 2.5);
    await tx.rollback();
    expect(leaks.map((leak) => leak.sessionId)).toEqual([tx.info.id]);
  });

  it('a throwing leak listener is reported as an error event and does not break the session', async () => {
    const { sf } = await harness({ pool: { leakDetectionMs: THRESHOLD_MS } });
    const errors: unknown[] = [];
    sf.on('error', ({ error }) => errors.push(error));
    sf.on('leak', () => {
      throw new Error('listener bug');
    });
    const result = await sf.session(async (tx) => {
      await insert(tx, 1);
      await sleep(THRESHOLD_MS * 2.5);
      return 'done';
    });
    expect(result).toBe('done');
    expect(errors.map((error) => (error as Error).message)).toEqual(['listener bug']);
  });
});

describe('leak detection: cost when off', () => {
  it('captures no stack and starts no timer per checkout while leakDetectionMs is unset', async () => {
    const pool = objectPool({});
    pool.release(await pool.acquire()); // opening a connection arms the waiter's deadline: not a checkout cost
    const capture = vi.spyOn(Error, 'captureStackTrace');
    const timers = vi.spyOn(globalThis, 'setTimeout');
    for (let round = 0; round < 5; round++) {
      const connection = await pool.acquire();
      pool.release(connection);
      pool.release(pool.tryAcquireSync()!);
      pool.release(pool.tryAcquireIdle()!);
    }
    expect(capture).not.toHaveBeenCalled();
    expect(timers).not.toHaveBeenCalled();
    await pool.close();
  });

  it('with leakDetectionMs: one unref’d timer per checkout, cleared when the connection comes back', async () => {
    const leaks: PoolLeak[] = [];
    const pool = objectPool({ leakDetectionMs: 10_000 }, leaks);
    const warm = [await pool.acquire(), await pool.acquire()];
    for (const connection of warm) pool.release(connection);
    const timers = vi.spyOn(globalThis, 'setTimeout');
    const clears = vi.spyOn(globalThis, 'clearTimeout');
    const held = [await pool.acquire(), pool.tryAcquireSync()!]; // both idle: no waiter deadline
    expect(timers).toHaveBeenCalledTimes(2);
    for (const result of timers.mock.results) expect((result.value as NodeJS.Timeout).hasRef()).toBe(false);
    for (const connection of held) pool.release(connection);
    const cleared = clears.mock.calls.map(([timer]) => timer);
    for (const result of timers.mock.results) expect(cleared).toContain(result.value);
    await pool.close();
    expect(leaks).toEqual([]);
  });
});

describe('leak detection: options', () => {
  for (const value of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31, '1000', null]) {
    it(`refuses pool.leakDetectionMs ${String(value)} with ConfigurationError`, () => {
      const create = () => createSessionFactory(fakeAdapter(), { pool: { leakDetectionMs: value as number } });
      expect(create).toThrow(ConfigurationError);
      expect(create).toThrow(/pool\.leakDetectionMs/);
    });
  }
});

describe('leak detection: the pool timeout message names the oldest holder', () => {
  const ONE = { size: 1, maxOverflow: 0, timeoutMs: 100 } as const;

  it('without leakDetectionMs: which connection and session, how long, and how to learn where', async () => {
    const { sf } = await harness({ pool: ONE });
    let holder: string | undefined;
    const error = await sf
      .session(async (tx) => {
        holder = sf.current()?.id;
        await insert(tx, 1);
        await sleep(40);
        return sf.session(async () => 'never', { propagation: 'requiresNew' });
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`oldest connection in use \\(connection \\d+, session ${holder}\\)`));
    const heldMs = Number(/held for (\d+) ms/.exec(message)?.[1]);
    expect(heldMs).toBeGreaterThanOrEqual(140);
    expect(message).toContain('set pool.leakDetectionMs to learn where it was acquired');
  });

  it('with leakDetectionMs: also where it was acquired', async () => {
    const { sf } = await harness({ pool: { ...ONE, leakDetectionMs: 60_000 } });
    const error = await sf
      .session(async (tx) => {
        await insert(tx, 1);
        return sf.connection(async () => 'never');
      })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PoolTimeoutError);
    const message = (error as Error).message;
    expect(message).toMatch(/it was acquired at:\n\s+at /);
    expect(message.slice(message.indexOf('acquired at:'))).toContain(THIS_FILE);
  });
});
