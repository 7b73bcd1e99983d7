/**
 * The index layout of an original PEBA cluster (CONTRACT section 8): alerts in daily indices
 * `<prefix>-YYYY.MM.DD-000001` by UTC day of receipt, users, statistics snapshots, CVE alerts
 * and payloads in one index each; and the index templates we install for what we create.
 */
import { ALERT_FIELDS } from '../../domain/alert';

export const DAY_MS = 86_400_000;

export interface IndexNames {
  /** Daily alert indices are `<alertPrefix>-YYYY.MM.DD-NNNNNN`. */
  readonly alertPrefix: string;
  readonly users: string;
  readonly statistics: string;
  readonly cve: string;
  readonly payloads: string;
  /** Leases of the once-per-cluster jobs. */
  readonly leases: string;
}

/**
 * The original writes alerts through a rollover alias (ALERTINDEX, `ews2017.1` by default) whose
 * indices are `ews-YYYY.MM.DD-000001`, and reads `ews-*`. An alias-shaped ALERTINDEX (a name
 * ending in a year and a generation) therefore names the prefix before its digits; any other
 * value is taken as the prefix itself.
 */
export function alertPrefixOf(alertIndex: string): string {
  const alias = /^(.*?)\d{4}\.\d+$/.exec(alertIndex);
  return alias !== null && alias[1] !== '' ? alias[1]! : alertIndex;
}

/** The last day named: every alert of a batch names its day's index (Date formatting was 3 % of the server's ingest CPU). */
let lastDay = { start: NaN, name: '' };

function dayName(dayStart: number): string {
  if (dayStart !== lastDay.start) lastDay = { start: dayStart, name: new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '.') };
  return lastDay.name;
}

/** The index an alert received at `time` (epoch ms) is written to. */
export function dailyIndex(names: IndexNames, time: number): string {
  return `${names.alertPrefix}-${dayName(Math.floor(time / DAY_MS) * DAY_MS)}-000001`;
}

/** Every index (any generation) of each UTC day touching [from, to), as a comma list of patterns. */
export function dayPatterns(names: IndexNames, from: number, to: number): string {
  const patterns: string[] = [];
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < to; day += DAY_MS) patterns.push(`${names.alertPrefix}-${dayName(day)}-*`);
  return patterns.length === 0 ? `${names.alertPrefix}-none-*` : patterns.join(',');
}

export function allAlertIndices(names: IndexNames): string {
  return `${names.alertPrefix}-*`;
}

/** The UTC day (epoch ms) an alert index holds, or NaN for a name that is not a daily index. */
export function dayOfIndex(names: IndexNames, index: string): number {
  const match = /^(\d{4})\.(\d{2})\.(\d{2})-/.exec(index.slice(names.alertPrefix.length + 1));
  return match === null || !index.startsWith(`${names.alertPrefix}-`) ? NaN : Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
}

/**
 * Fields the questions filter or group on. Besides their own type they get a `.keyword`
 * sub-field, the shape a dynamically mapped cluster gives every string: a cluster whose old
 * indices were mapped dynamically and whose new ones come from this template is then read with
 * the same field names throughout.
 */
export const GROUPED_FIELDS = [
  'peerType', 'peerIdent', 'hostname', 'country', 'countryName', 'targetCountry', 'targetCountryName',
  'targetEntryPort', 'originalRequestString', 'sourceEntryIp', 'targetEntryIp',
] as const;

const IP_FIELDS = new Set(['sourceEntryIp', 'targetEntryIp', 'externalIP', 'internalIP']);
const DATE_FORMAT = 'yyyy-MM-dd HH:mm:ss||yyyy-MM-dd||epoch_millis';
/** Lucene refuses terms over 32766 bytes; longer values stay in _source, unindexed. */
const KEYWORD = { type: 'keyword', ignore_above: 8191 };
const KEYWORD_SUBFIELD = { fields: { keyword: KEYWORD } };

function alertFieldMapping(field: (typeof ALERT_FIELDS)[number]): Record<string, unknown> {
  if (field === 'createTime' || field === 'recievedTime') return { type: 'date', format: DATE_FORMAT };
  if (field === 'clientDomain') return { type: 'boolean' };
  // As the original: coordinates are text with a keyword sub-field, which is what it groups on.
  if (field === 'location' || field === 'locationDestination') return { type: 'text', ...KEYWORD_SUBFIELD };
  const grouped = (GROUPED_FIELDS as readonly string[]).includes(field);
  if (IP_FIELDS.has(field)) return { type: 'ip', ignore_malformed: true, ...(grouped ? KEYWORD_SUBFIELD : {}) };
  return { ...KEYWORD, ...(grouped ? KEYWORD_SUBFIELD : {}) };
}

/** One shard per daily index (exact top-K within a day); a replica wherever a second node exists. */
const SETTINGS = { number_of_shards: 1, auto_expand_replicas: '0-1' };

export function alertTemplate(names: IndexNames): Record<string, unknown> {
  return {
    index_patterns: [`${names.alertPrefix}-*`],
    priority: 100,
    template: {
      settings: SETTINGS,
      mappings: { properties: Object.fromEntries(ALERT_FIELDS.map((f) => [f, alertFieldMapping(f)])) },
    },
  };
}

/** Mappings of the single indices, created when missing. */
export function sideIndexMappings(): Record<keyof Omit<IndexNames, 'alertPrefix'>, Record<string, unknown>> {
  return {
    users: { properties: { peerName: KEYWORD, token: KEYWORD, community: { type: 'boolean' }, getOnly: { type: 'boolean' }, email: KEYWORD } },
    statistics: {
      properties: { UTCtimeFrom: { type: 'date', format: DATE_FORMAT }, UTCtimeTo: { type: 'date', format: DATE_FORMAT } },
      dynamic_templates: [{ ratios: { match_mapping_type: 'long', mapping: { type: 'double' } } }],
    },
    cve: {
      properties: {
        alertId: KEYWORD, vulnid: KEYWORD, createTime: { type: 'date', format: DATE_FORMAT },
        recievedTime: { type: 'date', format: DATE_FORMAT }, clientDomain: { type: 'boolean' }, peerIdent: KEYWORD,
        peerType: KEYWORD, sourceEntryIp: { type: 'ip', ignore_malformed: true }, targetEntryIp: { type: 'ip', ignore_malformed: true },
      },
    },
    payloads: {
      properties: {
        md5: KEYWORD, fuzzyHash: KEYWORD, mimeType: KEYWORD, size: { type: 'long' }, bytes: { type: 'binary' },
        count: { type: 'long' }, firstSeen: { type: 'date', format: DATE_FORMAT }, lastSeen: { type: 'date', format: DATE_FORMAT },
        firstSourceIp: KEYWORD, firstSourcePort: KEYWORD, peerType: KEYWORD,
      },
    },
    leases: { properties: { holder: KEYWORD, claimed: { type: 'long' } } },
  };
}

export const SIDE_INDEX_SETTINGS = SETTINGS;
