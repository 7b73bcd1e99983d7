/**
 * Ingest benchmark: the real server end to end versus raw better-sqlite3 inserts of the same
 * rows, in one run. See bench/README.md for how to run it and read its output.
 *
 *   npm run bench:ingest -- [--alerts N] [--clients C] [--synchronous full|normal]
 *                           [--batch B] [--raw-rows R] [--time-limit S] [--cpu-prof DIR] [--keep]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { ALERT_FIELDS } from '../../src/domain/alert';
import { migrate } from '../../src/store/sqlite/migrations';
import { formatSummary, summarizeProfileFile } from '../common/cpuprofile';
import { MessageGenerator } from './messages';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, machineCpuSeconds, processCpuSeconds } from '../common/system';

const INGEST_PATH = '/ews-0.1/alert/postSimpleMessage';
const OK_MARK = '<StatusCode>OK</StatusCode>';
/** dist/bench/ingest -> dist */
const DIST = path.resolve(__dirname, '../..');
const SERVER_MAIN = path.join(DIST, 'src/cli/main.js');
const ASN_TABLE = path.join(DIST, 'geo/asn-table.bin');
/** Above this many pre-built body bytes, build messages during the run instead (and say so). */
const PREGEN_LIMIT_BYTES = 3 * 1024 ** 3;
const REQUEST_TIMEOUT_MS = 60_000;
const RAW_MIN_ROWS = 200_000;

// ---------------------------------------------------------------- options

interface Options {
  alerts: number;
  clients: number;
  synchronous: 'full' | 'normal';
  batch: number;
  rawBatch: number;
  rawRows: number;
  timeLimitS: number;
  cpuProfDir: string | undefined;
  serverNodeArgs: string[];
  serverLog: string | undefined;
  serverEnv: Record<string, string>;
  generateDuringRun: boolean;
  keep: boolean;
}

const USAGE = `usage: npm run bench:ingest -- [options]
  --alerts N              alerts to send in total (default 1000000)
  --clients C             concurrent keep-alive clients (default 4)
  --synchronous full|normal   PEBA_SQLITE_SYNCHRONOUS of the server and the raw reference (default full)
  --batch B               alerts per message (default 100, as ewsposter batches)
  --raw-batch B           rows per transaction in the raw reference (default: --batch)
  --raw-rows R            rows for the raw reference (default N; at least ${RAW_MIN_ROWS} unless N is smaller)
  --time-limit S          give up after S seconds in total (default 900)
  --cpu-prof DIR          run the server under --cpu-prof, write the profile to DIR and summarize it
  --server-node-arg ARG   extra node option for the server, repeatable (e.g. --max-old-space-size=256)
  --server-log FILE       write all server output to FILE (default: first 30 lines to stderr)
  --server-env KEY=VALUE  extra PEBA_ setting for the server, repeatable (e.g. GEOIP_CACHE_SIZE=0)
  --generate-during-run   build each message just before sending it (to see the generator's cost)
  --keep                  keep the temporary directory (databases) and print its path`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      alerts: { type: 'string' },
      clients: { type: 'string' },
      synchronous: { type: 'string' },
      batch: { type: 'string' },
      'raw-batch': { type: 'string' },
      'raw-rows': { type: 'string' },
      'time-limit': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'server-node-arg': { type: 'string', multiple: true },
      'server-log': { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      'generate-during-run': { type: 'boolean' },
      keep: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const int = integerOption;
  const alerts = int(values.alerts, 1_000_000, 'alerts', 1, 100_000_000);
  const synchronous = (values.synchronous ?? 'full').toLowerCase();
  if (synchronous !== 'full' && synchronous !== 'normal') throw new Error(`--synchronous: expected full or normal, got ${values.synchronous}`);
  const batch = int(values.batch, 100, 'batch', 1, 10_000);
  const rawDefault = alerts;
  const rawRows = Math.min(alerts, Math.max(int(values['raw-rows'], rawDefault, 'raw-rows', 1, 100_000_000), RAW_MIN_ROWS));
  return {
    alerts,
    clients: int(values.clients, 4, 'clients', 1, 256),
    synchronous,
    batch,
    rawBatch: int(values['raw-batch'], batch, 'raw-batch', 1, 100_000),
    rawRows,
    timeLimitS: int(values['time-limit'], 900, 'time-limit', 10, 86_400),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    serverNodeArgs: values['server-node-arg'] ?? [],
    serverLog: values['server-log'] === undefined ? undefined : path.resolve(values['server-log']),
    serverEnv: Object.fromEntries((values['server-env'] ?? []).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`--server-env: expected KEY=VALUE, got ${pair}`);
      const key = pair.slice(0, eq).toUpperCase();
      return [key.startsWith('PEBA_') ? key : `PEBA_${key}`, pair.slice(eq + 1)];
    })),
    generateDuringRun: values['generate-during-run'] ?? false,
    keep: values.keep ?? false,
  };
}

// ---------------------------------------------------------------- small helpers

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmtMb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;

function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** kB from /proc/<pid>/status, or NaN if the process is gone. */
function procStatusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : NaN;
  } catch {
    return NaN;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- process lifetime

let tempDir: string | undefined;
let keepTemp = false;
let server: ChildProcess | undefined;
/** Set by the time limit: workers stop taking messages, later phases are skipped. */
let aborted = false;

function serverAlive(): boolean {
  return server !== undefined && server.exitCode === null && server.signalCode === null;
}

/** Synchronous, so it also works from process.on('exit'). */
function cleanup(): void {
  if (serverAlive()) server!.kill('SIGKILL');
  if (tempDir !== undefined) {
    if (keepTemp) console.error(`kept ${tempDir}`);
    else rmSync(tempDir, { recursive: true, force: true });
    tempDir = undefined;
  }
}

process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping`);
    process.exit(130);
  });
}

// ---------------------------------------------------------------- server

/** A fingerprint of dist/src, so runs made while the server code changes can be told apart. */
function describeServerBuild(): string {
  const hash = createHash('sha1');
  let files = 0;
  let newest = 0;
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.js')) {
        hash.update(entry.name).update(readFileSync(full));
        newest = Math.max(newest, statSync(full).mtimeMs);
        files++;
      }
    }
  };
  walk(path.join(DIST, 'src'));
  return `dist/src sha1 ${hash.digest('hex').slice(0, 12)} (${files} files, newest ${new Date(newest).toISOString()})`;
}

interface Server {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly dbPath: string;
}

async function startServer(dir: string, options: Options): Promise<Server> {
  const port = await freePort();
  const dbPath = path.join(dir, 'peba.db');
  // Drop any PEBA_* of the caller's shell: GeoIP must be the bundled data, the store ours.
  const env = environmentWithoutPeba();
  Object.assign(env, {
    PEBA_STORE: `sqlite:${dbPath}`,
    PEBA_BINDHOST: `127.0.0.1:${port}`,
    PEBA_LOG_LEVEL: 'warn',
    PEBA_SQLITE_SYNCHRONOUS: options.synchronous,
  }, options.serverEnv);
  const nodeArgs: string[] = [...options.serverNodeArgs];
  if (options.cpuProfDir !== undefined) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, '--cpu-prof-name', `server-${Date.now()}.cpuprofile`);
  }
  // --config /dev/null: a machine-wide /etc/peba/peba.cfg must not change what we measure.
  const child = spawn(process.execPath, [...nodeArgs, SERVER_MAIN, '--config', '/dev/null', 'start'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  forwardOutput(child, options.serverLog);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!serverAlive()) throw new Error(`server exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
    if (await answers(port)) break;
    if (Date.now() > deadline) throw new Error('server did not answer within 30 s');
    await sleep(50);
  }
  return { child, pid: child.pid!, port, dbPath };
}

/** Any HTTP answer (a GET on the ingest path is 405) means the server is listening. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: INGEST_PATH, agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

/** Server log lines go to our stderr, capped so a misbehaving run cannot flood the terminal. */
function forwardOutput(child: ChildProcess, logFile: string | undefined): void {
  if (logFile !== undefined) {
    const out = createWriteStream(logFile);
    child.stdout!.pipe(out, { end: false });
    child.stderr!.pipe(out, { end: false });
    child.once('exit', () => setImmediate(() => out.end()));
    return;
  }
  let lines = 0;
  const MAX_LINES = 30;
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines++;
        if (lines <= MAX_LINES) process.stderr.write(`[server] ${line.slice(0, 500)}\n`);
        else if (lines === MAX_LINES + 1) process.stderr.write('[server] (further log lines suppressed)\n');
      }
    });
  }
}

async function stopServer(s: Server): Promise<void> {
  if (!serverAlive()) return;
  const exited = new Promise<void>((resolve) => s.child.once('exit', () => resolve()));
  s.child.kill('SIGTERM'); // graceful: PEBA finishes in-flight requests, closes the store (and writes --cpu-prof)
  const timer = sleep(30_000).then(() => 'timeout' as const);
  if ((await Promise.race([exited.then(() => 'exited' as const), timer])) === 'timeout') {
    console.error('server did not stop within 30 s of SIGTERM: killing it');
    s.child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------- load

interface LoadResult {
  readonly acknowledged: number;
  readonly messagesOk: number;
  readonly failures: Map<string, number>;
  readonly failureSamples: string[];
  readonly seconds: number;
  /** Alerts acknowledged in each whole second since the start. */
  readonly perSecond: number[];
  readonly latenciesMs: number[];
  readonly rssSamples: Array<{ alerts: number; kb: number }>;
  readonly generatorSecondsInWindow: number;
  readonly serverCpuS: number;
  readonly clientCpuS: number;
  readonly machine: { busyShare: number; iowaitShare: number; otherCpuS: number };
}

interface Reply { status: number; text: string }

function post(agent: http.Agent, port: number, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path: INGEST_PATH, method: 'POST', agent,
      headers: { 'content-type': 'text/xml', 'content-length': body.length },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no reply within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function runLoad(
  s: Server,
  options: Options,
  messageCount: number,
  messageSize: (m: number) => number,
  body: (m: number) => Buffer,
  jitGenerator: boolean,
): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const failures = new Map<string, number>();
  const failureSamples: string[] = [];
  const perSecond: number[] = [];
  const latenciesMs: number[] = [];
  const rssSamples: Array<{ alerts: number; kb: number }> = [];
  const sampleEvery = options.alerts >= 500_000
    ? 100_000
    : Math.max(options.batch, Math.round(options.alerts / 10 / options.batch) * options.batch);
  let nextSample = sampleEvery;
  let next = 0;
  let acknowledged = 0;
  let messagesOk = 0;
  let generatorMs = 0;

  const fail = (reason: string, detail: string): void => {
    failures.set(reason, (failures.get(reason) ?? 0) + 1);
    if (failureSamples.length < 5) failureSamples.push(`${reason}: ${detail.slice(0, 300)}`);
  };

  const cpu0 = process.cpuUsage();
  const serverCpu0 = processCpuSeconds(s.pid);
  const machine0 = machineCpuSeconds();
  const t0 = performance.now();

  const worker = async (): Promise<void> => {
    for (;;) {
      if (aborted || !serverAlive()) return;
      const m = next++;
      if (m >= messageCount) return;
      const g0 = jitGenerator ? performance.now() : 0;
      const payload = body(m);
      if (jitGenerator) generatorMs += performance.now() - g0;
      const alerts = messageSize(m);
      const start = performance.now();
      try {
        const reply = await post(agent, s.port, payload);
        const now = performance.now();
        latenciesMs.push(now - start);
        if (reply.status !== 200 || !reply.text.includes(OK_MARK)) {
          fail(`HTTP ${reply.status}`, reply.text);
        } else if (reply.text.includes('skipped')) {
          // 200 OK but the server refused some alerts: they are not stored, count it as a failure.
          fail('OK with skipped alerts', reply.text);
        } else {
          messagesOk++;
          acknowledged += alerts;
          const second = Math.floor((now - t0) / 1000);
          while (perSecond.length <= second) perSecond.push(0);
          perSecond[second]! += alerts;
          while (acknowledged >= nextSample) {
            rssSamples.push({ alerts: nextSample, kb: procStatusKb(s.pid, 'VmRSS') });
            nextSample += sampleEvery;
          }
        }
      } catch (error) {
        fail('request error', error instanceof Error ? error.message : String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpuS = processCpuSeconds(s.pid) - serverCpu0;
  const machine1 = machineCpuSeconds();
  agent.destroy();
  const total = machine1.total - machine0.total || 1;
  return {
    acknowledged, messagesOk, failures, failureSamples, seconds, perSecond,
    latenciesMs: latenciesMs.sort((a, b) => a - b),
    rssSamples,
    generatorSecondsInWindow: generatorMs / 1000,
    serverCpuS,
    clientCpuS: (cpu.user + cpu.system) / 1e6,
    machine: {
      busyShare: (machine1.busy - machine0.busy) / total,
      iowaitShare: (machine1.iowait - machine0.iowait) / total,
      // Anything else on the box (other builds, tests) skews the figures: show how much.
      otherCpuS: Math.max(0, machine1.busy - machine0.busy - serverCpuS - (cpu.user + cpu.system) / 1e6),
    },
  };
}

// ---------------------------------------------------------------- raw reference

interface RawResult {
  readonly rows: number;
  readonly seconds: number;
  readonly rate: number;
  /** Wall time of the whole phase (reading included) and CPU other processes used meanwhile. */
  readonly phaseSeconds: number;
  readonly otherCpuS: number;
}

/**
 * Re-inserts the rows the server stored into a fresh database with the same schema and
 * pragmas, one transaction per `batch` rows. Rows are read in chunks outside the timer, so
 * only inserting is timed and memory stays bounded.
 */
function rawReference(e2eDb: string, dir: string, options: Options): RawResult {
  const cpu0 = process.cpuUsage();
  const machine0 = machineCpuSeconds();
  const t0 = performance.now();
  const source = new Database(e2eDb, { readonly: true });
  const fresh = new Database(path.join(dir, 'raw.db'));
  try {
    // The pragmas SqliteStore sets; busy_timeout does not matter for a single connection.
    fresh.pragma('journal_mode = WAL');
    fresh.pragma(`synchronous = ${options.synchronous}`);
    fresh.pragma('cache_size = -65536');
    migrate(fresh);
    const columns = ALERT_FIELDS.map((f) => `"${f}"`).join(', ');
    const insert = fresh.prepare(`INSERT INTO alerts (id, ${columns}) VALUES (?, ${ALERT_FIELDS.map(() => '?').join(', ')})`);
    const writeBatch = fresh.transaction((rows: unknown[][], from: number, to: number) => {
      for (let i = from; i < to; i++) insert.run(rows[i]!);
    });
    const read = source.prepare(`SELECT seq, id, ${columns} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?`).raw();
    const CHUNK = 50_000; // a multiple of any sane batch keeps transactions at exactly `batch` rows
    const chunk = Math.max(options.rawBatch, Math.floor(CHUNK / options.rawBatch) * options.rawBatch);
    let after = 0;
    let done = 0;
    let ns = 0n;
    while (done < options.rawRows) {
      if (aborted) throw new Error('time limit reached during the raw reference');
      const withSeq = read.all(after, Math.min(chunk, options.rawRows - done)) as unknown[][];
      if (withSeq.length === 0) break;
      after = withSeq[withSeq.length - 1]![0] as number;
      const rows = withSeq.map((row) => row.slice(1)); // seq is assigned by the fresh table
      const start = process.hrtime.bigint();
      for (let i = 0; i < rows.length; i += options.rawBatch) writeBatch.immediate(rows, i, Math.min(i + options.rawBatch, rows.length));
      ns += process.hrtime.bigint() - start;
      done += rows.length;
    }
    const seconds = Number(ns) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const busyS = machineCpuSeconds().busy - machine0.busy;
    return {
      rows: done, seconds, rate: done / seconds,
      phaseSeconds: (performance.now() - t0) / 1000,
      otherCpuS: Math.max(0, busyS - (cpu.user + cpu.system) / 1e6),
    };
  } finally {
    fresh.close();
    source.close();
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  keepTemp = options.keep;
  if (!existsSync(SERVER_MAIN) || !existsSync(ASN_TABLE)) {
    throw new Error(`${!existsSync(SERVER_MAIN) ? SERVER_MAIN : ASN_TABLE} is missing: run \`npm run build\` first`);
  }
  const startedAt = Date.now();
  const limitTimer = setTimeout(() => {
    aborted = true;
    console.error(`\ntime limit of ${options.timeLimitS} s reached: stopping`);
    // Give in-flight requests a moment, then leave whatever state we are in.
    setTimeout(() => {
      console.error('did not wind down within 20 s: exiting');
      process.exit(3);
    }, 20_000).unref();
  }, options.timeLimitS * 1000);

  const cpus = os.cpus();
  console.log('PEBA ingest benchmark');
  console.log(`  machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, ${fmtInt(os.totalmem() / 1024 ** 2)} MB RAM, Node ${process.version}`);
  console.log(`  NOTE: the load generator runs on the same machine as the server and competes with it for the ${cpus.length} cores.`);
  console.log(`  alerts ${fmtInt(options.alerts)} in messages of ${options.batch}, ${options.clients} keep-alive clients, synchronous=${options.synchronous}`);
  if (options.serverNodeArgs.length > 0) console.log(`  server node options: ${options.serverNodeArgs.join(' ')}`);
  for (const [key, value] of Object.entries(options.serverEnv)) console.log(`  server env: ${key}=${value}`);
  console.log(`  server code: ${describeServerBuild()}`);

  tempDir = mkdtempSync(path.join(os.tmpdir(), 'peba-bench-'));
  const messageCount = Math.ceil(options.alerts / options.batch);
  const messageSize = (m: number): number => Math.min(options.batch, options.alerts - m * options.batch);
  const generator = new MessageGenerator();
  console.log(`  data: ${generator.sensorCount} sensors (${generator.sensorCount * 4} analyzer ids), ${fmtInt(generator.sourcePoolSize)} attacker addresses (server GeoIP LRU: 100,000)`);

  // Build all bodies before the timed window when they fit comfortably in memory.
  const probe = new MessageGenerator({ seed: 1 }).message(0, options.batch).length;
  const estimatedBytes = probe * messageCount;
  const pregenerate = estimatedBytes <= PREGEN_LIMIT_BYTES && !options.generateDuringRun;
  let bodies: Array<Buffer | undefined> = [];
  if (pregenerate) {
    const g0 = performance.now();
    let bytes = 0;
    bodies = new Array<Buffer | undefined>(messageCount);
    for (let m = 0; m < messageCount; m++) {
      if (aborted) throw new Error('time limit reached while generating messages');
      bytes += (bodies[m] = generator.message(m, messageSize(m))).length;
    }
    console.log(`  generated ${fmtInt(messageCount)} messages (${(bytes / 1024 ** 2).toFixed(0)} MB, avg ${fmtInt(bytes / options.alerts)} B/alert) in ${((performance.now() - g0) / 1000).toFixed(1)} s, before the timed window`);
  } else {
    console.log(options.generateDuringRun
      ? '  messages are built during the run (--generate-during-run); their cost is reported'
      : `  messages (~${(estimatedBytes / 1024 ** 3).toFixed(1)} GB) are too many to pre-build: built during the run; their cost is reported`);
  }
  const body = (m: number): Buffer => {
    if (!pregenerate) return generator.message(m, messageSize(m));
    const b = bodies[m]!;
    bodies[m] = undefined; // sent once: let it go
    return b;
  };

  // ---- 1. end to end
  console.log('\n[1] end to end: real server (node dist/src/cli/main.js start) as a child process');
  const s = await startServer(tempDir, options);
  const idleRssKb = procStatusKb(s.pid, 'VmRSS');
  console.log(`  server pid ${s.pid} on 127.0.0.1:${s.port}, store ${s.dbPath}, idle RSS ${fmtMb(idleRssKb)}`);
  const load = await runLoad(s, options, messageCount, messageSize, body, !pregenerate);
  bodies = [];
  const finalRssKb = procStatusKb(s.pid, 'VmRSS');
  const hwmKb = procStatusKb(s.pid, 'VmHWM');
  const serverDied = !serverAlive();
  await stopServer(s);

  const wholeSeconds = load.perSecond.slice(0, Math.floor(load.seconds)); // drop the last, partial second
  const perSecondRates = wholeSeconds.length > 0 ? wholeSeconds : load.perSecond;
  const e2eRate = load.acknowledged / load.seconds;
  const e2eMedian = median(perSecondRates);
  const failed = [...load.failures.values()].reduce((a, b) => a + b, 0);
  console.log(`  sent ${fmtInt(load.messagesOk + failed)} messages in ${load.seconds.toFixed(1)} s: ${fmtInt(load.messagesOk)} OK, ${fmtInt(failed)} failed${serverDied ? ' (SERVER DIED)' : ''}`);
  for (const [reason, count] of load.failures) console.log(`    failure ${reason}: ${count}`);
  for (const sample of load.failureSamples) console.log(`      e.g. ${sample}`);
  console.log(`  alerts acknowledged: ${fmtInt(load.acknowledged)}`);
  console.log(`  rate: ${fmtInt(e2eRate)} alerts/s overall, median of per-second rates ${fmtInt(e2eMedian)} alerts/s (min ${fmtInt(Math.min(...perSecondRates))}, max ${fmtInt(Math.max(...perSecondRates))}, ${perSecondRates.length} whole seconds)`);
  console.log(`  per-second k-alerts/s: ${perSecondRates.map((n) => (n / 1000).toFixed(0)).join(' ')}`);
  console.log(`  message latency: p50 ${percentile(load.latenciesMs, 0.5).toFixed(1)} ms, p99 ${percentile(load.latenciesMs, 0.99).toFixed(1)} ms, max ${percentile(load.latenciesMs, 1).toFixed(1)} ms`);
  console.log(`  CPU in the window: server ${load.serverCpuS.toFixed(1)} s (${((load.serverCpuS / load.seconds) * 100).toFixed(0)}% of one core), ` +
    `bench client ${load.clientCpuS.toFixed(1)} s (${((load.clientCpuS / load.seconds) * 100).toFixed(0)}%), ` +
    `other processes ${load.machine.otherCpuS.toFixed(1)} s; ` +
    `machine ${(load.machine.busyShare * 100).toFixed(0)}% busy + ${(load.machine.iowaitShare * 100).toFixed(0)}% iowait of ${cpus.length} cores`);
  console.log(pregenerate
    ? '  message generation: none in the window (pre-built)'
    : `  message generation in the window: ${load.generatorSecondsInWindow.toFixed(1)} s of client CPU (${((load.generatorSecondsInWindow / load.seconds) * 100).toFixed(1)}% of the wall time)`);
  console.log(`  server RSS (VmRSS): idle ${fmtMb(idleRssKb)}; every ${fmtInt(load.rssSamples[0]?.alerts ?? 0)} alerts:`);
  for (const sample of load.rssSamples) console.log(`    ${fmtInt(sample.alerts).padStart(11)} alerts  ${fmtMb(sample.kb)}`);
  const firstRss = load.rssSamples[0]?.kb ?? NaN;
  const lastRss = load.rssSamples[load.rssSamples.length - 1]?.kb ?? NaN;
  const maxRss = Math.max(...load.rssSamples.map((x) => x.kb), finalRssKb);
  console.log(`  RSS first sample ${fmtMb(firstRss)} -> last ${fmtMb(lastRss)} (${lastRss >= firstRss ? '+' : ''}${(((lastRss - firstRss) / firstRss) * 100).toFixed(1)}%), after the run ${fmtMb(finalRssKb)}, peak (VmHWM) ${fmtMb(hwmKb)}`);

  if (options.cpuProfDir !== undefined) {
    const profiles = readdirSync(options.cpuProfDir).filter((f) => f.endsWith('.cpuprofile')).sort();
    const latest = profiles[profiles.length - 1];
    if (latest) {
      console.log(`\n  server CPU profile ${path.join(options.cpuProfDir, latest)} (includes start-up and shutdown):`);
      console.log(formatSummary(summarizeProfileFile(path.join(options.cpuProfDir, latest), 25), '  '));
    } else {
      console.log(`  no .cpuprofile in ${options.cpuProfDir} (the server did not exit cleanly?)`);
    }
  }

  // ---- verify
  const check = new Database(s.dbPath, { readonly: true });
  const stored = check.prepare('SELECT count(*) FROM alerts').pluck().get() as number;
  const payloads = check.prepare('SELECT count(*) FROM payloads').pluck().get() as number;
  check.close();
  const countOk = stored === options.alerts;
  console.log(`  verify: store holds ${fmtInt(stored)} alerts, expected ${fmtInt(options.alerts)}: ${countOk ? 'OK' : 'MISMATCH'} (payload store: ${fmtInt(payloads)} distinct payloads)`);

  // ---- 2. raw reference
  let raw: RawResult | undefined;
  if (aborted) {
    console.log('\n[2] raw reference skipped: time limit reached');
  } else if (stored < options.rawRows) {
    console.log(`\n[2] raw reference skipped: the store holds only ${fmtInt(stored)} of the ${fmtInt(options.rawRows)} rows needed`);
  } else {
    console.log(`\n[2] raw reference: the stored rows re-inserted with better-sqlite3 into a fresh db (same schema via migrate(), WAL, synchronous=${options.synchronous}), ${options.rawBatch} rows per transaction`);
    raw = rawReference(s.dbPath, tempDir, options);
    const scope = raw.rows === options.alerts
      ? 'the same number of rows as end to end'
      : `the first ${fmtInt(raw.rows)} of ${fmtInt(options.alerts)} rows; the rate is compared as is (a bigger table inserts somewhat slower, so this flatters raw)`;
    console.log(`  ${fmtInt(raw.rows)} rows (${scope}) in ${raw.seconds.toFixed(2)} s of insert time: ${fmtInt(raw.rate)} rows/s`);
    console.log(`  other processes used ${raw.otherCpuS.toFixed(1)} CPU-s during this ${raw.phaseSeconds.toFixed(1)} s phase`);
  }

  // ---- 3. summary
  clearTimeout(limitTimer);
  const pct = (x: number): string => `${(x * 100).toFixed(0)}%`;
  console.log('\nsummary');
  const table: Array<[string, string]> = [
    ['synchronous', options.synchronous],
    ['alerts / clients / batch', `${fmtInt(options.alerts)} / ${options.clients} / ${options.batch}`],
    ['end-to-end alerts/s (total)', fmtInt(e2eRate)],
    ['end-to-end alerts/s (median per second)', fmtInt(e2eMedian)],
    ['raw SQLite alerts/s', raw
      ? `${fmtInt(raw.rate)} (${fmtInt(raw.rows)} rows, ${options.rawBatch} per transaction)`
      : 'n/a'],
    ['ratio e2e/raw (total; median)', raw ? `${pct(e2eRate / raw.rate)}; ${pct(e2eMedian / raw.rate)}  (target >= 50%)` : 'n/a'],
    ['server RSS first / last / max', `${fmtMb(firstRss)} / ${fmtMb(lastRss)} / ${fmtMb(Math.max(maxRss, hwmKb))}`],
    ['other processes\' CPU (e2e; raw)', `${load.machine.otherCpuS.toFixed(0)} s in ${load.seconds.toFixed(0)} s; ` +
      (raw ? `${raw.otherCpuS.toFixed(0)} s in ${raw.phaseSeconds.toFixed(0)} s` : 'n/a') + '  (near 0 = clean measurement)'],
    ['failed messages', fmtInt(failed)],
    ['stored = sent', countOk ? 'yes' : `NO (${fmtInt(stored)})`],
    ['wall time of the whole bench', `${((Date.now() - startedAt) / 1000).toFixed(0)} s`],
  ];
  if (aborted) table.push(['TIME LIMIT REACHED', 'partial run: figures above are incomplete']);
  const width = Math.max(...table.map(([k]) => k.length));
  for (const [key, value] of table) console.log(`  ${key.padEnd(width)}  ${value}`);
  return failed === 0 && countOk && !aborted ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    process.exit(1);
  },
);
