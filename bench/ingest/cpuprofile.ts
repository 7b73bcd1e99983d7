/**
 * Summarizes a V8 `.cpuprofile` (from `node --cpu-prof`): self time per function and per
 * source file / package, so "where does the server's time go" fits on one screen.
 *
 * Standalone: `node dist/bench/ingest/cpuprofile.js FILE.cpuprofile [TOP]`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  readonly share: number;
}

export interface ProfileSummary {
  /** Sampled time excluding `(idle)`, ms. */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: SelfTime[];
  readonly groups: SelfTime[];
}

/** Where a function lives: our source file, an npm package, or V8/native. */
function group(url: string, functionName: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)' || functionName === '(idle)' || functionName === '(program)') return functionName;
    return '(native)';
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  // Self time of a node = the time deltas of the samples that landed on it.
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, number>();
  const groups = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = frame.url === ''
      ? frame.functionName || '(anonymous)'
      : `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const where = group(frame.url, frame.functionName);
    groups.set(where, (groups.get(where) ?? 0) + us);
  }
  const rank = (map: Map<string, number>, limit: number): SelfTime[] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, limit)
      .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, functions: rank(functions, top), groups: rank(groups, 15) };
}

export function formatSummary(summary: ProfileSummary): string {
  const line = (s: SelfTime): string => `  ${(s.share * 100).toFixed(1).padStart(5)}%  ${s.ms.toFixed(0).padStart(7)} ms  ${s.name}`;
  return [
    `sampled: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s (shares below are of busy time)`,
    'self time by file / package:',
    ...summary.groups.map(line),
    'top functions by self time:',
    ...summary.functions.map(line),
  ].join('\n');
}

export function summarizeProfileFile(file: string, top = 25): ProfileSummary {
  return summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top);
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/ingest/cpuprofile.js FILE.cpuprofile [TOP]');
    process.exit(2);
  }
  console.log(formatSummary(summarizeProfileFile(file, top ? Number(top) : 25)));
}
