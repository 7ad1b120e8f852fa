import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type SessionFactory, UniqueViolationError } from '@sessionfactory/core';
import { expect } from 'vitest';
import type { ConformanceDB } from '../suite/conformance-schema.js';
import { ALICE, BOB } from '../suite/fixtures.js';
import { selectOne } from '../suite/raw-queries.js';
import type { SuiteContext } from '../suite/suite-context.js';
import { captureTelemetry, type TelemetryCapture } from '../suite/telemetry-capture.js';

const SESSION_SPAN = 'sessionfactory.session';
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/** `db.system.name` per adapter dialect (another dialect reports its own name). */
const SYSTEM_NAMES: Record<string, readonly string[]> = {
  postgres: ['postgresql'],
  mysql: ['mysql', 'mariadb'],
  sqlite: ['sqlite'],
};

/** A value the cases bind as a parameter: it must never show up in a span. */
const PARAMETER_SECRET = 'owner-value-never-in-spans';

interface Traced {
  readonly sf: SessionFactory<ConformanceDB>;
  readonly capture: TelemetryCapture;
  /** Spans ended since the factory was opened (schema set-up left out). */
  spans(): ReadableSpan[];
}

/**
 * OpenTelemetry on a real database, through the SDK's in-memory exporter: a span per session
 * with its children, the database conventions' attributes, outcomes, no parameter values, and
 * the `db.client.connection.*` pool metrics.
 *
 * @example
 * ```ts
 * registerTelemetryCases(ctx);
 * ```
 */
export function registerTelemetryCases(ctx: SuiteContext): void {
  const open = async (pool?: { size: number; maxOverflow: number }): Promise<Traced> => {
    const capture = await captureTelemetry();
    const sf = await ctx.open({
      telemetry: { tracerProvider: capture.tracerProvider, meterProvider: capture.meterProvider },
      ...(pool ? { pool } : {}),
    });
    const before = capture.spans().length;
    return { sf, capture, spans: () => capture.spans().slice(before) };
  };

  ctx.test('telemetry: a committed session is one span with a CLIENT child per statement', async () => {
    const { sf, spans } = await open();
    await sf.session(async (tx) => {
      await tx.insertInto('account').values(ALICE).execute();
      await selectOne(tx);
    });
    const [session, ...others] = sessionSpans(spans());
    expect(others).toEqual([]);
    expect(session!.kind).toBe(SPAN_KIND_INTERNAL);
    expect(SYSTEM_NAMES[sf.dialect] ?? [sf.dialect]).toContain(session!.attributes['db.system.name']);
    expect(session!.attributes).toMatchObject({
      'sessionfactory.session.outcome': 'commit',
      'sessionfactory.session.attempts': 1,
      'sessionfactory.session.propagation': 'required',
      'sessionfactory.session.read_only': false,
    });
    expect(session!.attributes['sessionfactory.session.isolation']).toEqual(expect.any(String));
    expect(session!.attributes).not.toHaveProperty('error.type');
    if (sf.dialect === 'postgres' || sf.dialect === 'mysql') {
      expect(session!.attributes['server.address']).toEqual(expect.any(String));
      expect(session!.attributes['server.port']).toEqual(expect.any(Number));
      expect(session!.attributes['db.namespace']).toEqual(expect.any(String));
    }
    const statements = childrenOf(session!, spans());
    expect(statements.map((span) => span.attributes['db.operation.name'])).toEqual([
      expect.anything(), // BEGIN / START TRANSACTION
      'INSERT',
      'SELECT',
      'COMMIT',
    ]);
    for (const statement of statements) {
      expect(statement.kind).toBe(SPAN_KIND_CLIENT);
      expect(statement.spanContext().traceId).toBe(session!.spanContext().traceId);
      expect(statement.attributes['db.system.name']).toBe(session!.attributes['db.system.name']);
      expect(statement.name).toMatch(/^[A-Z]+( |$)/);
    }
    const insert = statements[1]!;
    expect(insert.attributes['db.query.text']).toMatch(/^insert into/i);
    // HrTime is [seconds, nanoseconds]: compared as numbers (as arrays they compare as strings).
    const nanos = ([seconds, fraction]: readonly [number, number]) => seconds * 1e9 + fraction;
    expect(nanos(insert.startTime)).toBeLessThanOrEqual(nanos(insert.endTime));
  });

  ctx.test(
    'telemetry: a rolled-back session has outcome rollback, error.type and the failing statement marked',
    async () => {
      const { sf, spans } = await open();
      await sf.session((tx) => tx.insertInto('account').values(ALICE).execute());
      const error = await sf
        .session((tx) =>
          tx
            .insertInto('account')
            .values({ ...ALICE, owner: PARAMETER_SECRET })
            .execute(),
        )
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UniqueViolationError);
      const failed = sessionSpans(spans())[1]!;
      expect(failed.attributes).toMatchObject({
        'sessionfactory.session.outcome': 'rollback',
        'sessionfactory.session.attempts': 1,
        'error.type': 'UniqueViolationError',
      });
      expect(failed.status.code).toBe(STATUS_ERROR);
      const statements = childrenOf(failed, spans());
      const insert = statements.find((span) => span.attributes['db.operation.name'] === 'INSERT')!;
      expect(insert.attributes['error.type']).toBe('UniqueViolationError');
      expect(insert.attributes['db.response.status_code']).toEqual(expect.any(String));
      expect(insert.status.code).toBe(STATUS_ERROR);
      expect(statements.at(-1)!.attributes['db.operation.name']).toBe('ROLLBACK');
    },
  );

  ctx.test('telemetry: no parameter value and no password appears in any span', async () => {
    const { sf, spans } = await open();
    await sf.session((tx) =>
      tx
        .insertInto('account')
        .values({ ...BOB, owner: PARAMETER_SECRET })
        .execute(),
    );
    await sf.db.selectFrom('account').selectAll().where('owner', '=', PARAMETER_SECRET).execute();
    const text = JSON.stringify(spans().map((span) => ({ name: span.name, attributes: span.attributes })));
    expect(spans().length).toBeGreaterThanOrEqual(5);
    expect(text).not.toContain(PARAMETER_SECRET);
    expect(text).not.toMatch(/password|:\*\*\*@/i);
  });

  ctx.test('telemetry: a joined scope adds no span; requiresNew gets its own span under the outer one', async () => {
    const { sf, spans } = await open(ctx.shared ? { size: 2, maxOverflow: 0 } : undefined);
    // Readers, so SQLite's single writer slot never makes the inner session wait for the outer one.
    const readOnly = ctx.capabilities.readOnly;
    await sf.session(
      async (tx) => {
        await selectOne(tx);
        await sf.session((inner) => selectOne(inner)); // joins
        if (ctx.shared) await sf.session((own) => selectOne(own), { propagation: 'requiresNew', readOnly });
      },
      { readOnly },
    );
    const sessions = sessionSpans(spans());
    const outer = sessions.find((span) => span.parentSpanContext === undefined)!;
    expect(sessions).toHaveLength(ctx.shared ? 2 : 1);
    expect(outer.attributes['sessionfactory.session.read_only']).toBe(readOnly);
    const outerSelects = childrenOf(outer, spans()).filter((span) => span.attributes['db.operation.name'] === 'SELECT');
    expect(outerSelects).toHaveLength(2); // its own and the joined scope's
    if (ctx.shared) {
      const inner = sessions.find((span) => span !== outer)!;
      expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
      expect(inner.attributes['sessionfactory.session.propagation']).toBe('requiresNew');
      expect(childrenOf(inner, spans()).map((span) => span.attributes['db.operation.name'])).toContain('SELECT');
    }
  });

  ctx.test('telemetry: sf.begin() is one span until commit, its statements its children', async () => {
    const { sf, spans } = await open();
    const tx = await sf.begin();
    await tx.insertInto('account').values(ALICE).execute();
    expect(sessionSpans(spans())).toEqual([]); // still open
    await tx.commit();
    const [session] = sessionSpans(spans());
    expect(session!.attributes['sessionfactory.session.outcome']).toBe('commit');
    expect(childrenOf(session!, spans()).map((span) => span.attributes['db.operation.name'])).toEqual([
      expect.anything(),
      'INSERT',
      'COMMIT',
    ]);
  });

  ctx.test(
    'telemetry: a syncSession is one span with its statements as children',
    async () => {
      const { sf, spans } = await open();
      sf.syncSession((tx) => {
        tx.run(tx.db.insertInto('account').values(ALICE));
        return tx.get(tx.db.selectFrom('account').select('id'));
      });
      const [session, ...others] = sessionSpans(spans());
      expect(others).toEqual([]);
      expect(session!.attributes).toMatchObject({
        'sessionfactory.session.outcome': 'commit',
        'sessionfactory.session.attempts': 1,
      });
      const operations = childrenOf(session!, spans()).map((span) => span.attributes['db.operation.name']);
      expect(operations.slice(1)).toEqual(['INSERT', 'SELECT', 'COMMIT']);
    },
    { skip: ctx.capabilities.sync === false ? 'capabilities.sync is false' : undefined },
  );

  ctx.test(
    'telemetry: pool metrics follow db.client.connection.* (count by state, max, pending, wait time)',
    async () => {
      const pool = ctx.shared ? { size: 2, maxOverflow: 1 } : { size: 1, maxOverflow: 0 }; // :memory: is one connection
      const { sf, capture } = await open(pool);
      let during: Map<string, number> | undefined;
      await sf.session(async (tx) => {
        await selectOne(tx);
        during = gauges(await capture.metrics());
      });
      const after = gauges(await capture.metrics());
      expect(during!.get('db.client.connection.count{used}')).toBe(1);
      expect(after.get('db.client.connection.count{used}')).toBe(0);
      expect(after.get('db.client.connection.count{idle}')).toBe(sf.stats().idle);
      expect(after.get('db.client.connection.max')).toBe(pool.size + pool.maxOverflow);
      expect(after.get('db.client.connection.idle.max')).toBe(pool.size);
      expect(after.get('db.client.connection.pending_requests')).toBe(0);
      expect(after.get('db.client.connection.timeouts')).toBe(0);
      expect(after.get('db.client.connection.wait_time.count')).toBeGreaterThanOrEqual(1);
      const names = poolNames(await capture.metrics());
      expect(names.size).toBe(1);
      expect(JSON.stringify([...names])).not.toMatch(/password|\*\*\*/);
    },
  );
}

function sessionSpans(spans: ReadableSpan[]): ReadableSpan[] {
  return spans.filter((span) => span.name === SESSION_SPAN);
}

function childrenOf(parent: ReadableSpan, spans: ReadableSpan[]): ReadableSpan[] {
  const id = parent.spanContext().spanId;
  return spans
    .filter((span) => span.parentSpanContext?.spanId === id && span.name !== SESSION_SPAN)
    .sort((a, b) => compareTime(a.startTime, b.startTime));
}

function compareTime(a: [number, number], b: [number, number]): number {
  return a[0] - b[0] || a[1] - b[1];
}

type Collected = Awaited<ReturnType<TelemetryCapture['metrics']>>;

/** Metric name (with `{state}` for connection counts) to its value; histograms give `.count`. */
function gauges(collected: Collected): Map<string, number> {
  const values = new Map<string, number>();
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]) {
        const state = point.attributes['db.client.connection.state'];
        const name = state === undefined ? metric.descriptor.name : `${metric.descriptor.name}{${String(state)}}`;
        const value = point.value;
        if (typeof value === 'number') values.set(name, value);
        else values.set(`${name}.count`, (value as { count: number }).count);
      }
    }
  }
  return values;
}

function poolNames(collected: Collected): Set<unknown> {
  const names = new Set<unknown>();
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      for (const point of metric.dataPoints) names.add(point.attributes['db.client.connection.pool.name']);
    }
  }
  return names;
}
