/**
 * When a channel records anything per call: with a provider given, or a global one that is not
 * OpenTelemetry's no-op; never with both signals `false`. Without a call observer the call engine
 * allocates nothing for telemetry (see bench/scenarios/overhead.ts for the measured cost).
 */
import * as grpc from '@grpc/grpc-js';
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { InternalChannel } from '../../../src/channel/internal-channel';
import { resolveProviders } from '../../../src/telemetry/otel';

const channels: InternalChannel[] = [];
function observerOf(options: ConstructorParameters<typeof InternalChannel>[2]): unknown {
  const channel = new InternalChannel('ipv4:127.0.0.1:1', grpc.credentials.createInsecure(), options);
  channels.push(channel);
  return channel.callObserver;
}

afterEach(() => {
  for (const channel of channels.splice(0)) channel.close();
  metrics.disable();
  trace.disable();
});

describe('telemetry providers', () => {
  it('records nothing per call while the global providers are no-ops', () => {
    // Breaking the no-op check gives every channel a call observer.
    expect(resolveProviders(undefined, undefined)).toBeUndefined();
    expect(observerOf({})).toBeUndefined();
  });

  it('records with a provider given as an option, or a global one registered before the channel', () => {
    expect(observerOf({ meterProvider: new MeterProvider() })).toBeDefined();
    expect(observerOf({ tracerProvider: new BasicTracerProvider() })).toBeDefined();
    metrics.setGlobalMeterProvider(new MeterProvider());
    expect(resolveProviders(undefined, false)?.meterProvider).toBeDefined();
    expect(observerOf({})).toBeDefined();
    metrics.disable();
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    expect(resolveProviders(false, undefined)?.tracerProvider).toBeDefined();
  });

  it('records nothing with both signals false, even with global providers', () => {
    metrics.setGlobalMeterProvider(new MeterProvider());
    expect(observerOf({ meterProvider: false, tracerProvider: false })).toBeUndefined();
  });

  it('rejects a provider option that is not one', () => {
    expect(() => observerOf({ meterProvider: {} as never })).toThrow('options.meterProvider: must be an OpenTelemetry provider');
  });
});
