/**
 * The firewall feeds' source activity (sourceActivity) over windows of up to 7 days: a window's
 * whole hours are counted once per source (count, first and last reception, classes, sensors)
 * and kept in memory, so a question reads only the partial hours at its two edges from the raw
 * alerts and merges them into the kept, already ranked sources (bench/query feed-probe: a 7-day
 * window at a million alerts went from a grouped pass over every alert of the week per question
 * to the edges). The kept hours are counted afresh when the window's whole hours move on (once
 * an hour per question shape).
 *
 * Kept counts stay exact because the alerts of a kept hour change only when
 * - an alert is committed into it later (stamped just before the hour ended, or imported): the
 *   store hands every alert it inserts with a received time before `horizonText` to `addLate`;
 * - retention deletes alerts: the store calls `forget`;
 * - another connection commits (PRAGMA data_version): everything kept is dropped.
 *
 * Why no hourly per-source table: in bench/query's data almost every alert is its own (hour,
 * source, class, sensor) row (996,204 rows for 1,000,115 alerts), so such a table cost an insert
 * per alert at ingest and made the count of a week only about a quarter cheaper.
 */
import type Database from 'better-sqlite3';
import type { AlertDocument } from '../../domain/alert';
import type { SourceActivity, SourceActivityQuery } from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
import { detachedString } from '../../util/detached-string';
import { HOUR_MS, toWholeSeconds } from '../range-split';
import { ForeignWrites } from './foreign-writes';

/** One source's totals; sets only once a second class or sensor shows up (most sources have one). */
interface Activity {
  count: number;
  first: string;
  last: string;
  types: string | Set<string>;
  sensors: string | Set<string>;
}

type Values = string | Set<string>;
const sizeOf = (values: Values): number => (typeof values === 'string' ? 1 : values.size);
const has = (values: Values, value: string): boolean => (typeof values === 'string' ? values === value : values.has(value));
/** `values` with `value` added: the same set (mutated) or a new one. */
const withValue = (values: Values, value: string): Values => {
  if (typeof values !== 'string') return values.add(value);
  return values === value ? values : new Set([values, value]);
};
const each = (values: Values, visit: (value: string) => void): void => {
  if (typeof values === 'string') visit(values);
  else values.forEach((v) => visit(v));
};
/** How many distinct values `a` and `b` hold together, without building their union. */
const unionSize = (a: Values, b: Values): number => {
  let size = sizeOf(a);
  each(b, (v) => {
    if (!has(a, v)) size++;
  });
  return size;
};
const unionSorted = (a: Values, b: Values): string[] => {
  const all = new Set<string>();
  each(a, (v) => all.add(v));
  each(b, (v) => all.add(v));
  return [...all].sort();
};

function addRow(sources: Map<string, Activity>, address: string, count: number, first: string, last: string, types: Values, sensors: Values): void {
  const known = sources.get(address);
  if (known === undefined) {
    sources.set(address, { count, first, last, types, sensors });
    return;
  }
  known.count += count;
  if (first < known.first) known.first = first;
  if (last > known.last) known.last = last;
  each(types, (t) => { known.types = withValue(known.types, t); });
  each(sensors, (v) => { known.sensors = withValue(known.sensors, v); });
}

/** The whole hours [firstHour, endHour) of one question's shape, counted. */
interface KeptHours {
  readonly domains: readonly number[];
  readonly peerTypes: ReadonlySet<string> | undefined;
  readonly family: 4 | 6 | undefined;
  readonly firstHour: number;
  readonly endHour: number;
  readonly sources: Map<string, Activity>;
  /** The sources in answer order, built at the first question; undefined again when an alert was added since. */
  ranked: SourceActivity[] | undefined;
}

/** Distinct question shapes are few (a firewall or two per class filter); more means one asks oddly. */
const MAX_KEPT = 8;
/**
 * Sources kept over all shapes: about 0.7 KB each (bench/query feed-probe's database), so at most
 * some 350 MB. A window with more sources is answered from its count without keeping it.
 */
export const MAX_KEPT_SOURCES = 500_000;

const byAddress = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class FeedHours {
  private readonly kept = new Map<string, KeptHours>();
  private readonly foreignWrites: ForeignWrites;
  private horizon = '';

  /** An alert received before this (text, comparable as stored) may belong to a kept hour. */
  get horizonText(): string {
    return this.horizon;
  }

  /** `statement` prepares SQL once per text: the query layer's cache. */
  constructor(db: Database.Database, private readonly statement: (sql: string) => Database.Statement,
    private readonly maxKeptSources = MAX_KEPT_SOURCES) {
    this.foreignWrites = new ForeignWrites(db);
  }

  /** How many sources are kept, over every shape (memory bound: maxKeptSources). */
  get keptSources(): number {
    let total = 0;
    for (const kept of this.kept.values()) total += kept.sources.size;
    return total;
  }

  /** See AlertStore.sourceActivity. */
  activity(domains: readonly number[], query: SourceActivityQuery): SourceActivity[] {
    const { from, to } = toWholeSeconds(query.range);
    const firstHour = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const endHour = Math.floor(to / HOUR_MS) * HOUR_MS;
    const edges = new Map<string, Activity>();
    if (endHour <= firstHour) {
      this.countRaw(edges, domains, query, from, to);
      return answer(undefined, edges, query);
    }
    const kept = this.hours(domains, query, firstHour, endHour);
    this.countRaw(edges, domains, query, from, firstHour);
    this.countRaw(edges, domains, query, endHour, to);
    return answer(kept, edges, query);
  }

  /** Counts an alert committed into an hour some kept answer has already counted. */
  addLate(doc: AlertDocument): void {
    const received = parseUtc(doc.recievedTime);
    const domain = doc.clientDomain ? 1 : 0;
    const v6 = doc.sourceEntryIp.includes(':');
    for (const kept of this.kept.values()) {
      if (received < kept.firstHour || received >= kept.endHour || !kept.domains.includes(domain)) continue;
      if (kept.peerTypes !== undefined && !kept.peerTypes.has(doc.peerType)) continue;
      if (kept.family !== undefined && v6 !== (kept.family === 6)) continue;
      kept.ranked = undefined;
      addRow(kept.sources, detachedString(doc.sourceEntryIp), 1, doc.recievedTime, doc.recievedTime,
        detachedString(doc.peerType), detachedString(doc.peerIdent));
    }
  }

  /** Drops everything kept (retention deleted alerts, another process wrote). */
  forget(): void {
    this.kept.clear();
    this.horizon = '';
  }

  /** The kept whole hours of this question's shape, counted afresh when the hours moved. */
  private hours(domains: readonly number[], query: SourceActivityQuery, firstHour: number, endHour: number): KeptHours {
    if (this.foreignWrites.sinceLastAsked()) this.forget();
    const key = `${domains.join(',')}|${query.peerTypes.join(',')}|${query.family ?? ''}|${endHour - firstHour}`;
    let kept = this.kept.get(key);
    if (kept === undefined || kept.firstHour !== firstHour || kept.endHour !== endHour) {
      if (kept === undefined && this.kept.size >= MAX_KEPT) this.forget();
      this.kept.delete(key);
      kept = {
        domains: [...domains], peerTypes: query.peerTypes.length === 0 ? undefined : new Set(query.peerTypes), family: query.family,
        firstHour, endHour, sources: this.countHours(domains, query, firstHour, endHour), ranked: undefined,
      };
      if (kept.sources.size > this.maxKeptSources) return kept;
      if (this.keptSources + kept.sources.size > this.maxKeptSources) this.forget();
      this.kept.set(key, kept);
      const horizon = formatUtc(Math.max(...[...this.kept.values()].map((k) => k.endHour)));
      if (horizon > this.horizon) this.horizon = horizon;
    }
    return kept;
  }

  /** `AND` conditions for the question's classes and family, on the given columns. */
  private static filter(query: SourceActivityQuery, typeColumn: string, sourceColumn: string): string {
    return (query.peerTypes.length === 0 ? '' : ` AND ${typeColumn} IN (${query.peerTypes.map(() => '?').join(',')})`) +
      (query.family === undefined ? '' : ` AND instr(${sourceColumn}, ':') ${query.family === 6 ? '>' : '='} 0`);
  }

  /**
   * One grouped pass over the hours' alerts: SQLite groups per source (classes and sensors
   * joined into one text each), cheaper than a JS object per alert (bench/query feed-probe).
   */
  private countHours(domains: readonly number[], query: SourceActivityQuery, firstHour: number, endHour: number): Map<string, Activity> {
    const sources = new Map<string, Activity>();
    const rows = this.statement(
      `SELECT "sourceEntryIp", count(*), min("recievedTime"), max("recievedTime"), group_concat(DISTINCT "peerType"),
         group_concat(DISTINCT ${ESCAPED_IDENT})
       FROM alerts WHERE "clientDomain" IN (${domains.join(',')}) AND "recievedTime" >= ? AND "recievedTime" < ?${FeedHours.filter(query, '"peerType"', '"sourceEntryIp"')}
       GROUP BY 1`,
    ).raw().iterate(formatUtc(firstHour), formatUtc(endHour), ...query.peerTypes) as IterableIterator<[string, number, string, string, string, string]>;
    for (const [address, count, first, last, types, sensors] of rows) {
      sources.set(address, { count, first, last, types: split(types, false), sensors: split(sensors, true) });
    }
    return sources;
  }

  /** Adds the raw alerts received in [start, end) to `sources`. */
  private countRaw(sources: Map<string, Activity>, domains: readonly number[], query: SourceActivityQuery, start: number, end: number): void {
    if (end <= start) return;
    const rows = this.statement(
      `SELECT "sourceEntryIp", "peerType", "peerIdent", count(*), min("recievedTime"), max("recievedTime") FROM alerts
       WHERE "clientDomain" IN (${domains.join(',')}) AND "recievedTime" >= ? AND "recievedTime" < ?${FeedHours.filter(query, '"peerType"', '"sourceEntryIp"')}
       GROUP BY 1, 2, 3`,
    ).raw().iterate(formatUtc(start), formatUtc(end), ...query.peerTypes) as IterableIterator<[string, string, string, number, string, string]>;
    for (const [address, type, sensor, count, first, last] of rows) addRow(sources, address, count, first, last, type, sensor);
  }
}

/**
 * group_concat joins with commas and takes no other separator with DISTINCT: a sensor name
 * (peerIdent, sent by the sensor) has its commas and percent signs escaped first. Classes are
 * the fixed names of classify.ts, which hold no comma.
 */
const ESCAPED_IDENT = `replace(replace("peerIdent", '%', '%25'), ',', '%2C')`;

function split(joined: string, escaped: boolean): Values {
  const unescape = (text: string): string => (escaped && text.includes('%') ? text.replace(/%2C/g, ',').replace(/%25/g, '%') : text);
  if (!joined.includes(',')) return unescape(joined);
  return new Set(joined.split(',').map(unescape));
}

function toActivity(address: string, a: Activity): SourceActivity {
  return {
    address, count: a.count, firstSeen: a.first, lastSeen: a.last, sensors: sizeOf(a.sensors),
    peerTypes: typeof a.types === 'string' ? [a.types] : [...a.types].sort(),
  };
}

/** Most alerts first, equal counts by address: the order of every answer. */
const ranking = (a: SourceActivity, b: SourceActivity): number => b.count - a.count || byAddress(a.address, b.address);

/**
 * The kept hours plus the edges, filtered, in answer order. The kept sources are ranked once;
 * a question ranks only the sources the edges touch and merges the two lists.
 */
function answer(kept: KeptHours | undefined, edges: ReadonlyMap<string, Activity>, query: SourceActivityQuery): SourceActivity[] {
  const fresh: SourceActivity[] = [];
  edges.forEach((edge, address) => {
    const base = kept?.sources.get(address);
    if (base === undefined) {
      fresh.push(toActivity(address, edge));
      return;
    }
    fresh.push({
      address, count: base.count + edge.count,
      firstSeen: edge.first < base.first ? edge.first : base.first,
      lastSeen: edge.last > base.last ? edge.last : base.last,
      peerTypes: unionSorted(base.types, edge.types),
      sensors: unionSize(base.sensors, edge.sensors),
    });
  });
  fresh.sort(ranking);
  let ranked: readonly SourceActivity[] = [];
  if (kept !== undefined) {
    kept.ranked ??= [...kept.sources].map(([address, a]) => toActivity(address, a)).sort(ranking);
    ranked = kept.ranked;
  }
  const result: SourceActivity[] = [];
  const take = (entry: SourceActivity): void => {
    if (entry.sensors >= query.minSensors) result.push(entry);
  };
  let f = 0;
  for (const entry of ranked) {
    // Both lists go by count downwards: below min_count nothing more qualifies.
    if (entry.count < query.minAlerts) break;
    if (edges.has(entry.address)) continue;
    for (; f < fresh.length && ranking(fresh[f]!, entry) < 0; f++) if (fresh[f]!.count >= query.minAlerts) take(fresh[f]!);
    take(entry);
  }
  for (; f < fresh.length; f++) if (fresh[f]!.count >= query.minAlerts) take(fresh[f]!);
  return result;
}
