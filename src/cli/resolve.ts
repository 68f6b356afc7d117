import { parseArgs } from 'node:util';
import { systemClock } from '../clock';
import { validateServiceConfig } from '../config/validate';
import { addressKey } from '../resolver/address';
import { getResolverFactory, registeredSchemes } from '../resolver/registry';
import { parseTarget } from '../resolver/target';
import type { Resolver, ResolverUpdate } from '../resolver/types';
import { EXIT, type CliIo } from './io';
import '../resolver';
import '../picker';

export const RESOLVE_USAGE = `usage: switchyard resolve <target> [--watch] [--interval <s>] [--etcd-endpoints <host:port,...>] [--no-service-config] [--json]

Resolve a gRPC target (doc/naming.md: dns:///host:port, ipv4:a:p,b:p, unix:/path, etcd:///prefix, ...)
with switchyard's resolvers and print the endpoints, the service config the resolver supplies (DNS TXT
record _grpc_config.<host>, gRFC A2), and any error.
  --watch               keep running and print every update (DNS re-resolves every --interval seconds)
  --interval <s>        re-resolution interval with --watch (default 30)
  --etcd-endpoints      etcd cluster for etcd:///prefix targets (or give it as etcd://host:port/prefix)
  --no-service-config   do not look up the service config
  --json                print each result as one JSON line
Exit status: 0 resolved, 1 the resolver failed, 2 usage error. With --watch, runs until interrupted.
`;

/** What one resolver result prints as with `--json`. */
interface Printed {
  readonly at: string;
  readonly endpoints?: { addresses: string[]; attributes?: unknown }[];
  readonly serviceConfig?: unknown;
  readonly serviceConfigErrors?: unknown;
  readonly error?: string;
}

/**
 * `switchyard resolve`: see {@link RESOLVE_USAGE}.
 * @param signal aborts a `--watch` (the process's SIGINT in `main.ts`).
 * @returns the exit status.
 */
export async function runResolve(args: readonly string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      watch: { type: 'boolean', default: false },
      interval: { type: 'string', default: '30' },
      'etcd-endpoints': { type: 'string' },
      'no-service-config': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.out(RESOLVE_USAGE);
    return EXIT.ok;
  }
  const intervalMs = Number(values.interval) * 1000;
  if (positionals.length !== 1 || !(intervalMs > 0)) {
    io.err(RESOLVE_USAGE);
    return EXIT.usage;
  }
  let resolver: Resolver;
  let settle!: (code: number) => void;
  const done = new Promise<number>((resolve) => (settle = resolve));
  const print = (printed: Printed): void => {
    if (values.json) io.out(`${JSON.stringify(printed)}\n`);
    else io.out(describe(printed));
  };
  try {
    const target = parseTarget(positionals[0]!);
    const factory = getResolverFactory(target.scheme);
    if (factory === undefined) throw new Error(`target: unknown scheme "${target.scheme}" (registered: ${registeredSchemes().join(', ')})`);
    const etcd = values['etcd-endpoints'];
    resolver = factory.create(target, {
      onUpdate(update) {
        print(describeUpdate(update));
        if (!values.watch) settle(EXIT.ok);
      },
      onError(error) {
        print({ at: new Date().toISOString(), error: error.message });
        if (!values.watch) settle(EXIT.invalid);
      },
    }, {
      clock: systemClock,
      refreshIntervalMs: intervalMs,
      minResolutionIntervalMs: values.watch ? intervalMs : 0,
      serviceConfigLookup: !values['no-service-config'],
      options: etcd === undefined ? {} : { etcd: { endpoints: etcd.split(',') } },
    });
  } catch (error) {
    io.err(`switchyard resolve: ${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const onAbort = (): void => settle(EXIT.ok);
  signal?.addEventListener('abort', onAbort, { once: true });
  resolver.requestResolution();
  const code = await done;
  signal?.removeEventListener('abort', onAbort);
  resolver.close();
  return code;
}

function describeUpdate(update: ResolverUpdate): Printed {
  const endpoints = update.endpoints.map((e) => ({
    addresses: e.addresses.map(addressKey),
    ...(e.attributes === undefined || Object.keys(e.attributes).length === 0 ? {} : { attributes: e.attributes }),
  }));
  const printed: { -readonly [K in keyof Printed]: Printed[K] } = { at: new Date().toISOString(), endpoints };
  if (update.serviceConfigError !== undefined) {
    printed.serviceConfigErrors = [{ path: 'serviceConfig', message: update.serviceConfigError.message }];
  } else if (update.serviceConfig !== undefined && update.serviceConfig !== null) {
    printed.serviceConfig = update.serviceConfig;
    const validation = validateServiceConfig(update.serviceConfig);
    if (!validation.valid) printed.serviceConfigErrors = validation.errors;
  }
  return printed;
}

function describe(printed: Printed): string {
  if (printed.error !== undefined) return `${printed.at} error: ${printed.error}\n`;
  const lines = [`${printed.at} ${printed.endpoints!.length} endpoint(s):`];
  for (const e of printed.endpoints!) lines.push(`  ${e.addresses.join(', ')}${e.attributes === undefined ? '' : `  ${JSON.stringify(e.attributes)}`}`);
  if (printed.serviceConfig !== undefined) {
    const text = typeof printed.serviceConfig === 'string' ? printed.serviceConfig : JSON.stringify(printed.serviceConfig);
    lines.push(`service config from the resolver: ${text}`);
  } else {
    lines.push('service config from the resolver: none');
  }
  for (const e of (printed.serviceConfigErrors as { path: string; message: string }[] | undefined) ?? []) {
    lines.push(`  invalid (a channel keeps its last good config, gRFC A21): ${e.path}: ${e.message}`);
  }
  return `${lines.join('\n')}\n`;
}
