import { isIP } from 'node:net';
import { ConfigError } from '../errors';
import type { Address, Endpoint } from './types';

/**
 * The outcome of reading one etcd key: an endpoint, or the reason the record was skipped.
 * Internal to the etcd resolver.
 */
export type EtcdRecordResult =
  | { readonly ok: true; readonly endpoint: Endpoint }
  | { readonly ok: false; readonly error: ConfigError };

/**
 * Parse the `Addr` of an etcd gRPC naming record into an address.
 *
 * Accepted forms: `1.2.3.4:50051`, `[::1]:50051` (IP literal and a port 1..65535), `unix:/abs/path`,
 * `unix:relative/path` and `unix:///abs/path` (the `unix:` forms of gRPC's `doc/naming.md`).
 *
 * Host names are refused on purpose: a record names one concrete server, and resolving a name here
 * would add a second name service whose changes the etcd watch cannot see. Register IP literals.
 *
 * @param addr The `Addr` string of the record.
 * @param path Field path used in the error, e.g. `etcd["svc/a"].Addr`.
 * @returns The address.
 * @throws ConfigError (at `path`) when the string is not one of the accepted forms.
 */
export function parseEtcdAddr(addr: string, path: string): Address {
  if (addr.startsWith('unix:')) {
    // `unix://` must be followed by an absolute path (doc/naming.md); `unix:` takes any path.
    const rest = addr.slice('unix:'.length);
    const file = rest.startsWith('//') ? rest.slice(2) : rest;
    if (file === '' || (rest.startsWith('//') && !file.startsWith('/'))) {
      throw new ConfigError(path, 'a unix address must be unix:<path> or unix:///<absolute path>', addr);
    }
    return { path: file };
  }
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr);
  if (match === null) {
    throw new ConfigError(path, 'must be <IPv4>:<port>, [<IPv6>]:<port> or unix:<path>', addr);
  }
  const host = match[1] ?? match[2]!;
  const version = isIP(host);
  if (version === 0 || (match[1] !== undefined && version !== 6) || (match[2] !== undefined && version !== 4)) {
    throw new ConfigError(path, 'host must be an IP literal (host names are not resolved; IPv6 goes in brackets)', addr);
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new ConfigError(path, 'port must be 1..65535', addr);
  return { host, port };
}

/**
 * Read one key/value of an etcd gRPC naming prefix into an endpoint.
 *
 * The value is the JSON etcd's `go.etcd.io/etcd/client/v3/naming/endpoints` manager writes,
 * `{"Addr":"1.2.3.4:50051","Metadata":...}` (etcd docs, "gRPC naming and discovery"). The older
 * `naming.Update` form `{"Op":0,"Addr":...}` is accepted too; `Op` must then be 0 (Add). Unknown
 * fields are ignored, as Go's JSON decoding does.
 *
 * The endpoint's attributes are `{ etcdKey: key }`, plus `metadata: <Metadata>` when the record has
 * a non-null `Metadata` (any JSON value, passed through untouched).
 *
 * @param key The full etcd key, e.g. `orders/10.0.0.1:50051`.
 * @param value The raw value bytes (UTF-8 JSON).
 * @returns The endpoint, or a ConfigError whose path is `etcd["<key>"]` or a field under it.
 */
export function parseEtcdRecord(key: string, value: Uint8Array | string): EtcdRecordResult {
  const path = `etcd[${JSON.stringify(key)}]`;
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : Buffer.from(value).toString('utf8'));
  } catch {
    return fail(path, 'value must be JSON {"Addr": "<ip>:<port>", "Metadata": ...}', typeof value === 'string' ? value : Buffer.from(value).toString('utf8'));
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(path, 'value must be a JSON object {"Addr": ..., "Metadata": ...}', json);
  }
  const record = json as { Addr?: unknown; Metadata?: unknown; Op?: unknown };
  if (record.Op !== undefined && record.Op !== 0) {
    return fail(`${path}.Op`, 'must be 0 (Add) when present', record.Op);
  }
  if (typeof record.Addr !== 'string') return fail(`${path}.Addr`, 'is required and must be a string', record.Addr);
  let address: Address;
  try {
    address = parseEtcdAddr(record.Addr, `${path}.Addr`);
  } catch (err) {
    return { ok: false, error: err as ConfigError };
  }
  const attributes: Record<string, unknown> = { etcdKey: key };
  if (record.Metadata !== undefined && record.Metadata !== null) attributes.metadata = record.Metadata;
  return { ok: true, endpoint: { addresses: [address], attributes } };
}

function fail(path: string, rule: string, got: unknown): EtcdRecordResult {
  return { ok: false, error: new ConfigError(path, rule, got) };
}
