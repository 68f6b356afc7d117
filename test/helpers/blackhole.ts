import { createServer, type Socket } from 'node:net';

/** A loopback TCP listener that accepts connections and never sends a byte (a "black hole" server). */
export interface BlackHole {
  /** The loopback host it listens on. */
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  /** How many connections were accepted so far. */
  accepted(): number;
  /** Connections currently open. */
  openConnections(): number;
  /** Destroy every accepted socket (which closes the client ends too) and stop listening. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start a black hole on loopback: TCP handshakes complete (the kernel accepts), but no HTTP/2 SETTINGS
 * or TLS handshake ever comes back, like a hung server. Used to exercise connect timeouts without ever
 * leaving 127.0.0.0/8 / ::1.
 *
 * @param host loopback address to bind; default `127.0.0.1`.
 */
export async function startBlackHole(host = '127.0.0.1'): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    // Never read or write; just keep the socket until close().
    socket.pause();
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('black hole has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    host,
    port: address.port,
    accepted: () => accepted,
    openConnections: () => sockets.size,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
