/**
 * Configuration, compatible with the original's names (CONTRACT section 7): built-in defaults,
 * then a `KEY="value"` file, then `PEBA_KEY` environment variables, the later winning.
 * A bad value stops start-up with a message naming the key.
 */
import { existsSync, readFileSync } from 'node:fs';
import { CACHE_POLICIES, endpointName } from './api/cache-policies';
import { checkProxyList, type TrustProxy } from './net/client-address';

export interface Config {
  readonly DEFAULTRESPONSE: string;
  readonly BINDHOST: { readonly host: string; readonly port: number };
  readonly CORSDOMAIN: string;
  readonly ELASTICSEARCH_HOST: string;
  readonly ELASTICSEARCH_HTTP_AUTH: string;
  readonly ELASTICTIMEOUT: number;
  readonly ALERTINDEX: string;
  readonly USERINDEX: string;
  readonly STATISTICINDEX: string;
  readonly MAXALERTS: number;
  readonly BADIPTIMESPAN: number;
  readonly COMMUNITYUSER: string;
  readonly COMMUNITYTOKEN: string;
  /** Ours: where alerts live: `sqlite:PATH`, `opensearch+http(s)://host:port[,...]`, or `opensearch` (at ELASTICSEARCH_HOST). */
  readonly STORE: string;
  /** Ours: the OpenSearch indices the original names without a key. */
  readonly CVEINDEX: string;
  readonly PAYLOADINDEX: string;
  /** Ours: leases of the once-per-cluster jobs (statistics snapshots, retention). */
  readonly LEASEINDEX: string;
  /** Ours: `false` (writes visible with the next refresh), `wait_for` or `true` (visible when acknowledged: tests). */
  readonly OPENSEARCH_REFRESH: 'false' | 'true' | 'wait_for';
  /** Ours: `full` (survives power loss) or `normal` (survives a process crash). */
  readonly SQLITE_SYNCHRONOUS: 'full' | 'normal';
  readonly SQLITE_BUSY_TIMEOUT: number;
  /** Ours: MaxMind-format City and ASN databases; empty = the bundled offline data. */
  readonly GEOIP_CITY: string;
  readonly GEOIP_ASN: string;
  readonly GEOIP_CACHE_SIZE: number;
  /** Ours: largest accepted request body, bytes, not counting the largepayload samples of an authenticated sender. */
  readonly BODY_LIMIT: number;
  /** Ours: payloads up to this many bytes are kept in the payload store; larger ones by md5 and size only. */
  readonly PAYLOAD_STORE_MAX_BYTES: number;
  /** Ours: most alerts accepted in one message. */
  readonly MAX_ALERTS_PER_MESSAGE: number;
  /** Ours: how long a looked-up user is trusted before the store is asked again, seconds. */
  readonly USER_CACHE_SECONDS: number;
  readonly LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Ours: raw alerts received more than this many days ago are deleted daily; 0 = keep forever. */
  readonly RETENTION_DAYS: number;
  /** Ours: aggregate buckets older than this many days are pruned daily; 0 = keep forever. */
  readonly AGGREGATE_RETENTION_DAYS: number;
  /** Ours: minutes between community statistics snapshots (getStats), a divisor of a day; 0 = off. */
  readonly STATS_INTERVAL_MINUTES: number;
  /** Ours: `on` caches public GET answers (in memcached when MEMCACHE is set); `off` asks the store every time. */
  readonly CACHE: 'on' | 'off';
  /** Ours: `host:port[,host:port...]` of the memcached shared by every instance; empty = in-process only. */
  readonly MEMCACHE: string;
  readonly MEMCACHE_TIMEOUT_MS: number;
  /** Ours: lifetimes per endpoint overriding the original's, `tops=600,retrieveAlertsJson=2`. */
  readonly CACHE_TTL: ReadonlyMap<string, number>;
  /** Ours: how long an expired answer may still be served while it is refreshed. */
  readonly CACHE_STALE_SECONDS: number;
  /** Ours: which peers may name the client in X-Forwarded-For; null = none (the peer is the client). */
  readonly TRUST_PROXY: TrustProxy;
  /** Ours: `on` logs one line per answered request at info. */
  readonly ACCESS_LOG: 'on' | 'off';
  /** Ours: `on` serves Prometheus metrics at /metrics. */
  readonly METRICS: 'on' | 'off';
  /** Ours: when set, /metrics wants `Authorization: Bearer <this>`. */
  readonly METRICS_TOKEN: string;
  /** Ours: `on` serves the dashboard at `/`; `off` redirects `/` to CORSDOMAIN as the original did. */
  readonly DASHBOARD: 'on' | 'off';
  /** Ours: most clients of the live stream at once (more get 503). */
  readonly STREAM_MAX_CLIENTS: number;
  /** Ours: most alerts per second the live stream sends a client; above it, a sample and a count of the rest. */
  readonly STREAM_MAX_RATE: number;
  /** Ours: how often the live stream looks for alerts stored by other instances, ms. */
  readonly STREAM_POLL_MS: number;
  /** Ours: signs operator sessions; instances behind one load balancer share it. Empty = random per process. */
  readonly SESSION_SECRET: string;
  /** Ours: lifetime of an operator session, hours. */
  readonly SESSION_HOURS: number;
  /** Ours: a sensor without an alert for this long is marked stale on the operator's page. */
  readonly SENSOR_STALE_MINUTES: number;
  /** Ours: addresses and CIDRs (one a line) that no firewall feed lists; empty = none. */
  readonly FEED_EXCLUDE_FILE: string;
  /** Ours: failed authentications per client address and minute before it gets 429; 0 = no limit. */
  readonly AUTH_FAILURES_PER_MINUTE: number;
  /** Ours: requests per client address and minute to the public endpoints; 0 = no limit. */
  readonly PUBLIC_RATE_LIMIT: number;
}

export class ConfigError extends Error {}

type Parser<T> = (raw: string, key: string) => T;

const text: Parser<string> = (raw) => raw;

function integer(min: number, max: number): Parser<number> {
  return (raw, key) => {
    if (!/^\s*-?\d+\s*$/.test(raw)) throw new ConfigError(`${key}: expected an integer, got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(`${key}: ${value} is outside ${min}..${max}`);
    return value;
  };
}

function oneOf<T extends string>(...choices: T[]): Parser<T> {
  return (raw, key) => {
    const value = raw.trim().toLowerCase() as T;
    if (!choices.includes(value)) throw new ConfigError(`${key}: expected one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    return value;
  };
}

const memcacheServers: Parser<string> = (raw, key) => {
  const servers = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const server of servers) hostAndPort(server, key);
  return servers.join(',');
};

/** memcached reads a relative lifetime above 30 days as an absolute Unix time (already past). */
const MAX_CACHE_SECONDS = 30 * 24 * 3600;

const cacheLifetimes: Parser<ReadonlyMap<string, number>> = (raw, key) => {
  const lifetimes = new Map<string, number>();
  const known = new Set(Object.keys(CACHE_POLICIES).map(endpointName));
  for (const entry of raw.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const match = /^([A-Za-z]+)\s*=\s*(\d{1,9})$/.exec(entry);
    if (!match) throw new ConfigError(`${key}: expected endpoint=seconds[,...], got ${JSON.stringify(entry)}`);
    const [, endpoint, seconds] = match as unknown as [string, string, string];
    if (!known.has(endpoint)) throw new ConfigError(`${key}: ${endpoint} is not a cached endpoint (one of ${[...known].sort().join(', ')})`);
    if (lifetimes.has(endpoint)) throw new ConfigError(`${key}: ${endpoint} is given twice`);
    if (Number(seconds) > MAX_CACHE_SECONDS) throw new ConfigError(`${key}: ${endpoint}=${seconds} is more than 30 days (${MAX_CACHE_SECONDS} s)`);
    lifetimes.set(endpoint, Number(seconds));
  }
  return lifetimes;
};

/**
 * The Elasticsearch/OpenSearch cluster as the original named it: `host:port`, or URLs
 * `http(s)://host[:port][/path]`, several separated by commas.
 */
const clusterHosts: Parser<string> = (raw, key) => {
  const hosts = raw.split(',').map((h) => h.trim());
  for (const host of hosts) {
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(host) ? host : `http://${host}`;
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.hostname === '' || /\s/.test(host) || parsed.search !== '' || parsed.hash !== '') {
      throw new ConfigError(`${key}: expected host:port or http(s)://host:port, got ${JSON.stringify(host)}`);
    }
  }
  return hosts.join(',');
};

/**
 * Where browsers come from (Access-Control-Allow-Origin) and where `/` redirects, as the original
 * used it: an http(s) URL, normally just the dashboard's origin. `*` is refused: these answers
 * allow credentials, and browsers reject `*` with credentials.
 */
const corsDomain: Parser<string> = (raw, key) => {
  const value = raw.trim();
  if (value === '*') throw new ConfigError(`${key}: * is not allowed with credentials (browsers refuse it); name the dashboard's origin, e.g. https://dashboard.example`);
  let parsed: URL | undefined;
  try {
    parsed = new URL(value);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || /[\s\x00-\x1f]/.test(raw) || parsed.search !== '' || parsed.hash !== '' || parsed.username !== '') {
    throw new ConfigError(`${key}: expected the dashboard's origin, scheme://host[:port], got ${JSON.stringify(raw)}`);
  }
  return value;
};

const secret: Parser<string> = (raw, key) => {
  if (raw.trim() === '') throw new ConfigError(`${key}: must not be empty (the community credentials would be trivial to guess)`);
  return raw;
};

const hostAndPort: Parser<Config['BINDHOST']> = (raw, key) => {
  const match = /^\s*(?:\[([^\]]+)\]|([^:\s]*)):(\d{1,5})\s*$/.exec(raw);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new ConfigError(`${key}: expected host:port, got ${JSON.stringify(raw)}`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
};

/** `sqlite:PATH`, `opensearch+http(s)://host:port[,http(s)://host:port...]`, or `opensearch` (ELASTICSEARCH_HOST). */
const storeUrl: Parser<string> = (raw, key) => {
  const value = raw.trim();
  if (/^sqlite:.+/.test(value) || value === 'opensearch') return value;
  const nodes = /^opensearch\+(.+)$/.exec(value)?.[1]?.split(',').map((n) => n.trim());
  if (nodes !== undefined && nodes.every((n) => /^https?:\/\/[^/\s]+\/?$/.test(n))) return value;
  throw new ConfigError(`${key}: expected sqlite:PATH, opensearch+http(s)://host:port[,...] or opensearch, got ${JSON.stringify(raw)}`);
};

/** `off`, a hop count, or a comma list of proxy addresses, CIDRs and proxy-addr's range names. */
const trustProxy: Parser<TrustProxy> = (raw, key) => {
  const value = raw.trim();
  if (value === '' || value.toLowerCase() === 'off' || value === '0') return null;
  if (/^\d{1,3}$/.test(value)) return { hops: Number(value) };
  const proxies = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
  try {
    checkProxyList(proxies);
  } catch (error) {
    throw new ConfigError(`${key}: expected off, a hop count or a list of proxy addresses/CIDRs: ${(error as Error).message}`);
  }
  return { proxies };
};

const SCHEMA: { [K in keyof Config]: readonly [string, Parser<Config[K]>] } = {
  DEFAULTRESPONSE: ['Nope', text],
  BINDHOST: ['127.0.0.1:9922', hostAndPort],
  CORSDOMAIN: ['http://127.0.0.1:9922', corsDomain],
  ELASTICSEARCH_HOST: ['127.0.0.1:9200', clusterHosts],
  ELASTICSEARCH_HTTP_AUTH: ['', text],
  ELASTICTIMEOUT: ['60', integer(1, 3600)],
  ALERTINDEX: ['ews2017.1', text],
  USERINDEX: ['users', text],
  STATISTICINDEX: ['statistics', text],
  MAXALERTS: ['5', integer(1, 100_000)],
  BADIPTIMESPAN: ['120', integer(1, 527_040)],
  COMMUNITYUSER: ['community-01-user', secret],
  COMMUNITYTOKEN: ['foth{a5maiCee8fineu7', secret],
  STORE: ['sqlite:./data/peba.db', storeUrl],
  CVEINDEX: ['ewscve', text],
  PAYLOADINDEX: ['payloads', text],
  LEASEINDEX: ['peba-leases', text],
  OPENSEARCH_REFRESH: ['false', oneOf('false', 'true', 'wait_for')],
  SQLITE_SYNCHRONOUS: ['full', oneOf('full', 'normal')],
  SQLITE_BUSY_TIMEOUT: ['5000', integer(0, 600_000)],
  GEOIP_CITY: ['', text],
  GEOIP_ASN: ['', text],
  GEOIP_CACHE_SIZE: ['100000', integer(0, 10_000_000)],
  BODY_LIMIT: [String(20 * 1024 * 1024), integer(1024, 1024 * 1024 * 1024)],
  PAYLOAD_STORE_MAX_BYTES: [String(5 * 1024 * 1024), integer(0, 1024 * 1024 * 1024)],
  MAX_ALERTS_PER_MESSAGE: ['10000', integer(1, 1_000_000)],
  USER_CACHE_SECONDS: ['30', integer(0, 86_400)],
  LOG_LEVEL: ['info', oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')],
  RETENTION_DAYS: ['0', integer(0, 36_500)],
  AGGREGATE_RETENTION_DAYS: ['0', integer(0, 36_500)],
  STATS_INTERVAL_MINUTES: ['60', integer(0, 1440)],
  CACHE: ['on', oneOf('on', 'off')],
  MEMCACHE: ['', memcacheServers],
  MEMCACHE_TIMEOUT_MS: ['250', integer(1, 60_000)],
  CACHE_TTL: ['', cacheLifetimes],
  CACHE_STALE_SECONDS: ['60', integer(0, 86_400)],
  TRUST_PROXY: ['off', trustProxy],
  ACCESS_LOG: ['on', oneOf('on', 'off')],
  METRICS: ['on', oneOf('on', 'off')],
  METRICS_TOKEN: ['', text],
  DASHBOARD: ['on', oneOf('on', 'off')],
  STREAM_MAX_CLIENTS: ['2000', integer(0, 1_000_000)],
  STREAM_MAX_RATE: ['50', integer(2, 100_000)],
  STREAM_POLL_MS: ['1000', integer(50, 600_000)],
  SESSION_SECRET: ['', text],
  SESSION_HOURS: ['8', integer(1, 24 * 30)],
  SENSOR_STALE_MINUTES: ['60', integer(1, 10_080)],
  FEED_EXCLUDE_FILE: ['', text],
  AUTH_FAILURES_PER_MINUTE: ['10', integer(0, 1_000_000)],
  PUBLIC_RATE_LIMIT: ['0', integer(0, 100_000_000)],
};

export const CONFIG_KEYS = Object.keys(SCHEMA) as Array<keyof Config>;
export const DEFAULT_CONFIG_FILE = '/etc/peba/peba.cfg';
const ENV_PREFIX = 'PEBA_';
/** Variables of the test suite and its tools (tools/opensearch), which share the prefix but configure nothing here. */
const TOOL_VARIABLES = /^PEBA_(TEST_|OPENSEARCH_|DURABILITY_)/;

/**
 * Reads a `KEY="value"` file as the original's peba.cfg: `#` comments, blank lines, values
 * in double or single quotes or bare.
 */
export function parseConfigFile(content: string, fileName: string): Map<string, string> {
  const values = new Map<string, string>();
  content.split(/\r?\n/).forEach((line, index) => {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(trimmed);
    if (!match) throw new ConfigError(`${fileName}:${index + 1}: expected KEY="value"`);
    let value = match[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'") ) {
      const end = value.indexOf(quote, 1);
      if (end < 0) throw new ConfigError(`${fileName}:${index + 1}: ${match[1]}: unterminated quote`);
      value = value.slice(1, end);
    } else {
      value = value.replace(/\s+#.*$/, '');
    }
    values.set(match[1]!.toUpperCase(), value);
  });
  return values;
}

export interface LoadOptions {
  /** `--config FILE`; when absent, DEFAULT_CONFIG_FILE is read if it exists. */
  readonly file?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Values that win over everything (tests, CLI flags). */
  readonly overrides?: Partial<Record<keyof Config, string>>;
  /** Receives warnings such as unknown keys. */
  readonly warn?: (message: string) => void;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  // Each value with where it came from, so that an error can say where to fix it.
  const raw = new Map<string, { readonly value: string; readonly source: string }>();
  const file = options.file ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file !== undefined) {
    let content: string;
    try {
      content = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read configuration file ${file}: ${(error as Error).message}`);
    }
    for (const [key, value] of parseConfigFile(content, file)) {
      if (Object.hasOwn(SCHEMA, key)) raw.set(key, { value, source: `file ${file}` });
      else options.warn?.(`${file}: unknown key ${key} ignored`);
    }
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const key = name.slice(ENV_PREFIX.length);
    if (Object.hasOwn(SCHEMA, key)) raw.set(key, { value, source: `environment variable ${name}` });
    else if (!TOOL_VARIABLES.test(name)) options.warn?.(`environment: unknown variable ${name} ignored`);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) raw.set(key, { value, source: 'override' });
  }
  const config: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  for (const key of CONFIG_KEYS) {
    const [fallback, parse] = SCHEMA[key] as readonly [string, Parser<unknown>];
    const given = raw.get(key);
    if (given) sources.set(key, given.source);
    try {
      config[key] = parse(given?.value ?? fallback, key);
    } catch (error) {
      throw given && error instanceof ConfigError ? new ConfigError(`${error.message} (from ${given.source})`) : error;
    }
  }
  checkConsistency(config as unknown as Config, (key) => (sources.has(key) ? ` (from ${sources.get(key)})` : ''));
  return config as unknown as Config;
}

/** Rules that involve more than one key. */
function checkConsistency(config: Config, from: (key: keyof Config) => string): void {
  // Statistics read whole buckets from the aggregates: pruning them while the raw alerts of the
  // same period are kept would make those answers silently wrong. 0 means forever on both keys.
  const forever = (days: number): number => (days === 0 ? Infinity : days);
  if (forever(config.AGGREGATE_RETENTION_DAYS) < forever(config.RETENTION_DAYS)) {
    throw new ConfigError(
      `AGGREGATE_RETENTION_DAYS: ${config.AGGREGATE_RETENTION_DAYS} keeps aggregates for less time than ` +
      `RETENTION_DAYS (${config.RETENTION_DAYS === 0 ? '0 = forever' : config.RETENTION_DAYS}) keeps alerts; use 0 or at least that` +
      from('AGGREGATE_RETENTION_DAYS'),
    );
  }
  // Snapshots are aligned to UTC interval boundaries; only a divisor of a day keeps them at the same times every day.
  if (config.STATS_INTERVAL_MINUTES > 0 && 1440 % config.STATS_INTERVAL_MINUTES !== 0) {
    throw new ConfigError(`STATS_INTERVAL_MINUTES: ${config.STATS_INTERVAL_MINUTES} does not divide a day (1440 minutes)${from('STATS_INTERVAL_MINUTES')}`);
  }
}
