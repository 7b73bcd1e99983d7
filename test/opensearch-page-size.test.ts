/**
 * The OpenSearch store's composite page size comes from the cluster's search.max_buckets: a
 * failed read of the cluster settings is asked again next time unless it was a refusal (403).
 * The store talks to the launcher's node through a small forwarding proxy that can fail the
 * settings read, and that records the page sizes of the feeds' composite aggregations.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { formatUtc } from '../src/domain/time';
import { OpenSearchStore } from '../src/store/opensearch/opensearch-store';
import { alertRecord } from './helpers';
import { openSearchUrl, removeTestIndices, testIndexNames } from './opensearch-node';

interface Proxy {
  readonly url: string;
  /** Status codes to answer the next cluster settings reads with, instead of forwarding them. */
  readonly failSettings: number[];
  settingsReads: number;
  /** The `size` of every composite aggregation forwarded. */
  readonly compositeSizes: number[];
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const target = openSearchUrl();
  const proxy: Omit<Proxy, 'url' | 'close'> = { failSettings: [], settingsReads: 0, compositeSizes: [] };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        if (request.url?.startsWith('/_cluster/settings')) {
          proxy.settingsReads++;
          const status = proxy.failSettings.shift();
          if (status !== undefined) {
            response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { type: 'injected' }, status }));
            return;
          }
        }
        const size = /"composite":\{"size":(\d+)/.exec(body.toString())?.[1];
        if (size !== undefined) proxy.compositeSizes.push(Number(size));
        const answer = await fetch(`${target}${request.url}`, {
          method: request.method, body: body.length > 0 ? body : undefined,
          headers: request.headers['content-type'] === undefined ? {} : { 'content-type': request.headers['content-type'] },
        });
        response.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
      })().catch((error: unknown) => response.writeHead(502).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

async function withProxiedStore(run: (store: OpenSearchStore, proxy: Proxy) => Promise<void>): Promise<void> {
  const names = testIndexNames();
  const proxy = await startProxy();
  const store = new OpenSearchStore({ nodes: [proxy.url], timeoutMs: 60_000, indices: names, refresh: 'true' });
  try {
    const now = Date.now();
    await store.storeAlerts(Array.from({ length: 20 }, (_, i) => {
      const time = formatUtc(now - i * 60_000);
      return alertRecord({ recievedTime: time, createTime: time, sourceEntryIp: `198.51.100.${i % 4}` });
    }));
    await run(store, proxy);
  } finally {
    await store.close();
    await proxy.close();
    await removeTestIndices(names);
  }
}

const question = () => ({ range: { from: Date.now() - 15 * 60_000, to: Date.now() + 1000 }, peerTypes: [], minAlerts: 1, minSensors: 1 });

test('a transient failure to read the cluster settings is asked again: the page size recovers to search.max_buckets − 1', async () => {
  await withProxiedStore(async (store, proxy) => {
    proxy.failSettings.push(503);
    const first = await store.sourceActivity('both', question());
    assert.equal(first.length, 4, 'answered with the fallback page size');
    assert.equal(proxy.compositeSizes.at(-1), 9_999);
    assert.equal(proxy.settingsReads, 1);
    assert.deepEqual(await store.sourceActivity('both', question()), first);
    assert.equal(proxy.settingsReads, 2, 'asked again after the failure');
    assert.equal(proxy.compositeSizes.at(-1), 65_534, 'the default search.max_buckets (65,535) less one');
    await store.sourceActivity('both', question());
    assert.equal(proxy.settingsReads, 2, 'kept once read');
  });
});

test('a refusal to read the cluster settings (403) is kept: the fallback page size, asked once', async () => {
  await withProxiedStore(async (store, proxy) => {
    proxy.failSettings.push(403);
    const first = await store.sourceActivity('both', question());
    assert.equal(first.length, 4);
    await store.sourceActivity('both', question());
    assert.equal(proxy.settingsReads, 1);
    assert.equal(proxy.compositeSizes.at(-1), 9_999);
  });
});
