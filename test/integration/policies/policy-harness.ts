/**
 * Shared set-up for the policy integration tests: in-process grpc-js echo backends on loopback, a
 * switchyard channel over them with a given service config, and a closed-loop load that records which
 * backend answered each call.
 */
import * as grpc from '@grpc/grpc-js';
import { createChannel, type SwitchyardChannel } from '../../../src/index';
import { makeEchoClient, unaryOutcome, type EchoClient } from '../../helpers/echo-client';
import { startEchoServer, type EchoServerHandle, type EchoServerOptions } from '../../helpers/echo-server';

const insecure = grpc.credentials.createInsecure();

/** Backends, a channel and a client over them. */
export interface PolicyRig {
  readonly servers: EchoServerHandle[];
  readonly channel: SwitchyardChannel;
  readonly client: EchoClient;
  close(): Promise<void>;
}

/**
 * Start one echo server per entry of `backends` (ids `b0`, `b1`, …) and a switchyard channel over
 * them (an `ipv4:` target) with `serviceConfig`.
 */
export async function startRig(backends: ReadonlyArray<Omit<EchoServerOptions, 'id'>>, serviceConfig: object): Promise<PolicyRig> {
  const servers = await Promise.all(backends.map((options, i) => startEchoServer({ id: `b${i}`, ...options })));
  const target = `ipv4:${servers.map((s) => s.address).join(',')}`;
  const channel = createChannel(target, insecure, { serviceConfig });
  const client = makeEchoClient(target, insecure, { channelOverride: channel });
  return {
    servers,
    channel,
    client,
    async close() {
      client.close();
      channel.close();
      await Promise.all(servers.map((s) => s.stop(1_000)));
    },
  };
}

/** What a load run saw: the answering backend per call (`error:<code>` for a failure). */
export type Answers = string[];

/**
 * Run `total` unary calls, `concurrency` at a time (closed loop), each with `metadata(i)` if given.
 * @returns the backend id (or `error:<code name>`) of each call, in completion order.
 */
export async function runLoad(
  client: EchoClient,
  total: number,
  concurrency: number,
  metadata?: (i: number) => Record<string, string>,
): Promise<Answers> {
  const answers: Answers = [];
  let started = 0;
  const worker = async (): Promise<void> => {
    while (started < total) {
      const i = started++;
      const outcome = await unaryOutcome(client, { message: 'policy' }, { timeoutMs: 20_000, metadata: metadata?.(i) });
      answers.push(outcome.reply?.backend ?? `error:${grpc.status[outcome.status.code]}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return answers;
}

/** Count how often each answer occurs. */
export function shares(answers: Answers): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) out[a] = (out[a] ?? 0) + 1;
  return out;
}
