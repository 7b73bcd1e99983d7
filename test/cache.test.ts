/** The cache layer on its own: LRU, memcached (a real one), single flight, stale while revalidate, outages. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MemcachedCache } from '../src/cache/memcached-cache';
import { MemoryCache } from '../src/cache/memory-cache';
import { ResponseCache, type CachedAnswer } from '../src/cache/response-cache';
import { MemcachedServer } from './memcached-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const answer = (body: string): CachedAnswer => ({ status: 200, type: 'application/json', body });

describe('MemoryCache', () => {
  test('entries expire and the least recently used is evicted first', async () => {
    const cache = new MemoryCache(2);
    cache.put('a', Buffer.from('1'), 60);
    cache.put('b', Buffer.from('2'), 60);
    assert.equal(cache.peek('a')?.toString(), '1'); // a is now the most recently used
    cache.put('c', Buffer.from('3'), 60);
    assert.equal(cache.peek('b'), undefined, 'b was least recently used');
    assert.equal(cache.peek('a')?.toString(), '1');
    cache.put('d', Buffer.from('4'), 0.05);
    await sleep(80);
    assert.equal(cache.peek('d'), undefined);
  });

  test('bounded by bytes', () => {
    const cache = new MemoryCache(100, 10);
    cache.put('a', Buffer.alloc(6), 60);
    cache.put('b', Buffer.alloc(6), 60);
    assert.equal(cache.peek('a'), undefined);
    assert.equal(cache.peek('b')?.length, 6);
    cache.put('huge', Buffer.alloc(11), 60);
    assert.equal(cache.peek('huge'), undefined, 'an entry larger than the whole cache is not kept');
  });
});

describe('ResponseCache in one process', () => {
  test('1000 concurrent misses for one key cost one computation', async () => {
    const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
    let computations = 0;
    const compute = async (): Promise<CachedAnswer> => {
      computations++;
      await sleep(30);
      return answer('{"n":1}');
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.answer('k', 10, compute)));
    assert.equal(computations, 1);
    assert.ok(results.every((r) => r.answer.body === '{"n":1}'));
    assert.equal(results.filter((r) => r.outcome === 'miss').length, 1000);
    assert.equal((await cache.answer('k', 10, compute)).outcome, 'hit');
    assert.equal(computations, 1);
  });

  test('with a slow shared level, lookups that return after the computation finished do not compute again', async () => {
    // A shared cache whose reads take a while and never find anything: every asker waits on it
    // while the first computation (fast) finishes and is forgotten by the single flight.
    const slowShared = {
      kind: 'memcached' as const,
      get: async (): Promise<Buffer | undefined> => {
        await sleep(5 + Math.random() * 20);
        return undefined;
      },
      set: async (): Promise<void> => {},
      ping: async (): Promise<void> => {},
      close: async (): Promise<void> => {},
    };
    const cache = new ResponseCache({ shared: slowShared, staleSeconds: 60 });
    let computations = 0;
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.answer('k', 60, async () => {
      computations++;
      return answer('once');
    })));
    assert.equal(computations, 1);
    assert.ok(results.every((r) => r.answer.body === 'once'));
  });

  test('an expired answer is served while exactly one refresh runs', async () => {
    const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
    let version = 0;
    let release: () => void = () => {};
    const compute = async (): Promise<CachedAnswer> => {
      version++;
      if (version > 1) await new Promise<void>((r) => (release = r));
      return answer(`v${version}`);
    };
    await cache.answer('k', 0.05, compute);
    await sleep(80);
    const stale = await Promise.all(Array.from({ length: 50 }, () => cache.answer('k', 0.05, compute)));
    assert.ok(stale.every((r) => r.outcome === 'stale' && r.answer.body === 'v1'), 'served at once, not waiting for the refresh');
    assert.equal(version, 2, 'one refresh for 50 requests');
    release();
    await sleep(10);
    const fresh = await cache.answer('k', 0.05, compute);
    assert.equal(fresh.answer.body, 'v2');
    assert.equal(fresh.outcome, 'hit');
  });

  test('a failing computation fails its askers and is not cached', async () => {
    const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
    await assert.rejects(cache.answer('k', 10, async () => {
      throw new Error('store down');
    }), /store down/);
    assert.equal((await cache.answer('k', 10, async () => answer('ok'))).answer.body, 'ok');
  });
});

describe('with a real memcached', () => {
  let memcached: MemcachedServer;
  before(async () => {
    memcached = await MemcachedServer.start();
  });
  after(async () => {
    await memcached.stop();
  });

  test('set, get, expiry', async () => {
    const cache = new MemcachedCache({ servers: memcached.address });
    try {
      await cache.ping();
      await cache.set('peba:test:a', Buffer.from('hello'), 1);
      assert.equal((await cache.get('peba:test:a'))?.toString(), 'hello');
      assert.equal(await cache.get('peba:test:missing'), undefined);
      await sleep(2100);
      assert.equal(await cache.get('peba:test:a'), undefined, 'memcached expired it');
    } finally {
      await cache.close();
    }
  });

  test('two instances share answers: the second computes nothing', async () => {
    const sharedA = new MemcachedCache({ servers: memcached.address });
    const sharedB = new MemcachedCache({ servers: memcached.address });
    try {
      const a = new ResponseCache({ shared: sharedA, staleSeconds: 60 });
      const b = new ResponseCache({ shared: sharedB, staleSeconds: 60 });
      let computedByB = 0;
      assert.equal((await a.answer('peba:test:shared', 30, async () => answer('from A'))).outcome, 'miss');
      await sleep(50); // the write to memcached is not awaited by the asker
      const fromB = await b.answer('peba:test:shared', 30, async () => {
        computedByB++;
        return answer('from B');
      });
      assert.equal(fromB.answer.body, 'from A');
      assert.equal(fromB.outcome, 'hit');
      assert.equal(computedByB, 0);
    } finally {
      await sharedA.close();
      await sharedB.close();
    }
  });

  test('memcached down or hanging: answers come from the computation, bounded in time, one warning per outage, back when it returns', async () => {
    const warnings: string[] = [];
    const notices: string[] = [];
    const shared = new MemcachedCache({
      servers: memcached.address, timeoutMs: 100, retryAfterMs: 200,
      log: { warn: (m) => warnings.push(m), info: (m) => notices.push(m) },
    });
    const cache = new ResponseCache({ shared, staleSeconds: 0 });
    try {
      await shared.ping();
      memcached.pause(); // hangs: connections open, no answers
      let started = Date.now();
      for (let i = 0; i < 5; i++) {
        const result = await cache.answer(`peba:test:down:${i}`, 0.001, async () => answer(`computed ${i}`));
        assert.equal(result.answer.body, `computed ${i}`);
      }
      assert.ok(Date.now() - started < 1500, `bounded: ${Date.now() - started} ms for 5 answers while memcached hangs`);
      await assert.rejects(shared.ping());
      assert.equal(warnings.length, 1, warnings.join('\n'));
      memcached.resume();
      await memcached.stop(); // now refused outright
      started = Date.now();
      assert.equal((await cache.answer('peba:test:refused', 30, async () => answer('still served'))).answer.body, 'still served');
      assert.ok(Date.now() - started < 500);
      assert.equal(warnings.length, 1, 'still the same outage');

      await memcached.launch();
      await sleep(250); // past retryAfterMs
      let back = false;
      for (let i = 0; i < 20 && !back; i++) {
        try {
          await shared.ping();
          back = true;
        } catch {
          await sleep(100);
        }
      }
      assert.ok(back, 'memcached picked up again');
      assert.equal(notices.length, 1);
      await shared.set('peba:test:after', Buffer.from('x'), 10);
      assert.equal((await shared.get('peba:test:after'))?.toString(), 'x');
    } finally {
      memcached.resume();
      await shared.close();
    }
  });
});
