/**
 * The firewall feeds' per-source merge, shared by every store: rows of activity (per source, its
 * count, first and last reception, classes and sensors, from an hour, a day index or the raw
 * alerts at a window's edges) are added up per source, and a window's sources are ranked,
 * filtered and answered the same way whichever store counted them.
 */
import type { AlertDocument } from '../domain/alert';
import type { SourceActivity, SourceActivityQuery } from '../domain/query';
import { detachedString } from '../util/detached-string';

/** Classes or sensors: one value as a string (most sources have one), several as a set. */
export type Values = string | Set<string>;

/** One source's totals; first and last as stored (`YYYY-MM-DD HH:MM:SS`, comparable as text). */
export interface Activity {
  count: number;
  first: string;
  last: string;
  types: Values;
  sensors: Values;
}

/** Per source address, its activity. */
export type ActivityBySource = Map<string, Activity>;

/** No class or sensor (a document without the field). */
export const NO_VALUES: Values = new Set<string>();

const sizeOf = (values: Values): number => (typeof values === 'string' ? 1 : values.size);
const has = (values: Values, value: string): boolean => (typeof values === 'string' ? values === value : values.has(value));
const copyOf = (values: Values): Values => (typeof values === 'string' ? values : new Set(values));
/** `values` with `value` added: the same set (mutated) or a new one. */
const withValue = (values: Values, value: string): Values => {
  if (typeof values !== 'string') return values.add(value);
  return values === value ? values : new Set([values, value]);
};
export const eachValue = (values: Values, visit: (value: string) => void): void => {
  if (typeof values === 'string') visit(values);
  else values.forEach((v) => visit(v));
};
/** How many distinct values `a` and `b` hold together, without building their union. */
const unionSize = (a: Values, b: Values): number => {
  let size = sizeOf(a);
  eachValue(b, (v) => {
    if (!has(a, v)) size++;
  });
  return size;
};
const unionSorted = (a: Values, b: Values): string[] => {
  const all = new Set<string>();
  eachValue(a, (v) => all.add(v));
  eachValue(b, (v) => all.add(v));
  return [...all].sort();
};

/** Whether an alert counts for a question's classes and family (its scope is the store's to check). */
export function countsFor(doc: Pick<AlertDocument, 'peerType' | 'sourceEntryIp'>, query: Omit<SourceActivityQuery, 'range'>): boolean {
  return (query.peerTypes.length === 0 || query.peerTypes.includes(doc.peerType)) &&
    (query.family === undefined || doc.sourceEntryIp.includes(':') === (query.family === 6));
}

/** One alert as a row of activity, its texts detached from whatever larger text they came in. */
export function alertActivity(doc: Pick<AlertDocument, 'recievedTime' | 'peerType' | 'peerIdent'>): Activity {
  return { count: 1, first: doc.recievedTime, last: doc.recievedTime, types: detachedString(doc.peerType), sensors: detachedString(doc.peerIdent) };
}

/** Adds one row (a source's activity somewhere) to `sources`; the row's sets are copied, never shared. */
export function addActivity(sources: ActivityBySource, address: string, row: Readonly<Activity>): void {
  const known = sources.get(address);
  if (known === undefined) {
    sources.set(address, { count: row.count, first: row.first, last: row.last, types: copyOf(row.types), sensors: copyOf(row.sensors) });
    return;
  }
  known.count += row.count;
  if (row.first < known.first) known.first = row.first;
  if (row.last > known.last) known.last = row.last;
  eachValue(row.types, (t) => { known.types = withValue(known.types, t); });
  eachValue(row.sensors, (v) => { known.sensors = withValue(known.sensors, v); });
}

export function toSourceActivity(address: string, a: Readonly<Activity>): SourceActivity {
  return {
    address, count: a.count, firstSeen: a.first, lastSeen: a.last, sensors: sizeOf(a.sensors),
    peerTypes: typeof a.types === 'string' ? [a.types] : [...a.types].sort(),
  };
}

const byAddress = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Most alerts first, equal counts by address: the order of every answer. */
export const ranking = (a: SourceActivity, b: SourceActivity): number => b.count - a.count || byAddress(a.address, b.address);

/**
 * `ranked` (in answer order) without the entries of `replaced`, merged with `fresh` (in answer
 * order): one linear pass, so a few changed sources cost no sort of the whole list.
 */
export function mergeRanked(ranked: readonly SourceActivity[], replaced: ReadonlySet<string>, fresh: readonly SourceActivity[],
  keep: (entry: SourceActivity) => boolean = () => true, stopBelow = 0): SourceActivity[] {
  const result: SourceActivity[] = [];
  let f = 0;
  for (const entry of ranked) {
    // Both lists go by count downwards: below stopBelow nothing more qualifies.
    if (entry.count < stopBelow) break;
    if (replaced.has(entry.address)) continue;
    for (; f < fresh.length && ranking(fresh[f]!, entry) < 0; f++) if (fresh[f]!.count >= stopBelow && keep(fresh[f]!)) result.push(fresh[f]!);
    if (keep(entry)) result.push(entry);
  }
  for (; f < fresh.length; f++) if (fresh[f]!.count >= stopBelow && keep(fresh[f]!)) result.push(fresh[f]!);
  return result;
}

/** What a window's counted part offers an answer: its sources, the same in answer order, and where each stands in it. */
export interface CountedSources {
  get(address: string): Readonly<Activity> | undefined;
  ranked(): readonly SourceActivity[];
  /** The index of the source in ranked(), undefined when it is not counted. */
  positionOf(address: string): number | undefined;
}

/** The first index of `ranked` whose entry ranks after `entry` (binary search). */
function insertionPoint(ranked: readonly SourceActivity[], entry: SourceActivity): number {
  let low = 0;
  let high = ranked.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ranking(ranked[middle]!, entry) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * The counted part of a window plus its edges (counted per question), filtered, in answer order:
 * only the sources the edges touch are ranked here and merged into the counted ranked list.
 * The same as mergeRanked(counted.ranked(), edge sources, fresh, ...), but the counted entries
 * the edges replace are found by position and where each fresh one goes by binary search, so
 * the pass over the counted list compares numbers only: a 7-day list of 75,000 sources took
 * 15-20 ms with a set lookup per entry (bench/README.md, "Firewall feeds: where the 7-day
 * list's time went"); test/source-activity.test.ts checks both give the same answer.
 */
export function answerActivity(counted: CountedSources | undefined, edges: ReadonlyMap<string, Activity>, query: SourceActivityQuery): SourceActivity[] {
  const fresh: SourceActivity[] = [];
  const replaced: number[] = [];
  edges.forEach((edge, address) => {
    const base = counted?.get(address);
    if (base === undefined) {
      fresh.push(toSourceActivity(address, edge));
      return;
    }
    replaced.push(counted!.positionOf(address)!);
    fresh.push({
      address, count: base.count + edge.count,
      firstSeen: edge.first < base.first ? edge.first : base.first,
      lastSeen: edge.last > base.last ? edge.last : base.last,
      sensors: unionSize(base.sensors, edge.sensors),
      peerTypes: unionSorted(base.types, edge.types),
    });
  });
  fresh.sort(ranking);
  replaced.sort((a, b) => a - b);
  const ranked = counted?.ranked() ?? [];
  const insertAt = fresh.map((entry) => insertionPoint(ranked, entry));
  const { minAlerts, minSensors } = query;
  const result: SourceActivity[] = [];
  let f = 0;
  let r = 0;
  for (let i = 0; i < ranked.length; i++) {
    const entry = ranked[i]!;
    // Both lists go by count downwards: below minAlerts nothing more qualifies.
    if (entry.count < minAlerts) break;
    for (; f < fresh.length && insertAt[f]! <= i; f++) if (fresh[f]!.count >= minAlerts && fresh[f]!.sensors >= minSensors) result.push(fresh[f]!);
    if (r < replaced.length && replaced[r] === i) {
      r++;
      continue;
    }
    if (entry.sensors >= minSensors) result.push(entry);
  }
  for (; f < fresh.length; f++) if (fresh[f]!.count >= minAlerts && fresh[f]!.sensors >= minSensors) result.push(fresh[f]!);
  return result;
}
