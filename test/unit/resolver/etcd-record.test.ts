import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors';
import { etcdResolverFactory } from '../../../src/resolver/etcd';
import { etcdServiceName, readEtcdSettings } from '../../../src/resolver/etcd-options';
import { parseEtcdAddr, parseEtcdRecord } from '../../../src/resolver/etcd-record';
import type { Target } from '../../../src/resolver/types';

function target(authority: string, path: string): Target {
  return { scheme: 'etcd', authority, path, raw: `etcd://${authority}/${path}` };
}

describe('parseEtcdRecord (etcd gRPC naming records)', () => {
  it('reads the endpoints-manager form {"Addr","Metadata"}', () => {
    const res = parseEtcdRecord('svc/a', Buffer.from('{"Addr":"10.0.0.1:50051","Metadata":{"zone":"a"}}'));
    expect(res).toEqual({ ok: true, endpoint: { addresses: [{ host: '10.0.0.1', port: 50051 }], attributes: { etcdKey: 'svc/a', metadata: { zone: 'a' } } } });
  });

  it('reads the older naming.Update form with Op 0 and a null Metadata', () => {
    const res = parseEtcdRecord('svc/b', '{"Op":0,"Addr":"[::1]:443","Metadata":null}');
    expect(res).toEqual({ ok: true, endpoint: { addresses: [{ host: '::1', port: 443 }], attributes: { etcdKey: 'svc/b' } } });
  });

  it('keeps any JSON Metadata and ignores unknown fields', () => {
    const res = parseEtcdRecord('svc/c', '{"Addr":"127.0.0.1:1","Metadata":"v2","Extra":true}');
    expect(res.ok && res.endpoint.attributes).toEqual({ etcdKey: 'svc/c', metadata: 'v2' });
  });

  it.each([
    ['not json', 'etcd["svc/x"]'],
    ['[1,2]', 'etcd["svc/x"]'],
    ['{"Metadata":1}', 'etcd["svc/x"].Addr'],
    ['{"Addr":5}', 'etcd["svc/x"].Addr'],
    ['{"Op":1,"Addr":"127.0.0.1:1"}', 'etcd["svc/x"].Op'],
    ['{"Addr":"1.2.3.4"}', 'etcd["svc/x"].Addr'],
    ['{"Addr":"orders.internal:50051"}', 'etcd["svc/x"].Addr'],
    ['{"Addr":"1.2.3.4:0"}', 'etcd["svc/x"].Addr'],
    ['{"Addr":"1.2.3.4:70000"}', 'etcd["svc/x"].Addr'],
    ['{"Addr":"::1:50051"}', 'etcd["svc/x"].Addr'],
    ['{"Addr":"[1.2.3.4]:50051"}', 'etcd["svc/x"].Addr'],
  ])('skips %s with a ConfigError at %s', (value, path) => {
    const res = parseEtcdRecord('svc/x', value);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error).toBeInstanceOf(ConfigError);
      expect(res.error.path).toBe(path);
    }
  });
});

describe('parseEtcdAddr', () => {
  it('reads IP literals and unix paths', () => {
    expect(parseEtcdAddr('127.0.0.1:50051', 'p')).toEqual({ host: '127.0.0.1', port: 50051 });
    expect(parseEtcdAddr('[fe80::1%eth0]:9', 'p')).toEqual({ host: 'fe80::1%eth0', port: 9 });
    expect(parseEtcdAddr('unix:/tmp/s.sock', 'p')).toEqual({ path: '/tmp/s.sock' });
    expect(parseEtcdAddr('unix:rel/s.sock', 'p')).toEqual({ path: 'rel/s.sock' });
    expect(parseEtcdAddr('unix:///tmp/s.sock', 'p')).toEqual({ path: '/tmp/s.sock' });
  });

  it('rejects empty and authority-style unix addresses', () => {
    expect(() => parseEtcdAddr('unix:', 'p')).toThrow(ConfigError);
    expect(() => parseEtcdAddr('unix://host/s.sock', 'p')).toThrow(ConfigError);
  });
});

describe('etcd target and options', () => {
  it('takes the service from the path and endpoints from the options', () => {
    expect(etcdServiceName(target('', 'prod/orders'))).toBe('prod/orders');
    const settings = readEtcdSettings(target('', 'orders'), { endpoints: ['127.0.0.1:2379', 'http://127.0.0.1:2380'] });
    expect(settings.endpoints).toEqual(['127.0.0.1:2379', 'http://127.0.0.1:2380']);
    expect(settings).toMatchObject({ requestTimeoutMs: 5_000, initialBackoffMs: 1_000, maxBackoffMs: 30_000 });
  });

  it('also reads the whole resolverOptions map', () => {
    expect(readEtcdSettings(target('', 'orders'), { etcd: { endpoints: ['127.0.0.1:2379'] } }).endpoints).toEqual(['127.0.0.1:2379']);
  });

  it('prefers endpoints named in the authority', () => {
    const settings = readEtcdSettings(target('127.0.0.1:1,[::1]:2', 'orders'), { endpoints: ['127.0.0.1:2379'] });
    expect(settings.endpoints).toEqual(['127.0.0.1:1', '[::1]:2']);
  });

  it.each([
    [target('', ''), {}, 'target'],
    [target('', 'orders/'), {}, 'target'],
    [target('', 'a//b'), {}, 'target'],
    [target('127.0.0.1', 'orders'), {}, 'target'],
    [target('127.0.0.1:1,', 'orders'), {}, 'target'],
    [target('', 'orders'), {}, 'options.resolverOptions.etcd.endpoints'],
    [target('', 'orders'), { endpoints: [] }, 'options.resolverOptions.etcd.endpoints'],
    [target('', 'orders'), { endpoints: ['127.0.0.1'] }, 'options.resolverOptions.etcd.endpoints[0]'],
    [target('', 'orders'), { endpoints: ['https://127.0.0.1:1', '127.0.0.1:2'] }, 'options.resolverOptions.etcd.endpoints'],
    [target('', 'orders'), { endpoints: ['127.0.0.1:1'], requestTimeoutMs: 0 }, 'options.resolverOptions.etcd.requestTimeoutMs'],
    [target('', 'orders'), { endpoints: ['127.0.0.1:1'], initialBackoffMs: 10, maxBackoffMs: 5 }, 'options.resolverOptions.etcd.maxBackoffMs'],
    [target('', 'orders'), { endpoints: ['127.0.0.1:1'], auth: { username: 'u' } }, 'options.resolverOptions.etcd.auth'],
  ])('create() rejects %j with options %j at %s', (t, options, path) => {
    const context = { clock: undefined as never, refreshIntervalMs: 1, minResolutionIntervalMs: 1, serviceConfigLookup: false, options };
    let error: unknown;
    try {
      etcdResolverFactory.create(t, { onUpdate() {}, onError() {} }, context);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });

  it('uses the last service path segment as the default authority', () => {
    expect(etcdResolverFactory.defaultAuthority(target('', 'prod/orders'))).toBe('orders');
    expect(etcdResolverFactory.defaultAuthority(target('', 'orders'))).toBe('orders');
  });
});
