/**
 * The stampede check, in this process: a fresh PEBA app (cold cache) over a store wrapped in a
 * counting Proxy, N keep-alive connections opened first, then N requests for one cold URL sent
 * at once. The answer cache must turn them into exactly one store query.
 *
 * `x-cache` alone cannot prove that (every waiter of the single flight is reported `miss`),
 * hence the count from inside. Optionally the Proxy delays each store call while the burst
 * runs: the fixture database answers in well under a millisecond, which hides concurrency
 * (the first request is done before the second is parsed); a slow query lets the whole burst
 * pile up on the computation, as a big store would.
 */
import http from 'node:http';
import { createApp } from '../../src/app';
import { loadConfig } from '../../src/config';
import { openStore } from '../../src/store/open-store';
import type { AlertStore } from '../../src/store/store';
import { HOST, request, sleep, type Reply } from './common';

export interface StampedeOptions {
  readonly dbPath: string;
  /** Path and query of the cold URL, e.g. `/alert/datasetAlertsPerMonth?days=7`. */
  readonly path: string;
  readonly requests: number;
  /** Added to every store call during the burst (0: the store's own speed). */
  readonly delayMs: number;
  /** memcached `host:port`, or '' for the in-process cache only. */
  readonly memcache: string;
  readonly timeoutMs: number;
}

export interface StampedeResult {
  /** Store calls during the burst, by method. */
  readonly storeCalls: ReadonlyMap<string, number>;
  readonly totalStoreCalls: number;
  /** Store calls while the connections were being opened (must be 0: `/` does not ask the store). */
  readonly warmupStoreCalls: number;
  /** Connections the server had open when the burst started. */
  readonly openConnections: number;
  /** `x-cache` values seen, `(none)` for a reply without one, `(error)` for a failed request. */
  readonly outcomes: ReadonlyMap<string, number>;
  readonly statuses: ReadonlyMap<number, number>;
  readonly distinctBodies: number;
  readonly burstMs: number;
  readonly errors: readonly string[];
  readonly ok: boolean;
}

/** The store, counting every call; while `state.delayMs` > 0, each call waits that long first. */
function countingStore(store: AlertStore, state: { delayMs: number }): { store: AlertStore; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(String(property), (calls.get(String(property)) ?? 0) + 1);
        const call = (): unknown => (value as (...a: unknown[]) => unknown).apply(target, args);
        return state.delayMs > 0 ? sleep(state.delayMs).then(call) : call();
      };
    },
  });
  return { store: proxy, calls };
}

const sum = (map: ReadonlyMap<string, number>): number => [...map.values()].reduce((a, b) => a + b, 0);

function diff(after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>): Map<string, number> {
  const result = new Map<string, number>();
  for (const [name, n] of after) if (n - (before.get(name) ?? 0) > 0) result.set(name, n - (before.get(name) ?? 0));
  return result;
}

const tally = <K>(map: Map<K, number>, key: K): void => {
  map.set(key, (map.get(key) ?? 0) + 1);
};

export async function stampedeCheck(options: StampedeOptions): Promise<StampedeResult> {
  const config = loadConfig({
    // /dev/null: an /etc/peba/peba.cfg on this machine must not change the setup.
    file: '/dev/null',
    env: {},
    overrides: {
      STORE: `sqlite:${options.dbPath}`,
      BINDHOST: `${HOST}:0`,
      LOG_LEVEL: 'warn',
      CACHE: 'on',
      MEMCACHE: options.memcache,
      // No statistics job: nothing but the burst may ask the store.
      STATS_INTERVAL_MINUTES: '0',
    },
  });
  const state = { delayMs: 0 };
  const counted = countingStore(openStore(config), state);
  const app = createApp(config, { store: counted.store });
  // A backlog above the burst: connection attempts beyond the default 511 would wait for a SYN retry.
  await app.server.listen({ host: HOST, port: 0, backlog: Math.max(511, options.requests * 2) });
  const address = app.server.server.address();
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.requests, maxFreeSockets: options.requests });
  try {
    if (address === null || typeof address === 'string') throw new Error('no port');
    const base = `http://${HOST}:${address.port}`;
    const errors: string[] = [];

    // Open every connection first (GET / redirects without asking the store), so the burst is
    // N requests written at once rather than N connection handshakes.
    const beforeWarmup = new Map(counted.calls);
    const warm = await Promise.allSettled(Array.from({ length: options.requests }, () => request(`${base}/`, { agent, timeoutMs: options.timeoutMs })));
    const warmFailures = warm.filter((r) => r.status === 'rejected').length;
    if (warmFailures > 0) errors.push(`${warmFailures} of ${options.requests} connections could not be opened`);
    const warmupStoreCalls = sum(diff(counted.calls, beforeWarmup));
    const openConnections = await new Promise<number>((resolve) => app.server.server.getConnections((_e, n) => resolve(n ?? 0)));

    const before = new Map(counted.calls);
    state.delayMs = options.delayMs;
    const started = performance.now();
    const replies = await Promise.allSettled(Array.from({ length: options.requests }, () => request(base + options.path, { agent, timeoutMs: options.timeoutMs })));
    const burstMs = performance.now() - started;
    state.delayMs = 0;
    const storeCalls = diff(counted.calls, before);

    const outcomes = new Map<string, number>();
    const statuses = new Map<number, number>();
    const bodies = new Set<string>();
    for (const reply of replies) {
      if (reply.status === 'rejected') {
        tally(outcomes, '(error)');
        if (errors.length < 5) errors.push(String((reply.reason as Error)?.message ?? reply.reason));
        continue;
      }
      const { status, headers, body }: Reply = reply.value;
      tally(statuses, status);
      tally(outcomes, String(headers['x-cache'] ?? '(none)'));
      bodies.add(body);
    }
    const totalStoreCalls = sum(storeCalls);
    const ok = totalStoreCalls === 1 && warmupStoreCalls === 0 && statuses.get(200) === options.requests && bodies.size === 1;
    // Let the unawaited write to memcached finish before the app goes away.
    if (options.memcache) await sleep(100);
    return { storeCalls, totalStoreCalls, warmupStoreCalls, openConnections, outcomes, statuses, distinctBodies: bodies.size, burstMs, errors, ok };
  } finally {
    agent.destroy();
    await app.close();
  }
}
