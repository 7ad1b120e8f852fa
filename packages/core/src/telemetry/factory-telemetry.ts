import { AsyncLocalStorage } from 'node:async_hooks';
import type {
  Attributes,
  Context,
  Histogram,
  Meter,
  ObservableCounter,
  ObservableResult,
  ObservableUpDownCounter,
  Span,
  Tracer,
} from '@opentelemetry/api';
import type { Adapter } from '../adapter/adapter.js';
import type { EventHub } from '../events/event-hub.js';
import type { QueryEvent } from '../events/event-types.js';
import type { PoolStats } from '../pool/pool-options.js';
import type { Scope } from '../session/scope.js';
import type { SessionOptions } from '../session/session-options.js';
import { planPropagation, resolveIsolation } from '../session/transaction-rules.js';
import { type DbTarget, dbTarget, operationName } from './db-target.js';
import type { OtelApi } from './load-otel-api.js';

/** The instrumentation scope name of every tracer and meter sessionfactory asks for. */
export const INSTRUMENTATION_NAME = '@sessionfactory/core';

/** `SpanKind` and `SpanStatusCode` values (stable numbers of the API). */
const SPAN_KIND_INTERNAL = 0;
const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;

/** What a factory was configured with, resolved: at least one of tracer and meter is set. */
export interface TelemetrySetup {
  readonly api: OtelApi;
  readonly tracer: Tracer | undefined;
  readonly meter: Meter | undefined;
  readonly poolName: string;
}

/** The factory internals telemetry reads. */
export interface TelemetrySources {
  readonly adapter: Adapter;
  readonly hub: EventHub;
  /** The ambient transactional scope of this factory (decides whether a session starts a transaction). */
  readonly ambientScope: () => Scope | undefined;
  /** The same for sync sessions (they keep their own stack). */
  readonly syncAmbientScope: () => Scope | undefined;
  /** What `engine.ambient` holds right now: tells a session's own transactions from those its function opens. */
  readonly ambientStore: () => unknown;
  readonly stats: () => PoolStats;
  readonly poolSize: { readonly size: number; readonly maxOverflow: number };
  readonly sessionDefaults: Pick<SessionOptions, 'isolation' | 'readOnly'>;
}

/** One traced session (`sf.session` that starts a transaction, or `sf.begin`). */
interface TracedSession {
  readonly span: Span;
  readonly context: Context;
  /** `engine.ambient`'s store where the session was called: its own transactions are opened under it. */
  readonly outerStore: unknown;
  /** Session ids of its transactions (one per attempt, plus replaced dead connections). */
  readonly ids: string[];
  attempts: number;
  outcome: 'commit' | 'rollback' | undefined;
  /** The session id of the last transaction that ended (the one `sf.current()` named last). */
  lastId: string | undefined;
  /** `sf.begin()`: ends at its commit or rollback event, not when a function returns. */
  readonly managed: boolean;
  ended: boolean;
}

/**
 * A factory's OpenTelemetry instrumentation: a span per session that starts a transaction
 * (attempts, outcome, isolation...), a CLIENT span per statement as its child, and the
 * `db.client.connection.*` pool metrics. It only exists when a tracer or meter is configured
 * or globally registered: without one the factory holds none and pays nothing.
 *
 * Statement spans are built from `query` events when a statement ends (start time back-dated
 * by its duration), so the statement path needs no hook of its own. A session's span is found
 * through its own AsyncLocalStorage (work run inside `sf.session`), or by session id
 * (statements of an `sf.begin()` session, run from anywhere).
 */
export class FactoryTelemetry {
  readonly #api: OtelApi;
  readonly #tracer: Tracer | undefined;
  readonly #sources: TelemetrySources;
  readonly #target: DbTarget;
  readonly #traced = new AsyncLocalStorage<TracedSession>();
  readonly #byId = new Map<string, TracedSession>();
  readonly #waitTime: Histogram | undefined;
  readonly #waitAttributes: Attributes;
  readonly #unobserve: (() => void) | undefined;

  constructor(setup: TelemetrySetup, sources: TelemetrySources) {
    this.#api = setup.api;
    this.#tracer = setup.tracer;
    this.#sources = sources;
    this.#target = dbTarget(sources.adapter);
    if (setup.tracer !== undefined) {
      sources.hub.on('query', (event) => this.#statement(event));
      sources.hub.on('commit', ({ sessionId }) => this.#ended(sessionId, 'commit'));
      sources.hub.on('rollback', ({ sessionId }) => this.#ended(sessionId, 'rollback'));
    }
    const pool = { 'db.client.connection.pool.name': setup.poolName };
    this.#waitAttributes = pool;
    if (setup.meter !== undefined) {
      this.#waitTime = setup.meter.createHistogram('db.client.connection.wait_time', {
        description: 'The time it took to obtain an open connection from the pool.',
        unit: 's',
      });
      this.#unobserve = observePool(setup.meter, pool, sources);
    }
  }

  /** Whether pool wait times are measured (the pool times `acquire` only then). */
  get measuresWaits(): boolean {
    return this.#waitTime !== undefined;
  }

  /** Records one successful `acquire`'s wait. */
  recordWait(waitedMs: number): void {
    this.#waitTime?.record(waitedMs / 1000, this.#waitAttributes);
  }

  /**
   * Runs `sf.session`: traced when it starts a transaction (propagation and the ambient session
   * decide), else run as is (a joined scope belongs to the span of the session it joins).
   */
  session<T>(options: SessionOptions | undefined, run: () => Promise<T>): Promise<T> {
    if (this.#tracer === undefined || !this.#startsTransaction(options, this.#sources.ambientScope())) return run();
    const traced = this.#start(options, false);
    let work: Promise<T>;
    try {
      work = this.#traced.run(traced, () => this.#api.context.with(traced.context, run));
    } catch (error) {
      this.#finish(traced, error);
      throw error;
    }
    return work.then(
      (value) => {
        this.#finish(traced, undefined);
        return value;
      },
      (error: unknown) => {
        this.#finish(traced, error);
        throw error;
      },
    );
  }

  /** Runs `sf.syncSession` (synchronously): traced like `session` when it starts a transaction. */
  syncSession<T>(options: SessionOptions | undefined, run: () => T): T {
    if (this.#tracer === undefined || !this.#startsTransaction(options, this.#sources.syncAmbientScope())) return run();
    const traced = this.#start(options, false);
    let value: T;
    try {
      value = this.#traced.run(traced, () => this.#api.context.with(traced.context, run));
    } catch (error) {
      this.#finish(traced, error);
      throw error;
    }
    this.#finish(traced, undefined);
    return value;
  }

  /** Runs `sf.begin`: its span lasts until the session's commit or rollback. */
  begin<T>(options: SessionOptions | undefined, run: () => Promise<T>): Promise<T> {
    if (this.#tracer === undefined) return run();
    const traced = this.#start({ ...options, propagation: 'requiresNew' }, true);
    const work = this.#traced.run(traced, () => this.#api.context.with(traced.context, run));
    return work.catch((error: unknown) => {
      this.#finish(traced, error);
      throw error;
    });
  }

  /**
   * Called for every session id the factory hands out: a traced session that is opening its
   * own transaction (not one its function opens) claims the id.
   */
  sessionIdIssued(id: string): void {
    const traced = this.#traced.getStore();
    if (traced === undefined || traced.ended || this.#sources.ambientStore() !== traced.outerStore) return;
    traced.ids.push(id);
    this.#byId.set(id, traced);
  }

  /** Stops observing the pool (the factory closed). */
  close(): void {
    this.#unobserve?.();
  }

  #startsTransaction(options: SessionOptions | undefined, joined: Scope | undefined): boolean {
    try {
      const plan = planPropagation(options?.propagation, joined, options ?? {}, this.#sources.adapter.capabilities);
      return plan === 'new';
    } catch {
      return false; // the session itself reports the propagation error
    }
  }

  #start(options: SessionOptions | undefined, managed: boolean): TracedSession {
    const defaults = this.#sources.sessionDefaults;
    const requested = options?.isolation ?? defaults.isolation;
    let isolation: string | undefined;
    try {
      isolation = resolveIsolation(this.#sources.adapter.capabilities, requested);
    } catch {
      isolation = requested; // refused when the session begins; the span names what was asked
    }
    const attributes: Attributes = {
      ...this.#target,
      'sessionfactory.session.propagation': options?.propagation ?? 'required',
      'sessionfactory.session.read_only': (options?.readOnly ?? defaults.readOnly) === true,
      'sessionfactory.session.isolation': isolation ?? 'default',
    };
    const parent = this.#parentOfSession();
    const span = this.#tracer!.startSpan('sessionfactory.session', { kind: SPAN_KIND_INTERNAL, attributes }, parent);
    return {
      span,
      context: this.#api.trace.setSpan(parent, span),
      outerStore: this.#sources.ambientStore(),
      ids: [],
      attempts: 0,
      outcome: undefined,
      lastId: undefined,
      managed,
      ended: false,
    };
  }

  /**
   * The active context when it holds a span (the application's, or a session's with a context
   * manager registered); else the traced session this one runs in, found without one.
   */
  #parentOfSession(): Context {
    const active = this.#api.context.active();
    if (this.#api.trace.getSpan(active) !== undefined) return active;
    const outer = this.#traced.getStore();
    return outer === undefined || outer.ended ? active : outer.context;
  }

  /** A transaction of a traced session committed or rolled back (one attempt ended). */
  #ended(sessionId: string, outcome: 'commit' | 'rollback'): void {
    const traced = this.#byId.get(sessionId);
    if (traced === undefined) return;
    traced.attempts += 1;
    traced.outcome = outcome;
    traced.lastId = sessionId;
    if (traced.managed) this.#finish(traced, undefined);
  }

  #finish(traced: TracedSession, error: unknown): void {
    if (traced.ended) return;
    traced.ended = true;
    for (const id of traced.ids) this.#byId.delete(id);
    const { span } = traced;
    const outcome =
      error !== undefined && (error as { commitOutcomeUnknown?: boolean }).commitOutcomeUnknown === true
        ? 'unknown'
        : (traced.outcome ?? (error === undefined ? 'commit' : 'rollback'));
    span.setAttributes({
      'sessionfactory.session.attempts': traced.attempts,
      'sessionfactory.session.outcome': outcome,
      ...(traced.lastId === undefined ? {} : { 'sessionfactory.session.id': traced.lastId }),
    });
    if (error !== undefined) {
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: STATUS_ERROR });
    }
    span.end();
  }

  /** A CLIENT span for a statement that just ended, child of its session's span when it has one. */
  #statement(event: QueryEvent): void {
    const traced =
      (event.sessionId === undefined ? undefined : this.#byId.get(event.sessionId)) ?? this.#traced.getStore();
    const parent =
      traced === undefined || traced.ended
        ? this.#api.context.active()
        : this.#api.trace.setSpan(this.#api.context.active(), traced.span);
    const end = performance.timeOrigin + performance.now();
    const operation = operationName(event.sql);
    const attributes: Attributes = {
      ...this.#target,
      'db.query.text': event.sql,
      ...(operation === undefined ? {} : { 'db.operation.name': operation }),
    };
    const { error } = event;
    if (error !== undefined) {
      attributes['error.type'] = errorType(error);
      if (error.originalCode !== undefined) attributes['db.response.status_code'] = String(error.originalCode);
    }
    const span = this.#tracer!.startSpan(
      spanName(operation, this.#target),
      { kind: SPAN_KIND_CLIENT, attributes, startTime: end - event.durationMs },
      parent,
    );
    if (error !== undefined) span.setStatus({ code: STATUS_ERROR });
    span.end(end);
  }
}

/**
 * The span name the database conventions ask for: `{db.operation.name} {target}`, with the
 * database as the target (no query parsing for tables), falling back to `db.system.name`.
 */
function spanName(operation: string | undefined, target: DbTarget): string {
  const where = target['db.namespace'];
  if (operation !== undefined) return where === undefined ? operation : `${operation} ${where}`;
  return where ?? target['db.system.name'];
}

/** `error.type`: the error's class name (`UniqueViolationError`, `PoolTimeoutError`), low-cardinality. */
function errorType(error: unknown): string {
  if (error instanceof Error) return error.name;
  return '_OTHER';
}

/**
 * Registers the `db.client.connection.*` gauges, read from `stats()` only when a reader
 * collects; returns what unregisters them.
 */
function observePool(meter: Meter, pool: Attributes, sources: TelemetrySources): () => void {
  const count = meter.createObservableUpDownCounter('db.client.connection.count', {
    description: 'The number of connections that are currently in the state described by the state attribute.',
    unit: '{connection}',
  });
  const idleMax = meter.createObservableUpDownCounter('db.client.connection.idle.max', {
    description: 'The maximum number of idle open connections allowed.',
    unit: '{connection}',
  });
  const max = meter.createObservableUpDownCounter('db.client.connection.max', {
    description: 'The maximum number of open connections allowed.',
    unit: '{connection}',
  });
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', {
    description: 'The number of current pending requests for an open connection.',
    unit: '{request}',
  });
  const timeouts: ObservableCounter = meter.createObservableCounter('db.client.connection.timeouts', {
    description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
    unit: '{timeout}',
  });
  const { size, maxOverflow } = sources.poolSize;
  const observers: [ObservableUpDownCounter | ObservableCounter, (result: ObservableResult) => void][] = [
    [
      count,
      (result) => {
        const stats = sources.stats();
        result.observe(stats.idle, { ...pool, 'db.client.connection.state': 'idle' });
        result.observe(stats.inUse, { ...pool, 'db.client.connection.state': 'used' });
      },
    ],
    [idleMax, (result) => result.observe(size, pool)],
    [max, (result) => result.observe(size + maxOverflow, pool)],
    [pending, (result) => result.observe(sources.stats().waiting, pool)],
    [timeouts, (result) => result.observe(sources.stats().timeouts, pool)],
  ];
  for (const [instrument, callback] of observers) instrument.addCallback(callback);
  return () => {
    for (const [instrument, callback] of observers) instrument.removeCallback(callback);
  };
}
