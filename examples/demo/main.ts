/**
 * The switchyard demo (`npm run demo -- [--duration 20] [--concurrency 16] [--policy round_robin]`).
 *
 * Starts three echo backends as child processes on loopback, drives unary calls through a switchyard
 * channel over all three (`ipv4:` target, load-balancing policy from the service config), crashes one
 * backend with SIGKILL at 1/3 of the run and restarts it on the same port at 2/3, then prints what each
 * backend served and how the calls ended. With `--target` it loads an existing service instead.
 *
 * Ctrl-C (or SIGTERM) stops the load, prints the report so far and cleans up; a second one exits at once.
 * Every backend child is killed on exit, and exits by itself if this process dies.
 */
import { parseDemoArgs, USAGE, UsageError, type DemoOptions } from './args';
import { backendTotals, closeBackends, startDemoBackends, type DemoBackend } from './backends';
import { demoServiceConfig, ipv4Target, openDemoClient, type DemoClient } from './channel';
import { scheduleCrashAndRestart, type Chaos } from './chaos';
import { runLoad } from './load';
import { startProgress } from './progress';
import { renderReport } from './report';

const BACKEND_COUNT = 3;
/** After clean-up the process should exit by itself; if a leaked handle keeps it alive, say so and exit. */
const EXIT_WATCHDOG_MS = 3_000;

function log(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function run(options: DemoOptions, abort: AbortController): Promise<void> {
  let backends: DemoBackend[] = [];
  let demo: DemoClient | undefined;
  let chaos: Chaos | undefined;
  try {
    if (options.target === undefined) {
      log(`starting ${BACKEND_COUNT} backends on 127.0.0.1 …`);
      const extra = options.failRate > 0 ? ['--fail-rate', String(options.failRate), '--fail-code', '14'] : [];
      backends = await startDemoBackends(BACKEND_COUNT, extra);
      for (const b of backends) log(`  ${b.process.id}  ${b.process.address}  pid ${b.process.pid}`);
      if (abort.signal.aborted) return;
    }
    const target = options.target ?? ipv4Target(backends.map((b) => b.process.address));
    const serviceConfig = demoServiceConfig(options);
    demo = openDemoClient(target, serviceConfig);
    log(`target ${target}`);
    log(`service config ${JSON.stringify(serviceConfig)}`);
    log(
      `${options.durationMs / 1000} s, ${options.concurrency} calls in flight, ${options.deadlineMs} ms deadline per call\n`,
    );

    const load = runLoad({
      client: demo.client,
      durationMs: options.durationMs,
      concurrency: options.concurrency,
      deadlineMs: options.deadlineMs,
      signal: abort.signal,
    });
    const progress = startProgress({
      counters: load.counters,
      startedAt: load.startedAt,
      backendIds: backends.map((b) => b.process.id),
    });
    if (backends.length > 0) chaos = scheduleCrashAndRestart(backends[0]!, options.durationMs, progress.event);
    const counters = await load.done;
    const elapsedMs = Date.now() - load.startedAt;
    progress.stop();
    await chaos?.settle();
    chaos = undefined;

    const totals = await backendTotals(backends);
    const label = `switchyard, ${options.policy}${abort.signal.aborted ? ' (interrupted)' : ''}`;
    log(renderReport({ label, counters, elapsedMs }, totals));
  } finally {
    await chaos?.settle();
    demo?.close();
    await closeBackends(backends);
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

  const abort = new AbortController();
  let exitCode = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      // Second signal: no more waiting. The backend module's exit hook SIGKILLs the children.
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
