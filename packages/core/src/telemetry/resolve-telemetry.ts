import type { Adapter } from '../adapter/adapter.js';
import { isPlainObject } from '../adapter/config-checks.js';
import { ConfigurationError } from '../errors/error-classes.js';
import { dbTarget, defaultPoolName } from './db-target.js';
import { INSTRUMENTATION_NAME, type TelemetrySetup } from './factory-telemetry.js';
import { loadOtelApi } from './load-otel-api.js';
import type { TelemetryOptions } from './telemetry-options.js';

const KNOWN_KEYS = ['tracerProvider', 'meterProvider', 'poolName'];

/**
 * Decides, once per factory, whether it is instrumented: `false` never; left out, only when
 * `@opentelemetry/api` is installed and a real (not no-op) tracer or meter provider is
 * registered globally; an object uses its providers (each defaulting to the registered one).
 * Undefined means no telemetry at all. Throws `ConfigurationError` for a bad option, or for
 * providers given without `@opentelemetry/api` installed.
 *
 * @example
 * ```ts
 * resolveTelemetry(adapter, undefined) // undefined unless an SDK registered providers
 * ```
 */
export function resolveTelemetry(
  adapter: Adapter,
  option: TelemetryOptions | false | undefined,
): TelemetrySetup | undefined {
  if (option === false) return undefined;
  if (option !== undefined) checkTelemetryOption(option);
  const api = loadOtelApi();
  if (api === undefined) {
    if (option === undefined) return undefined;
    throw new ConfigurationError(
      'The telemetry option needs @opentelemetry/api, which is not installed. Install it next to your OpenTelemetry SDK, or leave the option out.',
    );
  }
  const tracerProvider = option?.tracerProvider ?? registered(api.trace.getTracerProvider(), 'NoopTracerProvider');
  const meterProvider = option?.meterProvider ?? registered(api.metrics.getMeterProvider(), 'NoopMeterProvider');
  if (tracerProvider === undefined && meterProvider === undefined) return undefined;
  return {
    api,
    tracer: tracerProvider?.getTracer(INSTRUMENTATION_NAME) as TelemetrySetup['tracer'],
    meter: meterProvider?.getMeter(INSTRUMENTATION_NAME) as TelemetrySetup['meter'],
    poolName: option?.poolName ?? defaultPoolName(dbTarget(adapter)),
  };
}

/**
 * The provider itself, unless it is the API's no-op one (directly, or behind the global proxy
 * with nothing registered). Compared by class name: another copy of the API has other classes.
 */
function registered<P extends object>(provider: P, noopClass: string): P | undefined {
  const delegate = (provider as { getDelegate?: () => object }).getDelegate?.() ?? provider;
  return delegate.constructor?.name === noopClass ? undefined : provider;
}

function checkTelemetryOption(option: unknown): asserts option is TelemetryOptions {
  if (!isPlainObject(option)) {
    throw new ConfigurationError(
      `Invalid telemetry option: expected false or an object { tracerProvider?, meterProvider?, poolName? }, got ${describe(option)}. Leave it out to use the globally registered OpenTelemetry providers.`,
    );
  }
  for (const key of Object.keys(option)) {
    if (!KNOWN_KEYS.includes(key)) {
      throw new ConfigurationError(`Unknown option telemetry.${key}. Known options: ${KNOWN_KEYS.join(', ')}.`);
    }
  }
  const { tracerProvider, meterProvider, poolName } = option as Record<string, unknown>;
  if (tracerProvider !== undefined && typeof (tracerProvider as { getTracer?: unknown })?.getTracer !== 'function') {
    throw new ConfigurationError(
      'telemetry.tracerProvider must be an OpenTelemetry TracerProvider (with getTracer()), e.g. a BasicTracerProvider or NodeTracerProvider.',
    );
  }
  if (meterProvider !== undefined && typeof (meterProvider as { getMeter?: unknown })?.getMeter !== 'function') {
    throw new ConfigurationError(
      'telemetry.meterProvider must be an OpenTelemetry MeterProvider (with getMeter()), e.g. a MeterProvider from @opentelemetry/sdk-metrics.',
    );
  }
  if (poolName !== undefined && (typeof poolName !== 'string' || poolName.trim() === '')) {
    throw new ConfigurationError(`telemetry.poolName must be a non-empty string, got ${describe(poolName)}.`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object of another kind';
  return `${typeof value} ${String(value)}`;
}
