import { afterAll, describe, expect, it } from 'vitest';
import { resolveFactoryOptions } from '../src/factory/resolve-factory-options.js';
import { ConfigurationError, createSessionFactory, type FactoryOptions, PropagationError } from '../src/index.js';
import { fakeAdapter } from '../src/testing/index.js';
import { harness, rejection, thrown } from './support/harness.js';

const adapter = fakeAdapter();
afterAll(() => adapter.dispose());

function configError(options: unknown, on = adapter): ConfigurationError {
  const error = thrown(() => resolveFactoryOptions(on, options as FactoryOptions));
  expect(error).toBeInstanceOf(ConfigurationError);
  return error;
}

describe('resolveFactoryOptions defaults', () => {
  it('applies the documented defaults', () => {
    expect(resolveFactoryOptions(adapter)).toEqual({
      pool: {
        size: 5,
        maxOverflow: 10,
        timeoutMs: 30_000,
        recycleMs: undefined,
        prePing: true,
        lifo: false,
        idleTimeoutMs: undefined,
      },
      echo: undefined,
      logParameters: false,
      session: {},
      sync: { poolSize: 1, callTimeoutMs: 30_000 },
      replicas: [],
      replicaWaitMs: 1000,
      maxReplicaLagMs: 30_000,
    });
  });

  it('adapter pool defaults come first, user options win', () => {
    const sqliteLike = { ...adapter, poolDefaults: { size: 1, maxOverflow: 0 } };
    expect(resolveFactoryOptions(sqliteLike).pool).toMatchObject({ size: 1, maxOverflow: 0 });
    expect(resolveFactoryOptions(sqliteLike, { pool: { size: 3, maxOverflow: 2 } }).pool).toMatchObject({
      size: 3,
      maxOverflow: 2,
    });
  });

  it('sync.callTimeoutMs defaults to session.timeoutMs', () => {
    expect(resolveFactoryOptions(adapter, { session: { timeoutMs: 1234 } }).sync.callTimeoutMs).toBe(1234);
    expect(resolveFactoryOptions(adapter, { session: { timeoutMs: 1234 }, sync: { callTimeoutMs: 10 } }).sync).toEqual({
      poolSize: 1,
      callTimeoutMs: 10,
    });
  });

  it('echo: false is off, a function is kept', () => {
    const fn = () => {};
    expect(resolveFactoryOptions(adapter, { echo: false }).echo).toBeUndefined();
    expect(resolveFactoryOptions(adapter, { echo: fn }).echo).toBe(fn);
    expect(typeof resolveFactoryOptions(adapter, { echo: true }).echo).toBe('function');
  });
});

describe('resolveFactoryOptions rejects bad options with ConfigurationError', () => {
  it('options that are not an object', () => {
    expect(configError(null).message).toMatch(/expected an object/);
    expect(configError({ pool: 5 }).message).toMatch(/expected an object, got 5/);
  });

  it('unknown options, listing the known ones', () => {
    expect(configError({ poolSize: 3 }).message).toBe(
      'Unknown option poolSize. Known options: pool, echo, logParameters, session, sync, replicas, replicaWaitMs, maxReplicaLagMs, telemetry.',
    );
    expect(configError({ pool: { max: 3 } }).message).toMatch(
      /Unknown option pool\.max\. Known options: pool\.size, pool\.maxOverflow, pool\.timeoutMs/,
    );
  });

  it.each([
    ['pool.prePing', { pool: { prePing: 'yes' } }],
    ['pool.lifo', { pool: { lifo: 1 } }],
    ['logParameters', { logParameters: 'true' }],
    ['session.readOnly', { session: { readOnly: 'no' } }],
  ])('%s must be a boolean', (name, options) => {
    expect(configError(options).message).toMatch(
      new RegExp(`^Invalid ${name.replace('.', '\\.')}: .*Use true or false`),
    );
  });

  it.each([
    ['session.timeoutMs', { session: { timeoutMs: -1 } }],
    ['session.timeoutMs', { session: { timeoutMs: Number.POSITIVE_INFINITY } }],
    ['session.timeoutMs', { session: { timeoutMs: '5s' } }],
    ['sync.callTimeoutMs', { sync: { callTimeoutMs: Number.NaN } }],
  ])('%s must be a finite duration', (name, options) => {
    expect(configError(options).message).toMatch(new RegExp(`^Invalid ${name.replace('.', '\\.')}: .*milliseconds`));
  });

  it('session.isolation must be a known level', () => {
    expect(configError({ session: { isolation: 'snapshot' } }).message).toBe(
      'Invalid session.isolation: "snapshot". Use one of: read uncommitted, read committed, repeatable read, serializable.',
    );
  });

  it.each([
    [{ retry: 0 }, /retry attempts: 0/],
    [{ retry: 1.5 }, /retry attempts: 1.5/],
    [{ retry: { attempts: -1 } }, /retry attempts: -1/],
    [{ retry: { attempts: 2, baseDelayMs: -5 } }, /retry\.baseDelayMs: -5/],
    [{ retry: { attempts: 2, maxDelayMs: Number.NaN } }, /retry\.maxDelayMs/],
  ])('session.retry %j', (session, message) => {
    expect(configError({ session }).message).toMatch(message);
  });

  it('sync.poolSize must be a whole number >= 1', () => {
    expect(configError({ sync: { poolSize: 0 } }).message).toMatch(/sync\.poolSize: 0/);
    expect(configError({ sync: { poolSize: 1.5 } }).message).toMatch(/sync\.poolSize: 1\.5/);
  });

  it('echo must be a boolean or a function', () => {
    expect(configError({ echo: 'stderr' }).message).toMatch(/Invalid echo: "stderr"/);
  });

  it('the pool may not exceed what the adapter allows', () => {
    const memory = { ...adapter, maxConnections: 1, description: 'sqlite::memory:' };
    expect(configError({}, memory).message).toMatch(/is 15, but sqlite::memory: allows at most 1 connection/);
    expect(resolveFactoryOptions(memory, { pool: { size: 1, maxOverflow: 0 } }).pool.size).toBe(1);
  });

  it('unknown keys inside session and sync are rejected too, not silently ignored', () => {
    expect(configError({ session: { timeoutMS: 1000 } }).message).toMatch(/session\.timeoutMS/);
    expect(configError({ sync: { poolsize: 2 } }).message).toMatch(/sync\.poolsize/);
  });
});

describe('createSessionFactory', () => {
  it('rejects something that is not an adapter', () => {
    for (const bad of [undefined, {}, { connect: () => {} }, 'postgres://x']) {
      const error = thrown(() => createSessionFactory(bad as never));
      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toMatch(/not an adapter/);
    }
  });

  it.each([
    [{ pool: { size: -1 } }, /pool\.size must be an integer >= 0, got -1/],
    [{ pool: { size: 0, maxOverflow: 0 } }, /at least 1/],
    [{ pool: { timeoutMs: Number.POSITIVE_INFINITY } }, /pool\.timeoutMs must be a finite/],
    [{ pool: { recycleMs: -1 } }, /pool\.recycleMs/],
    [{ pool: { idleTimeoutMs: Number.NaN } }, /pool\.idleTimeoutMs/],
  ])('rejects pool settings it cannot honour: %j', (options, message) => {
    const error = thrown(() => createSessionFactory(adapter, options));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(message);
  });

  it('is lazy: no connection before the first session', async () => {
    const lazy = fakeAdapter();
    const sf = createSessionFactory(lazy);
    expect(lazy.connections).toHaveLength(0);
    expect(sf.stats().open).toBe(0);
    expect(sf.dialect).toBe('fake');
    expect(sf.description).toBe('fake://user:***@fake/db');
    expect(sf.capabilities.savepoints).toBe(true);
    await sf.close();
    lazy.dispose();
  });
});

describe('per-session options are validated at the call', () => {
  it.each([
    [{ isolation: 'snapshot' }, ConfigurationError],
    [{ readOnly: 'yes' }, ConfigurationError],
    [{ timeoutMs: -5 }, ConfigurationError],
    [{ retry: 0 }, ConfigurationError],
    [{ propagation: 'always' }, PropagationError],
  ])('%j', async (options, ErrorClass) => {
    const { adapter: fake, sf } = await harness();
    const error = await rejection(sf.session(async () => {}, options as never));
    expect(error).toBeInstanceOf(ErrorClass);
    if (!('propagation' in options)) {
      expect(() => sf.syncSession(() => {}, options as never)).toThrow(ErrorClass);
      await expect(sf.begin(options as never)).rejects.toThrow(ErrorClass);
    }
    expect(fake.statements).toEqual([]);
  });
});
