#!/usr/bin/env node
/**
 * `switchyard`, the command line (`npx switchyard <command>`): one dispatcher over `node:util`'s
 * `parseArgs`, one module per command.
 *
 * - `check-config <file|->` validates a service config and prints its effect per method;
 * - `resolve <target>` prints what a resolver returns (`--watch` to follow it);
 * - `simulate …` runs the test kit's simulator, when that module is part of the build.
 */
import { runCheckConfig } from './check-config';
import { EXIT, type CliIo } from './io';
import { runResolve } from './resolve';

const USAGE = `usage: switchyard <command> [options]

commands:
  check-config <file|->   validate a service config; print per method its timeout, retry/hedging policy, throttling
  resolve <target>        print the endpoints and service config a target resolves to (--watch to follow)
  simulate ...            run a scripted load against simulated backends (when available)

Run "switchyard <command> --help" for a command's options.
`;

/** A command: its arguments (after the command name) and streams; resolves with the exit status. */
type Command = (args: readonly string[], io: CliIo, signal?: AbortSignal) => Promise<number>;

/**
 * The `simulate` command, if its module (`src/cli/simulate.ts`, exporting `runSimulate(args, io)`) is
 * part of this build; `undefined` otherwise.
 */
function loadSimulate(): Command | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('./simulate') as { runSimulate: Command }).runSimulate;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((error as Error).message).includes('simulate')) return undefined;
    throw error;
  }
}

/**
 * Run the command line `argv` (without `node` and the script).
 * @returns the exit status (0 fine, 1 bad input, 2 usage error).
 */
export async function runCli(argv: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const [command, ...args] = argv;
  const commands: Record<string, Command | undefined> = {
    'check-config': runCheckConfig,
    resolve: runResolve,
    simulate: loadSimulate(),
  };
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    (command === undefined ? io.err : io.out)(USAGE);
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const run = Object.prototype.hasOwnProperty.call(commands, command) ? commands[command] : undefined;
  if (run === undefined) {
    io.err(`switchyard: unknown command "${command}"${command === 'simulate' ? ' (not in this build)' : ''}\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    return await run(args, io, signal);
  } catch (error) {
    // parseArgs rejects unknown options and missing values.
    io.err(`switchyard ${command}: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
}

if (require.main === module) {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), stdin: process.stdin };
  void runCli(process.argv.slice(2), io, controller.signal).then((code) => {
    process.exitCode = code;
  });
}
