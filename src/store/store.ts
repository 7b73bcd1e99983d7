/**
 * The store interface. It speaks in domain terms only, so SQLite and Elasticsearch/OpenSearch
 * can each implement it with their own strengths; nothing here names SQL or an index.
 */
import type { ActivitySummary } from '../domain/activity';
import type { AlertDocument, AlertRecord, StoreOutcome } from '../domain/alert';
import type {
  ArrivalCursor, Arrivals, CountryCount, SensorReport, DayCount, DayTypeCount, DomainScope, KeyCount, Side,
  SourceActivity, SourceActivityQuery, StatisticsSnapshot, StoredAlert, TimeRange, TopKind, TopTimeline,
} from '../domain/query';

/** A store opened with `mustExist` that is not there; the message names where it was looked for. */
export class StoreMissingError extends Error {
  override readonly name = 'StoreMissingError';
}

/**
 * The store cannot answer now (engine down, unreachable, timing out, overloaded, shards not yet
 * allocated; SQLite busy or closed): the request may succeed later, so the API answers 503 with
 * `Retry-After`, never a 500.
 */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/**
 * Whether an error means the store is unavailable rather than a defect. better-sqlite3 throws its
 * own errors synchronously from every statement, so its two transient shapes are recognized here
 * instead of wrapping each call: `SQLITE_BUSY`/`SQLITE_LOCKED` (another writer past
 * `busy_timeout`) and a connection already closed (shutdown in progress).
 */
export function isStoreUnavailable(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') return true;
  return error instanceof TypeError && error.message === 'The database connection is not open';
}

/** A user of the private domain, as in the original `users` index. */
export interface UserRecord {
  readonly peerName: string;
  /** sha512 hex (128 chars) or legacy md5 hex (32 chars) of the token; never the token. */
  readonly tokenHash: string;
  readonly community: boolean;
  /** May query the private endpoints but not post alerts. */
  readonly getOnly: boolean;
  readonly email: string;
}

/** One payload of the payload store, de-duplicated by md5 and fuzzy HTTP hash. */
export interface PayloadRecord {
  readonly md5: string;
  readonly fuzzyHash: string | null;
  readonly mimeType: string;
  readonly size: number;
  /** Empty when the payload was larger than the payload store keeps (`size` is its length). */
  readonly bytes: Buffer;
  readonly count: number;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly firstSourceIp: string;
  readonly firstSourcePort: string;
  readonly peerType: string;
}

/** One (alert, CVE id) pair of the CVE store. */
export interface CveAlertRecord {
  readonly alertId: string;
  readonly vulnid: string;
  readonly createTime: string;
  readonly recievedTime: string;
  readonly clientDomain: boolean;
  readonly peerIdent: string;
  readonly peerType: string;
  readonly sourceEntryIp: string;
  readonly targetEntryIp: string;
}

/**
 * Lookups no request path depends on: for tests, imports' checks and operators. Both stores
 * answer them exactly, from what the last refresh made visible (see AlertStore).
 */
export interface StoreInspection {
  getAlert(id: string): Promise<AlertDocument | undefined>;
  countAlerts(): Promise<number>;
  getPayload(md5: string): Promise<PayloadRecord | undefined>;
  /** Payload records whose fuzzy hash is this one (normally one). */
  findPayloadsByFuzzyHash(fuzzyHash: string): Promise<PayloadRecord[]>;
  listCveAlerts(vulnid: string): Promise<CveAlertRecord[]>;
}

/**
 * What every store promises.
 *
 * Visibility: an answer reflects every write acknowledged before the question, SQLite at once,
 * OpenSearch from its next refresh on (1 s by default; a store opened with refresh on write,
 * as in the tests, at once). Instances sharing a store see each other's writes the same way.
 *
 * Ranges are half-open [from, to) in epoch ms, to the millisecond (stored times are whole
 * seconds); nothing requires them to be aligned to hours or days.
 */
export interface AlertStore extends StoreInspection {
  /** A short name for logs and the heartbeat, e.g. `sqlite`. */
  readonly kind: string;

  /**
   * Stores the alerts durably and only then resolves (SQLite: one fsynced transaction;
   * OpenSearch: one `_bulk` whose items the cluster acknowledged, translog fsynced). An alert
   * whose id is already stored is left as it is and counted as a duplicate, so storing the same
   * records again changes nothing; CVE and payload bookkeeping happen only for alerts that are
   * new. On rejection some of the alerts may be stored (OpenSearch) or none (SQLite): either
   * way, storing the same records again is the recovery.
   *
   * `alertsWritten`, if given, is called once the store has sent the alerts' own write and had
   * its answer, before the rest of its bookkeeping (OpenSearch: payload corrections for alerts not created): the caller
   * may start the next call then, and it overlaps the rest of this one. The call still resolves
   * only when everything is done. A store with nothing after its one write need not call it.
   */
  storeAlerts(records: readonly AlertRecord[], alertsWritten?: () => void): Promise<StoreOutcome>;

  // Questions the API asks. "received" means by recievedTime, "created" by createTime.

  /** Alerts received in the range. */
  countReceived(scope: DomainScope, range: TimeRange): Promise<number>;
  /** Alerts received in the range, per peerType, most first. */
  countReceivedByPeerType(scope: DomainScope, range: TimeRange): Promise<KeyCount[]>;
  /** The newest alerts by recievedTime, newest first. */
  newestReceived(scope: DomainScope, limit: number): Promise<StoredAlert[]>;
  /**
   * Alerts of both domains stored after `cursor`, oldest first, at most `limit`, and the cursor
   * to ask from next time. With `null`: no alerts, and the cursor of "now" (everything stored so
   * far counts as seen). Whoever follows the returned cursors gets every alert stored by any
   * instance sharing the store exactly once (a search engine may deliver it after its refresh
   * delay). Feeds the live stream of every instance.
   */
  alertsStoredAfter(cursor: ArrivalCursor | null, limit: number): Promise<Arrivals>;
  /**
   * The newest alerts from one source address by createTime, newest first (equal times in no
   * particular order). A search engine may show another instance's alert in a past day's index a
   * second late (opensearch/newest-created.ts), as it shows any write after its refresh delay.
   */
  newestFromSource(scope: DomainScope, sourceIp: string, limit: number): Promise<StoredAlert[]>;
  /** Distinct source addresses of alerts received in the range with their counts, most first (ties in no particular order). */
  sourcesReceived(scope: DomainScope, range: TimeRange): Promise<KeyCount[]>;
  /**
   * Firewall feeds: the sources of alerts received in `query.range` (of its honeypot classes
   * and address family), each with its count, first and last reception, classes and number of
   * distinct sensors, keeping those with at least `minAlerts` alerts and `minSensors` sensors;
   * most alerts first, equal counts by address (so an unchanged answer is byte for byte the same).
   */
  sourceActivity(scope: DomainScope, query: SourceActivityQuery): Promise<SourceActivity[]>;
  /** Alerts created in the range per UTC day (days without alerts left out), earliest first. */
  createdPerDay(scope: DomainScope, range: TimeRange): Promise<DayCount[]>;
  /** Alerts created in the range per UTC day and peerType. */
  createdPerDayAndType(scope: DomainScope, range: TimeRange): Promise<DayTypeCount[]>;
  /** Per side, the `limit` countries (code and name) with most alerts received in the range, most first. */
  topCountriesReceived(scope: DomainScope, range: TimeRange, limit: number): Promise<Record<Side, CountryCount[]>>;
  /** The `limit` locations (`"lat , lon"`) with most alerts created in the range, most first. */
  topLocationsCreated(scope: DomainScope, range: TimeRange, side: Side, limit: number): Promise<KeyCount[]>;
  /**
   * Alerts received in the range per sensor, daemon and peerType, summed up by
   * summarizeActivity (alerts, honeypots and daemons, in total and per peerType).
   */
  activitySummary(scope: DomainScope, range: TimeRange): Promise<ActivitySummary>;
  /** Per sensor: alerts received in the range, the newest one's time and the classes (ranges of a day or less). */
  sensorsReceived(scope: DomainScope, range: TimeRange): Promise<SensorReport[]>;
  /**
   * The `limit` URLs (of Webpage alerts) or destination ports with most alerts received in the
   * range (any whole seconds), most first, ties by key; each with its counts per bucket of the
   * UTC grid of `bucketMs` (whole hours dividing a day; a bucket starts at a multiple of
   * bucketMs since the epoch). Exact: never a top list cut per day or per shard and summed.
   */
  topTimelines(scope: DomainScope, kind: TopKind, range: TimeRange, bucketMs: number, limit: number): Promise<TopTimeline[]>;

  putStatisticsSnapshot(snapshot: StatisticsSnapshot): Promise<void>;
  /** Snapshots whose `from` lies in [from, to] (text comparison of `YYYY-MM-DD HH:MM:SS`). */
  listStatisticsSnapshots(from: string, to: string): Promise<StatisticsSnapshot[]>;

  /** Every stored alert, oldest first, for export. */
  exportAlerts(): AsyncIterable<StoredAlert>;
  /**
   * Retention: deletes alerts received before `time` (epoch ms), with their CVE rows and the
   * payloads last seen before it; returns how many alerts. OpenSearch drops the daily indices
   * of whole days before `time` and deletes documents only in the one day index it cuts.
   */
  deleteReceivedBefore(time: number): Promise<number>;
  /**
   * Retention of the statistics kept beside the alerts: deletes aggregate buckets that start
   * before `time` (epoch ms); returns how many bucket rows. Raw alerts are not touched. A store
   * that keeps no aggregates (OpenSearch computes every statistic from the alerts) answers 0.
   */
  pruneAggregatesBefore(time: number): Promise<number>;

  /**
   * Claims one run of a periodic job (`job`) for one slot (the interval of a snapshot, the day
   * of a retention run): true for exactly one caller per (job, slot) among every instance and
   * process sharing the store, so such jobs run once per cluster, not once per instance. A
   * claimed run that fails is not run again by another instance for that slot.
   */
  claimRun(job: string, slot: string): Promise<boolean>;

  getUser(peerName: string): Promise<UserRecord | undefined>;
  /** Creates or replaces the user. */
  putUser(user: UserRecord): Promise<void>;
  removeUser(peerName: string): Promise<boolean>;
  listUsers(): Promise<UserRecord[]>;

  /** Resolves when the store answers; rejects with the reason otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

