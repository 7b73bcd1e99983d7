/**
 * The sources of the bad-IP lists (retrieveIPs): a window that ends now and moves with the
 * clock. The source counts of its whole minutes are kept between questions and moved along,
 * the minutes that left subtracted and those that entered added, instead of being counted again
 * from every alert of the window (some 20,000 at 10 million alerts a month; bench/query). Only
 * the partial minutes at the two edges are counted afresh.
 *
 * Kept counts stay exact because the alerts of a past minute change only when
 * - an alert is committed after its minute was closed here (stamped just before a minute ends
 *   and committed just after, or imported): the store hands every alert it inserts with a
 *   received time before `horizonText` to `addLate`, after the commit;
 * - retention deletes alerts: the store calls `forgetBefore`;
 * - another connection commits (`peba import` in another process, say): PRAGMA data_version
 *   changes, and everything kept is dropped.
 */
import type Database from 'better-sqlite3';
import type { AlertDocument } from '../../domain/alert';
import type { KeyCount, TimeRange } from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
import { detachedString } from '../../util/detached-string';
import { HOUR_MS, MINUTE_MS, toWholeSeconds } from '../range-split';
import { ForeignWrites } from './foreign-writes';

/** Counts of the whole minutes [from, to) of alerts received in `domains`. */
interface KeptWindow {
  readonly domains: readonly number[];
  from: number;
  to: number;
  readonly counts: Map<string, number>;
}

/** Distinct window shapes are few (two spans, three scopes); more means a caller asks oddly. */
const MAX_WINDOWS = 16;

export class SourceWindows {
  private readonly windows = new Map<string, KeptWindow>();
  private readonly foreignWrites: ForeignWrites;
  private horizon = '';

  /** An alert received before this (text, comparable as stored) may belong to a kept minute. */
  get horizonText(): string {
    return this.horizon;
  }

  /** `statement` prepares SQL once per text: the query layer's cache. */
  constructor(db: Database.Database, private readonly statement: (sql: string) => Database.Statement) {
    this.foreignWrites = new ForeignWrites(db);
  }

  /**
   * The sources of the alerts received in `domains` during `exactRange` with their counts, most
   * first; ties in no particular order (sorting thousands of sources seen once or twice by text
   * cost more than the counting).
   */
  ranked(domains: readonly number[], exactRange: TimeRange): KeyCount[] {
    const range = toWholeSeconds(exactRange);
    const first = Math.ceil(range.from / MINUTE_MS) * MINUTE_MS;
    const end = Math.floor(range.to / MINUTE_MS) * MINUTE_MS;
    const edges = new Map<string, number>();
    if (end - first < MINUTE_MS) {
      this.countInto(edges, domains, range.from, range.to, 1);
      return rankedSum(edges, new Map());
    }
    const kept = this.moved(domains, range.to - range.from, first, end);
    this.countInto(edges, domains, range.from, first, 1);
    this.countInto(edges, domains, end, range.to, 1);
    return rankedSum(kept.counts, edges);
  }

  /** Counts an alert committed into a minute some kept window has already counted. */
  addLate(doc: AlertDocument): void {
    const received = parseUtc(doc.recievedTime);
    const domain = doc.clientDomain ? 1 : 0;
    for (const kept of this.windows.values()) {
      if (received >= kept.from && received < kept.to && kept.domains.includes(domain)) {
        kept.counts.set(detachedString(doc.sourceEntryIp), (kept.counts.get(doc.sourceEntryIp) ?? 0) + 1);
      }
    }
  }

  /** Drops the windows that may hold alerts received before `time` (deleted by retention). */
  forgetBefore(time: number): void {
    for (const [key, kept] of this.windows) if (kept.from < time) this.windows.delete(key);
    this.updateHorizon();
  }

  /** The kept window of this shape moved to [first, end), or a new one if moving costs more. */
  private moved(domains: readonly number[], span: number, first: number, end: number): KeptWindow {
    if (this.foreignWrites.sinceLastAsked()) this.windows.clear();
    const key = `${domains.join(',')}/${span}`;
    let kept = this.windows.get(key);
    const movable = kept !== undefined && first >= kept.from && end >= kept.to &&
      (first - kept.from) + (end - kept.to) < end - first;
    if (kept && movable) {
      this.countInto(kept.counts, domains, kept.from, first, -1);
      this.countInto(kept.counts, domains, kept.to, end, 1);
      kept.from = first;
      kept.to = end;
    } else {
      if (!kept && this.windows.size >= MAX_WINDOWS) this.windows.clear();
      kept = { domains: [...domains], from: first, to: end, counts: new Map() };
      this.countInto(kept.counts, domains, first, end, 1);
      this.windows.set(key, kept);
    }
    this.updateHorizon();
    return kept;
  }

  private updateHorizon(): void {
    let horizon = Number.NEGATIVE_INFINITY;
    for (const kept of this.windows.values()) horizon = Math.max(horizon, kept.to);
    this.horizon = horizon === Number.NEGATIVE_INFINITY ? '' : formatUtc(horizon);
  }

  /**
   * Adds (sign 1) or takes away (-1) the sources received in [from, to). SQLite concatenates
   * them per hour: one string per hour costs less than a JS string per alert, and SQLite's
   * GROUP BY temp tree more than counting here (bench/query).
   */
  private countInto(counts: Map<string, number>, domains: readonly number[], from: number, to: number, sign: 1 | -1): void {
    const statement = this.statement(
      `SELECT group_concat("sourceEntryIp", char(0)) FROM alerts WHERE "clientDomain" IN (${domains.join(',')})
       AND "recievedTime" >= ? AND "recievedTime" < ?`,
    ).pluck();
    for (let start = from; start < to; start += HOUR_MS) {
      const joined = statement.get(formatUtc(start), formatUtc(Math.min(start + HOUR_MS, to))) as string | null;
      if (joined === null) continue;
      for (const source of joined.split('\u0000')) {
        const known = counts.get(source);
        if (known === undefined) counts.set(detachedString(source), sign);
        else if (known + sign === 0) counts.delete(source);
        else counts.set(source, known + sign);
      }
    }
  }
}

/** The counts of `base` plus `extra`, each key once, grouped by count rather than sorted. */
function rankedSum(base: ReadonlyMap<string, number>, extra: ReadonlyMap<string, number>): KeyCount[] {
  const byCount = new Map<number, KeyCount[]>();
  const put = (count: number, key: string): void => {
    const group = byCount.get(count);
    if (group) group.push({ key, count });
    else byCount.set(count, [{ key, count }]);
  };
  // forEach rather than for-of: no [key, value] array per entry, and there are thousands.
  base.forEach((count, key) => put(count + (extra.get(key) ?? 0), key));
  extra.forEach((count, key) => {
    if (!base.has(key)) put(count, key);
  });
  const ranked: KeyCount[] = [];
  for (const count of [...byCount.keys()].sort((a, b) => b - a)) {
    for (const entry of byCount.get(count)!) ranked.push(entry);
  }
  return ranked;
}
