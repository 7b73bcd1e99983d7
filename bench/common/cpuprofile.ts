/**
 * Where a server's CPU went, from a V8 `.cpuprofile` (`node --cpu-prof`): self time per
 * function and per package / source file, as shares of busy (non-idle) time.
 *
 * Standalone: `node dist/bench/common/cpuprofile.js FILE.cpuprofile [TOP] [--callers NAME]`; with
 * --callers, the call paths that led to the self time of function NAME (e.g. `nextTick`).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Share {
  readonly name: string;
  readonly ms: number;
  /** Of busy time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly busyMs: number;
  readonly idleMs: number;
  readonly functions: Share[];
  readonly groups: Share[];
}

/** `node_modules/<package>`, `node:<module>`, our file under dist/, or the V8 pseudo-frame. */
function groupOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

function where(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  return dist >= 0 ? url.slice(dist + '/dist/'.length) : url;
}

export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame] as const));
  // Self time of a node: the time deltas of the samples that landed on it.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const functions = new Map<string, number>();
  const groups = new Map<string, number>();
  let idleUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = frames.get(id)!;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    busyUs += us;
    const name = frame.url === '' ? frame.functionName || '(anonymous)' : `${frame.functionName || '(anonymous)'} ${where(frame.url)}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const group = groupOf(frame.url, frame.functionName);
    groups.set(group, (groups.get(group) ?? 0) + us);
  }
  const rank = (map: Map<string, number>, limit: number): Share[] => [...map]
    .sort((a, b) => b[1] - a[1]).slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
  return { busyMs: busyUs / 1000, idleMs: idleUs / 1000, functions: rank(functions, top), groups: rank(groups, 15) };
}

/** Where function `name` was called from when it had the CPU: parent chains up to `depth`, by self time. */
export function callersOf(profile: CpuProfile, name: string, depth = 4, top = 10): Share[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node] as const));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let busyUs = 0;
  const chains = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName !== '(idle)') busyUs += us;
    if (frame.functionName !== name) continue;
    const chain: string[] = [];
    for (let at = parent.get(id); at !== undefined && chain.length < depth; at = parent.get(at)) {
      const f = byId.get(at)!.callFrame;
      chain.push(`${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1}`);
    }
    const key = chain.join(' <- ');
    chains.set(key, (chains.get(key) ?? 0) + us);
  }
  return [...chains].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([chain, us]) => ({ name: chain, ms: us / 1000, share: busyUs > 0 ? us / busyUs : 0 }));
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function summarizeProfileFile(file: string, top = 25): ProfileSummary {
  return summarizeProfile(readProfile(file), top);
}

/** With `requests` (served while profiled), each line also shows µs per request, to compare servers. */
export function formatSummary(summary: ProfileSummary, indent = '  ', requests = 0): string {
  const perRequest = (ms: number): string => (requests > 0 ? `${((ms * 1000) / requests).toFixed(2).padStart(7)} µs/req ` : '');
  const line = (s: Share): string => `${indent}  ${(s.share * 100).toFixed(1).padStart(5)}% ${s.ms.toFixed(0).padStart(7)} ms ${perRequest(s.ms)} ${s.name}`;
  return [
    `${indent}sampled: busy ${(summary.busyMs / 1000).toFixed(1)} s, idle ${(summary.idleMs / 1000).toFixed(1)} s (shares are of busy time)` +
      (requests > 0 ? `; ${requests.toLocaleString('en-US')} requests served, busy ${perRequest(summary.busyMs).trim()}` : ''),
    `${indent}self time by package / file:`,
    ...summary.groups.map(line),
    `${indent}top functions by self time:`,
    ...summary.functions.map(line),
  ].join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--callers');
  const callers = at >= 0 ? args.splice(at, 2)[1] : undefined;
  const [file, top] = args;
  if (!file || (at >= 0 && !callers)) {
    console.error('usage: node dist/bench/common/cpuprofile.js FILE.cpuprofile [TOP] [--callers NAME]');
    process.exit(2);
  }
  if (callers) {
    for (const s of callersOf(readProfile(file), callers, 5, top ? Number(top) : 10)) console.log(`${(s.share * 100).toFixed(1).padStart(5)}% ${s.ms.toFixed(0).padStart(7)} ms  ${s.name}`);
  } else {
    console.log(formatSummary(summarizeProfileFile(file, top ? Number(top) : 25), ''));
  }
}
