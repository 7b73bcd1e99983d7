/**
 * Public GET endpoints are written as answer functions (query in, status/type/body out), so the
 * response cache can store, share and replay their answers byte for byte.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CacheOutcome, CachedAnswer, ResponseCache } from '../cache/response-cache';
import { CACHE_POLICIES, cacheKey, endpointName } from './cache-policies';
import { xmlDocument, type XmlElement } from './format/xml';
import type { Metrics } from '../metrics/metrics';
import type { HitLane } from './hit-lane';
import type { PublicRateLimiter } from './public-rate-limit';
import { sendTooMany, TOO_MANY_REQUESTS } from './too-many';
import type { Query } from './params';

export type { CachedAnswer };
export type Answerer = (query: Query, now: number) => Promise<CachedAnswer>;

export function jsonAnswer(body: unknown): CachedAnswer {
  return { status: 200, type: 'application/json; charset=utf-8', body: JSON.stringify(body) };
}

export function xmlAnswer(root: XmlElement): CachedAnswer {
  return { status: 200, type: 'text/xml; charset=utf-8', body: xmlDocument(root) };
}

export function textAnswer(text: string, status = 200): CachedAnswer {
  return { status, type: 'text/plain; charset=utf-8', body: text };
}

export interface AnswerCaching {
  /** null: caching is off, every request asks the store. */
  readonly cache: ResponseCache | null;
  /** Lifetimes from `CACHE_TTL`, by endpoint name. */
  readonly ttlOverrides: ReadonlyMap<string, number>;
  /** Told which raw URL maps to which key, so it can answer later fresh hits before routing. */
  readonly lane?: HitLane | null;
  /** Counts cache outcomes. */
  readonly metrics?: Metrics | null;
  /** PUBLIC_RATE_LIMIT; null = no limit. */
  readonly publicLimit?: PublicRateLimiter | null;
}

/** Registers GET `path`; answers go through the cache when the path has a cache policy. */
export function getAnswer(app: FastifyInstance, path: string, answerer: Answerer, { cache, ttlOverrides, lane, metrics, publicLimit }: AnswerCaching): void {
  const policy = CACHE_POLICIES[path];
  const onRequest = publicLimit
    ? (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
      const wait = publicLimit.take(request.ip);
      if (wait === 0) return done();
      metrics?.publicLimitApplied();
      void sendTooMany(reply, wait, TOO_MANY_REQUESTS);
    }
    : undefined;
  app.get(path, { ...(onRequest && { onRequest }) }, async (request, reply) => {
    const query = request.query as Query;
    let answer: CachedAnswer;
    let outcome: CacheOutcome | 'off' = 'off';
    if (cache && policy) {
      const now = Date.now();
      const ttl = policy.ttl(query, now, ttlOverrides.get(endpointName(path)));
      const key = cacheKey(path, query, policy);
      const cached = await cache.answer(key, ttl, () => answerer(query, Date.now()));
      ({ answer, outcome } = cached);
      metrics?.cacheAnswered(cached.outcome);
      if (request.method === 'GET') lane?.remember(request.raw.url ?? '', key, path);
    } else {
      answer = await answerer(query, Date.now());
    }
    return reply.code(answer.status).type(answer.type).header('x-cache', outcome).send(answer.body);
  });
}
