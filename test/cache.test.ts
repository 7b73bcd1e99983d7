/** The cache layer on its own: LRU, memcached (a real one), single flight, stale while revalidate, outages. */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, mock, test } from 'node:test';
import { MemcachedCache } from '../src/cache/memcached-cache';
import { MemoryCache } from '../src/cache/memory-cache';
import { ResponseCache, type CachedAnswer } from '../src/cache/response-cache';
import { seededRandom } from './helpers';
import { MemcachedServer } from './memcached-server';

const answer = (body: string): CachedAnswer => ({ status: 200, type: 'application/json', body });
/** Lets the promise chains started so far (a background refresh, say) run to their end. */
const settle = async (turns = 3): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};
/** Lifetimes are read from Date.now(): tests move a mock clock instead of waiting. */
const T0 = Date.UTC(2026, 10, 27, 10, 0, 0);
const mockClock = (): void => mock.timers.enable({ apis: ['Date'], now: T0 });

describe('MemoryCache', () => {
  afterEach(() => mock.timers.reset());

  test('entries expire and the least recently used is evicted first', async () => {
    mockClock();
    const cache = new MemoryCache(2);
    cache.put('a', Buffer.from('1'), 60);
    cache.put('b', Buffer.from('2'), 60);
    assert.equal(cache.peek('a')?.toString(), '1'); // a is now the most recently used
    cache.put('c', Buffer.from('3'), 60);
    assert.equal(cache.peek('b'), undefined, 'b was least recently used');
    assert.equal(cache.peek('a')?.toString(), '1');
    cache.put('d', Buffer.from('4'), 0.05);
    mock.timers.tick(49);
    assert.equal(cache.peek('d')?.toString(), '4', 'alive until its lifetime ends');
    mock.timers.tick(1);
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
  afterEach(() => mock.timers.reset());

  test('1000 concurrent misses for one key cost one computation', async () => {
    const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
    let computations = 0;
    let finish: () => void = () => {};
    const compute = async (): Promise<CachedAnswer> => {
      computations++;
      await new Promise<void>((resolve) => { finish = resolve; });
      return answer('{"n":1}');
    };
    const asking = Promise.all(Array.from({ length: 1000 }, () => cache.answer('k', 10, compute)));
    await settle();
    finish(); // every asker is waiting by now
    const results = await asking;
    assert.equal(computations, 1);
    assert.ok(results.every((r) => r.answer.body === '{"n":1}'));
    assert.equal(results.filter((r) => r.outcome === 'miss').length, 1000);
    assert.equal((await cache.answer('k', 10, compute)).outcome, 'hit');
    assert.equal(computations, 1);
  });

  test('with a slow shared level, lookups that return after the computation finished do not compute again', async () => {
    const random = seededRandom(7);
    // A shared cache whose reads take a while and never find anything: every asker waits on it
    // while the first computation (fast) finishes and is forgotten by the single flight.
    const slowShared = {
      kind: 'memcached' as const,
      get: async (): Promise<Buffer | undefined> => {
        await settle(1 + Math.floor(random() * 5));
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

  test('an expired answer is served while exactly one refresh runs, then the fresh one', async () => {
    mockClock();
    const cache = new ResponseCache({ shared: null, staleSeconds: 60 });
    let version = 0;
    let release: () => void = () => {};
    const compute = async (): Promise<CachedAnswer> => {
      version++;
      if (version > 1) await new Promise<void>((r) => (release = r));
      return answer(`v${version}`);
    };
    await cache.answer('k', 10, compute);
    mock.timers.tick(9_999);
    assert.equal((await cache.answer('k', 10, compute)).outcome, 'hit', 'fresh for its whole lifetime');
    assert.equal(cache.freshAnswer('k')?.body, 'v1');
    mock.timers.tick(1);
    assert.equal(cache.freshAnswer('k'), undefined, 'the hit lane no longer serves it');
    const stale = await Promise.all(Array.from({ length: 50 }, () => cache.answer('k', 10, compute)));
    assert.ok(stale.every((r) => r.outcome === 'stale' && r.answer.body === 'v1'), 'served at once, not waiting for the refresh');
    assert.equal(version, 2, 'one refresh for 50 requests');
    release();
    await settle();
    const fresh = await cache.answer('k', 10, compute);
    assert.equal(fresh.answer.body, 'v2');
    assert.equal(fresh.outcome, 'hit');
  });

  test('past its lifetime and the stale period an answer is gone: the next asker waits for a new one', async () => {
    mockClock();
    const cache = new ResponseCache({ shared: null, staleSeconds: 30 });
    let version = 0;
    const compute = async (): Promise<CachedAnswer> => answer(`v${++version}`);
    await cache.answer('k', 10, compute);
    mock.timers.tick(10_000 + 30_000 - 1);
    assert.equal((await cache.answer('k', 10, compute)).outcome, 'stale', 'still within the stale period');
    await settle();
    mock.timers.tick(40_000); // the refreshed answer (v2) has expired with its stale period too
    const gone = await cache.answer('k', 10, compute);
    assert.deepEqual([gone.outcome, gone.answer.body], ['miss', 'v3']);
  });

  test('the shared level keeps an answer for its lifetime plus the stale period', async () => {
    mockClock();
    const lifetimes: number[] = [];
    const recording = {
      kind: 'memcached' as const,
      get: async (): Promise<Buffer | undefined> => undefined,
      set: async (_key: string, _value: Buffer, ttlSeconds: number): Promise<void> => { lifetimes.push(ttlSeconds); },
      ping: async (): Promise<void> => {},
      close: async (): Promise<void> => {},
    };
    const cache = new ResponseCache({ shared: recording, staleSeconds: 60 });
    await cache.answer('k', 600, async () => answer('x'));
    assert.deepEqual(lifetimes, [660]);
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

  test('set and get; what is not there is undefined', async () => {
    // Expiry is memcached's own clock (the lifetime we give it is checked above, on a mock clock).
    const cache = new MemcachedCache({ servers: memcached.address });
    try {
      await cache.ping();
      await cache.set('peba:test:a', Buffer.from('hello'), 1);
      assert.equal((await cache.get('peba:test:a'))?.toString(), 'hello');
      assert.equal(await cache.get('peba:test:missing'), undefined);
    } finally {
      await cache.close();
    }
  });

  test('two instances share answers: the second computes nothing', async () => {
    const sharedA = new MemcachedCache({ servers: memcached.address });
    const sharedB = new MemcachedCache({ servers: memcached.address });
    // The asker does not wait for the write to memcached: this tells when it is done.
    let written: () => void = () => {};
    const write = new Promise<void>((resolve) => { written = resolve; });
    const writingA = {
      kind: 'memcached' as const,
      get: (key: string) => sharedA.get(key),
      set: async (key: string, value: Buffer, ttl: number) => { await sharedA.set(key, value, ttl); written(); },
      ping: () => sharedA.ping(),
      close: () => sharedA.close(),
    };
    try {
      const a = new ResponseCache({ shared: writingA, staleSeconds: 60 });
      const b = new ResponseCache({ shared: sharedB, staleSeconds: 60 });
      let computedByB = 0;
      assert.equal((await a.answer('peba:test:shared', 30, async () => answer('from A'))).outcome, 'miss');
      await write;
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

  test('memcached down or hanging: answers come from the computation, one warning per outage, memcached rested, back when it returns', async () => {
    const warnings: string[] = [];
    const notices: string[] = [];
    const shared = new MemcachedCache({
      servers: memcached.address, timeoutMs: 100, retryAfterMs: 200,
      log: { warn: (m) => warnings.push(m), info: (m) => notices.push(m) },
    });
    const cache = new ResponseCache({ shared, staleSeconds: 0 });
    try {
      await shared.ping();
      // The rest after a failure is measured on Date.now(): a mock clock, frozen until ticked.
      mock.timers.enable({ apis: ['Date'], now: T0 });
      memcached.pause(); // hangs: connections open, no answers
      // Each answer arrives although memcached never answers: the first after the operation's
      // deadline, the others at once, memcached being rested (a hang here would time the test out).
      for (let i = 0; i < 5; i++) {
        const result = await cache.answer(`peba:test:down:${i}`, 0.001, async () => answer(`computed ${i}`));
        assert.equal(result.answer.body, `computed ${i}`);
      }
      await assert.rejects(shared.ping());
      assert.equal(warnings.length, 1, warnings.join('\n'));
      memcached.resume();
      await memcached.stop(); // now refused outright
      assert.equal((await cache.answer('peba:test:refused', 30, async () => answer('still served'))).answer.body, 'still served');
      assert.equal(warnings.length, 1, 'still the same outage');

      await memcached.launch();
      mock.timers.tick(200); // past retryAfterMs
      await shared.ping();
      assert.equal(notices.length, 1, 'back: one notice');
      await shared.set('peba:test:after', Buffer.from('x'), 10);
      assert.equal((await shared.get('peba:test:after'))?.toString(), 'x');
    } finally {
      mock.timers.reset();
      memcached.resume();
      await shared.close();
    }
  });
});
