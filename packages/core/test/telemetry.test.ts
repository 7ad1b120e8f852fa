import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigurationError, createSessionFactory, type FactoryOptions } from '../src/index.js';
import { dbTarget, defaultPoolName, operationName } from '../src/telemetry/db-target.js';
import { fakeAdapter } from '../src/testing/index.js';
import { harness, INSERT, insert, mark } from './support/harness.js';

const SESSION_SPAN = 'sessionfactory.session';
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

function tracing() {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  return { exporter, tracerProvider, spans: (): ReadableSpan[] => exporter.getFinishedSpans() };
}

class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const sessions = (spans: ReadableSpan[]) => spans.filter((span) => span.name === SESSION_SPAN);
const childrenOf = (parent: ReadableSpan, spans: ReadableSpan[]) =>
  spans.filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);

afterEach(() => {
  trace.disable();
  metrics.disable();
  context.disable();
});

describe('telemetry: when it is on', () => {
  it('is off when no provider is registered, and stays off when one is registered later (checked once)', async () => {
    const { sf } = await harness();
    const { tracerProvider, spans } = tracing();
    trace.setGlobalTracerProvider(tracerProvider);
    await sf.session((tx) => insert(tx, 1));
    expect(spans()).toEqual([]);
  });

  it('uses the globally registered tracer provider when the option is left out', async () => {
    const { tracerProvider, spans } = tracing();
    trace.setGlobalTracerProvider(tracerProvider);
    const { sf } = await harness();
    await sf.session((tx) => insert(tx, 1));
    expect(sessions(spans())).toHaveLength(1);
    expect(spans().map((span) => span.instrumentationScope.name)).toContain('@sessionfactory/core');
  });

  it('telemetry: false turns it off even with a registered provider', async () => {
    const { tracerProvider, spans } = tracing();
    trace.setGlobalTracerProvider(tracerProvider);
    const { sf } = await harness({ telemetry: false });
    await sf.session((tx) => insert(tx, 1));
    expect(spans()).toEqual([]);
  });

  const bad: [string, unknown, RegExp][] = [
    ['true', true, /expected false or an object/],
    ['a typo', { tracerprovider: {} }, /Unknown option telemetry\.tracerprovider/],
    ['a tracer instead of a provider', { tracerProvider: { startSpan() {} } }, /getTracer/],
    ['a meter instead of a provider', { meterProvider: { createCounter() {} } }, /getMeter/],
    ['an empty pool name', { poolName: ' ' }, /poolName must be a non-empty string/],
  ];
  for (const [label, value, message] of bad) {
    it(`refuses ${label} with ConfigurationError`, () => {
      const create = () => createSessionFactory(fakeAdapter(), { telemetry: value } as FactoryOptions);
      expect(create).toThrow(ConfigurationError);
      expect(create).toThrow(message);
    });
  }
});

describe('telemetry: spans', () => {
  it('counts attempts of a retried session and reports the final outcome', async () => {
    const { tracerProvider, spans } = tracing();
    const { adapter, sf } = await harness({ telemetry: { tracerProvider } });
    adapter.fail({ match: INSERT, error: 'SERIALIZATION_FAILURE' });
    await sf.session((tx) => insert(tx, 1), { retry: { attempts: 3, ...fast } });
    const [session] = sessions(spans());
    expect(session!.attributes).toMatchObject({
      'sessionfactory.session.attempts': 2,
      'sessionfactory.session.outcome': 'commit',
    });
    const statements = childrenOf(session!, spans()).map((span) => [
      span.attributes['db.query.text'],
      span.attributes['error.type'],
    ]);
    expect(statements).toEqual([
      ['BEGIN READ WRITE', undefined],
      [INSERT, 'SerializationFailureError'],
      ['ROLLBACK', undefined],
      ['BEGIN READ WRITE', undefined],
      [INSERT, undefined],
      ['COMMIT', undefined],
    ]);
  });

  it('a transaction the session function opens itself is not counted as an attempt', async () => {
    const { tracerProvider, spans } = tracing();
    const { sf } = await harness({ telemetry: { tracerProvider }, pool: { size: 2 } });
    await sf.session(
      async (tx) => {
        await mark(tx, 'outer'); // reads only: the fake's SQLite file takes one writer at a time
        // Kysely's own transaction on a pinned connection: a transaction of its own, not an attempt.
        await sf.connection((db) => db.transaction().execute((kyselyTx) => insert(kyselyTx, 2)));
      },
      { readOnly: true },
    );
    const [session] = sessions(spans());
    expect(session!.attributes['sessionfactory.session.attempts']).toBe(1);
  });

  it('nests under the application span, and the application’s spans inside the session nest under it', async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const { tracerProvider, spans } = tracing();
    const { sf } = await harness({ telemetry: { tracerProvider } });
    const app = tracerProvider.getTracer('app');
    await app.startActiveSpan('request', async (request) => {
      await sf.session(async (tx) => {
        await app.startActiveSpan('business logic', async (inner) => {
          await insert(tx, 1);
          inner.end();
        });
      });
      request.end();
    });
    const byName = new Map(spans().map((span) => [span.name, span]));
    const session = byName.get(SESSION_SPAN)!;
    expect(session.parentSpanContext?.spanId).toBe(byName.get('request')!.spanContext().spanId);
    expect(byName.get('business logic')!.parentSpanContext?.spanId).toBe(session.spanContext().spanId);
  });

  it('a statement outside any session is a root span (no context manager, no active span)', async () => {
    const { tracerProvider, spans } = tracing();
    const { sf } = await harness({ telemetry: { tracerProvider } });
    const before = spans().length; // the harness's CREATE TABLE
    await insert(sf.db, 1);
    const [statement, ...others] = spans().slice(before);
    expect(others).toEqual([]);
    expect(statement!.parentSpanContext).toBeUndefined();
    expect(statement!.attributes['db.operation.name']).toBe('INSERT');
  });

  it('sf.begin() rolled back: outcome rollback, children, span ended at the rollback', async () => {
    const { tracerProvider, spans } = tracing();
    const { sf } = await harness({ telemetry: { tracerProvider } });
    const tx = await sf.begin({ readOnly: false });
    await insert(tx, 1);
    await tx.rollback();
    const [session] = sessions(spans());
    expect(session!.attributes['sessionfactory.session.outcome']).toBe('rollback');
    expect(session!.attributes['sessionfactory.session.id']).toBe(tx.info.id);
    expect(childrenOf(session!, spans()).map((span) => span.attributes['db.operation.name'])).toEqual([
      'BEGIN',
      'INSERT',
      'ROLLBACK',
    ]);
  });
});

describe('telemetry: metrics', () => {
  it('records the wait for a connection of an exhausted pool in db.client.connection.wait_time', async () => {
    const reader = new OnDemandReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const { sf } = await harness({
      telemetry: { meterProvider, poolName: 'orders' },
      pool: { size: 1, maxOverflow: 0 },
    });
    let release!: () => void;
    const held = sf.session(() => new Promise<void>((resolve) => (release = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    const waiting = sf.session((tx) => insert(tx, 1));
    await new Promise((resolve) => setTimeout(resolve, 60));
    const during = await reader.collect();
    const pending = during.resourceMetrics.scopeMetrics[0]!.metrics.find(
      (metric) => metric.descriptor.name === 'db.client.connection.pending_requests',
    );
    expect(pending!.dataPoints[0]!.value).toBe(1);
    release();
    await Promise.all([held, waiting]);
    const { resourceMetrics } = await reader.collect();
    const wait = resourceMetrics.scopeMetrics[0]!.metrics.find(
      (metric) => metric.descriptor.name === 'db.client.connection.wait_time',
    )!;
    expect(wait.descriptor.unit).toBe('s');
    const point = wait.dataPoints[0]! as { value: { count: number; max?: number }; attributes: object };
    expect(point.attributes).toEqual({ 'db.client.connection.pool.name': 'orders' });
    expect(point.value.count).toBeGreaterThanOrEqual(2);
    expect(point.value.max).toBeGreaterThanOrEqual(0.04);
  });
});

describe('telemetry: attributes from the adapter', () => {
  it('reads system, database, address and port from the description, never the user or password', () => {
    const target = dbTarget({
      ...fakeAdapter(),
      dialect: 'postgres',
      description: 'postgres://app:***@db.internal:6432/shop',
    });
    expect(target).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'shop',
      'server.address': 'db.internal',
      'server.port': 6432,
    });
    expect(defaultPoolName(target)).toBe('db.internal:6432/shop');
    const mysql = dbTarget({ ...fakeAdapter(), dialect: 'mysql', description: 'mysql://root@[::1]/' });
    expect(mysql).toEqual({ 'db.system.name': 'mysql', 'server.address': '::1', 'server.port': 3306 });
    const sqlite = dbTarget({ ...fakeAdapter(), dialect: 'sqlite', description: '/var/data/app.db' });
    expect(sqlite).toEqual({ 'db.system.name': 'sqlite', 'db.namespace': '/var/data/app.db' });
  });

  it.each([
    ['select * from "t"', 'SELECT'],
    ['  INSERT into t values (?)', 'INSERT'],
    ['/* hint */ update t set a = ?', 'UPDATE'],
    ['-- note\ndelete from t', 'DELETE'],
    ['with x as (select 1) delete from t where id in (select * from x)', 'DELETE'],
    ['(select 1) union (select 2)', 'SELECT'],
    ['BEGIN ISOLATION LEVEL SERIALIZABLE', 'BEGIN'],
    ['', undefined],
  ])('operationName(%j) is %j', (sql, expected) => {
    expect(operationName(sql)).toBe(expected);
  });
});

describe('telemetry: without @opentelemetry/api installed', () => {
  it('sessions work, and only an explicit telemetry option asks for the package', async () => {
    const { execFileSync } = await import('node:child_process');
    const dist = new URL('../dist/', import.meta.url).href;
    // Hides the package from require() the way a missing install does, then uses the built core.
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === '@opentelemetry/api') throw Object.assign(new Error('not installed'), { code: 'MODULE_NOT_FOUND' });
        return resolve.call(this, request, ...rest);
      };
      (async () => {
        const { createSessionFactory } = await import('${dist}index.js');
        const { fakeAdapter } = await import('${dist}testing/index.js');
        const adapter = fakeAdapter();
        const sf = createSessionFactory(adapter);
        const value = await sf.session(async () => 'ran');
        await sf.close();
        adapter.dispose();
        let refused = 'no error';
        try { createSessionFactory(fakeAdapter(), { telemetry: { poolName: 'x' } }); } catch (error) { refused = error.name + ': ' + error.message; }
        console.log(JSON.stringify({ value, refused }));
      })();
    `;
    const output = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    const { value, refused } = JSON.parse(output.trim().split('\n').at(-1)!);
    expect(value).toBe('ran');
    expect(refused).toMatch(/^ConfigurationError: The telemetry option needs @opentelemetry\/api/);
  });
});
