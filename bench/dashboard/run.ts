/// <reference lib="dom" />
/**
 * Dashboard budgets, measured in one run against a real server (a child process on a fresh
 * temporary store) and Debian's Chromium:
 *  1. first load: bytes of the page and its assets as sent (gzip and brotli) against 300 KB;
 *  2. the page at 200 alerts/s for --seconds: Long Tasks API entries over 50 ms and the JS heap
 *     after a forced GC every 5 s, next to the same page idle for as long (the reference);
 *  3. ingest with and without 1,000 live-stream clients (alternating rounds, medians): alerts/s
 *     and server CPU per alert.
 *
 *   npm run bench:dashboard -- [--seconds S] [--clients N] [--rounds R] [--round-alerts A]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { AttackGenerator } from '../../src/demo/attack-generator';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, machineCpuSeconds, processCpuSeconds } from '../common/system';

const DIST = path.resolve(__dirname, '../..');
const COMMUNITY = { username: 'community-01-user', token: 'foth{a5maiCee8fineu7' };
const BUDGET_BYTES = 300 * 1024;
const LONG_TASK_MS = 50;

const USAGE = `usage: npm run bench:dashboard -- [options]
  --seconds S        length of the page trace at 200 alerts/s and of its idle reference (default 10)
  --clients N        live-stream clients of the ingest comparison (default 1000)
  --rounds R         rounds with and without them (default 3)
  --round-alerts A   alerts posted per round (default 30000)
  --chromium PATH    (default /usr/bin/chromium)`;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function startServer(dir: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(DIST, 'src/cli/main.js'), 'start'], {
    env: {
      ...environmentWithoutPeba(),
      PEBA_STORE: `sqlite:${path.join(dir, 'peba.db')}`,
      PEBA_BINDHOST: `127.0.0.1:${port}`,
      PEBA_LOG_LEVEL: 'warn',
      PEBA_ACCESS_LOG: 'off',
      PEBA_SQLITE_SYNCHRONOUS: 'normal',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/heartbeat`)).ok) return { child, url };
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error('the server did not start');
}

/** The body of a GET as sent on the wire (no decoding). */
function rawBody(url: string, encoding: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { 'accept-encoding': encoding } }, (response) => {
      let bytes = 0;
      response.on('data', (chunk: Buffer) => { bytes += chunk.length; });
      response.on('end', () => resolve(bytes));
    }).on('error', reject);
  });
}

async function pageWeight(url: string): Promise<void> {
  const html = await (await fetch(`${url}/`)).text();
  const files = ['/', ...[...html.matchAll(/(?:src|href|data-map)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!)];
  console.log('\n1. first load (bytes as sent)');
  const totals = { identity: 0, gzip: 0, br: 0 };
  for (const file of files) {
    const sizes = { identity: await rawBody(url + file, 'identity'), gzip: await rawBody(url + file, 'gzip'), br: await rawBody(url + file, 'br') };
    for (const key of ['identity', 'gzip', 'br'] as const) totals[key] += sizes[key];
    console.log(`  ${file.padEnd(40)} ${String(sizes.identity).padStart(8)} raw ${String(sizes.gzip).padStart(8)} gzip ${String(sizes.br).padStart(8)} br`);
  }
  console.log(`  total: ${(totals.gzip / 1024).toFixed(1)} KB gzip, ${(totals.br / 1024).toFixed(1)} KB brotli, ${(totals.identity / 1024).toFixed(1)} KB raw; budget ${BUDGET_BYTES / 1024} KB gzip: ${totals.gzip <= BUDGET_BYTES ? 'within' : 'OVER'} (${((100 * totals.gzip) / BUDGET_BYTES).toFixed(0)} % of it)`);
}

async function pageUnderLoad(url: string, seconds: number, executablePath: string): Promise<void> {
  const browser = await chromium.launch({ executablePath, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((list) => { for (const entry of list.getEntries()) w.__long.push(entry.duration); }).observe({ type: 'longtask', buffered: true });
    });
    const cdp = await page.context().newCDPSession(page);
    const heap = async (): Promise<number> => {
      await cdp.send('HeapProfiler.collectGarbage');
      return ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize / 1024 / 1024;
    };
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.querySelectorAll('#map path.country').length > 100 && document.getElementById('stream-status')!.textContent === 'live');
    await delay(1000);
    const phase = async (label: string, rate: number): Promise<void> => {
      await page.evaluate(() => { (window as unknown as { __long: number[] }).__long = []; });
      const arcsBefore = Number(await page.evaluate(() => document.getElementById('map')!.dataset['arcs'] ?? 0));
      const heaps = [await heap()];
      const generator = new AttackGenerator(99);
      const started = Date.now();
      let posted = 0;
      let nextHeap = started + 5000;
      while (Date.now() - started < seconds * 1000) {
        const due = Math.floor(((Date.now() - started) / 1000) * rate);
        if (due > posted) {
          const count = due - posted;
          const response = await fetch(`${url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body: generator.message(count, COMMUNITY) });
          await response.text();
          posted += count;
        }
        if (Date.now() >= nextHeap) {
          heaps.push(await heap());
          nextHeap += 5000;
        }
        await delay(20);
      }
      await delay(1500);
      heaps.push(await heap());
      const long = (await page.evaluate(() => (window as unknown as { __long: number[] }).__long)) as number[];
      const arcs = Number(await page.evaluate(() => document.getElementById('map')!.dataset['arcs'] ?? 0)) - arcsBefore;
      const rows = await page.evaluate(() => document.querySelectorAll('#ticker li').length);
      console.log(`  ${label.padEnd(26)} posted ${String(posted).padStart(5)} (${(posted / seconds).toFixed(0)}/s), arcs drawn ${String(arcs).padStart(5)}, ticker rows ${rows}; ` +
        `long tasks: ${long.length} (longest ${long.length ? Math.max(...long).toFixed(0) : 0} ms, over ${LONG_TASK_MS} ms: ${long.filter((d) => d > LONG_TASK_MS).length}); ` +
        `heap after GC every 5 s: ${heaps.map((h) => h.toFixed(2)).join(' → ')} MB`);
    };
    console.log(`\n2. the page (Chromium ${browser.version()}, 1280x800), ${seconds} s each`);
    await phase('idle (reference)', 0);
    await phase('200 alerts/s', 200);
  } finally {
    await browser.close();
  }
}

async function ingestRound(url: string, messages: string[], alerts: number, pid: number | undefined): Promise<{ rate: number; cpuPerThousand: number }> {
  const cpu = processCpuSeconds(pid);
  const started = performance.now();
  let next = 0;
  const poster = async (): Promise<void> => {
    while (next < messages.length) {
      const body = messages[next++]!;
      const response = await fetch(`${url}/ews-0.1/alert/postSimpleMessage`, { method: 'POST', body });
      const text = await response.text();
      if (!text.includes('<StatusCode>OK</StatusCode>')) throw new Error(`post answered ${response.status}: ${text}`);
    }
  };
  await Promise.all([poster(), poster(), poster(), poster()]);
  const seconds = (performance.now() - started) / 1000;
  return { rate: alerts / seconds, cpuPerThousand: ((processCpuSeconds(pid) - cpu) / alerts) * 1000 };
}

async function withStreamClients<T>(url: string, count: number, run: () => Promise<T>): Promise<{ result: T; received: { bytes: number; events: number } }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'stream-clients.js'), `${url}/dashboard/stream`, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  while (!output.includes('ready')) {
    if (child.exitCode !== null) throw new Error('the stream clients failed');
    await delay(50);
  }
  const result = await run();
  await delay(500); // the last batch reaches the clients
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await done;
  return { result, received: JSON.parse(output.split('\n').find((l) => l.startsWith('{'))!) as { bytes: number; events: number } };
}

async function ingestComparison(url: string, pid: number | undefined, clients: number, rounds: number, roundAlerts: number): Promise<void> {
  console.log(`\n3. ingest, 4 posters of 100-alert messages, ${roundAlerts} alerts per round, with and without ${clients} stream clients (a separate process on the same machine; default STREAM_MAX_RATE)`);
  const generator = new AttackGenerator(2024);
  const without: Array<{ rate: number; cpuPerThousand: number }> = [];
  const withClients: Array<{ rate: number; cpuPerThousand: number }> = [];
  const machine = machineCpuSeconds();
  for (let round = 1; round <= rounds; round++) {
    const batch = (): string[] => Array.from({ length: Math.ceil(roundAlerts / 100) }, () => generator.message(100, COMMUNITY));
    const plain = await ingestRound(url, batch(), roundAlerts, pid);
    without.push(plain);
    const messages = batch();
    const { result, received } = await withStreamClients(url, clients, () => ingestRound(url, messages, roundAlerts, pid));
    withClients.push(result);
    console.log(`  round ${round}: without ${plain.rate.toFixed(0)} alerts/s (${plain.cpuPerThousand.toFixed(3)} server CPU s per 1000), ` +
      `with ${result.rate.toFixed(0)} alerts/s (${result.cpuPerThousand.toFixed(3)} s per 1000); the clients got ${received.events} alerts each, ${(received.bytes / 1024 / 1024).toFixed(1)} MB in all`);
  }
  const used = machineCpuSeconds();
  const rateRatio = median(withClients.map((r) => r.rate)) / median(without.map((r) => r.rate));
  const cpuRatio = median(withClients.map((r) => r.cpuPerThousand)) / median(without.map((r) => r.cpuPerThousand));
  console.log(`  medians: without ${median(without.map((r) => r.rate)).toFixed(0)} alerts/s, with ${median(withClients.map((r) => r.rate)).toFixed(0)} alerts/s: ` +
    `rate ratio ${(100 * rateRatio).toFixed(1)} % (cost ${(100 * (1 - rateRatio)).toFixed(1)} %, budget 10 %); server CPU per alert ratio ${(100 * cpuRatio).toFixed(1)} %`);
  console.log(`  machine CPU busy during the comparison: ${(100 * (used.busy - machine.busy) / (used.total - machine.total)).toFixed(0)} % of ${os.cpus().length} cores`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string' }, clients: { type: 'string' }, rounds: { type: 'string' }, 'round-alerts': { type: 'string' },
      chromium: { type: 'string' }, help: { type: 'boolean', short: 'h' },
    },
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const seconds = integerOption(values.seconds, 10, 'seconds', 2, 600);
  const clients = integerOption(values.clients, 1000, 'clients', 1, 20_000);
  const rounds = integerOption(values.rounds, 3, 'rounds', 1, 20);
  const roundAlerts = integerOption(values['round-alerts'], 30_000, 'round-alerts', 100, 10_000_000);
  console.log(`dashboard bench: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; servers with SQLITE_SYNCHRONOUS=normal`);
  // The page is pushed 200 alerts/s (STREAM_MAX_RATE=200); the ingest comparison runs the default rate.
  await withServer({ PEBA_STREAM_MAX_RATE: '200' }, async (url) => {
    await pageWeight(url);
    await pageUnderLoad(url, seconds, values.chromium ?? '/usr/bin/chromium');
  });
  await withServer({}, (url, pid) => ingestComparison(url, pid, clients, rounds, roundAlerts));
}

async function withServer(env: Record<string, string>, run: (url: string, pid: number | undefined) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'peba-bench-dashboard-'));
  const { child, url } = await startServer(dir, env);
  try {
    await run(url, child.pid);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
