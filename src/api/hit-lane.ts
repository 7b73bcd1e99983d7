/**
 * The hit lane: a GET whose answer this process holds fresh is answered straight from the HTTP
 * server's request event, before Fastify builds its request, reply, hooks and promises for it.
 * A dashboard polled by thousands of browsers asks the same few URLs all day; for those hits
 * the framework cost more than the answer (bench/cache measured about half the CPU per request).
 *
 * The lane never parses a URL itself: the regular route records which raw URL maps to which
 * cache key when it answers it, so both paths always agree on the key. Anything the lane does not
 * know, or holds only stale, goes through Fastify as before (which also refreshes stale answers).
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { CachedAnswer, ResponseCache } from '../cache/response-cache';
import type { Metrics } from '../metrics/metrics';
import type { AccessLog } from './access-log';
import type { PublicRateLimiter } from './public-rate-limit';
import { tooManyHeaders, TOO_MANY_REQUESTS } from './too-many';
import { corsHeaders } from './cors';
import { drainingServerFactory } from './draining-server';

/** Bounds the raw-URL memory: junk query strings must not grow it without end. */
const MAX_REMEMBERED_URLS = 10_000;

export interface HitLaneOptions {
  /** Counts the hits; null when nobody reads metrics. */
  readonly metrics?: Metrics | null;
  /** Writes the access log line of each hit (ACCESS_LOG). */
  readonly accessLog?: AccessLog | null;
  /** PUBLIC_RATE_LIMIT, with the client address as Fastify's request.ip computes it. */
  readonly publicLimit?: { readonly limiter: PublicRateLimiter; readonly addressOf: (request: IncomingMessage) => string } | null;
}

/** Where a raw URL's answer lives, and the route pattern it is counted under. */
interface Remembered {
  readonly key: string;
  readonly route: string;
}

export class HitLane {
  private readonly byUrl = new Map<string, Remembered>();
  /** Answers are immutable once cached: their headers are built once per answer. */
  private readonly headersByAnswer = new WeakMap<CachedAnswer, OutgoingHttpHeaders>();
  private open = true;

  private readonly metrics: Metrics | null;
  private readonly accessLog: AccessLog | null;
  private readonly publicLimit: HitLaneOptions['publicLimit'];

  constructor(private readonly cache: ResponseCache, private readonly corsDomain: string, options: HitLaneOptions = {}) {
    this.metrics = options.metrics ?? null;
    this.accessLog = options.accessLog ?? null;
    this.publicLimit = options.publicLimit ?? null;
  }

  /** Called by the regular route (pattern `route`) after it answered `rawUrl` from the entry under `key`. */
  remember(rawUrl: string, key: string, route: string): void {
    if (this.byUrl.get(rawUrl)?.key === key) return;
    if (this.byUrl.size >= MAX_REMEMBERED_URLS) this.byUrl.clear();
    this.byUrl.set(rawUrl, { key, route });
  }

  /** From now on every request goes through Fastify (which answers 503 while closing). */
  close(): void {
    this.open = false;
  }

  /** Answers the request if it is a GET for a fresh cached answer; false leaves it to Fastify. */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    if (!this.open || request.method !== 'GET' || request.url === undefined) return false;
    const started = this.metrics || this.accessLog ? performance.now() : 0;
    const remembered = this.byUrl.get(request.url);
    if (remembered === undefined) return false;
    const answer = this.cache.freshAnswer(remembered.key);
    if (!answer) return false;
    const wait = this.publicLimit ? this.publicLimit.limiter.take(this.publicLimit.addressOf(request)) : 0;
    if (wait > 0) return this.refuse(request.url, response, remembered.route, wait, started);
    try {
      response.writeHead(answer.status, this.headersOf(answer, request.url));
    } catch {
      // A header Node refuses (a CORSDOMAIN with a line break, say) must not throw out of the
      // request event: Fastify answers instead, and reports the error as it would anyway.
      return false;
    }
    response.end(answer.body);
    if (this.metrics) {
      this.metrics.cacheAnswered('hit');
      this.metrics.httpAnswered(remembered.route, 'GET', answer.status, (performance.now() - started) / 1000);
    }
    this.accessLog?.answered(request, answer.status, Buffer.byteLength(answer.body), performance.now() - started);
    return true;
  }

  /** The 429 of PUBLIC_RATE_LIMIT, as the Fastify hook would send it. */
  private refuse(url: string, response: ServerResponse, route: string, wait: number, started: number): true {
    response.writeHead(429, { ...tooManyHeaders(wait, TOO_MANY_REQUESTS), ...corsHeaders(url, this.corsDomain) });
    response.end(TOO_MANY_REQUESTS);
    if (this.metrics) {
      this.metrics.publicLimitApplied();
      this.metrics.httpAnswered(route, 'GET', 429, (performance.now() - started) / 1000);
    }
    return true;
  }

  /** The headers the regular route sends with a hit; an answer belongs to one path, so one set. */
  private headersOf(answer: CachedAnswer, url: string): OutgoingHttpHeaders {
    let headers = this.headersByAnswer.get(answer);
    if (!headers) {
      headers = {
        'content-type': answer.type,
        'x-cache': 'hit',
        ...corsHeaders(url, this.corsDomain),
        'content-length': Buffer.byteLength(answer.body),
      };
      this.headersByAnswer.set(answer, headers);
    }
    return headers;
  }
}

/** A Fastify `serverFactory` with the lane in front (and PEBA's draining close). */
export function serverWithHitLane(lane: HitLane): ReturnType<typeof drainingServerFactory> {
  return drainingServerFactory((request, response) => lane.serve(request, response));
}
