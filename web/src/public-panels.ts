/** The public panels: each asks one public endpoint and shows its numbers as they are. */
import { getJson, withScope } from './api';
import { stackedBars } from './charts';
import { byId, el, formatCount, replaceRows, row, unescapeHtml } from './dom';
import { sparkline } from './charts';
import type { WorldMap } from './world-map';

interface AlertStats {
  AlertsLast24Hours: number;
  AlertsLastHour: number;
  AlertsLast5Minutes: number;
  AlertsLastMinute: number;
}

interface CountryCount {
  code: string;
  country: string;
  count: number;
}

type TopCountries = Array<{ date: string; attacksPerCountry: CountryCount[]; attacksToTargetCountry: CountryCount[] }>;
type PerDayAnswer = Array<{ datasetAlertsPerMonth: Record<string, Record<string, number>> }>;
type TopsAnswer = Record<string, Record<string, number>>;

interface TpotStats {
  communityHoneypots: {
    totalNumberAlerts: number;
    totalNumberHoneypots: number;
    totalNumberDaemons: number;
    numberAlertsPerType: Record<string, number>;
    numberHoneypotsPerType: Record<string, number>;
  };
  UTCtimeFrom: string;
}

export async function showCounters(scope: string): Promise<void> {
  const stats = await getJson<AlertStats>(withScope('/alert/retrieveAlertStats', scope));
  byId('count-1m').textContent = formatCount(stats.AlertsLastMinute);
  byId('count-5m').textContent = formatCount(stats.AlertsLast5Minutes);
  byId('count-1h').textContent = formatCount(stats.AlertsLastHour);
  byId('count-24h').textContent = formatCount(stats.AlertsLast24Hours);
}

/** Top countries of the month: the tables show the first ten, the map is shaded by all of them. */
export async function showCountries(scope: string, map: WorldMap): Promise<void> {
  const [month] = await getJson<TopCountries>(withScope('/alert/topCountriesAttacks?topx=300', scope));
  if (!month) return;
  byId('countries-month').textContent = month.date;
  const rows = (list: CountryCount[]): HTMLTableRowElement[] => list.slice(0, 10).map((c) => row([`${c.country} (${c.code})`, formatCount(c.count)], [1]));
  replaceRows(byId('top-sources'), rows(month.attacksPerCountry));
  replaceRows(byId('top-targets'), rows(month.attacksToTargetCountry));
  map.shade(new Map(month.attacksPerCountry.map((c) => [c.code, { count: c.count, name: c.country }])));
}

export async function showPerDay(scope: string): Promise<void> {
  const [answer] = await getJson<PerDayAnswer>(withScope('/alert/datasetAlertTypesPerMonth', scope));
  const days = answer?.datasetAlertsPerMonth ?? {};
  stackedBars(byId('per-day'), new Map(Object.entries(days).map(([day, types]) => [day, new Map(Object.entries(types))])));
}

export async function showTops(scope: string): Promise<void> {
  const days = byId<HTMLSelectElement>('tops-days').value;
  const table = async (type: string, target: string): Promise<void> => {
    const answer = await getJson<TopsAnswer>(withScope(`/alert/tops?type=${type}&topx=10&days=${days}`, scope));
    const rows = Object.entries(answer).map(([key, timeline]) => {
      const buckets = Object.keys(timeline).filter((k) => k !== 'total').sort();
      const label = type === 'urls' ? unescapeHtml(key) : key;
      return row([label, formatCount(timeline['total'] ?? 0), sparkline(buckets.map((b) => timeline[b]!), `${label}: alerts per bucket`)], [1]);
    });
    replaceRows(byId(target), rows);
  };
  await Promise.all([table('urls', 'top-urls'), table('destports', 'top-ports')]);
}

export async function showTpotStats(): Promise<void> {
  const input = byId<HTMLInputElement>('tpot-day');
  if (input.value === '') input.value = new Date().toISOString().slice(0, 10);
  const day = input.value.replaceAll('-', '');
  if (!/^\d{8}$/.test(day)) return;
  const answer = await getJson<TpotStats | string>(`/alert/TpotStats?day=${day}`);
  const totals = byId('tpot-totals');
  if (typeof answer === 'string') {
    totals.replaceChildren(el('p', 'no data for that day'));
    replaceRows(byId('tpot-types'), []);
    return;
  }
  const h = answer.communityHoneypots;
  totals.replaceChildren(
    ...[['alerts', h.totalNumberAlerts], ['honeypots', h.totalNumberHoneypots], ['daemons', h.totalNumberDaemons]].map(([label, value]) => {
      const box = el('div', undefined, 'counter');
      box.append(el('span', formatCount(value as number), 'value'), el('span', label as string, 'label'));
      box.dataset['metric'] = label as string;
      return box;
    }),
  );
  replaceRows(byId('tpot-types'), Object.entries(h.numberAlertsPerType).sort((a, b) => b[1] - a[1])
    .map(([type, count]) => row([type, formatCount(count), formatCount(h.numberHoneypotsPerType[type] ?? 0)], [1, 2])), 'no alerts that day');
}
