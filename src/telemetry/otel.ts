import type * as OtelApi from '@opentelemetry/api';

/**
 * The part of an OpenTelemetry `MeterProvider` switchyard uses (`@opentelemetry/api`'s type is
 * assignable to it). Declared here so switchyard's public types do not require `@opentelemetry/api`.
 */
export interface MeterProviderLike {
  getMeter(name: string, version?: string, options?: object): unknown;
}

/** The part of an OpenTelemetry `TracerProvider` switchyard uses (see {@link MeterProviderLike}). */
export interface TracerProviderLike {
  getTracer(name: string, version?: string, options?: object): unknown;
}

/** The `@opentelemetry/api` module. Internal. */
export type Otel = typeof OtelApi;

let loaded: Otel | null | undefined;

/**
 * `@opentelemetry/api`, loaded on first use (an optional peer dependency), or `undefined` when it is
 * not installed. Synchronous on purpose: a channel decides at creation whether it records anything.
 * Nothing calls this unless a channel is created, and a failed load is remembered.
 */
export function loadOtel(): Otel | undefined {
  if (loaded === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      loaded = require('@opentelemetry/api') as Otel;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** The providers a channel records to; either may be absent (then that signal costs nothing). */
export interface TelemetryProviders {
  readonly otel: Otel;
  readonly meterProvider: OtelApi.MeterProvider | undefined;
  readonly tracerProvider: OtelApi.TracerProvider | undefined;
}

/**
 * The providers for a channel: the `meterProvider` / `tracerProvider` options, or OpenTelemetry's
 * global ones. A global provider that is still OpenTelemetry's no-op (no SDK registered when the
 * channel is created) counts as absent, so an application that has `@opentelemetry/api` installed
 * but does not use it pays nothing per call. `false` turns a signal off.
 * @returns `undefined` when nothing would be recorded (or `@opentelemetry/api` is not installed).
 */
export function resolveProviders(
  meterOption: MeterProviderLike | false | undefined,
  tracerOption: TracerProviderLike | false | undefined,
): TelemetryProviders | undefined {
  if (meterOption === false && tracerOption === false) return undefined;
  const otel = loadOtel();
  if (otel === undefined) return undefined;
  let meterProvider: OtelApi.MeterProvider | undefined;
  if (meterOption !== false) {
    meterProvider = (meterOption as OtelApi.MeterProvider | undefined) ?? otel.metrics.getMeterProvider();
    // Compared by name: the application may hold another copy of the API module than ours.
    if (meterOption === undefined && meterProvider.constructor.name === 'NoopMeterProvider') meterProvider = undefined;
  }
  let tracerProvider: OtelApi.TracerProvider | undefined;
  if (tracerOption !== false) {
    tracerProvider = tracerOption as OtelApi.TracerProvider | undefined;
    if (tracerProvider === undefined) {
      const global = otel.trace.getTracerProvider() as OtelApi.TracerProvider & { getDelegate?: () => object };
      const delegate = global.getDelegate?.() ?? global;
      if (delegate.constructor.name !== 'NoopTracerProvider') tracerProvider = global;
    }
  }
  if (meterProvider === undefined && tracerProvider === undefined) return undefined;
  return { otel, meterProvider, tracerProvider };
}
