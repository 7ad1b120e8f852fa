import type { Adapter } from '../adapter/adapter.js';
import { ISOLATION_LEVELS } from '../adapter/adapter.js';
import { isPlainObject } from '../adapter/config-checks.js';
import { ConfigurationError } from '../errors/error-classes.js';
import { formatQueryEvent } from '../events/echo.js';
import type { QueryEvent } from '../events/event-types.js';
import type { ResolvedPoolOptions } from '../pool/pool.js';
import type { TelemetrySetup } from '../telemetry/factory-telemetry.js';
import { resolveTelemetry } from '../telemetry/resolve-telemetry.js';
import { isTimerDuration, TIMER_DURATION_RULE } from '../util/timer-duration.js';
import type { FactoryOptions } from './factory-options.js';

/** Factory options after defaults and validation. */
export interface ResolvedFactoryOptions {
  readonly pool: ResolvedPoolOptions;
  readonly echo: ((event: QueryEvent) => void) | undefined;
  readonly logParameters: boolean;
  readonly session: NonNullable<FactoryOptions['session']>;
  readonly sync: { readonly poolSize: number; readonly callTimeoutMs: number };
  /** Empty without replicas. */
  readonly replicas: readonly (string | Adapter)[];
  readonly replicaWaitMs: number;
  readonly maxReplicaLagMs: number;
  /** Undefined: not instrumented (no tracer or meter configured or registered). */
  readonly telemetry: TelemetrySetup | undefined;
}

const KNOWN_OPTIONS = [
  'pool',
  'echo',
  'logParameters',
  'session',
  'sync',
  'replicas',
  'replicaWaitMs',
  'maxReplicaLagMs',
  'telemetry',
];
const KNOWN_SESSION_DEFAULTS = ['isolation', 'readOnly', 'timeoutMs', 'retry'];
const KNOWN_RETRY_OPTIONS = ['attempts', 'baseDelayMs', 'maxDelayMs'];
const KNOWN_SYNC_OPTIONS = ['poolSize', 'callTimeoutMs'];
const KNOWN_POOL_OPTIONS = [
  'size',
  'maxOverflow',
  'timeoutMs',
  'recycleMs',
  'prePing',
  'lifo',
  'idleTimeoutMs',
  'leakDetectionMs',
];

/** The session options each entry point takes (the others are refused, not ignored). */
const SESSION_ENTRY_POINTS = {
  session: {
    call: 'sf.session(fn, options)',
    keys: ['isolation', 'readOnly', 'timeoutMs', 'signal', 'retry', 'propagation', 'after'],
  },
  begin: {
    call: 'sf.begin(options)',
    keys: ['isolation', 'readOnly', 'timeoutMs', 'signal', 'propagation', 'after'],
  },
  syncSession: { call: 'sf.syncSession(fn, options)', keys: ['isolation', 'readOnly', 'timeoutMs', 'propagation'] },
} as const;

/** Which call a set of session options was given to: decides the keys it may hold. */
export type SessionEntryPoint = keyof typeof SESSION_ENTRY_POINTS;

/**
 * Applies defaults (adapter defaults first: SQLite keeps one connection) and rejects every
 * bad option with a `ConfigurationError` that names the option, the value and what is allowed:
 * unknown keys (a typo such as `timeOutMs`), `null` where a value is expected, durations that
 * are negative, not finite or above 2^31−1 ms (which timers would shorten to 1 ms).
 *
 * @example
 * ```ts
 * resolveFactoryOptions(adapter, { pool: { size: 2 } }).pool.maxOverflow // 10
 * resolveFactoryOptions(adapter, { pool: { timeOutMs: 5 } })             // throws: Unknown option pool.timeOutMs ...
 * ```
 */
export function resolveFactoryOptions(adapter: Adapter, options: FactoryOptions = {}): ResolvedFactoryOptions {
  requireObject('options', options);
  rejectUnknown('', options, KNOWN_OPTIONS);
  const pool = optionalObject('pool', options.pool);
  rejectUnknown('pool.', pool, KNOWN_POOL_OPTIONS);
  for (const key of KNOWN_POOL_OPTIONS) rejectNull(`pool.${key}`, pool[key]);
  const typedPool = pool as NonNullable<FactoryOptions['pool']>;
  const resolvedPool: ResolvedPoolOptions = {
    size: typedPool.size ?? adapter.poolDefaults?.size ?? 5,
    maxOverflow: typedPool.maxOverflow ?? adapter.poolDefaults?.maxOverflow ?? 10,
    timeoutMs: typedPool.timeoutMs ?? 30_000,
    recycleMs: typedPool.recycleMs,
    prePing: typedPool.prePing ?? true,
    lifo: typedPool.lifo ?? false,
    idleTimeoutMs: typedPool.idleTimeoutMs,
    leakDetectionMs: typedPool.leakDetectionMs,
    maxWriters: adapter.maxWriters,
  };
  for (const key of ['prePing', 'lifo'] as const) requireBoolean(`pool.${key}`, resolvedPool[key]);
  const limit = adapter.maxConnections;
  if (limit !== undefined && resolvedPool.size + resolvedPool.maxOverflow > limit) {
    throw new ConfigurationError(
      `pool.size + pool.maxOverflow is ${resolvedPool.size + resolvedPool.maxOverflow}, but ${adapter.description} allows at most ${limit} connection(s): set pool.size to ${limit} and pool.maxOverflow to 0.`,
    );
  }
  const session = optionalObject('session', options.session);
  rejectUnknown('session.', session, KNOWN_SESSION_DEFAULTS);
  checkSessionFields('session.', session);
  const sync = optionalObject('sync', options.sync);
  rejectUnknown('sync.', sync, KNOWN_SYNC_OPTIONS);
  rejectNull('logParameters', options.logParameters);
  requireBoolean('logParameters', options.logParameters ?? false);
  rejectNull('sync.poolSize', sync.poolSize);
  const poolSize = sync.poolSize ?? 1;
  if (typeof poolSize !== 'number' || !Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigurationError(`Invalid sync.poolSize: ${show(poolSize)}. Use a whole number >= 1.`);
  }
  rejectNull('sync.callTimeoutMs', sync.callTimeoutMs);
  const callTimeoutMs = sync.callTimeoutMs ?? session.timeoutMs ?? 30_000;
  requireDuration('sync.callTimeoutMs', callTimeoutMs);
  const replicas = resolveReplicas(options.replicas);
  for (const key of ['replicaWaitMs', 'maxReplicaLagMs'] as const) {
    rejectNull(key, options[key]);
    if (options[key] !== undefined) requireDuration(key, options[key]);
  }
  return {
    replicas,
    replicaWaitMs: (options.replicaWaitMs ?? 1000) as number,
    maxReplicaLagMs: (options.maxReplicaLagMs ?? 30_000) as number,
    pool: resolvedPool,
    echo: resolveEcho(options.echo),
    logParameters: (options.logParameters ?? false) as boolean,
    session: session as NonNullable<FactoryOptions['session']>,
    sync: { poolSize, callTimeoutMs: callTimeoutMs as number },
    telemetry: resolveTelemetry(adapter, options.telemetry as FactoryOptions['telemetry']),
  };
}

/**
 * Validates a session's own options before anything runs: an object (or `undefined`) with only
 * the keys `entry` takes (`sf.begin` has no `retry`; `sf.syncSession` no `signal` or `retry`), no
 * `null` values, `signal` a real `AbortSignal`, and the same rules for isolation, readOnly,
 * timeoutMs and retry as factory defaults. `propagation` values are checked by the engine.
 *
 * @example
 * ```ts
 * checkSessionOptions({ isolation: 'serializable', timeoutMs: 5000 })
 * checkSessionOptions({ timeOutMs: 5000 })       // throws: Unknown option timeOutMs in sf.session(fn, options) ...
 * checkSessionOptions({ retry: 3 }, 'begin')      // throws: sf.begin(options) takes no retry ...
 * ```
 */
export function checkSessionOptions(options: unknown, entry: SessionEntryPoint = 'session'): void {
  const { call, keys } = SESSION_ENTRY_POINTS[entry];
  if (options === undefined) return;
  if (!isPlainObject(options)) {
    throw new ConfigurationError(
      `Invalid options in ${call}: expected an object or undefined, got ${show(options)}. Leave the argument out for the defaults.`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(keys as readonly string[]).includes(key)) {
      const known = SESSION_ENTRY_POINTS.session.keys as readonly string[];
      throw new ConfigurationError(
        known.includes(key)
          ? `${call} takes no ${key} option. It takes: ${keys.join(', ')}.`
          : `Unknown option ${key} in ${call}. Known options: ${keys.join(', ')}.`,
      );
    }
  }
  rejectNull('propagation', options.propagation);
  rejectNull('after', options.after);
  if (options.after !== undefined && typeof options.after !== 'string') {
    throw new ConfigurationError(
      `Invalid after: ${show(options.after)}. Pass the string sf.consistencyToken() returned, or leave it out.`,
    );
  }
  checkSessionFields('', options);
  const { signal } = options;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw new ConfigurationError(
      `Invalid signal: ${show(signal)}. Use an AbortSignal, e.g. AbortSignal.timeout(5000) or controller.signal.`,
    );
  }
}

function checkSessionFields(prefix: string, session: Record<string, unknown>): void {
  for (const key of KNOWN_SESSION_DEFAULTS) rejectNull(prefix + key, session[key]);
  const { isolation, readOnly, timeoutMs, retry } = session;
  if (isolation !== undefined && !(ISOLATION_LEVELS as readonly unknown[]).includes(isolation)) {
    throw new ConfigurationError(
      `Invalid ${prefix}isolation: ${show(isolation)}. Use one of: ${ISOLATION_LEVELS.join(', ')}.`,
    );
  }
  if (readOnly !== undefined) requireBoolean(`${prefix}readOnly`, readOnly);
  if (timeoutMs !== undefined) requireDuration(`${prefix}timeoutMs`, timeoutMs);
  if (retry !== undefined) checkRetry(prefix, retry);
}

// The engine's retry policy trusts these checks; they run before any session starts.
function checkRetry(prefix: string, retry: unknown): void {
  if (typeof retry !== 'number' && !isPlainObject(retry)) {
    throw new ConfigurationError(
      `Invalid ${prefix}retry: ${show(retry)}. Use a number of attempts or { attempts, baseDelayMs, maxDelayMs }.`,
    );
  }
  const options = typeof retry === 'number' ? { attempts: retry } : retry;
  rejectUnknown(`${prefix}retry.`, options, KNOWN_RETRY_OPTIONS);
  const { attempts } = options;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 1) {
    throw new ConfigurationError(
      `Invalid retry attempts: ${show(attempts)}. Use a whole number >= 1 (total attempts, including the first).`,
    );
  }
  for (const key of ['baseDelayMs', 'maxDelayMs'] as const) {
    rejectNull(`${prefix}retry.${key}`, options[key]);
    if (options[key] !== undefined) requireDuration(`retry.${key}`, options[key]);
  }
}

// Entries are checked for shape here; the replica set checks each against the primary adapter.
function resolveReplicas(replicas: unknown): readonly (string | Adapter)[] {
  if (replicas === undefined) return [];
  if (!Array.isArray(replicas)) {
    throw new ConfigurationError(
      `Invalid replicas: ${show(replicas)}. Use an array of replica URLs or adapters, e.g. ['postgres://replica-1/app'].`,
    );
  }
  replicas.forEach((entry, index) => {
    const adapterLike = typeof entry === 'object' && entry !== null && typeof entry.connect === 'function';
    if (!(typeof entry === 'string' && entry.trim() !== '') && !adapterLike) {
      throw new ConfigurationError(
        `Invalid replicas[${index}]: ${show(entry)}. Use a replica URL string or an adapter such as postgres(url).`,
      );
    }
  });
  return replicas as readonly (string | Adapter)[];
}

function isAbortSignal(value: unknown): boolean {
  if (typeof AbortSignal !== 'undefined' && value instanceof AbortSignal) return true;
  // An AbortSignal from another realm (a vm context, a polyfill) still works if it behaves like one.
  const candidate = value as { aborted?: unknown; addEventListener?: unknown; removeEventListener?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.aborted === 'boolean' &&
    typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
  );
}

function resolveEcho(echo: unknown): ((event: QueryEvent) => void) | undefined {
  if (echo === undefined || echo === false) return undefined;
  if (echo === true) return (event) => process.stderr.write(`${formatQueryEvent(event)}\n`);
  if (typeof echo === 'function') return echo as (event: QueryEvent) => void;
  throw new ConfigurationError(`Invalid echo: ${show(echo)}. Use true, false, or a function (event) => void.`);
}

function requireObject(name: string, value: unknown): asserts value is Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new ConfigurationError(`Invalid ${name}: expected an object, got ${show(value)}.`);
  }
}

function optionalObject(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  requireObject(name, value);
  return value;
}

function rejectUnknown(prefix: string, value: object, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigurationError(
        `Unknown option ${prefix}${key}. Known options: ${known.map((k) => prefix + k).join(', ')}.`,
      );
    }
  }
}

function rejectNull(name: string, value: unknown): void {
  if (value === null) {
    throw new ConfigurationError(`Invalid ${name}: null. Leave the option out (or pass undefined) for its default.`);
  }
}

function requireBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean') throw new ConfigurationError(`Invalid ${name}: ${show(value)}. Use true or false.`);
}

function requireDuration(name: string, value: unknown): void {
  if (!isTimerDuration(value)) {
    throw new ConfigurationError(`Invalid ${name}: ${show(value)}. Use ${TIMER_DURATION_RULE}.`);
  }
}

// Values in messages: numbers and short strings as JSON, everything else by kind (an object may hold a password).
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * What is wrong with the options of `sf.close(options)`, or `undefined`: an object (or
 * undefined) with only `timeoutMs`, a duration of at most 2^31−1 ms (a longer one would make
 * close give up after 1 ms and cut every session off). Returned, not thrown, so `close()` can
 * reject instead of throwing.
 *
 * @example
 * ```ts
 * closeOptionsProblem({ timeoutMs: 10_000 }) // undefined
 * closeOptionsProblem({ timeoutMs: 2 ** 31 }) // ConfigurationError: Invalid close timeoutMs: 2147483648 ...
 * ```
 */
export function closeOptionsProblem(options: unknown): ConfigurationError | undefined {
  try {
    if (options === undefined) return undefined;
    requireObject('close options', options);
    rejectUnknown('close.', options, ['timeoutMs']);
    rejectNull('close timeoutMs', options.timeoutMs);
    if (options.timeoutMs !== undefined) requireDuration('close timeoutMs', options.timeoutMs);
    return undefined;
  } catch (error) {
    return error as ConfigurationError;
  }
}
