/** The public GET endpoints behind Sicherheitstacho (CONTRACT section 6). */
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config';
import { perTypeKey, totalKey } from '../../domain/activity';
import type { TimeRange, TopKind } from '../../domain/query';
import { formatUtc, parseUtc } from '../../domain/time';
// getStats accepts the seed's list of peerType names, which is every class of the table.
import { PEER_TYPES } from '../../enrich/classify';
import type { AlertStore } from '../../store/store';
import { DAY_MS, HOUR_MS } from '../../store/range-split';
import { getAnswer, jsonAnswer, textAnswer, xmlAnswer, type AnswerCaching, type Answerer } from '../cached-answers';
import { lastMinutes, oneMonthAgo, startOfUtcDay, today, utcMonth, windowEnd } from '../clock';
import { splitLocation, tickerEntry } from '../format/alert-views';
import { integerParam, param, scopeOf, wantsJson, type Query } from '../params';

export interface PublicRouteDependencies {
  readonly config: Config;
  readonly store: AlertStore;
  readonly caching: AnswerCaching;
}

/** Alerts in the ticker of retrieveAlertsJson. */
const TICKER_SIZE = 35;
const MAX_MINUTES = 10 * 366 * 24 * 60;
const MAX_TOPX = 1000;
/** Bucket sizes of `tops` per `days`. */
const TOPS_BUCKETS: ReadonlyMap<number, number> = new Map([[1, HOUR_MS], [7, 6 * HOUR_MS], [28, DAY_MS]]);
/** What Python's int() reads as a whole number (the original read `days` with it). */
const PYTHON_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;

const dayLabel = (time: number): string => `${formatUtc(time).slice(0, 10)} 00:00:00`;

/** `time=N` (minutes) or `time=day` (since 00:00 UTC); undefined when malformed. */
function timeWindow(query: Query, now: number): TimeRange | undefined {
  const time = param(query, 'time');
  if (time === 'day') return today(now);
  const minutes = integerParam(time, 1, MAX_MINUTES);
  return minutes === undefined ? undefined : lastMinutes(now, minutes);
}

export function registerPublicRoutes(app: FastifyInstance, { config, store, caching }: PublicRouteDependencies): void {
  const nope = textAnswer(config.DEFAULTRESPONSE);
  /** The endpoints whose answer is always JSON send it as a JSON string, as the original's jsonify did. */
  const jsonNope = jsonAnswer(config.DEFAULTRESPONSE);
  const get = (path: string, answerer: Answerer): void => getAnswer(app, path, answerer, caching);

  get('/alert/retrieveAlertsCount', async (query, now) => {
    const range = timeWindow(query, now);
    if (!range) return nope;
    const count = await store.countReceived(scopeOf(query), range);
    if (wantsJson(query)) return jsonAnswer({ AlertCount: count });
    return xmlAnswer({ name: 'EWSSimpleIPInfo', children: [{ name: 'AlertCount', text: count }] });
  });

  get('/alert/retrieveAlertsCountWithType', async (query, now) => {
    const range = timeWindow(query, now);
    if (!range) return nope;
    const perType = await store.countReceivedByPeerType(scopeOf(query), range);
    return jsonAnswer({
      AlertCountTotal: perType.reduce((n, t) => n + t.count, 0),
      AlertCountPerType: Object.fromEntries(perType.map(({ key, count }) => [key, count])),
    });
  });

  get('/alert/retrieveAlertStats', async (query, now) => {
    const scope = scopeOf(query);
    const [day, hour, five, minute] = await Promise.all([1440, 60, 5, 1].map((m) => store.countReceived(scope, lastMinutes(now, m))));
    return jsonAnswer({ AlertsLast24Hours: day, AlertsLastHour: hour, AlertsLast5Minutes: five, AlertsLastMinute: minute });
  });

  get('/alert/retrieveAlertsJson', async (query, now) => {
    const alerts = await store.newestReceived(scopeOf(query), TICKER_SIZE);
    return jsonAnswer({ alerts: alerts.map(tickerEntry) });
  });

  /** From X days ago (start of that day) or one month ago, up to the end of today. */
  function datasetRange(query: Query, now: number): TimeRange | undefined {
    const raw = param(query, 'days');
    const end = startOfUtcDay(now) + DAY_MS;
    if (raw === undefined) return { from: oneMonthAgo(now), to: end };
    const days = integerParam(raw, 0, 3660);
    return days === undefined ? undefined : { from: startOfUtcDay(now) - days * DAY_MS, to: end };
  }

  get('/alert/datasetAlertsPerMonth', async (query, now) => {
    const range = datasetRange(query, now);
    if (!range) return jsonNope;
    // Earliest first, one row per day with alerts (AlertStore.createdPerDay).
    const rows = await store.createdPerDay(scopeOf(query), range);
    const perDay = new Map(rows.map(({ day, count }) => [day, count]));
    const dataset: Record<string, number> = {};
    // Days without alerts between the first and the last with alerts count as 0.
    if (rows.length > 0) for (let day = rows[0]!.day; day <= rows[rows.length - 1]!.day; day += DAY_MS) dataset[dayLabel(day)] = perDay.get(day) ?? 0;
    return jsonAnswer([{ datasetAlertsPerMonth: dataset }]);
  });

  get('/alert/datasetAlertTypesPerMonth', async (query, now) => {
    const range = datasetRange(query, now);
    if (!range) return jsonNope;
    // Keys from the data (a peerType, a URL) may be `__proto__`: collected in Maps, turned into
    // objects by Object.fromEntries, which defines own properties whatever their names.
    const dataset = new Map<string, Map<string, number>>();
    for (const { day, peerType, count } of await store.createdPerDayAndType(scopeOf(query), range)) {
      const label = dayLabel(day);
      const perType = dataset.get(label) ?? new Map<string, number>();
      dataset.set(label, perType.set(peerType, count));
    }
    const datasetObject = Object.fromEntries([...dataset].map(([label, perType]) => [label, Object.fromEntries(perType)]));
    return jsonAnswer([{ datasetAlertsPerMonth: datasetObject }]);
  });

  get('/alert/topCountriesAttacks', async (query, now) => {
    const rawOffset = param(query, 'monthOffset') ?? param(query, 'offset');
    const offset = rawOffset === undefined ? 0 : integerParam(rawOffset, 0, 1200);
    const rawTopx = param(query, 'topx');
    const topx = rawTopx === undefined ? 10 : integerParam(rawTopx, 1, MAX_TOPX);
    if (offset === undefined || topx === undefined) return jsonNope;
    const month = utcMonth(now, offset);
    const scope = scopeOf(query);
    const { source: sources, target: targets } = await store.topCountriesReceived(scope, month, topx);
    const view = (rows: typeof sources): object[] => rows.map(({ code, name, count }) => ({ code, country: name, count }));
    // The current month is the number 0; earlier months echo the URL's string, as the original did.
    return jsonAnswer([{ id: offset === 0 ? 0 : rawOffset, date: month.label, attacksPerCountry: view(sources), attacksToTargetCountry: view(targets) }]);
  });

  get('/alert/retrieveLatLonAttacks', async (query, now) => {
    const direction = param(query, 'direction') ?? 'src';
    const rawTopx = param(query, 'topx');
    const topx = rawTopx === undefined ? 10 : integerParam(rawTopx, 1, MAX_TOPX);
    const rawOffset = param(query, 'offset');
    const offset = rawOffset === undefined ? 0 : integerParam(rawOffset, 0, 3660);
    if ((direction !== 'src' && direction !== 'dst') || topx === undefined || offset === undefined) return nope;
    const range = offset === 0 ? lastMinutes(now, 1440) : { from: startOfUtcDay(now) - offset * DAY_MS, to: startOfUtcDay(now) - (offset - 1) * DAY_MS };
    const rows = await store.topLocationsCreated(scopeOf(query), range, direction === 'src' ? 'source' : 'target', topx);
    return jsonAnswer([{
      // Today's date for the rolling 24 hours, as the original (not the date 24 h ago).
      statsSince: formatUtc(startOfUtcDay(now) - offset * DAY_MS).slice(0, 10),
      latLonAttacks: rows.map(({ key, count }) => {
        const [lat, lng] = splitLocation(key);
        return { lat, lng, count };
      }),
    }]);
  });

  get('/alert/TpotStats', async (query, now) => {
    const match = /^(\d{4})(\d{2})(\d{2})$/.exec(param(query, 'day') ?? '');
    const from = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : NaN;
    if (!match || formatUtc(from).slice(0, 10) !== `${match[1]}-${match[2]}-${match[3]}`) return nope;
    const summary = await store.activitySummary('community', { from, to: from + DAY_MS });
    const perType = [...summary.perType];
    return jsonAnswer({
      communityHoneypots: {
        totalNumberAlerts: summary.total.alerts,
        totalNumberHoneypots: summary.total.honeypots,
        totalNumberDaemons: summary.total.daemons,
        numberAlertsPerType: Object.fromEntries(perType.map(([type, t]) => [type, t.alerts])),
        numberHoneypotsPerType: Object.fromEntries(perType.map(([type, t]) => [type, t.honeypots])),
      },
      UTCtimeFrom: formatUtc(from),
      UTCtimeTo: formatUtc(from + DAY_MS - 1000),
    });
  });

  get('/alert/getStats', async (query, now) => {
    const gte = param(query, 'gte') ?? formatUtc(now - DAY_MS);
    const lt = param(query, 'lt') ?? formatUtc(now);
    const rawValues = param(query, 'values') ?? param(query, 'value') ?? '';
    const types = rawValues === '' ? [] : rawValues.split(',');
    const isTime = (t: string): boolean => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(t) && !Number.isNaN(parseUtc(t));
    if (!isTime(gte) || !isTime(lt) || !types.every((t) => PEER_TYPES.has(t))) return nope;
    const result: Record<string, Record<string, string | number>> = {};
    for (const snapshot of await store.listStatisticsSnapshots(gte, lt)) {
      const entry: Record<string, string | number> = {
        UTCtimeFrom: snapshot.from,
        UTCtimeTo: snapshot.to,
        [totalKey('ratio')]: snapshot.values[totalKey('ratio')] ?? 0,
      };
      for (const type of types) entry[perTypeKey('ratio', type)] = snapshot.values[perTypeKey('ratio', type)] ?? 0;
      result[snapshot.from] = entry;
    }
    // No snapshot in the range: DEFAULTRESPONSE, as the original (not `{}`).
    return Object.keys(result).length === 0 ? nope : jsonAnswer(result);
  });

  get('/alert/tops', async (query, now) => {
    const type = param(query, 'type');
    const topx = integerParam(param(query, 'topx'), 1, 30);
    // Absent or not a whole number: 1, as the original's `request.args.get('days', 1, type=int)`.
    const rawDays = param(query, 'days') ?? '';
    const days = PYTHON_INT.test(rawDays) ? Number(rawDays.trim().replace(/_/g, '')) : 1;
    const bucket = TOPS_BUCKETS.get(days);
    if ((type !== 'urls' && type !== 'destports') || topx === undefined || bucket === undefined) return nope;
    // days=1: the last 24 hours; 7 and 28: from 00:00 UTC of the day days-1 ago. Up to now, in
    // buckets on the UTC grid from the one holding the start to the one holding now.
    const range = days === 1 ? lastMinutes(now, 1440) : { from: startOfUtcDay(now) - (days - 1) * DAY_MS, to: windowEnd(now) };
    const first = Math.floor(range.from / bucket) * bucket;
    const timelines = await store.topTimelines(scopeOf(query), type as TopKind, range, bucket, topx);
    return jsonAnswer(Object.fromEntries(timelines.map(({ key, total, buckets }) => {
      const entry: Record<string, number> = { total };
      for (let start = first; start < range.to; start += bucket) entry[formatUtc(start)] = buckets.get(start) ?? 0;
      return [key, entry];
    })));
  });
}
