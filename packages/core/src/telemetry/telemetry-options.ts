/**
 * What sessionfactory needs of an OpenTelemetry `TracerProvider` (structural, so the types do
 * not require `@opentelemetry/api` to be installed).
 */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/** What sessionfactory needs of an OpenTelemetry `MeterProvider`. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}

/**
 * OpenTelemetry tracing and metrics (`@opentelemetry/api` must be installed; it is an optional
 * peer dependency). Left out, the factory uses the providers registered globally when it is
 * created (e.g. by `NodeSDK.start()`), and does nothing at all when none is registered.
 *
 * @example
 * ```ts
 * const sf = createSessionFactory(adapter, {
 *   telemetry: { tracerProvider: myTracerProvider, meterProvider: myMeterProvider, poolName: 'orders' },
 * })
 * ```
 */
export interface TelemetryOptions {
  /** Spans go here; default: the global tracer provider, if one is registered. */
  readonly tracerProvider?: TracerProviderLike;
  /** Pool metrics go here; default: the global meter provider, if one is registered. */
  readonly meterProvider?: MeterProviderLike;
  /** `db.client.connection.pool.name`; default `server.address:server.port/db.namespace` (SQLite: the file). */
  readonly poolName?: string;
}
