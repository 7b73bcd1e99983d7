/**
 * The answer cache seen from outside: one store query for a burst, stale answers while
 * refreshing, instances sharing one real memcached, outages, honest heartbeat.
 */
import assert from 'node:assert/strict';
import { after, before, describe, mock, test } from 'node:test';
import { createApp, type App } from '../src/app';
import type { Config } from '../src/config';
import { formatUtc } from '../src/domain/time';
import type { AlertStore } from '../src/store/store';
import { SqliteStore } from '../src/store/sqlite/sqlite-store';
import { alertRecords, tempDir, testConfig } from './helpers';
import { CACHE_POLICIES, cacheKey } from '../src/api/cache-policies';
import { MemcachedCache } from '../src/cache/memcached-cache';
import { LogCapture } from './log-capture';
import { MemcachedServer } from './memcached-server';


/** The store, counting the questions asked of it. */
function countingStore(store: AlertStore): { store: AlertStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, calls };
}

interface Instance {
  readonly app: App;
  readonly url: string;
  readonly calls: Map<string, number>;
  /** Its warnings and notices (LOG_LEVEL info, no access lines). */
  readonly log: LogCapture;
  close(): Promise<void>;
}

async function instance(overrides: Partial<Record<keyof Config, string>>, dbDir?: string): Promise<Instance> {
  const dir = dbDir ? { path: dbDir, remove: () => {} } : tempDir();
  const config = testConfig(dir.path, { CACHE: 'on', LOG_LEVEL: 'info', ACCESS_LOG: 'off', ...overrides });
  const counted = countingStore(new SqliteStore({ path: `${dir.path}/peba.db` }));
  const log = new LogCapture();
  const app = createApp(config, { store: counted.store, logStream: log });
  // A backlog above the burst below: Node's default of 511 let a loaded machine refuse some of
  // the 1000 simultaneous connections (fetch failed once in CI's OpenSearch pass).
  await app.server.listen({ host: '127.0.0.1', port: 0, backlog: 2048 });
  const address = app.server.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    app, url: `http://127.0.0.1:${address.port}`, calls: counted.calls, log,
    async close() {
      await app.close();
      dir.remove();
    },
  };
}

async function get(url: string): Promise<{ status: number; body: string; cache: string | null }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.text(), cache: response.headers.get('x-cache') };
}

describe('answer cache in one process', () => {
  let peba: Instance;
  before(async () => {
    peba = await instance({ CACHE_TTL: 'retrieveAlertsCount=1' });
  });
  after(async () => {
    await peba.close();
  });

  test('1000 concurrent requests for one cold URL cause exactly one store query', async () => {
    // A 10-minute lifetime: the burst must not outlast it (a refresh after expiry is another matter).
    const before = peba.calls.get('createdPerDay') ?? 0;
    const replies = await Promise.all(Array.from({ length: 1000 }, () => get(`${peba.url}/alert/datasetAlertsPerMonth?days=7`)));
    assert.ok(replies.every((r) => r.status === 200 && r.body === '[{"datasetAlertsPerMonth":{}}]'));
    assert.equal((peba.calls.get('createdPerDay') ?? 0) - before, 1);
  });

  test('parameters an endpoint does not read, and ci spellings of the same domain, share one entry', async () => {
    const first = await get(`${peba.url}/alert/tops?type=urls&topx=3&days=1`);
    assert.equal(first.cache, 'miss');
    for (const variant of ['?days=1&topx=3&type=urls', '?type=urls&topx=3&days=1&junk=1', '?type=urls&topx=3&days=1&ci=7']) {
      assert.equal((await get(`${peba.url}/alert/tops${variant}`)).cache, 'hit', variant);
    }
    assert.equal((await get(`${peba.url}/alert/tops?type=urls&topx=3&days=1&ci=0`)).cache, 'miss', 'private data is another entry');
  });

  test('an expired answer is served while one refresh runs, then the fresh one', async () => {
    // The server runs in this process: a mock Date moves its clock past the 1 s lifetime.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const now = Date.now();
      const url = `${peba.url}/alert/retrieveAlertsCount?time=10&out=json`;
      assert.match((await get(url)).body, /"AlertCount":0/);
      await peba.app.store.storeAlerts(alertRecords(3, { recievedTime: formatUtc(now - 1000), createTime: formatUtc(now - 2000) }));
      mock.timers.tick(999);
      assert.deepEqual(await get(url), { status: 200, body: '{"AlertCount":0}', cache: 'hit' }, 'cached for 1 s');
      mock.timers.tick(1);
      const stale = await get(url);
      assert.equal(stale.cache, 'stale');
      assert.equal(stale.body, '{"AlertCount":0}');
      // The refresh started by the stale answer ends on its own; until then answers stay stale.
      let next = await get(url);
      for (let asked = 0; next.cache === 'stale' && asked < 1000; asked++) next = await get(url);
      assert.deepEqual(next, { status: 200, body: '{"AlertCount":3}', cache: 'hit' });
    } finally {
      mock.timers.reset();
    }
  });

  test('CACHE=off asks the store every time', async () => {
    const off = await instance({ CACHE: 'off' });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await get(`${off.url}/alert/retrieveAlertStats`)).cache, 'off');
      assert.equal(off.calls.get('countReceived'), 12);
    } finally {
      await off.close();
    }
  });
});

describe('instances sharing one memcached', () => {
  let memcached: MemcachedServer;
  let a: Instance;
  let b: Instance;
  before(async () => {
    memcached = await MemcachedServer.start();
    const shared = { MEMCACHE: memcached.address, MEMCACHE_TIMEOUT_MS: '150' };
    a = await instance(shared);
    b = await instance(shared);
  });
  after(async () => {
    // Whatever failed in before(), the memcached child must not outlive the tests.
    const maybe = <T>(value: T): T | undefined => value;
    await Promise.allSettled([maybe(a)?.close(), maybe(b)?.close()]);
    await maybe(memcached)?.stop();
  });

  test('an answer computed by one instance is served by the other without a store query', async () => {
    const url = '/alert/datasetAlertsPerMonth?days=3';
    const fromA = await get(a.url + url);
    assert.equal(fromA.cache, 'miss');
    // A does not wait for its write to memcached before answering: wait until memcached has it.
    const key = cacheKey('/alert/datasetAlertsPerMonth', { days: '3' }, CACHE_POLICIES['/alert/datasetAlertsPerMonth']!);
    const reader = new MemcachedCache({ servers: memcached.address });
    try {
      for (let asked = 0; (await reader.get(key)) === undefined; asked++) assert.ok(asked < 1000, 'A wrote its answer to memcached');
    } finally {
      await reader.close();
    }
    const fromB = await get(b.url + url);
    assert.equal(fromB.cache, 'hit');
    assert.equal(fromB.body, fromA.body);
    assert.equal(b.calls.get('createdPerDay') ?? 0, 0);
  });

  test('the heartbeat names memcached and its latency', async () => {
    const reply = await fetch(`${a.url}/heartbeat?out=json`);
    assert.equal(reply.status, 200);
    const body = (await reply.json()) as { cache: string; components: Record<string, { status: string; latencyMs: number }> };
    assert.equal(body.cache, 'memcached');
    assert.equal(body.components['cache']?.status, 'up');
    assert.equal(body.components['store']?.status, 'up');
    assert.equal(typeof body.components['cache']?.latencyMs, 'number');
  });

  test('memcached down: answers from the store; the heartbeat stays 200, says degraded, logs it once; up again when it returns', async () => {
    await memcached.stop();
    const reply = await get(`${a.url}/alert/retrieveAlertStats`);
    assert.equal(reply.status, 200);
    assert.match(reply.body, /"AlertsLast24Hours":\d+/);
    for (const path of ['/heartbeat', '/alert/heartbeat', '/heartbeat']) {
      const heartbeat = await fetch(a.url + path);
      assert.equal(heartbeat.status, 200, 'a load balancer keeps an instance whose store answers');
      assert.equal(await heartbeat.text(), "I'm alive");
    }
    const degraded = await fetch(`${a.url}/heartbeat?out=json`);
    assert.equal(degraded.status, 200);
    const state = (await degraded.json()) as { status: string; components: Record<string, { status: string; error?: string }> };
    assert.equal(state.status, 'degraded');
    assert.equal(state.components['store']?.status, 'up');
    assert.equal(state.components['cache']?.status, 'down');
    assert.ok(state.components['cache']?.error);
    const isDegradedLine = (line: Record<string, unknown>): boolean => String(line['msg']).startsWith('heartbeat: the shared cache is down');
    const logged = await a.log.next(isDegradedLine);
    assert.equal(logged['level'], 40, 'a warning');
    assert.equal(a.log.lines.filter(isDegradedLine).length, 1, 'logged when it changed, not on every probe');

    await memcached.launch();
    const back = await fetch(`${a.url}/heartbeat?out=json`);
    assert.equal(back.status, 200);
    assert.equal(((await back.json()) as { status: string }).status, 'up', 'memcached picked up again');
    await a.log.next((line) => line['msg'] === 'heartbeat: the shared cache is back');
    assert.equal(await (await fetch(`${a.url}/heartbeat`)).text(), "I'm alive");
  });

  test('memcached hanging: requests still answered (every memcached operation has a deadline)', async () => {
    memcached.pause();
    try {
      // memcached never answers now: without the deadline these would wait for the test's timeout.
      const replies = await Promise.all(['/alert/topCountriesAttacks', '/alert/retrieveLatLonAttacks', '/alert/tops?type=destports&topx=2&days=7']
        .map((path) => get(b.url + path)));
      assert.ok(replies.every((r) => r.status === 200));
    } finally {
      memcached.resume();
    }
  });
});
