/**
 * Query benchmark: read latency of every retrieval endpoint (CONTRACT sections 5-6) of the real
 * server on a small and a large SQLite store, side by side, to show whether the cost of an
 * answer grows with the amount of stored data. See bench/README.md for how to run and read it.
 *
 *   node dist/bench/query/run.js [--sizes 100000,10000000] [--requests 300] [--keep DIR]
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CONFIG_KEYS } from '../../src/config';
import { databaseBytes, ensureDatabase, SPAN_DAYS, TopUp, type DbMeta } from './database';
import { AlertGenerator, DAY_MS } from './generator';
import { endpoints, measure, percentile, request, UNSEEN_SOURCE, USER, TOKEN, type Endpoint } from './endpoints';
import { exitWithUsageIfAsked, LATENCY_ARGS, latencyOptions, latencyUsage, type LatencyDefaults, type LatencyOptions } from '../common/options';
import { environmentWithoutPeba, freePort } from '../common/system';

/** dist/bench/query -> dist */
const DIST = path.resolve(__dirname, '../..');
const SERVER_MAIN = path.join(DIST, 'src/cli/main.js');
/** Targets the table is checked against. */
const P99_TARGET_MS = 20;
const RATIO_TARGET = 2;

// ---------------------------------------------------------------- options

interface Options extends LatencyOptions {
  keep: string;
  buildOnly: boolean;
}

const LATENCY: LatencyDefaults = { sizes: '100000,10000000', maxSize: 200_000_000, requests: 300, warmup: 20 };

const USAGE = `usage: node dist/bench/query/run.js [options]
  --sizes N,M,...       database sizes in alerts (default 100000,10000000); ratios compare the
                        largest with the smallest
${latencyUsage(LATENCY)}
  --keep DIR            where built databases are cached (default /tmp/peba-bench-query)
  --build-only          build (or reuse) the databases and stop`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: { ...LATENCY_ARGS, sizes: { type: 'string' }, keep: { type: 'string' }, 'build-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  return {
    ...latencyOptions(values, values.sizes, 'sizes', LATENCY),
    keep: path.resolve(values.keep ?? '/tmp/peba-bench-query'),
    buildOnly: values['build-only'] ?? false,
  };
}

// ---------------------------------------------------------------- helpers

const log = (line: string): void => console.error(line);
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function sizeLabel(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}



// ---------------------------------------------------------------- server

let server: ChildProcess | undefined;

const serverAlive = (): boolean => server !== undefined && server.exitCode === null && server.signalCode === null;

process.on('exit', () => {
  if (serverAlive()) server!.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    log(`\n${signal}: stopping`);
    process.exit(130);
  });
}

/**
 * The server's environment: ours, minus any PEBA_* of the caller's shell, plus the store and
 * port. A response cache, once PEBA has one, is switched off: we measure the store.
 */
function serverEnv(dbPath: string, port: number): { env: NodeJS.ProcessEnv; notes: string[] } {
  const env = environmentWithoutPeba();
  Object.assign(env, {
    PEBA_STORE: `sqlite:${dbPath}`,
    PEBA_BINDHOST: `127.0.0.1:${port}`,
    PEBA_LOG_LEVEL: 'warn',
    // No snapshot job writing while we measure (snapshots are pre-built).
    PEBA_STATS_INTERVAL_MINUTES: '0',
  });
  const notes: string[] = [];
  // PEBA's response cache (CACHE=on|off, default on) would answer repeated GETs from memory.
  if ((CONFIG_KEYS as readonly string[]).includes('CACHE')) {
    env['PEBA_CACHE'] = 'off';
    notes.push('PEBA_CACHE=off');
  }
  return { env, notes };
}

function addUser(env: NodeJS.ProcessEnv): void {
  execFileSync(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'user', 'add', USER, '--token', TOKEN, '--replace'], { env, stdio: 'pipe' });
}

async function startServer(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  // --config /dev/null: a machine-wide /etc/peba/peba.cfg must not change what we measure.
  const child = spawn(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  let lines = 0;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) {
        if (line === '' || ++lines > 20) continue;
        log(`[server] ${line.slice(0, 300)}`);
      }
    });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!serverAlive()) throw new Error(`server exited during start-up (code ${child.exitCode})`);
    try {
      const reply = await request(new http.Agent(), port, { method: 'GET', path: '/heartbeat' });
      if (reply.status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not answer within 60 s');
    await sleep(100);
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (!serverAlive()) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  if (await Promise.race([exited.then(() => false), sleep(15_000).then(() => true)])) {
    child.kill('SIGKILL');
    await exited;
  }
}

// ---------------------------------------------------------------- one size

interface Row {
  readonly median: number;
  readonly p99: number;
  readonly max: number;
  readonly n: number;
  readonly bytes: number;
  readonly errors: number;
  readonly stoppedEarly: boolean;
}

interface SizeResult {
  readonly size: number;
  readonly meta: DbMeta;
  readonly dbBytes: number;
  readonly rows: Map<string, Row>;
  readonly cacheNotes: string[];
  readonly topUpAlerts: number;
}

async function runSize(size: number, dbPath: string, meta: DbMeta, options: Options): Promise<SizeResult> {
  const topUp = new TopUp(dbPath, meta);
  let topUpAlerts = 0;
  const refresh = async (): Promise<void> => {
    const { alerts, skippedMs } = await topUp.toNow();
    topUpAlerts += alerts;
    if (skippedMs > 0) log(`  note: the cached data ended ${(skippedMs / DAY_MS).toFixed(1)} days before the top-up window; that gap stays empty`);
  };
  const rows = new Map<string, Row>();
  const port = await freePort();
  const { env, notes } = serverEnv(dbPath, port);
  let child: ChildProcess | undefined;
  try {
    await refresh();
    addUser(env);
    child = await startServer(env, port);
    const generator = new AlertGenerator(0);
    for (const endpoint of endpoints(generator.hottestSource(), generator.rareSource(), Date.now())) {
      if (options.only && !options.only.test(endpoint.label)) continue;
      // Fresh data at the edge of every rolling window, as a live ingest stream would leave it.
      await refresh();
      const m = await measure(port, endpoint, options);
      const sorted = [...m.samplesMs].sort((a, b) => a - b);
      const row: Row = {
        median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN,
        n: sorted.length, bytes: m.bytes, errors: m.errors, stoppedEarly: m.stoppedEarly,
      };
      rows.set(endpoint.label, row);
      log(`  ${endpoint.label.padEnd(40)} median ${row.median.toFixed(2).padStart(8)} ms  p99 ${row.p99.toFixed(2).padStart(8)} ms  ` +
        `${fmtInt(row.bytes).padStart(9)} B  n=${row.n}${m.errors ? `  ERRORS ${m.errors}: ${m.errorSample}` : ''}` +
        `${m.stoppedEarly ? '  (stopped at the time limit)' : ''}`);
    }
  } finally {
    if (child) await stopServer(child);
    await topUp.close();
  }
  return { size, meta, dbBytes: databaseBytes(dbPath), rows, cacheNotes: notes, topUpAlerts };
}

// ---------------------------------------------------------------- report

function table(results: readonly SizeResult[], kinds: Map<string, Endpoint['kind']>, requests: number): string {
  const small = results[0]!;
  const large = results[results.length - 1]!;
  const compare = results.length > 1;
  const header = ['endpoint'];
  for (const r of results) header.push(`med@${sizeLabel(r.size)}`, `p99@${sizeLabel(r.size)}`);
  if (compare) header.push('med ratio', 'p99 ratio');
  header.push(`bytes@${sizeLabel(large.size)}`, 'misses');
  const lines: string[][] = [header];
  const fmt = (ms: number | undefined): string => (ms === undefined || Number.isNaN(ms) ? '-' : ms.toFixed(2));
  for (const [label, kind] of kinds) {
    if (!results.some((r) => r.rows.has(label))) continue;
    const line = [label];
    for (const r of results) line.push(fmt(r.rows.get(label)?.median), fmt(r.rows.get(label)?.p99));
    const a = small.rows.get(label);
    const b = large.rows.get(label);
    const misses: string[] = [];
    if (compare) {
      const medRatio = a && b ? b.median / a.median : NaN;
      const p99Ratio = a && b ? b.p99 / a.p99 : NaN;
      line.push(Number.isNaN(medRatio) ? '-' : medRatio.toFixed(2), Number.isNaN(p99Ratio) ? '-' : p99Ratio.toFixed(2));
      if (kind === 'stats' && medRatio > RATIO_TARGET) misses.push('med ratio');
      if (kind === 'stats' && p99Ratio > RATIO_TARGET) misses.push('p99 ratio');
    }
    if (b && !(b.p99 < P99_TARGET_MS)) misses.push(`p99>=${P99_TARGET_MS}ms`);
    if (results.some((r) => (r.rows.get(label)?.errors ?? 0) > 0)) misses.push('ERRORS');
    const short = results.filter((r) => (r.rows.get(label)?.n ?? requests) < requests).map((r) => `n=${r.rows.get(label)!.n}@${sizeLabel(r.size)}`);
    if (short.length) misses.push(`(time limit: ${short.join(' ')})`);
    line.push(b ? fmtInt(b.bytes) : '-', misses.length ? `<< ${misses.join(', ')}` : '');
    lines.push(line);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines.map((l, li) => {
    const text = l.map((cell, i) => (i === 0 || i === l.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
    return li === 0 ? `${text}\n${'-'.repeat(text.length)}` : text;
  }).join('\n');
}

function describeSize(r: SizeResult): string {
  const b = r.meta.build;
  const shape = r.meta.shape ?? {};
  const parts = [
    `${sizeLabel(r.size)}: ${fmtInt(r.meta.alerts)} alerts over ${SPAN_DAYS} days, db ${(r.dbBytes / 1024 ** 3).toFixed(2)} GiB`,
  ];
  if (b) {
    parts.push(`built in ${b.seconds.toFixed(0)} s (${fmtInt(r.size / b.seconds)} alerts/s overall; storeAlerts ${b.storeSeconds.toFixed(0)} s = ` +
      `${fmtInt(r.size / b.storeSeconds)} alerts/s, generating ${b.generateSeconds.toFixed(0)} s, ${b.snapshots} hourly snapshots ${b.snapshotSeconds.toFixed(0)} s) at ${b.builtAt}`);
  }
  parts.push(`top-ups ${fmtInt(r.meta.topUpAlerts)} alerts so far (${fmtInt(r.topUpAlerts)} this run)`);
  const shapeText = Object.entries(shape).map(([k, v]) => `${k} ${fmtInt(v)}`).join(', ');
  if (shapeText) parts.push(shapeText);
  return parts.join('\n    ');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  mkdirSync(options.keep, { recursive: true });
  const built: Array<{ size: number; path: string; meta: DbMeta }> = [];
  for (const size of options.sizes) {
    const db = await ensureDatabase(options.keep, size, log);
    log(db.built
      ? `built ${db.path} in ${db.meta.build!.seconds.toFixed(0)} s (${fmtInt(size / db.meta.build!.seconds)} alerts/s)`
      : `reusing ${db.path} (built ${db.meta.build?.builtAt ?? '?'})`);
    built.push({ size, ...db });
  }
  if (options.buildOnly) return;

  const generator = new AlertGenerator(0);
  const hot = generator.hottestSource();
  const kinds = new Map(endpoints(hot, generator.rareSource(), Date.now()).map((e) => [e.label, e.kind] as const));
  const results: SizeResult[] = [];
  for (const { size, path: dbPath, meta } of built) {
    log(`\nmeasuring ${sizeLabel(size)} (${options.warmup} warm-up + ${options.requests} requests per endpoint, sequential, keep-alive)`);
    results.push(await runSize(size, dbPath, meta, options));
  }

  const out: string[] = [];
  out.push(`\nQuery latency, ms (client side, sequential keep-alive requests; n=${options.requests} after ${options.warmup} warm-up)`);
  for (const r of results) out.push(`  ${describeSize(r)}`);
  const cacheNotes = results[0]!.cacheNotes;
  out.push(`  response cache: ${cacheNotes.length ? `switched off (${cacheNotes.join(', ')})` : 'none in this PEBA (nothing to switch off)'}`);
  out.push(`  querySingleIP asks for ${hot} (the most frequent source), ${generator.rareSource()} (rare) and ${UNSEEN_SOURCE} (never seen)`);
  out.push('');
  out.push(table(results, kinds, options.requests));
  out.push('');
  const large = results[results.length - 1]!;
  const hb = large.rows.get('heartbeat (reference)');
  if (hb) {
    out.push(`reference: /heartbeat (no data access) median ${hb.median.toFixed(2)} ms, p99 ${hb.p99.toFixed(2)} ms at ${sizeLabel(large.size)}: ` +
      'the HTTP round trip every row includes');
  }
  out.push(`targets: p99 < ${P99_TARGET_MS} ms at ${sizeLabel(large.size)} for every endpoint; ratio ${sizeLabel(large.size)}/${sizeLabel(results[0]!.size)} <= ${RATIO_TARGET} ` +
    'for statistics endpoints (all but retrieveIPs*, retrieveAlertsCyber, querySingleIP, retrieveAlertsJson); "<<" marks a miss');
  console.log(out.join('\n'));

  const file = path.join(options.keep, `results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(results.map((r) => ({
    size: r.size, dbBytes: r.dbBytes, meta: r.meta, rows: Object.fromEntries(r.rows),
  })), null, 2)}\n`);
  log(`raw results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
