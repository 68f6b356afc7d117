/**
 * `createChannel` rejects bad input with a `ConfigError` naming the field path and the rule broken:
 * targets (`doc/naming.md`), load-balancing configs (gRFC A24, A62 `shuffleAddressList`) and options.
 * Nothing is started for a rejected channel, so these need no server.
 */
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError, createChannel, type SwitchyardChannelOptions } from '../../src/index';

const insecure = grpc.credentials.createInsecure();

/** The ConfigError `create` throws; fails the test if it throws anything else or nothing. */
function configErrorOf(create: () => unknown): ConfigError {
  let thrown: unknown;
  try {
    const channel = create() as { close?: () => void };
    channel.close?.();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  return thrown as ConfigError;
}

function withServiceConfig(serviceConfig: object | string): ConfigError {
  return configErrorOf(() => createChannel('localhost:50051', insecure, { serviceConfig }));
}

function withOptions(options: Record<string, unknown>): ConfigError {
  return configErrorOf(() => createChannel('localhost:50051', insecure, options as SwitchyardChannelOptions));
}

describe('createChannel rejects bad input with a ConfigError', () => {
  it('malformed targets', () => {
    expect(configErrorOf(() => createChannel('', insecure))).toMatchObject({ path: 'target', rule: 'must not be empty' });
    const port = configErrorOf(() => createChannel('localhost:99999', insecure));
    expect(port.path).toBe('target');
    expect(port.rule).toMatch(/port "99999" must be an integer in \[1, 65535\]/);
    expect(port.message).toContain('localhost:99999');
    const ip = configErrorOf(() => createChannel('ipv4:999.1.1.1:80', insecure));
    expect(ip.path).toBe('target');
    expect(ip.rule).toMatch(/not an IPv4 literal/);
    expect(configErrorOf(() => createChannel('dns:///', insecure)).path).toBe('target');
    expect(configErrorOf(() => createChannel(' localhost:1', insecure)).rule).toMatch(/whitespace/);
  });

  it('an unknown scheme', () => {
    const error = configErrorOf(() => createChannel('foo://bar/baz', insecure));
    expect(error.path).toBe('target');
    expect(error.rule).toMatch(/^unknown scheme "foo" \(registered: .*dns.*\)/);
  });

  it('an unknown policy name', () => {
    const error = withServiceConfig({ loadBalancingConfig: [{ no_such_policy: {} }] });
    expect(error.path).toBe('loadBalancingConfig');
    expect(error.rule).toMatch(/no supported policy: "no_such_policy" is not registered/);
    expect(error.rule).toMatch(/pick_first/);
    // The same, as a JSON string.
    expect(withServiceConfig('{"loadBalancingConfig":[{"no_such_policy":{}}]}').path).toBe('loadBalancingConfig');
  });

  it('malformed loadBalancingConfig', () => {
    expect(withServiceConfig({ loadBalancingConfig: { round_robin: {} } })).toMatchObject({
      path: 'loadBalancingConfig',
      rule: 'must be an array',
    });
    expect(withServiceConfig({ loadBalancingConfig: [{ round_robin: {}, pick_first: {} }] })).toMatchObject({
      path: 'loadBalancingConfig[0]',
      rule: expect.stringMatching(/exactly one key/),
    });
    expect(withServiceConfig({ loadBalancingConfig: [{ pick_first: { shuffleAddressList: 'yes' } }] })).toMatchObject({
      path: 'loadBalancingConfig[0].pick_first.shuffleAddressList',
      rule: 'must be a boolean',
    });
    expect(withServiceConfig({ loadBalancingConfig: [{ round_robin: [] }] })).toMatchObject({
      path: 'loadBalancingConfig[0].round_robin',
      rule: 'must be an object',
    });
    expect(withServiceConfig('{not json').path).toBe('serviceConfig');
  });

  it('invalid options', () => {
    expect(withOptions({ dnsRefreshIntervalMs: -1 })).toMatchObject({ path: 'options.dnsRefreshIntervalMs', rule: 'must be > 0' });
    expect(withOptions({ minConnectTimeoutMs: 'soon' })).toMatchObject({
      path: 'options.minConnectTimeoutMs',
      rule: 'must be a finite number of milliseconds in (0, 2147483647]',
    });
    expect(withOptions({ minResolutionIntervalMs: Number.NaN }).path).toBe('options.minResolutionIntervalMs');
    expect(withOptions({ channelOptions: 3 })).toMatchObject({ path: 'options.channelOptions', rule: 'must be an object' });
    expect(withOptions({ dnsRefreshInterval: 1_000 })).toMatchObject({
      path: 'options.dnsRefreshInterval',
      rule: expect.stringMatching(/is not a switchyard option/),
    });
    expect(withOptions({ initialReconnectBackoffMs: 5_000, maxReconnectBackoffMs: 1_000 }).path).toBe(
      'options.maxReconnectBackoffMs',
    );
    expect(configErrorOf(() => createChannel('localhost:1', {} as grpc.ChannelCredentials)).path).toBe('credentials');
  });
});
