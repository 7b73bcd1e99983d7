/**
 * `/heartbeat` and `/alert/heartbeat`: 200 `I'm alive` when every component answers, else 503
 * naming what is down (the original answered 401); `?out=json` gives each component's state.
 */
import type { FastifyInstance } from 'fastify';
import type { CacheStore } from '../../cache/cache-store';
import type { AlertStore } from '../../store/store';
import { wantsJson, type Query } from '../params';

/** A component is down when it does not answer within this. */
const PROBE_TIMEOUT_MS = 2000;

export interface ComponentState {
  readonly status: 'up' | 'down';
  readonly latencyMs: number;
  readonly error?: string;
}

/** Runs one component's check with a deadline; also behind the metrics' component states. */
export async function probe(check: () => Promise<unknown>): Promise<ComponentState> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
      }),
    ]);
    return { status: 'up', latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch (error) {
    return { status: 'down', latencyMs: Math.round(performance.now() - started), error: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHeartbeatRoutes(app: FastifyInstance, store: AlertStore, sharedCache: CacheStore | null): void {
  const handler = async (request: { query: unknown }, reply: import('fastify').FastifyReply) => {
    const [storeState, cacheState] = await Promise.all([
      probe(() => store.ping()),
      // Without memcached the cache lives in this process: it is up whenever we answer.
      sharedCache ? probe(() => sharedCache.ping()) : Promise.resolve<ComponentState>({ status: 'up', latencyMs: 0 }),
    ]);
    const components: Record<string, ComponentState> = { store: storeState, cache: cacheState };
    const down = Object.entries(components).filter(([, state]) => state.status === 'down').map(([name]) => name);
    reply.code(down.length === 0 ? 200 : 503).header('cache-control', 'no-store');
    if (wantsJson(request.query as Query)) {
      return reply.send({ status: down.length === 0 ? 'up' : 'down', cache: sharedCache ? 'memcached' : 'memory', components });
    }
    return reply.type('text/plain; charset=utf-8').send(down.length === 0 ? "I'm alive" : `down: ${down.join(', ')}`);
  };
  app.get('/heartbeat', handler);
  app.get('/alert/heartbeat', handler);
}
