import { describe, expect, it } from 'vitest';
import { combineFamilyAnswers } from '../../../src/resolver/dns-queries';
import { parseDnsTarget } from '../../../src/resolver/dns';
import { parseTarget } from '../../../src/resolver/target';
import '../../../src/resolver'; // registers the built-in resolvers

const ok = (value: string[]): PromiseSettledResult<string[]> => ({ status: 'fulfilled', value });
const fail = (code: string): PromiseSettledResult<string[]> => ({
  status: 'rejected',
  reason: Object.assign(new Error(`query ${code} svc.test`), { code }),
});

describe('combineFamilyAnswers (A + AAAA to an explicit server)', () => {
  it('returns IPv4 then IPv6 addresses', () => {
    expect(combineFamilyAnswers('svc.test', ok(['127.0.0.2']), ok(['::1']))).toEqual(['127.0.0.2', '::1']);
  });

  it('treats ENODATA / ENOTFOUND on one family as no addresses of that family', () => {
    expect(combineFamilyAnswers('svc.test', ok(['127.0.0.2']), fail('ENODATA'))).toEqual(['127.0.0.2']);
    expect(combineFamilyAnswers('svc.test', fail('ENOTFOUND'), ok(['::1']))).toEqual(['::1']);
  });

  it('is satisfied by one family even when the other query failed outright', () => {
    expect(combineFamilyAnswers('svc.test', ok(['127.0.0.2']), fail('ETIMEOUT'))).toEqual(['127.0.0.2']);
  });

  it('returns no addresses when the name exists without any', () => {
    expect(combineFamilyAnswers('svc.test', fail('ENODATA'), fail('ENODATA'))).toEqual([]);
  });

  it('reports NXDOMAIN when the name does not exist', () => {
    expect(() => combineFamilyAnswers('svc.test', fail('ENOTFOUND'), fail('ENOTFOUND'))).toThrow(
      '"svc.test" does not exist (NXDOMAIN)',
    );
    expect(() => combineFamilyAnswers('svc.test', fail('ENODATA'), fail('ENOTFOUND'))).toThrow('NXDOMAIN');
  });

  it('throws the real failure when both fail and one is not "no data"', () => {
    let thrown: unknown;
    try {
      combineFamilyAnswers('svc.test', fail('ENODATA'), fail('ETIMEOUT'));
    } catch (error) {
      thrown = error;
    }
    expect((thrown as Error).message).toBe('A/AAAA queries for "svc.test" failed: query ETIMEOUT svc.test');
    expect((thrown as Error & { cause: { code: string } }).cause.code).toBe('ETIMEOUT');
  });
});

describe('parseDnsTarget (doc/naming.md dns:[//authority/]host[:port])', () => {
  it.each([
    ['dns:///svc.test:50051', { host: 'svc.test', port: 50051, server: undefined }],
    ['dns:svc.test', { host: 'svc.test', port: 443, server: undefined }],
    ['localhost:50051', { host: 'localhost', port: 50051, server: undefined }],
    ['dns://127.0.0.1:5353/svc.test:80', { host: 'svc.test', port: 80, server: '127.0.0.1:5353' }],
    ['dns://127.0.0.1/svc.test:80', { host: 'svc.test', port: 80, server: '127.0.0.1:53' }],
    ['dns://[::1]:5353/svc.test:80', { host: 'svc.test', port: 80, server: '[::1]:5353' }],
    ['dns://::1/svc.test', { host: 'svc.test', port: 443, server: '[::1]:53' }],
    ['dns:///[::1]:80', { host: '::1', port: 80, server: undefined }],
    ['dns:///svc.test.:80', { host: 'svc.test.', port: 80, server: undefined }],
  ])('%s', (raw, expected) => {
    expect(parseDnsTarget(parseTarget(raw))).toEqual(expected);
  });
});
