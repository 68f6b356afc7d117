import * as path from 'node:path';
import { forkRpcChild, type RpcChild } from './rpc-child';

const SCRIPT = path.resolve(__dirname, 'multi-port-server.ts');

/** Echo servers listening on many ports, spread over a few child processes. */
export interface MultiPortServers {
  /** `127.0.0.1:port` of every listening port. */
  readonly addresses: readonly string[];
  /** Kills every child. Never rejects. */
  close(): Promise<void>;
}

/**
 * Starts `processes` children serving `count` ports in total (each child answers with its own id,
 * `m1`, `m2`, …, so replies do not tell ports apart).
 * @throws Error (rejects) when a child fails to start or bind.
 */
export async function startMultiPortServers(count: number, processes: number): Promise<MultiPortServers> {
  const children: RpcChild[] = [];
  try {
    const per = Math.ceil(count / processes);
    const lists = await Promise.all(
      Array.from({ length: processes }, async (_, i) => {
        const child = await forkRpcChild(SCRIPT);
        children.push(child);
        return child.call<number[]>('listen', { id: `m${i + 1}`, count: Math.max(0, Math.min(per, count - i * per)) });
      }),
    );
    return {
      addresses: lists.flat().map((port) => `127.0.0.1:${port}`),
      close: async () => {
        await Promise.all(children.map((c) => c.close(1_000)));
      },
    };
  } catch (error) {
    await Promise.all(children.map((c) => c.close(1_000)));
    throw error;
  }
}
