/** Wires one PEBA instance together: store, GeoIP, authentication, ingestion, HTTP. */
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { probe } from './api/routes/heartbeat';
import { buildServer } from './api/server';
import { Authenticator } from './auth/authenticator';
import { GuardedAuthenticator } from './auth/guarded-authenticator';
import { MemcachedCache } from './cache/memcached-cache';
import { ResponseCache } from './cache/response-cache';
import { ConfigError, type Config } from './config';
import { openGeoIp, type GeoIp } from './enrich/geoip';
import { CommitQueue } from './ingest/commit-queue';
import { IngestService } from './ingest/ingest-service';
import { startScheduledJobs } from './jobs/scheduler';
import { Metrics } from './metrics/metrics';
import { ExcludedNetworks } from './net/excluded-networks';
import { openStore } from './store/open-store';
import { loadDashboard } from './api/dashboard-assets';
import { AlertStream } from './stream/alert-stream';
import { ArrivalFeed } from './stream/arrival-feed';
import type { AlertStore } from './store/store';

/**
 * The live stream sends a batch at most this often (and the feed looks at the store at most this
 * often): one socket write per client per batch. 1 s, not 250 ms: 1,000 clients cost the ingest
 * rate 27 % at 250 ms and 6 % at 1 s (bench:dashboard part 3, quiet machine, with and without
 * them in the same run, median of 3 rounds), while an alert still reaches a page within about
 * one interval (the browser test's 2 s). A constant, not a key: the page and that bound are
 * built around it.
 */
const STREAM_FLUSH_MS = 1000;

export interface App {
  readonly config: Config;
  readonly store: AlertStore;
  readonly geoIp: GeoIp;
  readonly server: FastifyInstance;
  /** The instance's Prometheus instruments (the stream sets `streamClients`). */
  readonly metrics: Metrics;
  /** The live stream's clients. */
  readonly stream: AlertStream;
  /**
   * Stops accepting connections, answers every request being read (idle connections get a grace
   * period, everything is closed at the drain deadline), commits what is queued, closes the store.
   */
  close(): Promise<void>;
}

export interface AppOverrides {
  /** Use this store instead of opening the one config.STORE names. */
  readonly store?: AlertStore;
  /** Where log lines go instead of standard output. */
  readonly logStream?: DestinationStream;
}

/** The GeoIP databases the configuration names; a file that will not open is the key's fault. */
function openConfiguredGeoIp(config: Config): GeoIp {
  try {
    return openGeoIp({
      cityDatabase: config.GEOIP_CITY || undefined,
      asnDatabase: config.GEOIP_ASN || undefined,
      cacheSize: config.GEOIP_CACHE_SIZE,
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const key = (['GEOIP_CITY', 'GEOIP_ASN'] as const).find((k) => config[k] !== '' && message.includes(config[k]));
    // Without a named file it is the bundled data: its hint says how to build it.
    throw new ConfigError(key ? `${key}: ${message}` : `GeoIP: ${message}`);
  }
}

export function createApp(config: Config, overrides: AppOverrides = {}): App {
  // Read first (with GeoIP): a bad list stops start-up before anything is opened.
  let excluded: ExcludedNetworks;
  try {
    excluded = new ExcludedNetworks(config.FEED_EXCLUDE_FILE, (message) => server.log.error(message));
  } catch (error) {
    throw new ConfigError(`FEED_EXCLUDE_FILE: ${(error as Error).message}`);
  }
  // GeoIP too, before the store: a configuration that cannot start must not create a store on its way out.
  const geoIp = openConfiguredGeoIp(config);
  const metrics = new Metrics();
  const store = overrides.store ?? openStore(config, { bulkObserver: metrics.bulks });
  const authenticator = new Authenticator(
    store,
    { username: config.COMMUNITYUSER, token: config.COMMUNITYTOKEN },
    config.USER_CACHE_SECONDS * 1000,
  );
  // The live stream: alerts stored by any instance, looked for at once after a local commit.
  let stream: AlertStream | undefined;
  const perFlush = Math.max(1, Math.round((config.STREAM_MAX_RATE * STREAM_FLUSH_MS) / 1000));
  const feed = new ArrivalFeed(store, (alerts) => stream?.publish(alerts), {
    pollMs: config.STREAM_POLL_MS,
    // One look per batch, reading at most what 4 batches send: the stream costs the same at any ingest rate.
    minIntervalMs: STREAM_FLUSH_MS,
    pageSize: Math.max(20, 4 * perFlush),
    onError: (error) => server.log.error({ err: error }, 'reading new alerts for the live stream failed'),
  });
  stream = new AlertStream(
    { maxClients: config.STREAM_MAX_CLIENTS, flushMs: STREAM_FLUSH_MS, maxPerFlush: perFlush },
    (any) => feed.setActive(any),
    metrics.streamClients,
  );
  const commits = new CommitQueue(store, undefined, {
    committed(records, outcome, seconds) {
      metrics.commits.committed(records, outcome, seconds);
      if (outcome !== null && outcome.inserted > 0) feed.nudge();
    },
  });
  const guarded = new GuardedAuthenticator(authenticator, {
    failuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
    onLimited: (address) => server.log.warn({ client: address, limit: config.AUTH_FAILURES_PER_MINUTE },
      'authentication failures limit reached: this address gets 429 for up to a minute'),
    onRefused: () => metrics.authLimitApplied(),
  });
  const ingest = new IngestService(guarded, geoIp, commits, {
    maxAlerts: config.MAX_ALERTS_PER_MESSAGE,
    maxHeldBytes: config.BODY_LIMIT,
    keepPayloadsUpTo: config.PAYLOAD_STORE_MAX_BYTES,
  }, metrics);
  const sharedCache = config.MEMCACHE ? new MemcachedCache({ servers: config.MEMCACHE, timeoutMs: config.MEMCACHE_TIMEOUT_MS }) : null;
  const cache = config.CACHE === 'on'
    ? new ResponseCache({ shared: sharedCache, staleSeconds: config.CACHE_STALE_SECONDS, onComputed: (ok) => metrics.cacheRefreshed(ok) })
    : null;
  const isUp = async (check: () => Promise<unknown>): Promise<boolean> => (await probe(check)).status === 'up';
  metrics.probe({
    store: () => isUp(() => store.ping()),
    ...(sharedCache && { memcached: () => isUp(() => sharedCache.ping()) }),
    commitQueueDepth: () => commits.depth,
  });
  const server = buildServer({
    config, store, authenticator, guarded, ingest, sharedCache, metrics, excluded, logStream: overrides.logStream, stream, dashboard: loadDashboard(),
    caching: { cache, ttlOverrides: config.CACHE_TTL },
  });
  if (sharedCache) sharedCache.log = { warn: (m) => server.log.warn(m), info: (m) => server.log.info(m) };
  if (cache) cache.onRefreshError = (key, error) => server.log.error({ key, err: error }, 'refreshing a cached answer failed');
  const jobs = startScheduledJobs(store, config, server.log);
  return {
    config,
    store,
    geoIp,
    server,
    metrics,
    stream,
    async close() {
      feed.stop();
      await server.close();
      // Connections cut at the drain deadline may leave their messages in the queue: commit them.
      await commits.drained();
      jobs.stop();
      await sharedCache?.close();
      await store.close();
    },
  };
}
