import { connect, createServer, type Socket } from 'node:net';

/** A loopback TCP forwarder that counts connections and bytes, so a test can see what a client does on the wire. */
export interface TcpProxy {
  /** The loopback host the proxy listens on. */
  readonly host: string;
  /** The port the proxy listens on. */
  readonly port: number;
  /** `<host>:<port>` (IPv4 hosts only). */
  readonly address: string;
  /** Connections accepted so far (each is one client connection, e.g. one HTTP/2 session). */
  accepted(): number;
  /** Connections currently open. */
  openConnections(): number;
  /** Bytes forwarded from clients to the upstream so far. */
  bytesUp(): number;
  /** Bytes forwarded from the upstream to clients so far. */
  bytesDown(): number;
  /** Destroy every connection (both ends) and stop listening. Idempotent. */
  close(): Promise<void>;
}

/** Where a {@link TcpProxy} listens. */
export interface TcpProxyListen {
  /** Loopback IPv4 address; default `127.0.0.1`. Any 127.0.0.0/8 address works on Linux. */
  readonly host?: string;
  /** Port; default 0 (ephemeral). */
  readonly port?: number;
  /**
   * Hold what the upstream sends on each connection for its first this-many ms, then forward it all:
   * a server slow to answer the HTTP/2 handshake. Default 0.
   */
  readonly replyDelayMs?: number;
}

/**
 * Start a TCP proxy on loopback that forwards every connection to `127.0.0.1:<upstreamPort>`. When
 * either side closes or errors, both sides are destroyed. Several proxies on different 127.x
 * addresses with the same port let a DNS name with several A records reach several backends.
 *
 * @param upstreamPort the loopback port to forward to.
 * @param listen where to listen; default an ephemeral port on 127.0.0.1.
 * @throws Error (rejects) if the listener cannot be bound (e.g. EADDRINUSE for a fixed port).
 */
export async function startTcpProxy(upstreamPort: number, listen: TcpProxyListen = {}): Promise<TcpProxy> {
  const host = listen.host ?? '127.0.0.1';
  const pairs = new Set<Socket>();
  let accepted = 0;
  let up = 0;
  let down = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(upstreamPort, '127.0.0.1');
    pairs.add(client);
    pairs.add(upstream);
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(client);
      pairs.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
      upstream.write(chunk);
    });
    let held: Buffer[] | undefined;
    if (listen.replyDelayMs) {
      held = [];
      setTimeout(() => {
        for (const chunk of held!) client.write(chunk);
        held = undefined;
      }, listen.replyDelayMs);
    }
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
      if (held) held.push(chunk);
      else client.write(chunk);
    });
    for (const socket of [client, upstream]) {
      socket.on('error', end);
      socket.on('close', end);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('tcp proxy has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    address: `${host}:${address.port}`,
    accepted: () => accepted,
    // Two sockets per forwarded connection.
    openConnections: () => pairs.size / 2,
    bytesUp: () => up,
    bytesDown: () => down,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of pairs) socket.destroy();
        pairs.clear();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/**
 * Start one proxy per `hosts[i]` → `127.0.0.1:<upstreamPorts[i]>`, all on the same port (so one DNS
 * name `name:port` with an A record per host reaches every upstream). Retries with a new port when
 * one is taken on some host.
 *
 * @throws Error (rejects) when no common port is found in 20 tries, or the lengths differ.
 */
export async function startTcpProxiesOnOnePort(upstreamPorts: readonly number[], hosts: readonly string[]): Promise<TcpProxy[]> {
  if (upstreamPorts.length !== hosts.length || hosts.length === 0) throw new Error('need one host per upstream port');
  let lastError: unknown;
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await startTcpProxy(upstreamPorts[0]!, { host: hosts[0] });
    const started = [first];
    try {
      for (let i = 1; i < hosts.length; i++) started.push(await startTcpProxy(upstreamPorts[i]!, { host: hosts[i], port: first.port }));
      return started;
    } catch (error) {
      lastError = error;
      await Promise.all(started.map((p) => p.close()));
    }
  }
  throw new Error(`no port free on every one of ${hosts.join(', ')}: ${String(lastError)}`);
}
