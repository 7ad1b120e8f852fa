import { createSessionFactory, type ErrorCode, type FactoryOptions } from '@sessionfactory/core';
import { type FakeAdapter, type FakeAdapterOptions, fakeAdapter } from '@sessionfactory/core/testing';
import type { ConformanceTarget } from '../src/index.js';

/** What the fake run hands to `describeConformance`, plus the adapter whose statements it records. */
export interface FakeConformanceTarget extends ConformanceTarget {
  /** The one fake adapter every factory of this run shares (one temp database, one statement log). */
  readonly adapter: FakeAdapter;
}

/**
 * Pool defaults of the fake run: one connection. node:sqlite is synchronous and the fake opens
 * its connections with `busy_timeout = 0`, so a second writer on another connection gets
 * LOCK_TIMEOUT at once instead of waiting; one connection per factory serializes a factory's
 * sessions the way SQLite's own adapter does (size 1). A case that asks for more gets more.
 *
 * @example
 * ```ts
 * createSessionFactory(adapter, withFakePoolDefaults({ pool: { timeoutMs: 250 } }));
 * // pool: { size: 1, maxOverflow: 0, timeoutMs: 250 }
 * ```
 */
export function withFakePoolDefaults(options: FactoryOptions = {}): FactoryOptions {
  return { ...options, pool: { size: 1, maxOverflow: 0, ...options.pool } };
}

/**
 * The fake's "long statement" (`dialect.sleepSql`): a statement the fake delays by an injected
 * fault (the fake's model of a statement running on a server; `adapter.cancel` interrupts it),
 * then runs as a plain SELECT. Each distinct duration registers its fault once, for every later use.
 *
 * @example
 * ```ts
 * const sleepSql = fakeSleep(adapter);
 * sleepSql(5); // 'SELECT 5 AS fake_sleep_seconds', delayed 5 s unless cancelled
 * ```
 */
export function fakeSleep(adapter: FakeAdapter): (seconds: number) => string {
  const registered = new Set<string>();
  return (seconds) => {
    const statement = `SELECT ${Number(seconds)} AS fake_sleep_seconds`;
    if (!registered.has(statement)) {
      registered.add(statement);
      adapter.fail({ match: statement, delayMs: Number(seconds) * 1000, times: Number.POSITIVE_INFINITY });
    }
    return statement;
  };
}

/**
 * A conformance target on the statement-recording fake adapter of `@sessionfactory/core/testing`:
 * every factory shares one fake adapter (one temp node:sqlite database in WAL mode). Killing a
 * "backend" marks that fake connection broken, as a dropped socket would; a connection that
 * cannot be opened is an injected CONNECT fault on an adapter of its own.
 *
 * @example
 * ```ts
 * describeConformance('fake adapter', () => fakeConformanceTarget());
 * ```
 */
export async function fakeConformanceTarget(adapterOptions: FakeAdapterOptions = {}): Promise<FakeConformanceTarget> {
  const adapter = fakeAdapter(adapterOptions);
  const failing: FakeAdapter[] = [];
  const failingFactory = (code: ErrorCode) => () => {
    const unreachable = fakeAdapter(adapterOptions);
    failing.push(unreachable);
    unreachable.fail({ match: 'CONNECT', error: code, times: Number.POSITIVE_INFINITY });
    return createSessionFactory(unreachable, withFakePoolDefaults());
  };
  const live = () => adapter.connections.filter((connection) => !connection.closed);

  return {
    adapter,
    createFactory: (options) => createSessionFactory(adapter, withFakePoolDefaults(options)),
    async teardown() {
      adapter.dispose();
      for (const other of failing) other.dispose();
    },
    dialect: {
      sleepSql: fakeSleep(adapter),
      connectionIdSql: 'SELECT fake_connection_id() AS id',
      async killConnection(id) {
        const connection = adapter.connections.find((candidate) => candidate.serverId === id);
        if (!connection) throw new Error(`fake: no connection with id ${id}`);
        connection.kill();
      },
      async restartServer() {
        for (const connection of live()) connection.kill();
      },
      async idleInTransactionCount() {
        return live().filter((connection) => !connection.broken && connection.inTransaction()).length;
      },
      setLockTimeoutSql: (ms) => `PRAGMA busy_timeout = ${Math.ceil(ms)}`,
    },
    failingFactories: {
      authentication: failingFactory('AUTHENTICATION'),
      databaseNotFound: failingFactory('DATABASE_NOT_FOUND'),
      unreachable: failingFactory('CONNECTION'),
    },
  };
}
