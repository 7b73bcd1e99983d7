/**
 * OpenSearch ingest benchmark: the real server on the OpenSearch store end to end (4 clients
 * posting 100-alert messages as ewsposter does) versus OpenSearch's own `_bulk` rate for the
 * very documents PEBA stored, sent again by one plain client in bulks of the same size into
 * fresh indices of the same template, on the same single node, in one run.
 *
 *   npm run bench:opensearch -- [--alerts N] [--clients C] [--batch B] [--url http://127.0.0.1:9200]
 *
 * Without --url (or PEBA_TEST_OPENSEARCH) it starts a node with tools/opensearch and stops it
 * afterwards. The query half of issue 11 point 9 (every endpoint at 100k / 1M alerts) is not
 * here yet.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Cluster } from '../../src/store/opensearch/cluster';
import { OpenSearchStore } from '../../src/store/opensearch/opensearch-store';
import type { IndexNames } from '../../src/store/opensearch/layout';
import { startNode, stopNode } from '../../tools/opensearch/node';
import { exitWithUsageIfAsked, integerOption } from '../common/options';
import { environmentWithoutPeba, freePort, machineCpuSeconds } from '../common/system';
import { MessageGenerator } from '../ingest/messages';

const SERVER_MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const USAGE = `usage: npm run bench:opensearch -- [--alerts N] [--clients C] [--batch B] [--url URL]
  --alerts N    alerts to post (default 100000)
  --clients C   concurrent keep-alive clients (default 4)
  --batch B     alerts per message and documents per reference bulk (default 100)
  --url URL     an OpenSearch node to use (default: PEBA_TEST_OPENSEARCH, else one started here)`;

function names(): IndexNames {
  const prefix = `bench-${randomBytes(4).toString('hex')}`;
  return {
    alertPrefix: `${prefix}-ews`, users: `${prefix}-users`, statistics: `${prefix}-statistics`,
    cve: `${prefix}-ewscve`, payloads: `${prefix}-payloads`, leases: `${prefix}-leases`,
  };
}

function post(agent: http.Agent, port: number, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/ews-0.1/alert/postSimpleMessage', agent,
      headers: { 'content-type': 'text/xml', 'content-length': body.length } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function startServer(url: string, indices: IndexNames): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const env = {
    ...environmentWithoutPeba(),
    PEBA_STORE: `opensearch+${url}`, PEBA_BINDHOST: `127.0.0.1:${port}`, PEBA_LOG_LEVEL: 'warn', PEBA_CACHE: 'off',
    PEBA_STATS_INTERVAL_MINUTES: '0', PEBA_DASHBOARD: 'off',
    PEBA_ALERTINDEX: indices.alertPrefix, PEBA_USERINDEX: indices.users, PEBA_STATISTICINDEX: indices.statistics,
    PEBA_CVEINDEX: indices.cve, PEBA_PAYLOADINDEX: indices.payloads, PEBA_LEASEINDEX: indices.leases,
  };
  const child = spawn(process.execPath, [SERVER_MAIN, '--config', '/dev/null', 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 600; i++) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/heartbeat`);
      if (response.status === 200) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not answer its heartbeat');
}

/** The documents PEBA stored, as `create` bulk bodies of `batch` documents for `target`'s daily indices. */
async function storedAsBulks(cluster: Cluster, from: IndexNames, target: IndexNames, batch: number): Promise<string[]> {
  const bodies: string[] = [];
  let lines: string[] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const answer = await cluster.request<{ hits: { hits: Array<{ _index: string; _id: string; _source: unknown; sort: unknown[] }> } }>(
      'POST', `/${from.alertPrefix}-*/_search`, { size: 5000, sort: ['_doc'], ...(after ? { search_after: after } : {}) });
    const hits = answer.body.hits.hits;
    for (const hit of hits) {
      lines.push(JSON.stringify({ create: { _index: hit._index.replace(from.alertPrefix, target.alertPrefix), _id: hit._id } }), JSON.stringify(hit._source));
      if (lines.length === 2 * batch) {
        bodies.push(`${lines.join('\n')}\n`);
        lines = [];
      }
    }
    if (hits.length < 5000) break;
    after = hits[hits.length - 1]!.sort;
  }
  if (lines.length > 0) bodies.push(`${lines.join('\n')}\n`);
  return bodies;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { alerts: { type: 'string' }, clients: { type: 'string' }, batch: { type: 'string' }, url: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  exitWithUsageIfAsked(values.help, USAGE);
  const alerts = integerOption(values.alerts, 100_000, 'alerts', 100, 10_000_000);
  const clients = integerOption(values.clients, 4, 'clients', 1, 64);
  const batch = integerOption(values.batch, 100, 'batch', 1, 10_000);
  const given = values.url ?? process.env['PEBA_TEST_OPENSEARCH'];
  const node = given === undefined ? await startNode({ log: (l) => console.error(`opensearch: ${l}`) }) : undefined;
  const url = (given ?? node!.url).replace(/\/+$/, '');
  const cluster = new Cluster({ nodes: [url], timeoutMs: 120_000 });
  const e2e = names();
  const reference = names();
  try {
    const generator = new MessageGenerator({ baseSeconds: Math.floor(Date.now() / 1000) - 3600 });
    const messages: Buffer[] = [];
    for (let i = 0; i < alerts; i += batch) messages.push(generator.message(i, Math.min(batch, alerts - i)));
    const server = await startServer(url, e2e);
    let next = 0;
    let failed = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
    const cpuBefore = machineCpuSeconds();
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, async () => {
      while (next < messages.length) {
        const body = messages[next++]!;
        if (!(await post(agent, server.port, body)).includes('<StatusCode>OK</StatusCode>')) failed++;
      }
    }));
    const e2eSeconds = (performance.now() - started) / 1000;
    const cpuAfter = machineCpuSeconds();
    agent.destroy();
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await cluster.request('POST', `/${e2e.alertPrefix}-*/_refresh`);
    const stored = (await cluster.request<{ count: number }>('GET', `/${e2e.alertPrefix}-*/_count`)).body.count;

    // The reference: the same documents into indices of the same template, one client, plain _bulk.
    const templateOwner = new OpenSearchStore({ nodes: [url], timeoutMs: 120_000, indices: reference });
    await templateOwner.ping();
    await templateOwner.close();
    const bodies = await storedAsBulks(cluster, e2e, reference, batch);
    const refStarted = performance.now();
    let refErrors = 0;
    for (const body of bodies) {
      const answer = await cluster.request<{ errors: boolean }>('POST', '/_bulk', undefined, { ndjson: body });
      if (answer.body.errors) refErrors++;
    }
    const refSeconds = (performance.now() - refStarted) / 1000;

    const e2eRate = stored / e2eSeconds;
    const refRate = stored / refSeconds;
    const busy = (cpuAfter.busy - cpuBefore.busy) / ((cpuAfter.total - cpuBefore.total) || 1);
    console.log(`alerts posted ${alerts} in ${messages.length} messages by ${clients} clients; stored ${stored}; failed messages ${failed}`);
    console.log(`end to end (PEBA on OpenSearch): ${Math.round(e2eRate)} alerts/s over ${e2eSeconds.toFixed(1)} s (machine CPU busy ${(busy * 100).toFixed(0)} %)`);
    console.log(`reference (one client, _bulk of ${batch}, same documents, same template): ${Math.round(refRate)} docs/s over ${refSeconds.toFixed(1)} s; bulks with errors ${refErrors}`);
    console.log(`ratio: ${((e2eRate / refRate) * 100).toFixed(0)} % (target at least 50 %)`);
  } finally {
    for (const n of [e2e, reference]) {
      await cluster.request('DELETE', `/${n.alertPrefix.replace(/-ews$/, '')}-*?expand_wildcards=all`, undefined, { accept: [404] });
      await cluster.request('DELETE', `/_index_template/${n.alertPrefix}-alerts`, undefined, { accept: [404] });
    }
    await cluster.close();
    if (node !== undefined) await stopNode(node.runDir);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
