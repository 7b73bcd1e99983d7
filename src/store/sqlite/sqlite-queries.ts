/**
 * The read questions of the SQLite store. Statistics come from the aggregates (aggregates.ts)
 * for whole buckets and from indexed raw alerts for the partial buckets at a window's edges;
 * lists of raw alerts come straight from indexes.
 */
import type Database from 'better-sqlite3';
import { ALERT_FIELDS, type AlertDocument } from '../../domain/alert';
import type {
  ArrivalCursor, Arrivals, CountryCount, DayTypeCount, SensorReport, DomainScope, KeyCount, SensorDaemonCount, Side,
  SourceActivity, SourceActivityQuery, StatisticsSnapshot,
  StoredAlert, TimeRange, TopKind, TopTimeline,
} from '../../domain/query';
import { summarizeActivity, type ActivitySummary, type ActivityTotals } from '../../domain/activity';
import { formatUtc, parseUtc } from '../../domain/time';
import { DAY_MS, HOUR_MS, MINUTE_MS, splitRange, type RangePiece } from '../range-split';
import { HEAVY_MARKS, SIDE, TOP_KIND, type HeavyTable } from './aggregates';
import { SettledBuckets } from './settled-buckets';
import { FeedHours } from './feed-hours';
import { SourceWindows } from './source-windows';
import { fromStoredId } from './alert-ids';

type Row = Record<string, unknown>;

/** An aggregate table and its primary-key columns (quoted), for pruning. */
export interface AggregateTable {
  readonly name: string;
  readonly key: readonly string[];
}

const DOMAINS: Record<DomainScope, readonly number[]> = { community: [1], private: [0], both: [0, 1] };
const ALERT_COLUMNS = ALERT_FIELDS.map((f) => `"${f}"`).join(', ');
/** SQL twin of aggregates.ts sensorOf(). */
const SENSOR_SQL = `CASE WHEN hostname != '' AND hostname != 'undefined' THEN hostname ELSE "targetEntryIp" END`;
const SOURCE_COLUMNS = { country: '"country"', name: '"countryName"', location: '"location"' };
const TARGET_COLUMNS = { country: '"targetCountry"', name: '"targetCountryName"', location: '"locationDestination"' };

export function rowToDocument(row: Row): AlertDocument {
  const document: Record<string, unknown> = {};
  for (const field of ALERT_FIELDS) document[field] = row[field];
  document['clientDomain'] = row['clientDomain'] === 1;
  return document as unknown as AlertDocument;
}

function toStoredAlert(row: Row): StoredAlert {
  return { id: fromStoredId(row['id']), document: rowToDocument(row) };
}

/** Adds `count` to `key` in a running total. */
function addTo<K>(totals: Map<K, number>, key: K, count: number): void {
  totals.set(key, (totals.get(key) ?? 0) + count);
}

/** The answer of the first (strictest) tier of heavy rows that proves it, if any. */
function firstProven<T>(tiers: number, attempt: (tier: number) => T | undefined): T | undefined {
  for (let tier = 0; tier < tiers; tier++) {
    const answer = attempt(tier);
    if (answer !== undefined) return answer;
  }
  return undefined;
}

/** The entries above 0 (a complement can take a key's count in a window down to nothing). */
function positive(totals: ReadonlyMap<string, number>): Map<string, number> {
  return new Map([...totals].filter(([, count]) => count > 0));
}

/** The `limit` largest totals, ties by key. */
function topOf(totals: ReadonlyMap<string, number>, limit: number): Array<[string, number]> {
  return [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, limit);
}

/** One piece of a top question: whole buckets of one grain of the top tables. */
interface TopPiece {
  readonly table: 'agg_received_hour_top' | 'agg_received_day_top';
  readonly buckets: number;
  /** [from, to) in epoch seconds. */
  readonly bounds: readonly [number, number];
  /** Rows read so far in this question, per key: tiers and timelines share them. */
  readonly rowsByKey: Map<string, Array<[number, number]>>;
}

/** A partial hour at an edge of a top question, counted from the raw alerts (sign -1: a complement). */
interface TopEdge {
  /** Start of the hour that holds it, epoch ms. */
  readonly hour: number;
  readonly sign: 1 | -1;
  readonly counts: ReadonlyMap<string, number>;
}

/** SQL twins of the keys aggregates.ts counts for the top tables. */
const TOP_KEY_SQL: Record<TopKind, { readonly column: string; readonly filter: string }> = {
  urls: { column: '"originalRequestString"', filter: `AND "peerType" = 'Webpage'` },
  destports: { column: '"targetEntryPort"', filter: '' },
};

function encodeSummary(summary: ActivitySummary): string {
  return JSON.stringify({ total: summary.total, perType: [...summary.perType] });
}

function decodeSummary(text: string): ActivitySummary {
  const { total, perType } = JSON.parse(text) as { total: ActivityTotals; perType: Array<[string, ActivityTotals]> };
  return { total, perType: new Map(perType) };
}

function byCountDesc<T extends { count: number }>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => b.count - a.count || (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

export class SqliteQueries {
  private readonly statements = new Map<string, Database.Statement>();
  readonly sourceWindows: SourceWindows;
  /** Settled raw groupings by createTime (locations). */
  readonly settledBuckets: SettledBuckets;
  /** Settled raw groupings by recievedTime (the edges of tops). */
  readonly settledReceived: SettledBuckets;
  /** Kept whole hours of the firewall feeds. */
  readonly feedHours: FeedHours;

  constructor(private readonly db: Database.Database) {
    this.feedHours = new FeedHours(db, (sql) => this.statement(sql));
    this.sourceWindows = new SourceWindows(db, (sql) => this.statement(sql));
    this.settledBuckets = new SettledBuckets(db);
    this.settledReceived = new SettledBuckets(db);
  }

  /** Prepared once per distinct SQL text (the domain list is part of the text). */
  private statement(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private inDomains(scope: DomainScope, column = 'domain'): string {
    return `${column} IN (${DOMAINS[scope].join(',')})`;
  }

  /**
   * Runs one query per piece of the range: `aggregate(piece)` for whole buckets, `raw(piece)`
   * for the edges; both return [group key, count] rows that are summed per key (subtracted for
   * complement pieces). Keys that end up at 0 are left out.
   */
  private sumPieces<K>(pieces: readonly RangePiece[], aggregate: (p: RangePiece) => Array<[K, number]>, raw: (p: RangePiece) => Array<[K, number]>): Map<K, number> {
    const totals = new Map<K, number>();
    for (const piece of pieces) {
      for (const [key, count] of piece.grain === 0 ? raw(piece) : aggregate(piece)) addTo(totals, key, piece.sign * count);
    }
    for (const [key, count] of totals) if (count === 0) totals.delete(key);
    return totals;
  }

  countReceivedByPeerType(scope: DomainScope, range: TimeRange): KeyCount[] {
    const totals = this.sumPieces<string>(
      splitRange(range, [MINUTE_MS, HOUR_MS], Date.now()),
      (p) => this.pairs(
        `SELECT peer_type, sum(count) FROM ${p.grain === HOUR_MS ? 'agg_received_hour' : 'agg_received_minute'}
         WHERE ${this.inDomains(scope)} AND bucket >= ? AND bucket < ? GROUP BY peer_type`, p.from / 1000, p.to / 1000),
      (p) => this.pairs(
        `SELECT "peerType", count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')}
         AND "recievedTime" >= ? AND "recievedTime" < ? GROUP BY "peerType"`, formatUtc(p.from), formatUtc(p.to)),
    );
    return [...totals].map(([key, count]) => ({ key, count })).sort(byCountDesc((k) => k.key));
  }

  countReceived(scope: DomainScope, range: TimeRange): number {
    const totals = this.sumPieces<string>(
      splitRange(range, [MINUTE_MS, HOUR_MS], Date.now()),
      (p) => this.pairs(
        `SELECT '', coalesce(sum(count), 0) FROM ${p.grain === HOUR_MS ? 'agg_received_hour' : 'agg_received_minute'}
         WHERE ${this.inDomains(scope)} AND bucket >= ? AND bucket < ?`, p.from / 1000, p.to / 1000),
      (p) => this.pairs(
        `SELECT '', count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')}
         AND "recievedTime" >= ? AND "recievedTime" < ?`, formatUtc(p.from), formatUtc(p.to)),
    );
    return totals.get('') ?? 0;
  }

  newestReceived(scope: DomainScope, limit: number): StoredAlert[] {
    // One indexed scan per domain, merged: cheaper than one scan that must sort.
    const rows = DOMAINS[scope].flatMap((domain) => this.statement(
      `SELECT seq, id, ${ALERT_COLUMNS} FROM alerts WHERE "clientDomain" = ? ORDER BY "recievedTime" DESC LIMIT ?`,
    ).all(domain, limit) as Row[]);
    rows.sort((a, b) => (a['recievedTime'] === b['recievedTime'] ? (b['seq'] as number) - (a['seq'] as number) : a['recievedTime']! < b['recievedTime']! ? 1 : -1));
    return rows.slice(0, limit).map(toStoredAlert);
  }

  /** The insertion sequence is the cursor: one writer at a time, so it grows in commit order. */
  alertsStoredAfter(cursor: ArrivalCursor | null, limit: number): Arrivals {
    const after = cursor === null ? null : Number(cursor);
    if (after === null || !Number.isSafeInteger(after)) {
      const last = this.statement('SELECT coalesce(max(seq), 0) FROM alerts').pluck().get() as number;
      return { alerts: [], cursor: String(last) };
    }
    const rows = this.statement(`SELECT seq, id, ${ALERT_COLUMNS} FROM alerts WHERE seq > ? ORDER BY seq LIMIT ?`).all(after, limit) as Row[];
    return { alerts: rows.map(toStoredAlert), cursor: String(rows.length > 0 ? rows[rows.length - 1]!['seq'] : after) };
  }

  newestFromSource(scope: DomainScope, sourceIp: string, limit: number): StoredAlert[] {
    return (this.statement(
      // The unary + keeps SQLite from walking the (domain, createTime) index instead of the
      // source index: for a rare address that walk reads every alert of the domain.
      `SELECT id, ${ALERT_COLUMNS} FROM alerts WHERE "sourceEntryIp" = ? AND ${this.inDomains(scope, '+"clientDomain"')}
       ORDER BY "createTime" DESC LIMIT ?`,
    ).all(sourceIp, limit) as Row[]).map(toStoredAlert);
  }

  sourcesReceived(scope: DomainScope, range: TimeRange): KeyCount[] {
    return this.sourceWindows.ranked(DOMAINS[scope], range);
  }

  sourceActivity(scope: DomainScope, query: SourceActivityQuery): Promise<SourceActivity[]> {
    return this.feedHours.activity(DOMAINS[scope], query);
  }

  createdPerDayAndType(scope: DomainScope, range: TimeRange): DayTypeCount[] {
    const totals = this.sumPieces<string>(
      splitRange(range, [DAY_MS], Date.now()),
      (p) => this.pairs(
        `SELECT (bucket * 1000) || '|' || peer_type, sum(count) FROM agg_created_day
         WHERE ${this.inDomains(scope)} AND bucket >= ? AND bucket < ? GROUP BY bucket, peer_type`, p.from / 1000, p.to / 1000),
      (p) => this.pairs(
        `SELECT substr("createTime", 1, 10) || '|' || "peerType", count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')}
         AND "createTime" >= ? AND "createTime" < ? GROUP BY 1`, formatUtc(p.from), formatUtc(p.to))
        .map(([key, count]) => {
          const bar = key.indexOf('|');
          return [`${parseUtc(`${key.slice(0, bar)} 00:00:00`)}|${key.slice(bar + 1)}`, count];
        }),
    );
    return [...totals].map(([key, count]) => {
      const bar = key.indexOf('|');
      return { day: Number(key.slice(0, bar)), peerType: key.slice(bar + 1), count };
    }).sort((a, b) => a.day - b.day || (a.peerType < b.peerType ? -1 : 1));
  }

  topCountriesReceived(scope: DomainScope, range: TimeRange, side: Side, limit: number): CountryCount[] {
    const columns = side === 'source' ? SOURCE_COLUMNS : TARGET_COLUMNS;
    const totals = this.sumPieces<string>(
      splitRange(range, [DAY_MS], Date.now()),
      (p) => this.pairs(
        `SELECT code || '|' || name, sum(count) FROM agg_received_day_country
         WHERE ${this.inDomains(scope)} AND side = ${SIDE[side]} AND bucket >= ? AND bucket < ? GROUP BY code, name`, p.from / 1000, p.to / 1000),
      (p) => this.pairs(
        `SELECT ${columns.country} || '|' || ${columns.name}, count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')}
         AND "recievedTime" >= ? AND "recievedTime" < ? GROUP BY 1`, formatUtc(p.from), formatUtc(p.to)),
    );
    return [...totals].map(([key, count]) => {
      const bar = key.indexOf('|');
      return { code: key.slice(0, bar), name: key.slice(bar + 1), count };
    }).sort(byCountDesc((c) => c.code)).slice(0, limit);
  }

  topLocationsCreated(scope: DomainScope, range: TimeRange, side: Side, limit: number): KeyCount[] {
    const column = side === 'source' ? SOURCE_COLUMNS.location : TARGET_COLUMNS.location;
    const where = `${this.inDomains(scope)} AND side = ${SIDE[side]}`;
    const now = Date.now();
    const pieces = splitRange(range, [HOUR_MS], now);
    const sql = `SELECT ${column}, count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')}
       AND "createTime" >= ? AND "createTime" < ? GROUP BY 1`;
    const raw = (p: RangePiece): Array<[string, number]> => this.settledBuckets.pairs(sql, p.from, p.to, now,
      (from, to) => this.pairs(sql, formatUtc(from), formatUtc(to)));
    const heavy = (tier: number): Array<[string, number]> | undefined => this.heavyLocations(scope, side, where, range, pieces, raw, limit, tier);
    const top = firstProven(HEAVY_MARKS.agg_created_hour_location.from.length, heavy) ?? topOf(this.sumPieces(
      pieces,
      (p) => this.pairs(`SELECT location, sum(count) FROM agg_created_hour_location WHERE ${where}
        AND bucket >= ? AND bucket < ? GROUP BY location`, p.from / 1000, p.to / 1000),
      raw,
    ), limit);
    return top.map(([key, count]) => ({ key, count }));
  }

  /** Keys marked heavy (at least `from`) in any bucket of [bounds[0], bounds[1]) (seconds). */
  private heavyKeys(table: HeavyTable, scope: DomainScope, part: number, from: number, bounds: readonly number[]): string[] {
    return this.statement(
      `SELECT DISTINCT key FROM agg_heavy WHERE tbl = ${HEAVY_MARKS[table].id} AND ${this.inDomains(scope)} AND part = ?
       AND at_least = ? AND bucket >= ? AND bucket < ?`,
    ).pluck().all(part, from, ...bounds) as string[];
  }

  /**
   * The top locations from the hourly rows with at least the tier's `from` alerts, as heavyTop
   * does for the top tables. Raw edges lie inside hour buckets, so a location heavy in none of
   * the hours the range touches totals at most hours x (from - 1).
   */
  private heavyLocations(scope: DomainScope, side: Side, where: string, range: TimeRange, pieces: readonly RangePiece[],
    raw: (p: RangePiece) => Array<[string, number]>, limit: number, tier: number): Array<[string, number]> | undefined {
    const from = HEAVY_MARKS.agg_created_hour_location.from[tier]!;
    const first = Math.floor(range.from / HOUR_MS) * HOUR_MS;
    const end = Math.ceil(range.to / HOUR_MS) * HOUR_MS;
    const candidates = this.heavyKeys('agg_created_hour_location', scope, SIDE[side], from, [first / 1000, end / 1000]);
    if (candidates.length < limit) return undefined;
    const wanted = JSON.stringify(candidates);
    const totals = new Map(candidates.map((key) => [key, 0]));
    for (const piece of pieces) {
      const rows = piece.grain === 0 ? raw(piece) : this.pairs(
        `SELECT location, sum(count) FROM agg_created_hour_location INDEXED BY agg_created_hour_location_key
         WHERE ${where} AND location IN (SELECT value FROM json_each(?)) AND bucket >= ? AND bucket < ? GROUP BY location`,
        wanted, piece.from / 1000, piece.to / 1000);
      for (const [key, count] of rows) if (totals.has(key)) addTo(totals, key, piece.sign * count);
    }
    const top = topOf(totals, limit);
    const outsiderBound = (end - first) / HOUR_MS * (from - 1) * DOMAINS[scope].length;
    return top.length === limit && top[limit - 1]![1] > outsiderBound ? top : undefined;
  }

  /**
   * The summary of a finished UTC day is kept once computed (agg_received_day_activity): that
   * day's sensor rows change only when old alerts are imported, and then AggregateBatch drops it.
   */
  activitySummary(scope: DomainScope, range: TimeRange): ActivitySummary {
    const finishedDay = range.from % DAY_MS === 0 && range.to - range.from === DAY_MS && range.to <= Date.now();
    const bucket = range.from / 1000;
    if (finishedDay) {
      const kept = this.statement('SELECT summary FROM agg_received_day_activity WHERE scope = ? AND bucket = ?').pluck().get(scope, bucket);
      if (typeof kept === 'string') return decodeSummary(kept);
    }
    const summary = summarizeActivity(this.sensorActivity(scope, range));
    if (finishedDay && !this.db.readonly) {
      this.statement('INSERT OR REPLACE INTO agg_received_day_activity (scope, bucket, summary) VALUES (?, ?, ?)')
        .run(scope, bucket, encodeSummary(summary));
    }
    return summary;
  }

  /** From the raw alerts of the range: meant for the last day at most (the operator's sensors table). */
  sensorsReceived(scope: DomainScope, range: TimeRange): SensorReport[] {
    const rows = this.statement(
      `SELECT ${SENSOR_SQL} AS sensor, count(*) AS alerts, max("recievedTime") AS last, group_concat(DISTINCT "peerType") AS types FROM alerts
       WHERE ${this.inDomains(scope, '"clientDomain"')} AND "recievedTime" >= ? AND "recievedTime" < ? GROUP BY 1 ORDER BY 1`,
    ).all(formatUtc(range.from), formatUtc(range.to)) as Row[];
    return rows.map((row) => ({
      sensor: row['sensor'] as string,
      alerts: row['alerts'] as number,
      lastReceived: row['last'] as string,
      peerTypes: String(row['types']).split(',').sort(),
    }));
  }

  sensorActivity(scope: DomainScope, range: TimeRange): SensorDaemonCount[] {
    const totals = this.sumPieces<string>(
      splitRange(range, [DAY_MS], Date.now()),
      (p) => this.pairs(
        `SELECT sensor || char(0) || peer_ident || char(0) || peer_type, sum(count) FROM agg_received_day_sensor
         WHERE ${this.inDomains(scope)} AND bucket >= ? AND bucket < ? GROUP BY sensor, peer_ident, peer_type`, p.from / 1000, p.to / 1000),
      (p) => this.pairs(
        `SELECT ${SENSOR_SQL} || char(0) || "peerIdent" || char(0) || "peerType", count(*) FROM alerts
         WHERE ${this.inDomains(scope, '"clientDomain"')} AND "recievedTime" >= ? AND "recievedTime" < ? GROUP BY 1`,
        formatUtc(p.from), formatUtc(p.to)),
    );
    return [...totals].map(([key, count]) => {
      const [sensor, peerIdent, peerType] = key.split('\u0000') as [string, string, string];
      return { sensor, peerIdent, peerType, count };
    });
  }

  topTimelines(scope: DomainScope, kind: TopKind, range: TimeRange, bucketMs: number, limit: number): TopTimeline[] {
    if (bucketMs % HOUR_MS !== 0 || DAY_MS % bucketMs !== 0) throw new RangeError('timeline buckets are whole hours that divide a day');
    const where = `${this.inDomains(scope)} AND kind = ${TOP_KIND[kind]} AND bucket >= ? AND bucket < ?`;
    // Whole days where the range has them, whole hours next to them, raw alerts in the partial
    // hours at its edges (a head edge ending now reads its hour whole and subtracts the future).
    const now = Date.now();
    const split = splitRange(range, [HOUR_MS, DAY_MS], now);
    const pieces = split.filter((piece) => piece.grain !== 0).map((piece): TopPiece => ({
      table: piece.grain === DAY_MS ? 'agg_received_day_top' : 'agg_received_hour_top',
      buckets: (piece.to - piece.from) / piece.grain,
      bounds: [piece.from / 1000, piece.to / 1000],
      rowsByKey: new Map(),
    }));
    const edges = split.filter((piece) => piece.grain === 0).map((piece): TopEdge => ({
      hour: Math.floor(piece.from / HOUR_MS) * HOUR_MS,
      sign: piece.sign,
      counts: new Map(this.rawTopPairs(scope, kind, piece, now)),
    }));
    const tiers = Math.max(...[...pieces.map((piece) => piece.table), 'agg_received_hour_top' as const].map((table) => HEAVY_MARKS[table].from.length));
    const top = firstProven(tiers, (tier) => this.heavyTop(pieces, edges, where, scope, TOP_KIND[kind], limit, tier))
      ?? this.groupedTop(pieces, edges, where, limit);
    if (top.length === 0) return [];
    const keys = top.map(([key]) => key);
    const onGrid = (ms: number): number => Math.floor(ms / bucketMs) * bucketMs;
    const timelines = new Map(keys.map((key) => [key, new Map<number, number>()]));
    for (const piece of pieces) {
      // Day rows serve a timeline of days; a finer one reads the piece's hours, summed per bucket by SQLite.
      const rows = piece.table === 'agg_received_day_top' && bucketMs < DAY_MS
        ? this.timelineRows('agg_received_hour_top', where, piece.bounds, bucketMs, keys)
        : this.keyRows(piece, where, keys);
      for (const key of keys) for (const [bucket, count] of rows.get(key)!) addTo(timelines.get(key)!, onGrid(bucket * 1000), count);
    }
    for (const edge of edges) {
      for (const key of keys) addTo(timelines.get(key)!, onGrid(edge.hour), edge.sign * (edge.counts.get(key) ?? 0));
    }
    return top.map(([key, total]) => {
      const buckets = timelines.get(key)!;
      for (const [bucket, count] of buckets) if (count === 0) buckets.delete(bucket);
      return { key, total, buckets };
    });
  }

  /**
   * Top keys counted from the raw alerts received in a piece (a part of one hour). The tail edge
   * of the last 24 hours is a day old: its whole 10-minute buckets are grouped once and kept.
   */
  private rawTopPairs(scope: DomainScope, kind: TopKind, piece: RangePiece, now: number): Array<[string, number]> {
    const { column, filter } = TOP_KEY_SQL[kind];
    const sql = `SELECT ${column}, count(*) FROM alerts WHERE ${this.inDomains(scope, '"clientDomain"')} ${filter}
       AND "recievedTime" >= ? AND "recievedTime" < ? GROUP BY 1`;
    return this.settledReceived.pairs(sql, piece.from, piece.to, now, (from, to) => this.pairs(sql, formatUtc(from), formatUtc(to)));
  }

  /** The (bucket, count) rows of the keys in the piece, read once per key and call. */
  private keyRows(piece: TopPiece, where: string, keys: readonly string[]): ReadonlyMap<string, ReadonlyArray<readonly [number, number]>> {
    const missing = keys.filter((key) => !piece.rowsByKey.has(key));
    if (missing.length > 0) {
      for (const key of missing) piece.rowsByKey.set(key, []);
      for (const [key, bucket, count] of this.keyBuckets(piece.table, where, piece.bounds, missing)) {
        piece.rowsByKey.get(key)!.push([bucket, count]);
      }
    }
    return piece.rowsByKey;
  }

  /**
   * Counts of the keys per timeline bucket on the UTC grid (seconds) within `bounds` (seconds),
   * summed by SQLite: a week of hourly rows is thousands of rows, a few hundred once summed, and
   * handing rows to JS is what costs (bench/query).
   */
  private timelineRows(table: string, where: string, bounds: readonly number[], bucketMs: number, keys: readonly string[]): Map<string, Array<[number, number]>> {
    const rows = this.statement(
      // `%` works on integers whatever the binding (JS numbers bind as REAL); `/` would not.
      `SELECT key, bucket - bucket % ?, sum(count) FROM ${table} INDEXED BY ${table}_key
       WHERE ${where} AND key IN (SELECT value FROM json_each(?)) GROUP BY key, 2`,
    ).raw().all(bucketMs / 1000, ...bounds, JSON.stringify(keys)) as Array<[string, number, number]>;
    const byKey = new Map(keys.map((key) => [key, [] as Array<[number, number]>]));
    for (const [key, bucket, count] of rows) byKey.get(key)!.push([bucket, count]);
    return byKey;
  }

  /** Per-bucket counts of the given keys, read from the covering (domain, kind, key, bucket, count) index. */
  private keyBuckets(table: string, where: string, bounds: readonly number[], keys: readonly string[]): Array<[string, number, number]> {
    return this.statement(
      `SELECT key, bucket, count FROM ${table} INDEXED BY ${table}_key WHERE ${where} AND key IN (SELECT value FROM json_each(?))`,
    ).raw().all(...bounds, JSON.stringify(keys)) as Array<[string, number, number]>;
  }

  /** The top keys by grouping every row of every piece: exact, and cheap while data is small. */
  private groupedTop(pieces: readonly TopPiece[], edges: readonly TopEdge[], where: string, limit: number): Array<[string, number]> {
    const totals = new Map<string, number>();
    for (const piece of pieces) {
      for (const [key, count] of this.pairs(`SELECT key, sum(count) FROM ${piece.table} WHERE ${where} GROUP BY key`, ...piece.bounds)) {
        addTo(totals, key, count);
      }
    }
    for (const edge of edges) for (const [key, count] of edge.counts) addTo(totals, key, edge.sign * count);
    return topOf(positive(totals), limit);
  }

  /**
   * The top keys without grouping every row: a key that is "heavy" (at least the tier's `from`)
   * in none of the buckets totals at most the sum over buckets of (from - 1). When the last of
   * the top keys among the heavy ones beats that bound, the answer is exact; otherwise (little
   * data, flat distributions) undefined sends the caller to the next tier or the full grouping.
   */
  private heavyTop(pieces: readonly TopPiece[], edges: readonly TopEdge[], where: string, scope: DomainScope, kind: number, limit: number,
    tier: number): Array<[string, number]> | undefined {
    const candidates = new Set<string>();
    let outsiderBound = 0;
    // A table with fewer tiers repeats its most lenient one.
    const threshold = (table: HeavyTable): number => HEAVY_MARKS[table].from[Math.min(tier, HEAVY_MARKS[table].from.length - 1)]!;
    for (const { table, buckets, bounds } of pieces) {
      const from = threshold(table);
      for (const key of this.heavyKeys(table, scope, kind, from, bounds)) candidates.add(key);
      outsiderBound += buckets * (from - 1) * DOMAINS[scope].length;
    }
    // A raw edge is part of one hour: a key heavy in none of its hour has fewer than `from` there.
    // A complement only takes away from an hour counted whole above.
    for (const edge of edges) {
      if (edge.sign < 0) continue;
      const from = threshold('agg_received_hour_top');
      for (const key of this.heavyKeys('agg_received_hour_top', scope, kind, from, [edge.hour / 1000, (edge.hour + HOUR_MS) / 1000])) candidates.add(key);
      outsiderBound += (from - 1) * DOMAINS[scope].length;
    }
    if (candidates.size < limit) return undefined;
    const totals = new Map<string, number>();
    for (const piece of pieces) {
      const rows = this.keyRows(piece, where, [...candidates]);
      for (const key of candidates) for (const [, count] of rows.get(key)!) addTo(totals, key, count);
    }
    for (const edge of edges) for (const key of candidates) addTo(totals, key, edge.sign * (edge.counts.get(key) ?? 0));
    const top = topOf(positive(totals), limit);
    return top.length === limit && top[limit - 1]![1] > outsiderBound ? top : undefined;
  }

  putStatisticsSnapshot(snapshot: StatisticsSnapshot): void {
    this.statement('INSERT OR REPLACE INTO statistics (from_time, to_time, vals) VALUES (?, ?, ?)')
      .run(snapshot.from, snapshot.to, JSON.stringify(snapshot.values));
  }

  listStatisticsSnapshots(from: string, to: string): StatisticsSnapshot[] {
    return (this.statement('SELECT from_time, to_time, vals FROM statistics WHERE from_time >= ? AND from_time <= ? ORDER BY from_time')
      .all(from, to) as Row[]).map((row) => ({
      from: row['from_time'] as string,
      to: row['to_time'] as string,
      values: JSON.parse(row['vals'] as string) as Record<string, number>,
    }));
  }

  *exportAlerts(): Generator<StoredAlert> {
    for (const row of this.db.prepare(`SELECT id, ${ALERT_COLUMNS} FROM alerts ORDER BY seq`).iterate() as Iterable<Row>) {
      yield toStoredAlert(row);
    }
  }

  /** Deletes up to `chunk` alerts received before `time`; call repeatedly so writers get turns. */
  deleteReceivedBeforeChunk(time: number, chunk: number): number {
    return this.statement(
      `DELETE FROM alerts WHERE seq IN (SELECT seq FROM alerts WHERE "clientDomain" IN (0, 1) AND "recievedTime" < ? LIMIT ?)`,
    ).run(formatUtc(time), chunk).changes;
  }

  /** The CVE rows of alerts received before `time`, up to `chunk`; call repeatedly like the above. */
  deleteCveAlertsBeforeChunk(time: number, chunk: number): number {
    return this.statement(
      `DELETE FROM cve_alerts WHERE (alert_id, vulnid) IN (SELECT alert_id, vulnid FROM cve_alerts WHERE "recievedTime" < ? LIMIT ?)`,
    ).run(formatUtc(time), chunk).changes;
  }

  /** Payloads last seen before `time` (payloads are few: one statement). */
  deletePayloadsLastSeenBefore(time: number): number {
    return this.statement('DELETE FROM payloads WHERE last_seen < ?').run(formatUtc(time)).changes;
  }

  /**
   * The aggregate tables (`agg_*`) with their primary-key columns, read from the schema so a
   * table added by a later migration is pruned too.
   */
  aggregateTables(): AggregateTable[] {
    const names = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'agg\\_%' ESCAPE '\\' ORDER BY name`)
      .pluck().all() as string[];
    return names.map((name) => {
      const columns = this.db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(name) as Array<{ name: string; pk: number }>;
      const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => `"${c.name}"`);
      return { name, key };
    });
  }

  /** Deletes up to `chunk` buckets of one aggregate table that start before `time` (epoch ms). */
  pruneAggregateChunk(table: AggregateTable, time: number, chunk: number): number {
    const key = table.key.join(', ');
    return this.statement(
      `DELETE FROM "${table.name}" WHERE (${key}) IN (SELECT ${key} FROM "${table.name}" WHERE bucket < ? LIMIT ?)`,
    ).run(time / 1000, chunk).changes;
  }

  private pairs<K = string>(sql: string, ...params: unknown[]): Array<[K, number]> {
    return this.statement(sql).raw().all(...params) as Array<[K, number]>;
  }
}
