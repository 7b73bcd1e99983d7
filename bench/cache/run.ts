/**
 * Cache benchmark: requests per second of cached public endpoints on the real server (in-process
 * cache, then with a real memcached) against a bare Fastify answering the same bytes, and the
 * stampede check (a cold URL hit by 1,000 concurrent requests costs one store query), in one
 * run. See bench/README.md for how to run it and read its output.
 *
 *   npm run bench:cache -- [--duration S] [--warmup S] [--connections C] [--path P ...]
 *                          [--rounds R] [--stampede-delay-ms D] [--cpu-prof DIR] [--only throughput|stampede]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  HOST, fmtInt, fmtPct, median, memcachedBinary, request, startMemcached, waitUntilServing,
} from './common';
import { formatSummary, summarizeProfileFile } from '../common/cpuprofile';
import type { LoadJob, LoadMessage, LoadResult } from './load';
import type { ReferenceRoute } from './reference-server';
import { stampedeCheck, type StampedeResult } from './stampede';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, machineCpuSeconds, processCpuSeconds } from '../common/system';

/** dist/bench/cache -> dist */
const DIST = path.resolve(__dirname, '../..');
const REPO_ROOT = path.resolve(DIST, '..');
const SERVER_MAIN = path.join(DIST, 'src/cli/main.js');
const ASN_TABLE = path.join(DIST, 'geo/asn-table.bin');
const LOAD_MAIN = path.join(__dirname, 'load.js');
const REFERENCE_MAIN = path.join(__dirname, 'reference-server.js');
const INGEST_PATH = '/ews-0.1/alert/postSimpleMessage';
const OK_MARK = '<StatusCode>OK</StatusCode>';
const TARGET_RATIO = 0.7;
/** Every fixture that carries the community credentials, except the deliberately broken one. */
const DEFAULT_FIXTURES = [
  'alarm.xml', 'alarmcowrie.xml', 'alarmdionaea.xml', 'alarmht.xml', 'alarmsuricata.xml', 'alarmtest.xml', 'alarmvuln.xml',
  'ciscoasa.xml', 'conpot.xml', 'glastopf.xml', 'glastopf2.xml', 'heralding.xml', 'honeytrap-mit-binary.xml',
  'honeytrap-mit-fuzzyhash.xml', 'honeytrap-mit-payloads.xml', 'honeytrap.xml',
];

// ---------------------------------------------------------------- options

interface Options {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  pipelining: number;
  paths: string[];
  rounds: number;
  waitIdleSeconds: number;
  stampedeRequests: number;
  stampedePath: string;
  stampedeDelayMs: number;
  fixturesDir: string;
  fixtures: string[];
  cpuProfDir: string | undefined;
  only: 'throughput' | 'stampede' | undefined;
  timeLimitSeconds: number;
  keep: boolean;
  compareMetrics: boolean;
}

const USAGE = `usage: npm run bench:cache -- [options]
  --duration S            measured seconds per target and path (default 10)
  --warmup S              warm-up seconds before each measurement, not counted (default 2)
  --connections C         concurrent keep-alive connections of the load generator (default 100)
  --pipelining P          requests in flight per connection (default 1)
  --path P                cached endpoint to measure, repeatable
                          (default /alert/retrieveAlertStats and /alert/topCountriesAttacks)
  --rounds R              measure every target R times, in rotating order; the summary shows medians (default 1)
  --wait-idle S           before each measurement, wait up to S s for the machine to be idle (other work
                          disturbs the figures; default 0 = don't wait)
  --stampede-requests N   concurrent requests of the stampede check (default 1000)
  --stampede-path P       the cold URL (default /alert/datasetAlertsPerMonth?days=7)
  --stampede-delay-ms D   also run the check with every store call slowed by D ms; 0 = skip (default 200)
  --fixtures-dir DIR      EWS fixtures to ingest first (default test/fixtures/ews)
  --fixtures A,B          fixture files to ingest (default: all but broken.xml)
  --cpu-prof DIR          run the servers under --cpu-prof, write the profiles to DIR and summarize them
  --only throughput|stampede   run one part only
  --time-limit S          give up after S seconds in total (default 900)
  --keep                  keep the temporary directory (database) and print its path
  --compare-metrics       also measure PEBA with METRICS=off (the others run with the default, on), to see
                          what counting requests costs the hit lane`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      path: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      'wait-idle': { type: 'string' },
      'stampede-requests': { type: 'string' },
      'stampede-path': { type: 'string' },
      'stampede-delay-ms': { type: 'string' },
      'fixtures-dir': { type: 'string' },
      fixtures: { type: 'string' },
      'cpu-prof': { type: 'string' },
      only: { type: 'string' },
      'time-limit': { type: 'string' },
      keep: { type: 'boolean' },
      'compare-metrics': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const int = integerOption;
  const only = values.only;
  if (only !== undefined && only !== 'throughput' && only !== 'stampede') throw new Error(`--only: expected throughput or stampede, got ${only}`);
  const paths = values.path ?? ['/alert/retrieveAlertStats', '/alert/topCountriesAttacks'];
  const stampedePath = values['stampede-path'] ?? '/alert/datasetAlertsPerMonth?days=7';
  for (const p of [...paths, stampedePath]) if (!p.startsWith('/alert/')) throw new Error(`${p}: expected a cached public /alert/... path`);
  return {
    durationSeconds: int(values.duration, 10, 'duration', 1, 600),
    warmupSeconds: int(values.warmup, 2, 'warmup', 0, 120),
    connections: int(values.connections, 100, 'connections', 1, 10_000),
    pipelining: int(values.pipelining, 1, 'pipelining', 1, 100),
    paths,
    rounds: int(values.rounds, 1, 'rounds', 1, 20),
    waitIdleSeconds: int(values['wait-idle'], 0, 'wait-idle', 0, 3600),
    stampedeRequests: int(values['stampede-requests'], 1000, 'stampede-requests', 2, 5000),
    stampedePath,
    stampedeDelayMs: int(values['stampede-delay-ms'], 200, 'stampede-delay-ms', 0, 10_000),
    fixturesDir: path.resolve(values['fixtures-dir'] ?? path.join(REPO_ROOT, 'test/fixtures/ews')),
    fixtures: values.fixtures?.split(',').map((f) => f.trim()).filter((f) => f !== '') ?? DEFAULT_FIXTURES,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    only,
    timeLimitSeconds: int(values['time-limit'], 900, 'time-limit', 10, 86_400),
    keep: values.keep ?? false,
    compareMetrics: values['compare-metrics'] ?? false,
  };
}

// ---------------------------------------------------------------- child processes

/** Everything we started; killed (by pid, each one) if we exit early. */
const children = new Set<ChildProcess>();
let tempDir: string | undefined;
let keepTemp = false;

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

/** SIGTERM (a clean exit writes --cpu-prof profiles), SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (exited(child)) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Forwards a child's output to our stderr, prefixed, up to a bound (the servers log at warn). */
function forwardOutput(name: string, child: ChildProcess, maxLines = 40): void {
  let lines = 0;
  const forward = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      if (++lines <= maxLines) process.stderr.write(`  [${name}] ${line}\n`);
      else if (lines === maxLines + 1) process.stderr.write(`  [${name}] (further output suppressed)\n`);
    }
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
}

process.on('exit', () => {
  // Last resort on any exit path: no process of ours outlives the bench, no temp file stays.
  for (const child of children) if (!exited(child)) child.kill('SIGKILL');
  if (tempDir && !keepTemp) rmSync(tempDir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

interface Target {
  readonly name: string;
  readonly child: ChildProcess;
  readonly base: string;
  readonly profileDir: string | undefined;
}

function profileArgs(options: Options, name: string): { args: string[]; dir: string | undefined } {
  if (!options.cpuProfDir) return { args: [], dir: undefined };
  const dir = path.join(options.cpuProfDir, name);
  mkdirSync(dir, { recursive: true });
  return { args: ['--cpu-prof', `--cpu-prof-dir=${dir}`], dir };
}

/** The real server, `node dist/src/cli/main.js --config /dev/null start`, on the bench's store. */
async function startPeba(options: Options, name: string, dbPath: string, env: Record<string, string>, profile: boolean): Promise<Target> {
  const port = await freePort();
  // Settings from the caller's shell must not change what is measured.
  const clean = environmentWithoutPeba();
  const prof = profile ? profileArgs(options, name) : { args: [], dir: undefined };
  const child = track(spawn(process.execPath, [...prof.args, SERVER_MAIN, '--config', '/dev/null', 'start'], {
    env: {
      ...clean,
      PEBA_STORE: `sqlite:${dbPath}`,
      PEBA_BINDHOST: `${HOST}:${port}`,
      PEBA_LOG_LEVEL: 'warn',
      PEBA_CACHE: 'on',
      // No statistics job firing inside a measured window.
      PEBA_STATS_INTERVAL_MINUTES: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
  forwardOutput(name, child);
  const base = `http://${HOST}:${port}`;
  await waitUntilServing(`${base}/heartbeat`, child);
  return { name, child, base, profileDir: prof.dir };
}

async function startReference(options: Options, routes: readonly ReferenceRoute[], dir: string): Promise<Target> {
  const routesFile = path.join(dir, 'reference-routes.json');
  writeFileSync(routesFile, JSON.stringify(routes));
  const port = await freePort();
  const prof = profileArgs(options, 'reference');
  const child = track(spawn(process.execPath, [...prof.args, REFERENCE_MAIN, routesFile, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  forwardOutput('reference', child);
  const base = `http://${HOST}:${port}`;
  await waitUntilServing(base + routes[0]!.path, child);
  return { name: 'reference', child, base, profileDir: prof.dir };
}

// ---------------------------------------------------------------- seeding

async function seed(options: Options, dbPath: string): Promise<void> {
  console.log(`[0] seed: a server on a fresh store ingests ${options.fixtures.length} fixture messages from ${options.fixturesDir}`);
  const seeder = await startPeba(options, 'seed', dbPath, { PEBA_CACHE: 'off' }, false);
  let alerts = 0;
  let ok = 0;
  try {
    for (const file of options.fixtures) {
      const body = readFileSync(path.join(options.fixturesDir, file), 'utf8');
      const reply = await request(seeder.base + INGEST_PATH, { method: 'POST', body, headers: { 'content-type': 'text/xml' }, timeoutMs: 60_000 });
      if (reply.status === 200 && reply.body.includes(OK_MARK)) {
        ok++;
        alerts += (body.match(/<Alert>/g) ?? []).length;
      } else {
        console.log(`  ${file}: HTTP ${reply.status} ${reply.body.slice(0, 120).replace(/\s+/g, ' ')}`);
      }
    }
  } finally {
    await stopChild(seeder.child);
  }
  if (ok === 0) throw new Error('no fixture message was accepted: nothing to answer from');
  console.log(`  ${ok} of ${options.fixtures.length} messages accepted (about ${fmtInt(alerts)} alerts, received now)`);
}

// ---------------------------------------------------------------- throughput

interface Measurement {
  readonly target: string;
  readonly round: number;
  readonly path: string;
  readonly load: LoadResult;
  /** CPU used in the measured window, in cores (1 = one core busy all the time). */
  readonly serverCores: number;
  /** Server CPU per completed request, µs: less disturbed than req/s when other work shares the cores. */
  readonly serverUsPerRequest: number;
  readonly loadCores: number;
  readonly otherCores: number;
  readonly machineBusy: number;
}

/** Below this share of all cores busy (sampled over one second), the machine counts as idle. */
const IDLE_BUSY_SHARE = 0.15;

/** Waits up to `seconds` for one second in which the machine is idle; says how it went. */
async function waitForIdle(seconds: number): Promise<string | undefined> {
  const deadline = Date.now() + seconds * 1000;
  let busy = 1;
  do {
    const before = machineCpuSeconds();
    await new Promise((r) => setTimeout(r, 1000));
    const after = machineCpuSeconds();
    busy = (after.busy - before.busy) / (after.total - before.total);
    if (busy < IDLE_BUSY_SHARE) return undefined;
  } while (Date.now() < deadline);
  return `machine still ${fmtPct(busy)} busy after waiting ${seconds} s for it to be idle`;
}

function measure(options: Options, target: Target, urlPath: string, round: number): Promise<Measurement> {
  const job: LoadJob = {
    url: target.base + urlPath,
    connections: options.connections,
    pipelining: options.pipelining,
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
  };
  return new Promise((resolve, reject) => {
    const child = track(fork(LOAD_MAIN, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    const limitMs = (options.warmupSeconds + options.durationSeconds + 30) * 1000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load generator for ${job.url} still running after ${limitMs / 1000} s`));
    }, limitMs);
    let start: { wall: number; server: number; self: number; machine: { busy: number; total: number } } | undefined;
    let settled = false;
    child.on('message', (message: LoadMessage) => {
      if (message.type === 'measuring') {
        const self = process.cpuUsage();
        start = { wall: performance.now(), server: processCpuSeconds(target.child.pid), self: (self.user + self.system) / 1e6, machine: machineCpuSeconds() };
      } else if (message.type === 'result' && start) {
        const wall = (performance.now() - start.wall) / 1000;
        const self = process.cpuUsage();
        const machine = machineCpuSeconds();
        const server = processCpuSeconds(target.child.pid) - start.server;
        const busy = machine.busy - start.machine.busy;
        const orchestrator = (self.user + self.system) / 1e6 - start.self;
        settled = true;
        clearTimeout(timer);
        resolve({
          target: target.name,
          round,
          path: urlPath,
          load: message.result,
          serverCores: server / wall,
          serverUsPerRequest: (server / message.result.total) * 1e6,
          loadCores: message.result.cpuSeconds / wall,
          otherCores: Math.max(0, busy - server - message.result.cpuSeconds - orchestrator) / wall,
          machineBusy: busy / (machine.total - start.machine.total),
        });
      } else if (message.type === 'error') {
        settled = true;
        clearTimeout(timer);
        reject(new Error(`load generator: ${message.message}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!settled) reject(new Error(`load generator exited (${code}) without a result`));
    });
    child.send(job);
  });
}

function describeMeasurement(m: Measurement): string {
  const l = m.load;
  const problems = l.errors + l.timeouts + l.non2xx;
  return `  ${m.target.padEnd(14)} ${m.path.padEnd(30)} ${fmtInt(l.requestsPerSecond).padStart(7)} req/s ` +
    `(per-second median ${fmtInt(l.perSecondMedian)}), latency p50 ${l.latencyP50Ms} ms p99 ${l.latencyP99Ms} ms; ` +
    `server CPU ${m.serverUsPerRequest.toFixed(1)} µs/request; ` +
    `CPU in cores: server ${m.serverCores.toFixed(2)}, load generator ${m.loadCores.toFixed(2)}, other ${m.otherCores.toFixed(2)} ` +
    `(machine ${fmtPct(m.machineBusy)} busy)` +
    (problems > 0 ? `; FAILURES: ${l.errors} errors, ${l.timeouts} timeouts, ${l.non2xx} non-2xx` : '');
}

/** GETs `urlPath` twice: the second must be a cache hit; returns the cached bytes and type. */
async function probe(target: Target, urlPath: string): Promise<ReferenceRoute> {
  const first = await request(target.base + urlPath, { timeoutMs: 30_000 });
  const second = await request(target.base + urlPath, { timeoutMs: 30_000 });
  if (first.status !== 200 || second.status !== 200) throw new Error(`${target.name} ${urlPath}: HTTP ${first.status}/${second.status}`);
  if (second.headers['x-cache'] !== 'hit') throw new Error(`${target.name} ${urlPath}: second request not a cache hit (x-cache: ${second.headers['x-cache']})`);
  return { path: new URL(urlPath, target.base).pathname, type: String(second.headers['content-type']), body: second.body };
}

interface ThroughputOutcome {
  readonly measurements: Measurement[];
  readonly failures: string[];
}

async function throughput(options: Options, dbPath: string, dir: string): Promise<ThroughputOutcome> {
  const failures: string[] = [];
  const measurements: Measurement[] = [];
  console.log(`\n[1] throughput: ${options.connections} keep-alive connections, pipelining ${options.pipelining}, ` +
    `${options.warmupSeconds} s warm-up + ${options.durationSeconds} s measured per target and path, ${options.rounds} round(s)`);
  console.log(`  load generator: autocannon in its own process (dist/bench/cache/load.js), on the same ${os.cpus().length} cores as the servers`);
  const memcached = await startMemcached(track);
  const targets: Target[] = [];
  try {
    targets.push(await startPeba(options, 'peba-memory', dbPath, {}, true));
    targets.push(await startPeba(options, 'peba-memcached', dbPath, { PEBA_MEMCACHE: memcached.address }, true));
    if (options.compareMetrics) targets.push(await startPeba(options, 'peba-no-metrics', dbPath, { PEBA_METRICS: 'off' }, true));
    // The cached answers, byte for byte, become the reference's constant bodies.
    const routes: ReferenceRoute[] = [];
    for (const urlPath of options.paths) {
      const answers = [];
      for (const target of targets) answers.push(await probe(target, urlPath));
      if (answers[0]!.body !== answers[1]!.body) console.log(`  note: ${urlPath} answers differ between the two servers (time moved on between them)`);
      routes.push(answers[0]!);
      console.log(`  ${urlPath}: ${fmtInt(Buffer.byteLength(answers[0]!.body))} bytes, ${answers[0]!.type}`);
    }
    const reference = await startReference(options, routes, dir);
    targets.unshift(reference);
    for (const route of routes) {
      const reply = await request(reference.base + route.path);
      if (reply.body !== route.body) throw new Error(`reference ${route.path}: answers other bytes than PEBA`);
    }
    console.log(`  targets: reference = bare Fastify with the same bodies (pid ${reference.child.pid}); ` +
      `peba-memory = PEBA, in-process cache (pid ${targets[1]!.child.pid}); peba-memcached = PEBA with PEBA_MEMCACHE=${memcached.address} (pid ${targets[2]!.child.pid})`);
    for (let round = 0; round < options.rounds; round++) {
      if (options.rounds > 1) console.log(`  round ${round + 1} of ${options.rounds}`);
      for (const urlPath of options.paths) {
        // Rotating the order spreads any drift of the machine over all targets.
        const order = targets.map((_, i) => targets[(i + round) % targets.length]!);
        for (const target of order) {
          if (options.waitIdleSeconds > 0) {
            const gaveUp = await waitForIdle(options.waitIdleSeconds);
            if (gaveUp) console.log(`  note: ${gaveUp}`);
          }
          const m = await measure(options, target, urlPath, round);
          measurements.push(m);
          console.log(describeMeasurement(m));
          const l = m.load;
          if (l.errors + l.timeouts + l.non2xx > 0) failures.push(`${target.name} ${urlPath}: ${l.errors} errors, ${l.timeouts} timeouts, ${l.non2xx} non-2xx`);
          if (target !== reference) {
            // Right after the load (later, a short lifetime plus the stale window may have run out):
            // still answered from the cache, so the figures are those of the cache path.
            const reply = await request(target.base + urlPath);
            if (reply.status !== 200 || reply.headers['x-cache'] === 'miss') failures.push(`${target.name} ${urlPath}: after the load HTTP ${reply.status}, x-cache ${reply.headers['x-cache']}`);
          }
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => stopChild(t.child)));
    await stopChild(memcached.child);
  }
  if (options.cpuProfDir) {
    for (const target of targets) {
      if (!target.profileDir) continue;
      const files = readdirSync(target.profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(target.profileDir!, f));
      if (files.length === 0) {
        console.log(`  profile of ${target.name}: none written`);
        continue;
      }
      // Everything the server answered while profiled: probes, warm-ups and measured windows.
      const served = measurements.filter((m) => m.target === target.name).reduce((n, m) => n + m.load.total + m.load.warmupTotal, 0);
      console.log(`\n  profile of ${target.name}: ${files[files.length - 1]}`);
      console.log(formatSummary(summarizeProfileFile(files[files.length - 1]!, 25), '  ', served));
    }
  }
  return { measurements, failures };
}

// ---------------------------------------------------------------- stampede

interface StampedeRun {
  readonly label: string;
  readonly result: StampedeResult;
}

function describeStampede(run: StampedeRun): string {
  const r = run.result;
  const list = <K>(map: ReadonlyMap<K, number>): string => [...map].map(([k, n]) => `${k} ${fmtInt(n)}`).join(', ') || 'none';
  return `  ${run.label.padEnd(47)} store queries: ${r.totalStoreCalls} (${list(r.storeCalls)}) ${r.ok ? 'OK' : 'FAILED'}\n` +
    `      x-cache: ${list(r.outcomes)}; HTTP: ${list(r.statuses)}; ${r.distinctBodies} distinct bod${r.distinctBodies === 1 ? 'y' : 'ies'}; ` +
    `${fmtInt(r.openConnections)} connections open before the burst; burst answered in ${fmtInt(r.burstMs)} ms` +
    (r.warmupStoreCalls > 0 ? `; ${r.warmupStoreCalls} store calls while opening connections` : '') +
    (r.errors.length > 0 ? `\n      errors: ${r.errors.join('; ')}` : '');
}

async function stampede(options: Options, dbPath: string): Promise<StampedeRun[]> {
  console.log(`\n[2] stampede: ${fmtInt(options.stampedeRequests)} concurrent requests for ${options.stampedePath}, ` +
    'each on a fresh app in this process (cold cache) with a counting store; connections opened first, then all requests sent at once');
  const runs: StampedeRun[] = [];
  const delays = options.stampedeDelayMs > 0 ? [0, options.stampedeDelayMs] : [0];
  for (const shared of [false, true]) {
    for (const delayMs of delays) {
      const label = `${shared ? 'with memcached' : 'in-process cache'}, ${delayMs === 0 ? 'store at its own speed' : `store calls slowed by ${delayMs} ms`}`;
      // A fresh memcached each time: the URL must be cold in both levels.
      const memcached = shared ? await startMemcached(track) : undefined;
      try {
        const result = await stampedeCheck({
          dbPath, path: options.stampedePath, requests: options.stampedeRequests, delayMs, memcache: memcached?.address ?? '', timeoutMs: 30_000,
        });
        runs.push({ label, result });
        console.log(describeStampede({ label, result }));
      } finally {
        if (memcached) await stopChild(memcached.child);
      }
    }
  }
  return runs;
}

// ---------------------------------------------------------------- summary

function summarize(options: Options, outcome: ThroughputOutcome | undefined, stampedeRuns: StampedeRun[] | undefined): boolean {
  console.log('\nsummary');
  let ok = true;
  if (outcome) {
    const rate = (target: string, urlPath: string): number => median(outcome.measurements.filter((m) => m.target === target && m.path === urlPath).map((m) => m.load.requestsPerSecond));
    const of = (target: string, urlPath: string, field: 'serverCores' | 'loadCores' | 'otherCores' | 'serverUsPerRequest'): number =>
      median(outcome.measurements.filter((m) => m.target === target && m.path === urlPath).map((m) => m[field]));
    const cores = (target: string, urlPath: string, field: 'serverCores' | 'loadCores' | 'otherCores'): string => of(target, urlPath, field).toFixed(2);
    const cost = (target: string, urlPath: string): string => `${of(target, urlPath, 'serverUsPerRequest').toFixed(1)} µs CPU/request`;
    // Paired per round (reference and PEBA measured minutes apart), then the median: steadier than
    // a ratio of medians when the machine's other load drifts.
    const ratio = (target: string, urlPath: string): number => median(Array.from({ length: options.rounds }, (_, round) => {
      const pick = (name: string): number => outcome.measurements.find((m) => m.target === name && m.path === urlPath && m.round === round)?.load.requestsPerSecond ?? NaN;
      return pick(target) / pick('reference');
    }));
    console.log(`  req/s${options.rounds > 1 ? ` (medians of ${options.rounds} rounds; ratios are medians of the per-round ratios)` : ''}; ` +
      `ratio = cached / reference, target >= ${fmtPct(TARGET_RATIO)}`);
    for (const urlPath of options.paths) {
      const ref = rate('reference', urlPath);
      const verdict = (ratio: number): string => (ratio >= TARGET_RATIO ? 'meets target' : 'BELOW TARGET');
      console.log(`  ${urlPath}`);
      const costRatio = (target: string): string => fmtPct(of('reference', urlPath, 'serverUsPerRequest') / of(target, urlPath, 'serverUsPerRequest'));
      console.log(`    reference (bare Fastify)   ${fmtInt(ref).padStart(7)} req/s                              ${cost('reference', urlPath)}; ` +
        `cores: server ${cores('reference', urlPath, 'serverCores')}, load generator ${cores('reference', urlPath, 'loadCores')}, other ${cores('reference', urlPath, 'otherCores')}`);
      const pebaTargets: Array<readonly [string, string]> = [['peba-memory', 'PEBA, in-process cache  '], ['peba-memcached', 'PEBA, with memcached    ']];
      if (options.compareMetrics) pebaTargets.push(['peba-no-metrics', 'PEBA, METRICS=off       ']);
      for (const [target, label] of pebaTargets) {
        const r = rate(target, urlPath);
        const share = ratio(target, urlPath);
        console.log(`    ${label}   ${fmtInt(r).padStart(7)} req/s   ${fmtPct(share).padStart(4)} of reference, ${verdict(share).padEnd(12)}  ` +
          `${cost(target, urlPath)} (reference/this ${costRatio(target)}); ` +
          `cores: server ${cores(target, urlPath, 'serverCores')}, load generator ${cores(target, urlPath, 'loadCores')}, other ${cores(target, urlPath, 'otherCores')}`);
      }
    }
    console.log('  The load generator ran in its own process on the same cores: when it uses about one core, it, not the server, may bound the reference.');
    console.log('  "other" is CPU used by processes that are not part of the bench: when it is well above 0, req/s are disturbed; µs CPU/request less so.');
    if (options.compareMetrics) {
      for (const urlPath of options.paths) {
        const paired = median(Array.from({ length: options.rounds }, (_, round) => {
          const pick = (name: string): number => outcome.measurements.find((m) => m.target === name && m.path === urlPath && m.round === round)?.load.requestsPerSecond ?? NaN;
          return pick('peba-memory') / pick('peba-no-metrics');
        }));
        console.log(`  metrics cost ${urlPath}: METRICS=on / METRICS=off = ${fmtPct(paired)} (req/s, median of per-round ratios); ` +
          `CPU/request ${of('peba-memory', urlPath, 'serverUsPerRequest').toFixed(1)} vs ${of('peba-no-metrics', urlPath, 'serverUsPerRequest').toFixed(1)} µs`);
      }
    }
    for (const failure of outcome.failures) console.log(`  FAILURE: ${failure}`);
    if (outcome.failures.length > 0) ok = false;
  }
  if (stampedeRuns) {
    for (const run of stampedeRuns) {
      console.log(`  stampede, ${run.label}: ${run.result.totalStoreCalls} store quer${run.result.totalStoreCalls === 1 ? 'y' : 'ies'} for ${fmtInt(options.stampedeRequests)} requests: ${run.result.ok ? 'OK' : 'FAILED'}`);
      if (!run.result.ok) ok = false;
    }
  }
  return ok;
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(SERVER_MAIN)) throw new Error(`${SERVER_MAIN} is missing: run npm run build first`);
  if (!existsSync(ASN_TABLE)) throw new Error(`${ASN_TABLE} is missing: run npm run build first (it builds the ASN table)`);
  if (!memcachedBinary()) throw new Error('memcached is not installed (apt-get install memcached)');
  for (const file of options.fixtures) if (!existsSync(path.join(options.fixturesDir, file))) throw new Error(`fixture ${file} not found in ${options.fixturesDir}`);
  const limit = setTimeout(() => {
    console.error(`\ntime limit of ${options.timeLimitSeconds} s reached: stopping`);
    process.exit(4);
  }, options.timeLimitSeconds * 1000);
  limit.unref();

  tempDir = mkdtempSync(path.join(os.tmpdir(), 'peba-bench-cache-'));
  keepTemp = options.keep;
  const dbPath = path.join(tempDir, 'peba.db');
  console.log(`cache bench: node ${process.version}, ${os.cpus().length} cores, temporary directory ${tempDir}`);
  await seed(options, dbPath);
  const outcome = options.only === 'stampede' ? undefined : await throughput(options, dbPath, tempDir);
  const stampedeRuns = options.only === 'throughput' ? undefined : await stampede(options, dbPath);
  const ok = summarize(options, outcome, stampedeRuns);
  if (options.keep) console.log(`kept ${tempDir}`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`cache bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  },
);
