/**
 * What an operator watches (Prometheus, `/metrics`): one registry per PEBA instance, so several
 * instances in one process (the tests) never mix their numbers. Modules get the instruments they
 * count with; label values are always from a bounded set (a route pattern, a status code, a
 * honeypot class, a skip reason), never an address, a URL or a user name.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheOutcome } from '../cache/response-cache';
import type { AlertRecord, DataDomain, StoreOutcome } from '../domain/alert';
import type { CommitObserver } from '../ingest/commit-queue';
import type { BulkObserver } from '../store/opensearch/cluster';

/** HTTP answer times, seconds: cache hits take tens of microseconds, store questions milliseconds. */
const HTTP_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Commit times, seconds: an fsync takes about a millisecond on a good disk, much more on a busy one. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** HTTP methods Node's parser accepts are a fixed list already; these are the ones worth naming. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

/** A state read when Prometheus scrapes (a component's ping, a queue's depth). */
export type ComponentProbe = () => Promise<boolean>;

export interface MetricsProbes {
  /** Does the store answer? */
  readonly store?: ComponentProbe;
  /** Does memcached answer? Absent when answers are cached in this process only. */
  readonly memcached?: ComponentProbe;
  /** Alerts waiting for the next commit. */
  readonly commitQueueDepth?: () => number;
}

export class Metrics {
  readonly registry = new Registry();

  private readonly alertsReceived = new Counter({
    name: 'peba_alerts_received_total',
    help: 'Valid alerts in authenticated messages (sent to the store), by data domain and honeypot class (peerType)',
    labelNames: ['domain', 'class'] as const,
    registers: [this.registry],
  });
  private readonly alertsStored = new Counter({
    name: 'peba_alerts_stored_total',
    help: 'Alerts committed as new, by data domain',
    labelNames: ['domain'] as const,
    registers: [this.registry],
  });
  private readonly alertsAlreadyPresent = new Counter({
    name: 'peba_alerts_already_present_total',
    help: 'Alerts whose id was already stored (a resubmitted message), by data domain',
    labelNames: ['domain'] as const,
    registers: [this.registry],
  });
  private readonly alertsSkipped = new Counter({
    name: 'peba_alerts_skipped_total',
    help: 'Alerts skipped as invalid while the rest of their message was stored, by domain and reason',
    labelNames: ['domain', 'reason'] as const,
    registers: [this.registry],
  });
  private readonly messagesRefused = new Counter({
    name: 'peba_messages_refused_total',
    help: 'Ingest messages refused as a whole, by HTTP status (400 malformed, 403 credentials, 413 too large, 429 too many failed logins, 503 store failed)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  private readonly commitSeconds = new Histogram({
    name: 'peba_commit_duration_seconds',
    help: 'Time of one store commit (a group of messages sharing one transaction)',
    labelNames: ['result'] as const,
    buckets: COMMIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly bulkSeconds = new Histogram({
    name: 'peba_opensearch_bulk_duration_seconds',
    help: 'Time of one OpenSearch _bulk request, by purpose (alerts with their CVE pairs and payload counts; payloads: counts again after a conflict, corrections; delete) and result (ok: the cluster answered; items are judged apart)',
    labelNames: ['purpose', 'result'] as const,
    buckets: COMMIT_BUCKETS,
    registers: [this.registry],
  });
  private readonly httpRequests = new Counter({
    name: 'peba_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status (cache hits answered before routing included)',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpSeconds = new Histogram({
    name: 'peba_http_request_duration_seconds',
    help: 'Time from request to answer, by route pattern and status',
    labelNames: ['route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly cacheAnswers = new Counter({
    name: 'peba_cache_answers_total',
    help: 'Answers of cached endpoints by outcome: hit (fresh), stale (served while refreshed), miss (computed while the client waited)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly cacheRefreshes = new Counter({
    name: 'peba_cache_refreshes_total',
    help: 'Answers computed from the store for the cache, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  private readonly authLimited = new Counter({
    name: 'peba_auth_limited_total',
    help: 'Requests answered 429 because their client address failed to authenticate too often',
    registers: [this.registry],
  });
  private readonly publicLimited = new Counter({
    name: 'peba_public_rate_limited_total',
    help: 'Public requests answered 429 because their client address exceeded PUBLIC_RATE_LIMIT',
    registers: [this.registry],
  });
  /** Clients of the live stream; the stream module sets it as clients come and go. */
  readonly streamClients = new Gauge({
    name: 'peba_stream_clients',
    help: 'Clients connected to the live alert stream',
    registers: [this.registry],
  });

  private defaultMetricsOn = false;

  /** Registers the states read at scrape time. */
  probe(probes: MetricsProbes): void {
    const registry = this.registry;
    new Gauge({
      name: 'peba_component_up',
      help: '1 when the component answered its ping at scrape time, else 0',
      labelNames: ['component'] as const,
      registers: [registry],
      async collect() {
        const checks = Object.entries({ store: probes.store, memcached: probes.memcached })
          .filter((entry): entry is [string, ComponentProbe] => entry[1] !== undefined);
        const states = await Promise.all(checks.map(([, check]) => check()));
        checks.forEach(([component], i) => this.set({ component }, states[i] ? 1 : 0));
      },
    });
    const depth = probes.commitQueueDepth;
    if (depth) {
      new Gauge({
        name: 'peba_commit_queue_alerts',
        help: 'Alerts waiting for the next commit',
        registers: [registry],
        collect() {
          this.set(depth());
        },
      });
    }
  }

  /** Process metrics (CPU, memory, handles) and event-loop delay, measured while the server runs. */
  collectProcessMetrics(): void {
    if (this.defaultMetricsOn) return;
    this.defaultMetricsOn = true;
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
  }

  alertReceived(domain: string, peerType: string): void {
    this.alertsReceived.inc({ domain, class: peerType });
  }

  alertsSkippedFor(domain: string, reason: string, count: number): void {
    this.alertsSkipped.inc({ domain, reason }, count);
  }

  /** Counts what each commit of the commit queue stored. */
  readonly commits: CommitObserver = {
    committed: (records, outcome, seconds) => {
      this.commitSeconds.observe({ result: outcome ? 'ok' : 'failed' }, seconds);
      if (outcome) this.countOutcome(records, outcome);
    },
  };

  /** Times every `_bulk` of the OpenSearch store. */
  readonly bulks: BulkObserver = {
    bulkAnswered: (purpose, ok, seconds) => {
      this.bulkSeconds.observe({ purpose, result: ok ? 'ok' : 'failed' }, seconds);
    },
  };

  /**
   * The store reports one outcome per commit, which may hold messages of both domains: the
   * split per domain is exact when nothing was already present or when one domain committed;
   * otherwise (a resubmission among mixed traffic, rare) the counts are labelled `mixed`.
   */
  private countOutcome(records: readonly AlertRecord[], { inserted, duplicates }: StoreOutcome): void {
    const perDomain = new Map<DataDomain, number>();
    for (const record of records) {
      const domain: DataDomain = record.document.clientDomain ? 'community' : 'private';
      perDomain.set(domain, (perDomain.get(domain) ?? 0) + 1);
    }
    if (duplicates === 0) {
      for (const [domain, count] of perDomain) this.alertsStored.inc({ domain }, count);
      return;
    }
    const domain = perDomain.size === 1 ? [...perDomain.keys()][0]! : 'mixed';
    if (inserted > 0) this.alertsStored.inc({ domain }, inserted);
    this.alertsAlreadyPresent.inc({ domain }, duplicates);
  }

  messageRefused(status: number): void {
    this.messagesRefused.inc({ status: String(status) });
  }

  /** `route` is a registered pattern (or `unmatched`), so the label set stays bounded. */
  httpAnswered(route: string, method: string, status: number, seconds: number): void {
    const statusText = String(status);
    this.httpRequests.inc({ route, method: KNOWN_METHODS.has(method) ? method : 'other', status: statusText });
    this.httpSeconds.observe({ route, status: statusText }, seconds);
  }

  cacheAnswered(outcome: CacheOutcome): void {
    this.cacheAnswers.inc({ outcome });
  }

  cacheRefreshed(ok: boolean): void {
    this.cacheRefreshes.inc({ result: ok ? 'ok' : 'failed' });
  }

  authLimitApplied(): void {
    this.authLimited.inc();
  }

  publicLimitApplied(): void {
    this.publicLimited.inc();
  }
}
