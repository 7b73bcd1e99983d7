/**
 * Soak test: a production-like PEBA (the compiled CLI's `start`, the bundled GeoIP, a memcached,
 * the default SQLITE_SYNCHRONOUS=full) under every kind of traffic at once for a while:
 *
 *   npm run bench:soak -- [--minutes 10] [--rate 200] ...     (--help lists the options)
 *
 * ewsposter-shaped posts at a steady rate (retried on failure, as ewsposter's spool does),
 * dashboards polling the public endpoints, live-stream clients, private queries; memcached is
 * stopped a third into the run and started again; with a store other than SQLite (PEBA_STORE)
 * and --restart-store CMD, that command (restarting the store, e.g. OpenSearch) runs at two thirds.
 * It prints resident memory and event-loop delay over time, every error and every server log
 * line at warn or above, and afterwards reads the store back: every acknowledged alert must be
 * stored exactly once. Exit code 1 when anything failed or a bound was exceeded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config';
import { parseUtc } from '../../src/domain/time';
import { openStore } from '../../src/store/open-store';
import { MemcachedServer } from '../../test/memcached-server';
import { median, request, waitUntilServing } from '../cache/common';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, machineCpuSeconds, processCpuSeconds } from '../common/system';
import { MessageGenerator } from '../ingest/messages';
import { restartNode, startNode, stopNode } from '../../tools/opensearch/node';
import { ErrorBook, Pollers, Senders, StreamClients } from './load';

/** dist/bench/soak -> dist */
const SERVER_MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const PRIVATE_USER = { name: 'soak-operator', token: 'soak-Operator-T0ken' };

const USAGE = `usage: npm run bench:soak -- [options]
  --minutes N              length of the run (default 10)
  --rate N                 alerts per second posted (default 200)
  --message-alerts N       alerts per message (default 20)
  --dashboards N           dashboards polling the public endpoints (default 20)
  --dashboard-seconds N    each dashboard's polling period (default 10)
  --streams N              live-stream clients (default 10)
  --private-seconds N      one private query every N seconds (default 2)
  --sample-seconds N       sampling period of memory and event-loop delay (default: 10, less for short runs)
  --memcached-down N       seconds memcached stays stopped a third into the run (default 10)
  --opensearch             store in an OpenSearch node of its own (tools/opensearch), restarted in
                           place at two thirds of the run
  --restart-store CMD      with a PEBA_STORE other than SQLite: a shell command run at two thirds
                           that restarts that store; without it no store restart
  --rss-growth-mb N        bound: resident memory growth after the warm-up quarter (default 96:
                           SQLite's page cache, up to 64 MiB, fills as the database grows)
  --loop-p99-ms N          bound: event-loop delay p99 of every sampling interval (default 250)
  --keep                   keep the temporary directory (store, server log)
Environment: PEBA_STORE picks the store (default: SQLite in a temporary directory).
Errors while a store restarts (until 15 s after it is back) are listed apart as excused.`;

interface Options {
  readonly minutes: number;
  readonly rate: number;
  readonly messageAlerts: number;
  readonly dashboards: number;
  readonly dashboardSeconds: number;
  readonly streams: number;
  readonly privateSeconds: number;
  readonly sampleSeconds: number;
  readonly memcachedDown: number;
  readonly restartStore: string | undefined;
  readonly opensearch: boolean;
  readonly rssGrowthMb: number;
  readonly loopP99Ms: number;
  readonly keep: boolean;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' }, rate: { type: 'string' }, 'message-alerts': { type: 'string' },
      dashboards: { type: 'string' }, 'dashboard-seconds': { type: 'string' }, streams: { type: 'string' },
      'private-seconds': { type: 'string' }, 'sample-seconds': { type: 'string' }, 'memcached-down': { type: 'string' },
      'restart-store': { type: 'string' }, 'rss-growth-mb': { type: 'string' }, 'loop-p99-ms': { type: 'string' },
      keep: { type: 'boolean' }, opensearch: { type: 'boolean' }, help: { type: 'boolean' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const minutes = integerOption(values.minutes, 10, 'minutes', 1, 24 * 60);
  return {
    minutes,
    rate: integerOption(values.rate, 200, 'rate', 1, 100_000),
    messageAlerts: integerOption(values['message-alerts'], 20, 'message-alerts', 1, 10_000),
    dashboards: integerOption(values.dashboards, 20, 'dashboards', 0, 10_000),
    dashboardSeconds: integerOption(values['dashboard-seconds'], 10, 'dashboard-seconds', 1, 3600),
    streams: integerOption(values.streams, 10, 'streams', 0, 10_000),
    privateSeconds: integerOption(values['private-seconds'], 2, 'private-seconds', 1, 3600),
    sampleSeconds: integerOption(values['sample-seconds'], Math.min(10, Math.max(2, Math.round(minutes * 2))), 'sample-seconds', 1, 3600),
    memcachedDown: integerOption(values['memcached-down'], 10, 'memcached-down', 1, 3600),
    restartStore: values['restart-store'],
    opensearch: values.opensearch ?? false,
    rssGrowthMb: integerOption(values['rss-growth-mb'], 96, 'rss-growth-mb', 1, 100_000),
    loopP99Ms: integerOption(values['loop-p99-ms'], 250, 'loop-p99-ms', 1, 100_000),
    keep: values.keep ?? false,
  };
}

interface Sample {
  readonly seconds: number;
  readonly rssMb: number;
  readonly heapMb: number;
  /** Buffers outside the V8 heap (payloads, sockets); SQLite's page cache is in neither. */
  readonly externalMb: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly serverCpu: number;
  readonly machineBusy: number;
  readonly acknowledged: number;
  readonly answered: number;
  readonly streamEvents: number;
  readonly errors: number;
  /** PEBA's own view: 1 when memcached answered its ping at this scrape. */
  readonly memcachedUp: number;
}

function residentMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** One value of the Prometheus text (`name` with its labels as written), NaN when absent. */
function metric(text: string, name: string): number {
  const escaped = name.replace(/[{}"]/g, (c) => `\\${c}`);
  const match = new RegExp(`^${escaped} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

/** Server log lines at warn or above, grouped by level and message; those during a store restart are excused. */
class ServerLog {
  private readonly groups = new Map<string, { count: number; first: string; last: string; example: string }>();
  errors = 0;

  constructor(private readonly book: ErrorBook) {}

  add(line: string): void {
    let level = 60;
    let message = line;
    let time = new Date().toISOString();
    try {
      const parsed = JSON.parse(line) as { level?: number; msg?: string; time?: string };
      level = parsed.level ?? 60;
      message = parsed.msg ?? line;
      time = parsed.time ?? time;
    } catch {
      // not JSON: something the server wrote outside its log, counted as an error
    }
    if (level < 40) return;
    const excuse = this.book.excusing;
    if (level >= 50 && excuse === null) this.errors++;
    const key = `${level >= 50 ? 'error' : 'warn'}${excuse === null ? '' : ` (excused: ${excuse})`}: ${message}`;
    const group = this.groups.get(key) ?? { count: 0, first: time, last: time, example: line.slice(0, 300) };
    group.count++;
    group.last = time;
    this.groups.set(key, group);
  }

  lines(): string[] {
    return [...this.groups].map(([key, g]) => `${key} x${g.count} (${g.first} .. ${g.last}) e.g. ${g.example}`);
  }
}

/** Reads every alert back: each acknowledged one must be there exactly once, no other one more than once. */
async function checkStored(store: string, senders: Senders, baseSeconds: number, alertsPerMessage: number): Promise<{ lines: string[]; ok: boolean }> {
  const total = senders.sent * alertsPerMessage;
  const copies = new Uint8Array(total);
  let foreign = 0;
  const opened = openStore(loadConfig({ env: { PEBA_STORE: store }, file: undefined }), { mustExist: true });
  try {
    for await (const alert of opened.exportAlerts()) {
      const n = parseUtc(alert.document.createTime) / 1000 - baseSeconds;
      if (Number.isInteger(n) && n >= 0 && n < total) copies[n] = Math.min(255, copies[n]! + 1);
      else foreign++;
    }
  } finally {
    await opened.close();
  }
  let missing = 0;
  let duplicated = 0;
  let storedUnacknowledged = 0;
  let acknowledgedAlerts = 0;
  for (let n = 0; n < total; n++) {
    const acknowledged = senders.acknowledged[Math.floor(n / alertsPerMessage)] === 1;
    if (acknowledged) acknowledgedAlerts++;
    if (copies[n]! > 1) duplicated++;
    else if (acknowledged && copies[n] === 0) missing++;
    else if (!acknowledged && copies[n] === 1) storedUnacknowledged++;
  }
  return {
    ok: missing === 0 && duplicated === 0 && foreign === 0,
    lines: [
      `acknowledged alerts: ${acknowledgedAlerts.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} sent`,
      `missing (acknowledged, not stored): ${missing}; stored more than once: ${duplicated}; not sent by the soak: ${foreign}`,
      `stored though never acknowledged (a reply lost after the commit): ${storedUnacknowledged}`,
    ],
  };
}

async function main(): Promise<number> {
  const options = parseOptions();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'peba-soak-'));
  const node = options.opensearch ? await startNode({ log: (line) => console.log(line) }) : null;
  const store = node ? `opensearch+${node.url}` : process.env['PEBA_STORE'] ?? `sqlite:${path.join(dir, 'peba.db')}`;
  const memcached = await MemcachedServer.start();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = { ...environmentWithoutPeba(), PEBA_STORE: store, PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_MEMCACHE: memcached.address, PEBA_LOG_LEVEL: 'warn', PEBA_ACCESS_LOG: 'off' };
  const cli = (...args: string[]): void => {
    execFileSync(process.execPath, [SERVER_MAIN, '--config', '/dev/null', ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  };
  cli('init');
  cli('user', 'add', PRIVATE_USER.name, '--token', PRIVATE_USER.token, '--replace');

  const server = spawn(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const errors = new ErrorBook(Date.now());
  const serverLog = new ServerLog(errors);
  createInterface({ input: server.stdout! }).on('line', (line) => serverLog.add(line));
  createInterface({ input: server.stderr! }).on('line', (line) => serverLog.add(line));
  // Never outlive the soak, whatever ends it.
  const killServer = (): void => {
    server.kill('SIGKILL');
  };
  process.once('exit', killServer);
  const serverExit = new Promise<number | null>((resolve) => server.once('exit', (code) => {
    process.removeListener('exit', killServer);
    resolve(code);
  }));
  await waitUntilServing(`${url}/heartbeat`, server);

  const durationMs = options.minutes * 60_000;
  const messagesPerSecond = options.rate / options.messageAlerts;
  const maxMessages = Math.ceil((durationMs / 1000 + 5) * messagesPerSecond);
  // CreateTimes end before the run starts: alert n was created at base + n seconds.
  const baseSeconds = Math.floor(Date.now() / 1000) - maxMessages * options.messageAlerts;
  const generator = new MessageGenerator({ seed: 13, sensors: 50, sourcePool: 50_000, hotSources: 500, baseSeconds });
  console.log(`PEBA soak: ${options.minutes} min, ${options.rate} alerts/s in messages of ${options.messageAlerts}, ` +
    `${options.dashboards} dashboards every ${options.dashboardSeconds} s, ${options.streams} stream clients, ` +
    `a private query every ${options.privateSeconds} s; store ${store}; memcached ${memcached.address}; ` +
    `${os.cpus().length} CPUs, Node ${process.version}`);

  const started = Date.now();
  errors.countFrom(started);
  const senders = new Senders(url, generator, { messagesPerSecond, alertsPerMessage: options.messageAlerts, maxMessages, maxInFlight: 64, retries: 60, retrySeconds: 2 }, errors);
  const pollers = new Pollers(url, errors);
  const streams = new StreamClients(url, errors);
  const today = (): string => new Date().toISOString().slice(0, 10).replace(/-/g, '');
  // What the dashboard (web/src) asks for, plus the counters and the heartbeat a monitor reads.
  pollers.add('dashboard', options.dashboards, options.dashboardSeconds * 1000, () => [
    { path: '/alert/retrieveAlertStats' }, { path: '/alert/retrieveAlertsJson' },
    { path: '/alert/topCountriesAttacks?topx=300' }, { path: '/alert/datasetAlertTypesPerMonth' },
    { path: '/alert/tops?type=urls&topx=10&days=1' }, { path: '/alert/tops?type=destports&topx=10&days=7' },
    { path: `/alert/TpotStats?day=${today()}` }, { path: '/alert/retrieveAlertsCount?time=1' },
    { path: '/alert/retrieveLatLonAttacks?direction=src&topx=50' }, { path: '/alert/heartbeat?out=json' },
  ]);
  const credentials = `<EWS-SimpleMessage version="3.0"><Authentication><username>${PRIVATE_USER.name}</username><token>${PRIVATE_USER.token}</token></Authentication></EWS-SimpleMessage>`;
  let privateRound = 0;
  const privatePaths = ['/alert/retrieveIPs', '/alert/retrieveIPs15m?out=json', '/alert/retrieveAlertsCyber', '/alert/querySingleIP?ip=81.2.69.142'];
  pollers.add('private query', 1, options.privateSeconds * 1000, () => [{ path: privatePaths[privateRound++ % privatePaths.length]!, body: credentials }]);
  senders.start();
  streams.start(options.streams);

  const events: string[] = [];
  const at = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const disruptions: Promise<void>[] = [];
  const after = (ms: number, run: () => Promise<void>): void => {
    disruptions.push(new Promise<void>((resolve) => setTimeout(resolve, ms)).then(run).catch((error: unknown) => {
      errors.record('disruption failed', (error as Error).message);
    }));
  };
  after(durationMs / 3, async () => {
    events.push(`${at()}: memcached stopped`);
    await memcached.stop();
    await new Promise((resolve) => setTimeout(resolve, options.memcachedDown * 1000));
    await memcached.launch();
    events.push(`${at()}: memcached started again (empty)`);
  });
  const storeRestart = node ? () => restartNode(node.runDir)
    : !store.startsWith('sqlite:') && options.restartStore
      ? async () => {
        execFileSync('/bin/sh', ['-c', options.restartStore!], { stdio: 'inherit' });
      }
      : null;
  if (storeRestart) {
    after((2 * durationMs) / 3, async () => {
      events.push(`${at()}: store restart begins${node ? ' (the OpenSearch node, in place)' : `: ${options.restartStore}`}`);
      errors.setExcuse('during the store restart');
      try {
        await storeRestart();
        events.push(`${at()}: store back`);
        await new Promise((resolve) => setTimeout(resolve, 15_000));
      } finally {
        errors.clearExcuse();
      }
    });
  } else {
    events.push(store.startsWith('sqlite:') ? 'no store restart (SQLite is embedded)' : 'no store restart (no --restart-store given)');
  }

  const samples: Sample[] = [];
  console.log('\n   t   RSS MB  heap MB  external MB  loop p99 ms  loop max ms  server CPU  machine busy  alerts acked  answers  stream events  errors  memcached');
  let cpuBefore = processCpuSeconds(server.pid);
  let machineBefore = machineCpuSeconds();
  let last = Date.now();
  while (Date.now() - started < durationMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.sampleSeconds * 1000, durationMs - (Date.now() - started))));
    let metrics = '';
    try {
      metrics = (await request(`${url}/metrics`, { timeoutMs: 10_000 })).body;
    } catch (error) {
      errors.record('metrics scrape failed', (error as Error).message);
    }
    const now = Date.now();
    const cpu = processCpuSeconds(server.pid);
    const machine = machineCpuSeconds();
    const sample: Sample = {
      seconds: (now - started) / 1000,
      rssMb: residentMb(server.pid!),
      heapMb: metric(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20,
      externalMb: metric(metrics, 'nodejs_external_memory_bytes') / 2 ** 20,
      loopP99Ms: metric(metrics, 'nodejs_eventloop_lag_p99_seconds') * 1000,
      loopMaxMs: metric(metrics, 'nodejs_eventloop_lag_max_seconds') * 1000,
      serverCpu: (cpu - cpuBefore) / ((now - last) / 1000),
      machineBusy: (machine.busy - machineBefore.busy) / (machine.total - machineBefore.total),
      acknowledged: senders.acknowledgedCount * options.messageAlerts,
      answered: pollers.answered,
      streamEvents: streams.events,
      errors: errors.total,
      memcachedUp: metric(metrics, 'peba_component_up{component="memcached"}'),
    };
    cpuBefore = cpu;
    machineBefore = machine;
    last = now;
    samples.push(sample);
    console.log(`${sample.seconds.toFixed(0).padStart(4)}  ${sample.rssMb.toFixed(0).padStart(7)}  ${sample.heapMb.toFixed(0).padStart(7)}  ${sample.externalMb.toFixed(0).padStart(11)}  ` +
      `${sample.loopP99Ms.toFixed(1).padStart(11)}  ${sample.loopMaxMs.toFixed(1).padStart(11)}  ${(sample.serverCpu * 100).toFixed(0).padStart(9)}%  ` +
      `${(sample.machineBusy * 100).toFixed(0).padStart(11)}%  ${String(sample.acknowledged).padStart(12)}  ${String(sample.answered).padStart(7)}  ` +
      `${String(sample.streamEvents).padStart(13)}  ${String(sample.errors).padStart(6)}  ${sample.memcachedUp === 1 ? 'up' : 'down'}`);
  }

  await Promise.all(disruptions);
  await senders.stop();
  await pollers.stop();
  await streams.stop();
  server.kill('SIGTERM');
  const exitCode = await serverExit;
  await memcached.stop();
  if (exitCode !== 0) errors.record('server exit', `exit code ${exitCode} after SIGTERM`);
  const stored = await checkStored(store, senders, baseSeconds, options.messageAlerts);
  if (node) await stopNode(node.runDir);

  // Bounds: after the first quarter (caches, GeoIP LRU and SQLite page cache filling), flat.
  const steady = samples.filter((s) => s.seconds >= durationMs / 4000);
  const rssStart = steady[0]?.rssMb ?? NaN;
  const rssGrowth = Math.max(...steady.map((s) => s.rssMb)) - rssStart;
  const worstP99 = Math.max(...samples.map((s) => s.loopP99Ms));
  // The trend at the end: a leak keeps climbing, a cache that has filled does not.
  const lastQuarter = samples.filter((s) => s.seconds >= (3 * durationMs) / 4000);
  const endSlope = lastQuarter.length >= 2
    ? (lastQuarter.at(-1)!.rssMb - lastQuarter[0]!.rssMb) / ((lastQuarter.at(-1)!.seconds - lastQuarter[0]!.seconds) / 60)
    : NaN;
  const latencies = [...senders.latenciesMs].sort((a, b) => a - b);
  const failures: string[] = [];
  if (!(rssGrowth <= options.rssGrowthMb)) failures.push(`resident memory grew ${rssGrowth.toFixed(0)} MB after the warm-up (bound ${options.rssGrowthMb})`);
  if (!(worstP99 <= options.loopP99Ms)) failures.push(`event-loop delay p99 reached ${worstP99.toFixed(0)} ms (bound ${options.loopP99Ms})`);
  if (errors.total > 0) failures.push(`${errors.total} errors`);
  if (serverLog.errors > 0) failures.push(`${serverLog.errors} server log lines at error level`);
  if (!stored.ok) failures.push('acknowledged alerts not stored exactly once');
  if (samples.at(-1)?.memcachedUp !== 1) failures.push('PEBA did not use memcached again after its restart');

  console.log(`\nDisruptions:\n  ${events.join('\n  ')}`);
  console.log(`\nResident memory: ${samples[0]?.rssMb.toFixed(0)} MB at the first sample, ${rssStart.toFixed(0)} MB after the warm-up quarter, ` +
    `max ${Math.max(...steady.map((s) => s.rssMb)).toFixed(0)} MB after it, ${samples.at(-1)?.rssMb.toFixed(0)} MB at the end (growth after warm-up ${rssGrowth.toFixed(0)} MB, bound ${options.rssGrowthMb}; ` +
    `${endSlope.toFixed(1)} MB/min over the last quarter); heap used ${samples[0]?.heapMb.toFixed(0)} .. ${Math.max(...samples.map((s) => s.heapMb)).toFixed(0)} MB, ` +
    `external ${samples[0]?.externalMb.toFixed(0)} .. ${Math.max(...samples.map((s) => s.externalMb)).toFixed(0)} MB`);
  console.log(`Event-loop delay p99 per interval: median ${median(samples.map((s) => s.loopP99Ms)).toFixed(1)} ms, worst ${worstP99.toFixed(1)} ms (bound ${options.loopP99Ms}); ` +
    `max per interval: median ${median(samples.map((s) => s.loopMaxMs)).toFixed(1)} ms, worst ${Math.max(...samples.map((s) => s.loopMaxMs)).toFixed(1)} ms`);
  console.log(`Posts: ${senders.sent} messages, ${senders.retried} retries; acknowledgement latency median ${median(latencies).toFixed(1)} ms, ` +
    `p99 ${(latencies[Math.floor(latencies.length * 0.99)] ?? NaN).toFixed(1)} ms`);
  console.log(`Polls answered: ${pollers.answered}; stream events received: ${streams.events} ` +
    `(${(streams.events / Math.max(1, options.streams)).toFixed(0)} per client, and ${(streams.skipped / Math.max(1, options.streams)).toFixed(0)} per client ` +
    `left out of the sample; alerts acknowledged: ${senders.acknowledgedCount * options.messageAlerts}); ` +
    `machine busy (all CPUs, other jobs included): median ${(median(samples.map((s) => s.machineBusy)) * 100).toFixed(0)}%`);
  console.log(`\nStored exactly once:\n  ${stored.lines.join('\n  ')}`);
  console.log(`\nErrors: ${errors.total} (and ${errors.excused} excused)${errors.lines().map((l) => `\n  ${l}`).join('')}`);
  const logLines = serverLog.lines();
  console.log(`Server log at warn or above: ${logLines.length === 0 ? 'none' : ''}${logLines.map((l) => `\n  ${l}`).join('')}`);
  console.log(failures.length === 0 ? '\nPASS' : `\nFAIL: ${failures.join('; ')}`);
  if (options.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
  return failures.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(2);
});
