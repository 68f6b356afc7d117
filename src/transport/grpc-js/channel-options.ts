import { isIPv6 } from 'node:net';
import { Channel, type ChannelCredentials, type ChannelInterface, type ChannelOptions } from '@grpc/grpc-js';

/** The part of grpc-js's public `Channel` a subchannel uses. Tests substitute a fake. */
export type GrpcChannelLike = Pick<ChannelInterface, 'getConnectivityState' | 'watchConnectivityState' | 'createCall' | 'close'>;

/** Creates the grpc-js channel for one connection attempt (same arguments as `new grpc.Channel`). */
export type GrpcChannelFactory = (target: string, credentials: ChannelCredentials, options: ChannelOptions) => GrpcChannelLike;

/** The real factory: grpc-js's public `Channel` class. */
export const createGrpcChannel: GrpcChannelFactory = (target, credentials, options) =>
  new Channel(target, credentials, options);

/**
 * grpc-js's own idle timeout, in ms: the largest timer delay Node accepts (≈ 24.8 days), so in practice
 * only switchyard's channel-level idle timeout (gRFC A62) closes idle connections.
 */
const GRPC_IDLE_TIMEOUT_MS = 2_147_483_647;

/**
 * grpc-js's reconnect backoff, in ms. switchyard closes a grpc-js channel as soon as its connection
 * fails, but grpc-js's pick_first has already asked the failed subchannel to reconnect after this
 * backoff; a 1 ms backoff makes that stray attempt happen right away (it then fails for the same reason
 * and stops) instead of a second later, when it could succeed and leave an orphaned connection.
 */
const GRPC_RECONNECT_BACKOFF_MS = 1;

/** User options a connection must not inherit: switchyard applies the service config itself. */
const STRIPPED_USER_OPTIONS = ['grpc.service_config'] as const;

/**
 * The host part of an `:authority` (`orders.internal:50051` → `orders.internal`,
 * `[::1]:50051` → `::1`, a bare host or bare IPv6 literal → itself).
 *
 * @param authority `host[:port]` per RFC 3986 §3.2, as a resolver's `defaultAuthority` returns.
 */
export function authorityHost(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end < 0 ? authority : authority.slice(1, end);
  }
  if (isIPv6(authority)) return authority;
  const colon = authority.lastIndexOf(':');
  return colon < 0 ? authority : authority.slice(0, colon);
}

/**
 * The grpc-js channel options for one subchannel connection: the user's options with switchyard's
 * overrides on top, so that grpc-js does no name resolution, load balancing, retries or reconnects of
 * its own (switchyard owns them: gRFC A6 retries, `doc/connection-backoff.md` reconnects).
 *
 * - `grpc.enable_retries: 0`, `grpc.service_config_disable_resolution: 1`, and no `grpc.service_config`.
 * - `grpc.use_local_subchannel_pool: 1`: the connection is not shared with other grpc-js channels, so
 *   closing this channel really closes it.
 * - `grpc.default_authority`: `authority` is sent as `:authority`.
 * - `grpc.ssl_target_name_override` (unless the user set one): with TLS, the server certificate is
 *   verified against the target's host name (and SNI carries it), not against the IP connected to.
 * - `grpc.client_idle_timeout_ms`: effectively off (switchyard's channel owns idleness).
 * - `grpc.initial_reconnect_backoff_ms` / `grpc.max_reconnect_backoff_ms`: see the stray-attempt note above.
 *
 * @param userOptions `SwitchyardChannelOptions.channelOptions` (keepalive, message sizes, ...).
 * @param authority the target's `host[:port]`.
 */
export function buildGrpcChannelOptions(userOptions: ChannelOptions, authority: string): ChannelOptions {
  const options: ChannelOptions = { ...userOptions };
  for (const key of STRIPPED_USER_OPTIONS) delete options[key];
  options['grpc.enable_retries'] = 0;
  options['grpc.service_config_disable_resolution'] = 1;
  options['grpc.use_local_subchannel_pool'] = 1;
  options['grpc.client_idle_timeout_ms'] = GRPC_IDLE_TIMEOUT_MS;
  options['grpc.initial_reconnect_backoff_ms'] = GRPC_RECONNECT_BACKOFF_MS;
  options['grpc.max_reconnect_backoff_ms'] = GRPC_RECONNECT_BACKOFF_MS;
  if (authority !== '') {
    options['grpc.default_authority'] = authority;
    const host = authorityHost(authority);
    // An explicit user override (e.g. a test certificate for another name) is kept.
    if (host !== '' && options['grpc.ssl_target_name_override'] === undefined) {
      options['grpc.ssl_target_name_override'] = host;
    }
  }
  return options;
}
