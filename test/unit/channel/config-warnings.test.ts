/**
 * Configuration that silently changes nothing is reported (issue 9): a service config field switchyard
 * ignores becomes a `warning` event with its JSON path; with `strict: true` it is rejected. Dropping the
 * `reportConfigWarnings` calls in the channel, or the `strict` pass-through, fails these tests.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { createChannel, registerResolver, type WarningEvent } from '../../../src/index';
import { ConfigError } from '../../../src/errors';

const insecure = grpc.credentials.createInsecure();
const misspelt = { methodConfg: [], methodConfig: [{ name: [{ service: 'a.B' }], retrypolicy: {} }] };

describe('service config warnings on a channel', () => {
  it('reports each ignored field of the serviceConfig option as a warning event', async () => {
    const channel = createChannel('ipv4:127.0.0.1:1', insecure, { serviceConfig: misspelt });
    const warnings: WarningEvent[] = [];
    channel.events.on('warning', (w) => warnings.push(w));
    await new Promise((resolve) => process.nextTick(resolve));
    channel.close();
    expect(warnings.map((w) => [w.kind, w.path])).toEqual([
      ['service-config', 'methodConfg'],
      ['service-config', 'methodConfig[0].retrypolicy'],
    ]);
    expect(warnings[0]!.message).toMatch(/^methodConfg: unknown field.*methodConfig/);
  });

  it('rejects them with strict: true', () => {
    expect(() => createChannel('ipv4:127.0.0.1:1', insecure, { serviceConfig: misspelt, strict: true })).toThrow(ConfigError);
    expect(() => createChannel('ipv4:127.0.0.1:1', insecure, { serviceConfig: { methodConfig: [] }, strict: true })).not.toThrow();
  });

  it('rejects an option that is not a boolean', () => {
    expect(() => createChannel('ipv4:127.0.0.1:1', insecure, { strict: 'yes' as unknown as boolean })).toThrow(/options\.strict: must be a boolean/);
  });
});

describe('service config warnings from a resolver', () => {
  registerResolver({
    scheme: 'warn-test',
    defaultAuthority: () => 'svc.test',
    create: (_target, listener) => ({
      requestResolution: () =>
        listener.onUpdate({ endpoints: [{ addresses: [{ host: '127.0.0.1', port: 1 }] }], serviceConfig: { retryThrottling: { maxTokens: 10, tokenRatio: 1, typo: 1 } } }),
      close() {},
    }),
  });

  it('are reported, and the config is used', () => {
    const channel = createChannel('warn-test:x', insecure, { idleTimeoutMs: 0 });
    const warnings: WarningEvent[] = [];
    channel.events.on('warning', (w) => warnings.push(w));
    channel.getConnectivityState(true);
    expect(warnings.map((w) => w.path)).toEqual(['retryThrottling.typo']);
    expect(channel.stats().tokens).toBe(10);
    channel.close();
  });

  it('with strict: true reject the resolver config (gRFC A21: no good config, the channel fails)', () => {
    const channel = createChannel('warn-test:x', insecure, { strict: true });
    const errors: Error[] = [];
    channel.events.on('error', (e) => errors.push(e));
    expect(channel.getConnectivityState(true)).toBe(grpc.connectivityState.TRANSIENT_FAILURE);
    expect(errors[0]?.message).toMatch(/retryThrottling\.typo/);
    expect(channel.stats().tokens).toBeUndefined();
    channel.close();
  });
});
