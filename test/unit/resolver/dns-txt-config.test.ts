import { describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../src/errors';
import type { DnsQueries } from '../../../src/resolver/dns-queries';
import { createServiceConfigLookup, MAX_SERVICE_CONFIG_TXT_BYTES } from '../../../src/resolver/dns-txt-config';

const rr = { loadBalancingConfig: [{ round_robin: {} }] };
const pf = { loadBalancingConfig: [{ pick_first: {} }] };

/** `grpc_config=<json>` split in 255-byte strings, as a DNS TXT record carries it. */
function record(choices: unknown): string[] {
  const text = `grpc_config=${JSON.stringify(choices)}`;
  const strings: string[] = [];
  for (let i = 0; i < text.length; i += 255) strings.push(text.slice(i, i + 255));
  return strings;
}

function dnsError(code: string): Error {
  return Object.assign(new Error(`queryTxt ${code}`), { code });
}

/** Queries whose TXT answer comes from a table (name → records or error); records every name asked. */
function queries(answers: Record<string, string[][] | Error>) {
  const asked: string[] = [];
  const q: DnsQueries = {
    addresses: () => Promise.reject(new Error('not used')),
    txt: async (name) => {
      asked.push(name);
      const answer = answers[name];
      if (answer === undefined) throw dnsError('ENOTFOUND');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    cancel() {},
  };
  return { q, asked };
}

describe('createServiceConfigLookup (gRFC A2 TXT at _grpc_config.<host>)', () => {
  it('reads _grpc_config.<host> and returns the chosen raw config', async () => {
    const { q, asked } = queries({ '_grpc_config.svc.test': [['v=other'], record([{ serviceConfig: rr }])] });
    expect(await createServiceConfigLookup()(q, 'svc.test')).toEqual({ serviceConfig: rr });
    expect(asked).toEqual(['_grpc_config.svc.test']);
  });

  it('never reads the bare host: a grpc_config record there is ignored', async () => {
    const { q, asked } = queries({ 'svc.test': [record([{ serviceConfig: rr }])] });
    expect(await createServiceConfigLookup()(q, 'svc.test')).toEqual({ serviceConfig: null });
    expect(asked).toEqual(['_grpc_config.svc.test']);
  });

  it('maps "no record" (ENODATA, ENOTFOUND, no grpc_config record, no match) to null', async () => {
    const lookup = createServiceConfigLookup();
    expect(await lookup(queries({ '_grpc_config.a.test': dnsError('ENODATA') }).q, 'a.test')).toEqual({ serviceConfig: null });
    expect(await lookup(queries({}).q, 'a.test')).toEqual({ serviceConfig: null });
    expect(await lookup(queries({ '_grpc_config.a.test': [['x=1']] }).q, 'a.test')).toEqual({ serviceConfig: null });
    const onlyGo = record([{ clientLanguage: ['go'], serviceConfig: rr }]);
    expect(await lookup(queries({ '_grpc_config.a.test': [onlyGo] }).q, 'a.test')).toEqual({ serviceConfig: null });
  });

  it('maps a failed TXT query (timeout, SERVFAIL, cancelled, sync throw) to undefined: keep the current config', async () => {
    const lookup = createServiceConfigLookup();
    for (const code of ['ETIMEOUT', 'ESERVFAIL', 'EREFUSED', 'ECANCELLED']) {
      const outcome = await lookup(queries({ '_grpc_config.a.test': dnsError(code) }).q, 'a.test');
      expect(outcome).toEqual({ serviceConfig: undefined });
      expect(outcome.serviceConfigError).toBeUndefined();
    }
    const throwing: DnsQueries = {
      addresses: () => Promise.resolve([]),
      txt: () => {
        throw new Error('boom');
      },
      cancel() {},
    };
    expect(await lookup(throwing, 'a.test')).toEqual({ serviceConfig: undefined });
  });

  it('reports a malformed record as serviceConfigError with the ConfigError path', async () => {
    const bad = record([{ serviceConfig: rr }, { percentage: 150, serviceConfig: pf }]);
    const outcome = await createServiceConfigLookup()(queries({ '_grpc_config.a.test': [bad] }).q, 'a.test');
    expect(outcome.serviceConfig).toBeUndefined();
    expect(outcome.serviceConfigError).toBeInstanceOf(ConfigError);
    expect((outcome.serviceConfigError as ConfigError).path).toBe('_grpc_config.a.test[1].percentage');
  });

  it('bounds the total size of the TXT answer (all records) at maxBytes, default 64 KiB', async () => {
    expect(MAX_SERVICE_CONFIG_TXT_BYTES).toBe(65_536);
    const config = record([{ serviceConfig: rr }]);
    const size = Buffer.byteLength(config.join(''));
    const noise = ['n'.repeat(100)];
    const lookup = createServiceConfigLookup({ maxBytes: size + 100 });
    expect(await lookup(queries({ '_grpc_config.a.test': [config, noise] }).q, 'a.test')).toEqual({ serviceConfig: rr });
    const over = await lookup(queries({ '_grpc_config.a.test': [config, noise, ['x']] }).q, 'a.test');
    expect(over.serviceConfigError).toBeInstanceOf(ConfigError);
    expect((over.serviceConfigError as ConfigError).path).toBe('_grpc_config.a.test');
    expect(over.serviceConfigError?.message).toContain(`${size + 101} bytes`);

    const huge = [Array.from({ length: 258 }, () => 'y'.repeat(255))]; // 65 790 bytes
    const outcome = await createServiceConfigLookup()(queries({ '_grpc_config.a.test': huge }).q, 'a.test');
    expect((outcome.serviceConfigError as ConfigError).rule).toMatch(/at most 65536 bytes/);
  });

  it('draws the percentage once per lookup instance, reused across lookups', async () => {
    const random = vi.fn().mockReturnValueOnce(0.2).mockReturnValue(0.9);
    const lookup = createServiceConfigLookup({ random });
    const canary = queries({ '_grpc_config.a.test': [record([{ percentage: 50, serviceConfig: rr }, { serviceConfig: pf }])] });
    for (let i = 0; i < 5; i++) expect(await lookup(canary.q, 'a.test')).toEqual({ serviceConfig: rr });
    expect(random).toHaveBeenCalledTimes(1);
    // A second instance (another resolver) draws for itself.
    expect(await createServiceConfigLookup({ random })(canary.q, 'a.test')).toEqual({ serviceConfig: pf });
  });

  it('matches clientHostname against the given host name', async () => {
    const choices = [{ clientHostname: ['box-7'], serviceConfig: rr }, { serviceConfig: pf }];
    const q = queries({ '_grpc_config.a.test': [record(choices)] }).q;
    expect(await createServiceConfigLookup({ hostname: () => 'box-7' })(q, 'a.test')).toEqual({ serviceConfig: rr });
    expect(await createServiceConfigLookup({ hostname: () => 'box-8' })(q, 'a.test')).toEqual({ serviceConfig: pf });
  });
});
