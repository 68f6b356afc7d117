import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { selectServiceConfig, type ServiceConfigSelectionOptions } from '../../../src/resolver/dns-service-config';

const opts: ServiceConfigSelectionOptions = { hostname: 'client-1', serverName: 'orders.internal', random: () => 0.5, maxBytes: 65_535 };
const rr = { loadBalancingConfig: [{ round_robin: {} }] };
const pf = { loadBalancingConfig: [{ pick_first: {} }] };

/** A TXT record carrying `grpc_config=<json>`, split in 255-byte strings as DNS would. */
function record(choices: unknown): string[] {
  const text = `grpc_config=${JSON.stringify(choices)}`;
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += 255) strings.push(text.slice(i, i + 255));
  return strings;
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('selectServiceConfig (gRFC A2)', () => {
  it('returns null without a grpc_config record', () => {
    expect(selectServiceConfig([], opts)).toBeNull();
    expect(selectServiceConfig([['v=spf1 -all'], ['other=1']], opts)).toBeNull();
  });

  it('concatenates the strings of a record and returns the first choice without criteria', () => {
    const big = { ...rr, methodConfig: [{ name: [{ service: 'x'.repeat(600) }], timeout: '1s' }] };
    const txt = record([{ serviceConfig: big }]);
    expect(txt.length).toBeGreaterThan(2);
    expect(selectServiceConfig([['unrelated'], txt], opts)).toEqual(big);
  });

  it('uses the first grpc_config record and ignores later ones', () => {
    expect(selectServiceConfig([record([{ serviceConfig: rr }]), record([{ serviceConfig: pf }])], opts)).toEqual(rr);
  });

  it('first matching choice wins', () => {
    const choices = [
      { clientLanguage: ['go'], serviceConfig: pf },
      { clientLanguage: ['java', 'NODE'], serviceConfig: rr },
      { serviceConfig: pf },
    ];
    expect(selectServiceConfig([record(choices)], opts)).toEqual(rr);
  });

  it('matches the language "node" case-insensitively; an empty list matches everyone', () => {
    expect(selectServiceConfig([record([{ clientLanguage: ['Node'], serviceConfig: rr }])], opts)).toEqual(rr);
    expect(selectServiceConfig([record([{ clientLanguage: [], serviceConfig: rr }])], opts)).toEqual(rr);
    expect(selectServiceConfig([record([{ clientLanguage: ['c++', 'go'], serviceConfig: rr }])], opts)).toBeNull();
  });

  it('matches client host names exactly and case-sensitively', () => {
    const choices = [{ clientHostname: ['Client-1', 'client-2'], serviceConfig: pf }, { clientHostname: ['client-1'], serviceConfig: rr }];
    expect(selectServiceConfig([record(choices)], opts)).toEqual(rr);
    expect(selectServiceConfig([record([{ clientHostname: ['client'], serviceConfig: rr }])], opts)).toBeNull();
  });

  it('selects by percentage with the given random number', () => {
    const choices = [{ percentage: 30, serviceConfig: rr }, { serviceConfig: pf }];
    expect(selectServiceConfig([record(choices)], { ...opts, random: () => 0.29 })).toEqual(rr);
    expect(selectServiceConfig([record(choices)], { ...opts, random: () => 0.3 })).toEqual(pf);
    expect(selectServiceConfig([record([{ percentage: 0, serviceConfig: rr }])], { ...opts, random: () => 0 })).toBeNull();
    expect(selectServiceConfig([record([{ percentage: 100, serviceConfig: rr }])], { ...opts, random: () => 0.9999 })).toEqual(rr);
  });

  it('draws the random number at most once, and only when a percentage is present', () => {
    const random = vi.fn(() => 0.5);
    selectServiceConfig([record([{ serviceConfig: rr }])], { ...opts, random });
    expect(random).not.toHaveBeenCalled();
    selectServiceConfig([record([{ percentage: 10, serviceConfig: rr }, { percentage: 20, serviceConfig: rr }, { serviceConfig: pf }])], { ...opts, random });
    expect(random).toHaveBeenCalledTimes(1);
  });

  it('requires every present criterion to match', () => {
    const choice = { clientLanguage: ['node'], clientHostname: ['client-1'], percentage: 50, serviceConfig: rr };
    expect(selectServiceConfig([record([choice])], { ...opts, random: () => 0.1 })).toEqual(rr);
    expect(selectServiceConfig([record([choice])], { ...opts, random: () => 0.6 })).toBeNull();
    expect(selectServiceConfig([record([choice])], { ...opts, hostname: 'other', random: () => 0.1 })).toBeNull();
  });

  it('rejects an unknown key in any choice, even after the matching one', () => {
    const err = configError(() => selectServiceConfig([record([{ serviceConfig: rr }, { serviceConfig: pf, clientLanguages: ['node'] }])], opts));
    expect(err.path).toBe('_grpc_config.orders.internal[1].clientLanguages');
  });

  it.each([
    [[{ percentage: 101, serviceConfig: rr }], '[0].percentage'],
    [[{ percentage: 12.5, serviceConfig: rr }], '[0].percentage'],
    [[{ percentage: '50', serviceConfig: rr }], '[0].percentage'],
    [[{ serviceConfig: rr }, { percentage: -1, serviceConfig: rr }], '[1].percentage'],
    [[{ clientLanguage: 'node', serviceConfig: rr }], '[0].clientLanguage'],
    [[{ clientLanguage: ['node', 7], serviceConfig: rr }], '[0].clientLanguage[1]'],
    [[{ clientHostname: [null], serviceConfig: rr }], '[0].clientHostname[0]'],
    [[{ clientLanguage: ['node'] }], '[0].serviceConfig'],
    [[{ serviceConfig: [rr] }], '[0].serviceConfig'],
    [[{ serviceConfig: '{}' }], '[0].serviceConfig'],
    [['not an object'], '[0]'],
  ])('rejects a wrongly typed field: %j at %s', (choices, suffix) => {
    expect(configError(() => selectServiceConfig([record(choices)], opts)).path).toBe(`_grpc_config.orders.internal${suffix}`);
  });

  it('rejects a value that is not a JSON list', () => {
    expect(configError(() => selectServiceConfig([['grpc_config={"serviceConfig":{}}']], opts)).path).toBe('_grpc_config.orders.internal');
    expect(configError(() => selectServiceConfig([['grpc_config=[{"serviceConfig":']], opts)).rule).toMatch(/JSON/);
  });

  it('rejects a record larger than maxBytes and accepts one exactly at the bound', () => {
    const txt = record([{ serviceConfig: rr }]);
    const size = Buffer.byteLength(txt.join(''));
    expect(selectServiceConfig([txt], { ...opts, maxBytes: size })).toEqual(rr);
    const err = configError(() => selectServiceConfig([txt], { ...opts, maxBytes: size - 1 }));
    expect(err.path).toBe('_grpc_config.orders.internal');
    expect(err.message).toContain(`${size} bytes`);
  });

  it('returns null when no choice matches', () => {
    expect(selectServiceConfig([record([])], opts)).toBeNull();
    expect(selectServiceConfig([record([{ clientLanguage: ['go'], serviceConfig: rr }])], opts)).toBeNull();
  });
});
