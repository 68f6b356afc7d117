/**
 * Bad input, resolver results (issue "Faults"): duplicate, empty and invalid addresses, whoever reports
 * them, are handled as documented —
 *
 * - the DNS resolver reports one endpoint per distinct address, in answer order, and treats an answer
 *   without any address as a failed resolution (`onError`: the channel keeps its last good list);
 * - pick_first holds one subchannel per distinct address (however often it is repeated, within or
 *   across endpoints); round_robin one per distinct address of each distinct endpoint (gRFC A61: a
 *   pick_first child per endpoint, the channel's pool sharing the connection); both go
 *   TRANSIENT_FAILURE with "resolver returned no addresses" for an empty list, and give back every
 *   subchannel they took;
 * - an address that breaks the `Address` contract (not an IP literal, port outside [1, 65535], empty
 *   Unix path) fails its subchannel's connection attempts at once, without any I/O;
 * - a structurally malformed update from a custom resolver is a resolver error, not an exception.
 */
import { isIP } from 'node:net';
import { connectivityState } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createChannel } from '../../../src/channel/channel';
import { ChannelSubchannel } from '../../../src/subchannel/subchannel';
import { invalidAddressReason } from '../../../src/subchannel/address-check';
import type { Clock } from '../../../src/clock';
import { createPickFirstPolicy, NO_ADDRESSES_ERROR } from '../../../src/picker/pick-first';
import { createRoundRobinPolicy } from '../../../src/picker/round-robin';
import { addressKey } from '../../../src/resolver/address';
import { createDnsResolverFactory } from '../../../src/resolver/dns';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import { registerResolver } from '../../../src/resolver/registry';
import type { Address, Endpoint, ResolverUpdate } from '../../../src/resolver/types';
import { createFakeHelper } from '../../helpers/fake-subchannel';

/** A clock whose timers never fire: these properties check what happens synchronously. */
const frozenClock: Clock = { now: () => 1_000_000, setTimeout: () => ({}), clearTimeout: () => {} };

const ipv4 = fc.tuple(fc.constantFrom(10, 127, 192), fc.nat(3), fc.nat(3), fc.nat(3)).map((b) => b.join('.'));
const ipv6 = fc.constantFrom('::1', 'fe80::1', '2001:db8::7', '::ffff:127.0.0.1');
const ip = fc.oneof(ipv4, ipv6);
const port = fc.constantFrom(1, 443, 50051, 65535);
/** Few distinct values, so lists repeat addresses often. */
const validAddress: fc.Arbitrary<Address> = fc.oneof(
  fc.record({ host: ip, port }),
  fc.constantFrom<Address>({ path: '/tmp/a.sock' }, { path: 'relative.sock' }),
);
const invalidAddress: fc.Arbitrary<Address> = fc.oneof(
  fc.record({ host: fc.constantFrom('example.com', '', 'not an ip', '1.2.3', '[::1]'), port }),
  fc.record({ host: ip, port: fc.constantFrom(0, -1, 65536, 1.5, Number.NaN, Number.POSITIVE_INFINITY) }),
  fc.constant({ path: '' }),
  fc.constant({} as Address),
);
const endpoint = (address: fc.Arbitrary<Address>): fc.Arbitrary<Endpoint> =>
  fc.array(address, { maxLength: 3 }).map((addresses) => ({ addresses }));
const endpointList = fc.array(endpoint(fc.oneof({ weight: 4, arbitrary: validAddress }, { weight: 1, arbitrary: invalidAddress })), {
  maxLength: 6,
});

function distinctKeys(endpoints: readonly Endpoint[]): string[] {
  return [...new Set(endpoints.flatMap((e) => e.addresses.map(addressKey)))];
}

/** How many distinct endpoints (compared as unordered address sets, gRFC A61) list `key`. */
function endpointsWith(endpoints: readonly Endpoint[], key: string): number {
  const sets = new Set(endpoints.map((e) => [...new Set(e.addresses.map(addressKey))].sort().join(',')));
  return [...sets].filter((set) => set.split(',').includes(key)).length;
}

describe('the DNS resolver', () => {
  it('reports one endpoint per distinct answered address in answer order, and no answer as an error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ip, { maxLength: 12 }), port, async (answer, targetPort) => {
        const factory = createDnsResolverFactory({
          queries: () => ({ addresses: async () => answer, txt: async () => [], cancel() {} }),
        });
        const updates: ResolverUpdate[] = [];
        const errors: Error[] = [];
        const resolver = factory.create(parseTarget(`dns:///svc.test:${targetPort}`), {
          onUpdate: (u) => updates.push(u),
          onError: (e) => errors.push(e),
        }, { clock: frozenClock, refreshIntervalMs: 30_000, minResolutionIntervalMs: 0, serviceConfigLookup: false, options: {} });
        resolver.requestResolution();
        for (let i = 0; i < 10; i++) await Promise.resolve();
        resolver.close();
        if (answer.length === 0) {
          expect(updates).toEqual([]);
          expect(errors.map((e) => e.message)).toEqual(['dns: "svc.test" has no A or AAAA records']);
          return;
        }
        expect(errors).toEqual([]);
        expect(updates).toHaveLength(1);
        const expected = [...new Set(answer)].map((host) => ({ addresses: [{ host, port: targetPort }] }));
        expect(updates[0]!.endpoints).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe.each([
  ['pick_first', createPickFirstPolicy, false],
  ['round_robin', createRoundRobinPolicy, true],
] as const)('%s given any sequence of endpoint lists', (_name, createPolicy, perEndpoint) => {
  it('holds at most one subchannel per distinct address (per endpoint), reports an empty list, and releases everything on close', () => {
    fc.assert(
      fc.property(fc.array(endpointList, { minLength: 1, maxLength: 5 }), (updates) => {
        const fake = createFakeHelper({ clock: frozenClock, random: () => 0.5 });
        const policy = createPolicy(fake.helper);
        for (const endpoints of updates) {
          policy.updateEndpoints(endpoints, undefined);
          const held = [...fake.refs].filter(([, refs]) => refs > 0);
          for (const [key, refs] of held) {
            expect(refs, `references to ${key}`).toBeLessThanOrEqual(perEndpoint ? endpointsWith(endpoints, key) : 1);
            expect(distinctKeys(endpoints)).toContain(key);
          }
          if (distinctKeys(endpoints).length === 0) {
            expect(fake.last().state).toBe(connectivityState.TRANSIENT_FAILURE);
            expect(fake.last().error).toBe(NO_ADDRESSES_ERROR);
          }
        }
        policy.close();
        expect(fake.released).toBe(fake.acquired);
      }),
      { numRuns: 300 },
    );
  });
});

describe('an address that breaks the Address contract', () => {
  it('invalidAddressReason accepts exactly IP literals with a port in [1, 65535] and non-empty Unix paths', () => {
    fc.assert(
      fc.property(fc.oneof(validAddress, invalidAddress, fc.anything() as fc.Arbitrary<Address>), (address) => {
        const reason = invalidAddressReason(address);
        const a = address as { host?: unknown; port?: unknown; path?: unknown } | null;
        const validPort = (p: unknown): boolean => typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 65_535;
        const valid =
          typeof a === 'object' && a !== null &&
          ('path' in a ? typeof a.path === 'string' && a.path !== '' : typeof a.host === 'string' && isIP(a.host) !== 0 && validPort(a.port));
        expect(reason === undefined).toBe(valid);
        if (reason !== undefined) expect(typeof reason).toBe('string');
      }),
      { numRuns: 1_000 },
    );
    expect(invalidAddressReason({ host: '127.0.0.1', port: 50051 })).toBeUndefined();
    expect(invalidAddressReason({ host: '::1', port: 1 })).toBeUndefined();
    expect(invalidAddressReason({ path: '/tmp/s' })).toBeUndefined();
  });

  it('a subchannel for it fails every connection attempt at once and never creates a connection', () => {
    fc.assert(
      fc.property(invalidAddress, (address) => {
        let created = 0;
        const subchannel = new ChannelSubchannel({
          address,
          transport: {
            name: 'never',
            unsupportedCredentials: () => undefined,
            checkChannelOptions() {},
            connect() {
              created++;
              throw new Error('no connection may be attempted');
            },
          },
          credentials: grpc.credentials.createInsecure(),
          channelOptions: {},
          authority: 'svc.test',
          clock: frozenClock,
          random: () => 0.5,
        });
        subchannel.connect();
        expect(subchannel.getState()).toBe(connectivityState.TRANSIENT_FAILURE);
        expect(subchannel.getLastError()).toMatch(/invalid address from the resolver/);
        expect(created).toBe(0);
        subchannel.shutdown();
      }),
    );
  });
});

describe('a custom resolver reporting a malformed update', () => {
  let next: unknown;
  let thrown: unknown;
  registerResolver({
    scheme: 'malformed-test',
    defaultAuthority: () => 'svc.test',
    create: (_target, listener) => ({
      requestResolution() {
        try {
          listener.onUpdate(next as ResolverUpdate);
        } catch (error) {
          thrown = error;
        }
      },
      close() {},
    }),
  });

  const malformed = fc.oneof(
    fc.constant(null),
    fc.constant({}),
    fc.record({ endpoints: fc.oneof(fc.constant(null), fc.constant('x'), fc.constant({})) }),
    fc.record({ endpoints: fc.array(fc.oneof(fc.constant(null), fc.constant({}), fc.constant({ addresses: null }), fc.constant({ addresses: [null] })), { minLength: 1, maxLength: 3 }) }),
  );

  it('is reported as a resolver error (channel TRANSIENT_FAILURE, `error` event), never thrown into the resolver', () => {
    fc.assert(
      fc.property(malformed, (update) => {
        next = update;
        thrown = undefined;
        const channel = createChannel('malformed-test:x', grpc.credentials.createInsecure());
        const errors: Error[] = [];
        channel.events.on('error', (e) => errors.push(e));
        channel.getConnectivityState(true);
        const state = channel.getConnectivityState(false);
        channel.close();
        expect(thrown).toBeUndefined();
        expect(state).toBe(connectivityState.TRANSIENT_FAILURE);
        expect(errors.length).toBeGreaterThan(0);
      }),
      { numRuns: 50 },
    );
  });
});
