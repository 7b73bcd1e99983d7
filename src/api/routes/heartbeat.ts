/**
 * `/heartbeat` and `/alert/heartbeat`: 200 `I'm alive` while the store answers (a shared cache that
 * is down only degrades the instance), else 503 naming what is down (the original answered 401);
 * `?out=json` gives the instance's status (up, degraded, down) and each component's state.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CacheStore } from '../../cache/cache-store';
import type { AlertStore } from '../../store/store';
import { wantsJson, type Query } from '../params';
import type { StoreOutage } from '../store-outage';

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

/** What a load balancer needs: can this instance serve? Only the store decides. */
export type InstanceStatus = 'up' | 'degraded' | 'down';

export function registerHeartbeatRoutes(app: FastifyInstance, store: AlertStore, sharedCache: CacheStore | null, outage?: StoreOutage): void {
  // Logged when it changes, not on every probe: a load balancer asks every few seconds.
  let cacheDown = false;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const [storeState, cacheState] = await Promise.all([
      probe(() => store.ping()),
      // Without memcached the cache lives in this process: it is up whenever we answer.
      sharedCache ? probe(() => sharedCache.ping()) : Promise.resolve<ComponentState>({ status: 'up', latencyMs: 0 }),
    ]);
    if (storeState.status === 'up') outage?.up();
    if ((cacheState.status === 'down') !== cacheDown) {
      cacheDown = cacheState.status === 'down';
      if (cacheDown) request.log.warn({ cache: cacheState }, 'heartbeat: the shared cache is down, answers come from the store (degraded)');
      else request.log.info('heartbeat: the shared cache is back');
    }
    // A shared cache that is down degrades every instance alike: answering 503 for it would make
    // a load balancer drop them all at once although each still serves from the store.
    const status: InstanceStatus = storeState.status === 'down' ? 'down' : cacheDown ? 'degraded' : 'up';
    const components: Record<string, ComponentState> = { store: storeState, cache: cacheState };
    reply.code(status === 'down' ? 503 : 200).header('cache-control', 'no-store');
    if (wantsJson(request.query as Query)) {
      return reply.send({ status, cache: sharedCache ? 'memcached' : 'memory', components });
    }
    const down = Object.entries(components).filter(([, state]) => state.status === 'down').map(([name]) => name);
    return reply.type('text/plain; charset=utf-8').send(status === 'down' ? `down: ${down.join(', ')}` : "I'm alive");
  };
  app.get('/heartbeat', handler);
  app.get('/alert/heartbeat', handler);
}
