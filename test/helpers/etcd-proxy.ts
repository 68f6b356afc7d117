/**
 * A loopback TCP proxy in front of an etcd member that a test can cut: `block()` drops every open
 * connection and resets new ones, so the client sees etcd as unreachable while the test keeps talking
 * to etcd directly (for example to write and compact while a watcher is cut off).
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  readonly endpoint: string;
  /** Drop all open connections and refuse (reset) new ones until unblock(). */
  block(): void;
  /** Forward connections again. */
  unblock(): void;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
}

/** Start a proxy on an ephemeral 127.0.0.1 port forwarding to `127.0.0.1:<targetPort>`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let blocked = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  };
  const server = createServer((client) => {
    track(client);
    if (blocked) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const dropAll = (): void => {
    for (const socket of sockets) socket.resetAndDestroy();
    sockets.clear();
  };
  return {
    endpoint: `127.0.0.1:${port}`,
    block() {
      blocked = true;
      dropAll();
    },
    unblock() {
      blocked = false;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
