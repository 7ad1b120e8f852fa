import type { Adapter } from '../adapter/adapter.js';
import { ISOLATION_LEVELS } from '../adapter/adapter.js';
import { ConfigurationError } from '../errors/error-classes.js';
import { formatQueryEvent } from '../events/echo.js';
import type { QueryEvent } from '../events/event-types.js';
import type { ResolvedPoolOptions } from '../pool/pool.js';
import { resolveRetryPolicy } from '../session/retry-policy.js';
import type { FactoryOptions } from './factory-options.js';

/** Factory options after defaults and validation. */
export interface ResolvedFactoryOptions {
  readonly pool: ResolvedPoolOptions;
  readonly echo: ((event: QueryEvent) => void) | undefined;
  readonly logParameters: boolean;
  readonly session: NonNullable<FactoryOptions['session']>;
  readonly sync: { readonly poolSize: number; readonly callTimeoutMs: number };
}

const KNOWN_OPTIONS = ['pool', 'echo', 'logParameters', 'session', 'sync'];
const KNOWN_SESSION_OPTIONS = ['isolation', 'readOnly', 'timeoutMs', 'retry'];
const KNOWN_SYNC_OPTIONS = ['poolSize', 'callTimeoutMs'];
const KNOWN_POOL_OPTIONS = ['size', 'maxOverflow', 'timeoutMs', 'recycleMs', 'prePing', 'lifo', 'idleTimeoutMs'];

/**
 * Applies defaults (adapter defaults first: SQLite keeps one connection) and rejects every
 * bad option with a `ConfigurationError` that names the option, the value and what is allowed.
 *
 * @example
 * ```ts
 * resolveFactoryOptions(adapter, { pool: { size: 2 } }).pool.maxOverflow // 10
 * ```
 */
export function resolveFactoryOptions(adapter: Adapter, options: FactoryOptions = {}): ResolvedFactoryOptions {
  rejectUnknown('', options, KNOWN_OPTIONS);
  const pool = options.pool ?? {};
  rejectUnknown('pool.', pool, KNOWN_POOL_OPTIONS);
  const resolvedPool: ResolvedPoolOptions = {
    size: pool.size ?? adapter.poolDefaults?.size ?? 5,
    maxOverflow: pool.maxOverflow ?? adapter.poolDefaults?.maxOverflow ?? 10,
    timeoutMs: pool.timeoutMs ?? 30_000,
    recycleMs: pool.recycleMs,
    prePing: pool.prePing ?? true,
    lifo: pool.lifo ?? false,
    idleTimeoutMs: pool.idleTimeoutMs,
    maxWriters: adapter.maxWriters,
  };
  for (const key of ['prePing', 'lifo'] as const) requireBoolean(`pool.${key}`, resolvedPool[key]);
  const limit = adapter.maxConnections;
  if (limit !== undefined && resolvedPool.size + resolvedPool.maxOverflow > limit) {
    throw new ConfigurationError(
      `pool.size + pool.maxOverflow is ${resolvedPool.size + resolvedPool.maxOverflow}, but ${adapter.description} allows at most ${limit} connection(s): set pool.size to ${limit} and pool.maxOverflow to 0.`,
    );
  }
  const session = options.session ?? {};
  rejectUnknown('session.', session, KNOWN_SESSION_OPTIONS);
  rejectUnknown('sync.', options.sync ?? {}, KNOWN_SYNC_OPTIONS);
  checkSessionDefaults(session);
  requireBoolean('logParameters', options.logParameters ?? false);
  const poolSize = options.sync?.poolSize ?? 1;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new ConfigurationError(`Invalid sync.poolSize: ${JSON.stringify(poolSize)}. Use a whole number >= 1.`);
  }
  const callTimeoutMs = options.sync?.callTimeoutMs ?? session.timeoutMs ?? 30_000;
  requireDuration('sync.callTimeoutMs', callTimeoutMs);
  return {
    pool: resolvedPool,
    echo: resolveEcho(options.echo),
    logParameters: options.logParameters ?? false,
    session,
    sync: { poolSize, callTimeoutMs },
  };
}

function resolveEcho(echo: FactoryOptions['echo']): ((event: QueryEvent) => void) | undefined {
  if (echo === undefined || echo === false) return undefined;
  if (echo === true) return (event) => process.stderr.write(`${formatQueryEvent(event)}\n`);
  if (typeof echo === 'function') return echo;
  throw new ConfigurationError(
    `Invalid echo: ${JSON.stringify(echo)}. Use true, false, or a function (event) => void.`,
  );
}

function checkSessionDefaults(session: NonNullable<FactoryOptions['session']>): void {
  if (session.isolation !== undefined && !ISOLATION_LEVELS.includes(session.isolation)) {
    throw new ConfigurationError(
      `Invalid session.isolation: ${JSON.stringify(session.isolation)}. Use one of: ${ISOLATION_LEVELS.join(', ')}.`,
    );
  }
  if (session.readOnly !== undefined) requireBoolean('session.readOnly', session.readOnly);
  if (session.timeoutMs !== undefined) requireDuration('session.timeoutMs', session.timeoutMs);
  resolveRetryPolicy(session.retry);
}

/**
 * Validates a session's own options (the same rules as factory defaults).
 *
 * @example
 * ```ts
 * checkSessionOptions({ isolation: 'serializable', timeoutMs: 5000 })
 * ```
 */
export function checkSessionOptions(options: NonNullable<FactoryOptions['session']>): void {
  checkSessionDefaults(options);
}

function rejectUnknown(prefix: string, value: object, known: readonly string[]): void {
  if (typeof value !== 'object' || value === null) {
    throw new ConfigurationError(`Invalid ${prefix || 'options'}: expected an object, got ${JSON.stringify(value)}.`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigurationError(
        `Unknown option ${prefix}${key}. Known options: ${known.map((k) => prefix + k).join(', ')}.`,
      );
    }
  }
}

function requireBoolean(name: string, value: unknown): void {
  if (typeof value !== 'boolean')
    throw new ConfigurationError(`Invalid ${name}: ${JSON.stringify(value)}. Use true or false.`);
}

function requireDuration(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigurationError(
      `Invalid ${name}: ${JSON.stringify(value)}. Use a finite number of milliseconds >= 0.`,
    );
  }
}
