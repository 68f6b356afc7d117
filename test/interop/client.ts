/**
 * The gRPC interop test client (grpc/grpc `doc/interop-test-descriptions.md`, section "Client"), on a
 * switchyard channel passed to the grpc-js client as `channelOverride` — or, with `--channel=grpc-js`,
 * on plain grpc-js as the control. One case per process, and nothing else holds the event loop: the
 * process must end by itself once the case is done.
 *
 *   tsx test/interop/client.ts --server_port=PORT --test_case=large_unary [flags]
 *
 * Flags of the interop spec: `--server_host` (default 127.0.0.1), `--server_host_override` (TLS name
 * and `:authority`), `--server_port`, `--test_case`, `--use_tls`, `--use_test_ca`,
 * `--service_config_json` (the default service config; turns service config lookups off), and the
 * experimental soak flags `--soak_iterations` (10), `--soak_max_failures` (0),
 * `--soak_per_iteration_max_acceptable_latency_ms` (1000), `--soak_overall_timeout_seconds` (30).
 * This suite's own: `--ca_file` (the test CA that `--use_test_ca` trusts; the spec's is grpc's `ca.pem`),
 * `--default_compression=gzip` (grpc-js `grpc.default_compression_algorithm`), `--channel`
 * (`switchyard`, default, or `grpc-js`), and `--hold_event_loop` (diagnosis only: a ref'd timer runs
 * while the case does, so a lifecycle hole does not hide what comes after it).
 *
 * Output, one line on stdout, and the exit code:
 * - `PASS <case> <ms>`, exit 0;
 * - `FAIL <case>: <first assertion that did not hold>`, exit 1;
 * - `EARLY-EXIT <case>: …`, exit 3: the event loop emptied while the case was still running, i.e.
 *   Node was about to exit with a call pending and its callback never run.
 * A process that does not exit after its `PASS`/`FAIL` line holds something open after every client and
 * channel was closed.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { createChannel } from '../../src/index';
import { CASES, type CaseContext } from './cases';
import { parseFlags } from './flags';
import { TestService, UnimplementedService } from './proto';

const COMPRESSION: Record<string, number> = { identity: 0, deflate: 1, gzip: 2 };

const flags = parseFlags(process.argv.slice(2));
const flag = (name: string, fallback: string): string => flags.get(name) ?? fallback;
const testCase = flag('test_case', '');
let finished = false;

process.on('exit', () => {
  if (finished) return;
  process.stdout.write(`EARLY-EXIT ${testCase}: the event loop emptied while the case was running (a call pending, its callback never ran)\n`);
  process.exitCode = 3;
});

interface Connection {
  readonly client: grpc.Client;
  readonly unimplemented: grpc.Client;
  close(): void;
}

/** A TestService client (and an UnimplementedService one) on a new channel per the flags. */
function connect(): Connection {
  const host = flag('server_host', '127.0.0.1');
  const target = `${host}:${flag('server_port', '')}`;
  const useTls = flag('use_tls', 'false') === 'true';
  const credentials = useTls
    ? grpc.credentials.createSsl(flag('use_test_ca', 'false') === 'true' ? readFileSync(flag('ca_file', '')) : null)
    : grpc.credentials.createInsecure();
  const channelOptions: grpc.ChannelOptions = {};
  const override = flags.get('server_host_override');
  if (override !== undefined) {
    channelOptions['grpc.ssl_target_name_override'] = override;
    channelOptions['grpc.default_authority'] = override;
  }
  const compression = flags.get('default_compression');
  if (compression !== undefined) channelOptions['grpc.default_compression_algorithm'] = COMPRESSION[compression];
  const serviceConfig = flags.get('service_config_json');

  if (flag('channel', 'switchyard') === 'grpc-js') {
    const options = { ...channelOptions, ...(serviceConfig !== undefined ? { 'grpc.service_config': serviceConfig } : {}) };
    const client = new TestService(target, credentials, options);
    // Both clients on one grpc-js channel, as the switchyard variant shares one switchyard channel.
    const unimplemented = new UnimplementedService(target, credentials, { channelOverride: client.getChannel() });
    return { client, unimplemented, close: () => client.close() };
  }
  const channel = createChannel(target, credentials, {
    channelOptions,
    ...(serviceConfig !== undefined ? { serviceConfig, serviceConfigLookup: false } : {}),
  });
  const client = new TestService(target, credentials, { channelOverride: channel });
  const unimplemented = new UnimplementedService(target, credentials, { channelOverride: channel });
  return {
    client,
    unimplemented,
    close: () => {
      client.close();
      unimplemented.close();
      channel.close();
    },
  };
}

async function main(): Promise<void> {
  const run = CASES[testCase];
  if (run === undefined) throw new Error(`unknown --test_case "${testCase}"; known: ${Object.keys(CASES).join(', ')}`);
  const hold = flag('hold_event_loop', 'false') === 'true' ? setInterval(() => undefined, 60_000) : undefined;
  const connection = connect();
  const context: CaseContext = {
    client: connection.client,
    unimplemented: connection.unimplemented,
    newClient: () => {
      const { client, close } = connect();
      return { client, close };
    },
    soak: {
      iterations: Number(flag('soak_iterations', '10')),
      maxFailures: Number(flag('soak_max_failures', '0')),
      maxLatencyMs: Number(flag('soak_per_iteration_max_acceptable_latency_ms', '1000')),
      overallTimeoutMs: Number(flag('soak_overall_timeout_seconds', '30')) * 1000,
    },
  };
  const startedAt = performance.now();
  try {
    await run(context);
    process.stdout.write(`PASS ${testCase} ${Math.round(performance.now() - startedAt)}\n`);
  } finally {
    finished = true;
    connection.close();
    if (hold !== undefined) clearInterval(hold);
  }
}

main().catch((error: unknown) => {
  finished = true;
  process.stdout.write(`FAIL ${testCase}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
