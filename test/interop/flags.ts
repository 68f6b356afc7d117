/**
 * Command-line flags in the interop tests' form (`--name=value`, or `--name value`; a bare `--name` is
 * `true`), as grpc/grpc `doc/interop-test-descriptions.md` specifies for clients and servers.
 *
 * @throws Error for an argument that is not a flag.
 */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}" (flags are --name=value)`);
    const eq = arg.indexOf('=');
    if (eq >= 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    } else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) {
      flags.set(arg.slice(2), argv[++i]!);
    } else {
      flags.set(arg.slice(2), 'true');
    }
  }
  return flags;
}
