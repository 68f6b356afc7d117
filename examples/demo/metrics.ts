/**
 * `--metrics-port`: the demo channel's OpenTelemetry metrics (docs/observability.md) served for
 * Prometheus by `@opentelemetry/exporter-prometheus`, on loopback only.
 */
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/** A running metrics endpoint and the provider to give a channel as `meterProvider`. */
export interface MetricsEndpoint {
  readonly meterProvider: MeterProvider;
  /** `http://127.0.0.1:<port>/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serve metrics at `http://127.0.0.1:<port>/metrics`.
 * @throws Error (rejects) when the port cannot be bound.
 */
export async function startMetricsEndpoint(port: number): Promise<MetricsEndpoint> {
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  await exporter.startServer();
  const meterProvider = new MeterProvider({ readers: [exporter] });
  return {
    meterProvider,
    url: `http://127.0.0.1:${port}${PrometheusExporter.DEFAULT_OPTIONS.endpoint}`,
    close: () => meterProvider.shutdown(),
  };
}
