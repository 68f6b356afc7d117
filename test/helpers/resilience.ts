/**
 * Shared setup of the gRFC A6 integration suites (retry, hedging, throttling, deadline, method config):
 * a switchyard channel over in-process echo servers, with every channel event recorded.
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel, type SwitchyardChannel, type SwitchyardChannelOptions } from '../../src/index';
import type { AttemptEvent, BackoffEvent, ChannelStats, CommitEvent, ThrottledEvent } from '../../src/call/events';
import { waitFor, waitForState } from './channel-wait';
import { makeEchoClient, type EchoClient } from './echo-client';
import { ECHO_SERVICE_NAME } from './echo-server';

export const insecure = grpc.credentials.createInsecure();
export const { status: Status } = grpc;

/** Everything a channel emitted, in order. */
export interface Recorded {
  attempts: AttemptEvent[];
  backoffs: BackoffEvent[];
  commits: CommitEvent[];
  throttled: ThrottledEvent[];
}

/** A channel, an echo client on it and its recorded events. */
export interface Rig {
  channel: SwitchyardChannel;
  client: EchoClient;
  events: Recorded;
  /** Forget the events recorded so far; {@link Rig.stats} counts from here on. */
  clearEvents(): void;
  /** `channel.stats()` minus the counts at the last {@link Rig.clearEvents} (`tokens` as is). */
  stats(): ChannelStats;
  /** Connect before timing anything: resolves once the channel is READY. */
  ready(): Promise<void>;
  /** Wait until every attempt started so far has reported its `attempt` event (losers end late). */
  settled(): Promise<void>;
  close(): void;
}

/**
 * Create a switchyard channel to `addresses` (`host:port` each, an `ipv4:` target) and an echo client on it.
 * @param options switchyard options; `serviceConfig` usually from {@link echoConfig}.
 */
export function rig(addresses: readonly string[], options: SwitchyardChannelOptions): Rig {
  const target = `ipv4:${addresses.join(',')}`;
  const channel = createChannel(target, insecure, options);
  const client = makeEchoClient(target, insecure, { channelOverride: channel });
  const events: Recorded = { attempts: [], backoffs: [], commits: [], throttled: [] };
  channel.events.on('attempt', (e) => events.attempts.push(e));
  channel.events.on('backoff', (e) => events.backoffs.push(e));
  channel.events.on('commit', (e) => events.commits.push(e));
  channel.events.on('throttled', (e) => events.throttled.push(e));
  let base = channel.stats();
  const stats = (): ChannelStats => {
    const now = channel.stats();
    const out: Record<string, number | undefined> = { ...now };
    for (const [key, value] of Object.entries(base)) if (key !== 'tokens') out[key] = (now as unknown as Record<string, number>)[key]! - (value as number);
    return out as unknown as ChannelStats;
  };
  return {
    channel,
    client,
    events,
    clearEvents() {
      base = channel.stats();
      events.attempts.length = events.backoffs.length = events.commits.length = events.throttled.length = 0;
    },
    stats,
    ready: () => waitForState(channel, grpc.connectivityState.READY),
    settled: () => waitFor(() => events.attempts.length === stats().attempts, 'every attempt event'),
    close() {
      client.close();
      channel.close();
    },
  };
}

/** A service config whose one method config applies to every echo method (or to `method` only). */
export function echoConfig(methodConfig: Record<string, unknown>, extra: Record<string, unknown> = {}, method?: string): object {
  const name = method === undefined ? { service: ECHO_SERVICE_NAME } : { service: ECHO_SERVICE_NAME, method };
  return { ...extra, methodConfig: [{ name: [name], ...methodConfig }] };
}

/**
 * A retry policy (service config JSON, gRFC A6) retrying UNAVAILABLE after a short backoff: 4 attempts,
 * 10 ms ×2 up to 50 ms; fields in `overrides` win. The one builder of the test suites.
 */
export function retryPolicyJson(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    maxAttempts: 4,
    initialBackoff: '0.01s',
    maxBackoff: '0.05s',
    backoffMultiplier: 2,
    retryableStatusCodes: ['UNAVAILABLE'],
    ...overrides,
  };
}

/** The jitter source for exact backoffs: `random() = 0.5` makes A6's jitter factor exactly 1. */
export const noJitter = (): number => 0.5;

/** Milliseconds since `start` (a `Date.now()` value). */
export function since(start: number): number {
  return Date.now() - start;
}
