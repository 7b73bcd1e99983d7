/**
 * The store on an OpenSearch cluster (Elasticsearch 7 reads the same requests), in the index
 * layout of the original PEBA (layout.ts), so a cluster the original filled is served as it is
 * and what we write the original reads.
 *
 * Writes: one `_bulk` per storeAlerts call (the commit queue above groups concurrent messages),
 * `create` with the alert's id into the daily index of its recievedTime; 201 is new, 409 is
 * already there (a resent message), anything else fails the call after the new alerts' CVE and
 * payload bookkeeping is done. The alerts' payload counts ride in the same `_bulk` (corrected
 * afterwards for alerts not created); the caller is told once it has answered, while a
 * correction may still follow (payload counting stays one batch at a time). Durability is the engine's: the translog is fsynced before the
 * bulk answers (`index.translog.durability: request`, the default).
 *
 * Reads: answers come from searches and exact aggregations over the daily indices a question's
 * window touches. Searches see what the last refresh made visible (every `refresh_interval`,
 * 1 s by default); `refresh` makes every write wait for it, as tests want.
 */
import { hash } from 'node:crypto';
import { hostname } from 'node:os';
import type { ActivitySummary } from '../../domain/activity';
import { summarizeActivity } from '../../domain/activity';
import { ALERT_FIELDS, BLANK_ALERT_DOCUMENT, type AlertDocument, type AlertRecord, type StoreOutcome } from '../../domain/alert';
import type {
  ArrivalCursor, Arrivals, CountryCount, DayCount, DayTypeCount, DomainScope, KeyCount, SensorReport, Side, SourceActivity,
  SourceActivityQuery, StatisticsSnapshot, StoredAlert, TimeRange, TopKind, TopTimeline,
} from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
import type { AlertStore, CveAlertRecord, PayloadRecord, UserRecord } from '../store';
import { actionLine, ndjson } from './bulk-body';
import { Utf8Text } from '../../util/utf8-text';
import { Cluster, ClusterError, ClusterUnavailableError, itemFailure, type BulkObserver } from './cluster';
import {
  alertTemplate, allAlertIndices, DAY_MS, dailyIndex, dayOfIndex, dayPatterns, GROUPED_FIELDS, SIDE_INDEX_SETTINGS,
  sideIndexMappings, type IndexNames,
} from './layout';
import { OpenSearchFeedHours } from './feed-hours';
import { NewestCreatedByIndex } from './newest-created';
import { readSequenceNumbers } from './sequence-numbers';
import { getPayloadDocument, PayloadBookkeeping, payloadsByFuzzyHash, type SentAlerts } from './payloads';
import {
  compositeBuckets, compositeBucketsOfEach, type CompositeBucket, filtered, INDEX_OPTIONS, readsEpochMillis, scopeFilter, searchHits, type Hit, searchPath, type Target, termsSource, timeRange, topTermTimelines, topTerms, topTermsWithTimelines, type CandidateSizes, type Query,
} from './search';

export interface OpenSearchStoreOptions {
  readonly nodes: readonly string[];
  readonly auth?: string;
  readonly timeoutMs: number;
  readonly indices: IndexNames;
  /**
   * `false` (default): a write is acknowledged once durable and becomes visible to questions
   * with the next refresh. `true`/`wait_for`: writes are visible when acknowledged (tests).
   */
  readonly refresh?: 'false' | 'true' | 'wait_for';
  /** Told the time of every `_bulk` (metrics). */
  readonly bulkObserver?: BulkObserver;
  /** The time in epoch ms (tests move it); Date.now by default. */
  readonly clock?: () => number;
}

type GroupedField = (typeof GROUPED_FIELDS)[number] | 'location' | 'locationDestination';
type DateField = 'recievedTime' | 'createTime';

/**
 * The candidate round of the URL tops and the top locations: smaller than topTerms' default,
 * which lists 200 keys per daily index and cost a third more for the URL tops and a fifth more
 * for the locations on the bench's data (bench/README.md); the proof still decides, and a flatter
 * day falls back to counting more keys.
 */
const SMALL_CANDIDATES = (limit: number): CandidateSizes => ({ size: Math.max(limit * 2, 20), shardSize: Math.max(limit * 5, 50) });

/** Resends are looked up in the previous day's index during this first part of a UTC day. */
const EARLY_MS = 3_600_000;

interface UserSource {
  peerName?: unknown;
  token?: unknown;
  community?: unknown;
  getOnly?: unknown;
  email?: unknown;
}

type StatisticsSource = Record<string, unknown> & { UTCtimeFrom: string; UTCtimeTo: string };

type CveSource = Omit<CveAlertRecord, 'clientDomain'> & { clientDomain: unknown };

/** A stored document as read back, tolerant of the shapes older clusters hold. */
function toDocument(source: Record<string, unknown>): AlertDocument {
  const doc = { ...BLANK_ALERT_DOCUMENT } as Record<string, unknown>;
  for (const field of ALERT_FIELDS) {
    const value = source[field];
    if (value === undefined || value === null) continue;
    if (field === 'clientDomain') doc[field] = value === true || value === 'true';
    else doc[field] = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return doc as unknown as AlertDocument;
}

const storedAlert = (hit: Hit<Record<string, unknown>>): StoredAlert => ({ id: hit._id, document: toDocument(hit._source) });

function toBoolean(value: unknown): boolean {
  return value === true || value === 'true' || value === 1 || value === '1';
}

function byCountDesc<T extends { count: number }>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/**
 * The id of an (alert, CVE) pair in the CVE index: sha256 hex of the alert id, a NUL and the CVE
 * id (alert ids may be 512 bytes already). One text hashed at once: the same bytes as the three
 * updates of a Hash object it replaced (the NUL between them pairs no surrogate halves).
 */
export function cvePairId(alertId: string, vulnid: string): string {
  return hash('sha256', `${alertId}\u0000${vulnid}`, 'hex');
}

/** The `_bulk` lines creating each alert in its index, then its (alert, CVE) pairs; per pair, its alert's position and its id. */
export function alertsBody(records: readonly AlertRecord[], indices: readonly string[], cveIndex: string):
  { body: Utf8Text; pairOwners: number[]; pairIds: string[] } {
  const body = new Utf8Text();
  const pairOwners: number[] = [];
  const pairIds: string[] = [];
  records.forEach((record, i) => {
    body.addLine(actionLine('create', indices[i]!, record.id));
    body.addLine(JSON.stringify(record.document));
  });
  records.forEach(({ id, document: doc, cves }, i) => {
    for (const vulnid of cves) {
      const pairId = cvePairId(id, vulnid);
      body.addLine(actionLine('create', cveIndex, pairId));
      body.addLine(JSON.stringify({
        alertId: id, vulnid, createTime: doc.createTime, recievedTime: doc.recievedTime, clientDomain: doc.clientDomain,
        peerIdent: doc.peerIdent, peerType: doc.peerType, sourceEntryIp: doc.sourceEntryIp, targetEntryIp: doc.targetEntryIp,
      }));
      pairOwners.push(i);
      pairIds.push(pairId);
    }
  });
  return { body, pairOwners, pairIds };
}

/** The composite page size when the cluster settings cannot be read: search.max_buckets of older clusters, less one. */
const FALLBACK_PAGE = 9_999;

export class OpenSearchStore implements AlertStore {
  readonly kind = 'opensearch';
  private readonly cluster: Cluster;
  private readonly names: IndexNames;
  private readonly refresh: string;
  private ready: Promise<void> | undefined;
  private pageSize: Promise<number> | undefined;
  /** The field each question groups on: `F`, or `F.keyword` where existing indices map F as text. */
  private fields = new Map<GroupedField, string>();
  /** The date fields every existing index maps with a format that reads epoch milliseconds. */
  private millisMapped = new Set<DateField>();
  /** Daily indices this process has seen with their shards allocated (a day's index is never re-created while live). */
  private readonly allocated = new Set<string>();
  private readonly timeoutMs: number;
  private readonly payloads: PayloadBookkeeping;
  private readonly feedHours: OpenSearchFeedHours;
  private readonly clock: () => number;
  private readonly newestCreated: NewestCreatedByIndex;

  constructor(options: OpenSearchStoreOptions) {
    this.cluster = new Cluster({ nodes: options.nodes, auth: options.auth, timeoutMs: options.timeoutMs, bulkObserver: options.bulkObserver });
    this.timeoutMs = options.timeoutMs;
    this.names = options.indices;
    this.refresh = options.refresh ?? 'false';
    this.payloads = new PayloadBookkeeping(this.cluster, this.names.payloads, this.refresh);
    this.feedHours = new OpenSearchFeedHours(this.cluster, this.names, (name) => this.field(name), () => this.largestPage());
    this.clock = options.clock ?? Date.now;
    this.newestCreated = new NewestCreatedByIndex(this.cluster, allAlertIndices(this.names), this.clock);
  }

  /** Installs the alert template and the single indices, once (again after a failure). */
  private init(): Promise<void> {
    this.ready ??= this.setUp().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async setUp(): Promise<void> {
    const names = this.names;
    await this.cluster.request('PUT', `/_index_template/${encodeURIComponent(`${names.alertPrefix}-alerts`)}`, alertTemplate(names));
    const mappings = sideIndexMappings();
    for (const key of ['users', 'statistics', 'cve', 'payloads', 'leases'] as const) {
      const answer = await this.cluster.request<{ error?: { type?: string } }>('PUT', `/${encodeURIComponent(names[key])}`,
        { settings: SIDE_INDEX_SETTINGS, mappings: mappings[key] }, { accept: [400] });
      if (answer.status === 400 && answer.body.error?.type !== 'resource_already_exists_exception') {
        throw new ClusterError(`creating ${names[key]}: ${JSON.stringify(answer.body.error)}`, 400, answer.body);
      }
    }
    await this.ensureAllocated(new Set([dailyIndex(names, Date.now())]));
    await this.resolveFields();
  }

  /**
   * Existing clusters were often mapped dynamically (strings as text with a `.keyword`
   * sub-field); our template gives grouped fields a `.keyword` too. Where every index has it,
   * questions group on `.keyword`: the value as stored, text, as SQLite groups it (an ip field
   * would print `2001:db8::0` as `2001:db8::`). Indices of the original's own template (keyword
   * and ip fields, no sub-field) are read on the field itself; text without a keyword sub-field
   * cannot be grouped.
   */
  private async resolveFields(): Promise<void> {
    const wanted: GroupedField[] = [...GROUPED_FIELDS, 'location', 'locationDestination'];
    const dates: DateField[] = ['recievedTime', 'createTime'];
    const answer = await this.cluster.request<Record<string, { mappings: Record<string, { mapping: Record<string, { type?: string; format?: string; fields?: Record<string, unknown> }> }> }>>(
      'GET', `/${allAlertIndices(this.names)}/_mapping/field/${[...wanted, ...dates].join(',')}?${INDEX_OPTIONS}`, undefined, { accept: [404] });
    const indices = answer.status === 404 ? [] : Object.values(answer.body);
    // Indices created later get our template's format, which reads epoch milliseconds.
    this.millisMapped = new Set(dates.filter((field) => indices.every((index) => {
      const mapping = index.mappings[field]?.mapping[field];
      return mapping === undefined || readsEpochMillis(mapping.format);
    })));
    const fields = new Map<GroupedField, string>();
    for (const field of wanted) {
      let text = false;
      let keywordEverywhere = true;
      for (const index of indices) {
        const mapping = index.mappings[field]?.mapping[field];
        if (mapping === undefined) continue;
        if (mapping.type === 'text') text = true;
        if (mapping.fields?.['keyword'] === undefined) keywordEverywhere = false;
      }
      if (text && !keywordEverywhere) throw new Error(`alert indices map ${field} as text without a keyword sub-field: cannot group on it`);
      fields.set(field, keywordEverywhere ? `${field}.keyword` : field);
    }
    this.fields = fields;
  }

  private field(name: GroupedField): string {
    return this.fields.get(name) ?? name;
  }

  async storeAlerts(records: readonly AlertRecord[], alertsWritten?: () => void): Promise<StoreOutcome> {
    if (records.length === 0) return { inserted: 0, duplicates: 0 };
    await this.init();
    const storedYesterday = await this.storedTheDayBefore(records);
    const fresh = storedYesterday.size === 0 ? records : records.filter((r) => !storedYesterday.has(r.id));
    if (fresh.length === 0) return { inserted: 0, duplicates: records.length };
    const outcome = await this.bulkCreate(fresh, alertsWritten);
    return { inserted: outcome.inserted, duplicates: outcome.duplicates + records.length - fresh.length };
  }

  /**
   * Ids are unique per daily index only. A message stored late on one UTC day and resent early
   * the next (ewsposter resends what was not acknowledged) must not be stored twice: the alerts
   * received in the first hour of a day are looked up, in real time, in the previous day's index.
   */
  private async storedTheDayBefore(records: readonly AlertRecord[]): Promise<Set<string>> {
    const early = records.filter((r) => parseUtc(r.document.recievedTime) % DAY_MS < EARLY_MS);
    if (early.length === 0) return new Set();
    const docs = early.map((r) => ({ _index: dailyIndex(this.names, parseUtc(r.document.recievedTime) - DAY_MS), _id: r.id }));
    const answer = await this.cluster.request<{ docs: Array<{ _id: string; found?: boolean }> }>('POST', '/_mget?realtime=true&_source=false', { docs });
    return new Set(answer.body.docs.filter((d) => d.found === true).map((d) => d._id));
  }

  /**
   * Creates the daily indices a batch writes to (the template gives them their mapping and
   * alias) and waits until their shards are allocated (yellow): a search right after the first
   * alert of a day would otherwise meet `all shards failed`. Still not allocated within the
   * deadline: the store is unavailable, the sender retries.
   *
   * Today's index is made at setup and tomorrow's with it: a question for the current day that
   * met the index while the first write was still creating it failed with `all shards failed`
   * (the OpenSearch soak, 1 s into the run; at every UTC midnight otherwise).
   */
  private async ensureAllocated(indices: ReadonlySet<string>): Promise<void> {
    for (const index of [...indices, dailyIndex(this.names, Date.now() + DAY_MS)]) {
      if (this.allocated.has(index)) continue;
      const path = `/${encodeURIComponent(index)}`;
      const created = await this.cluster.request<{ error?: { type?: string } }>('PUT', `${path}?wait_for_active_shards=1`, {}, { accept: [400] });
      if (created.status === 400 && created.body.error?.type !== 'resource_already_exists_exception') {
        throw new ClusterError(`creating ${index}: ${JSON.stringify(created.body.error)}`, 400, created.body);
      }
      const health = await this.cluster.request<{ status?: string; timed_out?: boolean }>('GET',
        `/_cluster/health${path}?wait_for_status=yellow&timeout=${this.timeoutMs}ms`, undefined, { accept: [408] });
      if (health.status === 408 || health.body.timed_out === true) {
        throw new ClusterUnavailableError(`${index}: shards not allocated within ${this.timeoutMs} ms (${health.body.status ?? 'unknown'})`, 408, health.body);
      }
      this.allocated.add(index);
    }
  }

  /**
   * One `_bulk` for the alerts, their CVE pairs and their payload counts (a pair's id is a hash
   * of alert id and CVE, so its create is idempotent as the alert's: 409 is a pair stored
   * before). The payload counts assume every alert is created and are corrected for those that
   * were not (PayloadBookkeeping.recordWith says why). The pairs of an alert whose create failed
   * are deleted again before the call fails, so no pair outlives a refused alert.
   */
  private async bulkCreate(records: readonly AlertRecord[], alertsWritten?: () => void): Promise<StoreOutcome> {
    const indices = records.map((record) => dailyIndex(this.names, parseUtc(record.document.recievedTime)));
    const written = new Set(indices);
    await this.ensureAllocated(written);
    this.newestCreated.written(written);
    const { body, pairOwners, pairIds } = alertsBody(records, indices, this.names.cve);
    const created: AlertRecord[] = [];
    const failures = new Map<string, number>();
    const orphanPairs: string[] = [];
    let duplicates = 0;
    let answered = false;
    const send = async (payloadLines: readonly string[]): Promise<SentAlerts> => {
      for (const line of payloadLines) body.addLine(line);
      const answer = await this.cluster.bulk('alerts', body.bytes(), this.refresh);
      answered = true;
      alertsWritten?.();
      const failedAlerts = new Set<number>();
      const note = (reason: string): void => {
        failures.set(reason, (failures.get(reason) ?? 0) + 1);
      };
      records.forEach((record, i) => {
        const result = answer.items[i]!['create']!;
        if (result.status === 201) created.push(record);
        else if (result.status === 409) duplicates++;
        else {
          failedAlerts.add(i);
          note(itemFailure(result));
        }
      });
      pairOwners.forEach((owner, k) => {
        const result = answer.items[records.length + k]!['create']!;
        if (failedAlerts.has(owner)) {
          if (result.status === 201) orphanPairs.push(pairIds[k]!);
        } else if (result.status !== 201 && result.status !== 409) note(`CVE store: ${itemFailure(result)}`);
      });
      return { items: answer.items.slice(records.length + pairIds.length).map((item) => Object.values(item)[0]!), created: new Set(created) };
    };
    // The bookkeeping of what is now stored is done even when other alerts of the call failed:
    // a resend finds these as already present and does not count them again.
    let bookkeeping: unknown;
    try {
      await this.payloads.recordWith(records, send);
    } catch (error) {
      if (!answered) throw error;
      bookkeeping = error;
    } finally {
      // Again once answered: a reading while the _bulk was on its way may have found them quiet.
      this.newestCreated.written(written);
    }
    if (orphanPairs.length > 0) {
      await this.cluster.bulk('delete', ndjson(orphanPairs.map((id) => actionLine('delete', this.names.cve, id))), this.refresh);
    }
    if (failures.size > 0) {
      const failed = [...failures.values()].reduce((a, b) => a + b, 0);
      throw new Error(`${failed} of ${records.length} alerts not stored: ${[...failures.keys()].slice(0, 3).join('; ')}`);
    }
    if (bookkeeping !== undefined) throw bookkeeping;
    return { inserted: created.length, duplicates };
  }

  async getAlert(id: string): Promise<AlertDocument | undefined> {
    await this.init();
    const hits = await searchHits<Record<string, unknown>>(this.cluster, allAlertIndices(this.names), { size: 1, query: { ids: { values: [id] } } });
    return hits[0] && toDocument(hits[0]._source);
  }

  async countAlerts(): Promise<number> {
    await this.init();
    return this.count(allAlertIndices(this.names), { match_all: {} });
  }

  private async count(indices: string, query: Query): Promise<number> {
    const answer = await this.cluster.request<{ count: number; _shards?: { failed?: number } }>('POST', `/${indices}/_count?${INDEX_OPTIONS}`, { query });
    // _count has no allow_partial_search_results: a failed shard would make the count short.
    const failed = answer.body._shards?.failed ?? 0;
    if (failed > 0) throw new ClusterUnavailableError(`count over ${indices}: ${failed} shards failed`, 503, answer.body);
    return answer.body.count;
  }

  async getPayload(md5: string): Promise<PayloadRecord | undefined> {
    await this.init();
    return getPayloadDocument(this.cluster, this.names.payloads, md5);
  }

  async findPayloadsByFuzzyHash(fuzzyHash: string): Promise<PayloadRecord[]> {
    await this.init();
    return payloadsByFuzzyHash(this.cluster, this.names.payloads, fuzzyHash);
  }

  async listCveAlerts(vulnid: string): Promise<CveAlertRecord[]> {
    await this.init();
    const hits = await searchHits<CveSource>(this.cluster, this.names.cve, {
      size: 10_000, query: { term: { vulnid } }, sort: [{ recievedTime: 'asc' }],
    });
    return hits.map(({ _source: s }) => ({
      alertId: s.alertId, vulnid: s.vulnid, createTime: s.createTime, recievedTime: s.recievedTime, clientDomain: toBoolean(s.clientDomain),
      peerIdent: s.peerIdent, peerType: s.peerType, sourceEntryIp: s.sourceEntryIp, targetEntryIp: s.targetEntryIp,
    }));
  }

  // -- questions by recievedTime: the daily indices of the window -----------------------------

  private received(scope: DomainScope, range: TimeRange, ...more: Query[]): { indices: string; query: Query } {
    return { indices: dayPatterns(this.names, range.from, range.to), query: filtered(...scopeFilter(scope), timeRange('recievedTime', range, this.millisMapped.has('recievedTime')), ...more) };
  }

  /**
   * By createTime: any daily index may hold such alerts (a sensor's clock, an import), so all are
   * named; the engine's pre-filter skips the indices whose createTime range misses the window
   * without searching them: worth its round for a day's window among a month of indices. A
   * month's window (`wide`) meets most indices: the round is pure cost there (bench/README.md,
   * "the original's shapes"), and the engine's own default keeps it beyond 128 shards. (By
   * recievedTime the window's days are named: nothing to skip.)
   */
  private created(scope: DomainScope, range: TimeRange, wide = false): { indices: Target; query: Query } {
    return {
      indices: { indices: allAlertIndices(this.names), preFilter: wide ? 'many' : true },
      query: filtered(...scopeFilter(scope), timeRange('createTime', range, this.millisMapped.has('createTime'))),
    };
  }

  async countReceived(scope: DomainScope, range: TimeRange): Promise<number> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    return this.count(indices, query);
  }

  async countReceivedByPeerType(scope: DomainScope, range: TimeRange): Promise<KeyCount[]> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    const buckets = await compositeBuckets(this.cluster, indices, query, [termsSource('type', this.field('peerType'))]);
    return buckets.map((b) => ({ key: String(b.key['type']), count: b.doc_count })).sort(byCountDesc((k) => k.key));
  }

  /**
   * The newest daily indices first: today's (and tomorrow's, for a clock ahead), then
   * yesterday's, then every other one, stopping once `limit` alerts are found. A day's index
   * holds only alerts received that day, so every alert of a later step is older than any of an
   * earlier one and the concatenation is the exact newest list; most questions touch one shard
   * instead of every day's (each shard costs the node a round even when it can be skipped).
   */
  async newestReceived(scope: DomainScope, limit: number): Promise<StoredAlert[]> {
    await this.init();
    const today = Math.floor(this.clock() / DAY_MS) * DAY_MS;
    const recent = [dayPatterns(this.names, today, today + 2 * DAY_MS), dayPatterns(this.names, today - DAY_MS, today)];
    const rest = [allAlertIndices(this.names), ...recent.join(',').split(',').map((pattern) => `-${pattern}`)].join(',');
    const alerts: StoredAlert[] = [];
    for (const indices of [...recent, rest]) {
      const hits = await searchHits<Record<string, unknown>>(this.cluster, indices, {
        // Within a second, the later stored first (a daily index's sequence numbers are its storing order).
        size: limit - alerts.length, query: filtered(...scopeFilter(scope)), sort: [{ recievedTime: 'desc' }, { _seq_no: 'desc' }],
      });
      alerts.push(...hits.map(storedAlert));
      if (alerts.length >= limit) break;
    }
    return alerts;
  }

  /**
   * First the indices that may hold alerts newer than any of a past day's (today's and
   * tomorrow's, and those written lately); that answer stands when it has `limit` alerts and
   * no other index holds an alert as new as its last (newest-created.ts keeps each quiet index's
   * newest createTime). Otherwise every index is searched: a rare source pays both searches
   * (bench/README.md, "the newest alerts of one source").
   */
  async newestFromSource(scope: DomainScope, sourceIp: string, limit: number): Promise<StoredAlert[]> {
    await this.init();
    const query = filtered(...scopeFilter(scope), { term: { [this.field('sourceEntryIp')]: sourceIp } });
    const sort = [{ createTime: 'desc' }, { _seq_no: 'desc' }];
    const view = await this.newestCreated.current();
    if (view !== undefined) {
      const today = Math.floor(this.clock() / DAY_MS) * DAY_MS;
      // Today's and tomorrow's by pattern: an index another writer made since the last reading.
      const recent = [dayPatterns(this.names, today, today + 2 * DAY_MS), ...view.live.map(encodeURIComponent)].join(',');
      const hits = await searchHits<Record<string, unknown>>(this.cluster, recent, { size: limit, query, sort });
      const last = hits[limit - 1]?.sort?.[0];
      const searched = (index: string): boolean => {
        const day = dayOfIndex(this.names, index);
        return day >= today && day < today + 2 * DAY_MS;
      };
      const newestElsewhere = view.quiet.find(({ index }) => !searched(index))?.newest ?? -Infinity;
      if (typeof last === 'number' && newestElsewhere < last) return hits.map(storedAlert);
    }
    // The pre-filter round orders the shards by their newest createTime, so that once enough hits
    // are found the shards that cannot hold newer ones are skipped (measured: a frequent source
    // 14 ms with it, 107 without; an unseen one pays the round for nothing, 15 against 14).
    const hits = await searchHits<Record<string, unknown>>(this.cluster, { indices: allAlertIndices(this.names), preFilter: true }, { size: limit, query, sort });
    return hits.map(storedAlert);
  }

  /** Every source of the window: a composite aggregation paged to the end (never an approximate terms list). */
  async sourcesReceived(scope: DomainScope, range: TimeRange): Promise<KeyCount[]> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    const buckets = await compositeBuckets(this.cluster, indices, query, [termsSource('ip', this.field('sourceEntryIp'))]);
    return buckets.map((b) => ({ key: String(b.key['ip']), count: b.doc_count })).sort((a, b) => b.count - a.count);
  }

  async sourceActivity(scope: DomainScope, question: SourceActivityQuery): Promise<SourceActivity[]> {
    await this.init();
    return this.feedHours.activity(scope, question);
  }

  /**
   * The largest composite page the cluster answers: its search.max_buckets (65,535 by default,
   * lower on some clusters) less one for the composite aggregation itself. Kept once read, or
   * once refused (403: no right to read cluster settings, the default of older clusters then);
   * any other failure (a timeout, a node restarting) is asked again next time.
   */
  private largestPage(): Promise<number> {
    this.pageSize ??= this.cluster.request<Record<string, Record<string, unknown> | undefined>>('GET', '/_cluster/settings?include_defaults=true&flat_settings=true')
      .then((answer) => {
        const b = answer.body;
        const set = b['transient']?.['search.max_buckets'] ?? b['persistent']?.['search.max_buckets'] ?? b['defaults']?.['search.max_buckets'];
        const max = Number(set ?? 10_000);
        return Number.isSafeInteger(max) && max > 1 ? Math.min(max - 1, 65_534) : 1000;
      }, (error: unknown) => {
        if (!(error instanceof ClusterError && error.status === 403)) this.pageSize = undefined;
        return FALLBACK_PAGE;
      });
    return this.pageSize;
  }

  /**
   * A bare date histogram: the engine counts it from the index's points per day instead of
   * visiting the alerts (about half the time of the per-day-and-type composite at 1M alerts).
   */
  async createdPerDay(scope: DomainScope, range: TimeRange): Promise<DayCount[]> {
    await this.init();
    const { indices, query } = this.created(scope, range, true);
    const answer = await this.cluster.request<{ aggregations?: { days?: { buckets: Array<{ key: number; doc_count: number }> } } }>('POST', searchPath(indices), {
      size: 0, track_total_hits: false, query, aggs: { days: { date_histogram: { field: 'createTime', fixed_interval: `${DAY_MS}ms`, min_doc_count: 1 } } },
    });
    return (answer.body.aggregations?.days?.buckets ?? []).map((b) => ({ day: Number(b.key), count: b.doc_count }));
  }

  async createdPerDayAndType(scope: DomainScope, range: TimeRange): Promise<DayTypeCount[]> {
    await this.init();
    const { indices, query } = this.created(scope, range, true);
    const buckets = await compositeBuckets(this.cluster, indices, query, [
      { day: { date_histogram: { field: 'createTime', calendar_interval: '1d', time_zone: 'UTC' } } },
      termsSource('type', this.field('peerType')),
    ]);
    return buckets.map((b) => ({ day: Number(b.key['day']), peerType: String(b.key['type']), count: b.doc_count }))
      .sort((a, b) => a.day - b.day || (a.peerType < b.peerType ? -1 : 1));
  }

  async topCountriesReceived(scope: DomainScope, range: TimeRange, limit: number): Promise<Record<Side, CountryCount[]>> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    const pairs = (code: GroupedField, name: GroupedField): Array<Record<string, unknown>> => [termsSource('code', this.field(code)), termsSource('name', this.field(name))];
    const both = await compositeBucketsOfEach(this.cluster, indices, query,
      { source: pairs('country', 'countryName'), target: pairs('targetCountry', 'targetCountryName') });
    const top = (buckets: CompositeBucket[]): CountryCount[] => buckets.map((b) => ({ code: String(b.key['code']), name: String(b.key['name']), count: b.doc_count }))
      .sort(byCountDesc((c) => `${c.code}|${c.name}`)).slice(0, limit);
    return { source: top(both.source), target: top(both.target) };
  }

  async topLocationsCreated(scope: DomainScope, range: TimeRange, side: Side, limit: number): Promise<KeyCount[]> {
    await this.init();
    const { indices, query } = this.created(scope, range);
    return (await topTerms(this.cluster, indices, query, this.field(side === 'source' ? 'location' : 'locationDestination'), limit, undefined, SMALL_CANDIDATES(limit)))
      .map(({ key, count }) => ({ key, count }));
  }

  async activitySummary(scope: DomainScope, range: TimeRange): Promise<ActivitySummary> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    const buckets = await compositeBuckets(this.cluster, indices, query, [
      termsSource('host', this.field('hostname')), termsSource('target', this.field('targetEntryIp')),
      termsSource('ident', this.field('peerIdent')), termsSource('type', this.field('peerType')),
    ]);
    return summarizeActivity(buckets.map((b) => ({
      sensor: b.key['host'] === 'undefined' ? String(b.key['target']) : String(b.key['host']),
      peerIdent: String(b.key['ident']), peerType: String(b.key['type']), count: b.doc_count,
    })));
  }

  async sensorsReceived(scope: DomainScope, range: TimeRange): Promise<SensorReport[]> {
    await this.init();
    const { indices, query } = this.received(scope, range);
    const buckets = await compositeBuckets(this.cluster, indices, query, [
      termsSource('host', this.field('hostname')), termsSource('target', this.field('targetEntryIp')), termsSource('type', this.field('peerType')),
    ], { last: { max: { field: 'recievedTime' } } });
    const sensors = new Map<string, { alerts: number; last: number; peerTypes: Set<string> }>();
    for (const b of buckets) {
      const host = String(b.key['host']);
      const sensor = host !== '' && host !== 'undefined' ? host : String(b.key['target']);
      const entry = sensors.get(sensor) ?? { alerts: 0, last: 0, peerTypes: new Set<string>() };
      entry.alerts += b.doc_count;
      entry.last = Math.max(entry.last, (b['last'] as { value: number }).value);
      entry.peerTypes.add(String(b.key['type']));
      sensors.set(sensor, entry);
    }
    return [...sensors].map(([sensor, e]) => ({ sensor, alerts: e.alerts, lastReceived: formatUtc(e.last), peerTypes: [...e.peerTypes].sort() }))
      .sort((a, b) => b.alerts - a.alerts || (a.sensor < b.sensor ? -1 : 1));
  }

  async topTimelines(scope: DomainScope, kind: TopKind, range: TimeRange, bucketMs: number, limit: number): Promise<TopTimeline[]> {
    await this.init();
    const keyField = this.field(kind === 'urls' ? 'originalRequestString' : 'targetEntryPort');
    const { indices, query } = this.received(scope, range, ...(kind === 'urls' ? [{ term: { [this.field('peerType')]: 'Webpage' } }] : []));
    // URLs are many and flat: per-bucket lists must be long to prove anything, and over hours or
    // 6-hour buckets they cost more than finding the top by totals first (bench/README.md, URL tops).
    if (kind === 'urls' && bucketMs < DAY_MS) {
      return topTermsWithTimelines(this.cluster, indices, query, keyField, 'recievedTime', bucketMs, limit, SMALL_CANDIDATES(limit));
    }
    // A recount of a few buckets names only their days' indices (measured: a third faster than all the window's, pre-filtered or not).
    const daysOf = (ranges: readonly TimeRange[]): string => [...new Set(ranges.flatMap((r) => dayPatterns(this.names, r.from, r.to).split(',')))].join(',');
    return topTermTimelines(this.cluster, indices, query, keyField, 'recievedTime', bucketMs, limit, kind === 'urls' ? 50 : 25, daysOf);
  }

  // -- statistics snapshots: one document per snapshot, id = its start ------------------------

  async putStatisticsSnapshot(snapshot: StatisticsSnapshot): Promise<void> {
    await this.init();
    await this.cluster.request('PUT', `/${this.names.statistics}/_doc/${encodeURIComponent(snapshot.from)}?refresh=true`,
      { UTCtimeFrom: snapshot.from, UTCtimeTo: snapshot.to, ...snapshot.values });
  }

  async listStatisticsSnapshots(from: string, to: string): Promise<StatisticsSnapshot[]> {
    await this.init();
    const hits = await searchHits<StatisticsSource>(this.cluster, this.names.statistics, {
      size: 10_000, query: { range: { UTCtimeFrom: { gte: from, lte: to, format: 'yyyy-MM-dd HH:mm:ss' } } }, sort: [{ UTCtimeFrom: 'asc' }],
    });
    return hits.map(({ _source: s }) => {
      const values: Record<string, number> = {};
      for (const [key, value] of Object.entries(s)) if (key !== 'UTCtimeFrom' && key !== 'UTCtimeTo' && typeof value === 'number') values[key] = value;
      return { from: s.UTCtimeFrom, to: s.UTCtimeTo, values };
    });
  }

  // -- the live feed: per daily index, its sequence numbers ------------------------------------

  /**
   * The cursor holds, per live daily index (today's and yesterday's), the last sequence number
   * delivered. A question reads the primaries' local checkpoints first (every operation up to it
   * is processed), then refreshes, then reads up to the checkpoint: an alert being indexed
   * concurrently is never skipped by a refresh that shows a later one first.
   */
  async alertsStoredAfter(cursor: ArrivalCursor | null, limit: number): Promise<Arrivals> {
    await this.init();
    const now = Date.now();
    const live = [dailyIndex(this.names, now - DAY_MS), dailyIndex(this.names, now)];
    const checkpoints = await this.checkpoints(live);
    const previous = cursor === null ? null : (JSON.parse(cursor) as Record<string, number>);
    if (previous === null) return { alerts: [], cursor: JSON.stringify(checkpoints) };
    const pending = live.filter((index) => (checkpoints[index] ?? -1) > (previous[index] ?? -1));
    if (pending.length === 0) return { alerts: [], cursor: JSON.stringify(Object.fromEntries(live.map((i) => [i, previous[i] ?? -1]))) };
    await this.cluster.request('POST', `/${pending.join(',')}/_refresh?ignore_unavailable=true`);
    const alerts: StoredAlert[] = [];
    const next: Record<string, number> = Object.fromEntries(live.map((i) => [i, previous[i] ?? -1]));
    for (const index of pending) {
      if (alerts.length >= limit) break;
      const hits = await searchHits<Record<string, unknown>>(this.cluster, index, {
        size: limit - alerts.length, seq_no_primary_term: true,
        query: { range: { _seq_no: { gt: previous[index] ?? -1, lte: checkpoints[index] } } }, sort: [{ _seq_no: 'asc' }],
      });
      for (const hit of hits) alerts.push({ id: hit._id, document: toDocument(hit._source) });
      next[index] = alerts.length >= limit && hits.length > 0 ? hits[hits.length - 1]!._seq_no! : checkpoints[index]!;
    }
    return { alerts, cursor: JSON.stringify(next) };
  }

  private async checkpoints(indices: readonly string[]): Promise<Record<string, number>> {
    const read = await readSequenceNumbers(this.cluster, indices.join(','));
    return Object.fromEntries(indices.map((index) => [index, read.get(index)?.primaries[0]?.localCheckpoint ?? -1]));
  }

  // -- export and retention: whole daily indices ----------------------------------------------

  /** Daily alert indices with their day, oldest first. */
  private async alertIndices(): Promise<Array<{ index: string; day: number }>> {
    const answer = await this.cluster.request<Array<{ index: string }>>('GET', `/_cat/indices/${allAlertIndices(this.names)}?format=json&h=index&expand_wildcards=open`);
    return answer.body.map(({ index }) => ({ index, day: dayOfIndex(this.names, index) }))
      .filter((i) => !Number.isNaN(i.day)).sort((a, b) => a.day - b.day || (a.index < b.index ? -1 : 1));
  }

  async *exportAlerts(): AsyncIterable<StoredAlert> {
    await this.init();
    for (const { index } of await this.alertIndices()) {
      let after: unknown[] | undefined;
      for (;;) {
        const hits = await searchHits<Record<string, unknown>>(this.cluster, index, {
          size: 5000, sort: [{ recievedTime: 'asc' }, { _seq_no: 'asc' }], ...(after ? { search_after: after } : {}),
        });
        for (const hit of hits) yield { id: hit._id, document: toDocument(hit._source) };
        if (hits.length < 5000) break;
        after = hits[hits.length - 1]!.sort;
      }
    }
  }

  /**
   * Deletes the daily indices of days that ended by `time` whole (cheap: no document is
   * visited), and in the one day index that `time` cuts, the alerts received before it.
   */
  async deleteReceivedBefore(time: number): Promise<number> {
    await this.init();
    const indices = await this.alertIndices();
    const whole = indices.filter((i) => i.day + DAY_MS <= time).map((i) => i.index);
    let deleted = 0;
    for (let i = 0; i < whole.length; i += 50) {
      const chunk = whole.slice(i, i + 50).join(',');
      deleted += await this.count(chunk, { match_all: {} });
      await this.cluster.request('DELETE', `/${chunk}?ignore_unavailable=true`);
    }
    const cut = indices.filter((i) => i.day < time && time < i.day + DAY_MS).map((i) => i.index);
    if (cut.length > 0) deleted += await this.deleteMatching(cut.join(','), { range: { recievedTime: { lt: time, format: 'epoch_millis' } } });
    await this.deleteMatching(this.names.cve, { range: { recievedTime: { lt: time, format: 'epoch_millis' } } });
    await this.deleteMatching(this.names.payloads, { range: { lastSeen: { lt: time, format: 'epoch_millis' } } });
    this.payloads.forget();
    return deleted;
  }

  /** Deletes the matching documents in pages (no `_delete_by_query`: Elasticsearch 7 assembled without reindex lacks it). */
  private async deleteMatching(indices: string, query: Query): Promise<number> {
    let deleted = 0;
    for (;;) {
      const hits = await searchHits<unknown>(this.cluster, indices, { size: 5000, _source: false, query });
      if (hits.length === 0) return deleted;
      const answer = await this.cluster.bulk('delete', ndjson(hits.map((h) => actionLine('delete', h._index, h._id))), 'true');
      deleted += answer.items.filter((item) => item['delete']!.status === 200).length;
      if (hits.length < 5000) return deleted;
    }
  }

  /** The cluster keeps no aggregates of its own: every statistic is computed from the alerts. */
  async pruneAggregatesBefore(): Promise<number> {
    return 0;
  }

  /** A lease document created once per (job, slot): the cluster's create-if-absent decides. */
  async claimRun(job: string, slot: string): Promise<boolean> {
    await this.init();
    const id = encodeURIComponent(`${job}:${slot}`);
    const answer = await this.cluster.request('PUT', `/${this.names.leases}/_doc/${id}?op_type=create&refresh=true`,
      { holder: `${hostname()}:${process.pid}`, claimed: Date.now() }, { accept: [409] });
    return answer.status === 201;
  }

  // -- users: one document per user, found by peerName in either mapping shape ---------------

  private async userHit(peerName: string): Promise<{ id: string; source: UserSource } | undefined> {
    const hits = await searchHits<UserSource>(this.cluster, this.names.users, {
      size: 100, query: { bool: { should: [{ term: { peerName } }, { term: { 'peerName.keyword': peerName } }] } },
    });
    const hit = hits.find((h) => h._source.peerName === peerName);
    return hit && { id: hit._id, source: hit._source };
  }

  async getUser(peerName: string): Promise<UserRecord | undefined> {
    await this.init();
    const hit = await this.userHit(peerName);
    return hit && toUser(hit.source);
  }

  async putUser(user: UserRecord): Promise<void> {
    await this.init();
    const id = (await this.userHit(user.peerName))?.id ?? user.peerName;
    await this.cluster.request('PUT', `/${this.names.users}/_doc/${encodeURIComponent(id)}?refresh=true`, {
      peerName: user.peerName, token: user.tokenHash, community: user.community, getOnly: user.getOnly, email: user.email,
    });
  }

  async removeUser(peerName: string): Promise<boolean> {
    await this.init();
    const hit = await this.userHit(peerName);
    if (hit === undefined) return false;
    const answer = await this.cluster.request('DELETE', `/${this.names.users}/_doc/${encodeURIComponent(hit.id)}?refresh=true`, undefined, { accept: [404] });
    return answer.status === 200;
  }

  async listUsers(): Promise<UserRecord[]> {
    await this.init();
    const hits = await searchHits<UserSource>(this.cluster, this.names.users, { size: 10_000, query: { match_all: {} } });
    return hits.map((h) => toUser(h._source)).sort((a, b) => (a.peerName < b.peerName ? -1 : a.peerName > b.peerName ? 1 : 0));
  }

  /** The cluster answers and the templates and indices are in place. */
  async ping(): Promise<void> {
    await this.init();
    await this.cluster.request('GET', '/_cluster/health?timeout=5s');
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}

function toUser(source: UserSource): UserRecord {
  return {
    peerName: String(source.peerName ?? ''),
    tokenHash: String(source.token ?? ''),
    community: toBoolean(source.community),
    getOnly: toBoolean(source.getOnly),
    email: String(source.email ?? ''),
  };
}
