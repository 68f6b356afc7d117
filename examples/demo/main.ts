/**
 * The switchyard demo (`npm run demo -- [--duration 12] [--concurrency 16] [--discovery etcd] …`).
 *
 * Starts three echo backends as child processes on loopback (b3 is flaky: it fails `--fail-rate` of its
 * calls with UNAVAILABLE and answers 1 % too late) and drives unary calls through a switchyard channel
 * whose service config gives the echo methods a timeout, a retry policy on UNAVAILABLE and retry
 * throttling (gRFC A6). At the same time the same load runs on a second channel without the retry
 * policy, so both see the same backends and the same failures. b1 is crashed with SIGKILL at 1/3 of the
 * run and restarted on the same port at 2/3. The two loads are then printed side by side. The client
 * finds the backends through an `ipv4:` list, or with `--discovery etcd` through registrations in a
 * local etcd.
 *
 * Ctrl-C (or SIGTERM) stops the load, prints the report so far and cleans up; a second one exits at once.
 * Every child (backends, etcd) is killed on exit; backends also exit by themselves if this process dies.
 */
import { parseDemoArgs, USAGE, UsageError, type DemoOptions } from './args';
import { backendTotals, closeBackends, startDemoBackends, type DemoBackend } from './backends';
import { DEMO_MAX_RECONNECT_BACKOFF_MS, demoServiceConfig } from './channel';
import { givenTarget, ipv4Discovery, type Discovery } from './discovery';
import { etcdDiscovery } from './discovery-etcd';
import { ETCD_INSTALL_COMMAND, etcdAvailable, startEtcd, type EtcdCluster } from '../etcd/etcd-server';
import { BACKEND_TABLE_NOTE, backendTable, comparisonTable } from './report';
import { startMetricsEndpoint, type MetricsEndpoint } from './metrics';
import { runSideBySide, type LoadSpec } from './run';

const BACKEND_COUNT = 3;
/** 0-based index of the flaky backend (b3); b1 (index 0) is the one crashed. */
const FLAKY_INDEX = 2;
/** Fraction of the flaky backend's calls answered only after the timeout (DEADLINE_EXCEEDED). */
const SLOW_FRACTION = 0.01;
/** After clean-up the process should exit by itself; if a leaked handle keeps it alive, say so and exit. */
const EXIT_WATCHDOG_MS = 3_000;

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function run(options: DemoOptions, abort: AbortController): Promise<void> {
  let backends: DemoBackend[] = [];
  let etcd: EtcdCluster | undefined;
  let discovery: Discovery | undefined;
  let metrics: MetricsEndpoint | undefined;
  try {
    if (options.metricsPort !== undefined) {
      metrics = await startMetricsEndpoint(options.metricsPort);
      log(`metrics for Prometheus at ${metrics.url} (the first load's channel; see docs/observability.md)`);
    }
    if (options.target === undefined) {
      log(`starting ${BACKEND_COUNT} backends on 127.0.0.1${options.discovery === 'etcd' ? ' and etcd' : ''} …`);
      // b3 fails a fraction of its calls with UNAVAILABLE (retryable) and answers 1 % after the timeout.
      const slow = ['--delay-ms', String(options.timeoutMs + 500), '--delay-fraction', String(SLOW_FRACTION)];
      const flaky = [...(options.failRate > 0 ? ['--fail-rate', String(options.failRate), '--fail-code', '14'] : []), ...slow];
      const [started, cluster] = await Promise.allSettled([
        // Every backend reports its load out of band (ORCA), for weighted_round_robin.
        startDemoBackends(BACKEND_COUNT, (i) => [...(i === FLAKY_INDEX ? flaky : []), '--orca', 'oob']),
        options.discovery === 'etcd' ? startEtcd({ cleanupOnSignals: false }) : Promise.resolve(undefined),
      ]);
      if (started.status === 'fulfilled') backends = started.value;
      if (cluster.status === 'fulfilled') etcd = cluster.value;
      if (started.status === 'rejected') throw started.reason;
      if (cluster.status === 'rejected') throw cluster.reason;
      for (const [i, b] of backends.entries()) {
        const role =
          i === 0 ? '  (crashed and restarted during the run)'
          : i === FLAKY_INDEX ? `  (flaky: fails ${options.failRate * 100}% with UNAVAILABLE, ${SLOW_FRACTION * 100}% too slow)`
          : '';
        log(`  ${b.process.id}  ${b.process.address}  pid ${b.process.pid}${role}`);
      }
      if (etcd !== undefined) log(`  etcd ${etcd.endpoints.join(',')}`);
      if (abort.signal.aborted) return;
    }
    discovery =
      options.target !== undefined ? givenTarget(options.target)
      : etcd !== undefined ? await etcdDiscovery(etcd, backends)
      : ipv4Discovery(backends);

    const loads: LoadSpec[] = [
      {
        label: options.hedgeDelayMs === undefined ? 'with retries' : 'with hedging',
        serviceConfig: demoServiceConfig(options, true),
        meterProvider: metrics?.meterProvider,
      },
    ];
    if (options.compare) loads.push({ label: 'no retry policy', serviceConfig: demoServiceConfig(options, false) });
    log(`target ${discovery.target}`);
    log(`service config (${loads[0]!.label}) ${JSON.stringify(loads[0]!.serviceConfig)}`);
    if (options.compare) {
      log('service config (no retry policy): the same without the retry/hedging policy and retryThrottling');
    }
    log(`reconnect backoff capped at ${DEMO_MAX_RECONNECT_BACKOFF_MS / 1000} s (default 120 s) so the restarted backend rejoins in time`);
    const each = loads.length > 1 ? ' each, side by side against the same backends' : '';
    log(`${options.durationMs / 1000} s, ${options.concurrency} calls in flight${each}\n`);

    const summaries = await runSideBySide(loads, {
      discovery,
      backends,
      durationMs: options.durationMs,
      concurrency: options.concurrency,
      timeoutMs: options.timeoutMs,
      signal: abort.signal,
    });
    const interrupted = abort.signal.aborted ? ' (interrupted)' : '';
    log(`\n== switchyard, ${options.policy}, ${discovery.target.split(':')[0]} discovery${interrupted} ==\n`);
    log(`${backendTable(summaries, await backendTotals(backends))}\n${BACKEND_TABLE_NOTE}\n`);
    log(`${comparisonTable(summaries)}\n`);
  } finally {
    await discovery?.close();
    await Promise.all([etcd?.close(), closeBackends(backends), metrics?.close()]);
  }
}

async function main(): Promise<number> {
  let options: DemoOptions | 'help';
  try {
    options = parseDemoArgs();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    log(USAGE);
    return 0;
  }
  if (options.discovery === 'etcd' && !etcdAvailable()) {
    process.stderr.write(`--discovery etcd needs the etcd binary (not found). Install it with:\n  ${ETCD_INSTALL_COMMAND}\n`);
    return 2;
  }

  const abort = new AbortController();
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      // Second signal: no more waiting. The exit hooks SIGKILL the children.
      process.exit(exitCode);
    }
    exitCode = signal === 'SIGINT' ? 130 : 143;
    process.stdout.write(`\n${signal}: stopping (again to quit at once) …\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await run(options, abort);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return exitCode;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => {
      process.stderr.write(`demo: something kept the process alive ${EXIT_WATCHDOG_MS} ms after clean-up; exiting\n`);
      process.exit(code);
    }, EXIT_WATCHDOG_MS).unref();
  },
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), EXIT_WATCHDOG_MS).unref();
  },
);
