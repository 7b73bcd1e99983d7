/** The HTTP server: Fastify with the contract's routes and the behaviour around them. */
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Authenticator } from '../auth/authenticator';
import type { GuardedAuthenticator } from '../auth/guarded-authenticator';
import type { Config } from '../config';
import type { IngestService } from '../ingest/ingest-service';
import type { CacheStore } from '../cache/cache-store';
import type { Metrics } from '../metrics/metrics';
import { isStoreUnavailable, type AlertStore } from '../store/store';
import type { AnswerCaching } from './cached-answers';
import type { DestinationStream } from 'pino';
import { clientAddressOf, trustFunction } from '../net/client-address';
import { AccessLog, createLogger } from './access-log';
import { PublicRateLimiter } from './public-rate-limit';
import { corsHeaders } from './cors';
import { resultXml } from './format/xml';
import { drainingServerFactory } from './draining-server';
import { HitLane, serverWithHitLane } from './hit-lane';
import { StoreOutage } from './store-outage';
import type { AlertStream } from '../stream/alert-stream';
import type { DashboardFiles } from './dashboard-assets';
import { registerDashboardRoutes } from './routes/dashboard';
import { registerFallbacks } from './routes/fallback';
import { registerHeartbeatRoutes } from './routes/heartbeat';
import { registerMetricsRoute } from './routes/metrics';
import { INGEST_PATH, refuseMessage, registerIngestRoutes } from './routes/ingest';
import { registerFeedRoutes } from './routes/firewall-feeds';
import { registerDocumentationRoutes } from './routes/documentation';
import type { ExcludedNetworks } from '../net/excluded-networks';
import { registerPrivateRoutes } from './routes/private-lists';
import { registerPublicRoutes } from './routes/public-stats';

export interface ServerDependencies {
  readonly config: Config;
  readonly store: AlertStore;
  readonly authenticator: Authenticator;
  /** The same, behind the brute-force limit per client address: for everything that takes credentials. */
  readonly guarded: GuardedAuthenticator;
  readonly ingest: IngestService;
  readonly caching: AnswerCaching;
  /** The shared cache, for the heartbeat; null when answers are cached in-process only. */
  readonly sharedCache: CacheStore | null;
  readonly metrics: Metrics;
  /** Where log lines go; standard output when absent (tests read them). */
  readonly logStream?: DestinationStream;
  readonly stream: AlertStream;
  /** The built dashboard; null when it was not built. */
  readonly dashboard: DashboardFiles | null;
  /** Networks no firewall feed lists. */
  readonly excluded: ExcludedNetworks;
}

export function buildServer({ config, store, authenticator, guarded, ingest, caching, sharedCache, metrics, logStream, stream, dashboard, excluded }: ServerDependencies): FastifyInstance {
  const logger = createLogger(config.LOG_LEVEL, logStream);
  // X-Forwarded-For names the client only when it comes from a proxy TRUST_PROXY trusts.
  const trust = trustFunction(config.TRUST_PROXY);
  const accessLog = config.ACCESS_LOG === 'on' ? new AccessLog(logger, clientAddressOf(trust)) : null;
  // Nobody reads the numbers when metrics are off: the lane, the hottest path, then counts nothing.
  const publicLimit = config.PUBLIC_RATE_LIMIT > 0 ? new PublicRateLimiter(config.PUBLIC_RATE_LIMIT) : null;
  const lane = caching.cache ? new HitLane(caching.cache, config.CORSDOMAIN, {
    metrics: config.METRICS === 'on' ? metrics : null,
    accessLog,
    publicLimit: publicLimit && { limiter: publicLimit, addressOf: clientAddressOf(trust) },
  }) : null;
  const app = Fastify({
    serverFactory: lane ? serverWithHitLane(lane) : drainingServerFactory(),
    // Closing drains (DrainingServer): every request that reaches a route while closing gets its
    // real answer with `Connection: close`, never Fastify's JSON 503, and idle connections get a
    // grace period instead of being cut at once.
    return503OnClosing: false,
    forceCloseConnections: false,
    bodyLimit: config.BODY_LIMIT,
    trustProxy: trust,
    // Fastify's two lines per request (received, completed) are replaced by the one access line.
    logController: new LogController({ disableRequestLogging: true }),
    loggerInstance: logger,
    // A path Fastify cannot decode (`/alert/%zz`) gets the XML form of every other refusal, not JSON.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      reply.code(error.statusCode ?? 400).type('text/xml; charset=utf-8').send(resultXml('Failed', error.code === 'FST_ERR_BAD_URL' ? 'malformed URL' : 'Bad Request'));
    },
  });

  registerFallbacks(app);

  // ewsposter and scripts post XML under all sorts of content types (or none): take any body as text.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  let closing = false;
  // A callback hook: it runs on every answer, and an async one costs a promise each time.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(corsHeaders(request.url, config.CORSDOMAIN));
    // Fastify marks requests routed after closing began; this also covers those read before.
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  // Counted by route pattern, never by URL: the label set stays bounded whatever clients ask.
  app.addHook('onResponse', (request, reply, done) => {
    metrics.httpAnswered(request.routeOptions.url ?? 'unmatched', request.method, reply.statusCode, reply.elapsedTime / 1000);
    if (accessLog) {
      const length = reply.getHeader('content-length');
      accessLog.answered(request.raw, reply.statusCode, length === undefined ? undefined : Number(length), reply.elapsedTime);
    }
    done();
  });

  // Once closing, every answer goes through the routes, which close the connection after it.
  app.addHook('preClose', (done) => {
    closing = true;
    lane?.close();
    done();
  });
  // Open event streams would keep the server from closing.
  app.addHook('preClose', (done) => { stream.close(); done(); });

  const outage = new StoreOutage(app.log);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isStoreUnavailable(error)) {
      const ingesting = request.url.split('?', 1)[0] === INGEST_PATH;
      if (ingesting) metrics.messageRefused(503);
      return outage.answer(request, reply, error, ingesting);
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? `request body larger than ${request.routeOptions.bodyLimit ?? config.BODY_LIMIT} bytes`
      : status === 500 ? 'internal error' : error.message;
    if (status === 500) request.log.error({ err: error }, 'unhandled error');
    if (request.url.split('?', 1)[0] === INGEST_PATH) {
      if (status < 500) return refuseMessage(request, reply, status, message, metrics);
      metrics.messageRefused(status);
      return reply.code(status).type('text/xml; charset=utf-8').send(resultXml('Failed', message));
    }
    return reply.code(status).type('text/plain; charset=utf-8').send(message);
  });

  registerIngestRoutes(app, ingest, metrics, outage);
  registerPrivateRoutes(app, { config, store, authenticator: guarded });
  registerPublicRoutes(app, { config, store, caching: { ...caching, lane, metrics, publicLimit } });
  registerFeedRoutes(app, { config, store, authenticator: guarded, excluded });
  registerDocumentationRoutes(app, config);
  registerHeartbeatRoutes(app, store, sharedCache, outage);
  if (config.METRICS === 'on') registerMetricsRoute(app, metrics, config.METRICS_TOKEN);
  registerDashboardRoutes(app, { config, store, authenticator, guarded, stream, files: dashboard });
  return app;
}
