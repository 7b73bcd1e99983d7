/**
 * The firewall feeds' store question (sourceActivity) on the OpenSearch node bench:opensearch
 * loaded (its `ews-*` indices), in process: per window the first question (every whole hour
 * counted, as after start), an hour move (the window an hour later: one hour out, one counted,
 * on a store brought to the earlier window first), and the median and p99 of the questions
 * after it (whole hours kept: a `_stats` request and the two edge hours). The reference in the
 * same run is the whole window counted per question, as before kept hours (a fresh store each
 * time: its first question), and its answer must be the same, source for source.
 *
 *   node dist/bench/opensearch/feed-probe.js --url URL [--runs 20]
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { lastMinutes } from '../../src/api/clock';
import type { SourceActivityQuery } from '../../src/domain/query';
import { OpenSearchStore } from '../../src/store/opensearch/opensearch-store';
import { exitWithUsageIfAsked, integerOption } from '../common/options';

const USAGE = 'usage: node dist/bench/opensearch/feed-probe.js --url URL [--runs N]';

const NAMES = { alertPrefix: 'ews', users: 'users', statistics: 'statistics', cve: 'ewscve', payloads: 'payloads', leases: 'peba-leases' };

const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const median = (values: number[]): number => sorted(values)[Math.floor(values.length / 2)]!;
const p99 = (values: number[]): number => sorted(values)[Math.min(values.length - 1, Math.ceil(values.length * 0.99) - 1)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, runs: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  exitWithUsageIfAsked(values.help, USAGE);
  if (values.url === undefined) {
    console.error(USAGE);
    process.exit(2);
  }
  const url = values.url;
  const runs = integerOption(values.runs, 20, 'runs', 1, 10_000);
  const open = (): OpenSearchStore => new OpenSearchStore({ nodes: [url], timeoutMs: 120_000, indices: NAMES });
  const time = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const result = await run();
    return [result, performance.now() - t0];
  };
  console.log(`feed probe on ${url}, ${runs} questions per window after the first; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('window      sources  first (ms)  hour move (ms)  after: median / p99 (ms)  whole window counted (ms, median of 3)  same answer');
  for (const minutes of [120, 1440, 10_080]) {
    const now = Date.now();
    const query: SourceActivityQuery = { range: lastMinutes(now, minutes), peerTypes: [], minAlerts: 1, minSensors: 1 };
    const store = open();
    await store.ping();
    const [answer, first] = await time(() => store.sourceActivity('both', query));
    const moving = open();
    await moving.sourceActivity('both', { ...query, range: lastMinutes(now - 3_600_000, minutes) });
    const move = (await time(() => moving.sourceActivity('both', query)))[1];
    const after: number[] = [];
    for (let i = 0; i < runs; i++) after.push((await time(() => store.sourceActivity('both', query)))[1]);
    const whole: number[] = [];
    let reference = answer;
    for (let i = 0; i < 3; i++) {
      const fresh = open();
      await fresh.ping();
      const [result, ms] = await time(() => fresh.sourceActivity('both', query));
      whole.push(ms);
      reference = result;
      await fresh.close();
    }
    const same = JSON.stringify(reference) === JSON.stringify(await store.sourceActivity('both', query));
    console.log(`${`${minutes} min`.padEnd(10)} ${String(answer.length).padStart(8)} ${first.toFixed(1).padStart(11)} ${move.toFixed(1).padStart(15)} ` +
      `${`${median(after).toFixed(1)} / ${p99(after).toFixed(1)}`.padStart(25)} ${median(whole).toFixed(1).padStart(40)}  ${same ? 'yes' : 'NO'}`);
    if (!same) process.exitCode = 1;
    await store.close();
    await moving.close();
  }
}

void main();
