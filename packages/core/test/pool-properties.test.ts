import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FactoryClosedError, PoolTimeoutError } from '../src/errors/error-classes.js';
import { Pool, type PooledConnection, type ResolvedPoolOptions } from '../src/pool/pool.js';

/** A fake connection: a server restart clears `alive`; `destroys` must end at exactly 1. */
interface FakeConnection {
  readonly serial: number;
  alive: boolean;
  destroys: number;
}

/** Random pool settings and how slow the fake server is (in fake-timer milliseconds). */
interface Scenario {
  readonly options: ResolvedPoolOptions;
  readonly createDelayMs: number;
  readonly pingDelayMs: number;
}

type Op =
  | { readonly kind: 'acquire'; readonly abortable: boolean }
  | { readonly kind: 'release'; readonly pick: number }
  | { readonly kind: 'invalidate'; readonly pick: number }
  | { readonly kind: 'abort'; readonly pick: number }
  | { readonly kind: 'killServer' }
  | { readonly kind: 'failNextCreate' }
  | { readonly kind: 'tryAcquireSync' }
  | { readonly kind: 'advance'; readonly ms: number }
  | { readonly kind: 'close' };

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .record({
    size: fc.integer({ min: 0, max: 3 }),
    maxOverflow: fc.integer({ min: 0, max: 2 }),
    timeoutMs: fc.integer({ min: 5, max: 60 }),
    recycleMs: fc.option(fc.integer({ min: 10, max: 100 }), { nil: undefined }),
    prePing: fc.boolean(),
    lifo: fc.boolean(),
    idleTimeoutMs: fc.option(fc.integer({ min: 10, max: 150 }), { nil: undefined }),
    createDelayMs: fc.integer({ min: 0, max: 15 }),
    pingDelayMs: fc.integer({ min: 0, max: 15 }),
  })
  .filter((r) => r.size + r.maxOverflow >= 1)
  .map(({ createDelayMs, pingDelayMs, ...options }) => ({ options, createDelayMs, pingDelayMs }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('acquire' as const), abortable: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('invalidate' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'killServer' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'failNextCreate' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tryAcquireSync' as const }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'close' as const }) },
);

/** The fake server plus a record of everything that must never happen. */
class World {
  readonly connections: FakeConnection[] = [];
  readonly violations: string[] = [];
  readonly createFailure = new Error('connection refused (planned)');
  failNextCreate = false;

  constructor(private readonly scenario: Scenario) {}

  readonly hooks = {
    create: async (): Promise<FakeConnection> => {
      await sleep(this.scenario.createDelayMs);
      return this.open();
    },
    createSync: (): FakeConnection => this.open(),
    destroy: async (connection: FakeConnection): Promise<void> => {
      connection.destroys += 1;
      if (connection.destroys > 1) this.violations.push(`connection ${connection.serial} destroyed twice`);
    },
    ping: async (connection: FakeConnection): Promise<void> => {
      await sleep(this.scenario.pingDelayMs);
      if (!connection.alive) throw new Error('server closed the connection');
    },
  };

  open(): FakeConnection {
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw this.createFailure;
    }
    const connection = { serial: this.connections.length + 1, alive: true, destroys: 0 };
    this.connections.push(connection);
    return connection;
  }

  /** A server restart: every connection opened so far is dead; new ones will be alive. */
  killServer(): void {
    for (const connection of this.connections) connection.alive = false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Drives one pool through a sequence of operations, checking the invariants after every step. */
class Run {
  readonly world: World;
  readonly pool: Pool<FakeConnection>;
  readonly held: PooledConnection<FakeConnection>[] = [];
  readonly pending = new Set<Promise<unknown>>();
  readonly abortables: { controller: AbortController; reason: Error }[] = [];
  closed = false;

  constructor(readonly scenario: Scenario) {
    this.world = new World(scenario);
    this.pool = new Pool(this.world.hooks, scenario.options, {}, 'fake://user:***@server/db');
  }

  async apply(op: Op): Promise<void> {
    switch (op.kind) {
      case 'acquire':
        this.acquire(op.abortable);
        break;
      case 'release': {
        const connection = this.take(op.pick);
        if (connection) this.pool.release(connection);
        break;
      }
      case 'invalidate': {
        const connection = this.take(op.pick);
        if (connection) this.watch(this.pool.invalidate(connection, 'property test'), () => {});
        break;
      }
      case 'abort': {
        const [entry] = this.abortables.splice(op.pick % Math.max(this.abortables.length, 1), 1);
        entry?.controller.abort(entry.reason);
        break;
      }
      case 'killServer':
        this.world.killServer();
        break;
      case 'failNextCreate':
        this.world.failNextCreate = true;
        break;
      case 'tryAcquireSync':
        this.tryAcquireSync();
        break;
      case 'advance':
        await vi.advanceTimersByTimeAsync(op.ms);
        break;
      case 'close':
        this.closed = true;
        this.watch(this.pool.close(), () => {});
        break;
    }
    await vi.advanceTimersByTimeAsync(0);
    this.checkInvariants();
  }

  acquire(abortable: boolean): void {
    const controller = abortable ? new AbortController() : undefined;
    const reason = new Error('aborted by the property test');
    if (controller) this.abortables.push({ controller, reason });
    const acquired = this.pool.acquire(controller ? { signal: controller.signal } : {});
    this.watch(acquired, (error) => {
      const expected =
        error instanceof PoolTimeoutError ||
        error instanceof FactoryClosedError ||
        error === reason ||
        error === this.world.createFailure;
      if (!expected) this.world.violations.push(`acquire rejected with an unexpected error: ${String(error)}`);
    });
    acquired.then((connection) => {
      if (this.scenario.options.prePing && !connection.resource.alive) {
        this.world.violations.push(`dead connection ${connection.id} handed out with prePing on`);
      }
      this.hold(connection);
    }, noop);
  }

  tryAcquireSync(): void {
    try {
      const connection = this.pool.tryAcquireSync();
      if (connection) this.hold(connection);
    } catch (error) {
      const expected = (this.closed && error instanceof FactoryClosedError) || error === this.world.createFailure;
      if (!expected) this.world.violations.push(`tryAcquireSync threw unexpectedly: ${String(error)}`);
    }
  }

  hold(connection: PooledConnection<FakeConnection>): void {
    if (this.held.some((h) => h.resource === connection.resource)) {
      this.world.violations.push(`connection ${connection.id} checked out twice at once`);
    }
    this.held.push(connection);
  }

  take(pick: number): PooledConnection<FakeConnection> | undefined {
    if (this.held.length === 0) return undefined;
    return this.held.splice(pick % this.held.length, 1)[0];
  }

  watch(promise: Promise<unknown>, onError: (error: unknown) => void): void {
    this.pending.add(promise);
    promise.then(noop, onError).finally(() => this.pending.delete(promise));
  }

  checkInvariants(): void {
    const { size, maxOverflow } = this.scenario.options;
    const s = this.pool.stats();
    expect(this.world.violations).toEqual([]);
    expect(s.open + s.opening).toBeLessThanOrEqual(size + maxOverflow);
    expect(s.idle).toBeLessThanOrEqual(size);
    expect(s.created - s.destroyed).toBe(s.open);
    expect(s.open).toBe(s.idle + s.inUse);
    expect(s.created).toBe(this.world.connections.length);
    expect(this.world.connections.filter((c) => c.destroys === 0)).toHaveLength(s.open);
    expect(s.inUse).toBeGreaterThanOrEqual(this.closed ? 0 : this.held.length);
  }

  /** Close, force-destroy, and check that every connection ever opened was closed exactly once. */
  async finish(): Promise<void> {
    const destroyedAll = this.pool.destroyAll();
    await vi.runAllTimersAsync();
    await destroyedAll;
    const destroysAfterDestroyAll = this.world.connections.map((c) => c.destroys);
    // Late releases of force-destroyed connections are quiet no-ops.
    for (const connection of this.held.splice(0)) this.pool.release(connection);
    await vi.runAllTimersAsync();
    expect(this.world.violations).toEqual([]);
    expect(this.pending.size).toBe(0);
    expect(destroysAfterDestroyAll).toEqual(this.world.connections.map(() => 1));
    expect(this.world.connections.map((c) => c.destroys)).toEqual(this.world.connections.map(() => 1));
    expect(this.pool.stats()).toMatchObject({ open: 0, idle: 0, inUse: 0, waiting: 0, opening: 0 });
    expect(vi.getTimerCount()).toBe(0);
  }
}

function noop(): void {}

afterEach(() => {
  vi.useRealTimers();
});

describe('Pool properties', () => {
  it('keeps capacity, accounting and liveness invariants under random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarioArb,
        fc.array(opArb, { minLength: 10, maxLength: 80, size: 'medium' }),
        async (scenario, ops) => {
          vi.useFakeTimers();
          try {
            const run = new Run(scenario);
            for (const op of ops) await run.apply(op);
            await run.finish();
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 500 },
    );
  }, 30_000);

  it('with prePing, a restart between any two steps never hands out a dead connection', async () => {
    const steps = fc.array(
      fc.oneof(
        fc.constant<Op>({ kind: 'acquire', abortable: false }),
        fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
        fc.constant<Op>({ kind: 'killServer' }),
        fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 20 }) }),
      ),
      { minLength: 10, maxLength: 60, size: 'medium' },
    );
    const prePingScenario = scenarioArb.map((s) => ({ ...s, options: { ...s.options, prePing: true } }));
    await fc.assert(
      fc.asyncProperty(prePingScenario, steps, async (scenario, ops) => {
        vi.useFakeTimers();
        try {
          const run = new Run(scenario);
          for (const op of ops) await run.apply(op);
          await run.finish();
        } finally {
          vi.useRealTimers();
        }
      }),
      { numRuns: 150 },
    );
  }, 30_000);
});
