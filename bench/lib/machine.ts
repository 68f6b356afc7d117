import { createRequire } from 'node:module';
import * as os from 'node:os';

/** The machine a run came from, as reported with every result. */
export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly platform: string;
  readonly grpcJs: string;
  /** 1-minute load average when the run started and ended: other work on the machine skews figures. */
  readonly loadAverage: { start: number; end?: number };
}

/** Reads what the report states about the machine. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const grpcJs = (createRequire(__filename)('@grpc/grpc-js/package.json') as { version: string }).version;
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    grpcJs,
    loadAverage: { start: os.loadavg()[0]! },
  };
}

/** One line for reports: `2 × Intel …, 24 GiB, Node v20.x, @grpc/grpc-js 1.14.x, linux …`. */
export function describeMachine(m: MachineInfo): string {
  const load = m.loadAverage.end === undefined ? `${m.loadAverage.start.toFixed(2)}` : `${m.loadAverage.start.toFixed(2)} → ${m.loadAverage.end.toFixed(2)}`;
  return `${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, @grpc/grpc-js ${m.grpcJs}, ${m.platform}; 1-min load average ${load}`;
}
