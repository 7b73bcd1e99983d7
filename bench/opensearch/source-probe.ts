/**
 * The newest alerts of one source (`newestFromSource`, querySingleIP's question) in process,
 * against the original's body for the same question sent by the same client, on a node that
 * holds bench:opensearch's data (load it with `run.js --url URL --skip-ingest --alerts 1000000`
 * first, then keep it). No HTTP hop of ours: what the store's searches cost.
 *
 * With `--reference DIR` (another build's `dist`, e.g. main before a change) that build's store
 * is asked alternately with this one's. Every answer is checked against the original's: the
 * same createTimes, newest first.
 *
 *   node dist/bench/opensearch/source-probe.js --url URL [--calls 300] [--reference DIR]
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AlertGenerator } from '../query/generator';
import { UNSEEN_SOURCE } from '../query/endpoints';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import type { AlertStore } from '../../src/store/store';
import { Cluster } from '../../src/store/opensearch/cluster';

const USAGE = 'usage: node dist/bench/opensearch/source-probe.js --url URL [--calls N] [--reference DIST_DIR]';
const THIS_DIST = path.resolve(__dirname, '../..');
/** MAXALERTS' default: what querySingleIP asks for. */
const LIMIT = 5;

type Ask = () => Promise<string[]>;

function storeOf(dist: string, url: string): AlertStore {
  const { loadConfig } = require(path.join(dist, 'src/config.js')) as typeof import('../../src/config');
  const { openStore } = require(path.join(dist, 'src/store/open-store.js')) as typeof import('../../src/store/open-store');
  return openStore(loadConfig({ env: { PEBA_STORE: `opensearch+${url}` }, file: '/dev/null' }));
}

/** The original's body: the newest hits of the address over every daily index, by createTime (sent by the stores' HTTP client). */
function original(cluster: Cluster, source: string): Ask {
  return async () => {
    const answer = await cluster.request<{ hits: { hits: Array<{ _source: { createTime: string } }> } }>('POST', '/ews-*/_search?ignore_unavailable=true&allow_no_indices=true', {
      size: LIMIT, sort: [{ createTime: 'desc' }], query: { bool: { filter: [{ term: { sourceEntryIp: source } }] } },
    });
    return answer.body.hits.hits.map((h) => h._source.createTime);
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { url: { type: 'string' }, calls: { type: 'string' }, reference: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  exitWithUsageIfAsked(values.help, USAGE);
  if (values.url === undefined) throw new Error(USAGE);
  const url = values.url.replace(/\/$/, '');
  const calls = integerOption(values.calls, 300, 'calls', 10, 100_000);
  const builds = [['this build', THIS_DIST], ...(values.reference === undefined ? [] : [['reference', path.resolve(values.reference)]])] as const;
  const stores = builds.map(([, dist]) => storeOf(dist, url));
  const cluster = new Cluster({ nodes: [url], timeoutMs: 60_000 });
  const generator = new AlertGenerator(0);
  let differ = 0;
  console.log(`newest ${LIMIT} alerts of one source, ${calls} calls each, alternating; p50 in ms`);
  for (const [label, source] of [['hottest', generator.hottestSource()], ['rare', generator.rareSource()], ['unseen', UNSEEN_SOURCE]] as const) {
    const asks: Array<[string, Ask]> = [
      ...builds.map(([name], b): [string, Ask] => [name, async () => (await stores[b]!.newestFromSource('both', source, LIMIT)).map((a) => a.document.createTime)]),
      ['original body', original(cluster, source)],
    ];
    const expected = JSON.stringify(await asks[asks.length - 1]![1]());
    for (const [name, ask] of asks) {
      if (JSON.stringify(await ask()) !== expected) {
        differ++;
        console.log(`  ${label}: ${name} answers differently from the original's body`);
      }
    }
    const times = asks.map((): number[] => []);
    for (let i = 0; i < 30 + calls; i++) {
      for (const [k, [, ask]] of asks.entries()) {
        const start = performance.now();
        await ask();
        if (i >= 30) times[k]!.push(performance.now() - start);
      }
    }
    const medians = times.map(median);
    const ratios = medians.slice(1).map((m, k) => `${asks[0]![0]} / ${asks[k + 1]![0]} ${(medians[0]! / m).toFixed(2)}`);
    console.log(`  ${label.padEnd(8)} ${asks.map(([name], k) => `${name} ${medians[k]!.toFixed(2)}`).join(', ')}; ${ratios.join(', ')}`);
  }
  await Promise.all([...stores.map((store) => store.close()), cluster.close()]);
  if (differ > 0) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(2);
});
