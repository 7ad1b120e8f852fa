import type { MeterProvider as MeterProviderApi, TracerProvider } from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans and metrics one factory produced, captured by the OpenTelemetry SDK's in-memory pieces. */
export interface TelemetryCapture {
  readonly tracerProvider: TracerProvider;
  readonly meterProvider: MeterProviderApi;
  /** Spans ended so far, in the order they ended. */
  spans(): ReadableSpan[];
  /** Collects every metric now (observable gauges are read at this moment). */
  metrics(): Promise<ResourceMetrics>;
  shutdown(): Promise<void>;
}

/**
 * A tracer provider exporting to an `InMemorySpanExporter` (synchronously, through a
 * `SimpleSpanProcessor`) and a meter provider with a reader collected on demand. The SDK
 * packages are optional peers of this suite, loaded here: a run without them fails loudly.
 *
 * @example
 * ```ts
 * const capture = await captureTelemetry();
 * const sf = await ctx.open({ telemetry: capture });
 * ```
 */
export async function captureTelemetry(): Promise<TelemetryCapture> {
  const [traceSdk, metricsSdk] = await Promise.all([
    importSdk<typeof import('@opentelemetry/sdk-trace-base')>('@opentelemetry/sdk-trace-base'),
    importSdk<typeof import('@opentelemetry/sdk-metrics')>('@opentelemetry/sdk-metrics'),
  ]);
  const exporter = new traceSdk.InMemorySpanExporter();
  const tracerProvider = new traceSdk.BasicTracerProvider({
    spanProcessors: [new traceSdk.SimpleSpanProcessor(exporter)],
  });
  class OnDemandReader extends metricsSdk.MetricReader {
    protected override async onForceFlush(): Promise<void> {}
    protected override async onShutdown(): Promise<void> {}
  }
  const reader = new OnDemandReader();
  const meterProvider = new metricsSdk.MeterProvider({ readers: [reader] });
  return {
    tracerProvider,
    meterProvider,
    spans: () => exporter.getFinishedSpans(),
    metrics: async () => (await reader.collect()).resourceMetrics,
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

async function importSdk<M>(name: string): Promise<M> {
  try {
    return (await import(name)) as M;
  } catch (error) {
    throw new Error(
      `The telemetry cases need ${name} (an optional peer dependency of @sessionfactory/conformance): add it to the adapter's devDependencies.`,
      { cause: error },
    );
  }
}
