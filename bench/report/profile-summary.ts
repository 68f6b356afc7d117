/**
 * Summarises a V8 CPU profile (`.cpuprofile`, written by `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof`):
 * self time per function and per source file, heaviest first, so a missed target can be traced to code.
 *
 *   npx tsx bench/report/profile-summary.ts FILE.cpuprofile [--top 25] [--filter src/]
 *
 * `--filter` keeps only functions whose file path contains the string (percentages stay of the total).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time (µs) of each function and each file of a profile. */
export interface ProfileSummary {
  readonly totalUs: number;
  readonly functions: Array<{ name: string; file: string; selfUs: number }>;
  readonly files: Array<{ file: string; selfUs: number }>;
}

function shortFile(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('node_modules/');
  if (nm >= 0) return path.slice(nm + 'node_modules/'.length);
  const src = path.search(/\/(src|bench|examples|test)\//);
  return src >= 0 ? path.slice(src + 1) : path || '(native/vm)';
}

/** Self time per function and file, from the sample timeline (falls back to hit counts). */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const self = new Map<number, number>();
  if (profile.samples !== undefined && profile.timeDeltas !== undefined) {
    for (let i = 0; i < profile.samples.length; i++) {
      const id = profile.samples[i]!;
      self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
    }
  } else {
    const per = (profile.endTime - profile.startTime) / Math.max(1, profile.nodes.reduce((s, n) => s + (n.hitCount ?? 0), 0));
    for (const n of profile.nodes) self.set(n.id, (n.hitCount ?? 0) * per);
  }
  const byFunction = new Map<string, { name: string; file: string; selfUs: number }>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = self.get(node.id) ?? 0;
    if (us === 0) continue;
    total += us;
    const file = shortFile(node.callFrame.url);
    const name = node.callFrame.functionName || '(anonymous)';
    const key = `${name}@${file}:${node.callFrame.lineNumber + 1}`;
    const entry = byFunction.get(key) ?? { name, file: `${file}:${node.callFrame.lineNumber + 1}`, selfUs: 0 };
    entry.selfUs += us;
    byFunction.set(key, entry);
    byFile.set(file, (byFile.get(file) ?? 0) + us);
  }
  return {
    totalUs: total,
    functions: [...byFunction.values()].sort((a, b) => b.selfUs - a.selfUs),
    files: [...byFile].map(([file, selfUs]) => ({ file, selfUs })).sort((a, b) => b.selfUs - a.selfUs),
  };
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, filter: { type: 'string' } },
  });
  const file = positionals[0];
  if (file === undefined) throw new Error('usage: profile-summary.ts FILE.cpuprofile [--top N] [--filter TEXT]');
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  const top = Number(values.top);
  const pct = (us: number): string => `${((us / summary.totalUs) * 100).toFixed(1).padStart(5)} %`;
  const keep = (f: string): boolean => values.filter === undefined || f.includes(values.filter);
  console.log(`total sampled ${(summary.totalUs / 1000).toFixed(0)} ms`);
  console.log('\nself time by file:');
  for (const f of summary.files.filter((f) => keep(f.file)).slice(0, top)) console.log(`${pct(f.selfUs)}  ${f.file}`);
  console.log('\nself time by function:');
  for (const f of summary.functions.filter((f) => keep(f.file)).slice(0, top)) console.log(`${pct(f.selfUs)}  ${f.name}  ${f.file}`);
}

if (require.main === module) main();
