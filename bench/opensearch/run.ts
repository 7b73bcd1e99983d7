/**
 * OpenSearch benchmark: the real server on the OpenSearch store against references measured in
 * the same run on the same single node (started by tools/opensearch). See bench/README.md.
 *
 *   [1] ingest end to end (HTTP posts of 100-alert messages, 4 clients) vs. OpenSearch's own
 *       _bulk rate for the same documents sent by one plain client;
 *   [2] every retrieval endpoint uncached at each size (p50/p99, ratio large/small), and the
 *       original PEBA's query shapes (written from its documented behaviour) sent straight to
 *       the node, for the same answer on the same data.
 *
 *   node dist/bench/opensearch/run.js [--alerts 100000,1000000] [--ingest-alerts 200000] ...
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parseUtc } from '../../src/domain/time';
import { takeStatisticsSnapshot } from '../../src/jobs/statistics';
import { alertTemplate, dailyIndex, type IndexNames } from '../../src/store/opensearch/layout';
import { OpenSearchStore } from '../../src/store/opensearch/opensearch-store';
import { startNode, stopNode, type RunningNode } from '../../tools/opensearch/node';
import { exitWithUsageIfAsked, integerOption, LATENCY_ARGS, latencyOptions, latencyUsage, type LatencyDefaults, type LatencyOptions } from '../common/options';
import { environmentWithoutPeba, freePort, jitCpuSeconds, machineCpuSeconds, processCpuSeconds } from '../common/system';
import { formatSummary, summarizeProfileFile } from '../common/cpuprofile';
import { MessageGenerator } from '../ingest/messages';
import { endpoints, measure, percentile, request, TOKEN, USER, type Endpoint, type Measurement } from '../query/endpoints';
import { AlertGenerator, DAY_MS, HOUR_MS, weightBetween } from '../query/generator';
import { ORIGINAL_QUERIES, setHotSource, type OriginalQuery } from './original-queries';

const DIST = path.resolve(__dirname, '../..');
const SERVER_MAIN = path.join(DIST, 'src/cli/main.js');
const INGEST_PATH = '/ews-0.1/alert/postSimpleMessage';
const OK_MARK = '<StatusCode>OK</StatusCode>';
const SPAN_DAYS = 30;
const SEED = 20260617;
const LOAD_BATCH = 5000;
const P99_TARGET_MS = 100;
const INGEST_TARGET = 0.5;
/** Warm-up rounds end once the JIT compiler took less than this share of the node's CPU in one. */
const WARM_JIT_SHARE = 0.25;

interface Options extends LatencyOptions {
  ingestAlerts: number;
  warmupAlerts: number;
  warmupRounds: number;
  clients: number;
  batch: number;
  rawBatch: number;
  skipIngest: boolean;
  skipQuery: boolean;
  keepData: boolean;
  heapMb: number;
  url: string | undefined;
  cpuProfDir: string | undefined;
}

const LATENCY: LatencyDefaults = { sizes: '100000,1000000', maxSize: 50_000_000, requests: 200, warmup: 20 };

const USAGE = `usage: npm run bench:opensearch -- [options]
  --alerts N,M,...      query phase: store sizes in alerts (default 100000,1000000); ratios
                        compare the largest with the smallest
  --ingest-alerts N     ingest phase: alerts posted (default 200000)
  --warmup-alerts N     ingest phase: alerts per warm-up round (default 10000), posted untimed
                        into other indices and sent again by the plain client, so that the
                        node's code is compiled (JIT) before anything is timed; 0: no warm-up
  --warmup-rounds R     at most R rounds (default 20); they end once the node's JIT compiler took
                        under 25 % of its CPU in a round
  --clients C           concurrent keep-alive ingest clients (default 4)
  --batch B             alerts per message (default 100)
  --raw-batch B         documents per _bulk of the reference client (default 1000)
${latencyUsage(LATENCY)}
                        (query phase: also the original's questions)
  --skip-ingest | --skip-query
  --keep-data           with --url: keep the alerts the node already holds when their count is
                        within 1 % of the size asked (an earlier run loaded them), instead of
                        loading them again;
                        windows ending now then miss what arrived since that load
  --heap-mb M           the node's heap (default 1024)
  --url URL             use this running node instead of starting one (its ews-*, bench-* and
                        side indices are deleted and rewritten!)
  --cpu-prof DIR        run the server with --cpu-prof; print its top functions after each phase`;

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...LATENCY_ARGS, alerts: { type: 'string' }, 'ingest-alerts': { type: 'string' }, 'warmup-alerts': { type: 'string' }, 'warmup-rounds': { type: 'string' },
      clients: { type: 'string' }, batch: { type: 'string' }, 'raw-batch': { type: 'string' }, 'skip-ingest': { type: 'boolean' }, 'skip-query': { type: 'boolean' },
      'keep-data': { type: 'boolean' }, 'heap-mb': { type: 'string' },
      url: { type: 'string' }, 'cpu-prof': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  return {
    ...latencyOptions(values, values.alerts, 'alerts', LATENCY),
    ingestAlerts: integerOption(values['ingest-alerts'], 200_000, 'ingest-alerts', 1000, 20_000_000),
    warmupAlerts: integerOption(values['warmup-alerts'], 10_000, 'warmup-alerts', 0, 20_000_000),
    warmupRounds: integerOption(values['warmup-rounds'], 20, 'warmup-rounds', 1, 1000),
    clients: integerOption(values.clients, 4, 'clients', 1, 256),
    batch: integerOption(values.batch, 100, 'batch', 1, 10_000),
    rawBatch: integerOption(values['raw-batch'], 1000, 'raw-batch', 1, 100_000),
    skipIngest: values['skip-ingest'] ?? false,
    skipQuery: values['skip-query'] ?? false,
    keepData: values['keep-data'] ?? false,
    heapMb: integerOption(values['heap-mb'], 1024, 'heap-mb', 256, 65_536),
    url: values.url?.replace(/\/+$/, ''),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
  };
}

const log = (line: string): void => console.error(line);
const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const sizeLabel = (n: number): string => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the node

/** One plain client of the node: keep-alive JSON and NDJSON requests, every status checked. */
class Node {
  constructor(readonly url: string, readonly pid: number | undefined) {}

  async call<T>(method: string, pathAndQuery: string, body?: unknown, ndjson?: string): Promise<T> {
    const response = await fetch(`${this.url}${pathAndQuery}`, {
      method,
      headers: { 'content-type': ndjson !== undefined ? 'application/x-ndjson' : 'application/json' },
      body: ndjson ?? (body === undefined ? undefined : JSON.stringify(body)),
      signal: AbortSignal.timeout(300_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathAndQuery}: ${response.status} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  async bulk(ndjson: string): Promise<void> {
    const answer = await this.call<{ errors: boolean; items: Array<Record<string, { status: number; error?: unknown }>> }>('POST', '/_bulk', undefined, ndjson);
    if (answer.errors) {
      const bad = answer.items.map((item) => Object.values(item)[0]!).find((r) => r.status >= 300);
      throw new Error(`_bulk item failed: ${JSON.stringify(bad)}`);
    }
  }

  async count(indices: string): Promise<number> {
    await this.call('POST', `/${indices}/_refresh?ignore_unavailable=true&allow_no_indices=true`);
    return (await this.call<{ count: number }>('GET', `/${indices}/_count?ignore_unavailable=true&allow_no_indices=true`)).count;
  }

  async deleteIndices(pattern: string): Promise<void> {
    await this.call('DELETE', `/${pattern}?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all`);
  }
}

function indexNames(prefix: string): IndexNames {
  return {
    alertPrefix: `${prefix}ews`, users: `${prefix}users`, statistics: `${prefix}statistics`, cve: `${prefix}ewscve`,
    payloads: `${prefix}payloads`, leases: `${prefix}peba-leases`,
  };
}

/** The original's keys (ALERTINDEX as a rollover alias) naming these indices. */
function storeEnv(url: string, names: IndexNames): Record<string, string> {
  return {
    PEBA_STORE: `opensearch+${url}`, PEBA_ALERTINDEX: `${names.alertPrefix}2017.1`, PEBA_USERINDEX: names.users,
    PEBA_STATISTICINDEX: names.statistics, PEBA_CVEINDEX: names.cve, PEBA_PAYLOADINDEX: names.payloads, PEBA_LEASEINDEX: names.leases,
  };
}

// ---------------------------------------------------------------- the server

let server: ChildProcess | undefined;
const serverAlive = (): boolean => server !== undefined && server.exitCode === null && server.signalCode === null;

async function startServer(env: NodeJS.ProcessEnv, port: number, options: Options): Promise<ChildProcess> {
  const nodeArgs: string[] = [];
  if (options.cpuProfDir !== undefined) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfDir, '--cpu-prof-name', `server-${Date.now()}.cpuprofile`);
  // --config /dev/null: a machine-wide /etc/peba/peba.cfg must not change what we measure.
  const child = spawn(process.execPath, [...nodeArgs, SERVER_MAIN, '--config', '/dev/null', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  server = child;
  let lines = 0;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '' && ++lines <= 20) log(`[server] ${line.slice(0, 300)}`);
    });
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (!serverAlive()) throw new Error(`server exited during start-up (code ${child.exitCode})`);
    try {
      if ((await request(new http.Agent(), port, { method: 'GET', path: '/heartbeat' })).status === 200) return child;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('server did not answer /heartbeat with 200 within 60 s');
    await sleep(100);
  }
}

async function stopServer(child: ChildProcess, options: Options, requests = 0): Promise<void> {
  if (serverAlive()) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    if (await Promise.race([exited.then(() => false), sleep(30_000).then(() => true)])) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  if (options.cpuProfDir === undefined) return;
  const { readdirSync } = await import('node:fs');
  const latest = readdirSync(options.cpuProfDir).filter((f) => f.endsWith('.cpuprofile')).sort().pop();
  if (latest !== undefined) {
    console.log(`\n  server CPU profile ${path.join(options.cpuProfDir, latest)}:`);
    console.log(formatSummary(summarizeProfileFile(path.join(options.cpuProfDir, latest), 20), '  ', requests));
  }
}

// ---------------------------------------------------------------- [1] ingest

interface Cpu { serverS: number; nodeS: number; nodeJitS: number; benchS: number; otherS: number }

function cpuMeter(serverPid: number | undefined, nodePid: number | undefined): () => Cpu {
  const s0 = processCpuSeconds(serverPid);
  const n0 = processCpuSeconds(nodePid);
  const j0 = jitCpuSeconds(nodePid);
  const b0 = process.cpuUsage();
  const m0 = machineCpuSeconds();
  return () => {
    const serverS = serverPid === undefined ? 0 : processCpuSeconds(serverPid) - s0;
    const nodeS = processCpuSeconds(nodePid) - n0;
    const nodeJitS = jitCpuSeconds(nodePid) - j0;
    const b = process.cpuUsage(b0);
    const benchS = (b.user + b.system) / 1e6;
    const busy = machineCpuSeconds().busy - m0.busy;
    return { serverS, nodeS, nodeJitS, benchS, otherS: Math.max(0, busy - serverS - (Number.isNaN(nodeS) ? 0 : nodeS) - benchS) };
  };
}

const cpuText = (cpu: Cpu, seconds: number): string =>
  `CPU: server ${cpu.serverS.toFixed(1)} s, OpenSearch ${Number.isNaN(cpu.nodeS) ? '?' : cpu.nodeS.toFixed(1)} s ` +
  `(its JIT compiler ${Number.isNaN(cpu.nodeJitS) ? '?' : cpu.nodeJitS.toFixed(1)} s), bench ${cpu.benchS.toFixed(1)} s, ` +
  `other processes ${cpu.otherS.toFixed(1)} s, in ${seconds.toFixed(1)} s on ${os.cpus().length} cores`;

function post(agent: http.Agent, port: number, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: INGEST_PATH, method: 'POST', agent, headers: { 'content-type': 'text/xml', 'content-length': body.length } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no reply within 60 s')));
    req.on('error', reject);
    req.end(body);
  });
}

interface Posted {
  acknowledged: number;
  seconds: number;
  failures: Map<string, number>;
  latencies: number[];
  cpu: Cpu;
  writes: string;
}

/** The real server on `names` gets `alerts` alerts as messages (the generator's from `first` on), from options.clients keep-alive clients. */
async function postMessages(node: Node, names: IndexNames, generator: MessageGenerator, alerts: number, first: number, options: Options): Promise<Posted> {
  const messageCount = Math.ceil(alerts / options.batch);
  const sizeOf = (m: number): number => Math.min(options.batch, alerts - m * options.batch);
  const g0 = performance.now();
  const bodies: Array<Buffer | undefined> = Array.from({ length: messageCount }, (_, m) => generator.message(first + m, sizeOf(m)));
  console.log(`  messages built before the timed window in ${((performance.now() - g0) / 1000).toFixed(1)} s`);

  const port = await freePort();
  const env = { ...environmentWithoutPeba(), ...storeEnv(node.url, names), PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_LOG_LEVEL: 'warn', PEBA_STATS_INTERVAL_MINUTES: '0' };
  const child = await startServer(env, port, options);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const latencies: number[] = [];
  const failures = new Map<string, number>();
  let next = 0;
  let acknowledged = 0;
  const meter = cpuMeter(child.pid, node.pid);
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    for (let m = next++; m < messageCount; m = next++) {
      const body = bodies[m]!;
      bodies[m] = undefined;
      const start = performance.now();
      try {
        const reply = await post(agent, port, body);
        latencies.push(performance.now() - start);
        if (reply.status === 200 && reply.text.includes(OK_MARK) && !reply.text.includes('skipped')) acknowledged += sizeOf(m);
        else failures.set(`HTTP ${reply.status} ${reply.text.slice(0, 120)}`, (failures.get(`HTTP ${reply.status} ${reply.text.slice(0, 120)}`) ?? 0) + 1);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: options.clients }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = meter();
  agent.destroy();
  const writes = await serverWrites(port);
  await stopServer(child, options, messageCount);
  return { acknowledged, seconds, failures, latencies, cpu, writes };
}

interface IngestResult { e2eRate: number; rawRate: number; failed: number; stored: number }

async function ingest(node: Node, options: Options): Promise<IngestResult> {
  const names = indexNames('bench-e2e-');
  const rawNames = indexNames('bench-raw-');
  await node.deleteIndices('bench-e2e-*,bench-raw-*');
  console.log(`\n[1] ingest: ${fmtInt(options.ingestAlerts)} alerts in messages of ${options.batch}, ${options.clients} keep-alive clients, into ${names.alertPrefix}-*`);
  const generator = new MessageGenerator();
  if (options.warmupAlerts > 0) await warmUp(node, options);
  const { acknowledged, seconds, failures, latencies, cpu, writes } = await postMessages(node, names, generator, options.ingestAlerts, 0, options);
  const failed = [...failures.values()].reduce((a, b) => a + b, 0);
  const e2eRate = acknowledged / seconds;
  latencies.sort((a, b) => a - b);
  const stored = await node.count(`${names.alertPrefix}-*`);
  const work = await writeWork(node, 'bench-e2e-*');
  console.log(`  end to end: ${fmtInt(acknowledged)} alerts acknowledged in ${seconds.toFixed(1)} s = ${fmtInt(e2eRate)} alerts/s; ${failed} messages failed`);
  for (const [reason, count] of failures) console.log(`    failure x${count}: ${reason}`);
  console.log(`  message latency p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms`);
  console.log(`  ${cpuText(cpu, seconds)}`);
  console.log(`  ${writes}`);
  console.log(`  the node's write work per index family (operations, time spent indexing): ${work}`);
  console.log(`  verify: ${names.alertPrefix}-* holds ${fmtInt(stored)} alerts, expected ${fmtInt(options.ingestAlerts)}: ${stored === options.ingestAlerts ? 'OK' : 'MISMATCH'}`);

  // The reference: the documents the server stored, read back outside the timer, sent again
  // by one plain client as `create` with their ids into the same daily indices' names under
  // another prefix with the same template.
  const batches = await referenceBatches(node, names, rawNames, options);
  const rawMeter = cpuMeter(undefined, node.pid);
  const r0 = performance.now();
  for (const batch of batches) await node.bulk(batch);
  const rawSeconds = (performance.now() - r0) / 1000;
  const rawCpu = rawMeter();
  const rawStored = await node.count(`${rawNames.alertPrefix}-*`);
  const rawRate = rawStored / rawSeconds;
  console.log(`  reference: the same ${fmtInt(rawStored)} documents, _bulk of ${options.rawBatch} by one plain client, in ${rawSeconds.toFixed(1)} s = ${fmtInt(rawRate)} docs/s`);
  console.log(`  ${cpuText(rawCpu, rawSeconds)}`);
  console.log(`  the node's write work: ${await writeWork(node, `${rawNames.alertPrefix}-*`)}`);
  console.log(`  ratio end to end / _bulk: ${((e2eRate / rawRate) * 100).toFixed(0)} % (target >= ${INGEST_TARGET * 100} %)`);
  await node.deleteIndices('bench-e2e-*,bench-raw-*');
  await node.call('DELETE', `/_index_template/${names.alertPrefix}-alerts`);
  await node.call('DELETE', `/_index_template/${rawNames.alertPrefix}-alerts`);
  return { e2eRate, rawRate, failed, stored };
}

/**
 * The documents stored under `names`, as `_bulk` bodies of options.rawBatch `create`s with their
 * ids into the same daily indices' names under `rawNames` (whose template is installed).
 */
async function referenceBatches(node: Node, names: IndexNames, rawNames: IndexNames, options: Options): Promise<string[]> {
  const docs: string[] = [];
  let answer = await node.call<{ _scroll_id: string; hits: { hits: Array<{ _index: string; _id: string; _source: unknown }> } }>(
    'POST', `/${names.alertPrefix}-*/_search?scroll=2m`, { size: 5000, sort: ['_doc'] });
  while (answer.hits.hits.length > 0) {
    for (const hit of answer.hits.hits) {
      const index = rawNames.alertPrefix + hit._index.slice(names.alertPrefix.length);
      docs.push(`${JSON.stringify({ create: { _index: index, _id: hit._id } })}\n${JSON.stringify(hit._source)}\n`);
    }
    answer = await node.call('POST', '/_search/scroll', { scroll: '2m', scroll_id: answer._scroll_id });
  }
  await node.call('DELETE', '/_search/scroll', { scroll_id: answer._scroll_id });
  const batches: string[] = [];
  for (let i = 0; i < docs.length; i += options.rawBatch) batches.push(docs.slice(i, i + options.rawBatch).join(''));
  await node.call('PUT', `/_index_template/${rawNames.alertPrefix}-alerts`, alertTemplate(rawNames));
  return batches;
}

/**
 * A fresh node compiles its indexing code while it works (the JIT): measured on 2 cores with
 * one warm-up round of 10,000 alerts, its compiler threads still took 9.6 of the node's 17.9
 * CPU seconds in the timed end-to-end phase and 3.4 of 6.6 in the reference after it, so the
 * ratio compared compile work, not ingest. Rounds of both paths (through a server, then the
 * same documents by the plain client) run untimed until the compiler's share of the node's CPU
 * in a round is under WARM_JIT_SHARE (it never reaches 0: the JIT keeps refining), at most
 * --warmup-rounds; both timed phases then meet the same warm node.
 */
async function warmUp(node: Node, options: Options): Promise<void> {
  const warmNames = indexNames('bench-warm-');
  const warmRawNames = indexNames('bench-warmraw-');
  for (let round = 1; round <= options.warmupRounds; round++) {
    await node.deleteIndices('bench-warm-*,bench-warmraw-*');
    const n0 = processCpuSeconds(node.pid);
    const j0 = jitCpuSeconds(node.pid);
    const t0 = performance.now();
    const warm = await postMessages(node, warmNames, new MessageGenerator(), options.warmupAlerts, 1_000_000 + round * options.warmupAlerts, options);
    for (const batch of await referenceBatches(node, warmNames, warmRawNames, options)) await node.bulk(batch);
    const nodeS = processCpuSeconds(node.pid) - n0;
    const jitS = jitCpuSeconds(node.pid) - j0;
    const share = jitS / nodeS;
    console.log(`  warm-up round ${round} (untimed): ${fmtInt(warm.acknowledged)} alerts through a server and again by the plain client in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s; the node's CPU ${nodeS.toFixed(1)} s, its JIT compiler ${jitS.toFixed(1)} s (${(share * 100).toFixed(0)} %)`);
    if (!(share >= WARM_JIT_SHARE)) break; // NaN (no /proc): one round, as before
  }
  await node.deleteIndices('bench-warm-*,bench-warmraw-*');
  await node.call('DELETE', `/_index_template/${warmNames.alertPrefix}-alerts`);
  await node.call('DELETE', `/_index_template/${warmRawNames.alertPrefix}-alerts`);
}

/** The server's own figures (`/metrics`): commit groups and their mean size, `_bulk` requests and their mean time per purpose. */
async function serverWrites(port: number): Promise<string> {
  const reply = await request(new http.Agent(), port, { method: 'GET', path: '/metrics' });
  if (reply.status !== 200) return `server /metrics: HTTP ${reply.status}`;
  const sum = (pattern: RegExp): number => reply.body.split('\n').filter((line) => pattern.test(line))
    .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  const groups = sum(/^peba_commit_duration_seconds_count\{result="ok"\}/);
  const alerts = sum(/^peba_alerts_(stored|already_present)_total\{/);
  const bulks = ['alerts', 'payloads', 'delete'].map((purpose) => {
    const count = sum(new RegExp(`^peba_opensearch_bulk_duration_seconds_count\\{purpose="${purpose}"`));
    const seconds = sum(new RegExp(`^peba_opensearch_bulk_duration_seconds_sum\\{purpose="${purpose}"`));
    return count === 0 ? '' : `, ${fmtInt(count)} _bulk for ${purpose} (mean ${((seconds / count) * 1000).toFixed(1)} ms)`;
  }).join('');
  return `server: ${fmtInt(groups)} commit groups of ${(alerts / Math.max(1, groups)).toFixed(0)} alerts on average${bulks}`;
}

/** Index and bulk operations the node did per index family (daily alert indices together): where its write time went. */
async function writeWork(node: Node, pattern: string): Promise<string> {
  const stats = await node.call<{ indices: Record<string, { primaries: {
    indexing: { index_total: number; index_time_in_millis: number }; get: { total: number }; search: { query_total: number };
    refresh: { total: number }; merges: { total: number; total_time_in_millis: number };
  } }> }>('GET', `/${pattern}/_stats/indexing,get,search,refresh,merge`);
  const families = new Map<string, { ops: number; ms: number; gets: number; searches: number; refreshes: number; merges: number; mergeMs: number }>();
  for (const [index, { primaries }] of Object.entries(stats.indices)) {
    const family = index.replace(/-\d{4}\.\d{2}\.\d{2}-\d+$/, '-YYYY.MM.DD');
    const f = families.get(family) ?? { ops: 0, ms: 0, gets: 0, searches: 0, refreshes: 0, merges: 0, mergeMs: 0 };
    f.ops += primaries.indexing.index_total;
    f.ms += primaries.indexing.index_time_in_millis;
    f.gets += primaries.get.total;
    f.searches += primaries.search.query_total;
    f.refreshes += primaries.refresh.total;
    f.merges += primaries.merges.total;
    f.mergeMs += primaries.merges.total_time_in_millis;
    families.set(family, f);
  }
  return [...families].filter(([, f]) => f.ops > 0 || f.gets > 0).map(([name, f]) => `${name} ${fmtInt(f.ops)} writes ${(f.ms / 1000).toFixed(1)} s, `
    + `${fmtInt(f.gets)} gets, ${fmtInt(f.searches)} searches, ${fmtInt(f.refreshes)} refreshes, ${fmtInt(f.merges)} merges ${(f.mergeMs / 1000).toFixed(1)} s`).join('; ');
}

// ---------------------------------------------------------------- [2] queries

/** Bulk-loads `size` generated alerts over the last 30 days straight through _bulk, as the store writes them. */
async function load(node: Node, names: IndexNames, size: number): Promise<{ alerts: number; seconds: number; to: number }> {
  await node.call('PUT', `/_index_template/${names.alertPrefix}-alerts`, alertTemplate(names));
  const to = Math.floor(Date.now() / 1000) * 1000;
  const from = to - SPAN_DAYS * DAY_MS;
  const generator = new AlertGenerator(SEED);
  const t0 = performance.now();
  let lines: string[] = [];
  let alerts = 0;
  let inFlight: Promise<void> = Promise.resolve();
  for (const record of generator.alerts(from, to, size / weightBetween(from, to))) {
    lines.push(JSON.stringify({ create: { _index: dailyIndex(names, parseUtc(record.document.recievedTime)), _id: record.id } }), JSON.stringify(record.document));
    if (lines.length === 2 * LOAD_BATCH) {
      // One bulk on the wire while the next is generated.
      await inFlight;
      inFlight = node.bulk(`${lines.join('\n')}\n`);
      alerts += LOAD_BATCH;
      lines = [];
      if (alerts % (LOAD_BATCH * 40) === 0) log(`  loaded ${fmtInt(alerts)} alerts, ${fmtInt(alerts / ((performance.now() - t0) / 1000))}/s`);
    }
  }
  await inFlight;
  if (lines.length > 0) await node.bulk(`${lines.join('\n')}\n`);
  alerts += lines.length / 2;
  const stored = await node.count(`${names.alertPrefix}-*`);
  if (stored !== alerts) throw new Error(`loaded ${alerts} alerts but ${names.alertPrefix}-* counts ${stored}`);
  return { alerts, seconds: (performance.now() - t0) / 1000, to };
}

interface Row { median: number; p99: number; n: number; errors: number; bytes: number }

const rowOf = (m: Measurement): Row => {
  const sorted = [...m.samplesMs].sort((a, b) => a - b);
  return { median: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), n: sorted.length, errors: m.errors, bytes: m.bytes };
};

interface Comparison { label: string; ours: Row; original: Row; same: boolean; detail: string }

interface SizeResult { size: number; rows: Map<string, Row>; comparisons: Comparison[]; loadSeconds: number }

/** Sequential searches of one original query over one keep-alive connection, measured as the endpoints are. */
async function measureOriginal(node: Node, query: OriginalQuery, options: Options): Promise<{ row: Row; answer: unknown }> {
  const samples: number[] = [];
  let errors = 0;
  let answer: unknown;
  const deadline = performance.now() + options.endpointLimitS * 1000;
  for (let i = 0; i < options.warmup + options.requests; i++) {
    if (i >= options.warmup && performance.now() > deadline && samples.length >= 3) break;
    const t0 = performance.now();
    try {
      answer = await node.call('POST', `/${query.indices()}/_search?ignore_unavailable=true&allow_no_indices=true`, query.body());
    } catch (error) {
      errors++;
      answer = String(error);
    }
    if (i >= options.warmup) samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { row: { median: percentile(samples, 0.5), p99: percentile(samples, 0.99), n: samples.length, errors, bytes: JSON.stringify(answer).length }, answer };
}

async function querySize(node: Node, size: number, options: Options): Promise<SizeResult> {
  const names = indexNames('');
  let loaded: { alerts: number; seconds: number; to: number } | undefined;
  const held = options.keepData && options.url !== undefined ? await node.count(`${names.alertPrefix}-*`) : 0;
  // The generator's total for a size varies a little with the moment of loading.
  if (Math.abs(held - size) <= size * 0.01) {
    console.log(`\n[2] queries at ${sizeLabel(size)}: keeping the ${fmtInt(held)} alerts the node holds (--keep-data)`);
  } else {
    await node.deleteIndices(`${names.alertPrefix}-*,${names.users},${names.statistics},${names.cve},${names.payloads},${names.leases}`);
    console.log(`\n[2] queries at ${sizeLabel(size)}: loading ${fmtInt(size)} alerts over ${SPAN_DAYS} days straight through _bulk into ${names.alertPrefix}-YYYY.MM.DD-000001`);
    loaded = await load(node, names, size);
    console.log(`  loaded ${fmtInt(loaded.alerts)} alerts in ${loaded.seconds.toFixed(0)} s (${fmtInt(loaded.alerts / loaded.seconds)}/s incl. generating)`);
    // Hourly community snapshots of the last two days through the store (getStats reads 24 h).
    const store = new OpenSearchStore({ nodes: [node.url], timeoutMs: 120_000, indices: names, refresh: 'true' });
    const lastHour = Math.floor(loaded.to / HOUR_MS) * HOUR_MS;
    for (let hour = lastHour - 48 * HOUR_MS; hour < lastHour; hour += HOUR_MS) await takeStatisticsSnapshot(store, { from: hour, to: hour + HOUR_MS });
    await store.close();
  }

  const port = await freePort();
  const env = {
    ...environmentWithoutPeba(), ...storeEnv(node.url, names), PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_LOG_LEVEL: 'warn',
    PEBA_STATS_INTERVAL_MINUTES: '0', PEBA_CACHE: 'off',
  };
  execFileSync(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'user', 'add', USER, '--token', TOKEN, '--replace'], { env, stdio: 'pipe' });
  const child = await startServer(env, port, options);
  const rows = new Map<string, Row>();
  const comparisons: Comparison[] = [];
  let requests = 0;
  try {
    const generator = new AlertGenerator(0);
    setHotSource(generator.hottestSource());
    for (const endpoint of endpoints(generator.hottestSource(), generator.rareSource(), Date.now())) {
      if (options.only && !options.only.test(endpoint.label)) continue;
      const row = rowOf(await measure(port, endpoint, options));
      requests += options.warmup + row.n;
      rows.set(endpoint.label, row);
      log(`  ${endpoint.label.padEnd(40)} p50 ${row.median.toFixed(1).padStart(7)} ms  p99 ${row.p99.toFixed(1).padStart(7)} ms${row.errors ? `  ERRORS ${row.errors}` : ''}`);
    }
    for (const query of ORIGINAL_QUERIES) {
      if (options.only && !options.only.test(query.label)) continue;
      const ours: Endpoint = { label: query.label, method: query.ours.method, path: query.ours.path(generator.hottestSource()), kind: 'stats' };
      const oursRow = rowOf(await measure(port, ours, options));
      const original = await measureOriginal(node, query, options);
      // The answers compared once more, back to back; an alert leaving a rolling window between
      // the two questions can still tell them apart, so a difference is asked up to 3 times.
      let verdict = { same: false, detail: '' };
      for (let attempt = 1; attempt <= 3 && !verdict.same; attempt++) {
        const mine = await request(new http.Agent(), port, ours);
        const theirs = await node.call('POST', `/${query.indices()}/_search?ignore_unavailable=true&allow_no_indices=true`, query.body());
        verdict = query.same(mine.body, theirs);
        if (attempt > 1) verdict.detail += ` (attempt ${attempt})`;
      }
      comparisons.push({ label: query.label, ours: oursRow, original: original.row, same: verdict.same, detail: verdict.detail });
      log(`  original shape ${query.label.padEnd(34)} ours p50 ${oursRow.median.toFixed(1)} / p99 ${oursRow.p99.toFixed(1)} ms, original p50 ${original.row.median.toFixed(1)} / p99 ${original.row.p99.toFixed(1)} ms, same answer: ${verdict.same ? 'yes' : 'NO'} (${verdict.detail})`);
    }
  } finally {
    await stopServer(child, options, requests);
  }
  return { size, rows, comparisons, loadSeconds: loaded?.seconds ?? 0 };
}

function report(results: readonly SizeResult[]): string {
  const out: string[] = [];
  const small = results[0]!;
  const large = results[results.length - 1]!;
  const fmt = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
  const header = ['endpoint', ...results.flatMap((r) => [`p50@${sizeLabel(r.size)}`, `p99@${sizeLabel(r.size)}`])];
  if (results.length > 1) header.push('p50 ratio', 'p99 ratio');
  header.push('misses');
  const lines: string[][] = [header];
  for (const label of large.rows.keys()) {
    const line = [label, ...results.flatMap((r) => [fmt(r.rows.get(label)?.median), fmt(r.rows.get(label)?.p99)])];
    const a = small.rows.get(label);
    const b = large.rows.get(label)!;
    if (results.length > 1) line.push(a ? (b.median / a.median).toFixed(2) : '-', a ? (b.p99 / a.p99).toFixed(2) : '-');
    const misses: string[] = [];
    if (!(b.p99 < P99_TARGET_MS)) misses.push(`p99>=${P99_TARGET_MS}ms`);
    if (results.some((r) => (r.rows.get(label)?.errors ?? 0) > 0)) misses.push('ERRORS');
    line.push(misses.length ? `<< ${misses.join(', ')}` : '');
    lines.push(line);
  }
  out.push(formatTable(lines));
  out.push('');
  out.push('original PEBA query shapes sent straight to the node vs. our endpoint (HTTP, parsing and formatting included), ms:');
  const cmp: string[][] = [['question', ...results.flatMap((r) => [`ours p50/p99@${sizeLabel(r.size)}`, `original p50/p99@${sizeLabel(r.size)}`]), 'same answer']];
  for (const c of large.comparisons) {
    const line = [c.label];
    for (const r of results) {
      const x = r.comparisons.find((y) => y.label === c.label);
      line.push(x ? `${fmt(x.ours.median)}/${fmt(x.ours.p99)}` : '-', x ? `${fmt(x.original.median)}/${fmt(x.original.p99)}` : '-');
    }
    line.push(results.every((r) => r.comparisons.find((y) => y.label === c.label)?.same !== false) ? 'yes' : `NO: ${c.detail}`);
    cmp.push(line);
  }
  out.push(formatTable(cmp));
  return out.join('\n');
}

function formatTable(lines: string[][]): string {
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)));
  return lines.map((l, li) => {
    const text = l.map((cell, i) => (i === 0 || i === l.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
    return li === 0 ? `${text}\n${'-'.repeat(text.length)}` : text;
  }).join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const cpus = os.cpus();
  console.log('PEBA OpenSearch benchmark');
  console.log(`  machine: ${cpus.length} x ${cpus[0]?.model.trim() ?? '?'}, ${fmtInt(os.totalmem() / 1024 ** 2)} MB RAM, Node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log('  NOTE: the server, the node and the load generator share the machine\'s cores; "other processes" shows who else used them.');
  let running: RunningNode | undefined;
  const stop = async (): Promise<void> => {
    if (serverAlive()) server!.kill('SIGKILL');
    if (running !== undefined) await stopNode(running.runDir);
    running = undefined;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().finally(() => process.exit(130)));
  try {
    if (options.url === undefined) {
      running = await startNode({ heapMb: options.heapMb, log });
      console.log(`  node: OpenSearch single node at ${running.url} (pid ${running.pid}, heap ${options.heapMb} MB), started by tools/opensearch`);
    } else {
      console.log(`  node: ${options.url} (given)`);
    }
    const url = running?.url ?? options.url!;
    // A given node's process (on this machine) is found by its own answer, for its CPU seconds.
    const pid = running?.pid ?? await fetch(`${url}/_nodes/_local/process`).then(async (r) => {
      const answer = await r.json() as { nodes?: Record<string, { process?: { id?: number } }> };
      return Object.values(answer.nodes ?? {})[0]?.process?.id;
    }).catch(() => undefined);
    const node = new Node(url, pid);
    let ok = true;
    if (!options.skipIngest) {
      const result = await ingest(node, options);
      ok &&= result.failed === 0 && result.stored === options.ingestAlerts;
    }
    if (!options.skipQuery) {
      const results: SizeResult[] = [];
      for (const size of options.sizes) results.push(await querySize(node, size, options));
      console.log(`\nQuery latency, ms (client side, ${options.requests} sequential keep-alive requests after ${options.warmup} warm-up; PEBA_CACHE=off)`);
      console.log(report(results));
      console.log(`targets: p99 < ${P99_TARGET_MS} ms at ${sizeLabel(options.sizes[options.sizes.length - 1]!)} for every endpoint ("<<" marks a miss)`);
      ok &&= results.every((r) => r.comparisons.every((c) => c.same));
    }
    return ok ? 0 : 1;
  } finally {
    await stop();
  }
}

main().then((code) => process.exit(code), (error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exit(1);
});
