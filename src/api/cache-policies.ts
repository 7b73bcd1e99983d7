/**
 * Which GET answers are cached, for how long, and under which key. Lifetimes are the
 * original's (CONTRACT section 7); `CACHE_TTL` overrides them per endpoint. Keys hold only the
 * parameters an endpoint reads (so junk parameters cannot flood the cache) and the normalized
 * domain; never credentials.
 */
import { createHash } from 'node:crypto';
import { param, scopeOf, type Query } from './params';

export interface CachePolicy {
  /** Parameters that change the answer, besides `ci`. */
  readonly params: readonly string[];
  /** Lifetime in seconds for this request. */
  readonly ttl: (query: Query, now: number, configured: number | undefined) => number;
}

const fixed = (seconds: number) => (_query: Query, _now: number, configured: number | undefined): number => configured ?? seconds;

/** A finished UTC day never changes again (unless someone imports old alerts). */
const PAST_DAY_SECONDS = 28 * 24 * 3600;

export const CACHE_POLICIES: Readonly<Record<string, CachePolicy>> = {
  '/alert/retrieveAlertsJson': { params: [], ttl: fixed(1) },
  '/alert/retrieveAlertStats': { params: [], ttl: fixed(25) },
  '/alert/retrieveAlertsCount': { params: ['time', 'out'], ttl: fixed(60) },
  '/alert/retrieveAlertsCountWithType': { params: ['time'], ttl: fixed(60) },
  '/alert/datasetAlertsPerMonth': { params: ['days'], ttl: fixed(600) },
  '/alert/datasetAlertTypesPerMonth': { params: ['days'], ttl: fixed(600) },
  '/alert/topCountriesAttacks': { params: ['monthOffset', 'offset', 'topx'], ttl: fixed(600) },
  '/alert/retrieveLatLonAttacks': { params: ['direction', 'topx', 'offset'], ttl: fixed(600) },
  '/alert/getStats': { params: ['values', 'value', 'gte', 'lt'], ttl: fixed(600) },
  '/alert/tops': { params: ['type', 'topx', 'days'], ttl: fixed(7200) },
  '/alert/TpotStats': {
    params: ['day'],
    ttl: (query, now, configured) => {
      const day = param(query, 'day') ?? '';
      const today = new Date(now).toISOString().slice(0, 10).replace(/-/g, '');
      return configured ?? (day !== '' && day < today ? PAST_DAY_SECONDS : 600);
    },
  },
};

/** Short names for `CACHE_TTL`: the last path segment (`tops=600,retrieveAlertsJson=2`). */
export function endpointName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

const KEY_VERSION = 'peba:1:';
/** memcached keys are at most 250 bytes of printable ASCII. */
const MAX_PLAIN_KEY = 200;

export function cacheKey(path: string, query: Query, policy: CachePolicy): string {
  const parts = policy.params
    .map((name) => [name, param(query, name)] as const)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}=${encodeURIComponent(value!)}`);
  parts.push(`ci=${scopeOf(query)}`);
  const key = `${KEY_VERSION}${path}?${parts.join('&')}`;
  return key.length <= MAX_PLAIN_KEY ? key : `${KEY_VERSION}sha256:${createHash('sha256').update(key).digest('hex')}`;
}
