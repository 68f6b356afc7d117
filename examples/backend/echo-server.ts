import * as grpc from '@grpc/grpc-js';
import { echoServiceDefinition } from './echo-proto';
import { createEchoService, type EchoBehaviour, type EchoStats } from './echo-service';
import { createLoadReporter } from './load-reporter';

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  /** Backend id, returned in every reply's `backend` field. */
  id: string;
  /** Port to listen on; 0 (default) picks a free ephemeral port. */
  port?: number;
  /** Loopback host to bind. Default `127.0.0.1`; use `::1` for IPv6. */
  host?: string;
  /** Server credentials. Default insecure. */
  credentials?: grpc.ServerCredentials;
  /** Initial server-wide behaviour (failure rate, delays). */
  behaviour?: EchoBehaviour;
  /** grpc-js server options (e.g. keepalive settings). */
  serverOptions?: grpc.ServerOptions;
  /** Random source for the server-wide behaviour. Default `Math.random`. */
  random?: () => number;
  /**
   * Report load with ORCA (gRFC A51) through grpc-js's own support: `oob` out of band only,
   * `per-call` also in every call's trailers (costly with grpc-js 1.14, see `createLoadReporter`).
   */
  orca?: 'oob' | 'per-call';
}

/** A running echo server. */
export interface EchoServerHandle {
  /** The backend id. */
  readonly id: string;
  /** The port actually bound. */
  readonly port: number;
  /** `host:port` (IPv6 hosts in brackets), usable as a grpc-js target or in an `ipv4:`/`ipv6:` list. */
  readonly address: string;
  /** The underlying grpc-js server. */
  readonly server: grpc.Server;
  /** A snapshot of the per-method counters. */
  stats(): EchoStats;
  /** Zeroes the counters. */
  resetStats(): void;
  /**
   * Replaces the server-wide behaviour for calls arriving from now on.
   * @throws RangeError when a field is out of range.
   */
  setBehaviour(behaviour: EchoBehaviour): void;
  /**
   * Graceful shutdown: stops accepting calls, sends GOAWAY, lets running calls finish. After `graceMs`
   * (default 5 000 ms) still-running calls (e.g. `hang` requests without deadline) are cut off. Idempotent.
   */
  stop(graceMs?: number): Promise<void>;
  /** Immediate shutdown: every running call is cancelled and every connection closed. Idempotent. */
  forceStop(): void;
}

/** Formats `host:port`, bracketing IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts an in-process `switchyard.demo.Echo` server (see {@link createEchoService}) on loopback.
 *
 * @returns once the server is bound.
 * @throws Error from grpc-js when the port cannot be bound (e.g. EADDRINUSE).
 */
export async function startEchoServer(options: EchoServerOptions): Promise<EchoServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const loadReporter = options.orca === undefined ? undefined : createLoadReporter({ perCall: options.orca === 'per-call' });
  const service = createEchoService({ id: options.id, behaviour: options.behaviour, random: options.random, loadReporter });
  const server = new grpc.Server({ ...options.serverOptions, ...loadReporter?.serverOptions });
  server.addService(echoServiceDefinition, service.implementation);
  loadReporter?.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(
      hostPort(host, options.port ?? 0),
      options.credentials ?? grpc.ServerCredentials.createInsecure(),
      (error, boundPort) => (error ? reject(error) : resolve(boundPort)),
    );
  });
  let stopping: Promise<void> | undefined;
  let forced = false;

  function forceStop(): void {
    if (forced) return;
    forced = true;
    loadReporter?.close();
    service.cancelTimers();
    server.forceShutdown();
  }

  return {
    id: options.id,
    port,
    address: hostPort(host, port),
    server,
    stats: () => service.stats(),
    resetStats: () => service.resetStats(),
    setBehaviour: (behaviour) => service.setBehaviour(behaviour),
    stop(graceMs = 5_000) {
      stopping ??= new Promise<void>((resolve) => {
        if (forced) return resolve();
        const timer = setTimeout(forceStop, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          loadReporter?.close();
          service.cancelTimers();
          resolve();
        });
      });
      return stopping;
    },
    forceStop,
  };
}
