/**
 * The original PEBA's query shapes, written from its documented behaviour (CONTRACT sections
 * 5-8; no code of it copied): each question is one search over the daily indices its window
 * touches, named with date math (`<ews-{now/d-Nd}-*>`), answered by a terms aggregation (with a
 * date_histogram below it for the tops), a hit count, or the newest hits. Each entry also names
 * our endpoint that answers the same question (ci=-1: the original ignored the data domain in
 * several endpoints, so both sides count every alert) and how to tell the two answers agree.
 */

type Json = Record<string, unknown>;

interface SearchAnswer {
  hits: { total: { value: number }; hits: Array<{ _source: Json }> };
  aggregations?: Record<string, { buckets: Array<{ key: string | number; key_as_string?: string; doc_count: number } & Json> }>;
}

export interface OriginalQuery {
  readonly label: string;
  readonly ours: { readonly method: 'GET' | 'POST'; readonly path: (hotSource: string) => string };
  /** The index expression, URL-encoded. */
  readonly indices: () => string;
  readonly body: () => Json;
  readonly same: (ours: string, original: unknown) => { same: boolean; detail: string };
}

/** The daily indices of today and the `days - 1` days before it, as the original names them. */
function lastDays(days: number): string {
  return Array.from({ length: days }, (_, k) => encodeURIComponent(`<ews-{now/d${k === 0 ? '' : `-${k}d`}}-*>`)).join(',');
}

const buckets = (answer: unknown, name: string): Array<{ key: string | number; key_as_string?: string; doc_count: number } & Json> =>
  (answer as SearchAnswer).aggregations?.[name]?.buckets ?? [];

/**
 * Every original bucket has our count for its key, and both list as many keys. Two differences
 * are the original's, not ours, and are named instead of failing: a terms aggregation over
 * several daily indices (shards) may undercount a key by up to its `doc_count_error_upper_bound`,
 * and keys tied at the last place may be cut differently.
 */
function sameCounts(ours: Map<string, number>, original: ReadonlyArray<{ key: string | number; doc_count: number }>, errorBound = 0): { same: boolean; detail: string } {
  const lowest = Math.min(...ours.values());
  let approximate = 0;
  let tied = 0;
  for (const b of original) {
    const mine = ours.get(String(b.key));
    if (mine === b.doc_count) continue;
    if (mine !== undefined && mine > b.doc_count && mine - b.doc_count <= errorBound) approximate++;
    else if (mine === undefined && b.doc_count <= lowest) tied++;
    else return { same: false, detail: `key ${b.key}: ours ${mine}, original ${b.doc_count} (of ${original.length} keys)` };
  }
  if (ours.size !== original.length) return { same: false, detail: `ours lists ${ours.size} keys, original ${original.length}` };
  const notes = [approximate > 0 ? `${approximate} undercounted by the original within its error bound ${errorBound}` : '', tied > 0 ? `${tied} cut differently at a tie` : ''].filter((n) => n !== '');
  return { same: true, detail: `${original.length} keys${notes.length > 0 ? `; ${notes.join('; ')}` : ''}` };
}

/** The original's own bound on a terms aggregation's undercount. */
const errorBoundOf = (answer: unknown, name: string): number =>
  Number((answer as { aggregations?: Record<string, { doc_count_error_upper_bound?: number }> }).aggregations?.[name]?.doc_count_error_upper_bound ?? 0);

function tops(label: string, type: 'urls' | 'destports', days: 7 | 28, field: string, interval: Json, filter: Json[]): OriginalQuery {
  return {
    label,
    ours: { method: 'GET', path: () => `/alert/tops?type=${type}&topx=10&days=${days}&ci=-1` },
    indices: () => lastDays(days),
    body: () => ({
      size: 0,
      query: { bool: { filter: [...filter, { range: { recievedTime: { gte: `now/d-${days - 1}d` } } }] } },
      aggs: { keys: { terms: { field, size: 10 }, aggs: { timeline: { date_histogram: { field: 'recievedTime', ...interval } } } } },
    }),
    same: (oursText, original) => {
      const ours = JSON.parse(oursText) as Record<string, Record<string, number>>;
      const keys = buckets(original, 'keys');
      const bound = errorBoundOf(original, 'keys');
      const totals = sameCounts(new Map(Object.entries(ours).map(([k, v]) => [k, v['total']!])), keys, bound);
      if (!totals.same) return totals;
      for (const key of keys) {
        for (const b of (key['timeline'] as { buckets: Array<{ key_as_string: string; doc_count: number }> }).buckets) {
          const mine = ours[String(key.key)]?.[b.key_as_string];
          // A key the original cut at a tie has no timeline of ours; an undercounted one may differ per bucket.
          if (mine === undefined && ours[String(key.key)] === undefined) continue;
          if (b.doc_count > 0 && mine !== b.doc_count && !(bound > 0 && mine !== undefined && mine > b.doc_count)) {
            return { same: false, detail: `${key.key} at ${b.key_as_string}: ours ${ours[String(key.key)]![b.key_as_string]}, original ${b.doc_count}` };
          }
        }
      }
      return { same: true, detail: `${totals.detail}, with their timelines` };
    },
  };
}

/** `<DateCreated>` of each alert of an XML alert list. */
const datesCreated = (xml: string): string[] => [...xml.matchAll(/<DateCreated>([^<]*)<\/DateCreated>/g)].map((m) => m[1]!);

function newest(label: string, path: (hot: string) => string, indices: () => string, field: string, filter: (hot: string) => Json[], hot: () => string): OriginalQuery {
  return {
    label,
    ours: { method: 'POST', path },
    indices,
    body: () => ({ size: 5, sort: [{ [field]: 'desc' }], query: { bool: { filter: filter(hot()) } } }),
    same: (oursText, original) => {
      const theirs = (original as SearchAnswer).hits.hits.map((h) => String(h._source[field]));
      const ours = datesCreated(oursText);
      return JSON.stringify(ours) === JSON.stringify(theirs)
        ? { same: true, detail: `${ours.length} alerts, same times` }
        : { same: false, detail: `ours ${ours.join('|')}, original ${theirs.join('|')}` };
    },
  };
}

let hotSource = '';
/** The source querySingleIP asks for; set by the caller before the run. */
export function setHotSource(ip: string): void {
  hotSource = ip;
}

export const ORIGINAL_QUERIES: readonly OriginalQuery[] = [
  {
    label: 'alert count today',
    ours: { method: 'GET', path: () => '/alert/retrieveAlertsCount?time=day&out=json&ci=-1' },
    indices: () => lastDays(1),
    body: () => ({ size: 0, track_total_hits: true, query: { range: { recievedTime: { gte: 'now/d' } } } }),
    same: (oursText, original) => {
      const ours = (JSON.parse(oursText) as { AlertCount: number }).AlertCount;
      const theirs = (original as SearchAnswer).hits.total.value;
      return { same: ours === theirs, detail: `ours ${ours}, original ${theirs}` };
    },
  },
  {
    label: 'alert count per type today',
    ours: { method: 'GET', path: () => '/alert/retrieveAlertsCountWithType?time=day&ci=-1' },
    indices: () => lastDays(1),
    body: () => ({
      size: 0, track_total_hits: true, query: { range: { recievedTime: { gte: 'now/d' } } },
      aggs: { types: { terms: { field: 'peerType', size: 10 } } },
    }),
    same: (oursText, original) => {
      const ours = JSON.parse(oursText) as { AlertCountTotal: number; AlertCountPerType: Record<string, number> };
      if (ours.AlertCountTotal !== (original as SearchAnswer).hits.total.value) return { same: false, detail: 'totals differ' };
      // The original listed the 10 largest types only (CONTRACT: we list all): compare those.
      const theirs = buckets(original, 'types');
      const wrong = theirs.filter((b) => ours.AlertCountPerType[String(b.key)] !== b.doc_count);
      return wrong.length === 0
        ? { same: true, detail: `total and the original's ${theirs.length} types (we list ${Object.keys(ours.AlertCountPerType).length})` }
        : { same: false, detail: `${String(wrong[0]!.key)}: ours ${ours.AlertCountPerType[String(wrong[0]!.key)]}, original ${wrong[0]!.doc_count}` };
    },
  },
  tops('tops destports 28 days', 'destports', 28, 'targetEntryPort', { calendar_interval: '1d' }, []),
  tops('tops urls 7 days', 'urls', 7, 'originalRequestString', { fixed_interval: '6h' }, [{ term: { peerType: 'Webpage' } }]),
  {
    label: 'source locations 24 h',
    ours: { method: 'GET', path: () => '/alert/retrieveLatLonAttacks?direction=src&topx=10&ci=-1' },
    indices: () => lastDays(2),
    body: () => ({
      size: 0, query: { range: { createTime: { gte: 'now-24h/s' } } },
      aggs: { locations: { terms: { field: 'location.keyword', size: 10 } } },
    }),
    same: (oursText, original) => {
      const ours = (JSON.parse(oursText) as Array<{ latLonAttacks: Array<{ lat: string; lng: string; count: number }> }>)[0]!.latLonAttacks;
      return sameCounts(new Map(ours.map((l) => [`${l.lat} , ${l.lng}`, l.count])), buckets(original, 'locations'));
    },
  },
  {
    label: 'top countries this month',
    ours: { method: 'GET', path: () => '/alert/topCountriesAttacks?topx=10&ci=-1' },
    indices: () => encodeURIComponent('<ews-{now/M{yyyy.MM}}*>'),
    body: () => ({
      size: 0, query: { range: { recievedTime: { gte: 'now/M' } } },
      aggs: { sources: { terms: { field: 'country', size: 10 } }, targets: { terms: { field: 'targetCountry', size: 10 } } },
    }),
    same: (oursText, original) => {
      const ours = (JSON.parse(oursText) as Array<{ attacksPerCountry: Array<{ code: string; count: number }>; attacksToTargetCountry: Array<{ code: string; count: number }> }>)[0]!;
      const sources = sameCounts(new Map(ours.attacksPerCountry.map((c) => [c.code, c.count])), buckets(original, 'sources'));
      const targets = sameCounts(new Map(ours.attacksToTargetCountry.map((c) => [c.code, c.count])), buckets(original, 'targets'));
      return { same: sources.same && targets.same, detail: `sources: ${sources.detail}; targets: ${targets.detail}` };
    },
  },
  {
    label: 'alerts per day, a month',
    ours: { method: 'GET', path: () => '/alert/datasetAlertsPerMonth?ci=-1' },
    indices: () => lastDays(33),
    body: () => ({
      size: 0, query: { range: { createTime: { gte: 'now-1M/d' } } },
      aggs: { days: { date_histogram: { field: 'createTime', calendar_interval: '1d' } } },
    }),
    same: (oursText, original) => {
      const ours = (JSON.parse(oursText) as Array<{ datasetAlertsPerMonth: Record<string, number> }>)[0]!.datasetAlertsPerMonth;
      const days = buckets(original, 'days').map((b) => ({ key: b.key_as_string!, doc_count: b.doc_count }));
      return sameCounts(new Map(Object.entries(ours).filter(([, n]) => n > 0)), days.filter((d) => d.doc_count > 0));
    },
  },
  {
    label: 'bad IPs 120 min',
    ours: { method: 'POST', path: () => '/alert/retrieveIPs?out=json&ci=-1' },
    indices: () => lastDays(2),
    body: () => ({ size: 0, query: { range: { recievedTime: { gte: 'now-120m/s' } } }, aggs: { sources: { terms: { field: 'sourceEntryIp', size: 10_000 } } } }),
    same: (oursText, original) => sameCounts(new Map((JSON.parse(oursText) as Array<{ ip: string; count: number }>).map((s) => [s.ip, s.count])), buckets(original, 'sources')),
  },
  newest('newest alerts', () => '/alert/retrieveAlertsCyber?ci=-1', () => lastDays(2), 'recievedTime', () => [], () => hotSource),
  newest('alerts of the hottest source', (hot) => `/alert/querySingleIP?ip=${encodeURIComponent(hot)}&ci=-1`, () => encodeURIComponent('ews-*'), 'createTime',
    (hot) => [{ term: { sourceEntryIp: hot } }], () => hotSource),
];
