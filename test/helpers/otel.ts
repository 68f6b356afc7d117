/**
 * A real OpenTelemetry SDK for tests: a `MeterProvider` read through an in-memory pull reader and a
 * `BasicTracerProvider` exporting to an `InMemorySpanExporter`.
 */
import type { Attributes, Context, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type DataPoint, type Histogram, type MetricData } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';

/** Collects on demand (no timer): `collect()` returns what was recorded so far. */
class PullReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

/** One metric as collected: its descriptor and data points. */
export interface Collected {
  readonly unit: string;
  readonly points: readonly DataPoint<number | Histogram>[];
}

/** A meter provider and a tracer provider recording in memory. */
export interface TestOtel {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: BasicTracerProvider;
  readonly spans: InMemorySpanExporter;
  /** Every metric recorded so far, by instrument name. */
  metrics(): Promise<Map<string, Collected>>;
  shutdown(): Promise<void>;
}

export function createTestOtel(): TestOtel {
  const reader = new PullReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  return {
    meterProvider,
    tracerProvider,
    spans,
    async metrics() {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, Collected>();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics as MetricData[]) {
          out.set(metric.descriptor.name, { unit: metric.descriptor.unit, points: metric.dataPoints as DataPoint<number | Histogram>[] });
        }
      }
      return out;
    },
    async shutdown() {
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The point of `metric` whose attributes include `match`, or undefined. */
export function pointWith(metric: Collected | undefined, match: Attributes): DataPoint<number | Histogram> | undefined {
  return metric?.points.find((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}

/** Sum of a counter's points whose attributes include `match` (0 when none). */
export function counterSum(metric: Collected | undefined, match: Attributes = {}): number {
  return (metric?.points ?? [])
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + (p.value as number), 0);
}

/** Count and sum of a histogram's point matching `match`. */
export function histogram(metric: Collected | undefined, match: Attributes = {}): { count: number; sum: number } {
  const point = pointWith(metric, match);
  const value = point?.value as Histogram | undefined;
  return { count: value?.count ?? 0, sum: value?.sum ?? 0 };
}

/**
 * A propagator that writes the span it is given as `x-test-span: <traceId>-<spanId>`: the echo server
 * echoes `x-` headers back, so a test sees which span context reached the server.
 */
export const testPropagator: TextMapPropagator = {
  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(context);
    if (span !== undefined) setter.set(carrier, 'x-test-span', `${span.traceId}-${span.spanId}`);
  },
  extract: (context: Context) => context,
  fields: () => ['x-test-span'],
};
