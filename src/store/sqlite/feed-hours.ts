/**
 * The firewall feeds' source activity (sourceActivity) on SQLite over windows of up to 7 days:
 * a window's whole hours are kept counted per source (src/store/kept-hours.ts), so a question
 * reads only the partial hours at its two edges from the raw alerts; when the window moves on,
 * only the hour that came in is counted. Hours are counted one at a time, yielding to the event
 * loop between them, so even the first question of a week never holds up ingest for long.
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
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type { AlertDocument } from '../../domain/alert';
import type { SourceActivity, SourceActivityQuery } from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
import { detachedString } from '../../util/detached-string';
import { HOUR, KeptHours, MAX_KEPT_ROWS } from '../kept-hours';
import { toWholeSeconds } from '../range-split';
import { type ActivityBySource, addActivity, alertActivity, answerActivity, countsFor, type Values } from '../source-activity';
import { ForeignWrites } from './foreign-writes';

/** What a kept window counts: the domains, classes and family of its questions. */
interface Shape {
  readonly domains: readonly number[];
  readonly query: SourceActivityQuery;
}

export class FeedHours {
  private readonly kept: KeptHours<Shape>;
  private readonly foreignWrites: ForeignWrites;
  private horizon = '';

  /** An alert received before this (text, comparable as stored) may belong to a kept hour. */
  get horizonText(): string {
    return this.horizon;
  }

  /** `statement` prepares SQL once per text: the query layer's cache. */
  constructor(db: Database.Database, private readonly statement: (sql: string) => Database.Statement, maxKeptRows = MAX_KEPT_ROWS) {
    this.foreignWrites = new ForeignWrites(db);
    this.kept = new KeptHours<Shape>((shape, from, to, deliver) => this.countHours(shape, from, to, deliver), maxKeptRows);
  }

  /** Kept entries (hour rows and sources) over every window (memory bound: maxKeptRows). */
  get keptSize(): number {
    return this.kept.size;
  }

  /** See AlertStore.sourceActivity. */
  async activity(domains: readonly number[], query: SourceActivityQuery): Promise<SourceActivity[]> {
    const { from, to } = toWholeSeconds(query.range);
    const firstHour = Math.ceil(from / HOUR) * HOUR;
    const endHour = Math.floor(to / HOUR) * HOUR;
    const edges: ActivityBySource = new Map();
    if (endHour <= firstHour) {
      this.countRaw(edges, domains, query, from, to);
      return answerActivity(undefined, edges, query);
    }
    if (this.foreignWrites.sinceLastAsked()) this.forget();
    // Alerts committed from now on into the window's hours are reported to addLate.
    const horizon = formatUtc(endHour);
    if (horizon > this.horizon) this.horizon = horizon;
    const key = `${domains.join(',')}|${query.peerTypes.join(',')}|${query.family ?? ''}|${endHour - firstHour}`;
    return this.kept.withWindow(key, { domains: [...domains], query }, firstHour, endHour, (counted) => {
      // In the same turn as the window was brought up to date: nothing committed in between.
      this.countRaw(edges, domains, query, from, firstHour);
      this.countRaw(edges, domains, query, endHour, to);
      return answerActivity(counted, edges, query);
    });
  }

  /** Counts an alert committed into an hour some kept window may have counted already. */
  addLate(doc: AlertDocument): void {
    const received = parseUtc(doc.recievedTime);
    const domain = doc.clientDomain ? 1 : 0;
    this.kept.addLate(Math.floor(received / HOUR) * HOUR, ({ domains, query }) => domains.includes(domain) && countsFor(doc, query),
      detachedString(doc.sourceEntryIp), alertActivity(doc));
  }

  /** Drops everything kept (retention deleted alerts, another process wrote). */
  forget(): void {
    this.kept.forget();
    this.horizon = '';
  }

  /** `AND` conditions for the question's classes and family, on the given columns. */
  private static filter(query: SourceActivityQuery, typeColumn: string, sourceColumn: string): string {
    return (query.peerTypes.length === 0 ? '' : ` AND ${typeColumn} IN (${query.peerTypes.map(() => '?').join(',')})`) +
      (query.family === undefined ? '' : ` AND instr(${sourceColumn}, ':') ${query.family === 6 ? '>' : '='} 0`);
  }

  /**
   * A grouped pass per hour: SQLite groups per source (classes and sensors joined into one text
   * each), cheaper than a JS object per alert (bench/query feed-probe). Between hours the event
   * loop runs (ingest, other questions); an alert committed into a delivered hour reaches addLate.
   */
  private async countHours({ domains, query }: Shape, from: number, to: number, deliver: (hour: number, sources: ActivityBySource) => void): Promise<void> {
    const select = this.statement(
      `SELECT "sourceEntryIp", count(*), min("recievedTime"), max("recievedTime"), group_concat(DISTINCT "peerType"),
         group_concat(DISTINCT ${ESCAPED_IDENT})
       FROM alerts WHERE "clientDomain" IN (${domains.join(',')}) AND "recievedTime" >= ? AND "recievedTime" < ?${FeedHours.filter(query, '"peerType"', '"sourceEntryIp"')}
       GROUP BY 1`,
    ).raw();
    const values = new Map<string, string>();
    const intern = (value: string): string => values.get(value) ?? (values.set(value, value), value);
    for (let hour = from; hour < to; hour += HOUR) {
      if (hour > from) await nextTurn();
      const sources: ActivityBySource = new Map();
      const rows = select.iterate(formatUtc(hour), formatUtc(hour + HOUR), ...query.peerTypes) as IterableIterator<[string, number, string, string, string, string]>;
      for (const [address, count, first, last, types, sensors] of rows) {
        sources.set(address, { count, first, last, types: split(types, false, intern), sensors: split(sensors, true, intern) });
      }
      deliver(hour, sources);
    }
  }

  /** Adds the raw alerts received in [start, end) to `sources`. */
  private countRaw(sources: ActivityBySource, domains: readonly number[], query: SourceActivityQuery, start: number, end: number): void {
    if (end <= start) return;
    const rows = this.statement(
      `SELECT "sourceEntryIp", "peerType", "peerIdent", count(*), min("recievedTime"), max("recievedTime") FROM alerts
       WHERE "clientDomain" IN (${domains.join(',')}) AND "recievedTime" >= ? AND "recievedTime" < ?${FeedHours.filter(query, '"peerType"', '"sourceEntryIp"')}
       GROUP BY 1, 2, 3`,
    ).raw().iterate(formatUtc(start), formatUtc(end), ...query.peerTypes) as IterableIterator<[string, string, string, number, string, string]>;
    for (const [address, types, sensors, count, first, last] of rows) addActivity(sources, address, { count, first, last, types, sensors });
  }
}

/**
 * group_concat joins with commas and takes no other separator with DISTINCT: a sensor name
 * (peerIdent, sent by the sensor) has its commas and percent signs escaped first. Classes are
 * the fixed names of classify.ts, which hold no comma.
 */
const ESCAPED_IDENT = `replace(replace("peerIdent", '%', '%25'), ',', '%2C')`;

/** Classes and sensors repeat over hours: one string each (`intern`) instead of one per hour row. */
function split(joined: string, escaped: boolean, intern: (value: string) => string): Values {
  const unescape = (text: string): string => intern(escaped && text.includes('%') ? text.replace(/%2C/g, ',').replace(/%25/g, '%') : text);
  if (!joined.includes(',')) return unescape(joined);
  return new Set(joined.split(',').map(unescape));
}
