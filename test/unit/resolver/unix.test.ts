import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/clock';
import { ConfigError } from '../../../src/errors';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers
import { unixResolverFactory } from '../../../src/resolver/unix';
import type { ResolverContext, ResolverUpdate } from '../../../src/resolver/types';

const context: ResolverContext = {
  clock: systemClock,
  refreshIntervalMs: 30_000,
  minResolutionIntervalMs: 30_000,
  serviceConfigLookup: false,
  options: {},
};

async function resolve(raw: string): Promise<ResolverUpdate[]> {
  const updates: ResolverUpdate[] = [];
  const resolver = unixResolverFactory.create(parseTarget(raw), { onUpdate: (u) => updates.push(u), onError() {} }, context);
  resolver.requestResolution();
  await new Promise<void>((r) => setImmediate(r));
  resolver.close();
  return updates;
}

describe('unix: resolver (doc/naming.md)', () => {
  it.each([
    ['unix:/abs/path.sock', '/abs/path.sock'],
    ['unix:relative/path.sock', 'relative/path.sock'],
    ['unix:///abs/path.sock', '/abs/path.sock'],
    ['UNIX:///abs/path.sock', '/abs/path.sock'],
    ['unix:/tmp/with space.sock', '/tmp/with space.sock'],
  ])('%s → %s', async (raw, path) => {
    expect(await resolve(raw)).toEqual([{ endpoints: [{ addresses: [{ path }] }] }]);
  });

  it('default authority is localhost', () => {
    expect(unixResolverFactory.defaultAuthority(parseTarget('unix:/tmp/s'))).toBe('localhost');
  });

  it.each<[string, RegExp]>([
    ['unix:', /unix target has an empty path/],
    ['unix:///', /unix target has an empty path/],
    ['unix://host/tmp/s', /unix targets take no authority \("host"\); write unix:\/\/\/absolute\/path/],
  ])('%s is rejected', (raw, rule) => {
    let thrown: unknown;
    try {
      unixResolverFactory.create(parseTarget(raw), { onUpdate() {}, onError() {} }, context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).path).toBe('target');
    expect((thrown as ConfigError).rule).toMatch(rule);
  });
});
